"""The lake as DuckDB's query sandbox sees it: a read-only file system confined to the lake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

from shipyard._files import PerThreadFile

__all__ = ["CAPTURES_PROTOCOL", "PROTOCOL", "ReadOnlyCapturesFS", "ReadOnlyLakeFS"]

PROTOCOL = "shipyardlake"
"""Paths ``shipyardlake://<name>/<id>/part-0.parquet`` name files under the lake's root."""

CAPTURES_PROTOCOL = "shipyardcaptures"
"""Paths ``shipyardcaptures://<model>/v<N>/...`` name files under the artifact store's
``captures`` folder."""


class _ReadOnlyDirFS(AbstractFileSystem):
    """The files under one folder of a file system, readable and nothing else.

    DuckDB's query connection reaches files only through such file systems (its own local
    file system is switched off), so whatever SQL runs, it cannot create, change, move or
    delete a file, nor read one outside their folders. Only the read operations are
    implemented; every write ends in ``PermissionError``, and a path escaping the root in
    ``ValueError``.
    """

    root_marker = ""
    cachable = False

    def __init__(self, path: str, fs: AbstractFileSystem) -> None:
        super().__init__()
        self._dir = DirFileSystem(path=path, fs=fs)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """The entries of a folder of the lake."""
        return self._dir.ls(self._strip_protocol(path), detail=detail)

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """Size and type of one path of the lake."""
        return self._dir.info(self._strip_protocol(path))

    def modified(self, path: str) -> Any:
        """When a file of the lake last changed."""
        return self._dir.modified(self._strip_protocol(path))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode != "rb":
            raise PermissionError(f"The lake is read-only: cannot open {path} with mode {mode!r}.")
        return PerThreadFile(self._dir.open(self._strip_protocol(path), "rb"))

    def _rm(self, path: str) -> None:
        raise PermissionError(f"The lake is read-only: cannot remove {path}.")

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        """Refused: the lake is read-only."""
        raise PermissionError(f"The lake is read-only: cannot copy {path1} to {path2}.")

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Refused: the lake is read-only."""
        raise PermissionError(f"The lake is read-only: cannot create {path}.")

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Refused: the lake is read-only."""
        raise PermissionError(f"The lake is read-only: cannot create {path}.")

    def rmdir(self, path: str) -> None:
        """Refused: the lake is read-only."""
        raise PermissionError(f"The lake is read-only: cannot remove {path}.")


class ReadOnlyLakeFS(_ReadOnlyDirFS):
    """The lake's folder, read-only: ``shipyardlake://<name>/<id>/part-0.parquet``."""

    protocol = PROTOCOL

    def __init__(self, root: Path) -> None:
        super().__init__(str(root.resolve()), LocalFileSystem())


class ReadOnlyCapturesFS(_ReadOnlyDirFS):
    """The artifact store's ``captures`` folder (on any fsspec file system), read-only."""

    protocol = CAPTURES_PROTOCOL
