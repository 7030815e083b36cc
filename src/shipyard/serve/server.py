"""Run the inference server: load a model version once and serve it with uvicorn."""

from __future__ import annotations

import errno
import gc
import logging
import socket
import subprocess
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from shipyard.errors import BackendUnavailable, Conflict, InvalidInput, NotFound, ShipyardError
from shipyard.project import Project
from shipyard.registry import MODEL_FILE, LoadedModel, load_model, resolve_model
from shipyard.serve._app import ShipyardServeApp, create_app
from shipyard.serve._auth import check_auth_mode, guard, protect, watch
from shipyard.serve._multi import DEFAULT_ALIAS_TTL

if TYPE_CHECKING:
    from shipyard.capture import CaptureWriter
    from shipyard.serve._multi_app import MultiModelApp

__all__ = [
    "bind_socket",
    "check_capture",
    "check_port",
    "create_multi_app",
    "find_free_port",
    "serve_model",
    "serve_models",
    "wait_until_ready",
]

_MAX_PORT = 65_535

log = logging.getLogger("shipyard.serve")


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_ready(process: subprocess.Popen[bytes], url: str, *, timeout: float = 60.0) -> None:
    """Block until a server started as ``process`` answers ``GET url`` with 200.

    Raises:
        BackendUnavailable: The process exited first (with the end of its output), or the
            server did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stream = process.stderr or process.stdout
            output = stream.read().decode(errors="replace") if stream else ""
            raise BackendUnavailable(f"The inference server exited early: {output[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise BackendUnavailable(f"The inference server did not answer {url} within {timeout:.0f} s.")


def check_port(port: int) -> None:
    """Refuse a TCP port outside 0-65535 (0 asks the system for a free one).

    Raises:
        InvalidInput: ``port`` is out of range.
    """
    if not 0 <= port <= _MAX_PORT:
        raise InvalidInput(
            f"The 'port' parameter of serve must be from 1 to {_MAX_PORT}, or 0 for any free "
            f"port. Got {port} instead.",
            details={"port": port},
        )


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``port`` 0: a free one) for uvicorn to listen on.

    Raises:
        InvalidInput: ``port`` is out of range, ``host`` is not an address of this machine,
            or the port needs privileges this process lacks.
        Conflict: Another process already listens on the port.
    """
    check_port(port)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError) as exc:
        raise InvalidInput(
            f"Cannot listen on host {host!r} ({exc}). Give a name or address of this machine, "
            "such as 127.0.0.1 or 0.0.0.0.",
            details={"host": host},
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        # Like uvicorn: a restart may reuse a port whose old connections are in TIME_WAIT
        # (a port someone listens on still fails with EADDRINUSE).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise _bind_error(exc, host, port) from None
    return sock


def _bind_error(exc: OSError, host: str, port: int) -> ShipyardError:
    details = {"host": host, "port": port}
    if exc.errno == errno.EADDRINUSE:
        return Conflict(
            f"Port {port} on {host} is already in use by another process. Stop that process, "
            "or choose another port with --port (0 picks a free one).",
            details=details,
        )
    if exc.errno == errno.EACCES:
        return InvalidInput(
            f"This process may not listen on port {port} of {host}: ports below 1024 need "
            "administrator rights. Choose a port from 1024 to 65535.",
            details=details,
        )
    return InvalidInput(
        f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Check that {host} is an "
        "address of this machine.",
        details=details,
    )


def serve_model(
    project: Project,
    ref: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
    capture: float | None = None,
    auth: str = "none",
) -> None:
    """Serve the model version ``ref`` (``fraud@prod``, ``fraud:3``) until interrupted.

    Checks the port, loads and verifies the bundle once, binds the port, records a
    ``serve.start`` audit event, then runs uvicorn in this process (uvloop and httptools when
    installed). Blocks until Ctrl-C or SIGTERM, which uvicorn turns into a graceful shutdown;
    the shutdown writes what the capture buffers.

    Args:
        project: The open project holding the model.
        ref: The model version to serve.
        host: Address to listen on.
        port: Port to listen on; 0 picks a free one.
        log_level: uvicorn's log level.
        on_ready: Called with the server's URL once it accepts requests.
        capture: Percentage of requests captured, 0-100 (default: the ``serve_capture``
            setting); captures go to ``captures/<model>/`` in the artifact store.
        auth: ``required`` (bearer tokens, see ``serve/_auth.py``) or ``none``.

    Raises:
        InvalidInput: The port is out of range or cannot be listened on, or ``capture`` is
            not from 0 to 100.
        NotFound: No such model, version or alias.
        IntegrityError: The bundle does not match its manifest.
        Conflict: Another process listens on the port.
    """
    check_port(port)
    settings = project.settings
    percent = settings.serve_capture if capture is None else capture
    check_capture(percent)
    loaded = load_model(project, ref)
    writer = _capture_writer(project, loaded, percent) if percent > 0 else None
    try:
        app = create_app(
            loaded,
            max_body_bytes=settings.serve_max_body_bytes,
            max_rows=settings.serve_max_rows,
            max_explain_rows=settings.serve_max_explain_rows,
            capture=writer,
            metrics=settings.serve_metrics,
            project=project,
        )
        served = protect(app, project, ref, auth)
        details = {"ref": ref, "host": host, "capture": percent, "auth": auth}
        _run(project, served, loaded.version.ref, details, host, port, log_level, on_ready)
    finally:
        if writer is not None:
            writer.close()  # uvicorn's lifespan shutdown did it, unless start-up failed


def serve_models(
    project: Project,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    max_models: int | None = None,
    memory_cap: int | str | None = None,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
    capture: float | None = None,
    auth: str = "none",
    alias_ttl: float = DEFAULT_ALIAS_TTL,
) -> None:
    """Serve every model version of the project (SageMaker's Multi-Model Endpoint) until
    interrupted: ``/models/{ref}/invocations`` and the other routes of :func:`serve_model`
    per version, ``/v2/models/{ref}/...``, and ``GET /models`` (what is loaded).

    Versions load on first use and are unloaded least recently used past ``max_models`` or
    ``memory_cap`` (see :mod:`shipyard.serve._multi`). Records a ``serve.start`` audit event.

    Args:
        max_models: Most versions loaded at once (None: no count cap).
        memory_cap: Most bytes of models loaded at once: a number or a size such as ``2GB``
            (None: half of this machine's memory).
        alias_ttl: Seconds before ``fraud@prod`` or ``fraud`` is looked up again.
        capture, auth, host, port, log_level, on_ready: As for :func:`serve_model`.

    Raises:
        InvalidInput: A bad port, capture percentage, ``max_models`` or ``memory_cap``.
        Conflict: Another process listens on the port.
    """
    check_port(port)
    check_auth_mode(auth)
    settings = project.settings
    percent = settings.serve_capture if capture is None else capture
    check_capture(percent)
    app = create_multi_app(
        project, max_models=max_models, memory_cap=memory_cap, capture=percent, alias_ttl=alias_ttl
    )
    cap = app.pool.memory_cap
    watched = watch(app, project)
    served = guard(watched, project, settings.env) if auth == "required" else watched
    details = {
        "multi": True,
        "host": host,
        "capture": percent,
        "auth": auth,
        "max_models": max_models,
        "memory_cap": cap,
    }
    _run(project, served, "*", details, host, port, log_level, on_ready)


def create_multi_app(
    project: Project,
    *,
    max_models: int | None = None,
    memory_cap: int | str | None = None,
    capture: float = 0.0,
    alias_ttl: float = DEFAULT_ALIAS_TTL,
) -> MultiModelApp:
    """The ASGI app of :func:`serve_models`: every version of ``project``, loaded on use.

    Raises:
        InvalidInput: A bad capture percentage, ``max_models`` or ``memory_cap``.
    """
    from shipyard.serve._multi import ModelPool, parse_memory_cap
    from shipyard.serve._multi_app import MultiModelApp

    check_capture(capture)
    settings = project.settings

    def open_version(key: str) -> tuple[ShipyardServeApp, int]:
        loaded = load_model(project, key)
        writer = _capture_writer(project, loaded, capture) if capture > 0 else None
        app = create_app(
            loaded,
            max_body_bytes=settings.serve_max_body_bytes,
            max_rows=settings.serve_max_rows,
            max_explain_rows=settings.serve_max_explain_rows,
            capture=writer,
            metrics=settings.serve_metrics,
        )
        return app, (loaded.path / MODEL_FILE).stat().st_size

    pool = ModelPool(
        open_version,
        lambda ref: resolve_model(project, ref).ref,
        max_models=max_models,
        memory_cap=parse_memory_cap(memory_cap),
        alias_ttl=alias_ttl,
    )
    return MultiModelApp(pool, metrics=settings.serve_metrics)


def check_capture(percent: object) -> None:
    """Refuse a capture percentage outside 0-100.

    Raises:
        InvalidInput: ``percent`` is not a number from 0 to 100.
    """
    ok = isinstance(percent, int | float) and not isinstance(percent, bool)
    if not ok or not 0 <= percent <= 100:  # type: ignore[operator]
        raise InvalidInput(
            "The 'capture' parameter of serve must be a percentage from 0 to 100 (0: off). "
            f"Got {percent!r} instead.",
            details={"capture": percent},
        )


def _capture_writer(
    project: Project, loaded: LoadedModel, percent: float, *, variant: str | None = None
) -> CaptureWriter:
    """A writer of ``loaded``'s captures into the project's artifact store, sized by the
    ``capture_*`` settings; the inputs its training dataset or signature tag as personal
    data are hashed or masked as ``capture_pii`` says. ``variant``: the endpoint variant
    the rows are tagged with."""
    from shipyard.capture import CaptureWriter, capture_privacy
    from shipyard.security.pii import column_hash_key, pii_columns

    version = loaded.version
    signature = loaded.model.signature
    dataset = (version.lineage or {}).get("dataset")
    tagged: dict[str, str] = {}
    if dataset:
        try:
            tagged = pii_columns(project, dataset)
        except NotFound:  # deleted since: the signature's own tags still hold
            log.warning(
                "The training dataset %s of %s is gone; captures protect only the columns "
                "its signature tags as personal data.",
                dataset,
                version.ref,
            )
    privacy = capture_privacy(
        signature,
        tagged=tagged,
        policy=project.settings.capture_pii,
        hash_key=partial(column_hash_key, project),
    )
    return CaptureWriter.from_settings(
        project.artifacts,
        project.settings,
        version.name,
        version.version,
        signature,
        percent=percent,
        variant=variant,
        mask=privacy.masked,
        hashed=privacy.hashed,
    )


def _run(
    project: Project,
    app: Any,
    served: str,
    details: dict[str, Any],
    host: str,
    port: int,
    log_level: str,
    on_ready: Callable[[str], None] | None,
    *,
    object_type: str = "model",
) -> None:
    """Bind, audit ``serve.start`` of ``served`` (a ``model`` or an ``endpoint``), run
    uvicorn until it has drained and stopped, then audit ``serve.stop``."""
    from shipyard.serve._uvicorn import ReadyServer, uvicorn_config

    settings = project.settings
    sock = bind_socket(host, port)
    port = int(sock.getsockname()[1])
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    details = {**details, "port": port}
    project.catalog.record_event(
        "serve.start", object_type, served, actor=project.actor, details=details
    )
    started = time.monotonic()
    config = uvicorn_config(
        app,
        head_timeout=settings.serve_header_timeout,
        body_timeout=settings.serve_body_timeout,
        log_level=log_level,
    )
    stopped: list[bool] = []

    def stop() -> None:
        if not stopped:
            stopped.append(True)
            _audit_stop(project, object_type, served, details, time.monotonic() - started)

    server = ReadyServer(config, (lambda: on_ready(url)) if on_ready else None, stop)
    # The model, pandas and LightGBM make a large heap that never dies; freezing it keeps the
    # collector from walking it again and again, which shows as latency spikes at p99.
    gc.collect()
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        # Frozen objects are never collected at exit, so DuckDB's nanobind bindings would
        # report each still-alive object as "leaked" on stderr.
        gc.unfreeze()
        sock.close()
        stop()  # when uvicorn stopped before its shutdown (a failed start-up)


def _audit_stop(
    project: Project, object_type: str, served: str, details: dict[str, Any], seconds: float
) -> None:
    """Record ``serve.stop``; a catalog gone by then is logged, never raised over the exit."""
    try:
        project.catalog.record_event(
            "serve.stop",
            object_type,
            served,
            actor=project.actor,
            details={**details, "seconds": round(seconds, 1)},
        )
    except ShipyardError as exc:
        log.warning("Could not record serve.stop for %s: %s", served, exc.message)
