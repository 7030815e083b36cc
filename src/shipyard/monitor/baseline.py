"""The monitoring baseline of a model version: what production is compared against.

Made when training publishes a version (and, for an older version, after the fact from its
lineage): per-feature statistics and constraints (the analyze room's profile and rule
format), the prediction distribution, the test-set metrics with their bootstrap intervals
(from the stored evaluation), the global attribution ranking (mean |SHAP| on a bounded
sample) and the post-training bias metrics when a facet was given. A reference sample of
inputs and scores is kept as Parquet in the artifact store for the drift checks.
"""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shipyard.entities import ModelVersion
from shipyard.errors import NotFound
from shipyard.monitor._attribution import (
    ATTRIBUTION_ROWS,
    ATTRIBUTION_SECONDS,
    bounded_attribution,
)
from shipyard.project import Project

if TYPE_CHECKING:
    from shipyard.model import TabularModel

__all__ = [
    "BASELINE_KIND",
    "BASELINE_VERSION",
    "StoredBaseline",
    "baseline_seconds",
    "build_baseline",
    "create_baseline",
    "load_baseline",
]

BASELINE_KIND = "baseline"
BASELINE_VERSION = 1
REFERENCE_ROWS = 50_000
"""At most this many reference rows (inputs and scores) are kept for the drift checks."""
SCORE_BINS = 20
# A signature type -> the type family captures store it as (numbers are float64 there).
_CAPTURED_FAMILY = {"number": "float", "boolean": "boolean", "string": "string"}


@dataclass(frozen=True)
class StoredBaseline:
    """A model version's baseline and where its HTML page is."""

    model_version: ModelVersion
    payload: dict[str, Any]
    html_uri: str | None

    @property
    def location(self) -> str:
        uri = self.html_uri or ""
        return uri[len("file://") :] if uri.startswith("file://") else uri or "(no HTML page)"

    @property
    def reference_uri(self) -> str:
        return str(self.payload["reference"]["uri"])


def attribution_bound(budget: float | None) -> float:
    """Seconds the attribution ranking may take in a job of ``budget`` seconds: 3% of it,
    at most :data:`ATTRIBUTION_SECONDS` (all of that without a budget)."""
    return ATTRIBUTION_SECONDS if budget is None else min(ATTRIBUTION_SECONDS, 0.03 * budget)


def baseline_seconds(rows: int, budget: float | None) -> float:
    """About how long :func:`build_baseline` takes in a job of ``budget`` seconds, for it to
    reserve: ~0.5 s (measured on 2 busy cores), the dataset's profile at ~4 s per million
    rows, and the attribution ranking's own time bound."""
    return 0.5 + attribution_bound(budget) + 4e-6 * rows


