"""The project an environment acts in: its own catalog, artifact store and online store when
``shipyard.yaml`` gives it some, else the project's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.catalog.refs import ModelRef, parse_model_ref
from shipyard.entities import ModelVersion
from shipyard.environments._config import EnvironmentConfig, load_config
from shipyard.errors import InvalidInput, did_you_mean
from shipyard.project import Project
from shipyard.types import ENVIRONMENTS

__all__ = [
    "check_environment",
    "describe_environments",
    "environment_config",
    "environment_project",
    "resolve_version",
    "version_home",
]


def check_environment(env: str) -> str:
    """``env`` when it is dev, staging or prod.

    Raises:
        InvalidInput: Any other name; the message lists the three.
    """
    if env not in ENVIRONMENTS:
        raise InvalidInput(
            f"The environment must be one of {', '.join(ENVIRONMENTS)}. Got '{env}' instead."
            f"{did_you_mean(str(env), ENVIRONMENTS)}",
            details={"environment": env, "choices": list(ENVIRONMENTS)},
        )
    return env


def environment_config(project: Project, env: str) -> EnvironmentConfig:
    """The validated configuration of ``env`` (its locations and gates) from the project's
    ``shipyard.yaml``, read now; the defaults when the file does not name it.

    Raises:
        InvalidInput: ``env`` is not dev, staging or prod, or the file is invalid (the
            message names the file, the key and what is expected).
    """
    check_environment(env)
    return load_config(project.root)[env]


def environment_project(project: Project, env: str) -> Project:
    """The project whose catalog, artifact store and online store are ``env``'s: ``project``
    itself when ``env`` has no locations of its own (or the same ones), else a project on the
    same folder with them, made once and closed with ``project``. Unset locations are the
    project's.

    Raises:
        InvalidInput: ``env`` is not dev, staging or prod, or ``shipyard.yaml`` is invalid.
    """
    config = environment_config(project, env)
    own = {
        "catalog_url": (config.catalog_url, project.catalog_url),
        "artifacts_url": (config.artifacts_url, _artifacts_url(project)),
        "online_url": (config.online_url, project.online_url),
    }
    changed = {k: mine for k, (mine, current) in own.items() if mine and mine != current}
    if not changed:
        return project
    if "artifacts_url" in changed and "catalog_url" not in changed:
        # The catalog names bundles by key: one catalog over two stores would name bundles
        # that only one of them holds.
        raise InvalidInput(
            f"{config.source}: key 'environments.{env}.artifacts_url' gives {env} its own "
            f"artifact store but not its own catalog. Expected catalog_url too (bundles are "
            "registered in the catalog of the store that holds them), or neither.",
            details={"file": str(config.source), "key": f"environments.{env}.catalog_url"},
        )
    key = "|".join([env, *(f"{k}={v}" for k, v in sorted(changed.items()))])
    return project.derived(key, project.settings.model_copy(update=changed))


def version_home(project: Project, ref: str) -> tuple[Project, ModelRef]:
    """Where ``ref`` lives: ``NAME@ENV`` (dev, staging, prod) in ``ENV``'s project, anything
    else in ``project``; and the parsed reference.

    Raises:
        InvalidInput: ``ref`` is not a model reference, or ``shipyard.yaml`` is invalid.
    """
    parsed = parse_model_ref(ref)
    if parsed.alias in ENVIRONMENTS:
        return environment_project(project, parsed.alias), parsed
    return project, parsed


def resolve_version(project: Project, ref: str) -> tuple[Project, ModelVersion]:
    """The version ``ref`` names (``fraud``, ``fraud:3``, ``fraud@prod``) and the project that
    holds it: an environment's alias resolves in that environment's catalog.

    Raises:
        InvalidInput: ``ref`` is not a model reference, or ``shipyard.yaml`` is invalid.
        NotFound: No such model, version or alias.
    """
    home, parsed = version_home(project, ref)
    if parsed.alias is not None:
        return home, home.catalog.resolve_alias(parsed.name, parsed.alias)
    return home, home.catalog.get_model_version(parsed.name, parsed.version)


def describe_environments(project: Project) -> list[dict[str, Any]]:
    """Each environment as it acts: its catalog, artifact store and online store (passwords
    hidden), whether they are its own, and its gates with their settings.

    Raises:
        InvalidInput: ``shipyard.yaml`` is invalid.
    """
    from shipyard.online import mask_url

    out = []
    for name, config in load_config(project.root).items():
        home = environment_project(project, name)
        plan = config.gates
        out.append(
            {
                "name": name,
                "catalog_url": mask_url(home.catalog_url),
                "artifacts_url": mask_url(_artifacts_url(home)),
                "online_url": mask_url(home.online_url),
                "own_locations": home is not project,
                "gates": list(plan.names),
                "settings": {k: _settings(getattr(plan, k)) for k in plan.names},
                "file": str(config.source) if config.source else None,
            }
        )
    return out


def _settings(gate: Any) -> Any:
    """A gate's settings as JSON: True for an on/off gate, else its fields."""
    return gate.model_dump(exclude={"enabled"}) if hasattr(gate, "model_dump") else gate


def _artifacts_url(project: Project) -> str:
    return project.settings.artifacts_url or str(Path(project.dir) / "artifacts")
