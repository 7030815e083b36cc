"""Argument checks and URL masking shared by the online store adapters."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from shipyard.errors import InvalidInput

__all__ = ["check_keys", "check_table", "mask_url"]


def check_table(table: object) -> str:
    if not isinstance(table, str) or not table or len(table) > 200:
        raise InvalidInput(
            f"An online-store table name must be a non-empty string of at most 200 "
            f"characters. Got {table!r} instead."
        )
    return table


def check_keys(keys: Iterable[object]) -> list[str]:
    out = list(keys)
    if set(map(type, out)) <= {str} and "" not in out:  # the common case, at C speed
        return out  # type: ignore[return-value]
    for key in out:
        if not isinstance(key, str) or not key:
            raise InvalidInput(
                f"An online-store key must be a non-empty string. Got {key!r} instead."
            )
    return out  # type: ignore[return-value]


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (safe for messages and logs).

    >>> mask_url("redis://:s3cret@cache:6379/0")
    'redis://:***@cache:6379/0'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
