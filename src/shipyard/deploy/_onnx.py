"""A model as one ONNX graph: raw input columns in, label and probability (or value) out.

The graph has three parts, joined by tensor names:

* the encoder, in standard operators: one input per column, ``[n, 1]`` each. Numbers and
  booleans are ``tensor(double)`` (booleans as 0/1; NaN is missing); strings are
  ``tensor(string)``, mapped to their category code by ``ai.onnx.ml.LabelEncoder`` with NaN
  for unseen values and for the empty string, which stands for a missing one;
* the family's estimator: LightGBM as one float64 ``TreeEnsemble`` node
  (:mod:`._onnx_lightgbm`), XGBoost by onnxmltools, the linear pipeline by skl2onnx (see
  :mod:`._onnx_families`); or an ensemble's weighted mean of its members;
* the head: calibration (sigmoid or isotonic, in float64), the threshold, and the class
  labels. Outputs: ``label`` and ``probability`` (P(positive) for binary problems, the class
  probabilities in the model's class order for multiclass ones), or ``value`` (regression).

LightGBM and linear models score in float64 as Shipyard does (to about 1e-15). XGBoost sums
float32 leaves in float32 itself; the graph sums the same leaves in float64, so an XGBoost
probability differs by about 1e-7. A tree model's threshold is one validation row's score,
so rows that tie with it are common; the graph compares against the threshold less a band
(:func:`._onnx_families.tie_band`: TIE_BAND through the calibration's slope there), so those
ties decide as Shipyard decides them despite any rounding (a row scoring within the band
below the threshold, which is not a tie, would decide positive here).
Isotonic calibration amplifies differences (its slope between two close knots can pass
10,000): an XGBoost model with isotonic calibration can therefore fail the check and be
refused; LightGBM, scored in float64, does not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shipyard.deploy._onnx_families import (
    CONVERTED,
    OPSET,
    TREE_FAMILIES,
    family_onnx,
    refusal,
    tie_band,
)
from shipyard.deploy._onnx_trees import lightgbm_raw, xgboost_raw
from shipyard.errors import InvalidInput
from shipyard.model.calibration import EPS
from shipyard.model.families import LogTargetEstimator, twinned

if TYPE_CHECKING:
    from shipyard.model import Calibrator, TabularModel

__all__ = ["OUTPUTS", "TOLERANCE", "check_onnx", "onnx_feed", "onnx_graph"]

TOLERANCE = 1e-5
"""The largest difference from Shipyard's probability (or, for regression, from its value
relative to max(1, |value|)) an exported graph may show on the check rows."""


OUTPUTS = ("label", "probability", "value")
_ML = "ai.onnx.ml"


class _Graph:
    """Nodes and initializers being assembled into one graph, with fresh tensor names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.opsets: dict[str, int] = {"": OPSET, _ML: 2}
        self.ir_version = 8
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"shipyard/{hint}/{self._count}"

    def const(self, value: Any, hint: str = "const") -> str:
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], domain: str = "", **attrs: Any) -> str:
        from onnx import helper

        out = self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], domain=domain, **attrs))
        return out

    def embed(self, sub: Any, feed: str, prefix: str) -> dict[str, str]:
        """Add ``sub``'s nodes with ``feed`` as its one input; its outputs' new names."""
        from onnx import compose, helper

        if len(sub.graph.input) != 1 or sub.functions or sub.graph.sparse_initializer:
            raise InvalidInput(
                "The converter wrote an ONNX graph this export cannot join to the encoder. "
                "Export with --format mlflow instead."
            )
        sub = compose.add_prefix(sub, prefix)
        self.nodes.append(helper.make_node("Identity", [feed], [sub.graph.input[0].name]))
        self.nodes.extend(sub.graph.node)
        self.initializers.extend(sub.graph.initializer)
        for opset in sub.opset_import:
            domain = "" if opset.domain == "ai.onnx" else opset.domain
            self.opsets[domain] = max(self.opsets.get(domain, 0), opset.version)
        self.ir_version = max(self.ir_version, sub.ir_version)
        return {o.name[len(prefix) :]: o.name for o in sub.graph.output}


