"""Run the REST API server with uvicorn, hardened as the inference server is."""

from __future__ import annotations

from collections.abc import Callable

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
) -> None:
    """Serve the REST API over ``project`` until interrupted (Ctrl-C or SIGTERM).

    Studio, the web UI, is mounted at ``/`` unless ``studio`` is False. Checks and binds the
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
        server.run(sockets=[sock])
    finally:
        sock.close()
