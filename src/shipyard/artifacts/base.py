"""The artifact store port: where model bundles and reports live."""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["ArtifactStore", "StoredEntry"]


@dataclass(frozen=True)
class StoredEntry:
    """A folder or blob found under a prefix: its key and when it was last written (None
    when the store cannot tell)."""

    key: str
    modified: datetime | None


class ArtifactStore(abc.ABC):
    """Immutable blobs and folders under string keys (``models/fraud/<uuid>``).

    Contract, for every implementation:

    * Thread safe: one instance may be shared by the threads of a server, and several
      processes may write to one store.
    * Writes are atomic: a reader sees a key's whole content or nothing, never a part; a
      crash mid-write leaves nothing under the key.
    * Keys are never overwritten: writing an existing key raises
      :class:`~shipyard.errors.AlreadyExists`, and of two writers racing for one key exactly
      one succeeds.
    * What is stored is immutable: ``get_bytes`` returns a copy, and the folder
      ``local_dir`` returns must be read, never changed (it may be the stored folder itself).
    * Only garbage collection deletes (``delete``): a key that no catalog row names.
    * A location to record in the catalog is the key, relative to the store, so a project
      folder can be moved; ``key_of`` also reads the absolute URIs written before that.
    * Errors: a malformed key raises :class:`~shipyard.errors.InvalidInput`; a missing key
      :class:`~shipyard.errors.NotFound`; a store that cannot be reached or fails
      :class:`~shipyard.errors.BackendUnavailable`. No filesystem or driver exception escapes.
    """

    @abc.abstractmethod
    def put_dir(self, local_dir: Path, key: str) -> str:
        """Copy a local folder (with its subfolders) under ``key``; returns the folder's URI.

        Raises:
            InvalidInput: ``key`` is malformed, or ``local_dir`` is not a folder.
            AlreadyExists: Something is stored under ``key`` already (or was written there
                concurrently); nothing was changed.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key``; returns its URI.

        Raises:
            InvalidInput: ``key`` is malformed.
            AlreadyExists: Something is stored under ``key`` already; nothing was changed.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``.

        Raises:
            InvalidInput: ``key`` is malformed.
            NotFound: No blob is stored under ``key``.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def local_dir(self, key: str) -> Path:
        """A local folder holding the folder stored under ``key`` (a cached copy if remote).

        Raises:
            InvalidInput: ``key`` is malformed.
            NotFound: No committed folder is stored under ``key``.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether anything is stored under ``key`` (a half-written folder is not).

        Raises:
            InvalidInput: ``key`` is malformed.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def uri(self, key: str) -> str:
        """The absolute URI of ``key`` (stored or not), to show or to hand to another tool.

        Raises:
            InvalidInput: ``key`` is malformed.
        """

    @abc.abstractmethod
    def filesystem(self, key: str) -> tuple[AbstractFileSystem, str]:
        """An fsspec file system and the path of ``key`` on it (stored or not), for tools
        that read stored files in place (DuckDB, pyarrow). Callers only read through it.

        Raises:
            InvalidInput: ``key`` is malformed.
        """

    @abc.abstractmethod
    def key_of(self, uri: str) -> str:
        """The key of a recorded location: a key itself, a URI under this store, or an
        absolute URI written under this store's earlier place (a moved or restored project),
        found by the longest tail of its path that is stored here.

        Raises:
            InvalidInput: ``uri`` is a malformed key.
            NotFound: ``uri`` is outside this store and no tail of it is stored here.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def list_keys(self, prefix: str) -> list[StoredEntry]:
        """What is stored directly under ``prefix`` (folders and blobs), sorted by key; []
        when nothing is. A folder whose write never committed is listed too, so that garbage
        collection finds it (``exists`` tells it apart); staging areas are not listed.

        Raises:
            InvalidInput: ``prefix`` is malformed.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the folder or blob under ``key``, committed or half-written. For garbage
        collection only: a reader of that key afterwards gets NotFound.

        Raises:
            InvalidInput: ``key`` is malformed.
            NotFound: Nothing is stored under ``key``.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def rewrite_files(self, change: Callable[[str, bytes], bytes | None]) -> int:
        """Replace the content of stored files in place, for a key rotation only.

        ``change`` gets each committed file (its path relative to the store, and its bytes)
        and returns new bytes, or None to keep it. Each file is replaced atomically (a
        reader sees the old content or the new, whole); files of writes that never
        committed, and the store's own markers, are not offered. Returns how many files
        were replaced. Errors ``change`` raises stop the walk and propagate.

        Raises:
            InvalidInput: Never for a key (it takes none); only as ``change`` raises it.
            BackendUnavailable: The store cannot be reached or failed.
        """