def onnx_graph(model: TabularModel, *, name: str) -> Any:
    """``model`` as one ONNX model (an ``onnx.ModelProto``), checked by ``onnx.checker``.

    Raises:
        InvalidInput: Something in the model has no exact ONNX form (a datetime or hashed
            column, the empty string as a category, a family without a converter); the
            message says why and to export with --format mlflow instead.
    """
    from onnx import checker, helper

    _check_inputs(model)
    g = _Graph()
    inputs, features = _encoder(g, model)
    width = len(model.encoder.feature_names_)
    scores = _scores(g, model.family, model.estimator, model.problem.type, width, features)
    band = tie_band(model)  # the graph's threshold and its metadata must say the same
    outputs = _head(g, model, scores, band)
    graph = helper.make_graph(
        g.nodes,
        name,
        inputs,
        [helper.make_tensor_value_info(n, t, s) for n, (_, t, s) in outputs.items()],
        initializer=g.initializers,
    )
    for out, (tensor, _, _) in outputs.items():
        graph.node.append(helper.make_node("Identity", [tensor], [out]))
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(g.opsets.items())],
        producer_name="shipyard",
        doc_string=_doc(model),
    )
    proto.ir_version = g.ir_version
    helper.set_model_props(proto, _metadata(model, band=band))
    checker.check_model(proto)
    return proto


def _check_inputs(model: TabularModel) -> None:
    derived = model.encoder.signature.get("derived") or []
    if derived:
        raise InvalidInput(
            f"This model cannot be exported to ONNX: it computes '{derived[0]['name']}' "
            f"with an anomaly detector ({derived[0]['from']}), which has no ONNX form here. "
            "Export it with --format mlflow instead."
        )
    hashed = getattr(model.encoder, "hashed", {})
    for spec in model.encoder.columns_:
        why = None
        if spec.kind == "datetime":
            why = (
                f"column '{spec.name}' is a timestamp, and ONNX has no operator that turns "
                "one into the hour, day of week, month and day Shipyard's encoder feeds the "
                "model"
            )
        elif spec.name in hashed:
            why = (
                f"column '{spec.name}' is hashed with a secret key (HMAC-SHA256) before "
                "encoding; ONNX has no such operator, and the key must not ship in a file"
            )
        elif spec.kind == "string" and "" in spec.levels:
            why = (
                f"column '{spec.name}' has the empty string as a category, and the graph "
                "takes the empty string as a missing value"
            )
        elif spec.name in OUTPUTS:
            why = f"an input column is called '{spec.name}', as one of the graph's outputs"
        if why:
            raise InvalidInput(
                f"This model cannot be exported to ONNX: {why}. Export it with "
                "--format mlflow instead.",
                details={"column": spec.name},
            )


def _encoder(g: _Graph, model: TabularModel) -> tuple[list[Any], str]:
    """One input per column; the encoded matrix (n, features) as float64."""
    from onnx import TensorProto, helper

    inputs, columns = [], []
    for spec in model.encoder.columns_:
        if spec.kind == "string":
            inputs.append(helper.make_tensor_value_info(spec.name, TensorProto.STRING, [None, 1]))
            codes = g.op(
                "LabelEncoder",
                [spec.name],
                domain=_ML,
                keys_strings=list(spec.levels),
                values_floats=[float(i) for i in range(len(spec.levels))],
                default_float=float("nan"),
            )
            columns.append(g.op("Cast", [codes], to=TensorProto.DOUBLE))
        else:  # number or boolean
            inputs.append(helper.make_tensor_value_info(spec.name, TensorProto.DOUBLE, [None, 1]))
            columns.append(spec.name)
    if len(columns) == 1:
        return inputs, g.op("Identity", columns)
    return inputs, g.op("Concat", columns, axis=1)


