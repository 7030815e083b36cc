"""Training an anomaly model (``problem_type="anomaly"``): no target needed.

The detector learns from every row's features. A label column, when given, is never a
feature: it chooses among the candidate detectors (PR AUC on validation) and the
threshold, and evaluates the model on the test rows (ROC AUC, PR AUC, precision at k and
the evaluation room's report). Given ``contamination`` (or without a label), the threshold is
the ``1 - contamination`` quantile of the training rows' scores; with a label, it is the
best-F1 cut on validation, and ``contamination`` records the share of training rows it
flags.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.entities import ModelVersion, Run, to_json
from shipyard.errors import InvalidInput, require_columns
from shipyard.evaluation import (
    StoredEvaluation,
    best_f1_threshold,
    check_evaluation_options,
    evaluate,
    write_evaluation,
)
from shipyard.lake import read_written
from shipyard.model import (
    AnomalyFamily,
    AnomalyModel,
    FeatureEncoder,
    FitData,
    Problem,
    infer_problem,
)
from shipyard.project import Project
from shipyard.registry import publish_model, register_model
from shipyard.tracking import Heartbeat, fail_own_runs
from shipyard.train._pitfalls import left_out, why_left_out
from shipyard.train._prepare import _pii_hashes
from shipyard.train._records import held_out_files, write_baseline
from shipyard.train._spec import TrainSpec
from shipyard.train._split import Split, split_frame

if TYPE_CHECKING:
    from shipyard.train._job import TrainResult

__all__ = ["CANDIDATES", "DEFAULT_CONTAMINATION", "train_anomaly"]

DEFAULT_CONTAMINATION = 0.01
"""The share of training rows flagged when neither a label nor ``contamination`` says."""

CANDIDATES: tuple[dict[str, Any], ...] = (  # the leaderboard's "valid_score" is PR AUC
    {"kind": "isolation_forest"},
    {"kind": "isolation_forest", "max_samples": 1024, "max_features": 0.5},
    {"kind": "lof", "n_neighbors": 35},
)
"""What a labelled job compares (the best PR AUC on validation wins); without a label the
first is used. ``params`` in the spec fits that one detector instead."""

_NO_LABEL = "__shipyard_no_label__"


@dataclass
class _Data:
    frame: pd.DataFrame
    label: str | None
    y: np.ndarray  # 1.0 anomaly, 0.0 normal, NaN unlabelled (all NaN without a label)
    binary: Problem | None  # the label as a binary problem, for the evaluation report
    split: Split
    encoder: FeatureEncoder
    x: dict[str, np.ndarray]
    left_out: dict[str, str]  # left out by default (dates, identifiers, Shipyard's outputs)
    kept: dict[str, str]  # would have been, but --keep-column asked for them

    @property
    def dropped(self) -> dict[str, str]:
        """Every column that is not a feature although nobody excluded it, and why."""
        return {**self.left_out, **self.encoder.dropped_}


def train_anomaly(
    project: Project,
    dataset: str,
    label: str | None,
    spec: TrainSpec,
    say: Callable[[str], None],
) -> TrainResult:
    """Fit, choose, evaluate (with a label) and register an anomaly model.

    Raises:
        NotFound: The dataset or a named column does not exist.
        InvalidInput: No usable feature column, a label that is not two classes, an option
            that only a supervised model takes, or a detector's bad parameters.
    """
    from shipyard.train._job import TrainResult  # the job module imports this one

    started = time.monotonic()
    _check_spec(spec)
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    say(f"Reading {version.ref} ({version.num_rows:,} rows)")
    data = _prepare(project, version, label, spec)
    name = spec.model_name or version.name
    run = project.catalog.create_run(
        experiment=name,
        name=f"anomaly-{int(time.time())}",
        params={
            "seed": spec.seed,
            "split": data.split.summary(),
            "family": "anomaly",
            "contamination": spec.contamination,
            **(spec.search.params or {}),
        },
        tags={"problem_type": "anomaly", "kind": "single", "labelled": label is not None},
        inputs={"dataset": version.ref, "fingerprint": version.fingerprint, "target": label},
        actor=project.actor,
    )
    heartbeat = Heartbeat(project.catalog).start()
    try:
        say(f"Fitting anomaly detectors on {len(data.split.train):,} rows")
        model, leaderboard = _fit(data, spec)
        metrics = _metrics(data, model)
        lineage = {
            "dataset": version.ref,
            "dataset_fingerprint": version.fingerprint,
            "run": run.id,
            "target": label,
            "split": data.split.summary(),
            "decision": to_json(model.decision),
            "detectors": to_json(leaderboard),
            "pitfalls": {  # what `shipyard pitfalls MODEL` reads (no learning curve here)
                "left_out": data.left_out,
                "kept": data.kept,
                "findings": [],
                "pii": {"allowed": list(spec.allow_pii), "hashed": list(spec.hash_pii)},
            },
        }
        mv, evaluation = _publish(project, name, run, data, model, metrics, lineage, spec, say)
    except BaseException as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()
        project.catalog.finish_run(run.id, status="failed", error=error, actor=project.actor)
        fail_own_runs(project.catalog, project.actor, run.experiment, error)
        raise
    finally:
        heartbeat.stop()
    return TrainResult(
        project.catalog.get_run(run.id),
        mv,
        model.problem,
        metrics,
        data.split.summary(),
        data.dropped,
        leaderboard=[r for r in leaderboard if "valid_score" in r],
        seconds=time.monotonic() - started,
        evaluation=evaluation,
    )


def _check_spec(spec: TrainSpec) -> None:
    """Refuse the options that only a supervised model takes."""
    asked = [
        name
        for name, given in (
            ("time_budget", spec.search.time_budget is not None),
            ("cost_fp / cost_fn / alert_rate", spec.decision.rule != "f1"),
            ("calibration", spec.decision.calibration != "auto"),
            ("facet", spec.report.facet is not None),
        )
        if given
    ]
    if asked:
        raise InvalidInput(
            f"An anomaly model does not take {', '.join(asked)}; its threshold comes from "
            "--contamination (or the label), and it is fitted without a search. Drop them."
        )


def _prepare(project: Project, version: Any, label: str | None, spec: TrainSpec) -> _Data:
    """Read, split and encode the table; the label (if any) as 1/0/NaN, never a feature."""
    frame = project.lake.read_frame(version)
    require_columns(
        [*([label] if label else []), *spec.exclude, *spec.keep_columns], list(frame.columns)
    )
    binary: Problem | None = None
    y = np.full(len(frame), np.nan)
    if label is not None:
        known = frame[label].notna().to_numpy()
        binary = infer_problem(
            frame.loc[known, label], positive=spec.positive, problem_type="binary"
        )
        y[known] = (frame.loc[known, label] == binary.positive).to_numpy(dtype=np.float64)
    chosen = [c for c in [label, *spec.exclude, *spec.split.used_columns] if c]
    written = read_written(project.lake.files(version))
    left = left_out(frame, written, excluded=chosen, keep=spec.keep_columns)
    split = _split(frame, y, label, spec, [*spec.exclude, *left])
    excluded = [*chosen, *left, _NO_LABEL]
    hashed = _pii_hashes(project, version, spec, frame.columns, excluded)
    train_rows = frame.iloc[split.train]
    encoder = FeatureEncoder(exclude=excluded, hashed=hashed).fit(train_rows)
    x = {
        part: encoder.encode_frame(frame.iloc[rows]).matrix
        for part, rows in (("train", split.train), ("valid", split.valid), ("test", split.test))
    }
    _check_variation(x["train"], encoder.feature_names_)
    kept = why_left_out(frame, written, spec.keep_columns)
    return _Data(frame, label, y, binary, split, encoder, x, left, kept)


def _check_variation(x: np.ndarray, names: list[str]) -> None:
    """Refuse features that are all constant or missing: no row can stand out in them."""
    with np.errstate(invalid="ignore"):
        varying = [
            n for n, col in zip(names, x.T, strict=True) if len(np.unique(col[~np.isnan(col)])) > 1
        ]
    if not varying:
        raise InvalidInput(
            f"No feature varies in the training rows ({', '.join(names)} are constant or "
            "missing), so no row can stand out. Give a table with numeric, boolean or "
            "categorical columns whose values vary, or --keep-column a column left out."
        )


def _split(
    frame: pd.DataFrame, y: np.ndarray, label: str | None, spec: TrainSpec, exclude: list[str]
) -> Split:
    """The spec's split; stratified on the label when there is one (unlabelled rows count
    as normal for the split), random otherwise."""
    strategy = spec.split.strategy
    if label is None and strategy == "stratified":
        strategy = "random"
    table = frame.assign(**{_NO_LABEL: np.nan_to_num(y, nan=0.0)})
    split = split_frame(
        table,
        _NO_LABEL,
        strategy=strategy,
        time_column=spec.split.time_column,
        group_column=spec.split.group_column,
        split_column=spec.split.split_column,
        seed=spec.seed,
        exclude=[*exclude, *([label] if label else [])],
    )
    if split.severe and not spec.split.allow_leakage:
        raise InvalidInput(
            "The split leaks: "
            + " ".join(f["message"] for f in split.severe)
            + " Fix the data or the split, or pass --allow-leakage.",
            details={"findings": split.findings},
        )
    return split


def _fit(data: _Data, spec: TrainSpec) -> tuple[AnomalyModel, list[dict[str, Any]]]:
    """Fit the candidates on train and keep the best on validation (labelled; else the
    first): the deployed detector is the one validation judged, not a refit, because a
    density detector refit on more rows can swallow a cluster of anomalies it had caught."""
    family = AnomalyFamily()
    given = dict(spec.search.params) if spec.search.params else None
    y_valid = data.y[data.split.valid]
    labelled = _has_both(y_valid)
    if given is not None:
        candidates = [given]
    elif labelled:
        candidates = list(CANDIDATES)
    else:
        candidates = [CANDIDATES[0]]
    board: list[dict[str, Any]] = []
    fits = []
    for params in candidates:
        fit = family.fit(_fit_data(data), dict(params), spec.seed)
        started = time.perf_counter()
        scores = family.predict(fit.estimator, data.x["valid"])
        row: dict[str, Any] = {
            "family": fit.params["kind"],
            "params": fit.params,
            "fit_seconds": fit.fit_seconds,
            "predict_ms_per_row": 1000 * (time.perf_counter() - started) / max(len(scores), 1),
        }
        if labelled:
            known = ~np.isnan(y_valid)
            row["validation"] = _label_metrics(y_valid[known], scores[known])
            row["valid_score"] = row["validation"]["pr_auc"]
        board.append(row)
        fits.append(fit)
    best = max(range(len(board)), key=lambda i: board[i].get("valid_score", 0.0)) if labelled else 0
    estimator = fits[best].estimator
    threshold, contamination, rule = _threshold(data, family, estimator, spec, labelled)
    problem = Problem("anomaly", data.label or "", (False, True), True)
    decision = {"rule": rule, "contamination": contamination, "detector": estimator.kind}
    model = AnomalyModel(
        data.encoder, family, estimator, problem, threshold, decision, label=data.binary
    )
    board.sort(key=lambda r: -r.get("valid_score", 0.0))
    for rank, row in enumerate(board, start=1):
        row["rank"] = rank
    return model, board


def _threshold(
    data: _Data, family: AnomalyFamily, estimator: Any, spec: TrainSpec, labelled: bool
) -> tuple[float, float, str]:
    """The threshold, the share of training rows it flags, and what chose it: the
    contamination asked for (or the default) as a quantile of the training scores; else,
    with labels, the best-F1 cut on validation, moved halfway to the next lower score so
    that a clean separation keeps a margin on new rows."""
    seen = family.predict(estimator, data.x["train"])
    if spec.contamination is not None or not labelled:
        rule = "contamination" if spec.contamination is not None else "default_contamination"
        contamination = float(spec.contamination or DEFAULT_CONTAMINATION)
        return float(np.quantile(seen, 1.0 - contamination)), contamination, rule
    scores = family.predict(estimator, data.x["valid"])
    y_valid = data.y[data.split.valid]
    known = ~np.isnan(y_valid)
    cut = best_f1_threshold(y_valid[known], scores[known])
    below = scores[scores < cut]
    threshold = (cut + float(below.max())) / 2 if len(below) else cut
    return threshold, float(np.mean(seen >= threshold)), "label_f1"


def _fit_data(data: _Data) -> FitData:
    x = data.x["train"]
    return FitData(
        "anomaly", 2, x, np.zeros(len(x)), None, None, list(data.encoder.categorical_indices_)
    )


def _has_both(y: np.ndarray) -> bool:
    known = y[~np.isnan(y)]
    return bool(0 < known.sum() < len(known))


def _label_metrics(y: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """The evaluation room's binary metrics that mean something for a score that is not a
    probability, and the precision among the k highest scores (k: the positives)."""
    out = evaluate("binary", y, scores, threshold=threshold)
    for key in ("log_loss", "brier"):
        out.pop(key, None)
    k = int(y.sum())
    if k:
        top = np.argsort(-scores, kind="stable")[:k]
        out["precision_at_k"] = float(y[top].mean())
    return out


def _metrics(data: _Data, model: AnomalyModel) -> dict[str, dict[str, float]]:
    """Test metrics: against the label where there is one, and the share flagged."""
    out: dict[str, dict[str, float]] = {}
    for part in ("valid", "test"):
        rows = getattr(data.split, part)
        scores = model.predict_scores(data.x[part])
        values: dict[str, float] = {
            "rows": float(len(rows)),
            "anomaly_rate": float(np.mean(scores >= model.threshold)) if len(rows) else 0.0,
            "score_mean": float(scores.mean()) if len(rows) else 0.0,
        }
        y = data.y[rows]
        known = ~np.isnan(y)
        if _has_both(y):
            values.update(_label_metrics(y[known], scores[known], model.threshold))
        out[part] = values
    return out


def _publish(
    project: Project,
    name: str,
    run: Run,
    data: _Data,
    model: AnomalyModel,
    metrics: dict[str, dict[str, float]],
    lineage: dict[str, Any],
    spec: TrainSpec,
    say: Callable[[str], None],
) -> tuple[ModelVersion, StoredEvaluation | None]:
    """Register pending, write the evaluation report (labelled) and the monitoring
    baseline, then make the version ready as the run finishes."""
    say("Registering the model")
    test = data.split.test
    held_out, lineage["held_out"] = held_out_files(np.asarray(test), lineage["dataset"])
    mv = register_model(
        project,
        name,
        model,
        run_id=run.id,
        metrics=metrics,
        lineage=lineage,
        extra_files=held_out,
        pending=True,
    )
    evaluation = None
    y = data.y[test]
    known = ~np.isnan(y)
    if data.binary is not None and _has_both(y):
        say("Writing the evaluation report")
        rows = data.frame.iloc[test][known]
        options = check_evaluation_options(rows, data.binary, slice_by=spec.report.slice_by)
        evaluation = write_evaluation(
            project,
            mv,
            data.binary,
            test_rows=rows[options.columns],
            y=y[known],
            scores=model.predict_scores(data.x["test"][known]),
            threshold=model.threshold,
            decision=model.decision,
            options=options,
            seed=spec.seed,
        )
    say("Writing the monitoring baseline")
    payload = evaluation.payload if evaluation else {}
    write_baseline(project, mv, model, data.frame.iloc[test], payload, spec.seed)
    ready = publish_model(
        project,
        mv,
        run_metrics={f"{p}.{k}": v for p, values in metrics.items() for k, v in values.items()},
        run_outputs={"model": mv.ref, "detectors": to_json(lineage["detectors"])},
    )
    if evaluation is not None:
        evaluation = dataclasses.replace(evaluation, model_version=ready)
    return ready, evaluation
