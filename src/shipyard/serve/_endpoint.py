"""The endpoint server: one ASGI app in front of an endpoint's variants.

Each scoring request (``POST /invocations``, ``POST /v1/predict``) goes to one variant,
picked by the variants' shares (or by a hash of the sticky key's value), and is answered by
that variant's :class:`~shipyard.serve._app.ShipyardServeApp`; the answer carries
``X-Shipyard-Variant`` and, in JSON, a ``variant`` field. A copy of the request then goes to
the shadow variant's queue (:mod:`._shadow`). ``/ping``, ``/metrics`` and ``/v1/endpoint``
are the endpoint's own; any other path is answered by the variant with the largest share.

A watcher thread reads the endpoint every ``endpoint_poll_seconds``: when its revision, or
a version an alias points at, changed, the new variants are loaded and warmed *before* the
routing is swapped for one that uses them (a single reference assignment, so a request
reads one routing from start to end), and the variants no longer used are closed once their
requests in flight have finished. No request fails during a switch. The watcher also moves a
baking roll-out along and rolls it back (:mod:`shipyard.deploy.rollout`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from time import perf_counter
from typing import Any

import anyio.to_thread
import orjson
from prometheus_client import CONTENT_TYPE_LATEST

from shipyard.capture import is_sampled
from shipyard.deploy import TrafficPlan, advance_rollout, plan_traffic
from shipyard.entities import Actor, Endpoint
from shipyard.environments import environment_project
from shipyard.project import Project
from shipyard.serve._endpoint_metrics import EndpointMetrics
from shipyard.serve._routing import Routing
from shipyard.serve._shadow import ShadowQueue
from shipyard.serve._variants import RolloutStats, VariantScorer, load_scorer

__all__ = ["EndpointApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("shipyard.serve")

_SCORING = frozenset({"/invocations", "/v1/predict"})
_JSON = [(b"content-type", b"application/json")]
_METRICS = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
_RETIRE_GRACE_SECONDS = 0.5  # a request that read the old routing has started by then
_RETRY_SECONDS = 30.0  # a plan that failed to load is tried again after this long
_SHADOW_CAPTURE = 100.0  # every copy the shadow scores is captured: that is what it is for


class EndpointApp:
    """Serve endpoint ``name`` of ``env`` from ``project`` (see the module docstring).

    Loads the current revision's variants at once; :meth:`start_watching` (called at ASGI
    start-up) starts the watcher, :meth:`close` (at shutdown) stops it, scores the shadow
    copies still queued and flushes every capture.

    Args:
        project: The open project (the environment's catalog is found from it).
        name: The endpoint's name.
        env: Its environment.
        clock: The time guardrails are judged at (tests inject one).
        poll_seconds: How often the watcher reads the endpoint (default: the setting).
        metrics: Whether to keep Prometheus metrics and answer /metrics.

    Raises:
        NotFound: No such endpoint, or a variant no longer resolves.
        InvalidInput: ``env`` is not an environment, or a variant cannot be warmed.
        IntegrityError: A bundle does not match its manifest.
    """

    def __init__(
        self,
        project: Project,
        name: str,
        *,
        env: str,
        clock: Callable[[], datetime] | None = None,
        poll_seconds: float | None = None,
        metrics: bool = True,
    ) -> None:
        self.project = project
        self.name = name
        self.env = env
        self.home = environment_project(project, env)
        settings = project.settings
        self.poll_seconds = poll_seconds or settings.endpoint_poll_seconds
        self._clock = clock or (lambda: datetime.now(UTC))
        self._max_body = settings.serve_max_body_bytes
        self.shadow_queue = ShadowQueue(settings.endpoint_shadow_queue)
        self._retired: list[tuple[VariantScorer, float]] = []
        self._failed: tuple[TrafficPlan, float] | None = None
        self._problem: str | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._closed = False
        try:
            self.endpoint, plan = plan_traffic(project, name, env=env)
            self._routing = self._build(plan)
        except BaseException:
            self.shadow_queue.close()
            raise
        self.metrics = (
            EndpointMetrics(self.shadow_queue, lambda: self._routing.plan.revision)
            if metrics
            else None
        )

    @property
    def routing(self) -> Routing:
        return self._routing

    # --- ASGI ------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            if path in _SCORING and scope["method"] == "POST":
                await self._score(scope, receive, send)
            elif path == "/ping" or path == "/v1/endpoint":
                await self._describe(scope, send)
            elif path == "/metrics" and self.metrics is not None:
                await _answer(scope, send, self.metrics.exposition(), _METRICS)
            else:
                await self._routing.primary.app(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _score(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = perf_counter()
        routing = self._routing
        body: bytes | None = None
        if routing.needs_body:
            body, receive = await _read_ahead(receive, self._max_body)
        lane, scorer = routing.pick(body)
        answer = _Answer(send, scorer)
        scorer.started += 1
        try:
            await scorer.app(scope, receive, answer)
        finally:
            scorer.finished += 1
        seconds = perf_counter() - start
        status = answer.status
        if self.metrics is not None:
            self.metrics.observe(scorer.variant, lane.arm, status, seconds)
        stats = routing.stats
        if stats is not None and lane.arm == "canary":
            wanted = answer.body if stats.wants_scores(scorer.version) else None
            stats.observe(scorer.version, status, seconds, wanted)
        shadow = routing.shadow
        if shadow is not None and body is not None and status == 200:
            request_id = scope["shipyard.request_id"].decode("latin-1")
            share = routing.plan.shadow.share if routing.plan.shadow else 0.0
            if is_sampled(request_id, share):
                self.shadow_queue.put(shadow, request_id, scope["path"], body, _media(scope))

    async def _describe(self, scope: Scope, send: Send) -> None:
        routing = self._routing
        if scope["path"] == "/ping":
            doc: dict[str, Any] = {
                "status": "ok",
                "endpoint": self.name,
                "env": self.env,
                "revision": routing.plan.revision,
            }
        else:
            doc = routing.describe()
            queue = self.shadow_queue
            doc["shadow_copies"] = {
                "scored": queue.scored,
                "dropped": queue.dropped,
                "failed": queue.failed,
                "waiting": queue.waiting,
            }
        await _answer(scope, send, orjson.dumps(doc), _JSON)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_watching()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await anyio.to_thread.run_sync(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- following the catalog -------------------------------------------------------------
    def start_watching(self) -> None:
        """Start the watcher thread (idempotent)."""
        if self._watcher is None and not self._closed:
            self._watcher = threading.Thread(
                target=self._watch, name=f"shipyard-endpoint-{self.name}", daemon=True
            )
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # the watcher must outlive a bad poll; the next one retries
                log.exception("Reading endpoint %s/%s failed.", self.env, self.name)

    def refresh(self) -> bool:
        """Read the endpoint once: switch to its current plan when that changed (the new
        variants loaded and warmed first), move a baking roll-out along, and close the
        variants retired whose requests have finished. True when the routing changed.

        A plan that cannot be served (a variant gone, a bundle that fails its manifest or
        its warm-up) is logged and skipped: the routing in force keeps serving.
        """
        try:
            endpoint, plan = plan_traffic(self.project, self.name, env=self.env)
        except Exception as exc:
            problem = str(exc)
            if problem != self._problem:  # said once, not at every poll
                log.warning("Endpoint %s/%s: keeping revision %d: %s", self.env, self.name,
                            self._routing.plan.revision, problem)  # fmt: skip
            self._problem = problem
            self._close_retired()
            return False
        self._problem = None
        changed = False
        if plan != self._routing.plan and not self._failed_lately(plan):
            try:
                routing = self._build(plan)
            except Exception as exc:
                log.error("Endpoint %s/%s revision %d cannot be served, keeping revision %d: "
                          "%s", self.env, self.name, plan.revision, self._routing.plan.revision,
                          exc)  # fmt: skip
                self._failed = (plan, time.monotonic())
            else:
                self._swap(routing)
                changed = True
        if plan == self._routing.plan:
            self.endpoint = endpoint
            if self._advance(endpoint):
                changed = self.refresh() or changed
        self._close_retired()
        return changed

    def _failed_lately(self, plan: TrafficPlan) -> bool:
        """Whether ``plan`` failed to load within the last :data:`_RETRY_SECONDS` (a bundle
        that fails its manifest is not read again every poll)."""
        failed = self._failed
        return (
            failed is not None
            and failed[0] == plan
            and (time.monotonic() - failed[1] < _RETRY_SECONDS)
        )

    def _advance(self, endpoint: Endpoint) -> bool:
        stats = self._routing.stats
        if endpoint.state.get("phase") != "baking" or stats is None:
            return False
        actor = Actor(self.project.actor.name, "serve")
        stepped = advance_rollout(
            self.project, endpoint, stats.snapshot(), self._clock(), actor=actor
        )
        if stepped is not None:
            log.info("Endpoint %s: %s to revision %d.", endpoint.ref, stepped.action,
                     stepped.revision)  # fmt: skip
        return stepped is not None

    def _build(self, plan: TrafficPlan) -> Routing:
        """A routing for ``plan``, reusing the scorers in force that serve the same version
        with the same capture, loading and warming the others."""
        current = getattr(self, "_routing", None)
        have = {s.key: s for s in current.scorers} if current is not None else {}
        made: dict[tuple[str, str, float], VariantScorer] = {}

        def scorer(lane: Any, capture: float) -> VariantScorer:
            key = (lane.variant, lane.version, capture)
            if key not in made:
                made[key] = have.get(key) or load_scorer(self.home, lane, capture)
            return made[key]

        try:
            lanes = tuple((lane, scorer(lane, plan.capture)) for lane in plan.lanes)
            shadow = scorer(plan.shadow, _SHADOW_CAPTURE) if plan.shadow else None
            stats = None
            if plan.rollout is not None:
                stats = current.stats if current is not None else None
                if stats is None or stats.rollout != plan.rollout:
                    stats = RolloutStats.for_lanes(self.project, self.env, plan.rollout, plan.lanes)
        except BaseException:
            for key, loaded in made.items():
                if key not in have:
                    loaded.close()
            raise
        return Routing(plan, lanes, shadow, stats)

    def _swap(self, routing: Routing) -> None:
        old, self._routing = self._routing, routing
        kept = {id(s) for s in routing.scorers}
        now = time.monotonic()
        self._retired += [(s, now) for s in old.scorers if id(s) not in kept]
        log.info("Endpoint %s/%s now serves revision %d: %s.", self.env, self.name,
                 routing.plan.revision, ", ".join(
                     f"{lane.variant}={lane.version} {lane.share:g}%"
                     for lane, _ in routing.lanes))  # fmt: skip

    def _close_retired(self, *, force: bool = False) -> None:
        now = time.monotonic()
        waiting = []
        for scorer, since in self._retired:
            if force or (now - since >= _RETIRE_GRACE_SECONDS and scorer.in_flight <= 0):
                scorer.close()
            else:
                waiting.append((scorer, since))
        self._retired = waiting

    def close(self) -> None:
        """Stop the watcher, score the shadow copies still queued, close every variant
        (their captures flushed). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(30)
        self.shadow_queue.close()
        for scorer in self._routing.scorers:
            scorer.close()
        self._close_retired(force=True)


class _Answer:
    """The ``send`` of a variant's answer: adds ``X-Shipyard-Variant``, and the ``variant``
    field to a JSON object answered with 200; keeps the status and body for the stats."""

    __slots__ = ("_scorer", "_send", "_start", "body", "status")

    def __init__(self, send: Send, scorer: VariantScorer) -> None:
        self._send = send
        self._scorer = scorer
        self._start: Message | None = None
        self.status = 500
        self.body = b""

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            self.status = message["status"]
            return
        start = self._start
        if kind == "http.response.body" and start is not None:
            self._start = None
            body = message.get("body", b"")
            scorer = self._scorer
            headers = [h for h in start["headers"] if h[0] != b"content-length"]
            if self.status == 200 and body[:1] == b"{" and not message.get("more_body"):
                body = scorer.prefix + (body[1:] if body[1:2] == b"}" else b"," + body[1:])
                message = {**message, "body": body}
            self.body = body
            headers.append((b"x-shipyard-variant", scorer.header))
            headers.append((b"content-length", str(len(body)).encode()))
            await self._send({**start, "headers": headers})
        await self._send(message)


async def _read_ahead(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """Read a request's body before it is routed (at most ``limit`` + 1 bytes), and a
    ``receive`` that hands the variant the same messages again, then the rest. The body is
    None when it was cut off (too large, or the client left): the variant refuses it."""
    messages: list[Message] = []
    size = 0
    whole = False
    while size <= limit:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            whole = True
            break
    body = b"".join(m.get("body", b"") for m in messages) if whole and size <= limit else None
    pending = iter(messages)

    async def replay() -> Message:
        for message in pending:
            return message
        return await receive()

    return body, replay


def _media(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value.split(b";", 1)[0].strip().lower())
    return b"application/json"


async def _answer(
    scope: Scope, send: Send, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    """A 200 answer (HEAD: its headers, no body)."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