def _scores(
    g: _Graph,
    family: Any,
    estimator: Any,
    problem: str,
    width: int,
    features: str,
) -> str:
    """Shipyard's scores as float64: P(positive) (n,), probabilities (n, k), or values (n,)."""
    if family.name == "stack":
        raise InvalidInput(
            "A stacked model cannot be exported to ONNX yet. Export it with --format mlflow "
            "instead, or train with ensemble=False for a single exportable model.",
            details={"family": "stack"},
        )
    from onnx import TensorProto

    members = getattr(estimator, "members", None)
    if members is not None:
        _check_members(members)
        total = None
        for member_family, member, weight in members:
            part = _scores(g, member_family, member, problem, width, features)
            part = g.op("Mul", [part, g.const(np.float64(weight), "weight")])
            total = part if total is None else g.op("Add", [total, part])
        if total is None:
            raise InvalidInput("This ensemble has no members; there is nothing to export.")
        return total
    if isinstance(estimator, LogTargetEstimator):  # its booster's log(1 + y), mapped to y
        inner = _scores(g, family.inner, estimator.inner, problem, width, features)
        return _calibrate(g, inner, estimator.back)
    if family.name in TREE_FAMILIES:
        return _trees(g, family.name, estimator, width, problem, features)
    sub = family_onnx(family.name, estimator, width, problem)
    outs = g.embed(sub, features, prefix=g.fresh(family.name) + "/")
    if problem == "regression":
        value = outs.get("variable") or next(iter(outs.values()))
        return g.op(
            "Reshape",
            [g.op("Cast", [value], to=TensorProto.DOUBLE), g.const(np.array([-1], dtype=np.int64))],
        )
    proba = outs.get("probabilities") or list(outs.values())[1]
    proba = g.op("Cast", [proba], to=TensorProto.DOUBLE)
    if problem == "binary":
        return g.op("Gather", [proba, g.const(np.int64(1))], axis=1)
    return proba


def _trees(g: _Graph, family: str, estimator: Any, width: int, problem: str, features: str) -> str:
    """A booster's raw score in float64 (:mod:`._onnx_trees`), then its link."""
    from onnx import TensorProto

    feed = features
    if family == "lightgbm":
        sub, link, scale = lightgbm_raw(estimator, width)
    else:  # XGBoost compares float32 values: round the features as it does
        sub, link = xgboost_raw(estimator, width)
        scale = 1.0
        as_float = g.op("Cast", [features], to=TensorProto.FLOAT)
        feed = g.op("Cast", [as_float], to=TensorProto.DOUBLE)
    expected = {"binary": "sigmoid", "multiclass": "softmax", "regression": "none"}[problem]
    if link != expected:
        raise InvalidInput(
            f"This {family} model's objective does not fit a {problem} problem. Export it "
            "with --format mlflow instead."
        )
    raw = g.embed(sub, feed, prefix=g.fresh(family) + "/")["raw"]
    if problem == "multiclass":
        return g.op("Softmax", [raw], axis=1)
    column = g.op("Gather", [raw, g.const(np.int64(0))], axis=1)
    if problem == "regression":
        return column
    if scale != 1.0:
        column = g.op("Mul", [column, g.const(np.float64(scale))])
    return g.op("Sigmoid", [column])


def _check_members(members: Sequence[tuple[Any, Any, float]]) -> None:
    """Refuse an ensemble with a member the export cannot convert, naming it."""
    for family, _, weight in members:
        if twinned(family.name) not in CONVERTED:
            raise InvalidInput(
                f"This ensemble has a {family.name} member (weight {weight:.2f}), so it cannot "
                f"be exported to ONNX. {refusal(twinned(family.name))}",
                details={"member": family.name},
            )


def _calibrate(g: _Graph, p: str, calibrator: Calibrator) -> str:
    """``calibrator.apply`` in operators: a sigmoid on the logit, np.interp's knots, or
    (a model of log(1 + y)) the scaled exponential."""
    if calibrator.method == "exp":
        grown = g.op("Exp", [g.op("Min", [p, g.const(np.float64(700.0))])])
        scaled = g.op("Mul", [grown, g.const(np.float64(calibrator.slope))])
        return g.op("Add", [scaled, g.const(np.float64(calibrator.intercept))])
    if calibrator.method == "sigmoid":
        clipped = g.op("Clip", [p, g.const(np.float64(EPS)), g.const(np.float64(1 - EPS))])
        odds = g.op("Div", [clipped, g.op("Sub", [g.const(np.float64(1.0)), clipped])])
        z = g.op("Mul", [g.op("Log", [odds]), g.const(np.float64(calibrator.slope))])
        z = g.op("Add", [z, g.const(np.float64(calibrator.intercept))])
        return g.op("Sigmoid", [z])
    xs = np.asarray(calibrator.x, dtype=np.float64)
    ys = np.asarray(calibrator.y, dtype=np.float64)
    if len(xs) == 1:  # np.interp with one knot is that knot's value everywhere
        return g.op("Add", [g.op("Mul", [p, g.const(np.float64(0.0))]), g.const(ys[0])])
    return _interp(g, p, xs, ys)


