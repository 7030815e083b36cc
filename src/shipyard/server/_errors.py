"""One error body for every failure of the REST API: ``{"error", "message", "details"}``.

A :class:`~shipyard.errors.ShipyardError` answers with its kind's status. FastAPI's request
validation becomes ``InvalidInput`` (422) naming the parameter or body field; an unknown
route is ``NotFound`` with the closest route suggested; a known route called with the wrong
method is ``MethodNotAllowed``. Anything else is logged with its traceback and answered 500
without one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shipyard.errors import InvalidInput, NotFound, ShipyardError, did_you_mean
from shipyard.serve import HTTPError, MalformedBody, MethodNotAllowed

__all__ = ["ERROR_RESPONSES", "error_body", "error_response", "install_error_handlers"]

log = logging.getLogger("shipyard.server")

_SHOWN = 80  # characters of a refused value echoed back in a message


def error_body(error: ShipyardError) -> bytes:
    """The JSON body of ``error`` (strict: NaN as null, anything else as text)."""
    return orjson.dumps(error.to_dict(), default=str)


def error_response(error: ShipyardError) -> Response:
    """``error`` as a response, with its status and, for HTTP kinds, its headers."""
    headers = {k.decode(): v.decode() for k, v in getattr(error, "headers", ())}
    return Response(
        error_body(error),
        status_code=error.status_code,
        media_type="application/json",
        headers=headers,
    )


def _where(loc: Sequence[Any]) -> tuple[str, str]:
    part = str(loc[0]) if loc else "body"
    field = ".".join(str(p) for p in loc[1:])
    return {"query": "query parameter", "path": "path parameter"}.get(part, part), field


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def validation_error(errors: Sequence[Any]) -> InvalidInput:
    """FastAPI's validation errors as one ``InvalidInput`` naming the first bad field."""
    first = errors[0]
    where, field = _where(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "it does not parse")
        message = f"The request body is not valid JSON: {reason} (at character {field}). "
        message += "Send a JSON object."
    elif first.get("type") == "missing":
        message = f"The {where} '{field or 'body'}' is required. Give it and try again."
    else:
        got = f" Got {_shown(first['input'])} instead." if "input" in first else ""
        message = f"The {where} '{field or 'body'}' is invalid: {first.get('msg')}.{got}"
    details = [
        {
            "in": _where(e.get("loc", ()))[0],
            "field": _where(e.get("loc", ()))[1],
            "message": e["msg"],
        }
        for e in errors[:20]
    ]
    return InvalidInput(message, details={"field": field, "errors": details})


def _route_templates(app: Any) -> list[str]:
    return sorted({r.path for r in getattr(app.state, "routes", ())})


def _http_error(request: Request, exc: StarletteHTTPException) -> ShipyardError:
    if exc.status_code == 404:
        path = request.url.path
        hint = did_you_mean(path, _route_templates(request.app))
        return NotFound(
            f"No route {request.method} {path}.{hint} The API is described at "
            "/api/v1/openapi.json.",
            details={"path": path},
        )
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return MethodNotAllowed(
            f"{request.url.path} does not answer {request.method}; it answers {allowed}.",
            allowed=[m.strip() for m in allowed.split(",") if m.strip()],
        )
    if exc.status_code == 400:
        return MalformedBody(f"The request could not be read: {exc.detail}.")
    error = HTTPError(str(exc.detail))
    error.status_code = exc.status_code  # type: ignore[misc]
    return error


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error ``app`` meets with the one error body."""

    async def shipyard_error(request: Request, exc: Exception) -> Response:
        return error_response(exc)  # type: ignore[arg-type]

    async def invalid_request(request: Request, exc: Exception) -> Response:
        return error_response(validation_error(exc.errors()))  # type: ignore[attr-defined]

    async def http_error(request: Request, exc: Exception) -> Response:
        return error_response(_http_error(request, exc))  # type: ignore[arg-type]

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("Unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            ShipyardError(
                "The server failed on this request; the cause is in its log. Try again, and "
                "report it if it happens again."
            )
        )

    app.add_exception_handler(ShipyardError, shipyard_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message", "details"],
    "properties": {
        "error": {"type": "string", "description": "The kind: NotFound, InvalidInput, ..."},
        "message": {"type": "string", "description": "What was wrong and what to do next."},
        "details": {"type": "object", "description": "Machine-readable context."},
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("MalformedBody: the body could not be read."),
    401: _error("Unauthenticated: no token, or a malformed, unknown, revoked or expired one."),
    403: _error(
        "PermissionDenied: the token's role or environment does not allow this; the "
        "message names the roles that may."
    ),
    404: _error("NotFound: no such object (a close name is suggested) or route."),
    405: _error("MethodNotAllowed: the route does not answer this method."),
    409: _error("Conflict or AlreadyExists: the request conflicts with the current state."),
    413: _error("PayloadTooLarge: the body is over SHIPYARD_SERVER_MAX_BODY_BYTES."),
    422: _error("InvalidInput: a parameter or body field is invalid; the message names it."),
    429: _error("TooManyAttempts: too many failed token checks from this address."),
    503: _error("BackendUnavailable: the catalog or artifact store cannot be reached."),
}
"""The error answers every route documents, with their one body shape."""
