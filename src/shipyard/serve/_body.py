"""Reading a request body under the server's limits: media type, size, disconnects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.serve._errors import MalformedBody, PayloadTooLarge, UnsupportedMediaType

__all__ = ["INLINE_BYTES", "JSON_MEDIA", "THREADED_ROWS", "read_body"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

JSON_MEDIA = b"application/json"

# Bodies up to this size are parsed and scored on the event-loop thread: a hop to a worker
# thread costs more than scoring a few rows. Bigger ones go to a thread so /ping and small
# requests keep flowing while a batch is scored.
INLINE_BYTES = 16 * 1024
# LightGBM's OpenMP threads only pay off on big batches.
THREADED_ROWS = 2_000


async def read_body(
    scope: Scope, receive: Receive, accepted: tuple[bytes, ...], limit: int
) -> tuple[bytes, bytes]:
    """The request body and its media type, refusing wrong types and oversize bodies."""
    media = b""
    length = -1
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
        elif name == b"content-length":
            length = int(value) if value.isdigit() else -1
    if not media:
        media = JSON_MEDIA  # curl-less clients often omit it; JSON is the default contract
    if media not in accepted:
        raise UnsupportedMediaType(
            f"{scope['path']} reads {' or '.join(a.decode() for a in accepted)}; "
            f"got Content-Type {media.decode('latin-1')!r}.",
            details={"content_type": media.decode("latin-1")},
        )
    if length > limit:
        raise _too_large(length, limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # Nobody reads the answer; this only stops the half body from being scored.
            raise MalformedBody("The client disconnected before the body was complete.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not body.strip():
        raise InvalidInput("The request body is empty. Send at least one row to score.")
    return body, media


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body has {size:,} bytes or more; this server accepts at most {limit:,} "
        "(SHIPYARD_SERVE_MAX_BODY_BYTES). Split the request into smaller batches.",
        details={"bytes": size, "max_body_bytes": limit},
    )