def _interp(g: _Graph, p: str, xs: np.ndarray, ys: np.ndarray) -> str:
    """np.interp(p, xs, ys): clamp, find the knots around each score, interpolate."""
    from onnx import TensorProto

    def i64(value: Any) -> str:
        return g.const(np.asarray(value, dtype=np.int64))

    s = g.op("Clip", [p, g.const(xs[0]), g.const(xs[-1])])
    below = g.op("LessOrEqual", [g.const(xs.reshape(1, -1)), g.op("Unsqueeze", [s, i64([1])])])
    count = g.op("ReduceSum", [g.op("Cast", [below], to=TensorProto.INT64), i64([1])], keepdims=0)
    hi = g.op("Max", [g.op("Min", [count, i64(len(xs) - 1)]), i64(1)])
    lo = g.op("Sub", [hi, i64(1)])
    x_lo, x_hi = (g.op("Gather", [g.const(xs), i]) for i in (lo, hi))
    y_lo, y_hi = (g.op("Gather", [g.const(ys), i]) for i in (lo, hi))
    slope = g.op("Div", [g.op("Sub", [y_hi, y_lo]), g.op("Sub", [x_hi, x_lo])])
    out = g.op("Add", [g.op("Mul", [g.op("Sub", [s, x_lo]), slope]), y_lo])
    return out


def _head(
    g: _Graph, model: TabularModel, scores: str, band: float
) -> dict[str, tuple[str, int, list[Any]]]:
    """Output name -> (tensor, element type, shape); a tree model's threshold less ``band``."""
    from onnx import TensorProto

    problem = model.problem
    calibrator = getattr(model, "calibrator", None)
    if problem.type == "regression":
        value = scores if calibrator is None else _calibrate(g, scores, calibrator)
        return {"value": (value, TensorProto.DOUBLE, [None])}
    labels, label_type = _class_tensor(problem.classes)
    if problem.type == "multiclass":
        picked = g.op("ArgMax", [scores], axis=1, keepdims=0)
        label = g.op("Gather", [g.const(labels, "classes"), picked])
        return {
            "label": (label, label_type, [None]),
            "probability": (scores, TensorProto.DOUBLE, [None, len(labels)]),
        }
    p = scores if calibrator is None else _calibrate(g, scores, calibrator)
    past = g.op("GreaterOrEqual", [p, g.const(np.float64(model.threshold - band), "threshold")])
    positive = labels[list(problem.classes).index(problem.positive)]
    negative = labels[1 - list(problem.classes).index(problem.positive)]
    label = g.op("Where", [past, g.const(positive, "positive"), g.const(negative, "negative")])
    return {
        "label": (label, label_type, [None]),
        "probability": (p, TensorProto.DOUBLE, [None]),
    }


def _class_tensor(classes: Sequence[Any]) -> tuple[np.ndarray, int]:
    """The class labels as a tensor of their own type (bool, int64, double or string)."""
    from onnx import TensorProto

    if all(isinstance(c, bool | np.bool_) for c in classes):
        return np.asarray(classes, dtype=np.bool_), TensorProto.BOOL
    if all(isinstance(c, int | np.integer) for c in classes):
        return np.asarray(classes, dtype=np.int64), TensorProto.INT64
    if all(isinstance(c, float | np.floating) for c in classes):
        return np.asarray(classes, dtype=np.float64), TensorProto.DOUBLE
    return np.asarray([str(c) for c in classes], dtype=object), TensorProto.STRING


