"""Environments (dev, staging, prod): the project whose catalog and artifacts are each one's.

A placeholder for the environments work: every environment shares the project's own catalog
and artifact store. The real module gives an environment its own locations; code that works
in an environment goes through :func:`environment_project` so it needs no change then.
"""

from __future__ import annotations

from shipyard.errors import InvalidInput
from shipyard.project import Project
from shipyard.types import ENVIRONMENTS

__all__ = ["environment_project"]


def environment_project(project: Project, env: str) -> Project:
    """The project whose catalog and artifact store hold ``env``'s models, aliases and
    endpoints.

    Raises:
        InvalidInput: ``env`` is not one of dev, staging and prod.
    """
    if env not in ENVIRONMENTS:
        raise InvalidInput(
            f"Unknown environment {env!r}. The environments are {', '.join(ENVIRONMENTS)}.",
            details={"env": env},
        )
    return project
