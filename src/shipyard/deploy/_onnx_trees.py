"""Boosted trees as one ``ai.onnx.ml.TreeEnsemble`` (opset 5) node, in float64.

onnxmltools converts boosters to the older ``TreeEnsembleClassifier`` / ``Regressor``
(ai.onnx.ml 3), which hold thresholds and leaf values in float32 and output float32: a
LightGBM probability then differs from LightGBM's by about 1e-7, and isotonic calibration,
whose slope between two close knots can pass 10,000, turns that into 1e-3. ``TreeEnsemble``
(ai.onnx.ml 5) holds both in float64 and scores in float64, and one graph cannot mix it with
the older operators (they are deprecated in ai.onnx.ml 5), so every booster goes through it:

* XGBoost: onnxmltools reads the booster (categorical splits, missing values, base score) and
  writes the old node; :func:`xgboost_raw` moves its trees as they are into ``TreeEnsemble``.
  XGBoost compares float32 values, so the caller feeds the features cast to float32 and back;
* LightGBM: no maintained converter writes float64 trees, so :func:`lightgbm_raw` does, from
  the booster's own JSON dump (``Booster.dump_model``), following LightGBM's decision rules
  (``Tree::NumericalDecision`` / ``CategoricalDecision``):

* a numerical split sends ``x <= threshold`` left. With ``missing_type`` NaN a missing value
  goes the ``default_left`` way; otherwise LightGBM reads it as 0.0, so it goes where 0 goes;
* a categorical split sends the categories listed in ``threshold`` ("1||4||7") left, and a
  missing value right.

Each returns a model whose one node outputs the raw score, one column per class for multiclass;
the caller applies the link (sigmoid, softmax or none) in float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shipyard.errors import InvalidInput

__all__ = ["lightgbm_raw", "xgboost_raw"]

_LEQ, _MEMBER = 0, 6  # TreeEnsemble's node modes BRANCH_LEQ and BRANCH_MEMBER
_MODES = {"BRANCH_LEQ": 0, "BRANCH_LT": 1, "BRANCH_GTE": 2, "BRANCH_GT": 3, "BRANCH_EQ": 4}


@dataclass
class _Nodes:
    """The interior nodes and leaves of every tree, as TreeEnsemble's attributes want them."""

    features: list[int] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    true_ids: list[int] = field(default_factory=list)
    true_leafs: list[int] = field(default_factory=list)
    false_ids: list[int] = field(default_factory=list)
    false_leafs: list[int] = field(default_factory=list)
    missing_true: list[int] = field(default_factory=list)
    members: list[float] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)
    leaf_targets: list[int] = field(default_factory=list)
    leaf_weights: list[float] = field(default_factory=list)

    def model(self, width: int, targets: int, base: Sequence[float] = ()) -> Any:
        """The ONNX model: ``input`` float64 (n, width) -> ``raw`` float64 (n, targets)."""
        from onnx import TensorProto, helper, numpy_helper

        def doubles(values: Sequence[float]) -> Any:
            return numpy_helper.from_array(np.asarray(values, dtype=np.float64))

        attributes: dict[str, Any] = {
            "n_targets": targets,
            "aggregate_function": 1,  # SUM
            "post_transform": 0,  # NONE: the caller applies the link in float64
            "tree_roots": self.roots,
            "nodes_featureids": self.features,
            "nodes_splits": doubles(self.splits),
            "nodes_modes": numpy_helper.from_array(np.asarray(self.modes, dtype=np.uint8)),
            "nodes_truenodeids": self.true_ids,
            "nodes_trueleafs": self.true_leafs,
            "nodes_falsenodeids": self.false_ids,
            "nodes_falseleafs": self.false_leafs,
            "nodes_missing_value_tracks_true": self.missing_true,
            "leaf_targetids": self.leaf_targets,
            "leaf_weights": doubles(self.leaf_weights),
        }
        if self.members:
            attributes["membership_values"] = doubles(self.members)
        nodes = [
            helper.make_node("TreeEnsemble", ["input"], ["sum"], domain="ai.onnx.ml", **attributes)
        ]
        if any(base):
            shift = helper.make_tensor("base", TensorProto.DOUBLE, [len(base)], list(base))
            nodes.append(helper.make_node("Constant", [], ["base_values"], value=shift))
            nodes.append(helper.make_node("Add", ["sum", "base_values"], ["raw"]))
        else:
            nodes.append(helper.make_node("Identity", ["sum"], ["raw"]))
        graph = helper.make_graph(
            nodes,
            "trees",
            [helper.make_tensor_value_info("input", TensorProto.DOUBLE, [None, width])],
            [helper.make_tensor_value_info("raw", TensorProto.DOUBLE, [None, targets])],
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 5)],
        )
        model.ir_version = 8
        return model

    def leaf(self, value: float, target: int) -> int:
        self.leaf_targets.append(target)
        self.leaf_weights.append(float(value))
        return len(self.leaf_weights) - 1

    def tree(self, root: dict[str, Any], target: int) -> None:
        if "leaf_value" in root:  # a one-leaf tree: a split whose both sides reach the leaf
            leaf = self.leaf(root["leaf_value"], target)
            self.roots.append(self._node(0, 0.0, _LEQ, (leaf, 1), (leaf, 1), 1))
            return
        self.roots.append(self._split(root, target))

    def old_tree(
        self,
        tree: int,
        old: dict[int, dict[str, Any]],
        leaves: dict[tuple[int, int], tuple[int, float]],
    ) -> None:
        """A tree of the old ``TreeEnsemble*`` attributes (node id -> its attributes)."""

        def place(node_id: int) -> tuple[int, int]:
            node = old[node_id]
            if node["modes"] == b"LEAF":
                target, weight = leaves.get((tree, node_id), (0, 0.0))
                return self.leaf(weight, target), 1
            mode = _MODES.get(node["modes"].decode())
            if mode is None:
                raise InvalidInput(_UNKNOWN_TREES)
            index = self._node(
                int(node["featureids"]),
                float(node["values"]),
                mode,
                (0, 0),
                (0, 0),
                int(node["missing"]),
            )
            self.true_ids[index], self.true_leafs[index] = place(int(node["truenodeids"]))
            self.false_ids[index], self.false_leafs[index] = place(int(node["falsenodeids"]))
            return index, 0

        root, is_leaf = place(0)
        if is_leaf:  # a one-leaf tree: a split whose both sides reach the leaf
            root = self._node(0, 0.0, _LEQ, (root, 1), (root, 1), 1)
        self.roots.append(root)

    def _child(self, node: dict[str, Any], target: int) -> tuple[int, int]:
        if "leaf_value" in node:
            return self.leaf(node["leaf_value"], target), 1
        return self._split(node, target), 0

    def _split(self, node: dict[str, Any], target: int) -> int:
        index = self._node(int(node["split_feature"]), 0.0, _LEQ, (0, 0), (0, 0), 0)
        if node["decision_type"] == "==":
            categories = [float(c) for c in str(node["threshold"]).split("||")]
            self.modes[index] = _MEMBER
            self.members.extend([*categories, float("nan")])
            self.missing_true[index] = 0
        elif node["decision_type"] == "<=":
            threshold = float(node["threshold"])
            self.splits[index] = threshold
            kind = node.get("missing_type", "None")
            if kind == "NaN":
                self.missing_true[index] = int(bool(node["default_left"]))
            elif kind == "None":
                self.missing_true[index] = int(threshold >= 0.0)  # where 0.0 goes
            else:
                raise InvalidInput(
                    f"This LightGBM model treats zeros as missing (missing_type {kind}), "
                    "which the ONNX export does not reproduce. Export it with --format "
                    "mlflow instead."
                )
        else:
            raise InvalidInput(
                f"This LightGBM model has a split of type {node['decision_type']!r} the "
                "ONNX export does not know. Export it with --format mlflow instead."
            )
        left = self._child(node["left_child"], target)
        right = self._child(node["right_child"], target)
        self.true_ids[index], self.true_leafs[index] = left
        self.false_ids[index], self.false_leafs[index] = right
        return index

    def _node(
        self,
        feature: int,
        split: float,
        mode: int,
        true: tuple[int, int],
        false: tuple[int, int],
        missing_true: int,
    ) -> int:
        self.features.append(feature)
        self.splits.append(split)
        self.modes.append(mode)
        self.true_ids.append(true[0])
        self.true_leafs.append(true[1])
        self.false_ids.append(false[0])
        self.false_leafs.append(false[1])
        self.missing_true.append(missing_true)
        return len(self.features) - 1


