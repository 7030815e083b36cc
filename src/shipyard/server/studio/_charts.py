"""Plotly figures as plain JSON specs (``{"data": [...], "layout": {...}}``) that
``static/studio.js`` draws with the plotly.js Studio serves once; building dicts is all a
page needs, so rendering does not import plotly's Python package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["PALETTE", "curves_figure", "flatten"]

PALETTE = (
    "#0b5cad", "#c2410c", "#17714f", "#7e22ce", "#b3131b",
    "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#475569",
)  # fmt: skip
"""Ten distinguishable colours with 4.5:1 contrast on white (one per compared run)."""

Points = Sequence[tuple[int, float | None]]


def curves_figure(series: Mapping[str, Points], *, y_title: str = "value") -> dict[str, Any]:
    """Lines of ``(step, value)`` points, one trace per name, on a shared step axis."""
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": [step for step, _ in points],
            "y": [value for _, value in points],
            "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
        }
        for i, (name, points) in enumerate(series.items())
    ]
    layout = {
        "height": 320,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 44},
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": y_title}},
        "legend": {"orientation": "h", "y": -0.25},
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }
    return {"data": data, "layout": layout}


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON as ``a.b.c`` keys (lists kept whole), for tables of params and metrics."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
