"""The training entry point: dataset version in, evaluated and registered model version out.

One fit of one family today; AutoML plugs in at :func:`_fit_candidates`, which returns the
chosen model and the trials it ran, so ``shipyard train`` grows without a rewrite.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.entities import ModelVersion, Run
from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.project import Project
from shipyard.train.families import get_family
from shipyard.train.features import FeatureEncoder
from shipyard.train.metrics import best_f1_threshold, evaluate
from shipyard.train.model import TabularModel
from shipyard.train.problem import Problem, infer_problem
from shipyard.train.split import Split, split_frame

__all__ = ["TrainResult", "train"]

Progress = Callable[[str], None]


@dataclass
class TrainResult:
    """What a training job produced."""

    run: Run
    model_version: ModelVersion
    problem: Problem
    metrics: dict[str, dict[str, float]]
    split: dict[str, Any]
    dropped_columns: dict[str, str] = field(default_factory=dict)


def train(
    project: Project,
    dataset: str,
    target: str,
    *,
    model_name: str | None = None,
    split: str = "stratified",
    time_column: str | None = None,
    group_column: str | None = None,
    exclude: Sequence[str] = (),
    family: str = "lightgbm",
    params: dict[str, Any] | None = None,
    positive: Any = None,
    problem_type: str | None = None,
    seed: int = 0,
    allow_leakage: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Split a dataset version, fit, evaluate on validation and test, register the model.

    Raises:
        NotFound: The dataset or a named column does not exist.
        InvalidInput: The target cannot be learned (one class), the split leaks (unless
            ``allow_leakage``), or an option is invalid.
    """
    say = progress or (lambda _msg: None)
    estimator_family = get_family(family)
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    say(f"Reading {version.ref} ({version.num_rows:,} rows)")
    frame = project.lake.read_frame(version)
    _require_columns(frame, [target, *exclude])
    labelled = frame[frame[target].notna()].reset_index(drop=True)
    unlabelled = len(frame) - len(labelled)
    problem = infer_problem(labelled[target], positive=positive, problem_type=problem_type)

    say(f"Splitting ({split})")
    parts = split_frame(
        labelled,
        target,
        strategy=split,
        time_column=time_column,
        group_column=group_column,
        seed=seed,
    )
    if parts.severe and not allow_leakage:
        raise InvalidInput(
            "The split leaks: "
            + " ".join(f["message"] for f in parts.severe)
            + " Fix the data or the split, or pass --allow-leakage to train anyway "
            "(it is recorded on the run).",
            details={"findings": parts.findings},
        )
    excluded = [target, *exclude]
    if split == "time" and time_column:
        excluded.append(time_column)
    if group_column:
        excluded.append(group_column)
    encoder = FeatureEncoder(exclude=excluded).fit(labelled.iloc[parts.train])
    y = problem.encode(labelled[target])

    name = model_name or ref.name
    run = project.catalog.create_run(
        experiment=name,
        name=f"{family}-{int(time.time())}",
        params={"family": family, "seed": seed, "split": parts.summary(), **(params or {})},
        tags={"allow_leakage": allow_leakage, "problem_type": problem.type},
        inputs={"dataset": version.ref, "fingerprint": version.fingerprint, "target": target},
        actor=project.actor,
    )
    try:
        say(f"Fitting {family} on {len(parts.train):,} rows")
        model, metrics, curves = _fit_candidates(
            encoder, estimator_family, problem, labelled, y, parts, params, seed
        )
        for key, values in curves.items():
            project.catalog.log_curve(run.id, key, list(enumerate(values, start=1)))
        lineage = {
            "dataset": version.ref,
            "dataset_fingerprint": version.fingerprint,
            "run": run.id,
            "target": target,
            "split": parts.summary(),
        }
        say("Registering the model")
        model_version = _register(project, name, model, run.id, metrics, lineage)
        run = project.catalog.finish_run(
            run.id,
            status="finished",
            metrics=_flatten(metrics),
            outputs={"model": model_version.ref, "unlabelled_rows_dropped": unlabelled},
            actor=project.actor,
        )
    except BaseException as exc:
        project.catalog.finish_run(
            run.id,
            status="failed",
            error="".join(traceback.format_exception_only(exc)).strip(),
            actor=project.actor,
        )
        raise
    return TrainResult(run, model_version, problem, metrics, parts.summary(), encoder.dropped_)


def _fit_candidates(
    encoder: FeatureEncoder,
    family: Any,
    problem: Problem,
    frame: pd.DataFrame,
    y: np.ndarray,
    parts: Split,
    params: dict[str, Any] | None,
    seed: int,
) -> tuple[TabularModel, dict[str, dict[str, float]], dict[str, list[float]]]:
    x = {
        part: encoder.encode_frame(frame.iloc[rows]).matrix
        for part, rows in (("train", parts.train), ("valid", parts.valid), ("test", parts.test))
    }
    ys = {"train": y[parts.train], "valid": y[parts.valid], "test": y[parts.test]}
    fit = family.fit(
        problem.type,
        len(problem.classes),
        x["train"],
        ys["train"],
        x["valid"],
        ys["valid"],
        encoder.categorical_indices_,
        params,
        seed,
    )
    model = TabularModel(encoder, family, fit.estimator, problem)
    valid_scores = model.predict_scores(x["valid"])
    if problem.type == "binary":
        model.threshold = best_f1_threshold(ys["valid"], valid_scores)
    metrics = {
        "valid": evaluate(problem.type, ys["valid"], valid_scores, threshold=model.threshold),
        "test": evaluate(
            problem.type, ys["test"], model.predict_scores(x["test"]), threshold=model.threshold
        ),
    }
    metrics["fit"] = {"seconds": fit.fit_seconds, "best_iteration": float(fit.best_iteration or 0)}
    return model, metrics, fit.curves


def _register(
    project: Project,
    name: str,
    model: TabularModel,
    run_id: str,
    metrics: dict[str, dict[str, float]],
    lineage: dict[str, Any],
) -> ModelVersion:
    from shipyard.registry import register_model

    return register_model(project, name, model, run_id=run_id, metrics=metrics, lineage=lineage)


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise NotFound(
                f"Column '{column}' is not in the dataset.{did_you_mean(column, frame.columns)} "
                f"Columns: {', '.join(frame.columns)}.",
                details={"column": column},
            )


def _flatten(metrics: dict[str, dict[str, float]]) -> dict[str, float]:
    return {f"{part}.{k}": v for part, values in metrics.items() for k, v in values.items()}
