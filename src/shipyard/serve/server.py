"""Run the inference server: load a model version once and serve it with uvicorn."""

from __future__ import annotations

import gc
import importlib.util
import socket
import subprocess
import time

import httpx

from shipyard.errors import BackendUnavailable
from shipyard.project import Project
from shipyard.registry import load_model
from shipyard.serve._app import create_app

__all__ = ["find_free_port", "serve_model"]


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


def serve_model(
    project: Project,
    ref: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    log_level: str = "warning",
) -> None:
    """Serve the model version ``ref`` (``fraud@prod``, ``fraud:3``) until interrupted.

    Loads and verifies the bundle once, records a ``serve.start`` audit event, then runs
    uvicorn in this process (uvloop and httptools when installed). Blocks until Ctrl-C or
    SIGTERM, which uvicorn turns into a graceful shutdown.

    Raises:
        NotFound: No such model, version or alias.
        IntegrityError: The bundle does not match its manifest.
    """
    import uvicorn

    loaded = load_model(project, ref)
    settings = project.settings
    app = create_app(
        loaded, max_body_bytes=settings.serve_max_body_bytes, max_rows=settings.serve_max_rows
    )
    details = {"ref": ref, "host": host, "port": port}
    project.catalog.record_event(
        "serve.start", "model", loaded.version.ref, actor=project.actor, details=details
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="on",
        log_level=log_level,
        access_log=False,
        server_header=False,
        workers=None,
    )
    # The model, pandas and LightGBM make a large heap that never dies; freezing it keeps the
    # collector from walking it again and again, which shows as latency spikes at p99.
    gc.collect()
    gc.freeze()
    uvicorn.Server(config).run()
