"""The checks that need labels: model quality (measured on the labels that have arrived, or
estimated by CBPE before any has) and bias drift."""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.errors import InvalidInput
from shipyard.evaluation import HIGHER_IS_BETTER, metric_intervals
from shipyard.monitor._cbpe import cbpe_estimate
from shipyard.monitor._kinds import section, skipped, violation
from shipyard.monitor._window import Labelled, Window, encode_labels

MIN_LABELLED = 30
"""Fewer labelled rows than this measure nothing; CBPE estimates instead."""
# The metrics a window is held to, per problem type.
_HEADLINE = {
    "binary": ("roc_auc", "f1", "accuracy"),
    "multiclass": ("accuracy", "macro_f1"),
    "regression": ("mae", "rmse"),
}
_ESTIMATED = ("roc_auc", "accuracy")
_Z = 1.96


def model_quality(window: Window, labelled: Labelled | None) -> dict[str, Any]:
    """Metrics with bootstrap intervals on the labelled rows against the baseline's; a CBPE
    estimate for a calibrated binary model when too few labels have arrived."""
    base = window.baseline
    problem = base["problem_type"]
    counts: dict[str, Any] = {"captured": window.rows}
    if labelled is not None:
        counts.update(
            labelled=len(labelled.frame),
            unlabelled=labelled.unlabelled,
            unmatched_labels=labelled.unmatched_labels,
            labels_dataset=labelled.labels_dataset,
        )
    out: list[dict[str, Any]] = []
    measured = None
    if labelled is not None and len(labelled.frame) >= MIN_LABELLED:
        measured, out = _measured(window, labelled)
    estimated = None
    if measured is None and problem == "binary" and base.get("calibration") not in (None, "none"):
        estimated, out = _estimated(window)
    if labelled is not None and labelled.unmatched_labels:
        out.append(
            violation(
                "warning",
                "label_join_check",
                unmatched_labels=labelled.unmatched_labels,
                labels_dataset=labelled.labels_dataset,
                key=window.monitor.labels.get("key"),
            )
        )
    if measured is None and estimated is None:
        why = (
            "no labels configured"
            if labelled is None
            else f"{counts.get('labelled', 0)} labelled rows"
        )
        summary = f"not measured: {why}, and CBPE needs a calibrated binary model"
    else:
        summary = _summary(measured, estimated, counts)
    if counts.get("unmatched_labels"):
        summary += f"; {counts['unmatched_labels']:,} label(s) match no captured row"
    return section(
        "model-quality",
        out,
        summary,
        counts=counts,
        measured=measured,
        estimated=estimated,
        baseline=base.get("metrics", {}),
    )


def _measured(window: Window, labelled: Labelled) -> tuple[dict[str, Any], list[dict]]:
    base = window.baseline
    problem = base["problem_type"]
    if problem == "anomaly":  # judged as a binary model of its label, anomaly = positive
        if base.get("positive") is None:
            raise InvalidInput(
                f"{base.get('model')} is an anomaly model trained without a label, so which "
                "label value is an anomaly is unknown; train it with --target LABEL to measure "
                "its quality, or monitor it with drift and data-quality."
            )
        problem = "binary"
    frame = labelled.frame
    y = encode_labels(frame["_label"], problem, base.get("positive"), _classes(window))
    keep = np.isfinite(y)
    scores = frame["score"].to_numpy(dtype=np.float64)[keep]
    if problem == "multiclass":
        raise InvalidInput(
            "Model quality of a multiclass model needs every class's probability; captures "
            "keep the chosen class's only. Monitor it with drift and data-quality."
        )
    metrics, method = metric_intervals(
        problem, y[keep], scores, threshold=float(base.get("threshold") or 0.5)
    )
    out = []
    for name in _HEADLINE[problem]:
        worse = _worse(name, metrics.get(name), base.get("metrics", {}).get(name))
        if worse:
            out.append(violation("error", "model_quality_check", metric=name, **worse))
    return {"metrics": metrics, "bootstrap": method, "rows": int(keep.sum())}, out


