"""The embedded online store: one SQLite file in WAL mode (``.shipyard/online.db``)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from shipyard.errors import BackendUnavailable, InvalidInput
from shipyard.online._check import check_keys, check_table
from shipyard.online._checkpoint import Checkpointer
from shipyard.online.base import Merge, OnlineStore

__all__ = ["SqliteOnlineStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_kv (
    tbl TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (tbl, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS online_dict (
    tbl TEXT NOT NULL, value TEXT NOT NULL, code INTEGER NOT NULL, PRIMARY KEY (tbl, value)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS online_dict_code ON online_dict (tbl, code);
"""
_CHUNK = 500  # host parameters per IN (...) list, well under SQLite's limit
_MMAP_BYTES = 1 << 30  # address space only; pages come from the OS page cache
_CACHE_KIB = 32 * 1024  # per connection, an upper bound, not an allocation
_FALLBACK_CHECKPOINT_PAGES = 16_384  # 64 MB of WAL at 4 KB pages


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class SqliteOnlineStore(OnlineStore):
    """An :class:`OnlineStore` in one SQLite file; a connection per thread, WAL journaling.

    Args:
        path: The database file (created with its folder when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._checkpointer = Checkpointer(self.path)
        with self._errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is durable against a process crash (the WAL is written
            # before COMMIT returns) and only the last commits can be lost on power loss; the
            # store is a cache that `materialize` rebuilds, so that is the right trade.
            conn.execute("PRAGMA synchronous=NORMAL")
            # Point reads and read-modify-write batches touch random pages of a file of tens
            # of MB: map it and keep a real page cache, so a read costs no pread syscalls.
            conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            # Checkpoints run on the Checkpointer's thread; this is only the fallback.
            conn.execute(f"PRAGMA wal_autocheckpoint={_FALLBACK_CHECKPOINT_PAGES}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            raise BackendUnavailable(
                f"The online store {self.url} failed: {exc}. Check that the file is writable "
                "and not on a network filesystem."
            ) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        self._checkpointer.poke()

    @contextmanager
    def loading(self) -> Iterator[None]:
        """No fsync while a rebuild writes (``synchronous=OFF``), then a checkpoint under the
        ordinary ``NORMAL``, which syncs the WAL and the database file.

        In WAL mode a process crash with ``OFF`` loses no committed transaction (the OS has
        the pages); only an OS crash or power loss during the rebuild can damage the file,
        and the rebuild that was running is what restores it (delete ``online.db`` first).
        """
        with self._errors():
            conn = self._conn()
            conn.execute("PRAGMA synchronous=OFF")
        try:
            yield
        finally:
            with self._errors():
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def get(self, table: str, keys: Sequence[str]) -> list[bytes | None]:
        check_table(table)
        keys = check_keys(keys)
        with self._errors():
            conn = self._conn()
            if len(keys) == 1:
                row = conn.execute(
                    "SELECT value FROM online_kv WHERE tbl = ? AND key = ?", (table, keys[0])
                ).fetchone()
                return [row[0] if row else None]
            found = self._select(conn, table, keys)
        return [found.get(k) for k in keys]

    @staticmethod
    def _select(conn: sqlite3.Connection, table: str, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for part in _chunks(keys):
            marks = ",".join("?" * len(part))
            rows = conn.execute(
                f"SELECT key, value FROM online_kv WHERE tbl = ? AND key IN ({marks})",
                (table, *part),
            )
            found.update(rows)
        return found

    def put(self, table: str, items: Mapping[str, bytes]) -> None:
        check_table(table)
        check_keys(items)
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO online_kv (tbl, key, value) VALUES (?, ?, ?)",
                sorted((table, k, v) for k, v in items.items()),
            )

    def update(self, table: str, keys: Sequence[str], merge: Merge) -> None:
        check_table(table)
        keys = check_keys(keys)
        if len(set(keys)) != len(keys):
            raise InvalidInput("The keys of an online-store update must be distinct.")
        with self._write() as conn:
            found = self._select(conn, table, sorted(keys))
            new = list(merge([found.get(k) for k in keys]))
            if len(new) != len(keys):
                raise InvalidInput(
                    f"An online-store merge must return one value per key ({len(keys)}). "
                    f"Got {len(new)} instead."
                )
            # In key order: each insert lands next to the previous one in the B-tree.
            conn.executemany(
                "INSERT OR REPLACE INTO online_kv (tbl, key, value) VALUES (?, ?, ?)",
                sorted((table, k, v) for k, v in zip(keys, new, strict=True) if v is not None),
            )
            conn.executemany(
                "DELETE FROM online_kv WHERE tbl = ? AND key = ?",
                ((table, k) for k, v in zip(keys, new, strict=True) if v is None),
            )

    def scan(self, table: str, *, batch: int = 1000) -> Iterator[list[tuple[str, bytes]]]:
        check_table(table)
        after = ""
        while True:
            with self._errors():
                rows = (
                    self._conn()
                    .execute(
                        "SELECT key, value FROM online_kv WHERE tbl = ? AND key > ? "
                        "ORDER BY key LIMIT ?",
                        (table, after, batch),
                    )
                    .fetchall()
                )
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def drop(self, table: str) -> None:
        check_table(table)
        with self._write() as conn:
            conn.execute("DELETE FROM online_kv WHERE tbl = ?", (table,))
            conn.execute("DELETE FROM online_dict WHERE tbl = ?", (table,))

    def encode(self, table: str, values: Sequence[str]) -> list[int]:
        check_table(table)
        distinct = list(dict.fromkeys(values))
        with self._write() as conn:
            codes: dict[str, int] = {}
            for part in _chunks(distinct):
                marks = ",".join("?" * len(part))
                codes.update(
                    conn.execute(
                        f"SELECT value, code FROM online_dict WHERE tbl = ? AND value IN ({marks})",
                        (table, *part),
                    )
                )
            missing = [v for v in distinct if v not in codes]
            if missing:
                (top,) = conn.execute(
                    "SELECT coalesce(max(code), -1) FROM online_dict WHERE tbl = ?", (table,)
                ).fetchone()
                fresh = {v: top + 1 + i for i, v in enumerate(missing)}
                conn.executemany(
                    "INSERT INTO online_dict (tbl, value, code) VALUES (?, ?, ?)",
                    ((table, v, c) for v, c in fresh.items()),
                )
                codes.update(fresh)
        return [codes[v] for v in values]

    def decode(self, table: str, codes: Sequence[int]) -> list[str | None]:
        check_table(table)
        wanted = list(dict.fromkeys(int(c) for c in codes))
        found: dict[int, str] = {}
        with self._errors():
            conn = self._conn()
            for start in range(0, len(wanted), _CHUNK):
                part = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    f"SELECT code, value FROM online_dict WHERE tbl = ? AND code IN ({marks})",
                    (table, *part),
                )
                found.update(rows)
        return [found.get(int(c)) for c in codes]

    def close(self) -> None:
        self._checkpointer.close()
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
