"""The REST API server (``shipyard server``): every room over HTTP, behind tokens and roles.

Layout::

    server/
      _app.py         create_app(): guard -> audit -> body limit -> FastAPI (+ Studio at /)
      _run.py         serve_api(): uvicorn with the inference server's read deadlines
      _errors.py      the one error body; validation, unknown routes, unexpected failures
      _middleware.py  BodyLimit (413); the audit of calls is shipyard.security.AuditCalls
      _routing.py     needs(ACTION) on each route; the resolver the guard and audit use
      _deps.py        the request's project (acting as the token's owner), paging, ETags
      api/            one router module per room: datasets, sql, features, runs, models,
                      monitors, audit; api.ROUTERS lists them
      studio/         Studio, the web UI: Jinja2 pages per room, htmx, Plotly (see its docstring)

**Adding a room's router** (approval, endpoints, pipelines, ...) is one module and one line:

1. ``server/api/endpoints.py`` with ``router = APIRouter(tags=["endpoints"])`` and routes
   that parse, call the room's public function and return its result. Each declares its
   role-matrix action, ``@router.post("/endpoints/{name}/variants", **needs("deploy"))``
   (add the action to :data:`shipyard.security.roles.MATRIX` if it is new); a change aimed at
   an environment also calls ``require_env(request, env, action)``. Lists take
   ``page: Annotated[PageParams, paging("LISTING")]`` over a catalog ``page_*`` method (add
   the listing to :data:`shipyard.catalog.paging.LISTINGS`) and return ``PageOut[T]``;
   immutable objects answer through ``etagged()``.
2. Append ``endpoints.router`` to :data:`shipyard.server.api.ROUTERS`.

The auth guard, the audit of calls, the error body, the OpenAPI document, the role-matrix
walk (``tests/server/test_matrix.py``) and the fuzzing pick the new routes up by themselves;
add its happy-path and bad-input cases to ``tests/server/``, which fails on a route without
them.

**Studio** mounts at ``/``: ``create_app(project, studio=create_studio(project))`` appends it
after the API routes, behind the same guard (its pages need a token too: the browser sends it
as an HttpOnly cookie, which the guard reads on page paths only, never under ``/api/v1``).
``/api/v1/...`` paths that no route serves still answer the API's JSON 404, never a page.
"""

from __future__ import annotations

from shipyard.server._app import API_PREFIX, OPEN_PATHS, ShipyardApi, create_app
from shipyard.server._run import serve_api

__all__ = ["API_PREFIX", "OPEN_PATHS", "ShipyardApi", "create_app", "serve_api"]
