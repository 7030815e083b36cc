"""Shipyard through a ``shipyard server``: the SDK's remote half (``shipyard.connect``) and
what ``shipyard --server URL`` commands call.

The layout mirrors the server's routers (``server/api/<room>.py``), one mixin module per
room, so that adding a room's router and its client calls are two small modules side by
side. Methods are named after the local room functions they stand for (``list_runs``,
``resolve_model``, ``promote``, ``run_monitor``, ``ack_alert``, ``query``) and return the
same frozen entities, so code and CLI formatting work the same on a project folder and on a
server. It is a thin client: httpx, the bearer token, JSON decoded into entities, and the
server's errors raised as the same :class:`~shipyard.errors.ShipyardError` kinds.
"""

from __future__ import annotations

from shipyard.client._client import Client, connect
from shipyard.client._datasets import RemoteReport

__all__ = ["Client", "RemoteReport", "connect"]
