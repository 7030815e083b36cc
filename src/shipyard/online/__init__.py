"""The online feature store port (:class:`OnlineStore`) and its SQLite and Redis adapters.

Not a room: the feature store and the inference server both read through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard._lazy import lazy_exports
from shipyard.errors import InvalidInput
from shipyard.online._check import mask_url
from shipyard.online.base import Merge, OnlineStore

if TYPE_CHECKING:
    from shipyard.online._redis import RedisOnlineStore, redis_client
    from shipyard.online._sqlite import SqliteOnlineStore

__all__ = [
    "SCHEMES",
    "Merge",
    "OnlineStore",
    "RedisOnlineStore",
    "SqliteOnlineStore",
    "mask_url",
    "open_online_store",
    "redis_client",
]

SCHEMES = ("sqlite", "redis", "rediss")
"""URL schemes :func:`open_online_store` accepts."""

_LAZY = {
    "RedisOnlineStore": "._redis",
    "SqliteOnlineStore": "._sqlite",
    "redis_client": "._redis",
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


def open_online_store(url: str) -> OnlineStore:
    """The online store at ``url``: ``sqlite:///path.db`` or ``redis://[:pw@]host:port/db``.

    Raises:
        InvalidInput: The URL's scheme is not one of :data:`SCHEMES`, or the Redis client is
            not installed (the message gives the install command).
        BackendUnavailable: The store cannot be reached (the message hides any password).
    """
    scheme = url.split(":", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        raise InvalidInput(
            f"Unknown online store URL scheme '{scheme}' in '{mask_url(url)}'. "
            f"Use one of: {', '.join(s + '://' for s in SCHEMES)} "
            "(e.g. sqlite:///path/online.db or redis://localhost:6379/0)."
        )
    if scheme == "sqlite":
        from shipyard.online._sqlite import SqliteOnlineStore

        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise InvalidInput(
                f"The 'online_url' setting must be sqlite:///PATH with a file path. "
                f"Got '{url}' instead."
            )
        return SqliteOnlineStore(path)
    from shipyard.online._redis import RedisOnlineStore

    return RedisOnlineStore(url)
