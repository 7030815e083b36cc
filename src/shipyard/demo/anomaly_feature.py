"""The roaming demo's anomaly score per subscriber-day as a column of the table, to look at.

To make it a feature of the fraud model, train with ``anomaly_feature="lof"`` (``shipyard
train --anomaly-feature lof``, the roaming pipeline's ``-p anomaly_feature=lof``): the
detector is then fitted on the train part and compiled into the model, so a request carries
only the raw columns. This module publishes the score as a column instead, for analysis.

:func:`add_anomaly_score` trains an anomaly model without the label (it never sees
``is_fraud``) on the rows the supervised model will train on (the same time split), scores
every row with it through batch transform, and publishes the table again with the score as
``anomaly_score``. A model trained on that table would need ``anomaly_score`` in every
request; train with ``anomaly_feature`` instead. ``benchmarks/roaming_anomaly_feature.py``
measures whether the feature pays on the demo's data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.deploy import batch_transform
from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_sql
from shipyard.project import Project
from shipyard.train import SearchSpec, SplitSpec, TrainSpec, train

__all__ = ["AnomalyFeature", "add_anomaly_score"]

_DETECTOR = {"kind": "lof", "n_neighbors": 35}


@dataclass(frozen=True)
class AnomalyFeature:
    """The anomaly model that scored the table and the table with its score column."""

    model: str
    dataset: str
    column: str


def add_anomaly_score(
    project: Project,
    dataset: str,
    output_name: str,
    *,
    label: str = "is_fraud",
    exclude: Sequence[str] = ("subscriber_id",),
    time_column: str | None = "day",
    model_name: str = "fraud-anomaly",
    column: str = "anomaly_score",
    contamination: float = 0.01,
    detector: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> AnomalyFeature:
    """Train an unlabelled anomaly model on ``dataset`` and publish it again as
    ``output_name`` with the model's score in ``column``.

    Args:
        label: The supervised model's target: excluded, so the score knows nothing of it.
        exclude: Other columns that must not be the anomaly model's features.
        time_column: Split by time on it, as the supervised model does, so the anomaly model
            learns only from the earliest rows (None: a random split).
        detector: The detector and its parameters (default: LOF with 35 neighbours, which
            measured best on the demo's data, see the README).

    Raises:
        NotFound: The dataset or a named column does not exist.
        InvalidInput: ``column`` is already a column of the table, or training fails.
    """
    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    if column in {c.name for c in version.columns}:
        raise InvalidInput(
            f"{version.ref} already has a column '{column}'; name the anomaly score "
            "otherwise (column=...)."
        )
    split = SplitSpec("time", time_column=time_column) if time_column else SplitSpec("random")
    spec = TrainSpec(
        split=split,
        search=SearchSpec(params=dict(detector or _DETECTOR)),
        problem_type="anomaly",
        exclude=(label, *exclude),
        model_name=model_name,
        contamination=contamination,
        seed=seed,
    )
    result = train(project, version.ref, None, spec)
    model = result.model_version.ref
    scored = batch_transform(project, model, version.ref, f"{output_name}_scored").version
    published = ingest_sql(
        project,
        f'SELECT * EXCLUDE (score, decision), score AS "{column}" FROM "{scored.name}"',
        output_name,
    ).version
    return AnomalyFeature(model, published.ref, column)
