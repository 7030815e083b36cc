"""A file handle that DuckDB's threads can share: one read position per thread."""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["PerThreadFile"]


class PerThreadFile:
    """A read-only file whose position is kept per thread.

    DuckDB's threads share one handle per file and call ``seek`` then ``read`` as two Python
    calls; with one shared position another thread's seek can land in between, and the
    Parquet reader then sees bytes from the wrong offset ("Invalid data", "don't know what
    type"). Each thread here has its own position, and a read is one locked seek-and-read.
    """

    def __init__(self, handle: Any, name: str | None = None) -> None:
        self._handle = handle
        self._lock = threading.Lock()
        self._local = threading.local()
        self.name = name or getattr(handle, "path", getattr(handle, "name", ""))
        self.closed = False

    def _pos(self) -> int:
        return getattr(self._local, "pos", 0)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            pos = offset
        elif whence == os.SEEK_CUR:
            pos = self._pos() + offset
        else:
            with self._lock:
                pos = self._handle.seek(offset, os.SEEK_END)
        self._local.pos = pos
        return pos

    def tell(self) -> int:
        return self._pos()

    def read(self, size: int = -1) -> bytes:
        with self._lock:
            self._handle.seek(self._pos())
            data: bytes = self._handle.read(size)
        self._local.pos = self._pos() + len(data)
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
            self._handle.close()

    def __enter__(self) -> PerThreadFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
