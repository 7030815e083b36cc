"""HTTP to a Shipyard server: one httpx client, the bearer token, errors back as Shipyard's.

An error answer (``{"error", "message", "details"}``) is raised as the
:class:`~shipyard.errors.ShipyardError` kind it names, with the server's message, so a remote
command fails as the local one would; a server that cannot be reached is
:class:`~shipyard.errors.BackendUnavailable`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from shipyard import errors
from shipyard.errors import BackendUnavailable, InvalidInput, ShipyardError

__all__ = ["API", "HttpBase", "segment"]

API = "/api/v1"
_PAGE = 1000  # items per page when a call walks a whole listing
_KINDS: dict[str, type[ShipyardError]] = {
    cls.kind: cls
    for cls in (
        errors.NotFound,
        errors.AlreadyExists,
        errors.InvalidInput,
        errors.Conflict,
        errors.PermissionDenied,
        errors.Unauthenticated,
        errors.BackendUnavailable,
        errors.IntegrityError,
    )
}
_BY_STATUS: dict[int, type[ShipyardError]] = {
    401: errors.Unauthenticated,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.Conflict,
}


def segment(value: object) -> str:
    """``value`` as one path segment (a name with ``/`` or ``%`` cannot change the route)."""
    return quote(str(value), safe="")


class HttpBase:
    """The HTTP half of :class:`~shipyard.client.Client`."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"The server URL must start with http:// or https://. Got {url!r} instead "
                "(SHIPYARD_SERVER_URL or --server)."
            )
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> HttpBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, API + path, **kwargs)
        except httpx.TransportError as exc:
            raise BackendUnavailable(
                f"Cannot reach the Shipyard server at {self.url}: {exc}. Check the URL "
                "(SHIPYARD_SERVER_URL or --server) and that `shipyard server` runs there."
            ) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._send("GET", path, params=clean).json()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._send("POST", path, json=body or {}).json()

    def _bytes(self, path: str) -> bytes:
        return self._send("GET", path).content

    def _walk(self, path: str, limit: int | None = None, **params: Any) -> Iterator[Any]:
        """Every item of a listing (at most ``limit``), a page at a time."""
        cursor, given = None, 0
        while True:
            size = _PAGE if limit is None else min(_PAGE, limit - given)
            page = self._get(path, cursor=cursor, limit=size, **params)
            for item in page["items"]:
                yield item
                given += 1
            cursor = page["next_cursor"]
            if cursor is None or (limit is not None and given >= limit):
                return


def _error(response: httpx.Response) -> ShipyardError:
    try:
        body = response.json()
        kind, message = body["error"], body["message"]
        details = body.get("details") or {}
    except (ValueError, KeyError, TypeError):
        return BackendUnavailable(
            f"The server answered {response.status_code} {response.reason_phrase} without a "
            f"Shipyard error body ({response.request.method} {response.request.url.path})."
        )
    cls = _KINDS.get(kind) or _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = InvalidInput if response.status_code < 500 else BackendUnavailable
    return cls(str(message), details=details if isinstance(details, dict) else {})
