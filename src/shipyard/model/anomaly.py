"""Unsupervised anomaly detection: a detector on encoded features, its score and its reasons.

The score is in [0, 1] and higher is more anomalous, whatever the detector:

* ``isolation_forest`` (scikit-learn's IsolationForest): the score of Liu et al. (2008),
  ``2 ** (-E[path length] / c(n))``; about 0.5 for ordinary rows, towards 1 for rows that a
  few random cuts isolate (SageMaker's Random Cut Forest scores the same idea on another
  scale).
* ``lof`` (LocalOutlierFactor with ``novelty=True``, on robust z-scores: median and
  interquartile range, from at most :data:`LOF_MAX_ROWS` training rows):
  ``1 - 1 / max(LOF, 1)``; 0 for rows as dense as their neighbours, towards 1 for rows far
  sparser.

A row is an anomaly (``decision`` true) when its score reaches the model's threshold, the
``1 - contamination`` quantile of the training rows' scores.

Explanations are occlusion attributions: a feature's contribution is how much the score
falls when that feature alone takes the values of ordinary training rows (a background
sample kept with the model), the others unchanged. They are not additive (``exact`` is
false); a row that is odd in one feature gets that feature as its top contributor.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput
from shipyard.model.encoder import FeatureEncoder
from shipyard.model.families._base import Family, FitData, FitResult, IterationHook
from shipyard.model.problem import Problem
from shipyard.model.tabular import TabularModel
from shipyard.types import ProblemType

__all__ = ["DETECTORS", "LOF_MAX_ROWS", "AnomalyDetector", "AnomalyFamily", "AnomalyModel"]

DETECTORS = ("isolation_forest", "lof")
_BACKGROUND = 32  # ordinary rows that stand in for a feature when it is occluded
_EXPLAIN_ROWS = {"isolation_forest": 200, "lof": 25}  # rows the global attribution averages
LOF_MAX_ROWS = 20_000
"""LOF learns from at most this many training rows (a seeded sample): its neighbour search
costs grow with the rows it keeps, at fit and at every score."""
_GRID_ROWS = 100_000  # occluded rows scored at once, to bound memory
_FEW_ROWS = 64  # up to this many rows are scored on one thread


class AnomalyDetector:
    """A scikit-learn outlier detector behind a fill of missing values and a [0, 1] score.

    Follows the estimator contract: ``__init__`` stores its arguments, ``fit`` learns the
    attributes ending in ``_`` and returns ``self``.

    Args:
        kind: ``isolation_forest`` or ``lof``.
        params: Parameters of the scikit-learn estimator.
        categorical: Columns holding category codes: a missing or unseen category is filled
            with -1, a code of its own, rather than with the median code.
        seed: Seeds the forest and the background sample.
    """

    def __init__(
        self,
        kind: str = "isolation_forest",
        params: Mapping[str, Any] | None = None,
        categorical: Sequence[int] = (),
        seed: int = 0,
    ) -> None:
        self.kind = kind
        self.params = dict(params or {})
        self.categorical = list(categorical)
        self.seed = seed

    def fit(self, x: np.ndarray, *, threads: int = 0) -> AnomalyDetector:
        """Learn the fill values, the detector and a background sample from ``x``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: 0 below
            fill = np.nanmedian(x, axis=0) if len(x) else np.zeros(x.shape[1])
        fill = np.where(np.isfinite(fill), fill, 0.0)
        fill[self.categorical] = -1.0
        self.fill_ = fill
        x = x[self._learnt_rows(len(x))]
        raw = self._filled(x, scaled=False)
        # Distances need comparable units: LOF sees robust z-scores (median, IQR); the
        # forest's random cuts do not care.
        self.center_, self.scale_ = _robust_units(raw)
        self.estimator_ = _make(self.kind, self.params, self.seed, threads, len(x)).fit(
            self._filled(raw)
        )
        rng = np.random.default_rng(self.seed)
        picked = rng.choice(len(x), size=min(_BACKGROUND, len(x)), replace=False)
        self.background_ = raw[np.sort(picked)]  # in the input's units, as occlusion uses
        return self

    def fit_score(self, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        """Fit on ``x`` and score its rows as :meth:`score` scores new ones: LOF scores the
        rows it learnt from without themselves among their neighbours (its own score of a
        training row would count the row as its nearest neighbour, lowering it)."""
        self.fit(x, threads=threads)
        scores = self.score(x)
        if self.kind == "lof":
            outlier_factor = -self.estimator_.negative_outlier_factor_
            scores[self._learnt_rows(len(x))] = 1.0 - 1.0 / np.maximum(outlier_factor, 1.0)
        return scores

    def _learnt_rows(self, rows: int) -> np.ndarray:
        """The positions of the rows :meth:`fit` learns from (LOF: a seeded sample)."""
        if self.kind == "lof" and rows > LOF_MAX_ROWS:
            keep = np.random.default_rng(self.seed).choice(rows, LOF_MAX_ROWS, replace=False)
            return np.sort(keep)
        return np.arange(rows)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Anomaly scores in [0, 1], higher is more anomalous (see the module's doc)."""
        filled = self._filled(x)
        if len(filled) <= _FEW_ROWS:
            # LOF's neighbour search runs on OpenMP threads: for a request of a few rows,
            # waking them costs ten times the search itself (measured: 56 ms against
            # 4.5 ms for one row among 20,000).
            with _openmp().limit(limits=1, user_api="openmp"):
                raw = -self.estimator_.score_samples(filled)
        else:
            raw = -self.estimator_.score_samples(filled)
        if self.kind == "lof":
            raw = 1.0 - 1.0 / np.maximum(raw, 1.0)
        return np.asarray(raw, dtype=np.float64)

    def occlusion(self, x: np.ndarray) -> np.ndarray:
        """Per row and feature, the score minus its mean with that feature replaced by the
        background rows' values: (n, features)."""
        x = self._filled(x, scaled=False)
        n, d = x.shape
        k = len(self.background_)
        step = max(1, _GRID_ROWS // max(d * k, 1))
        out = np.empty((n, d))
        columns = np.arange(d)
        for start in range(0, n, step):
            rows = x[start : start + step]
            # (rows, d, k, d): row i with feature j taken from background row b.
            grid = np.broadcast_to(rows[:, None, None, :], (len(rows), d, k, d)).copy()
            grid[:, columns, :, columns] = self.background_.T[:, None, :]
            occluded = self.score(grid.reshape(-1, d)).reshape(len(rows), d, k).mean(axis=2)
            out[start : start + step] = self.score(rows)[:, None] - occluded
        return out

    def _filled(self, x: np.ndarray, *, scaled: bool = True) -> np.ndarray:
        """``x`` with missing values filled, in the units the detector learned."""
        x = np.asarray(x, dtype=np.float64)
        missing = np.isnan(x)
        if missing.any():
            x = np.where(missing, self.fill_[None, :], x)
        center = getattr(self, "center_", None)
        if not scaled or center is None or self.kind != "lof":
            return x
        return (x - center) / self.scale_


@functools.cache
def _openmp() -> Any:
    """The process's thread pools, found once (finding them takes milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _robust_units(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column the median and the interquartile range (the standard deviation where
    that is 0, else 1)."""
    if not len(x):
        return np.zeros(x.shape[1]), np.ones(x.shape[1])
    q1, center, q3 = np.percentile(x, [25, 50, 75], axis=0)
    spread = np.where(q3 - q1 > 0, q3 - q1, x.std(axis=0))
    return center, np.where(spread > 0, spread, 1.0)


def _make(kind: str, params: Mapping[str, Any], seed: int, threads: int, rows: int) -> Any:
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor

    try:
        if kind == "isolation_forest":
            chosen = {"n_estimators": 200, "max_samples": 256, **params}
            if isinstance(chosen["max_samples"], int) and not isinstance(
                chosen["max_samples"], bool
            ):  # more than the rows: all of them, without scikit-learn's warning
                chosen["max_samples"] = max(1, min(chosen["max_samples"], rows))
            return IsolationForest(random_state=seed, n_jobs=threads or None, **chosen)
        if kind == "lof":
            chosen = {"n_neighbors": min(20, max(rows - 1, 1)), **params}
            return LocalOutlierFactor(novelty=True, n_jobs=threads or None, **chosen)
    except TypeError as exc:
        raise InvalidInput(f"Bad parameters for the {kind} detector: {exc}.") from None
    raise InvalidInput(
        f"Unknown anomaly detector {kind!r}. Known detectors: {', '.join(DETECTORS)}."
    )


class AnomalyFamily(Family):
    """The family of an anomaly model: fits an :class:`AnomalyDetector` on ``x_train`` alone
    (``params``: ``kind`` and the detector's parameters); predicts its [0, 1] score."""

    name: ClassVar[str] = "anomaly"

    def fit(
        self,
        data: FitData,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        *,
        on_iteration: IterationHook | None = None,
        threads: int = 0,
    ) -> FitResult:
        import time

        chosen = dict(params or {})
        kind = str(chosen.pop("kind", "isolation_forest"))
        started = time.perf_counter()
        try:
            detector = AnomalyDetector(kind, chosen, data.categorical, seed).fit(
                data.x_train, threads=threads
            )
        except ValueError as exc:
            raise InvalidInput(f"The {kind} detector rejected its parameters: {exc}") from None
        return FitResult(
            detector, {"kind": kind, **chosen}, fit_seconds=time.perf_counter() - started
        )

    def predict(self, estimator: Any, x: np.ndarray, *, threads: int = 0) -> np.ndarray:
        return np.asarray(estimator.score(x), dtype=np.float64)

    def suggest(self, trial: Any, problem: ProblemType) -> dict[str, Any]:
        raise InvalidInput("Anomaly detectors are chosen by `--problem anomaly`, not AutoML.")


class AnomalyModel(TabularModel):
    """A deployed anomaly model: scores in [0, 1], ``decision`` true past ``threshold``.

    ``problem`` is an ``anomaly`` problem whose classes are (False, True); its ``target`` is
    the label column used to evaluate, or "" when there was none. ``label`` is that column
    as a binary problem (its positive class is the anomaly), what a champion is judged on.
    """

    label: Problem | None = None

    def __init__(
        self,
        encoder: FeatureEncoder,
        family: Family,
        estimator: AnomalyDetector,
        problem: Problem,
        threshold: float,
        decision: dict[str, Any],
        label: Problem | None = None,
    ) -> None:
        super().__init__(encoder, family, estimator, problem, threshold, decision=decision)
        self.label = label

    @property
    def signature(self) -> dict[str, Any]:
        out = dict(self.encoder.signature)
        out.update(
            problem_type="anomaly",
            target=self.problem.target or None,
            classes=[False, True],
            positive=True,
            threshold=self.threshold,
            decision=self.decision,
            calibration="none",
            score="anomaly score in [0, 1], higher is more anomalous",
            detector=self.estimator.kind,
            label_positive=self.label.positive if self.label is not None else None,
        )
        return out

    def decide(self, scores: np.ndarray) -> np.ndarray:
        return scores >= self.threshold

    @property
    def can_explain(self) -> bool:
        return True

    def feature_importance(self) -> dict[str, float]:
        return {}

    def explain_records(
        self, records: Sequence[Mapping[str, Any]], *, top: int = 5
    ) -> list[dict[str, Any]]:
        """Why each row scored what it did: the ``top`` features by occlusion contribution
        (see the module's doc); ``base`` is the mean score of the background rows."""
        encoded = self.encoder.encode_records(records)
        contrib = self.estimator.occlusion(encoded.matrix)
        scores = self.estimator.score(encoded.matrix)
        base = float(self.estimator.score(self.estimator.background_).mean())
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
        names = self.encoder.feature_names_
        return [
            {
                "score": float(scores[i]),
                "decision": bool(scores[i] >= self.threshold),
                "space": "anomaly score",
                "base": base,
                "raw_score": float(scores[i]),
                "contributions": [
                    {
                        "feature": names[j],
                        "value": record.get(names[j], float(encoded.matrix[i, j])),
                        "contribution": float(contrib[i, j]),
                    }
                    for j in order[i]
                ],
                "explained_by": "occlusion",
                "exact": False,
            }
            for i, record in enumerate(records)
        ]

    def mean_abs_contributions(self, frame: pd.DataFrame) -> dict[str, float] | None:
        """Global attribution: the mean |occlusion contribution| of each feature over (at most
        200, or 25 for LOF, of) the rows of ``frame``, largest first."""
        if len(frame) == 0:
            return None
        sample = frame.iloc[: _EXPLAIN_ROWS.get(self.estimator.kind, 25)]
        contrib = self.estimator.occlusion(self.encoder.encode_frame(sample).matrix)
        means = np.abs(contrib).mean(axis=0)
        order = np.argsort(-means, kind="stable")
        names = self.encoder.feature_names_
        return {names[i]: float(means[i]) for i in order}
