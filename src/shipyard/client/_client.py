"""The client: one object with every room's calls."""

from __future__ import annotations

from typing import Any

import httpx

from shipyard.client._audit import AuditMixin, FeaturesMixin
from shipyard.client._datasets import DatasetsMixin
from shipyard.client._models import ModelsMixin
from shipyard.client._monitors import MonitorsMixin
from shipyard.client._runs import RunsMixin

__all__ = ["Client", "connect"]


class Client(DatasetsMixin, RunsMixin, ModelsMixin, MonitorsMixin, AuditMixin, FeaturesMixin):
    """A Shipyard server's REST API as Python calls. Thread safe (httpx's client is).

    Args:
        url: The server, ``http://host:port``.
        token: A bearer token (``shipyard tokens create``); its role and environment decide
            what the server lets this client do.
        timeout: Seconds to wait for an answer (a monitor run may take a while).
        transport: An httpx transport to use instead of the network (tests).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(url, token=token, timeout=timeout, transport=transport)
        self._splits: dict[str, dict[str, Any] | None] = {}

    def __enter__(self) -> Client:
        return self

    def __repr__(self) -> str:
        return f"Client({self.url!r})"


def connect(url: str | None = None, *, token: str | None = None, timeout: float = 300.0) -> Client:
    """A client of the Shipyard server at ``url`` (default: ``SHIPYARD_SERVER_URL``), sending
    ``token`` (default: ``SHIPYARD_TOKEN``)::

        client = shipyard.connect("http://shipyard.internal:8000", token="shp_...")
        client.promote("fraud:7", "prod")

    Raises:
        InvalidInput: No URL given or set, or one that is not http(s).
    """
    from shipyard.errors import InvalidInput
    from shipyard.settings import load_settings

    settings = load_settings()
    url = url or settings.server_url
    if not url:
        raise InvalidInput(
            "Give the server's URL: shipyard.connect('http://host:port'), or set "
            "SHIPYARD_SERVER_URL."
        )
    if token is None and settings.token is not None:
        token = settings.token.get_secret_value()
    return Client(url, token=token, timeout=timeout)
