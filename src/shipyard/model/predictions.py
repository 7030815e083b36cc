"""Predictions of a batch, and their two shapes: records (the server) and a frame (batch).

Both shapes carry the same fields with the same types, so a row scored by the server and the
same row scored in batch read alike:

=============  ===================================  ===================================
problem        ``score``                            ``decision``
=============  ===================================  ===================================
binary         P(positive), a float                 the class label past the threshold
multiclass     {class: probability} (a struct)      the likeliest class label
regression     the predicted value                  (no field)
=============  ===================================  ===================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.model.problem import Problem, plain_value

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["Predictions"]


@lru_cache(maxsize=64)
def _binary_labels(problem: Problem) -> np.ndarray:
    """``[negative, positive]`` as an object array, made once per problem: the server asks for
    it on every request."""
    positive = plain_value(problem.positive)
    negative = next(plain_value(c) for c in problem.classes if c != problem.positive)
    table = np.asarray([negative, positive], dtype=object)
    table.flags.writeable = False
    return table


@dataclass
class Predictions:
    """Scores and decisions for a batch, and the unseen categories met on the way.

    ``scores`` is P(positive) for binary problems, the (n, k) class probabilities for
    multiclass ones and the predicted value for regression; ``decisions`` is the boolean
    "past the threshold" (binary), the class label (multiclass), or None (regression).
    """

    scores: np.ndarray
    decisions: np.ndarray | None
    unseen: dict[str, int] = field(default_factory=dict)
    problem: Problem | None = None

    def labels(self) -> np.ndarray | None:
        """The decisions as class labels (an object array), or None for regression."""
        if self.decisions is None or self.problem is None:
            return None
        if self.problem.type != "binary":
            return np.asarray(self.decisions, dtype=object)
        return _binary_labels(self.problem)[np.asarray(self.decisions, int)]

    def to_records(self) -> list[dict[str, Any]]:
        """One ``{"score": ..., "decision": ...}`` dict per row, JSON-ready."""
        scores = self.scores.tolist()
        labels = self.labels()
        if labels is None:
            return [{"score": s} for s in scores]
        decisions = labels.tolist()
        if self.scores.ndim == 2:
            keys = [str(c) for c in self._classes()]
            return [
                {"score": dict(zip(keys, s, strict=True)), "decision": d}
                for s, d in zip(scores, decisions, strict=True)
            ]
        return [{"score": s, "decision": d} for s, d in zip(scores, decisions, strict=True)]

    def to_arrow(self) -> pa.Table:
        """The same fields as columns: ``score`` (a struct of classes for multiclass) and
        ``decision``."""
        import pyarrow as pa

        scores = np.asarray(self.scores, dtype=np.float64)
        if scores.ndim == 2:
            keys = [str(c) for c in self._classes()]
            score = pa.StructArray.from_arrays(
                [pa.array(scores[:, i]) for i in range(len(keys))], keys
            )
        else:
            score = pa.array(scores)
        columns: dict[str, Any] = {"score": score}
        labels = self.labels()
        if labels is not None:
            columns["decision"] = pa.array(labels.tolist())
        return pa.table(columns)

    def to_pandas(self) -> pd.DataFrame:
        """:meth:`to_arrow` as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def _classes(self) -> tuple[Any, ...]:
        return self.problem.classes if self.problem is not None else ()
