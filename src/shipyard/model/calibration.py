"""Probability calibration for binary models, kept only when it lowers validation log loss;
and the map back to values for a regression model of log(1 + y).

The choice (none, isotonic, sigmoid) is made by cross-validation over the validation scores,
so a calibrator is not judged on the rows it was fitted to; the winner is then fitted on all
of them. Calibrators apply with plain NumPy, so one row costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from shipyard.errors import InvalidInput

__all__ = ["CALIBRATIONS", "EPS", "Calibrator", "fit_calibrator", "smearing_calibrator"]

CALIBRATIONS = ("auto", "none", "isotonic", "sigmoid")
EPS = 1e-6
"""Scores are clipped to [EPS, 1 - EPS] before the logit (and isotonic maps stay inside it)."""
_FOLDS = 5
_MIN_ROWS = 50
_MIN_ISOTONIC_ROWS = 1000
_MAX_EXP = 700.0  # exp overflows float64 past ~709
_RAMP = 1e-6
"""The raw score's share in an isotonic calibration. Isotonic regression maps whole ranges
of scores to one value, so rows the model told apart would tie, and ROC AUC and PR AUC would
move by chance (mlc_churn's test ROC AUC: 0.9102 raw and 0.9081 calibrated in one run,
0.9008 and 0.9054 in another). Mixing in this share of the raw score makes the map strictly
increasing over [0, 1]: calibrated scores rank rows exactly as the model does, and no
probability moves by more than 1e-6."""


@dataclass(frozen=True)
class Calibrator:
    """A monotone map from raw P(positive) to calibrated P(positive); or, method ``exp``,
    from a regression model's log(1 + y) to y (``slope * exp(score) + intercept``)."""

    method: str  # isotonic | sigmoid | exp
    x: tuple[float, ...] = ()  # isotonic knots
    y: tuple[float, ...] = ()
    slope: float = 1.0  # sigmoid on the logit
    intercept: float = 0.0

    def apply(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if self.method == "isotonic":
            return np.interp(scores, self.x, self.y)
        if self.method == "exp":
            return self.slope * np.exp(np.minimum(scores, _MAX_EXP)) + self.intercept
        z = self.slope * _logit(scores) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def slope_at(self, value: float) -> float:
        """An isotonic map's slope (calibrated over raw) where it reaches ``value``: the
        steeper of the segments meeting there, 1 for the other maps."""
        if self.method != "isotonic" or len(self.x) < 2:
            return 1.0
        x, y = np.asarray(self.x), np.asarray(self.y)
        k = int(np.clip(np.searchsorted(y, value), 1, len(x) - 1))  # y[k-1] < value <= y[k]
        last = k + 1 if value == y[k] and k + 1 < len(x) else k  # on a knot: both segments
        slopes = np.diff(y[k - 1 : last + 1]) / np.maximum(np.diff(x[k - 1 : last + 1]), EPS)
        return float(slopes.max())

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method}


def fit_calibrator(
    y: np.ndarray, scores: np.ndarray, *, method: str = "auto", seed: int = 0
) -> tuple[Calibrator | None, dict[str, Any]]:
    """A calibrator for binary ``scores`` (None when none helps) and the evidence.

    Raises:
        InvalidInput: ``method`` is not one of auto, none, isotonic, sigmoid.
    """
    if method not in CALIBRATIONS:
        raise InvalidInput(
            f"The 'calibration' parameter of train must be one of {', '.join(CALIBRATIONS)}. "
            f"Got {method!r} instead."
        )
    y = np.asarray(y, dtype=np.float64)
    info: dict[str, Any] = {"method": "none"}
    if method == "none" or len(y) < _MIN_ROWS or not 0 < y.sum() < len(y):
        return None, info
    methods: tuple[str, ...] = (method,)
    if method == "auto":
        # Isotonic overfits small sets: on a perfectly separated validation part it maps
        # scores to 0 and 1, and one confident miss on test then costs ~14 nats.
        methods = ("isotonic", "sigmoid") if len(y) >= _MIN_ISOTONIC_ROWS else ("sigmoid",)
    losses = {"none": _log_loss(y, scores)}
    folds = np.random.default_rng(seed).permutation(len(y)) % _FOLDS
    for name in methods:
        out = np.empty(len(y))
        for k in range(_FOLDS):
            held = folds == k
            out[held] = _fit(name, y[~held], scores[~held]).apply(scores[held])
        losses[name] = _log_loss(y, out)
    info["cv_log_loss"] = {k: round(v, 6) for k, v in losses.items()}
    best = min(losses, key=lambda k: losses[k])
    if method == "auto" and best == "none":
        return None, info
    info["method"] = best if method == "auto" else method
    return _fit(info["method"], y, scores), info


def smearing_calibrator(y: np.ndarray, log_scores: np.ndarray) -> Calibrator:
    """The map from a model of log(1 + y) back to y, fit on validation: Duan's smearing
    estimate. exp(score) - 1 is the median of y, not its mean (it is biased low); the mean
    of exp(residual) over the validation rows scales it to the mean, without assuming the
    residuals are normal."""
    residual = np.log1p(np.asarray(y, dtype=np.float64)) - np.asarray(log_scores, np.float64)
    factor = float(np.mean(np.exp(np.clip(residual, -_MAX_EXP, _MAX_EXP))))
    return Calibrator("exp", slope=factor, intercept=-1.0)


def _fit(method: str, y: np.ndarray, scores: np.ndarray) -> Calibrator:
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=EPS, y_max=1 - EPS)
        iso.fit(scores, y)
        return _strictly_increasing(iso.X_thresholds_, iso.y_thresholds_)
    slope, intercept = _platt(_logit(scores), y)
    return Calibrator("sigmoid", slope=slope, intercept=intercept)


def _strictly_increasing(x: np.ndarray, y: np.ndarray) -> Calibrator:
    """Isotonic knots with _RAMP of the raw score mixed in, over all of [0, 1]: knots at 0
    and 1 continue the end plateaus (np.interp would clamp there, tying every score past
    the ends), and (1 - _RAMP) * y + _RAMP * x is linear between knots like np.interp, so
    the map is exactly the mix, and applies (and exports to ONNX) as plain knots."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x[0] > 0.0:
        x, y = np.r_[0.0, x], np.r_[y[0], y]
    if x[-1] < 1.0:
        x, y = np.r_[x, 1.0], np.r_[y, y[-1]]
    mixed = (1.0 - _RAMP) * y + _RAMP * x
    return Calibrator("isotonic", x=tuple(x.tolist()), y=tuple(mixed.tolist()))


def _platt(f: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling with his smoothed targets, (n+ + 1)/(n+ + 2) and 1/(n- + 2): on a
    perfectly separated set the plain logistic fit's slope diverges to 0/1 probabilities."""
    from scipy.optimize import minimize
    from scipy.special import expit

    positives = float(y.sum())
    negatives = len(y) - positives
    target = np.where(y > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def objective(ab: np.ndarray) -> tuple[float, np.ndarray]:
        z = ab[0] * f + ab[1]
        value = np.sum(target * np.logaddexp(0, -z) + (1 - target) * np.logaddexp(0, z))
        residual = expit(z) - target
        return float(value), np.array([np.sum(residual * f), np.sum(residual)])

    result = minimize(objective, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.log_loss(y, np.clip(p, EPS, 1 - EPS), labels=[0, 1]))
