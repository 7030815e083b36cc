"""An anomaly score as one more feature, computed inside the model from the raw row.

:class:`AnomalyFeatureEncoder` is a :class:`FeatureEncoder` that also holds an
:class:`~shipyard.model.anomaly.AnomalyDetector`, fitted on the encoded rows the encoder is
fitted on (a training job fits the encoder on its train part only, so the detector never
sees a validation or test row). Every encoded batch gets the detector's score of the row as
its last column, ``anomaly_score`` by default, so training, batch, the server and the
explanations see the same feature while a request carries only the raw columns: the input
signature is the wrapped encoder's, without the score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput
from shipyard.model.anomaly import DETECTORS, AnomalyDetector
from shipyard.model.encoder import _MAX_LEVELS, Encoded, FeatureEncoder

__all__ = ["ANOMALY_FEATURE", "DETECTOR_DEFAULTS", "AnomalyFeatureEncoder", "check_detector"]

ANOMALY_FEATURE = "anomaly_score"
"""The name of the feature the detector's score becomes."""

DETECTOR_DEFAULTS: dict[str, dict[str, Any]] = {
    "lof": {"n_neighbors": 35},  # measured best on the roaming demo (see the README)
    "isolation_forest": {},
}
"""The detector's parameters, per kind, when the anomaly feature is asked for by name."""


def check_detector(kind: Any, *, option: str = "anomaly_feature") -> str:
    """``kind`` if it names a detector, else InvalidInput listing the valid ones."""
    if kind not in DETECTORS:
        raise InvalidInput(
            f"The '{option}' parameter of train must be one of {', '.join(DETECTORS)}. "
            f"Got {kind!r} instead."
        )
    return str(kind)


class AnomalyFeatureEncoder(FeatureEncoder):
    """A feature encoder that appends an anomaly detector's score as the last feature.

    Follows the estimator contract: ``__init__`` stores its arguments, ``fit`` learns the
    encoder's attributes and ``detector_`` (fitted on the encoded ``frame``) and returns
    ``self``.

    Args:
        exclude, max_levels, hashed: As for :class:`FeatureEncoder`.
        detector: ``lof`` or ``isolation_forest``.
        params: The detector's parameters (default: :data:`DETECTOR_DEFAULTS`).
        column: The feature's name; no input column may have it.
        seed: Seeds the detector.
    """

    def __init__(
        self,
        exclude: Sequence[str] = (),
        max_levels: int = _MAX_LEVELS,
        hashed: Mapping[str, str] | None = None,
        *,
        detector: str = "lof",
        params: Mapping[str, Any] | None = None,
        column: str = ANOMALY_FEATURE,
        seed: int = 0,
    ) -> None:
        super().__init__(exclude, max_levels, hashed)
        self.detector = detector
        self.params = dict(params) if params is not None else None
        self.column = column
        self.seed = seed

    def fit(self, frame: pd.DataFrame) -> AnomalyFeatureEncoder:
        """Learn the encoding of ``frame``, then the detector on its encoded rows.

        Raises:
            InvalidInput: An unknown detector or bad parameters, or a feature already named
                like the score.
        """
        self.fit_encode(frame)
        return self

    def fit_encode(self, frame: pd.DataFrame) -> Encoded:
        """Fit on ``frame`` and encode it, each row's score as the detector would give it
        were the row new (see :meth:`AnomalyDetector.fit_score`): the model learns from the
        scores it will meet in serving, not from its detector's own training rows' lower ones.

        Raises:
            InvalidInput: As :meth:`fit`.
        """
        kind = check_detector(self.detector)
        super().fit(frame)
        if self.column in self.feature_names_:
            raise InvalidInput(
                f"The table already has a feature '{self.column}', the name of the anomaly "
                "feature. Exclude or rename that column, or train without --anomaly-feature."
            )
        base = super()._encode({s.name: frame[s.name] for s in self.columns_}, len(frame))
        params = DETECTOR_DEFAULTS[kind] if self.params is None else self.params
        self.detector_ = AnomalyDetector(kind, params, self.categorical_indices_, self.seed)
        scores = self.detector_.fit_score(base.matrix, threads=1)
        self.fitted_rows_ = len(frame)
        self.feature_names_ = [*self.feature_names_, self.column]
        return Encoded(np.column_stack([base.matrix, scores]), base.unseen)

    @property
    def signature(self) -> dict[str, Any]:
        """The raw input columns (never the score) and the feature the model adds."""
        out = super().signature
        out["derived"] = [{"name": self.column, "from": f"{self.detector_.kind} detector"}]
        return out

    def _encode(self, columns: Mapping[str, Any], rows: int) -> Encoded:
        # The base class sizes the matrix by feature_names_, the score's column included,
        # and fills the input features before it; the last column is the score's.
        encoded = super()._encode(columns, rows)
        encoded.matrix[:, -1] = self.detector_.score(encoded.matrix[:, :-1])
        return encoded
