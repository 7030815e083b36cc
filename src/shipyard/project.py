"""A project: the folder, settings and backends every command works in."""

from __future__ import annotations

import copy
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.entities import Actor
from shipyard.errors import InvalidInput, NotFound
from shipyard.settings import PROJECT_DIR, Settings, load_settings

if TYPE_CHECKING:
    from shipyard.artifacts import ArtifactStore
    from shipyard.catalog import Catalog
    from shipyard.lake import Lake
    from shipyard.online import OnlineStore

__all__ = ["Project", "find_project_root", "init_project", "open_project"]

_CONFIG_TEMPLATE = """\
# Shipyard project settings. Environment variables (SHIPYARD_<NAME>) override these.
# catalog_url = "postgresql://user@host:5432/shipyard"
# artifacts_url = "s3://bucket/shipyard"
"""


class Project:
    """An open project: its settings, catalog, artifact store, lake and online store.

    Backends open on first use, so a command that needs only one of them pays for one.

    Args:
        root: The folder holding ``.shipyard/``.
        settings: Settings to use instead of loading them.
        face: Which face acts (cli, sdk, api, serve): recorded in the audit trail.

    ``is_new`` is true when :func:`init_project` made the project just now.
    """

    def __init__(
        self, root: str | Path, *, settings: Settings | None = None, face: str = "sdk"
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = settings or load_settings(self.root)
        self.actor = Actor(self.settings.user, face)
        self.is_new = False
        self._derived: dict[str, Project] = {}

    @property
    def dir(self) -> Path:
        """The ``.shipyard`` folder."""
        return self.root / PROJECT_DIR

    @property
    def catalog_url(self) -> str:
        """The catalog database's URL: the setting, or the project's ``catalog.db``."""
        return self.settings.catalog_url or f"sqlite:///{self.dir / 'catalog.db'}"

    @cached_property
    def catalog(self) -> Catalog:
        # Each backend imports its library (SQLAlchemy, fsspec, DuckDB) when first opened.
        from shipyard.catalog import open_catalog

        return open_catalog(self.catalog_url)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        from shipyard.artifacts import keyring_from_settings, open_artifacts

        url = self.settings.artifacts_url or str(self.dir / "artifacts")
        return open_artifacts(url, keyring=keyring_from_settings(self.settings))

    @cached_property
    def signing_key(self) -> bytes | None:
        """The key bundles are signed and checked with (``SHIPYARD_SIGNING_KEY``), if any."""
        from shipyard.artifacts import signing_key_from_settings

        return signing_key_from_settings(self.settings)

    @cached_property
    def lake(self) -> Lake:
        from shipyard.lake import Lake

        return Lake(self.dir / "lake")

    @property
    def online_url(self) -> str:
        """The online store's URL: the setting, or the project's ``online.db``."""
        return self.settings.online_url or f"sqlite:///{self.dir / 'online.db'}"

    @cached_property
    def online(self) -> OnlineStore:
        from shipyard.online import open_online_store

        return open_online_store(self.online_url)

    def derived(self, key: str, settings: Settings) -> Project:
        """A project on the same folder with other ``settings`` (an environment's own catalog
        and stores), acting as the same actor: opened once per ``key``, closed with this one."""
        child = self._derived.get(key)
        if child is None:
            child = Project(self.root, settings=settings, face=self.actor.face)
            child.actor = self.actor
            child = self._derived.setdefault(key, child)
        return child

    def acting_as(self, actor: Actor) -> Project:
        """This project, with ``actor`` recorded as who acts: what a server hands the rooms
        for one request (the token's name, the ``api`` face, the client's address).

        The copy shares this project's backends that are open already; open them first (a
        server does at start-up), or each copy opens its own. Close only the original.
        """
        clone = copy.copy(self)
        clone.actor = actor
        return clone

    def close(self) -> None:
        """Release the catalog's and the online store's connections (and those of the
        projects :meth:`derived` made)."""
        for child in self._derived.values():
            child.close()
        if "catalog" in self.__dict__:
            self.catalog.close()
        if "online" in self.__dict__:
            self.online.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding ``.shipyard/``.

    ``SHIPYARD_HOME`` wins when set.

    Raises:
        NotFound: No project there or above; the message says how to make one.
    """
    home = os.environ.get("SHIPYARD_HOME")
    if home:
        root = Path(home).expanduser()
        if (root / PROJECT_DIR).is_dir():
            return root.resolve()
        raise NotFound(
            f"SHIPYARD_HOME is {home}, but that folder is not a Shipyard project. "
            f"Run `shipyard init {home}` or unset SHIPYARD_HOME."
        )
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_DIR).is_dir():
            return folder
    raise NotFound(
        f"No Shipyard project in {here} or any folder above it. "
        "Run `shipyard init` here, or set SHIPYARD_HOME to a project folder."
    )


def init_project(root: str | Path, *, face: str = "sdk") -> Project:
    """Make ``root`` a project (idempotent) and open it; ``project.is_new`` says whether it
    was made just now."""
    root = Path(root).expanduser()
    marker = root / PROJECT_DIR
    created = not marker.is_dir()
    config = marker / "config.toml"
    try:
        for sub in ("artifacts", "lake"):
            (marker / sub).mkdir(parents=True, exist_ok=True)
        if not config.exists():
            config.write_text(_CONFIG_TEMPLATE)
    except OSError as exc:
        raise InvalidInput(
            f"Could not make a project in {root}: {exc.strerror or exc}. Choose a folder you "
            "can write to (it is created if missing)."
        ) from exc
    project = Project(root, face=face)
    project.catalog  # noqa: B018 - creates catalog.db and its schema now
    if created:
        project.catalog.record_event(
            "project.init", "project", str(project.root), actor=project.actor, details={}
        )
    project.is_new = created
    return project


def open_project(path: str | Path | None = None, *, face: str = "sdk") -> Project:
    """Open the project at ``path``, or the one found from the current directory upward."""
    root = Path(path).expanduser() if path is not None else find_project_root()
    if not (root / PROJECT_DIR).is_dir():
        raise NotFound(f"{root} is not a Shipyard project. Run `shipyard init {root}` first.")
    return Project(root, face=face)
