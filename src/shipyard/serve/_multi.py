"""Many model versions behind one server: SageMaker's Multi-Model Endpoint.

``/models/{ref}/invocations`` (and ``/v1/predict``, ``/v1/model``, ``/metrics``) and the
Open Inference Protocol's ``/v2/models/{ref}/...`` score with the version ``ref`` names
(``fraud:3``, ``fraud@prod``, ``fraud`` for the latest). A version loads on its first request
(verified by :func:`shipyard.registry.load_model`); concurrent first requests share one load.
Each loaded version is a :class:`ShipyardServeApp` of its own, so every route, limit, capture
and metric of the single-model server holds per model.

Versions are unloaded least recently used when more than ``max_models`` are loaded or their
footprints pass ``memory_cap``. A version's footprint is the size of its verified
``model.pkl``: deterministic and known before scoring, and close to what the unpickled
estimator holds (a LightGBM booster's trees, a forest's arrays; ``benchmarks/multimodel.py``
compares it with the RSS each load adds). The process's RSS growth around a load would be the
alternative, but loads run in parallel and the allocator reuses what an unload freed, so it
would count other models' memory or none at all. An unloaded app is closed (its capture
flushed) and emptied once the last request using it ends, so its memory goes back then.

``name:N`` refs resolve once; ``fraud@prod`` and ``fraud`` are looked up again after
``alias_ttl`` seconds, so a promotion is followed within that time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import psutil
from pydantic import ByteSize, TypeAdapter, ValidationError

from shipyard.catalog.refs import parse_model_ref
from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from shipyard.serve._app import ShipyardServeApp

__all__ = [
    "DEFAULT_ALIAS_TTL",
    "LoadedEntry",
    "ModelPool",
    "parse_memory_cap",
    "split_ref_path",
]

DEFAULT_ALIAS_TTL = 5.0
# Loads at once: each holds a bundle being unpickled, which the caps do not count yet.
_PARALLEL_LOADS = 2

Opener = Callable[[str], "tuple[ShipyardServeApp, int]"]
"""Loads ``name:version`` and makes its app; returns the app and its footprint in bytes."""
Resolver = Callable[[str], str]
"""``fraud@prod`` -> ``fraud:3``; raises NotFound."""

log = logging.getLogger("shipyard.serve")


def parse_memory_cap(value: int | str | None) -> int:
    """Bytes from ``2GB``, ``512MiB`` or a number; None: half of this machine's memory.

    Raises:
        InvalidInput: Not a size, or not positive.
    """
    if value is None:
        return int(psutil.virtual_memory().total // 2)
    try:
        size = int(TypeAdapter(ByteSize).validate_python(value))
    except ValidationError:
        size = 0
    if size <= 0:
        raise InvalidInput(
            "The 'memory_cap' parameter of serve must be a positive size such as 2GB, 512MB "
            f"or 1GiB. Got {value!r} instead.",
            details={"memory_cap": str(value)},
        )
    return size


@dataclass
class LoadedEntry:
    """A loaded model version: its app, footprint, and when it loaded and was last used."""

    key: str
    app: ShipyardServeApp
    size: int
    load_seconds: float
    loaded_at: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.time)
    requests: int = 0
    active: int = 0  # requests using it now
    retired: bool = False  # unloaded: no new request gets it
    released: bool = False  # closed and emptied, once the last request using it ended

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.key,
            "bytes": self.size,
            "load_seconds": round(self.load_seconds, 4),
            "loaded_at": _iso(self.loaded_at),
            "last_used": _iso(self.last_used),
            "requests": self.requests,
        }


class ModelPool:
    """The loaded versions, least recently used first; safe on one event loop.

    Args:
        opener: Loads a version and makes its app (runs in a worker thread).
        resolver: Turns a ref into ``name:version`` (runs in a worker thread).
        max_models: Most versions loaded at once (None: no count cap).
        memory_cap: Most bytes of footprint loaded at once; the version just loaded stays
            even when it alone is larger.
        alias_ttl: Seconds an alias or latest ref is trusted before it is looked up again.
        on_change: Called with ("load", seconds) or ("unload", 0.0), for metrics.
    """

    def __init__(
        self,
        opener: Opener,
        resolver: Resolver,
        *,
        max_models: int | None,
        memory_cap: int,
        alias_ttl: float = DEFAULT_ALIAS_TTL,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, float], None] | None = None,
    ) -> None:
        if max_models is not None and max_models < 1:
            raise InvalidInput(
                "The 'max_models' parameter of serve must be at least 1. "
                f"Got {max_models} instead.",
                details={"max_models": max_models},
            )
        self.max_models = max_models
        self.memory_cap = memory_cap
        self.alias_ttl = alias_ttl
        self._open = opener
        self._resolve = resolver
        self._clock = clock
        self.on_change = on_change
        self._models: OrderedDict[str, LoadedEntry] = OrderedDict()
        self._loading: dict[str, asyncio.Future[LoadedEntry]] = {}
        self._refs: dict[str, tuple[str, float]] = {}
        self._gate: asyncio.Semaphore | None = None

    @property
    def size(self) -> int:
        """Bytes of footprint loaded now."""
        return sum(entry.size for entry in self._models.values())

    def describe(self) -> dict[str, Any]:
        """What is loaded, most recently used first, and the caps."""
        return {
            "loaded": [entry.describe() for entry in reversed(list(self._models.values()))],
            "bytes": self.size,
            "max_models": self.max_models,
            "memory_cap_bytes": self.memory_cap,
        }

    def loaded(self, key: str) -> LoadedEntry | None:
        """The loaded version ``name:version``, or None when it is not loaded."""
        return self._models.get(key)

    async def get(self, ref: str) -> LoadedEntry:
        """The loaded version ``ref`` names, loading it (once) if it is not; the caller
        uses it, then hands it back with :meth:`done`.

        Raises:
            InvalidInput: ``ref`` is not a model reference.
            NotFound: No such model, version or alias.
            IntegrityError: The bundle does not match its manifest.
        """
        while True:
            key = await self.resolve(ref)
            entry = self._models.get(key)
            if entry is None:
                future = self._loading.get(key)
                if future is None:
                    future = asyncio.ensure_future(self._load(key))
                    self._loading[key] = future
                    future.add_done_callback(partial_pop(self._loading, key))
                # shielded: a client that leaves does not cancel the load the others wait for
                entry = await asyncio.shield(future)
            if not entry.retired:
                break
            # Other loads unloaded it while this request waited: load it again.
        self._models.move_to_end(key)
        entry.active += 1
        entry.last_used = time.time()
        entry.requests += 1
        return entry

    async def done(self, entry: LoadedEntry) -> None:
        """Hand back a version :meth:`get` gave; an unloaded one is released with its last
        request."""
        entry.active -= 1
        if entry.retired and entry.active == 0:
            await _release(entry)

    async def resolve(self, ref: str) -> str:
        """``name:version`` for ``ref``, from the cache while it is fresh.

        Raises:
            InvalidInput: ``ref`` is not a model reference.
            NotFound: No such model, version or alias.
        """
        now = self._clock()
        hit = self._refs.get(ref)
        if hit is not None and hit[1] > now:
            return hit[0]
        parsed = parse_model_ref(ref)
        if parsed.version is not None and parsed.alias is None:
            key = f"{parsed.name}:{parsed.version}"
            if key in self._models:
                return key
        key = await anyio.to_thread.run_sync(self._resolve, ref)
        pinned = parsed.version is not None
        self._refs[ref] = (key, math.inf if pinned else now + self.alias_ttl)
        return key

    async def close(self) -> None:
        """Unload everything (flushing captures); versions in use go with their last request."""
        entries = list(self._models.values())
        self._models.clear()
        for entry in entries:
            entry.retired = True
            if entry.active == 0:
                await _release(entry)

    async def _load(self, key: str) -> LoadedEntry:
        if self._gate is None:
            self._gate = asyncio.Semaphore(_PARALLEL_LOADS)
        async with self._gate:
            start = time.perf_counter()
            app, size = await anyio.to_thread.run_sync(self._open, key)
            seconds = time.perf_counter() - start
        entry = LoadedEntry(key, app, size, seconds)
        self._models[key] = entry
        log.info("Loaded %s (%d bytes) in %.3f s.", key, size, seconds)
        if self.on_change is not None:
            self.on_change("load", seconds)
        for victim in self._over_caps(key):
            if victim.active == 0:  # else its last request releases it
                await _release(victim)
        return entry

    def _over_caps(self, keep: str) -> list[LoadedEntry]:
        """Take the least recently used versions out until the caps hold (never ``keep``)."""
        victims: list[LoadedEntry] = []
        total = self.size
        for key in list(self._models):
            count_ok = self.max_models is None or len(self._models) <= self.max_models
            if count_ok and total <= self.memory_cap:
                break
            if key == keep:
                continue
            entry = self._models.pop(key)
            entry.retired = True
            total -= entry.size
            victims.append(entry)
            log.info("Unloading %s (least recently used, %d bytes).", key, entry.size)
            if self.on_change is not None:
                self.on_change("unload", 0.0)
        return victims


def partial_pop(table: dict[str, Any], key: str) -> Callable[[Any], None]:
    """A done-callback that forgets ``key``'s load and keeps its exception from being
    reported as never retrieved when every waiter left."""

    def done(future: asyncio.Future[Any]) -> None:
        table.pop(key, None)
        if not future.cancelled():
            future.exception()

    return done


async def _release(entry: LoadedEntry) -> None:
    """Close an unloaded version's app (flushing its capture) and empty it.

    Emptying drops what the app holds, its route table among them, whose bound methods make
    a reference cycle: without it, only a full collection would free the model, and one walks
    every object of the process (half a second with the model libraries loaded). The models
    themselves hold no cycles, so their memory goes back as the last reference drops.
    """
    if entry.released:
        return
    entry.released = True
    app = entry.app
    try:
        await anyio.to_thread.run_sync(app.close)
    except Exception:
        log.exception("Closing %s failed; it is unloaded all the same.", entry.key)
    vars(app).clear()


def split_ref_path(path: str, prefix: str) -> tuple[str, str]:
    """``/models/fraud:3/invocations`` -> (``fraud:3``, ``/invocations``).

    Raises:
        NotFound: Nothing after the prefix.
    """
    ref, _, rest = path[len(prefix) :].partition("/")
    if not ref:
        raise NotFound(
            f"No model in {path}. Give one: {prefix}NAME:VERSION/..., {prefix}NAME@ALIAS/... "
            f"or {prefix}NAME/... (the latest).",
            details={"path": path},
        )
    return ref, "/" + rest


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds")
