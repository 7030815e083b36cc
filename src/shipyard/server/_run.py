"""Run the REST API server with uvicorn, hardened as the inference server is."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shipyard.project import Project
from shipyard.serve import ReadyServer, bind_socket, check_port, uvicorn_config
from shipyard.server._app import create_app

__all__ = ["serve_api"]


def serve_api(
    project: Project,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
    studio: bool = True,
    scheduler: bool = False,
    on_fired: Callable[[Any], None] | None = None,
) -> None:
    """Serve the REST API over ``project`` until interrupted (Ctrl-C or SIGTERM).

    Studio, the web UI, is mounted at ``/`` unless ``studio`` is False. With ``scheduler``,
    the pipelines' scheduler runs in this process too (a thread; each run it starts is a
    process of its own, as with ``shipyard scheduler``), and ``on_fired`` hears what it
    started. Checks and binds the
    port, records a ``server.start`` audit event, then runs uvicorn in
    this process, with read deadlines so a slow client cannot hold a connection forever.

    Raises:
        InvalidInput: The port is out of range or cannot be listened on.
        Conflict: Another process listens on the port.
        BackendUnavailable: The catalog or artifact store cannot be opened.
    """

    check_port(port)
    if studio:
        from shipyard.server.studio import create_studio

        app = create_app(project, studio=create_studio(project))
    else:
        app = create_app(project)
    settings = project.settings
    sock = bind_socket(host, port)
    port = int(sock.getsockname()[1])
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    details = {"host": host, "port": port, "env": settings.env}
    project.catalog.record_event(
        "server.start", "server", url, actor=project.actor, details=details
    )
    config = uvicorn_config(
        app,
        head_timeout=settings.serve_header_timeout,
        body_timeout=settings.serve_body_timeout,
        log_level=log_level,
    )
    server = ReadyServer(config, (lambda: on_ready(url)) if on_ready else None)
    try:
        with _scheduling(project, scheduler, on_fired):
            server.run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def _scheduling(
    project: Project, wanted: bool, on_fired: Callable[[Any], None] | None
) -> Iterator[None]:
    """The pipelines' scheduler in a thread while the server runs, when ``wanted``."""
    if not wanted:
        yield
        return
    from shipyard.pipelines import Scheduler

    stop = threading.Event()
    loop = threading.Thread(
        target=Scheduler(project).run_forever, args=(stop, on_fired), name="scheduler",
        daemon=True,
    )  # fmt: skip
    loop.start()
    try:
        yield
    finally:
        stop.set()
        loop.join(timeout=5)