def lightgbm_raw(booster: Any, width: int) -> tuple[Any, str, float]:
    """The booster's raw score as an ONNX model (input ``input``: float64 (n, width); output
    ``raw``: float64 (n, k)), with the link to apply to it (``sigmoid`` with its scale,
    ``softmax`` or ``none``).

    Raises:
        InvalidInput: An objective or split rule the export does not reproduce.
    """
    dump = booster.dump_model(num_iteration=booster.best_iteration or None)
    objective = str(dump.get("objective", "")).split()
    link, scale = _link(objective)
    per_round = int(dump.get("num_tree_per_iteration", 1))
    nodes = _Nodes()
    for i, tree in enumerate(dump["tree_info"]):
        nodes.tree(tree["tree_structure"], i % per_round)

    return nodes.model(width, per_round), link, scale


_UNKNOWN_TREES = (
    "The XGBoost converter wrote trees this export does not know how to carry over. Export "
    "it with --format mlflow instead."
)


def _link(objective: list[str]) -> tuple[str, float]:
    name = objective[0] if objective else ""
    if name == "binary":
        settings = dict(part.split(":", 1) for part in objective[1:] if ":" in part)
        return "sigmoid", float(settings.get("sigmoid", 1.0))
    if name == "multiclass":
        return "softmax", 1.0
    if name == "regression":
        return "none", 1.0
    raise InvalidInput(
        f"This LightGBM model's objective {' '.join(objective) or '(none)'} is not one the "
        "ONNX export reproduces (binary, multiclass, regression). Export it with --format "
        "mlflow instead."
    )


