"""The inference server as a raw ASGI app: routing, body limits, scoring, responses.

Why raw ASGI rather than FastAPI or Starlette routing: a single-row request costs about
0.05 ms of model time, so every microsecond of framework work shows. This app does one dict
lookup to route, reads headers once, decodes with orjson, and answers with bytes and header
lists built at start-up (``benchmarks/serve.py`` measures the difference).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from time import perf_counter
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
from prometheus_client import CONTENT_TYPE_LATEST

from shipyard.capture import JsonRows
from shipyard.entities import to_json
from shipyard.errors import InvalidInput, NotFound, ShipyardError
from shipyard.registry import LoadedModel
from shipyard.serve._body import INLINE_BYTES, THREADED_ROWS, read_body
from shipyard.serve._errors import (
    HTTPError,
    MethodNotAllowed,
    PayloadTooLarge,
)
from shipyard.serve._explain import explain_top
from shipyard.serve._features import (
    ONLINE_ROUTE,
    PUSH_ROUTE,
    FeatureRoutes,
    entity_extras,
    entity_request,
    flags,
    push_group,
)
from shipyard.serve._metrics import ServeMetrics
from shipyard.serve._openapi import openapi_document
from shipyard.serve._parse import (
    Rows,
    check_count,
    load_json,
    rows_from_csv,
    rows_from_invocation,
    rows_from_predict,
)
from shipyard.serve._v2 import V2Routes, is_v2, v2_error_body

if TYPE_CHECKING:
    from shipyard.capture import CaptureWriter, RowSource
    from shipyard.features import EntityScorer, EventLogWriter
    from shipyard.model import Predictions
    from shipyard.project import Project

__all__ = ["ShipyardServeApp", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("shipyard.serve")

# At top=100, 10,000 rows of the demo model took 11-16 s of CPU to explain and 30 MB to send.
DEFAULT_MAX_EXPLAIN_ROWS = 100
_EXPLAINED = ("space", "base", "raw_score", "contributions", "explained_by", "exact")

_JSON = b"application/json"
_CSV = b"text/csv"

_REQUEST_ID = b"x-request-id"
_MAX_REQUEST_ID = 200
_VALID_ID = re.compile(rb"[\x21-\x7e]{1,%d}" % _MAX_REQUEST_ID)
_METRICS = "/metrics"
# What the app leaves in the ASGI scope for the handlers of one request.
_ID_KEY = "shipyard.request_id"
_START_KEY = "shipyard.start"


class ShipyardServeApp:
    """An ASGI app serving one loaded model. Stateless between requests (but for metrics
    and the capture buffer); safe to share. :meth:`close` flushes the capture."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        max_body_bytes: int,
        max_rows: int,
        max_explain_rows: int = DEFAULT_MAX_EXPLAIN_ROWS,
        capture: CaptureWriter | None = None,
        metrics: bool = True,
        project: Project | None = None,
    ) -> None:
        if min(max_body_bytes, max_rows, max_explain_rows) <= 0:
            raise InvalidInput(
                "max_body_bytes, max_rows and max_explain_rows must be positive. "
                f"Got {max_body_bytes}, {max_rows} and {max_explain_rows} instead."
            )
        self.loaded = loaded
        self.max_body_bytes = max_body_bytes
        self.max_rows = max_rows
        self.max_explain_rows = max_explain_rows
        self.capture = capture
        self.metrics = ServeMetrics(loaded, capture) if metrics else None
        model = loaded.model
        signature = model.signature
        self._predict = model.predict_records
        self._specs = tuple((c["name"], c["type"]) for c in signature["inputs"])
        self._names = tuple(name for name, _ in self._specs)
        self._problem = signature["problem_type"]
        ref = loaded.version.ref
        self._ref = ref
        self._family = model.family.name
        self._headers = [(b"content-type", _JSON), (b"x-shipyard-model", ref.encode())]
        info = {
            "name": loaded.version.name,
            "version": loaded.version.version,
            "ref": ref,
            "problem_type": self._problem,
            "signature": signature,
            "metrics": loaded.version.metrics,
            "aliases": list(loaded.version.aliases),
            "created_at": to_json(loaded.version.created_at),
        }
        read = {"GET": self._get, "HEAD": self._get}
        self._routes: dict[str, dict[str, Any]] = {
            "/ping": read,
            "/v1/model": read,
            "/openapi.json": read,
            "/invocations": {"POST": self._invocations},
            "/v1/predict": {"POST": self._v1_predict},
        }
        self._v2 = V2Routes(self)
        self._routes.update(self._v2.routes())
        self._set_up_features(project, info)
        if self.metrics is not None:
            self._routes[_METRICS] = {"GET": self._metrics, "HEAD": self._metrics}
        self._metrics_headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def _set_up_features(self, project: Project | None, info: dict[str, Any]) -> None:
        """With a project: the feature routes, and scoring by entity for a model trained on
        a feature-store training set (its lineage names the groups it reads)."""
        from shipyard.features import EventLogWriter, entity_scorer

        self.scorer: EntityScorer | None = None
        self._feature_log: EventLogWriter | None = None
        self._features: FeatureRoutes | None = None
        if project is not None:
            self._feature_log = EventLogWriter(project)
            self.scorer = entity_scorer(project, self.loaded.version.lineage, log=self._feature_log)
            self._features = FeatureRoutes(project, self._feature_log)
            self._routes[ONLINE_ROUTE] = {"POST": self._online}
            self._routes[PUSH_ROUTE] = {"POST": self._push}
        contract = None if self.scorer is None else self.scorer.describe()
        info["entity_scoring"] = contract
        document = openapi_document(
            self.loaded.version, self.loaded.model.signature, entity=contract,
            feature_routes=project is not None, v2_names=self._v2.names,
        )  # fmt: skip
        self._static = {
            "/ping": orjson.dumps({"status": "ok", "model": self._ref}),
            "/v1/model": orjson.dumps(info, option=orjson.OPT_NON_STR_KEYS),
            "/openapi.json": orjson.dumps(document),
        }

    def close(self) -> None:
        """Write what the capture and the feature log buffer, stop their threads
        (idempotent)."""
        if self.capture is not None:
            self.capture.close()
        if self._feature_log is not None:
            self._feature_log.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await anyio.to_thread.run_sync(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = perf_counter()
        path = scope["path"]
        headers = self._headers
        error: str | None = None
        given = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                given = value
                break
        if given is not None and _VALID_ID.fullmatch(given):
            request_id = given
        else:
            request_id = uuid.uuid4().hex.encode()
        try:
            if given is not None and request_id is not given:
                raise _bad_request_id(given)
            scope[_ID_KEY] = request_id
            scope[_START_KEY] = start
            methods = self._routes.get(path)
            if methods is None and self._features is not None and push_group(path):
                path = PUSH_ROUTE
                methods = self._routes[path]
            if methods is None:
                raise self._no_route(path)
            handler = methods.get(scope["method"])
            if handler is None:
                raise MethodNotAllowed(
                    f"{path} answers {', '.join(methods)}, not {scope['method']}.",
                    allowed=methods,
                    details={"allowed": list(methods)},
                )
            status, body = await handler(scope, receive)
            if path == _METRICS:
                headers = self._metrics_headers
        except ShipyardError as exc:
            status = exc.status_code
            body = v2_error_body(exc) if is_v2(path) else orjson.dumps(exc.to_dict(), default=str)
            error = type(exc).__name__
            if isinstance(exc, HTTPError):
                headers = [*headers, *exc.headers]
        except Exception:
            log.exception("Unexpected failure serving %s %s", scope["method"], path)
            status, body, error = 500, _INTERNAL, "InternalError"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    *headers,
                    (b"x-request-id", request_id),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        # HEAD: the headers GET would send (Content-Length included) and no body.
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
        if self.metrics is not None:
            route = path if path in self._routes else "other"
            self.metrics.observe(route, status, perf_counter() - start, error)

    def _no_route(self, path: str) -> NotFound:
        if is_v2(path):
            return self._v2.no_route(path)
        listed = sorted(p for p in self._routes if not p.startswith("/v2/models/"))
        return NotFound(
            f"No route {path}. The routes are: {', '.join(listed)}, /v2/models/{{name}}/...",
            details={"path": path},
        )

    async def _get(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        return 200, self._static[scope["path"]]

    async def _metrics(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        return 200, self.metrics.exposition() if self.metrics is not None else b""

    async def _v1_predict(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        top = self._explain_top(scope["query_string"]) if scope["query_string"] else 0
        body, media = await self._body(scope, receive, (_JSON,))
        if self.scorer is not None:
            scored = await self._by_entity(scope, body, top)
            if scored is not None:
                return scored
        if top:
            return await self._score(scope, body, media, self._parse_predict, explain=top)
        return await self._score(scope, body, media, self._parse_predict)

    def _explain_top(self, query: bytes) -> int:
        """How many contributions ``?explain=true[&top=N]`` asks for per row (0: none)."""
        return explain_top(query, self.loaded.model.can_explain, self._family, self._ref)

    async def _invocations(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        body, media = await self._body(scope, receive, (_JSON, _CSV))
        if self.scorer is not None and media == _JSON:
            scored = await self._by_entity(scope, body, 0)
            if scored is not None:
                return scored
        return await self._score(scope, body, media, self._parse_invocation)

    async def _score(
        self,
        scope: Scope,
        body: bytes,
        media: bytes,
        parse: Callable[[bytes, bytes], tuple[Rows, str | None]],
        explain: int = 0,
    ) -> tuple[int, bytes]:
        if len(body) <= INLINE_BYTES:
            rows, key = parse(body, media)
            out, result = self._respond(rows, explain)
        else:

            def work() -> tuple[Rows, str | None, bytes, Predictions]:
                parsed, key = parse(body, media)
                return (parsed, key, *self._respond(parsed, explain))

            rows, key, out, result = await anyio.to_thread.run_sync(work)
        source: RowSource = ()  # what the capture needs, made only when there is one
        if self.capture is not None:
            source = JsonRows(body, key) if key else partial(_rows_only, parse, body, media)
        self._record(scope, len(rows), result, source)
        return 200, out

    def _record(self, scope: Scope, n: int, result: Predictions, rows: RowSource) -> None:
        """Feed the score histogram and the capture buffer; neither does any I/O here.

        The capture gets the body to parse on its own thread rather than the parsed rows:
        thousands of buffered dicts would make every garbage collection slower. A JSON body
        whose rows sit under one key goes as it is (the writer reads a flush's bodies in
        one go); the decisions' labels are made there too.
        """
        if self.metrics is not None:
            self.metrics.scores.observe_many(result.scores)
        capture = self.capture
        if capture is not None:
            request_id = scope[_ID_KEY].decode("latin-1")
            if capture.sampled(request_id):
                latency_ms = (perf_counter() - scope[_START_KEY]) * 1e3
                capture.add(request_id, rows, result.scores, result.labels, latency_ms, count=n)

    async def _by_entity(self, scope: Scope, body: bytes, top: int) -> tuple[int, bytes] | None:
        """Score an entity request (None: the body is not one): look the features up, apply
        the events first when asked, score the rows they make."""
        scorer = self.scorer
        if scorer is None:
            return None
        doc = load_json(body)
        entities = entity_request(doc, scorer.keys)
        if entities is None:
            return None
        options = flags(scope["query_string"], doc, ("apply", "features"))
        at = doc.get("at")

        def work() -> tuple[bytes, Predictions, Rows]:
            check_count(entities, self.max_rows)
            lookup = scorer.lookup(entities, apply=options["apply"], at=at)
            extra = entity_extras(lookup, features=options["features"])
            rows: Rows = list(lookup.rows)
            return (*self._respond(rows, top, extra), rows)

        if len(body) <= INLINE_BYTES:
            out, result, rows = work()
        else:
            out, result, rows = await anyio.to_thread.run_sync(work)
        self._record(scope, len(rows), result, rows)
        return 200, out

    async def _online(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        body, _ = await self._body(scope, receive, (_JSON,))
        routes = self._features
        if routes is None:  # the route exists only with them
            raise NotFound(f"No route {scope['path']}.")
        answer = await anyio.to_thread.run_sync(routes.online, load_json(body))
        return 200, orjson.dumps(answer, default=str)

    async def _push(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        group = push_group(scope["path"])
        routes = self._features
        if routes is None or group is None:  # routed only then
            raise NotFound(f"No route {scope['path']}.")
        body, _ = await self._body(scope, receive, (_JSON,))
        answer = await anyio.to_thread.run_sync(routes.push, group, load_json(body))
        return 200, orjson.dumps(answer)

    def _parse_predict(self, body: bytes, media: bytes) -> tuple[Rows, str | None]:
        """The rows, and the key they sit under in the body (for the capture)."""
        return rows_from_predict(load_json(body)), "rows"

    def _parse_invocation(self, body: bytes, media: bytes) -> tuple[Rows, str | None]:
        if media == _CSV:
            return rows_from_csv(body, self._specs), None
        doc = load_json(body)
        rows = rows_from_invocation(doc, self._names)
        if isinstance(doc, dict):  # the body's own list of objects, not rows built from it
            for key in ("instances", "rows", "dataframe_records", "inputs"):
                if doc.get(key) is rows:
                    return rows, key
        return rows, None

    def _respond(
        self, rows: Rows, explain: int = 0, extra: dict[str, Any] | None = None
    ) -> tuple[bytes, Predictions]:
        check_count(rows, self.max_rows)
        n = len(rows)
        if explain and n > self.max_explain_rows:
            raise PayloadTooLarge(
                f"The request asks to explain {n:,} rows; this server explains at most "
                f"{self.max_explain_rows:,} per request (SHIPYARD_SERVE_MAX_EXPLAIN_ROWS). Send "
                "fewer rows with explain=true, or drop it to score them all.",
                details={"rows": n, "max_explain_rows": self.max_explain_rows},
            )
        result = self._predict(rows, threads=1 if n < THREADED_ROWS else 0)
        predictions = result.to_records()
        if explain:
            explained = self.loaded.model.explain_records(rows, top=explain)
            for prediction, item in zip(predictions, explained, strict=True):
                prediction["explanation"] = {k: v for k, v in item.items() if k in _EXPLAINED}
        answer = {"model": self._ref, "predictions": predictions, "unseen": result.unseen}
        if extra:
            answer.update(extra)
        out = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY, default=str)
        return out, result

    async def _body(
        self, scope: Scope, receive: Receive, accepted: tuple[bytes, ...]
    ) -> tuple[bytes, bytes]:
        """The request body and its media type, refusing wrong types and oversize bodies."""
        return await read_body(scope, receive, accepted, self.max_body_bytes)


def create_app(
    loaded: LoadedModel,
    *,
    max_body_bytes: int,
    max_rows: int,
    max_explain_rows: int = DEFAULT_MAX_EXPLAIN_ROWS,
    capture: CaptureWriter | None = None,
    metrics: bool = True,
    project: Project | None = None,
) -> ShipyardServeApp:
    """The ASGI app that serves ``loaded``: /ping, /invocations (SageMaker's bodies and
    MLflow's), /v1/predict, /v1/model, the Open Inference Protocol's /v2/... (see ``_v2``),
    /openapi.json and (with ``metrics``) Prometheus' /metrics.

    Every response carries ``X-Request-Id``: the caller's, or a generated one.

    Args:
        loaded: The verified model version to serve (from :func:`shipyard.registry.load_model`).
        max_body_bytes: Largest request body accepted; larger ones get a 413.
        max_rows: Most rows one request may carry; more get a 413.
        max_explain_rows: Most rows one ``?explain=true`` request may carry; more get a 413.
        capture: Where scored requests are captured (its percentage samples them); the app
            closes it on shutdown.
        metrics: Whether to keep Prometheus metrics and answer /metrics.
        project: The project whose feature store the server reads: it adds
            ``POST /v1/features/online`` and ``POST /v1/features/{group}/push``, and a model
            trained on a feature-store training set then scores by entity on /v1/predict and
            /invocations (``{key: value, "event": {...}}`` or ``{"entities": [...]}``).
    """
    return ShipyardServeApp(
        loaded,
        max_body_bytes=max_body_bytes,
        max_rows=max_rows,
        max_explain_rows=max_explain_rows,
        capture=capture,
        metrics=metrics,
        project=project,
    )


def _rows_only(
    parse: Callable[[bytes, bytes], tuple[Rows, str | None]], body: bytes, media: bytes
) -> Rows:
    return parse(body, media)[0]


def _bad_request_id(value: bytes) -> InvalidInput:
    """The error for an ``X-Request-Id`` that is not 1-200 visible ASCII characters."""
    shown = value[:60].decode("latin-1")
    return InvalidInput(
        f"The X-Request-Id header must be 1 to {_MAX_REQUEST_ID} visible ASCII characters "
        f"(no spaces). Got {shown!r}{'...' if len(value) > 60 else ''} ({len(value)} bytes). "
        "Send another id, or none to have one generated.",
        details={"header": "X-Request-Id"},
    )


_INTERNAL = orjson.dumps(
    {
        "error": "InternalError",
        "message": "The server failed to score this request; the server log has the cause.",
        "details": {},
    }
)