def build_baseline(
    project: Project,
    version: ModelVersion,
    model: TabularModel,
    reference: pd.DataFrame,
    *,
    evaluation: dict[str, Any] | None,
    reference_note: str = "test rows",
    seed: int = 0,
    budget: float | None = None,
) -> StoredBaseline:
    """Compute and store the baseline of ``version`` (catalog report ``baseline``).

    Args:
        reference: Rows like production's: the test rows at training, else a seeded sample
            of the training dataset (at most :data:`REFERENCE_ROWS` are kept).
        evaluation: The stored evaluation report's payload (metrics with intervals, bias).
        budget: The time budget of the job that makes it, which bounds the attribution
            ranking's time (:func:`attribution_bound`).
    """
    from shipyard.analyze import profile_dataset, suggest_constraints

    started = time.perf_counter()
    inputs = [c["name"] for c in version.signature.get("inputs", [])]
    if len(reference) > REFERENCE_ROWS:
        reference = reference.sample(REFERENCE_ROWS, random_state=seed)
    reference = reference.reset_index(drop=True)
    predictions = model.predict_frame(reference)
    scores = np.asarray(predictions.scores, dtype=np.float64)
    if scores.ndim == 2:  # multiclass: the chosen class's probability, as captures store it
        scores = scores.max(axis=1)
    dataset = str(version.lineage.get("dataset", ""))
    profile = profile_dataset(project, dataset).payload if dataset else None
    statistics = [c for c in (profile or {}).get("columns", []) if c["name"] in inputs]
    constraints = suggest_constraints({"columns": statistics})
    constraints["rules"] = _as_captured(constraints["rules"], version.signature)
    labels = predictions.labels()
    frame = reference[inputs].copy()
    frame["score"] = scores
    frame["prediction"] = None if labels is None else pd.Series(labels).astype(str).to_numpy()
    key = f"monitoring/{version.name}/{version.version}/reference-{uuid.uuid4().hex[:8]}.parquet"
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    uri = project.artifacts.put_bytes(key, buffer.getvalue())
    payload: dict[str, Any] = {
        "version": BASELINE_VERSION,
        "kind": "shipyard.baseline",
        "model": version.ref,
        "problem_type": version.problem_type,
        "target": version.lineage.get("target"),
        "dataset": dataset,
        "inputs": version.signature.get("inputs", []),
        "threshold": version.signature.get("threshold"),
        # An anomaly model is judged on its label: the label's positive class is the anomaly.
        "positive": version.signature.get("label_positive", version.signature.get("positive")),
        "calibration": version.signature.get("calibration"),
        "statistics": statistics,
        "constraints": constraints,
        "prediction": prediction_summary(scores, labels, version.problem_type),
        "metrics": (evaluation or {}).get("metrics", {}),
        "metrics_rows": (evaluation or {}).get("rows"),
        "attribution": _attribution(model, reference, attribution_bound(budget)),
        "bias": _bias(evaluation),
        "reference": {"uri": uri, "key": key, "rows": len(frame), "note": reference_note},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    payload["seconds"] = round(time.perf_counter() - started, 3)
    return _store(project, version, payload)


def prediction_summary(scores: np.ndarray, labels: Any, problem_type: str) -> dict[str, Any]:
    """The score histogram (over [0, 1] for probabilities), its quantiles and mean, and the
    share of each predicted label."""
    from shipyard.analyze.stats import histogram, quantiles

    finite = scores[np.isfinite(scores)]
    span = (0.0, 1.0) if problem_type != "regression" else None
    counts, edges = histogram(finite, bins=SCORE_BINS, range_=span)
    out: dict[str, Any] = {
        "rows": len(scores),
        "mean": float(finite.mean()) if finite.size else None,
        "quantiles": quantiles(finite),
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }
    if labels is not None and len(labels):
        values, n = np.unique(np.asarray(labels).astype(str), return_counts=True)
        out["labels"] = {str(v): int(c) / len(labels) for v, c in zip(values, n, strict=True)}
    return out


def _as_captured(rules: list[dict[str, Any]], signature: dict[str, Any]) -> list[dict[str, Any]]:
    """Type rules as captures store the inputs: a training integer column arrives as float64,
    which is no data-type violation."""
    kinds = {c["name"]: c["type"] for c in signature.get("inputs", [])}
    out = []
    for rule in rules:
        family = _CAPTURED_FAMILY.get(kinds.get(rule["column"], ""))
        if rule["rule"] == "type" and family is not None:
            rule = rule | {"expected": family}
        if rule["rule"] == "unique":  # a key unique in training may repeat in production
            continue
        out.append(rule)
    return out


def _attribution(
    model: TabularModel, reference: pd.DataFrame, seconds: float
) -> dict[str, Any] | None:
    explained = bounded_attribution(model, reference.iloc[:ATTRIBUTION_ROWS], seconds)
    if explained is None:
        return None
    means, rows = explained
    return {
        "method": "mean |SHAP contribution|",
        "rows": rows,
        "features": [{"feature": k, "value": v} for k, v in means.items()],
    }


def _bias(evaluation: dict[str, Any] | None) -> dict[str, Any] | None:
    bias = (evaluation or {}).get("bias")
    if not bias or "error" in bias:
        return None
    return dict(bias)


def _store(project: Project, version: ModelVersion, payload: dict[str, Any]) -> StoredBaseline:
    from shipyard.monitor.report_html import render_baseline_html

    key = f"reports/models/{version.name}/{version.version}/baseline-{uuid.uuid4().hex[:8]}.html"
    uri = project.artifacts.put_bytes(key, render_baseline_html(payload).encode())
    project.catalog.put_report(
        version.ref, BASELINE_KIND, payload, html_uri=uri, actor=project.actor
    )
    return StoredBaseline(version, payload, uri)


def load_baseline(project: Project, ref: str) -> StoredBaseline:
    """The baseline of the model version ``ref`` names.

    Raises:
        NotFound: No such version, or it has no baseline (the message says how to make one).
    """
    from shipyard.environments import resolve_version

    home, version = resolve_version(project, ref)  # fraud@prod: in prod's own catalog
    try:
        stored = home.catalog.get_report(version.ref, BASELINE_KIND)
    except NotFound:
        raise NotFound(
            f"Model version {version.ref} has no monitoring baseline (it was trained before "
            f"baselines existed). Make one from its training data with `shipyard models "
            f"baseline {version.ref} --create`.",
            details={"model": version.ref},
        ) from None
    return StoredBaseline(version, stored.payload, stored.html_uri)


def create_baseline(project: Project, ref: str, *, seed: int = 0) -> StoredBaseline:
    """Baseline a version after the fact from its lineage: a seeded sample of the training
    dataset it names, scored by the version, and its stored evaluation.

    Raises:
        NotFound: No such version, or the dataset its lineage names is gone.
    """
    from shipyard.catalog.refs import parse_dataset_ref
    from shipyard.registry import load_model

    loaded = load_model(project, ref)
    version = loaded.version
    dataset = version.lineage.get("dataset")
    if not dataset:
        raise NotFound(
            f"Model version {version.ref} records no training dataset in its lineage, so it "
            "cannot be baselined after the fact. Train it again to get a baseline."
        )
    parsed = parse_dataset_ref(str(dataset))
    data = project.catalog.get_dataset_version(parsed.name, parsed.version)
    frame = project.lake.read_frame(data)
    try:
        evaluation = project.catalog.get_report(version.ref, "evaluation").payload
    except NotFound:
        evaluation = None
    return build_baseline(
        project,
        version,
        loaded.model,
        frame,
        evaluation=evaluation,
        reference_note=f"a seeded sample of {data.ref} (scores partly in-sample)",
        seed=seed,
    )


def local_path(uri: str) -> Path | None:
    """A ``file://`` URI as a path, else None."""
    return Path(uri[len("file://") :]) if uri.startswith("file://") else None
