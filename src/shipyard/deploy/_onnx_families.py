"""One family's fitted estimator as an ONNX model, by the maintained converters.

Each function returns a model with one input, ``input`` (the encoded matrix: float32 for
XGBoost, float64 for the linear pipeline), and the converter's outputs: ``probabilities``
(n, k) for classifiers and ``variable`` (n, 1) for regressors. XGBoost goes through
onnxmltools (whose trees :mod:`._onnx_trees` then moves to float64), the linear pipeline
through skl2onnx. LightGBM is written by :mod:`._onnx_trees` alone.

skl2onnx has no converter for two parts of the linear pipeline: ``SimpleImputer`` with
``add_indicator`` and ``OneHotEncoder`` with ``min_frequency`` after another step. A copy of
the fitted pipeline swaps those steps for :class:`_ImputeWithIndicator` and
:class:`_OneHot`, thin wrappers that read everything they need off the fitted scikit-learn
objects, registered with skl2onnx's operator API; the rest (scaler, column transformer,
logistic regression, ridge) converts as skl2onnx does it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from shipyard.errors import InvalidInput

__all__ = [
    "CONVERTED",
    "OPSET",
    "TIE_BAND",
    "TREE_FAMILIES",
    "family_onnx",
    "refusal",
    "tie_band",
]

OPSET = 15
"""The ai.onnx opset of every graph: the highest onnxmltools' converters write."""

CONVERTED = ("lightgbm", "xgboost", "linear")
"""The families with a converter here (an ensemble converts when all its members do)."""

TREE_FAMILIES = ("lightgbm", "xgboost")
"""The boosters, scored by ``ai.onnx.ml.TreeEnsemble`` (:mod:`._onnx_trees`); their scores
tie often (rows that share every leaf score alike)."""

TIE_BAND = 5e-6
"""How far below the threshold a tree model's graph still decides positive, in raw
probability (see :mod:`._onnx`)."""


def tie_band(model: Any) -> float:
    """TIE_BAND for a model with trees (0 for others), carried through its calibration at
    the threshold: an isotonic map is nearly flat on its plateaus, where rows a hair apart in
    raw score are apart by far less than TIE_BAND and must still decide as Shipyard does."""
    members = getattr(model.estimator, "members", None)
    names = [f.name for f, _, _ in members] if members is not None else [model.family.name]
    if not any(n in TREE_FAMILIES for n in names):
        return 0.0
    calibrator = getattr(model, "calibrator", None)
    slope = 1.0 if calibrator is None else calibrator.slope_at(model.threshold)
    return TIE_BAND * min(1.0, slope)


def family_onnx(family: str, estimator: Any, width: int, problem: str) -> Any:
    """``estimator`` (of ``family``, on ``width`` encoded features) as an ONNX model.

    Raises:
        InvalidInput: The family has no converter here; the message says what to do.
    """
    if family == "xgboost":
        return _xgboost(estimator, width)
    if family == "linear":
        return _linear(estimator, width, problem)
    raise InvalidInput(refusal(family))


def refusal(family: str) -> str:
    """Why ``family`` has no ONNX export, and what to do instead."""
    why = {
        "catboost": "Shipyard gives CatBoost its string columns as categorical features, and "
        "CatBoost's own ONNX export does not support categorical features",
        "random_forest": "skl2onnx's forest converter stores thresholds in float32 and has no "
        "rule for the missing values scikit-learn's trees route (unseen categories are "
        "missing values here), so its scores would not match Shipyard's",
        "extra_trees": "skl2onnx's forest converter stores thresholds in float32 and has no "
        "rule for the missing values scikit-learn's trees route (unseen categories are "
        "missing values here), so its scores would not match Shipyard's",
    }.get(family, "there is no ONNX converter for it")
    return (
        f"A {family} model cannot be exported to ONNX: {why}. LightGBM, XGBoost and linear "
        "models (and ensembles of them) can. Export it with --format mlflow instead, or "
        "train with --family lightgbm, xgboost or linear."
    )


def _xgboost(estimator: Any, width: int) -> Any:
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    booster = getattr(estimator, "booster", estimator)  # bundles before XGBoostModel
    start, stop = getattr(estimator, "iteration_range", (0, 0))
    if stop:  # Shipyard scores the trees up to the best iteration only
        booster = booster[start:stop]
    return convert_xgboost(
        booster, initial_types=[("input", FloatTensorType([None, width]))], target_opset=OPSET
    )


def _linear(pipeline: Any, width: int, problem: str) -> Any:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType

    _register_wrappers()
    exportable = _exportable(pipeline)
    head = exportable.named_steps["model"]
    options = {id(head): {"zipmap": False}} if problem != "regression" else None
    return convert_sklearn(
        exportable,
        initial_types=[("input", DoubleTensorType([None, width]))],
        target_opset=OPSET,
        options=options,
    )


def _exportable(pipeline: Any) -> Any:
    """A copy of the fitted pipeline whose steps skl2onnx cannot convert are wrapped."""
    out = copy.deepcopy(pipeline)
    for name, steps, _columns in out.named_steps["prepare"].transformers_:
        if name == "num":
            imputer = steps.steps[0][1]
            steps.steps[0] = ("impute", _ImputeWithIndicator(imputer))
        elif name == "cat":
            imputer, onehot = steps.steps[0][1], steps.steps[1][1]
            steps.steps[:] = [("onehot", _OneHot(imputer, onehot))]
        elif name != "remainder":
            raise InvalidInput(
                f"This linear model's pipeline has a step '{name}' the ONNX export does not "
                "know. Export it with --format mlflow instead."
            )
    return out


