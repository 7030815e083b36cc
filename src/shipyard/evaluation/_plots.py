"""The problem-specific sections of the evaluation page: binary curves, top-k and
calibration; the multiclass confusion matrix; regression residuals."""

from __future__ import annotations

import itertools
from typing import Any

from shipyard.evaluation._text import pct, threshold_reading
from shipyard.htmlpage import Page, esc, fmt_num

__all__ = [
    "BLUE",
    "GREY",
    "RED",
    "binary_sections",
    "hline",
    "line",
    "multiclass_sections",
    "regression_sections",
]

BLUE = "#2186eb"
RED = "#cf1124"
GREY = "#7b8794"
_AXIS_SHARE = {"tickformat": ".0%", "rangemode": "tozero"}

# --- binary -------------------------------------------------------------------------------


def binary_sections(page: Page, report: dict[str, Any]) -> None:
    t = report["threshold"]
    c = t["confusion"]
    matrix = (
        "<table style='width:auto'><tr><th></th><th>flagged</th><th>not flagged</th></tr>"
        f"<tr><th>positive</th><td class='n'>{c['tp']:,} <span class='muted'>hits</span></td>"
        f"<td class='n'>{c['fn']:,} <span class='muted'>misses</span></td></tr>"
        f"<tr><th>negative</th><td class='n'>{c['fp']:,} <span class='muted'>false alarms"
        f"</span></td><td class='n'>{c['tn']:,}</td></tr></table>"
    )
    page.section(
        "threshold",
        "Confusion at the threshold",
        f"<div class='col'><div>{matrix}</div><div><p>{esc(threshold_reading(t))}</p></div></div>",
    )
    roc, pr = report.get("roc"), report.get("pr")
    if roc and pr:
        fpr = c["fp"] / max(c["fp"] + c["tn"], 1)
        recall = t.get("recall") or 0.0
        roc_chart = page.chart(
            [
                line(roc["fpr"], roc["tpr"], "ROC", hover=roc["threshold"]),
                line([0, 1], [0, 1], "chance", dash="dot", color=GREY),
                _marker([fpr], [recall], "threshold"),
            ],
            {
                "title": {
                    "text": f"ROC curve (AUC {fmt_num(report['metrics']['roc_auc']['value'])})"
                },
                "xaxis": {"title": {"text": "false positive rate"}, "range": [0, 1]},
                "yaxis": {"title": {"text": "true positive rate (recall)"}, "range": [0, 1.02]},
                "height": 340,
            },
        )
        pr_chart = page.chart(
            [
                line(pr["recall"], pr["precision"], "PR", hover=pr["threshold"]),
                line([0, 1], [pr["base_rate"]] * 2, "positive rate", dash="dot", color=GREY),
                _marker([recall], [t.get("precision") or 0.0], "threshold"),
            ],
            {
                "title": {
                    "text": "Precision-recall curve "
                    f"(AP {fmt_num(report['metrics']['pr_auc']['value'])})"
                },
                "xaxis": {"title": {"text": "recall"}, "range": [0, 1]},
                "yaxis": {"title": {"text": "precision"}, "range": [0, 1.02]},
                "height": 340,
            },
        )
        page.section("curves", "ROC and PR", f"<div class='grid2'>{roc_chart}{pr_chart}</div>")
    page.section("top-k", "Top-k: what a review team sees", _top_k(page, report))
    page.section("calibration", "Calibration and scores", _calibration(page, report))