def _doc(model: TabularModel) -> str:
    return (
        f"Shipyard {model.family.name} model for '{model.problem.target}' "
        f"({model.problem.type}). Inputs: one [n, 1] tensor per column; numbers and booleans "
        "as double (booleans 0/1, NaN for missing), strings as string ('' for missing)."
    )


def _metadata(model: TabularModel, *, band: float) -> dict[str, str]:
    problem = model.problem
    out = {
        "shipyard.problem_type": problem.type,
        "shipyard.target": problem.target,
        "shipyard.family": model.family.name,
        "shipyard.inputs": json.dumps(model.encoder.signature["inputs"]),
    }
    if problem.type != "regression":
        out["shipyard.classes"] = json.dumps([str(c) for c in problem.classes])
    if problem.type == "binary":
        calibrator = getattr(model, "calibrator", None)
        out.update(
            {
                "shipyard.positive": str(problem.positive),
                "shipyard.threshold": repr(float(model.threshold)),
                "shipyard.tie_band": repr(band),
                "shipyard.calibration": calibrator.method if calibrator else "none",
            }
        )
    return out


def onnx_feed(session: Any, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The inputs an exported graph takes, from a DataFrame of raw rows.

    Args:
        session: An ``onnxruntime.InferenceSession`` of the graph (anything with
            ``get_inputs()``).
        frame: One column per input; missing values as None or NaN.

    Raises:
        InvalidInput: A column is missing, or a number column holds something else.
    """
    feed: dict[str, np.ndarray] = {}
    for item in session.get_inputs():
        if item.name not in frame.columns:
            raise InvalidInput(
                f"Missing column '{item.name}'; the graph takes "
                f"{', '.join(i.name for i in session.get_inputs())}."
            )
        column = frame[item.name]
        if item.type == "tensor(string)":
            values = column.astype(object).where(column.notna(), "")
            feed[item.name] = np.asarray([str(v) for v in values], dtype=object).reshape(-1, 1)
            continue
        try:
            numbers = pd.Series(column, dtype=object).astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"Column '{item.name}' expects numbers or booleans (missing as None or NaN): {exc}"
            ) from exc
        feed[item.name] = numbers.to_numpy().reshape(-1, 1)
    return feed


def check_onnx(proto: Any, model: TabularModel, frame: pd.DataFrame) -> dict[str, Any]:
    """Score ``frame`` with ONNX Runtime and with ``model``; how far apart they are.

    Raises:
        InvalidInput: They differ by more than :data:`TOLERANCE`, or a label differs on a
            row whose score is not within the tolerance of the threshold.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(None, onnx_feed(session, frame)), strict=True))
    ours = model.predict_frame(frame)
    scores = np.asarray(ours.scores, dtype=np.float64)
    if model.problem.type == "regression":
        error = np.abs(got["value"] - scores) / np.maximum(1.0, np.abs(scores))
        measure = "relative to max(1, |value|)"
    else:
        error = np.abs(got["probability"] - scores)
        measure = "absolute, on probabilities"
    result: dict[str, Any] = {
        "rows": len(frame),
        "max_error": float(error.max(initial=0.0)),
        "measure": measure,
        "tolerance": TOLERANCE,
    }
    ok = bool(np.all(error <= TOLERANCE))
    labels = ours.labels()
    if labels is not None:
        differs = np.asarray(got["label"], dtype=object) != labels.astype(object)
        near = (
            np.abs(scores - model.threshold) <= TOLERANCE
            if model.problem.type == "binary"
            else np.zeros(len(scores), dtype=bool)
        )
        result["labels_differ"] = int(differs.sum())
        result["labels_differ_at_threshold"] = int((differs & near).sum())
        ok = ok and not bool((differs & ~near).any())
    if not ok:
        raise InvalidInput(
            f"The ONNX graph does not reproduce Shipyard's predictions on {len(frame)} check "
            f"rows (largest difference {result['max_error']:.3g}, tolerance {TOLERANCE:g}; "
            f"{result.get('labels_differ', 0)} label(s) differ), so nothing was written. "
            "Export with --format mlflow instead.",
            details=result,
        )
    return result
