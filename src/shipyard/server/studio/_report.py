"""Stored HTML reports inside Studio, with Plotly referenced by URL rather than inlined.

``shipyard.htmlpage.studio_page`` (from the reports room) does this where it exists; until
then, :func:`_fallback` swaps the report's inline plotly.js for a ``<script src>``.
"""

from __future__ import annotations

__all__ = ["studio_page"]


def _fallback(html: str, plotly_url: str) -> str:
    """``html`` (a stored report page) with its inline plotly.js replaced by a reference to
    ``plotly_url``; a page without it is returned as it is."""
    from shipyard.htmlpage import _plotly_js

    inline = f"<script>{_plotly_js()}</script>"
    return html.replace(inline, f'<script src="{plotly_url}"></script>', 1)


try:
    from shipyard.htmlpage import studio_page  # type: ignore[attr-defined]
except ImportError:
    studio_page = _fallback
