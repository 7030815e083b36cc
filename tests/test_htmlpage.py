"""The shared page shell: chart defaults a reader needs, and studio_page's slim copy."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
import pytest

from shipyard.errors import InvalidInput
from shipyard.htmlpage import CONFIG, Page, _plotly_js, studio_page

URL = "/static/plotly-4.min.js"


def _page() -> str:
    page = Page("Report", "a test")
    chart = page.chart([{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], {"title": {"text": "t"}})
    page.section("s", "Section", chart)
    return page.render()


def _old_page() -> str:
    """A page as Page wrote it before studio_page existed: the bundle, then one figure."""
    figs = json.dumps({"fig0": {"data": [{"type": "bar", "y": [1]}], "layout": {}}})
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>old</title>'
        f"<style>body{{}}</style><script>{_plotly_js()}</script></head><body>"
        '<main><div class="plot" id="fig0"></div></main>'
        f"<script>const FIGS={figs};for(const [id,f] of Object.entries(FIGS))"
        "{Plotly.newPlot(id,f.data,f.layout,{displaylogo:false,responsive:true});}</script>"
        "</body></html>"
    )


def _figures(html: str) -> dict[str, dict]:
    start = html.index("const FIGS=") + len("const FIGS=")
    return json.loads(html[start : html.index(";for(const [id,f]", start)].replace("<\\/", "</"))


@pytest.mark.parametrize("make", [_page, _old_page], ids=["new page", "page stored before"])
def test_studio_page_references_plotly_once_and_keeps_the_charts(make) -> None:
    html = make()
    slim = studio_page(html, URL)
    assert "plotly.js v" not in slim and len(slim) < len(html) - 4_000_000
    assert re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", slim) == [URL]
    assert slim.index(URL) < slim.index("const FIGS=")  # loaded before the charts are drawn
    assert _figures(slim) == _figures(html)
    assert slim.replace(f'<script data-plotly src="{URL}"></script>', "") == html.replace(
        f"<script>{_plotly_js()}</script>", ""
    )


def test_studio_page_of_its_own_output_swaps_the_url() -> None:
    once = studio_page(_page(), URL)
    twice = studio_page(once, "/other/plotly.js?v=2&x=<1>")
    assert URL not in twice
    assert twice.count("<script data-plotly") == 1
    assert 'src="/other/plotly.js?v=2&amp;x=&lt;1&gt;"' in twice  # an attribute, escaped


@pytest.mark.parametrize(
    "html", ["<html><body>no charts</body></html>", "<script>/**\n* plotly.js v4.1.1 cut"]
)
def test_studio_page_refuses_what_is_not_a_whole_report_page(html: str) -> None:
    with pytest.raises(InvalidInput):
        studio_page(html, URL)


def test_charts_keep_titles_clear_of_the_mode_bar_and_labels_inside() -> None:
    page = Page("t")
    page.chart([{"type": "bar", "y": [1]}], {"title": "plain string", "xaxis": {"title": "x"}})
    div = page.chart([{"type": "bar", "y": [1]}], {"title": {"text": "t", "x": 0.5}, "height": 400})
    first, second = (spec["layout"] for _, spec in page.figures)
    assert first["title"] == {
        "text": "plain string",
        "x": 0,
        "xanchor": "left",
        "xref": "container",
        "pad": {"l": 8},
    }
    assert first["xaxis"] == {"automargin": True, "title": {"text": "x"}}
    assert first["yaxis"] == {"automargin": True}
    assert second["title"]["x"] == 0.5  # a chart's own choice wins
    for _, spec in page.figures:
        go.Figure(spec)  # every property is one Plotly knows
    # The mode bar keeps only what a reader uses, so it stays narrow at the right.
    assert {"lasso2d", "select2d", "zoomIn2d", "zoomOut2d"} <= set(CONFIG["modeBarButtonsToRemove"])
    html = page.render()
    assert "const CONFIG=" in html and "Plotly.newPlot(id,f.data,f.layout,CONFIG)" in html
    assert 'style="min-height:400px"' in div  # the div is as tall as its chart
