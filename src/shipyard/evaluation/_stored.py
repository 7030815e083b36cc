"""The evaluation report on a project: made at the end of training, stored with the model
version (JSON in the catalog, the HTML page in the artifact store), read back by
``shipyard models report``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipyard.entities import ModelVersion, to_json
from shipyard.errors import InvalidInput, NotFound, did_you_mean, require_columns
from shipyard.evaluation._html import render_evaluation_html
from shipyard.evaluation._report import evaluate_test
from shipyard.htmlpage import esc
from shipyard.model import Problem
from shipyard.project import Project

__all__ = [
    "EVALUATION_KIND",
    "EvaluationOptions",
    "StoredEvaluation",
    "check_evaluation_options",
    "evaluation_html",
    "load_evaluation",
    "write_evaluation",
]

EVALUATION_KIND = "evaluation"

# Measured on 2 busy cores: ~0.2 s + 4 s per million test rows (bootstrap, slices, page), and
# ~0.4 s to import the analyze room the first time a facet's bias is computed.
_REPORT_SECONDS = (0.2, 4e-6, 0.4)


@dataclass(frozen=True)
class EvaluationOptions:
    """What the evaluation report slices by, and the facet of its post-training bias."""

    slice_by: tuple[str, ...] = ()
    facet: str | None = None
    facet_values: tuple[Any, ...] | None = None
    facet_threshold: float | None = None

    def seconds(self, rows: int) -> float:
        """About how long the report of ``rows`` test rows takes (reserved from a budget)."""
        fixed, per_row, facet = _REPORT_SECONDS
        return (
            fixed + per_row * rows * (1 + 0.2 * len(self.slice_by)) + (facet if self.facet else 0)
        )

    @property
    def columns(self) -> list[str]:
        """The table columns the report reads from the test rows."""
        return list(dict.fromkeys([*self.slice_by, *([self.facet] if self.facet else [])]))


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation report, the model version it belongs to, and where its page is."""

    model_version: ModelVersion
    payload: dict[str, Any]
    html_uri: str | None

    @property
    def html_path(self) -> Path | None:
        """The page as a local file, when the artifact store is a local folder."""
        if not self.html_uri or not self.html_uri.startswith("file://"):
            return None
        return Path(self.html_uri[len("file://") :])

    @property
    def location(self) -> str:
        """Where to open the page: its local path, else its URI."""
        return str(self.html_path or self.html_uri or "(no HTML page)")


def check_evaluation_options(
    frame: pd.DataFrame,
    problem: Problem,
    *,
    slice_by: Sequence[str] = (),
    facet: str | None = None,
    facet_values: Sequence[Any] | None = None,
    facet_threshold: float | None = None,
) -> EvaluationOptions:
    """Validate the report's options against the table, before anything is trained.

    Raises:
        NotFound: A slice or facet column is not in the table (with the closest name).
        InvalidInput: Facet options without a facet, a facet on a non-binary problem, both
            values and a threshold, a threshold on a non-numeric facet, or a facet value that
            does not occur.
    """
    if isinstance(slice_by, str):
        slice_by = [slice_by]
    require_columns([*slice_by, *([facet] if facet else [])], list(frame.columns))
    if facet is None:
        if facet_values or facet_threshold is not None:
            raise InvalidInput(
                "facet_values and facet_threshold choose the groups of a facet; give the facet "
                "column too (--facet COLUMN)."
            )
        return EvaluationOptions(tuple(dict.fromkeys(slice_by)))
    if problem.type != "binary":
        raise InvalidInput(
            "Post-training bias (--facet) compares how a binary model treats groups; this "
            f"target is a {problem.type} problem. Use --slice-by {facet} to see its metrics "
            "per group instead."
        )
    column = frame[facet]
    if facet_values and facet_threshold is not None:
        raise InvalidInput(
            "Give either facet values (a categorical facet) or a facet threshold (a numeric "
            "one), not both."
        )
    if facet_threshold is not None and not (
        pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    ):
        raise InvalidInput(
            f"A facet threshold splits a numeric facet at facet > T; '{facet}' is "
            f"{column.dtype}. Give --facet-value V instead."
        )
    values = tuple(_match_facet_value(column, v) for v in facet_values or ())
    return EvaluationOptions(tuple(dict.fromkeys(slice_by)), facet, values or None, facet_threshold)


def _match_facet_value(column: pd.Series, value: Any) -> Any:
    """``value`` as it occurs in the column (``"65"`` matches 65), or a clear error."""
    present = column.dropna().unique()
    for v in present:
        if v == value or str(v) == str(value):
            return v.item() if isinstance(v, np.generic) else v
    known = [str(v) for v in present[:50]]
    raise InvalidInput(
        f"The facet value {value!r} does not occur in '{column.name}'."
        f"{did_you_mean(str(value), known)} Values: {', '.join(known)}."
    )


