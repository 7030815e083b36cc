"""What the lake's project-level functions need of a project, as a structural type.

:class:`shipyard.project.Project` satisfies it. The lake sits below the project (the project
opens the lake), so it names the shape it reads rather than importing the class.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shipyard.catalog import Catalog
from shipyard.lake.store import Lake

if TYPE_CHECKING:
    from shipyard.artifacts import ArtifactStore

__all__ = ["Workspace"]


class Workspace(Protocol):
    """A project's catalog, lake, artifact store and ``.shipyard`` folder."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def lake(self) -> Lake: ...

    @property
    def artifacts(self) -> ArtifactStore: ...

    @property
    def dir(self) -> Path: ...
