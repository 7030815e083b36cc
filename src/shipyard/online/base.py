"""The online store port: per-entity feature state, read at request time."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

__all__ = ["Merge", "OnlineStore"]

Merge = Callable[[list[bytes | None]], Sequence[bytes | None]]
"""Maps the stored values of some keys (None: absent) to their new values (None: delete)."""


class OnlineStore(abc.ABC):
    """Opaque byte values under ``(table, key)``, plus a per-table string dictionary.

    The feature store keeps one value per (feature group version, entity key): the entity's
    recent events and latest column values, encoded by ``shipyard.features``. The store knows
    nothing of features; it only has to be fast on point reads and atomic on updates.

    Contract, for every implementation:

    * Thread safe: one instance may be shared by the threads of a server; several processes
      may read and write one store (the embedded SQLite file or one Redis).
    * ``get`` returns what was last written, or None: never a partial value.
    * ``update`` is atomic per call: the read of the current values, ``merge`` and the write
      happen with no other ``update`` or ``put`` of the same table in between, so two writers
      never lose each other's changes. ``merge`` may be called more than once (a retry);
      it must not have side effects.
    * ``encode`` gives each distinct string of a table one code for ever (codes are small
      non-negative integers, exact in a float64); ``decode`` maps codes back.
    * Table names and keys are non-empty strings; tables are independent namespaces.
    * Errors: a malformed table name or key raises :class:`~shipyard.errors.InvalidInput`; a
      store that cannot be reached or fails raises
      :class:`~shipyard.errors.BackendUnavailable`, whose message names the URL without its
      password. No driver exception escapes.
    """

    url: str
    """The URL the store was opened with, any password masked (safe to print)."""

    @abc.abstractmethod
    def get(self, table: str, keys: Sequence[str]) -> list[bytes | None]:
        """The values of ``keys`` in ``table``, in order; None for a missing key.

        Raises:
            InvalidInput: A malformed table name or key.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def put(self, table: str, items: Mapping[str, bytes]) -> None:
        """Write (overwrite) the values of ``items``' keys.

        Raises:
            InvalidInput: A malformed table name or key.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def update(self, table: str, keys: Sequence[str], merge: Merge) -> None:
        """Atomically replace the values of distinct ``keys`` with ``merge(current values)``.

        ``merge`` returns one value per key, in order; None deletes the key.

        Raises:
            InvalidInput: A malformed table name or key, duplicate keys, or ``merge``
                returned the wrong number of values.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def scan(self, table: str, *, batch: int = 1000) -> Iterator[list[tuple[str, bytes]]]:
        """Every ``(key, value)`` of ``table`` in batches of at most ``batch`` (any order).

        Raises:
            InvalidInput: A malformed table name.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def drop(self, table: str) -> None:
        """Delete ``table``'s keys and its string dictionary (a missing table is fine).

        Raises:
            InvalidInput: A malformed table name.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def encode(self, table: str, values: Sequence[str]) -> list[int]:
        """The code of each string in ``table``'s dictionary, assigning new ones as needed.

        Raises:
            InvalidInput: A malformed table name.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @abc.abstractmethod
    def decode(self, table: str, codes: Sequence[int]) -> list[str | None]:
        """The strings of ``codes`` (None for a code never assigned).

        Raises:
            InvalidInput: A malformed table name.
            BackendUnavailable: The store cannot be reached or failed.
        """

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Within it, this thread's writes are a rebuild (``materialize``): a store may trade
        durability for speed until the block ends, when everything written is made as
        durable as ordinary writes. A process crash inside loses nothing committed; a power
        loss inside may lose the store's contents, which the rebuild restores when run again.
        """
        yield

    def close(self) -> None:  # noqa: B027 - optional hook: most stores hold nothing to release
        """Release connections; the store is not used afterwards."""

    def __enter__(self) -> OnlineStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
