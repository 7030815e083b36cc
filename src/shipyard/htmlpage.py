"""The page shell every room's HTML reports share (profiles, bias, model evaluation).

One self-contained file: CSS and plotly.js inlined once, each chart a Plotly JSON spec drawn
by a few lines of script, so a report opens offline and from any folder. A server that shows
many pages serves plotly.js once (:func:`plotly_js_path`) and hands out each stored page
through :func:`studio_page`, which swaps the 4.7 MB inline bundle for a ``<script src>``.
"""

from __future__ import annotations

import html
import importlib.util
import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput

__all__ = ["Page", "esc", "fmt_bytes", "fmt_num", "plotly_js_path", "studio_page"]

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;
 background:#f5f7fa}
header{background:#102a43;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#bcccdc}
main{max-width:1200px;margin:0 auto;padding:16px 32px}
nav{position:sticky;top:0;background:#f5f7fa;padding:8px 0;z-index:2;
 border-bottom:1px solid #d9e2ec}
nav a{margin-right:14px;color:#243b53;text-decoration:none;font-weight:600}
section{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:16px 20px;margin:16px 0}
h2{font-size:18px;margin:0 0 12px}h3{font-size:16px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}td,th{padding:4px 8px;border-bottom:1px solid #e4e7eb;
 text-align:left;vertical-align:top}th{color:#52606d;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#f0f4f8;border-radius:6px;
 padding:8px 14px;min-width:120px}.card b{display:block;font-size:20px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;
 color:#fff}.error{background:#cf1124}.warning{background:#de911d}.info{background:#2186eb}
.ok{background:#27ab83}
.col{display:grid;grid-template-columns:minmax(260px,1fr) 2fr;gap:16px}
.col>div,.grid2>div{min-width:0;overflow-x:auto}
details.group summary{cursor:pointer}details.group ul{margin:4px 0;columns:2 320px}
.muted{color:#7b8794}
tr.flag td{background:#fff3f3}.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
@media(max-width:800px){.col,.grid2{grid-template-columns:1fr}}
"""


# Plotly's config for every chart: no logo, and only the buttons a reader of a report uses
# (download, zoom, pan, reset), so the bar stays narrow at the right of a left-aligned title.
CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": [
        "select2d",
        "lasso2d",
        "zoomIn2d",
        "zoomOut2d",
        "autoScale2d",
        "toggleSpikelines",
        "hoverClosestCartesian",
        "hoverCompareCartesian",
    ],
}
# The inline bundle of a stored page, whichever plotly.js version wrote it: its licence header
# opens the script; the script's end is the first "</script>" after it, as for a browser.
_INLINE_PLOTLY = re.compile(r"<script>\s*/\*+\s*\*?\s*plotly\.js v")
_PLOTLY_SRC = re.compile(r'<script data-plotly src="[^"]*"></script>')


def plotly_js_path() -> Path:
    """The plotly.min.js a page inlines, for a server to serve once at the URL it gives
    :func:`studio_page`."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly is not installed; it provides the reports' charts.")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    # The bundle plotly.offline.get_plotlyjs() returns, read without importing plotly.
    return plotly_js_path().read_text(encoding="utf-8")


def studio_page(html: str, plotly_url: str) -> str:
    """A stored report page with plotly.js loaded from ``plotly_url`` instead of inlined.

    Works on any page :class:`Page` wrote, before or after this function existed (also on its
    own output, whose ``src`` it replaces), so a server stores self-contained pages (what a user
    downloads opens offline) and serves each one in about 1/50 of the bytes.

    Raises:
        InvalidInput: the page holds no plotly.js, inline or referenced (not a report page).
    """
    tag = f'<script data-plotly src="{esc(plotly_url)}"></script>'
    found = _INLINE_PLOTLY.search(html)
    if found is not None:
        end = html.find("</script>", found.end())
        if end < 0:
            raise InvalidInput("The report page is cut short: its plotly.js never ends.")
        return html[: found.start()] + tag + html[end + len("</script>") :]
    if _PLOTLY_SRC.search(html) is not None:
        return _PLOTLY_SRC.sub(lambda _: tag, html, count=1)
    raise InvalidInput(
        "This is not a Shipyard report page: it holds no plotly.js, inline or referenced."
    )


def esc(value: Any) -> str:
    """HTML-escape anything printable."""
    return html.escape(str(value), quote=True)


def fmt_num(value: Any, digits: int = 4) -> str:
    """A number for people: thousands separators for ints, 4 significant digits for floats."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return esc(value)


def fmt_bytes(n: int) -> str:
    """Bytes as KB / MB / GB."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} GB"


class Page:
    """An HTML report under construction: append sections, add charts, then :meth:`render`."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self.parts: list[str] = []
        self.nav: list[tuple[str, str]] = []
        self.figures: list[tuple[str, dict[str, Any]]] = []

    def section(
        self, anchor: str, title: str, body: str, *, in_nav: bool = True, nav: str | None = None
    ) -> None:
        """Add a titled section; ``body`` is trusted HTML (escape user strings with esc).

        ``nav`` is a shorter name for the navigation bar (default: the title).
        """
        if in_nav:
            self.nav.append((anchor, nav or title))
        self.parts.append(f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>')

    def chart(self, data: list[dict[str, Any]], layout: dict[str, Any] | None = None) -> str:
        """A ``<div>`` placeholder drawn with Plotly from a JSON spec; returns its HTML."""
        div_id = f"fig{len(self.figures)}"
        base: dict[str, Any] = {
            "margin": {"l": 50, "r": 20, "t": 36, "b": 40},
            "height": 280,
            "template": None,
            "font": {"size": 12},
        }
        spec = base | (layout or {})
        # Long tick labels widen the margins instead of being cut off at the edge. A title
        # given as a string is a dict to plotly.js 3 and later, which ignores a bare string.
        for axis in ("xaxis", "yaxis"):
            spec[axis] = {"automargin": True} | spec.get(axis, {})
            if isinstance(spec[axis].get("title"), str):
                spec[axis]["title"] = {"text": spec[axis]["title"]}
        if isinstance(spec.get("title"), str):
            spec["title"] = {"text": spec["title"]}
        # The title sits at the left, clear of the mode bar at the right.
        if isinstance(spec.get("title"), dict):
            spec["title"] = {"x": 0, "xanchor": "left", "xref": "container"} | spec["title"]
            spec["title"].setdefault("pad", {"l": 8})
        self.figures.append((div_id, {"data": data, "layout": spec}))
        # The div holds the chart's height before Plotly draws, and no more after.
        return f'<div class="plot" id="{div_id}" style="min-height:{int(spec["height"])}px"></div>'

    def render(self) -> str:
        """The whole page as one string."""
        nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in self.nav)
        specs = json.dumps({k: v for k, v in self.figures}, allow_nan=False, default=str)
        specs = specs.replace("</", "<\\/")
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(self.title)}</title><style>{CSS}</style>"
            f"<script>{_plotly_js()}</script></head><body>"
            f"<header><h1>{esc(self.title)}</h1><p>{esc(self.subtitle)}</p></header>"
            f"<main><nav>{nav}</nav>{''.join(self.parts)}</main>"
            f"<script>const CONFIG={json.dumps(CONFIG)};const FIGS={specs};"
            "for(const [id,f] of Object.entries(FIGS)){Plotly.newPlot(id,f.data,f.layout,CONFIG);}"
            "</script></body></html>"
        )
