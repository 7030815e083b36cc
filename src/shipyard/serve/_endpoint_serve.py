"""Run the endpoint server: ``shipyard serve --endpoint NAME [--env ENV]``."""

from __future__ import annotations

from collections.abc import Callable

from shipyard.deploy._endpoint_spec import check_endpoint_name
from shipyard.environments import environment_project
from shipyard.project import Project
from shipyard.serve._auth import check_auth_mode, guard, watch
from shipyard.serve._endpoint import EndpointApp
from shipyard.serve.server import _run, check_port

__all__ = ["serve_endpoint"]


def serve_endpoint(
    project: Project,
    name: str,
    *,
    env: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
    auth: str = "none",
) -> None:
    """Serve endpoint ``name`` of ``env`` (default: the ``env`` setting) until interrupted,
    following its changes without a restart (see :class:`EndpointApp`).

    Loads and warms its variants, binds the port, records ``serve.start`` in the
    environment's audit trail, runs uvicorn; Ctrl-C or SIGTERM drains the requests in
    flight, scores the shadow copies queued, flushes the captures and records
    ``serve.stop``.

    Raises:
        InvalidInput: A bad port, auth mode, endpoint name or environment; a variant that
            cannot be warmed.
        NotFound: No such endpoint in ``env``, or a variant no longer resolves.
        IntegrityError: A bundle does not match its manifest.
        Conflict: Another process listens on the port.
    """
    check_port(port)
    check_auth_mode(auth)
    check_endpoint_name(name)
    env = env or project.settings.env
    home = environment_project(project, env)
    app = EndpointApp(project, name, env=env)
    try:
        watched = watch(app, project)
        served = guard(watched, project, env) if auth == "required" else watched
        details = {"endpoint": name, "env": env, "revision": app.routing.plan.revision}
        details.update(host=host, auth=auth)
        _run(home, served, f"{env}/{name}", details, host, port, log_level, on_ready,
             object_type="endpoint")  # fmt: skip
    finally:
        app.close()  # uvicorn's lifespan shutdown did it, unless start-up failed
