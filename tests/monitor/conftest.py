"""A trained, calibrated binary model with a baseline, and captures written in the capture
layout (``captures/<model>/v<N>/date=/hour=/part-*.parquet``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.capture import capture_key, capture_schema
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.registry import LoadedModel, approve_model, load_model, promote
from shipyard.train import train

HOUR = datetime(2026, 1, 5, 10, tzinfo=UTC)


def usage(n: int, seed: int, *, shift: float = 0.0, hard: float = 0.0) -> pd.DataFrame:
    """Roaming usage with fraud driven by data volume and the partner; ``shift`` moves the
    volume up, ``hard`` is the share of rows whose label ignores the features (a new fraud
    variant the model cannot see)."""
    rng = np.random.default_rng(seed)
    partner = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2])
    mb = rng.gamma(2.0, 40.0, n) * (1 + shift)
    calls = rng.poisson(5, n).astype(float)
    logit = 0.06 * (mb - 80) + 2.0 * (partner == "C") - 1.5
    fraud = rng.random(n) < 1 / (1 + np.exp(-logit))
    flip = rng.random(n) < hard
    fraud = np.where(flip, rng.random(n) < 0.5, fraud)
    return pd.DataFrame({"mb": mb, "calls": calls, "partner": partner, "fraud": fraud.astype(int)})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, LoadedModel]:
    from shipyard.project import init_project

    root = tmp_path_factory.mktemp("monitor-project")
    project = init_project(root)
    path = root / "train.parquet"
    usage(4000, 0).to_parquet(path)
    ingest_path(project, path, "usage")
    train(project, "usage", "fraud", model_name="fraud", family="lightgbm", calibration="isotonic")
    approve_model(project, "fraud:1", comment="test fixture")
    promote(project, "fraud:1", "prod")
    yield project, load_model(project, "fraud@prod")
    project.close()


def write_captures(
    project: Project, loaded: LoadedModel, frame: pd.DataFrame, start: datetime = HOUR
) -> pd.DataFrame:
    """Score ``frame`` and write it as captured rows spread over the hour from ``start``;
    returns the rows with their request ids (and the label column kept)."""
    model, version = loaded.model, loaded.version
    inputs = [c["name"] for c in version.signature["inputs"]]
    pred = model.predict_frame(frame[inputs])
    n = len(frame)
    rows = frame.copy()
    rows["request_id"] = [uuid.uuid4().hex for _ in range(n)]
    at = [start + timedelta(seconds=float(s)) for s in np.linspace(0, 3599, n)]
    table = pa.table(
        {
            "request_id": rows["request_id"].tolist(),
            "captured_at": pa.array(at, pa.timestamp("us", tz="UTC")),
            "model": [version.name] * n,
            "model_version": pa.array([version.version] * n, pa.int64()),
            "variant": pa.array([None] * n, pa.string()),
            "latency_ms": np.full(n, 1.0),
            "score": np.asarray(pred.scores, dtype=np.float64),
            "prediction": [str(v) for v in pred.labels()],
            **{
                c: frame[c].astype("float64" if c != "partner" else "object").tolist()
                for c in inputs
            },
        },
        schema=capture_schema(version.signature),
    )
    key = capture_key(version.name, version.version, start)
    fs, path = project.artifacts.filesystem(key)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    pq.write_table(table, path)
    return rows


@pytest.fixture
def labels_of(tmp_path: Path) -> Callable[[Project, pd.DataFrame, str], str]:
    def ingest_labels(project: Project, rows: pd.DataFrame, name: str = "labels") -> str:
        path = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}.parquet"
        rows[["request_id", "fraud"]].to_parquet(path)
        return ingest_path(project, path, name).version.ref

    return ingest_labels