def xgboost_raw(estimator: Any, width: int) -> tuple[Any, str]:
    """The XGBoost model's raw score (margin) as an ONNX model (as :func:`lightgbm_raw`), and
    its link (``sigmoid``, ``softmax`` or ``none``).

    Raises:
        InvalidInput: onnxmltools wrote a tree node this module does not know.
    """
    from onnx import helper

    from shipyard.deploy._onnx_families import family_onnx

    converted = family_onnx("xgboost", estimator, width, "regression")
    [old] = [n for n in converted.graph.node if n.op_type.startswith("TreeEnsemble")]
    attrs = {a.name: helper.get_attribute_value(a) for a in old.attribute}
    prefix = "class" if old.op_type == "TreeEnsembleClassifier" else "target"
    link = {b"LOGISTIC": "sigmoid", b"SOFTMAX": "softmax", b"NONE": "none"}.get(
        attrs.get("post_transform", b"NONE")
    )
    if link is None:
        raise InvalidInput(_UNKNOWN_TREES)
    base = [float(v) for v in attrs.get("base_values", [])]
    targets = max(len(base), 1, *(int(i) + 1 for i in attrs[f"{prefix}_ids"]))
    leaves = {
        (int(t), int(n)): (int(c), float(w))
        for t, n, c, w in zip(
            attrs[f"{prefix}_treeids"],
            attrs[f"{prefix}_nodeids"],
            attrs[f"{prefix}_ids"],
            attrs[f"{prefix}_weights"],
            strict=True,
        )
    }
    keys = ("featureids", "modes", "values", "truenodeids", "falsenodeids")
    trees: dict[int, dict[int, dict[str, Any]]] = {}
    for i, (tree, node) in enumerate(
        zip(attrs["nodes_treeids"], attrs["nodes_nodeids"], strict=True)
    ):
        entry = {key: attrs[f"nodes_{key}"][i] for key in keys}
        entry["missing"] = attrs["nodes_missing_value_tracks_true"][i]
        trees.setdefault(int(tree), {})[int(node)] = entry
    nodes = _Nodes()
    for tree_id in sorted(trees):
        nodes.old_tree(tree_id, trees[tree_id], leaves)
    if len(base) not in (0, targets):
        raise InvalidInput(_UNKNOWN_TREES)
    return nodes.model(width, targets, base), link