def _top_k(page: Page, report: dict[str, Any]) -> str:
    rows = report.get("top_k") or []
    if not rows:
        return "<p class='muted'>No positives in the test rows.</p>"
    body = "".join(
        f"<tr{' class=flag' if r['alert_budget'] else ''}><td class='n'>{pct(r['share'], 1)}"
        f"{' (alert budget)' if r['alert_budget'] else ''}</td><td class='n'>{r['k']:,}</td>"
        f"<td class='n'>{r['positives']:,}</td><td class='n'>{pct(r['precision'])}</td>"
        f"<td class='n'>{pct(r['recall'])}</td><td class='n'>{r['lift']:.1f}×</td>"
        f"<td class='n'>{fmt_num(r['min_score'])}</td></tr>"
        for r in rows
    )
    table = (
        "<table><tr><th>top share</th><th>rows reviewed</th><th>positives found</th>"
        "<th>precision</th><th>recall</th><th>lift</th><th>lowest score</th></tr>"
        f"{body}</table><p class='muted'>The k highest-scored test rows; lift is their "
        "precision over the overall positive rate.</p>"
    )
    labels = [pct(r["share"], 1) for r in rows]
    chart = page.chart(
        [
            {
                "type": "bar",
                "x": labels,
                "y": [r["precision"] for r in rows],
                "name": "precision",
                "marker": {"color": BLUE},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": labels,
                "y": [r["recall"] for r in rows],
                "name": "recall",
                "line": {"color": RED},
            },
        ],
        {
            "title": {"text": "precision and recall of the top-scored rows"},
            "xaxis": {"title": {"text": "share of rows reviewed"}, "type": "category"},
            "yaxis": {**_AXIS_SHARE, "range": [0, 1.02]},
        },
    )
    # The seven-column table takes the full width, the chart goes under it: side by side the
    # table ran under the chart and lost its last columns.
    return f"{table}{chart}"


def _calibration(page: Page, report: dict[str, Any]) -> str:
    cal = report["calibration"]
    bins = cal["bins"]
    rates = bins["positive_rate"]
    top = [h - p for h, p in zip(bins["positive_rate_ci95_high"], rates, strict=True)]
    low = [p - lo for p, lo in zip(rates, bins["positive_rate_ci95_low"], strict=True)]
    edge = max([*bins["mean_score"], *bins["positive_rate_ci95_high"], 0.01])
    reliability = page.chart(
        [
            line([0, edge], [0, edge], "perfect", dash="dot", color=GREY),
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": bins["mean_score"],
                "y": bins["positive_rate"],
                "name": "observed",
                "line": {"color": BLUE},
                "error_y": {"type": "data", "symmetric": False, "array": top, "arrayminus": low},
                "text": [f"{r:,} rows" for r in bins["rows"]],
            },
        ],
        {
            "title": {
                "text": f"reliability (ECE {cal['ece']:.4f}, Brier {cal['brier']:.4f})",
            },
            "xaxis": {"title": {"text": "mean predicted probability (equal-count bins)"}},
            "yaxis": {"title": {"text": "observed positive rate (95% Wilson)"}},
            "height": 340,
        },
    )
    dist = report["score_distribution"]
    edges = dist["edges"]
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    traces = []
    for name, color in (("negative", BLUE), ("positive", RED)):
        counts = dist[name]
        total = max(sum(counts), 1)
        traces.append(
            {
                "type": "bar",
                "x": centres,
                "y": [c / total for c in counts],
                "name": f"{name} ({total:,})",
                "marker": {"color": color},
                "opacity": 0.6,
            }
        )
    threshold = report["threshold"]["value"]
    histogram = page.chart(
        traces,
        {
            "title": {"text": "score distribution per class (share of the class)"},
            "barmode": "overlay",
            "bargap": 0.02,
            "xaxis": {"title": {"text": "score"}, "range": [0, 1]},
            "yaxis": {"tickformat": ".0%"},
            "shapes": [_vline(threshold)],
            "height": 340,
        },
    )
    return f"<div class='grid2'>{reliability}{histogram}</div>"


# --- multiclass and regression ------------------------------------------------------------


def multiclass_sections(page: Page, report: dict[str, Any]) -> None:
    confusion = report["confusion"]
    labels = confusion["labels"]
    matrix = confusion["matrix"]
    chart = page.chart(
        [
            {
                "type": "heatmap",
                "z": matrix,
                "x": labels,
                "y": labels,
                "colorscale": "Blues",
                "text": matrix,
                "texttemplate": "%{text}",
            }
        ],
        {
            "title": {"text": "confusion matrix (rows: actual, columns: predicted)"},
            "xaxis": {"title": {"text": "predicted"}, "type": "category"},
            "yaxis": {"title": {"text": "actual"}, "type": "category", "autorange": "reversed"},
            "height": max(320, 40 * len(labels) + 140),
        },
    )
    rows = "".join(
        f"<tr><td>{esc(c['class'])}</td><td class='n'>{c['support']:,}</td>"
        f"<td class='n'>{c['predicted']:,}</td><td class='n'>{fmt_num(c['precision'])}</td>"
        f"<td class='n'>{fmt_num(c['recall'])}</td><td class='n'>{fmt_num(c['f1'])}</td></tr>"
        for c in report["per_class"]
    )
    table = (
        "<table><tr><th>class</th><th>actual</th><th>predicted</th><th>precision</th>"
        f"<th>recall</th><th>F1</th></tr>{rows}</table>"
    )
    body = f"<div class='col'><div>{table}</div><div>{chart}</div></div>"
    page.section("classes", "Classes", body)


