"""The artifact store port: where model bundles and reports live."""

from __future__ import annotations

import abc
from pathlib import Path

__all__ = ["ArtifactStore"]


class ArtifactStore(abc.ABC):
    """Immutable blobs and folders under string keys (``models/fraud/3``).

    Contract, for every implementation:

    * Writes are atomic: a reader sees a key's whole content or nothing, never a part; a
      crash mid-write leaves nothing under the key.
    * Keys are never overwritten: writing an existing key raises
      :class:`~shipyard.errors.AlreadyExists`.
    * Reading a missing key raises :class:`~shipyard.errors.NotFound`.
    * Thread safe.
    """

    @abc.abstractmethod
    def put_dir(self, local_dir: Path, key: str) -> str:
        """Copy a local folder under ``key``; returns the stored folder's URI."""

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key``; returns its URI."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The bytes stored under ``key``."""

    @abc.abstractmethod
    def local_dir(self, key: str) -> Path:
        """A local folder holding the folder stored under ``key`` (a cached copy if remote)."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether anything is stored under ``key``."""

    @abc.abstractmethod
    def uri(self, key: str) -> str:
        """The URI of ``key`` (stored or not)."""

    @abc.abstractmethod
    def key_of(self, uri: str) -> str:
        """The key of a URI this store returned.

        Raises:
            InvalidInput: The URI is not inside this store.
        """