class _ImputeWithIndicator(TransformerMixin, BaseEstimator):
    """A fitted ``SimpleImputer`` (maybe with ``add_indicator``), as skl2onnx sees it."""

    def __init__(self, imputer: Any) -> None:
        self.imputer = imputer
        width = len(imputer.statistics_)
        # The fill per column, as scikit-learn itself computes it (keep_empty_features and all).
        self.fill = np.asarray(imputer.transform(np.full((1, width), np.nan)))[:, :width]
        indicator = getattr(imputer, "indicator_", None)
        self.flagged = [] if indicator is None else [int(i) for i in indicator.features_]

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.imputer.transform(x))


class _OneHot(TransformerMixin, BaseEstimator):
    """A fitted constant ``SimpleImputer`` then ``OneHotEncoder`` (``handle_unknown='ignore'``,
    maybe with infrequent categories), as skl2onnx sees them."""

    def __init__(self, imputer: Any, onehot: Any) -> None:
        if onehot.drop_idx_ is not None or onehot.handle_unknown != "ignore":
            raise InvalidInput(
                "This linear model's one-hot encoder drops a category or treats unknown "
                "categories in a way the ONNX export does not know. Export it with "
                "--format mlflow instead."
            )
        self.imputer, self.onehot = imputer, onehot
        width = len(onehot.categories_)
        self.fill = np.asarray(imputer.transform(np.full((1, width), np.nan)), dtype=np.float64)
        rare = getattr(onehot, "infrequent_categories_", None) or [None] * width
        # Per column: the categories with their own output column (in scikit-learn's order),
        # then the infrequent ones, which share the column after them.
        self.groups: list[tuple[np.ndarray, np.ndarray]] = []
        for known, infrequent in zip(onehot.categories_, rare, strict=True):
            infrequent = np.asarray([] if infrequent is None else infrequent, dtype=np.float64)
            frequent = np.asarray([c for c in known if c not in set(infrequent)], np.float64)
            self.groups.append((frequent, infrequent))
        self.width = sum(len(f) + (len(i) > 0) for f, i in self.groups)
        if self.width != len(onehot.get_feature_names_out()):
            raise InvalidInput(
                "This linear model's one-hot encoder has a layout the ONNX export does not "
                "know. Export it with --format mlflow instead."
            )

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.onehot.transform(self.imputer.transform(x)).toarray())


def _impute_shape(operator: Any) -> None:
    op = operator.raw_operator
    width = op.fill.shape[1] + len(op.flagged)
    kind = type(operator.inputs[0].type)
    operator.outputs[0].type = kind([operator.inputs[0].get_first_dimension(), width])


def _onehot_shape(operator: Any) -> None:
    kind = type(operator.inputs[0].type)
    width = operator.raw_operator.width
    operator.outputs[0].type = kind([operator.inputs[0].get_first_dimension(), width])


def _dtype(operator: Any) -> tuple[Any, int]:
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    return (np.float64, TensorProto.DOUBLE) if double else (np.float32, TensorProto.FLOAT)


def _impute_convert(scope: Any, operator: Any, container: Any) -> None:
    """Missing values take the imputer's fill; flagged columns add a 0/1 "was missing"."""
    from skl2onnx.algebra.onnx_ops import OnnxCast, OnnxConcat, OnnxGather, OnnxIsNaN, OnnxWhere

    op, opv, x = operator.raw_operator, container.target_opset, operator.inputs[0]
    dtype, to = _dtype(operator)
    parts = [OnnxWhere(OnnxIsNaN(x, op_version=opv), op.fill.astype(dtype), x, op_version=opv)]
    if op.flagged:
        picked = OnnxGather(x, np.asarray(op.flagged, dtype=np.int64), axis=1, op_version=opv)
        parts.append(OnnxCast(OnnxIsNaN(picked, op_version=opv), to=to, op_version=opv))
    out = operator.outputs[0].full_name
    OnnxConcat(*parts, axis=1, op_version=opv, output_names=[out]).add_to(scope, container)


def _onehot_convert(scope: Any, operator: Any, container: Any) -> None:
    """Per column: 1 where the value equals a frequent category, 1 in the shared column where
    it is any infrequent one, all 0 for an unknown category."""
    from skl2onnx.algebra.onnx_ops import (
        OnnxCast,
        OnnxConcat,
        OnnxEqual,
        OnnxGather,
        OnnxIsNaN,
        OnnxReduceMax,
        OnnxWhere,
    )

    op, opv, x = operator.raw_operator, container.target_opset, operator.inputs[0]
    dtype, to = _dtype(operator)
    filled = OnnxWhere(OnnxIsNaN(x, op_version=opv), op.fill.astype(dtype), x, op_version=opv)
    parts = []
    for i, (frequent, infrequent) in enumerate(op.groups):
        column = OnnxGather(filled, np.asarray([i], dtype=np.int64), axis=1, op_version=opv)
        for values in (frequent, infrequent):
            if not len(values):
                continue
            hit = OnnxEqual(column, values.astype(dtype).reshape(1, -1), op_version=opv)
            hot = OnnxCast(hit, to=to, op_version=opv)
            if values is infrequent:
                hot = OnnxReduceMax(hot, axes=[1], keepdims=1, op_version=opv)
            parts.append(hot)
    out = operator.outputs[0].full_name
    OnnxConcat(*parts, axis=1, op_version=opv, output_names=[out]).add_to(scope, container)


@functools.cache
def _register_wrappers() -> None:
    from skl2onnx import update_registered_converter

    update_registered_converter(
        _ImputeWithIndicator, "ShipyardImputeWithIndicator", _impute_shape, _impute_convert
    )
    update_registered_converter(_OneHot, "ShipyardOneHot", _onehot_shape, _onehot_convert)
