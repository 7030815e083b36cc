"""An ASGI app behind a real uvicorn on loopback, in a thread of the test process.

Real clients (``tritonclient``, MLflow's) speak HTTP over sockets, not ASGI, and a thread
starts in milliseconds where a server process would import Shipyard again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from shipyard.serve import bind_socket
from shipyard.serve._uvicorn import ReadyServer, deadline_protocol


@contextmanager
def live_server(app: Any, *, lifespan: str = "off") -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL, stops on exit (with
    ``lifespan="on"`` the app's shutdown runs then)."""
    protocol = deadline_protocol("h11", head_timeout=30, body_timeout=30)
    config = uvicorn.Config(
        app, http=protocol, loop="asyncio", lifespan=lifespan, log_level="warning"
    )
    ready = threading.Event()
    server = ReadyServer(config, on_ready=ready.set)
    sock = bind_socket("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("The test server did not start within 30 s.")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
