"""Studio, Shipyard's web UI: pages rendered on the server (Jinja2), htmx for partial updates,
Plotly served once from the plotly package, mounted at ``/`` by ``shipyard server``.

**Adding a room's pages** is one module, its templates and one line:

1. ``server/studio/pages/<room>.py`` with ``router = APIRouter()`` and GET routes that take
   ``who: Annotated[Viewer, Depends(viewer)]``, call the room's public function with
   ``who.project`` (it acts as the visitor's token) and ``return render(request,
   "<room>/index.html", who, **context)``. Lists read one page (``PageQuery(cursor=...)``)
   and pass ``next_cursor`` to the ``pager`` macro; a POST first calls
   ``who.require("<action>", env)``, then the room, then redirects (303) to a GET page.
2. ``templates/<room>/*.html`` extending ``base.html``; ``{% import "_macros.html" as ui %}``
   gives ``ui.pager``, ``ui.chart`` (a Plotly figure), ``ui.status`` and ``ui.action_form``
   (CSRF field included); show a button only ``{% if can("approve", env) %}``.
3. Append ``<room>.router`` to :data:`shipyard.server.studio.pages.PAGES`; add its happy-path
   and bad-input tests to ``tests/ui/`` (TestClient) and a screenshot to
   ``tools/screenshots.py``. Errors raised by rooms become pages by themselves.
"""

from __future__ import annotations

from shipyard.server.studio._app import Studio, create_studio
from shipyard.server.studio._auth import Viewer, viewer
from shipyard.server.studio._render import PLOTLY_URL, render
from shipyard.server.studio._report import studio_page

__all__ = ["PLOTLY_URL", "Studio", "Viewer", "create_studio", "render", "studio_page", "viewer"]
