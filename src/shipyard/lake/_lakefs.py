"""The lake as DuckDB's query sandbox sees it: a read-only file system confined to the lake."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

__all__ = ["PROTOCOL", "ReadOnlyLakeFS"]

PROTOCOL = "shipyardlake"
"""Paths ``shipyardlake://<name>/<id>/part-0.parquet`` name files under the lake's root."""


class ReadOnlyLakeFS(AbstractFileSystem):
    """The files under one lake folder, readable and nothing else.

    DuckDB's query connection reaches files only through this file system (its own local
    file system is switched off), so whatever SQL runs, it cannot create, change, move or
    delete a file, nor read one outside the lake. Only the read operations are implemented;
    every write ends in ``PermissionError``, and a path escaping the root in ``ValueError``.
    """

    protocol = PROTOCOL
    root_marker = ""
    cachable = False

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._dir = DirFileSystem(path=str(root.resolve()), fs=LocalFileSystem())

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
        full = self._dir._join(self._strip_protocol(path))
        return PositionalFile(full)

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


class PositionalFile:
    """A read-only file whose position is kept per thread and read with ``os.pread``.

    DuckDB's threads share one handle per file and call ``seek`` then ``read`` as two Python
    calls; with one shared position another thread's seek can land in between, and the
    Parquet reader then sees bytes from the wrong offset ("Invalid data"). A per-thread
    position and positional reads make the pair safe without a lock.
    """

    def __init__(self, path: str) -> None:
        self.name = path
        self._fd = os.open(path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size
        self._local = threading.local()
        self.closed = False

    def _pos(self) -> int:
        return getattr(self._local, "pos", 0)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos(), os.SEEK_END: self._size}[whence]
        self._local.pos = base + offset
        return self._local.pos

    def tell(self) -> int:
        return self._pos()

    def read(self, size: int = -1) -> bytes:
        pos = self._pos()
        if size is None or size < 0:
            size = self._size - pos
        data = os.pread(self._fd, size, pos)
        self._local.pos = pos + len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._fd)

    def __enter__(self) -> PositionalFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