def write_evaluation(
    project: Project,
    model_version: ModelVersion,
    problem: Problem,
    *,
    test_rows: pd.DataFrame,
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    decision: dict[str, Any],
    options: EvaluationOptions,
    curves: dict[str, list[float]] | None = None,
    leaderboard: list[dict[str, Any]] | None = None,
    leaderboard_metric: str | None = None,
    diagnostics: list[dict[str, Any]] | None = None,
    seed: int = 0,
) -> StoredEvaluation:
    """Evaluate a new model version on its test rows and store the report with it."""
    started = time.perf_counter()
    payload = evaluate_test(
        problem,
        y,
        scores,
        threshold=threshold,
        decision=decision,
        slices=test_rows[list(options.slice_by)] if options.slice_by else None,
        curves=curves,
        leaderboard=to_json(leaderboard or []),
        leaderboard_metric=leaderboard_metric,
        diagnostics=diagnostics,
        seed=seed,
    )
    payload["model"] = model_version.ref
    payload["dataset"] = model_version.lineage.get("dataset")
    payload["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    bias_html = ""
    if options.facet:
        payload["bias"], bias_html = _bias(problem, test_rows, y, scores, threshold, options)
    payload["seconds"] = time.perf_counter() - started
    html = render_evaluation_html(payload, bias_section=bias_html)
    name, version = model_version.name, model_version.version
    key = f"reports/models/{name}/{version}/evaluation-{uuid.uuid4().hex[:8]}.html"
    uri = project.artifacts.put_bytes(key, html.encode())
    project.catalog.put_report(
        model_version.ref, EVALUATION_KIND, payload, html_uri=uri, actor=project.actor
    )
    return StoredEvaluation(model_version, payload, uri)


def _bias(
    problem: Problem,
    test_rows: pd.DataFrame,
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    options: EvaluationOptions,
) -> tuple[dict[str, Any], str]:
    """Clarify's post-training bias of the decisions on the test rows, and its HTML."""
    from shipyard.analyze import posttraining_bias, render_posttraining_section

    negative = next(c for c in problem.classes if c != problem.positive)
    y_true = np.where(y > 0.5, problem.positive, negative)
    y_pred = np.where(scores >= threshold, problem.positive, negative)
    facet = str(options.facet)
    try:
        report = posttraining_bias(
            y_true,
            y_pred,
            test_rows[facet].to_numpy(),
            positive=[problem.positive],
            facet_values=list(options.facet_values) if options.facet_values else None,
            threshold=options.facet_threshold,
            facet_name=facet,
            label_name=problem.target,
        )
    except InvalidInput as exc:
        # The test rows alone can make a facet unmeasurable (one group, one class); the model
        # is still good to register, so the report says why instead of failing the job.
        return {"facet": facet, "error": exc.message}, (
            f"<p><span class='badge warning'>not computed</span> {esc(exc.message)}</p>"
        )
    return report, render_posttraining_section(report)


def load_evaluation(project: Project, ref: str) -> StoredEvaluation:
    """The stored evaluation report of the model version ``ref`` names.

    Raises:
        NotFound: No such model version, or it has no evaluation report (trained before
            reports existed); the message says how to make one.
    """
    from shipyard.environments import resolve_version

    home, version = resolve_version(project, ref)
    try:
        stored = home.catalog.get_report(version.ref, EVALUATION_KIND)
    except NotFound:
        lineage = version.lineage
        dataset, target = lineage.get("dataset", "DATASET"), lineage.get("target", "TARGET")
        if version.problem_type == "anomaly":
            raise NotFound(
                f"Model version {version.ref} has no evaluation report: an anomaly model is "
                "evaluated against a label, and it was trained without one (or its test rows "
                f"had only one class). Train it with one: `shipyard train {dataset} --problem "
                f"anomaly --target LABEL -m {version.name}`.",
                details={"model": version.ref},
            ) from None
        raise NotFound(
            f"Model version {version.ref} has no evaluation report: it was trained before "
            "training wrote one. Train it again to get one, e.g. `shipyard train "
            f"{dataset} --target {target} -m {version.name} [--slice-by COLUMN]`; the new "
            "version carries the report.",
            details={"model": version.ref},
        ) from None
    return StoredEvaluation(version, stored.payload, stored.html_uri)


def evaluation_html(project: Project, stored: StoredEvaluation) -> bytes:
    """The stored HTML page of a report (from any artifact store)."""
    if stored.html_uri is None:
        raise NotFound(f"The evaluation report of {stored.model_version.ref} has no HTML page.")
    return project.artifacts.get_bytes(project.artifacts.key_of(stored.html_uri))
