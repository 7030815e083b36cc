"""The trained model as deployed: encoder + estimator + decision rule, in one picklable object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput
from shipyard.model.calibration import Calibrator
from shipyard.model.encoder import Encoded, FeatureEncoder
from shipyard.model.families import Family
from shipyard.model.predictions import Predictions
from shipyard.model.problem import Problem

__all__ = ["Predictions", "TabularModel"]


class TabularModel:
    """What a model version runs: the same object scores in training, batch and the server.

    Args:
        encoder: The fitted feature encoder.
        family: The family that fitted ``estimator``.
        estimator: The fitted estimator.
        problem: The problem it solves.
        threshold: The decision threshold on P(positive) (binary problems), applied to the
            calibrated score.
        calibrator: Maps raw P(positive) to calibrated P(positive) (binary problems).
        decision: How the threshold was chosen (rule and its settings).
    """

    def __init__(
        self,
        encoder: FeatureEncoder,
        family: Family,
        estimator: Any,
        problem: Problem,
        threshold: float = 0.5,
        calibrator: Calibrator | None = None,
        decision: dict[str, Any] | None = None,
    ) -> None:
        self.encoder = encoder
        self.family = family
        self.estimator = estimator
        self.problem = problem
        self.threshold = threshold
        self.calibrator = calibrator
        self.decision = decision or {"rule": "f1"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Load a pickled model, bringing an older bundle's estimator up to date."""
        self.__dict__.update(state)
        self.estimator = self.family.upgrade(self.estimator)

    @property
    def signature(self) -> dict[str, Any]:
        out = dict(self.encoder.signature)
        out["problem_type"] = self.problem.type
        out["target"] = self.problem.target
        if self.problem.type != "regression":
            out["classes"] = list(self.problem.classes)
        if self.problem.type == "binary":
            out["positive"] = self.problem.positive
            out["threshold"] = self.threshold
            out["decision"] = getattr(self, "decision", {"rule": "f1"})
            calibrator = getattr(self, "calibrator", None)
            out["calibration"] = calibrator.method if calibrator else "none"
        return out

    def predict_frame(self, frame: pd.DataFrame, *, threads: int = 0) -> Predictions:
        """Score a DataFrame (batch); raises InvalidInput for missing or mistyped columns."""
        return self._predict(self.encoder.encode_frame(frame), threads)

    def predict_records(
        self, records: Sequence[Mapping[str, Any]], *, threads: int = 1
    ) -> Predictions:
        """Score JSON rows; one thread by default, which is fastest for a few rows."""
        return self._predict(self.encoder.encode_records(records), threads)

    def predict_columns(
        self, columns: Mapping[str, Any], rows: int, *, threads: int = 1
    ) -> Predictions:
        """Score a batch given column by column (lists or 1-D NumPy arrays of ``rows`` values,
        see :meth:`FeatureEncoder.encode_columns`): no per-row dicts on the way.

        Raises:
            InvalidInput: A missing column, a column of another length, or a mistyped value.
        """
        return self._predict(self.encoder.encode_columns(columns, rows), threads)

    def predict_scores(self, matrix: np.ndarray, *, threads: int = 0) -> np.ndarray:
        """Scores of an already encoded matrix (used in training and evaluation), calibrated
        when the model carries a calibrator."""
        scores = self.family.predict(self.estimator, matrix, threads=threads)
        # Bundles pickled before calibration existed have no such attribute.
        calibrator = getattr(self, "calibrator", None)
        return scores if calibrator is None else calibrator.apply(scores)

    def decide(self, scores: np.ndarray) -> np.ndarray | None:
        """Turn scores into decisions: the label past the threshold, or the likeliest class."""
        if self.problem.type == "binary":
            return scores >= self.threshold
        if self.problem.type == "multiclass":
            return np.asarray(self.problem.classes, dtype=object)[np.argmax(scores, axis=1)]
        return None

    def feature_importance(self) -> dict[str, float]:
        """Global importance per encoded feature, largest first, summing to 1 ({} if none)."""
        names = self.encoder.feature_names_
        shares = self.family.importance(self.estimator, len(names))
        if shares is None:
            return {}
        order = np.argsort(-shares, kind="stable")
        return {names[i]: float(shares[i]) for i in order}

    def mean_abs_contributions(self, frame: pd.DataFrame) -> dict[str, float] | None:
        """Global attribution: the mean |SHAP contribution| of each encoded feature over the
        rows of ``frame``, largest first (None when no family in the model can explain).

        The space is :meth:`explain_records`'s (log-odds, margin, value or probability);
        the ranking, not the scale, is what a monitor compares across windows.
        """
        family, estimator, _exact = self._explainer()
        if family is None or len(frame) == 0:
            return None
        encoded = self.encoder.encode_frame(frame)
        contrib = family.contributions(estimator, encoded.matrix)
        if contrib is None:
            return None
        scores = self.predict_scores(encoded.matrix)
        picked = np.argmax(scores, axis=1) if scores.ndim == 2 else np.zeros(len(scores), int)
        rows = contrib[np.arange(len(picked)), picked][:, :-1]
        means = np.abs(rows).mean(axis=0)
        order = np.argsort(-means, kind="stable")
        names = self.encoder.feature_names_
        return {names[i]: float(means[i]) for i in order}

    @property
    def can_explain(self) -> bool:
        """Whether :meth:`explain_records` works for this model's family (or a member)."""
        return self._explainer()[0] is not None

    def explain_records(
        self, records: Sequence[Mapping[str, Any]], *, top: int = 5
    ) -> list[dict[str, Any]]:
        """Why each row scored what it did: the ``top`` features by |contribution|.

        Contributions are additive: ``base`` plus every feature's contribution equals
        ``raw_score``. For a single model the space is its raw score (log-odds for binary, the
        predicted class's margin for multiclass, the value for regression; tree SHAP for the
        boosters, coefficient times value for linear models). For an ensemble whose members
        all explain, it is the ensemble's probability (or value): each member's
        contributions are rescaled to its probability and weighted, so the sum is exact.
        Otherwise the heaviest member that can explain stands in (``exact`` is false).
        Calibration is applied after: ``score`` may differ from ``raw_score``.

        Raises:
            InvalidInput: Bad rows, or no family in the model can explain single predictions.
        """
        encoded = self.encoder.encode_records(records)
        family, estimator, exact = self._explainer()
        contrib = family.contributions(estimator, encoded.matrix) if family else None
        if family is None or contrib is None:
            raise InvalidInput(
                f"A {self.family.name} model cannot explain single predictions; LightGBM, "
                "XGBoost, CatBoost and linear models can. Train with one of those families."
            )
        scores = self.predict_scores(encoded.matrix, threads=1)
        picked = np.argmax(scores, axis=1) if scores.ndim == 2 else np.zeros(len(scores), int)
        rows = contrib[np.arange(len(picked)), picked]  # (n, features + 1)
        order = np.argsort(-np.abs(rows[:, :-1]), axis=1, kind="stable")[:, :top]
        names = self.encoder.feature_names_
        if getattr(estimator, "members", None) is not None:
            space = "value" if self.problem.type == "regression" else "probability"
        else:
            space = {"binary": "log-odds", "multiclass": "margin", "regression": "value"}[
                self.problem.type
            ]
        if space == "value" and getattr(self.calibrator, "method", None) == "exp":
            space = "log(1 + value)"  # a model of log(1 + y); score maps it back to y
        out = []
        for i, record in enumerate(records):
            item: dict[str, Any] = {
                "score": scores[i].tolist() if scores.ndim == 2 else float(scores[i]),
                "space": space,
                "base": float(rows[i, -1]),
                "raw_score": float(rows[i].sum()),
                "contributions": [
                    {
                        "feature": names[j],
                        "value": record.get(names[j], float(encoded.matrix[i, j])),
                        "contribution": float(rows[i, j]),
                    }
                    for j in order[i]
                ],
                "explained_by": family.name,
                "exact": exact,
            }
            if self.problem.type == "multiclass":
                item["class"] = self.problem.classes[int(picked[i])]
            out.append(item)
        return out

    def _explainer(self) -> tuple[Family | None, Any, bool]:
        """The family and estimator that explain this model, and whether that is exact."""
        members = getattr(self.estimator, "members", None)
        if members is None:
            explains = type(self.family).contributions is not Family.contributions
            return (self.family if explains else None), self.estimator, True
        explaining = [m for m in members if type(m[0]).contributions is not Family.contributions]
        if len(explaining) == len(members) and getattr(self.estimator, "problem", None):
            return self.family, self.estimator, True
        if not explaining:
            return None, self.estimator, False
        family, estimator, _weight = max(explaining, key=lambda m: m[2])
        return family, estimator, False

    def _predict(self, encoded: Encoded, threads: int) -> Predictions:
        scores = self.predict_scores(encoded.matrix, threads=threads)
        return Predictions(scores, self.decide(scores), encoded.unseen, self.problem)
