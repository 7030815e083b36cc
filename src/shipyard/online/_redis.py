"""The production online store: Redis (redis-py, the ``shipyard[redis]`` extra)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from shipyard.errors import BackendUnavailable, InvalidInput
from shipyard.online._check import check_keys, check_table, mask_url
from shipyard.online.base import Merge, OnlineStore

__all__ = ["RedisOnlineStore", "import_redis", "redis_client"]

_KEY_SEP = "\x1f"  # between table and entity key: no table's keys match another's pattern
_DICT_SEP = "\x1e"  # the dictionary's own keys, outside every table's key pattern
_ENCODE = """
local out = {}
for i, v in ipairs(ARGV) do
  local c = redis.call('HGET', KEYS[1], v)
  if not c then
    c = redis.call('HINCRBY', KEYS[3], 'next', 1) - 1
    redis.call('HSET', KEYS[1], v, c)
    redis.call('HSET', KEYS[2], c, v)
  end
  out[i] = tonumber(c)
end
return out
"""
_CHUNK = 2000


def import_redis() -> Any:
    """The ``redis`` module, or an error with the command that installs it."""
    try:
        import redis
    except ImportError as exc:
        raise InvalidInput(
            "A redis:// URL needs the Redis client. Install it with "
            "`pip install 'shipyard[redis]'` (or `uv pip install redis`)."
        ) from exc
    return redis


def redis_client(url: str) -> Any:
    """A connected ``redis.Redis`` for ``url`` (its ``?prefix=`` ignored), pinged once.

    Raises:
        BackendUnavailable: Redis cannot be reached; the message hides the password.
    """
    redis = import_redis()
    parts = urlsplit(url)
    plain = urlunsplit(parts._replace(query=""))
    try:
        client = redis.Redis.from_url(plain, socket_connect_timeout=2.0, socket_timeout=30.0)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise BackendUnavailable(
            f"Cannot reach Redis at {mask_url(url)}: {type(exc).__name__}. Check that the "
            "server runs and the URL (host, port, db, password) is right."
        ) from exc
    return client


class RedisOnlineStore(OnlineStore):
    """An :class:`OnlineStore` in Redis: one string per key, a Lua-assigned dictionary.

    Args:
        url: ``redis://[:password@]host:port/db``, optionally ``?prefix=NAME:`` (default
            ``shipyard:``) to keep several projects or tests apart in one database.

    Updates of one table are serialized by a Redis lock (``redis-py``'s ``Lock``), so
    concurrent writers in several processes do not lose each other's changes.
    """

    def __init__(self, url: str) -> None:
        self.url = mask_url(url)
        self._redis = import_redis()
        prefix = parse_qs(urlsplit(url).query).get("prefix", ["shipyard:"])[0]
        self.prefix = prefix
        self._client = redis_client(url)
        self._encode = self._client.register_script(_ENCODE)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except self._redis.RedisError as exc:
            raise BackendUnavailable(
                f"Redis at {self.url} failed: {type(exc).__name__}: {exc}. Check that the "
                "server runs and has memory left."
            ) from exc

    def _key(self, table: str, key: str) -> str:
        return f"{self.prefix}{table}{_KEY_SEP}{key}"

    def _dict_keys(self, table: str) -> list[str]:
        return [f"{self.prefix}{table}{_DICT_SEP}{part}" for part in ("dict", "rdict", "next")]

    def get(self, table: str, keys: Sequence[str]) -> list[bytes | None]:
        check_table(table)
        keys = check_keys(keys)
        with self._errors():
            if len(keys) == 1:
                return [self._client.get(self._key(table, keys[0]))]
            out: list[bytes | None] = []
            for start in range(0, len(keys), _CHUNK):
                part = keys[start : start + _CHUNK]
                out.extend(self._client.mget([self._key(table, k) for k in part]))
            return out

    def put(self, table: str, items: Mapping[str, bytes]) -> None:
        check_table(table)
        check_keys(items)
        with self._errors(), self._client.lock(self._lock_name(table), timeout=120):
            self._write(table, list(items), list(items.values()))

    def _lock_name(self, table: str) -> str:
        return f"{self.prefix}{table}{_DICT_SEP}lock"

    def _write(self, table: str, keys: Sequence[str], values: Sequence[bytes | None]) -> None:
        # One MULTI/EXEC (atomic), with MSET in chunks: a command per thousand keys, not per key.
        pipe = self._client.pipeline(transaction=True)
        put = {self._key(table, k): v for k, v in zip(keys, values, strict=True) if v is not None}
        gone = [self._key(table, k) for k, v in zip(keys, values, strict=True) if v is None]
        names = list(put)
        for start in range(0, len(names), _CHUNK):
            pipe.mset({n: put[n] for n in names[start : start + _CHUNK]})
        for start in range(0, len(gone), _CHUNK):
            pipe.delete(*gone[start : start + _CHUNK])
        pipe.execute()

    def update(self, table: str, keys: Sequence[str], merge: Merge) -> None:
        check_table(table)
        keys = check_keys(keys)
        if len(set(keys)) != len(keys):
            raise InvalidInput("The keys of an online-store update must be distinct.")
        with self._errors(), self._client.lock(self._lock_name(table), timeout=120):
            new = list(merge(self.get(table, keys)))
            if len(new) != len(keys):
                raise InvalidInput(
                    f"An online-store merge must return one value per key ({len(keys)}). "
                    f"Got {len(new)} instead."
                )
            self._write(table, keys, new)

    def _pattern(self, table: str) -> str:
        return re.sub(r"([*?\[\]\\])", r"\\\1", f"{self.prefix}{table}") + _KEY_SEP + "*"

    def scan(self, table: str, *, batch: int = 1000) -> Iterator[list[tuple[str, bytes]]]:
        check_table(table)
        skip = len(self.prefix) + len(table) + 1
        with self._errors():
            names: list[bytes] = []
            for name in self._client.scan_iter(match=self._pattern(table), count=batch):
                names.append(name)
                if len(names) >= batch:
                    yield self._pairs(names, skip)
                    names = []
            if names:
                yield self._pairs(names, skip)

    def _pairs(self, names: list[bytes], skip: int) -> list[tuple[str, bytes]]:
        values = self._client.mget(names)
        return [(n.decode()[skip:], v) for n, v in zip(names, values, strict=True) if v is not None]

    def drop(self, table: str) -> None:
        check_table(table)
        with self._errors(), self._client.lock(self._lock_name(table), timeout=120):
            batch: list[bytes] = []
            for name in self._client.scan_iter(match=self._pattern(table), count=1000):
                batch.append(name)
                if len(batch) >= 1000:
                    self._client.unlink(*batch)
                    batch = []
            if batch:
                self._client.unlink(*batch)
            self._client.unlink(*self._dict_keys(table))

    def encode(self, table: str, values: Sequence[str]) -> list[int]:
        check_table(table)
        distinct = list(dict.fromkeys(values))
        codes: dict[str, int] = {}
        with self._errors():
            for start in range(0, len(distinct), _CHUNK):
                part = distinct[start : start + _CHUNK]
                got = self._encode(keys=self._dict_keys(table), args=part)
                codes.update(zip(part, (int(c) for c in got), strict=True))
        return [codes[v] for v in values]

    def decode(self, table: str, codes: Sequence[int]) -> list[str | None]:
        check_table(table)
        wanted = [int(c) for c in codes]
        if not wanted:
            return []
        with self._errors():
            raw = self._client.hmget(self._dict_keys(table)[1], wanted)
        return [None if v is None else v.decode() for v in raw]

    def close(self) -> None:
        self._client.close()
