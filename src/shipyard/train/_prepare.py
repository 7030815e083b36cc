"""A training job's data, before anything is fitted: read, checked, split, encoded.

Besides the options the job was given, this is where the pitfalls that need no model are
caught: columns left out of the features by default (dates, identifiers, columns Shipyard
wrote; see :mod:`shipyard.train._pitfalls`), the split's leakage checks, personal data, and
the learning curve that says whether more rows would help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shipyard.automl import choose_metric
from shipyard.catalog.refs import parse_dataset_ref
from shipyard.entities import DatasetVersion
from shipyard.errors import InvalidInput, require_columns
from shipyard.evaluation import EvaluationOptions, check_evaluation_options
from shipyard.lake import read_written
from shipyard.model import AnomalyFeatureEncoder, FeatureEncoder, Problem, infer_problem
from shipyard.project import Project
from shipyard.security.pii import check_pii_features, column_hash_key, pii_columns
from shipyard.train._fitting import Parts
from shipyard.train._pitfalls import (
    curve_finding,
    learning_curve,
    left_out,
    tuning_finding,
    why_left_out,
)
from shipyard.train._spec import TrainSpec
from shipyard.train._split import Split, split_frame

__all__ = ["DataChecks", "Prepared", "check_training_data", "prepare"]


@dataclass
class Prepared:
    """The job's data, read, checked, split and encoded, before anything is fitted.

    ``left_out`` names the columns left out of the features by default, with why, and
    ``kept`` those that would have been but were asked for by name; ``curve`` is the
    learning curve; ``findings`` what the job found besides the split's
    findings and the model's diagnostics (too little data, an untuned model).
    """

    version: DatasetVersion
    target: str
    labelled: pd.DataFrame
    unlabelled: int
    problem: Problem
    split: Split
    encoder: FeatureEncoder
    parts: Parts
    report_options: EvaluationOptions
    metric: str | None
    dataset_rows: np.ndarray  # each labelled row's position in the dataset
    left_out: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    curve: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def test_rows(self) -> pd.DataFrame:
        return self.labelled.iloc[self.split.test]

    @property
    def inputs(self) -> dict[str, Any]:
        return {
            "dataset": self.version.ref,
            "fingerprint": self.version.fingerprint,
            "target": self.target,
        }

    @property
    def dropped(self) -> dict[str, str]:
        """Every column that is not a feature although nobody excluded it, and why."""
        return {**self.left_out, **self.encoder.dropped_}


def prepare(
    project: Project, dataset: str, target: str, spec: TrainSpec, say: Callable[[str], None]
) -> Prepared:
    """Read the dataset version, infer the problem, check the options against the table,
    split with leakage checks, encode the parts and draw the learning curve."""
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    say(f"Reading {version.ref} ({version.num_rows:,} rows)")
    frame = project.lake.read_frame(version)
    require_columns([target, *spec.exclude, *spec.keep_columns], list(frame.columns))
    has_target = frame[target].notna().to_numpy()
    labelled = frame[has_target].reset_index(drop=True)
    problem = infer_problem(
        labelled[target], positive=spec.positive, problem_type=spec.problem_type
    )
    if problem.type != "binary" and spec.decision.rule != "f1":
        raise InvalidInput(
            "cost_fp / cost_fn and alert_rate set the decision threshold of a binary model; "
            f"this target is a {problem.type} problem."
        )
    y = problem.encode(labelled[target])
    report_options = _report_options(labelled, problem, spec)
    chosen = [target, *spec.exclude, *spec.split.used_columns]
    written = read_written(project.lake.files(version))
    left = left_out(labelled, written, excluded=chosen, keep=spec.keep_columns)
    say(f"Splitting ({spec.split.strategy})")
    split = _split(labelled, target, spec, [*spec.exclude, *left])
    metric = (
        choose_metric(problem.type, y[split.train], spec.search.metric)
        if spec.search.automl
        else None
    )
    excluded = [*chosen, *left]
    encoder = _encoder(
        spec, excluded, _pii_hashes(project, version, spec, labelled.columns, excluded)
    )
    if spec.anomaly_feature:
        say(f"Fitting the {spec.anomaly_feature} anomaly feature on {len(split.train):,} rows")
    # Fitted on the train part alone: the anomaly feature's detector with it, so it never
    # learns from a validation or test row.
    x = {"train": encoder.fit_encode(labelled.iloc[split.train]).matrix}
    for part, r in (("valid", split.valid), ("test", split.test)):
        x[part] = encoder.encode_frame(labelled.iloc[r]).matrix
    rows = {"train": split.train, "valid": split.valid, "test": split.test}
    parts = Parts(
        x=x,
        y={part: y[r] for part, r in rows.items()},
        categorical=list(encoder.categorical_indices_),
        feature_names=list(encoder.feature_names_),
    )
    say("Drawing the learning curve")
    curve = learning_curve(problem, parts, spec.seed)
    findings = [f for f in (curve_finding(curve), tuning_finding(spec)) if f is not None]
    return Prepared(
        version,
        target,
        labelled,
        len(frame) - len(labelled),
        problem,
        split,
        encoder,
        parts,
        report_options,
        metric,
        np.flatnonzero(has_target),
        left,
        why_left_out(labelled, written, spec.keep_columns),
        curve,
        findings,
    )


def _encoder(spec: TrainSpec, excluded: list[str], hashed: dict[str, str]) -> FeatureEncoder:
    """The job's encoder, unfitted: with the anomaly feature's detector when asked."""
    if spec.anomaly_feature is None:
        return FeatureEncoder(exclude=excluded, hashed=hashed)
    return AnomalyFeatureEncoder(
        exclude=excluded, hashed=hashed, detector=spec.anomaly_feature, seed=spec.seed
    )


def _report_options(labelled: pd.DataFrame, problem: Problem, spec: TrainSpec) -> EvaluationOptions:
    report = spec.report
    return check_evaluation_options(
        labelled,
        problem,
        slice_by=report.slice_by,
        facet=report.facet,
        facet_values=report.facet_values,
        facet_threshold=report.facet_threshold,
    )


def _split(labelled: pd.DataFrame, target: str, spec: TrainSpec, exclude: list[str]) -> Split:
    """The split, refused when it leaks badly (unless ``allow_leakage``)."""
    split = split_frame(
        labelled,
        target,
        strategy=spec.split.strategy,
        time_column=spec.split.time_column,
        group_column=spec.split.group_column,
        split_column=spec.split.split_column,
        seed=spec.seed,
        exclude=exclude,
    )
    if split.severe and not spec.split.allow_leakage:
        raise InvalidInput(
            "The split leaks: "
            + " ".join(f["message"] for f in split.severe)
            + " Fix the data or the split, or pass --allow-leakage to train anyway "
            "(it is recorded on the run).",
            details={"findings": split.findings},
        )
    return split


def _pii_hashes(
    project: Project,
    version: DatasetVersion,
    spec: TrainSpec,
    columns: Any,
    excluded: list[str],
) -> dict[str, str]:
    """Refuse PII-tagged features that are neither allowed nor hashed; the hash keys."""
    names = list(columns)
    require_columns([*spec.allow_pii, *spec.hash_pii], names)
    features = [c for c in names if c not in excluded]
    check_pii_features(
        pii_columns(project, version.ref), features, allow=spec.allow_pii, hashed=spec.hash_pii
    )
    return {c: column_hash_key(project, c) for c in spec.hash_pii if c in features}


@dataclass(frozen=True)
class DataChecks:
    """What training would find in a dataset before fitting anything: the columns it would
    leave out of the features (and why), and the split's summary with its findings."""

    version: DatasetVersion
    target: str
    left_out: dict[str, str]
    split: dict[str, Any]


def check_training_data(
    project: Project, dataset: str, target: str, *, strategy: str = "stratified", seed: int = 0
) -> DataChecks:
    """The checks a training job runs on ``dataset`` before it fits: left-out columns and
    the split's leakage findings (for ``strategy``; a time or group split needs training
    itself, which names its column).

    Raises:
        NotFound: The dataset or the target column does not exist.
        InvalidInput: Too few labelled rows to split, or an unknown strategy.
    """
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    frame = project.lake.read_frame(version)
    require_columns([target], list(frame.columns), role="target")
    has_target = frame[target].notna().to_numpy()
    labelled = frame[has_target].reset_index(drop=True)
    written = read_written(project.lake.files(version))
    left = left_out(labelled, written, excluded=[target], keep=())
    split = split_frame(labelled, target, strategy=strategy, seed=seed, exclude=list(left))
    return DataChecks(version, target, left, split.summary())
