"""The multi-model server as an ASGI app: its own routes, and each model's routes forwarded
to that model's :class:`ShipyardServeApp` (see :mod:`._multi` for loading and unloading).

- ``GET /ping``, ``/v2``, ``/v2/health/live``, ``/v2/health/ready``: up and ready (models
  load on use, so the server is ready before any is loaded);
- ``GET /models``: the loaded versions with their footprint and last use;
- ``/models/{ref}/...``: the model's own routes (``invocations``, ``v1/predict``,
  ``v1/model``, ``metrics``, ...);
- ``/v2/models/{ref}[/versions/{v}][/ready|/infer]``: the Open Inference Protocol;
- ``GET /metrics``: loads, unloads, load time, what is loaded; ``GET /openapi.json``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from shipyard.catalog.refs import parse_model_ref
from shipyard.errors import InvalidInput, NotFound, ShipyardError
from shipyard.serve._errors import HTTPError, MethodNotAllowed
from shipyard.serve._multi import LoadedEntry, ModelPool, split_ref_path
from shipyard.serve._openapi_multi import multi_document
from shipyard.serve._v2 import is_v2, server_routes, v2_error_body

__all__ = ["MultiModelApp"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Handler = Callable[[Scope, Any], Awaitable[tuple[int, bytes]]]

_JSON = [(b"content-type", b"application/json")]
_MODELS = "/models/"
_V2_MODELS = "/v2/models/"
_LOAD_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class MultiMetrics:
    """The server's own metrics (each model's are under ``/models/{ref}/metrics``)."""

    def __init__(self, pool: ModelPool) -> None:
        self.registry = CollectorRegistry()
        self._loads = Counter(
            "shipyard_multi_model_loads", "Model versions loaded.", registry=self.registry
        )
        self._unloads = Counter(
            "shipyard_multi_model_unloads",
            "Model versions unloaded (least recently used).",
            registry=self.registry,
        )
        self._load_seconds = Histogram(
            "shipyard_multi_model_load_seconds",
            "Time to load, verify and set up a model version.",
            buckets=_LOAD_BUCKETS,
            registry=self.registry,
        )
        Gauge(
            "shipyard_multi_models_loaded", "Model versions loaded now.", registry=self.registry
        ).set_function(lambda: len(pool.describe()["loaded"]))
        Gauge(
            "shipyard_multi_model_bytes",
            "Footprint of the loaded versions (their model.pkl sizes).",
            registry=self.registry,
        ).set_function(lambda: pool.size)

    def changed(self, what: str, seconds: float) -> None:
        if what == "load":
            self._loads.inc()
            self._load_seconds.observe(seconds)
        else:
            self._unloads.inc()


class MultiModelApp:
    """An ASGI app serving every model version of a project through ``pool``."""

    def __init__(self, pool: ModelPool, *, metrics: bool = True) -> None:
        self.pool = pool
        self.metrics = MultiMetrics(pool) if metrics else None
        if self.metrics is not None:
            pool.on_change = self.metrics.changed
        document = orjson.dumps(multi_document())
        ping = orjson.dumps({"status": "ok"})
        self._routes: dict[str, dict[str, Handler]] = {
            **server_routes(),
            "/ping": _read(partial(_static, ping)),
            "/openapi.json": _read(partial(_static, document)),
            "/models": _read(self._models),
        }
        if self.metrics is not None:
            self._routes["/metrics"] = _read(self._metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.pool.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        headers = _JSON
        try:
            methods = self._routes.get(path)
            if methods is not None:
                handler = methods.get(scope["method"])
                if handler is None:
                    raise MethodNotAllowed(
                        f"{path} answers {', '.join(methods)}, not {scope['method']}.",
                        allowed=methods,
                        details={"allowed": list(methods)},
                    )
                status, body = await handler(scope, receive)
                if path == "/metrics":
                    headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
            elif path.startswith(_MODELS):
                ref, rest = split_ref_path(path, _MODELS)
                entry = await self.pool.get(ref)
                await self._forward(entry, {**scope, "path": rest}, receive, send)
                return
            elif path.startswith(_V2_MODELS):
                entry, inner = await self._v2_target(path)
                await self._forward(entry, {**scope, "path": inner}, receive, send)
                return
            else:
                raise NotFound(
                    f"No route {path}. The routes are: {', '.join(sorted(self._routes))}, "
                    "/models/{model}/invocations (and /v1/predict, /v1/model, /metrics), "
                    "/v2/models/{model}[/versions/{v}][/ready|/infer], with {model} one of "
                    "NAME:VERSION, NAME@ALIAS or NAME (the latest).",
                    details={"path": path},
                )
        except ShipyardError as exc:
            status = exc.status_code
            body = v2_error_body(exc) if is_v2(path) else orjson.dumps(exc.to_dict(), default=str)
            if isinstance(exc, HTTPError):
                headers = [*headers, *exc.headers]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    *headers,
                    (b"x-request-id", uuid.uuid4().hex.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    async def _forward(
        self, entry: LoadedEntry, scope: Scope, receive: Receive, send: Send
    ) -> None:
        try:
            await entry.app(scope, receive, send)
        finally:
            await self.pool.done(entry)

    async def _v2_target(self, path: str) -> tuple[LoadedEntry, str]:
        """The loaded version a ``/v2/models/...`` path names, and the path its app answers:
        ``/v2/models/fraud/versions/3/infer`` -> fraud:3, ``/v2/models/fraud:3/infer``."""
        name, rest = split_ref_path(path, _V2_MODELS)
        ref, suffix = name, rest.rstrip("/")
        if rest.startswith("/versions/"):
            _, _, version, *tail = rest.split("/")
            if parse_model_ref(name).name != name:
                raise InvalidInput(
                    f"{path} names a version twice: give /v2/models/NAME/versions/N/... or "
                    f"/v2/models/{name}/... without /versions.",
                    details={"path": path},
                )
            ref, suffix = f"{name}:{version}", "/".join(["", *tail]).rstrip("/")
        entry = await self.pool.get(ref)
        return entry, f"{_V2_MODELS}{entry.key}{suffix}"

    async def _models(self, scope: Scope, receive: Any) -> tuple[int, bytes]:
        return 200, orjson.dumps(self.pool.describe())

    async def _metrics(self, scope: Scope, receive: Any) -> tuple[int, bytes]:
        return 200, generate_latest(self.metrics.registry) if self.metrics else b""


async def _static(body: bytes, scope: Scope, receive: Any) -> tuple[int, bytes]:
    return 200, body


def _read(handler: Handler) -> dict[str, Handler]:
    return {"GET": handler, "HEAD": handler}
