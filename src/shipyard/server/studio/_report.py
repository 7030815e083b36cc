"""Stored HTML reports inside Studio, with Plotly referenced by URL rather than inlined
(:func:`shipyard.htmlpage.studio_page` does the swap; Studio serves the bundle once)."""

from __future__ import annotations

from shipyard.htmlpage import studio_page

__all__ = ["studio_page"]