def regression_sections(page: Page, report: dict[str, Any]) -> None:
    sample = report["predicted_vs_actual"]
    values = [*sample["predicted"], *sample["actual"]]
    lo, hi = (min(values), max(values)) if values else (0, 1)
    scatter = page.chart(
        [
            {
                "type": "scattergl",
                "mode": "markers",
                "x": sample["actual"],
                "y": sample["predicted"],
                "name": "rows",
                "marker": {"color": BLUE, "size": 4, "opacity": 0.5},
            },
            line([lo, hi], [lo, hi], "perfect", dash="dot", color=GREY),
        ],
        {
            "title": {"text": f"predicted vs actual ({len(sample['actual']):,} sampled rows)"},
            "xaxis": {"title": {"text": "actual"}},
            "yaxis": {"title": {"text": "predicted"}},
            "height": 340,
        },
    )
    res = report["residuals"]
    hist = res["histogram"]
    edges = hist["edges"]
    residuals = page.chart(
        [
            {
                "type": "bar",
                "x": [(a + b) / 2 for a, b in itertools.pairwise(edges)],
                "y": hist["counts"],
                "marker": {"color": BLUE},
            }
        ],
        {
            "title": {"text": "residuals (predicted − actual)"},
            "bargap": 0.02,
            "shapes": [_vline(0.0)],
            "height": 340,
        },
    )
    quantiles = ", ".join(f"{k} {fmt_num(v)}" for k, v in res["quantiles"].items())
    deciles = report["by_decile"]
    rows = "".join(
        f"<tr><td class='n'>[{fmt_num(a)}, {fmt_num(b)}]</td><td class='n'>{r:,}</td>"
        f"<td class='n'>{fmt_num(p)}</td><td class='n'>{fmt_num(y)}</td>"
        f"<td class='n'>{fmt_num(e)}</td><td class='n'>{fmt_num(s)}</td></tr>"
        for a, b, r, p, y, e, s in zip(
            deciles["lower"],
            deciles["upper"],
            deciles["rows"],
            deciles["mean_predicted"],
            deciles["mean_actual"],
            deciles["mae"],
            deciles["rmse"],
            strict=True,
        )
    )
    page.section(
        "residuals",
        "Residuals",
        f"<div class='grid2'>{scatter}{residuals}</div>"
        f"<p>Mean residual {fmt_num(res['mean'])} (std {fmt_num(res['std'])}, largest "
        f"|error| {fmt_num(res['max_abs'])}); quantiles: {esc(quantiles)}.</p>"
        "<h3>Error by decile of the prediction</h3><table><tr><th>predicted</th><th>rows</th>"
        "<th>mean predicted</th><th>mean actual</th><th>MAE</th><th>RMSE</th></tr>"
        f"{rows}</table>",
    )


# --- chart pieces -------------------------------------------------------------------------


def line(
    x: list[Any],
    y: list[Any],
    name: str,
    *,
    dash: str = "solid",
    color: str = BLUE,
    hover: list[Any] | None = None,
) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y,
        "name": name,
        "line": {"color": color, "dash": dash},
    }
    if hover is not None:
        trace["text"] = [f"threshold {v:.4g}" if v is not None else "" for v in hover]
    return trace


def _marker(x: list[float], y: list[float], name: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": x,
        "y": y,
        "name": name,
        "marker": {"color": RED, "size": 11, "symbol": "diamond"},
    }


def _vline(x: float) -> dict[str, Any]:
    return {
        "type": "line",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"dash": "dot", "color": GREY},
    }


def hline(y: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"dash": "dot", "color": GREY},
    }