def _worse(name: str, now: Any, then: Any) -> dict[str, Any] | None:
    """The evidence when the window's interval lies wholly on the worse side of the
    baseline's (intervals that overlap are noise)."""
    if not now or not then or not now.get("ci95") or not then.get("ci95"):
        return None
    (lo, hi), (b_lo, b_hi) = now["ci95"], then["ci95"]
    higher = HIGHER_IS_BETTER.get(name, True)
    if (higher and hi < b_lo) or (not higher and lo > b_hi):
        return {
            "value": now["value"],
            "ci95": now["ci95"],
            "baseline": then["value"],
            "baseline_ci95": then["ci95"],
        }
    return None


def _estimated(window: Window) -> tuple[dict[str, Any], list[dict]]:
    base = window.baseline
    scores = window.frame(["score"])["score"].to_numpy(dtype=np.float64)
    estimate = cbpe_estimate(scores, float(base.get("threshold") or 0.5))
    out = []
    for name in _ESTIMATED:
        value, se = estimate.get(name), estimate.get(f"{name}_se")
        then = base.get("metrics", {}).get(name) or {}
        if value is None or se is None or not then.get("ci95"):
            continue
        if value + _Z * se < then["ci95"][0]:
            out.append(
                violation(
                    "warning",
                    "model_quality_estimate_check",
                    metric=name,
                    estimated=value,
                    ci95=[value - _Z * se, value + _Z * se],
                    baseline=then["value"],
                    baseline_ci95=then["ci95"],
                    method="CBPE (calibrated scores, no labels yet)",
                )
            )
    return estimate, out


def _summary(measured: Any, estimated: Any, counts: dict[str, Any]) -> str:
    share = ""
    if "labelled" in counts:
        share = f"{counts['labelled']:,} of {counts['captured']:,} rows labelled; "
    if measured is not None:
        m = measured["metrics"]
        shown = ", ".join(
            f"{k} {m[k]['value']:.3f}"
            for k in ("roc_auc", "f1", "mae")
            if m.get(k) and m[k]["value"] is not None
        )
        return f"{share}measured {shown}"
    auc = estimated.get("roc_auc")
    return (
        f"{share}estimated (CBPE) roc_auc {auc:.3f}, accuracy {estimated['accuracy']:.3f}"
        if auc
        else f"{share}estimated (CBPE)"
    )


def _classes(window: Window) -> list[Any]:
    return list(window.version.signature.get("classes", []))


def bias(window: Window, labelled: Labelled | None) -> dict[str, Any]:
    """Post-training bias of the labelled window rows against the baseline's: a metric the
    analyze room's rule flags now but did not flag at training is a violation."""
    from shipyard.analyze import posttraining_bias

    base = window.baseline.get("bias")
    if not base:
        return skipped("bias", "the baseline has no post-training bias (train with --facet)")
    if labelled is None or len(labelled.frame) < MIN_LABELLED:
        n = 0 if labelled is None else len(labelled.frame)
        return skipped("bias", f"{n} labelled rows: bias needs at least {MIN_LABELLED}")
    facet = base["facet"]
    frame = labelled.frame
    if facet not in frame.columns:
        return skipped("bias", f"the captured rows have no facet column '{facet}'")
    positive = window.baseline.get("positive")
    y_true = np.where(encode_labels(frame["_label"], "binary", positive, None) > 0, "pos", "neg")
    y_pred = np.where(frame["prediction"].astype(str) == str(positive), "pos", "neg")
    values = None if base.get("threshold") is not None else [f["value"] for f in base["facets"]]
    try:
        now = posttraining_bias(
            y_true,
            y_pred,
            frame[facet].to_numpy(),
            positive=["pos"],
            facet_values=values,
            threshold=base.get("threshold"),
            facet_name=facet,
            label_name=str(base.get("label")),
        )
    except InvalidInput as exc:
        return skipped("bias", f"not measurable on this window: {exc.message}")
    then = {(str(f["value"]), k): m for f in base["facets"] for k, m in f["metrics"].items()}
    out = []
    for entry in now["facets"]:
        for name, metric in entry["metrics"].items():
            before = then.get((str(entry["value"]), name), {})
            if metric.get("flag") and not before.get("flag"):
                out.append(
                    violation(
                        "warning",
                        "bias_drift_check",
                        facet=facet,
                        group=entry["description"],
                        metric=name,
                        value=metric.get("value"),
                        baseline=before.get("value"),
                        reading=metric.get("reading"),
                    )
                )
    summary = f"{len(out)} metric(s) newly flagged on {now['rows']:,} labelled rows"
    return section("bias", out, summary, report=now)
