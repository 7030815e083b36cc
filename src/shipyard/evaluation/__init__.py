"""Evaluation: metrics, and the test-set report stored with every model version.

The report (curves, calibration, the threshold's confusion, top-k, bootstrap intervals,
slices, post-training bias) is computed by :func:`evaluate_test`, stored by
:func:`write_evaluation` (JSON in the catalog, a self-contained HTML page in the artifact
store) and read back by :func:`load_evaluation`. Terminal views are in
:mod:`shipyard.evaluation.console`, for the faces.
"""

from __future__ import annotations

from shipyard.evaluation._intervals import metric_intervals
from shipyard.evaluation._metrics import HIGHER_IS_BETTER, best_f1_threshold, evaluate
from shipyard.evaluation._paired import paired_difference
from shipyard.evaluation._ranking import RunOrder, best_first
from shipyard.evaluation._report import EVALUATION_VERSION, evaluate_test
from shipyard.evaluation._stored import (
    EvaluationOptions,
    StoredEvaluation,
    check_evaluation_options,
    evaluation_html,
    load_evaluation,
    write_evaluation,
)

__all__ = [
    "EVALUATION_VERSION",
    "HIGHER_IS_BETTER",
    "EvaluationOptions",
    "RunOrder",
    "StoredEvaluation",
    "best_f1_threshold",
    "best_first",
    "check_evaluation_options",
    "evaluate",
    "evaluate_test",
    "evaluation_html",
    "load_evaluation",
    "metric_intervals",
    "paired_difference",
    "write_evaluation",
]
