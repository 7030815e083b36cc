"""The Open Inference Protocol (KServe v2) on the inference server, for the model it serves.

Routes (``{name}``: the model's name, its ``name:version`` ref, or ``name@alias`` for each
alias it had when it loaded; ``{v}``: its version number):

- ``GET /v2``, ``/v2/health/live``, ``/v2/health/ready``: server metadata and health;
- ``GET /v2/models/{name}`` and ``/v2/models/{name}/ready``: the model's metadata
  (inputs and outputs as tensors, see :mod:`._tensors`) and readiness;
- ``POST /v2/models/{name}/infer``: score columns given as tensors;
- the same under ``/v2/models/{name}/versions/{v}/...``.

Every path is known once the model is loaded, so each is one entry of the app's route table:
no pattern matching on the request path. Errors answer the protocol's ``{"error": message}``
(plus Shipyard's ``kind`` and ``details``), which ``tritonclient`` shows as the message.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson

import shipyard
from shipyard.errors import NotFound, ShipyardError
from shipyard.serve._body import INLINE_BYTES, JSON_MEDIA, THREADED_ROWS, read_body
from shipyard.serve._parse import check_count
from shipyard.serve._tensors import (
    InferRequest,
    label_datatype,
    model_metadata,
    output_tensors,
    parse_infer,
    rows_of,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from shipyard.model import Predictions
    from shipyard.serve._app import ShipyardServeApp

    Handler = Callable[[MutableMapping[str, Any], Any], Awaitable[tuple[int, bytes]]]

__all__ = [
    "HEALTH_ROUTES",
    "OCTET_MEDIA",
    "V2Routes",
    "header_length",
    "is_v2",
    "server_routes",
    "v2_error_body",
]

OCTET_MEDIA = b"application/octet-stream"
_HEADER_LENGTH = b"inference-header-content-length"
HEALTH_ROUTES = ("/v2/health/live", "/v2/health/ready")

_SERVER = orjson.dumps(
    {"name": "shipyard", "version": shipyard.__version__, "extensions": ["binary_tensor_data"]}
)
_LIVE = orjson.dumps({"live": True})
_READY = orjson.dumps({"ready": True})


def is_v2(path: str) -> bool:
    """Whether ``path`` is one of the protocol's (its errors take the protocol's shape)."""
    return path == "/v2" or path.startswith("/v2/")


def v2_error_body(exc: ShipyardError) -> bytes:
    """The protocol's error body: ``{"error": message, "kind": ..., "details": ...}``."""
    return orjson.dumps(
        {"error": exc.message, "kind": exc.kind, "details": exc.details}, default=str
    )


def header_length(scope: MutableMapping[str, Any]) -> int | None:
    """The ``Inference-Header-Content-Length`` of a binary request (None: all JSON).

    Raises:
        MalformedBody: The header is not a number.
    """
    from shipyard.serve._errors import MalformedBody

    for name, value in scope["headers"]:
        if name == _HEADER_LENGTH:
            if not value.strip().isdigit():
                raise MalformedBody(
                    "Inference-Header-Content-Length must be the byte size of the JSON "
                    f"header. Got {value[:40].decode('latin-1')!r}."
                )
            return int(value)
    return None


async def _static(body: bytes, scope: Any, receive: Any) -> tuple[int, bytes]:
    return 200, body


def server_routes() -> dict[str, dict[str, Handler]]:
    """``/v2``, ``/v2/health/live`` and ``/v2/health/ready``: alive and ready whenever the
    server answers (it listens only once its model is loaded)."""
    out: dict[str, dict[str, Handler]] = {}
    for path, body in (("/v2", _SERVER), (HEALTH_ROUTES[0], _LIVE), (HEALTH_ROUTES[1], _READY)):
        handler = partial(_static, body)
        out[path] = {"GET": handler, "HEAD": handler}
    return out


class V2Routes:
    """The protocol's routes for the one model ``app`` serves."""

    def __init__(self, app: ShipyardServeApp) -> None:
        self.app = app
        version = app.loaded.version
        signature = app.loaded.model.signature
        self.names = (
            version.name,
            version.ref,
            *(f"{version.name}@{alias}" for alias in version.aliases),
        )
        self.version = str(version.version)
        self._specs = tuple((c["name"], c["type"]) for c in signature["inputs"])
        self._names = tuple(name for name, _ in self._specs)
        self._label_type = label_datatype(signature.get("classes") or [])
        self._static: dict[str, bytes] = {}
        self._model_names: dict[str, str] = {}
        for name in self.names:
            meta = orjson.dumps(model_metadata(name, version.version, signature))
            ready = orjson.dumps({"name": name, "ready": True})
            for base in (f"/v2/models/{name}", f"/v2/models/{name}/versions/{self.version}"):
                self._static[base] = meta
                self._static[f"{base}/ready"] = ready
                self._model_names[f"{base}/infer"] = name

    def routes(self) -> dict[str, dict[str, Handler]]:
        """Every route of the protocol for this model, by exact path."""
        read: dict[str, Handler] = {"GET": self._get, "HEAD": self._get}
        out: dict[str, dict[str, Handler]] = server_routes()
        out.update({path: read for path in self._static})
        infer: dict[str, Handler] = {"POST": self._infer}
        out.update({path: infer for path in self._model_names})
        return out

    def no_route(self, path: str) -> NotFound:
        """The 404 for a ``/v2/...`` path this model does not answer, saying what does."""
        parts = path.split("/")
        name = parts[3] if len(parts) > 3 and parts[2] == "models" else None
        served = f"{self.names[1]} (as {', '.join(self.names)})"
        if name is not None and name not in self.names:
            return NotFound(
                f"No model {name!r} here: this server serves {served}.",
                details={"model": name, "names": list(self.names)},
            )
        other_version = len(parts) > 5 and parts[4] == "versions" and parts[5] != self.version
        if name is not None and other_version:
            return NotFound(
                f"No version {parts[5]!r} of {name} here: this server serves version "
                f"{self.version} only.",
                details={"model": name, "version": parts[5]},
            )
        return NotFound(
            f"No route {path}. The protocol's routes here are /v2, /v2/health/live, "
            "/v2/health/ready, /v2/models/{name}, /v2/models/{name}/ready and "
            f"/v2/models/{{name}}/infer (also under /versions/{self.version}), with {{name}} "
            f"one of {', '.join(self.names)}.",
            details={"path": path},
        )

    async def _get(self, scope: MutableMapping[str, Any], receive: Any) -> tuple[int, bytes]:
        return 200, self._static[scope["path"]]

    async def _infer(self, scope: MutableMapping[str, Any], receive: Any) -> tuple[int, bytes]:
        app = self.app
        body, _ = await read_body(scope, receive, (JSON_MEDIA, OCTET_MEDIA), app.max_body_bytes)
        header = header_length(scope)
        name = self._model_names[scope["path"]]
        if len(body) <= INLINE_BYTES:
            out, request, result = self._score(body, header, name)
        else:
            out, request, result = await anyio.to_thread.run_sync(self._score, body, header, name)
        source = () if app.capture is None else partial(rows_of, request.columns, self._names)
        app._record(scope, request.rows, result, source)
        return 200, out

    def _score(
        self, body: bytes, header: int | None, name: str
    ) -> tuple[bytes, InferRequest, Predictions]:
        request = parse_infer(body, header, self._specs)
        n = request.rows
        check_count(range(n), self.app.max_rows)
        model = self.app.loaded.model
        result = model.predict_columns(request.columns, n, threads=1 if n < THREADED_ROWS else 0)
        answer: dict[str, Any] = {"model_name": name, "model_version": self.version}
        if request.id is not None:
            answer["id"] = request.id
        answer["outputs"] = output_tensors(
            result.scores, result.labels(), self._label_type, request.outputs
        )
        out = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY, default=str)
        return out, request, result
