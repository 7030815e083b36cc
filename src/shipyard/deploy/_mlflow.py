"""A model version as an MLflow pyfunc model, written by ``mlflow.pyfunc.save_model``.

The pyfunc's ``python_model`` is :class:`ShipyardPyfunc`; its one artifact is the version's
bundle, copied as it is (model, signature, metrics, lineage, library versions, manifest).
MLflow loads it by calling :meth:`ShipyardPyfunc.load_context`, which verifies the bundle
against its SHA-256 manifest before unpickling, as Shipyard does. ``predict`` returns what
:meth:`shipyard.model.Predictions.to_pandas` does: ``score`` and ``decision`` columns, the
same values Shipyard's batch transform writes.

This module imports MLflow, so Shipyard imports it only to export, or when MLflow loads a
model written here (which therefore needs Shipyard installed: its requirements say so).
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

with warnings.catch_warnings():  # MLflow's own loaders warn about their type hints on import
    warnings.simplefilter("ignore")
    import mlflow.pyfunc
    from mlflow.pyfunc.model import PythonModel

if TYPE_CHECKING:
    from shipyard.registry import LoadedModel

__all__ = ["ShipyardPyfunc", "load_pyfunc", "save_pyfunc"]

BUNDLE = "bundle"
"""The name of the bundle artifact (and of its folder under ``artifacts/``)."""


class ShipyardPyfunc(PythonModel):
    """Scores with the Shipyard model in the ``bundle`` artifact."""

    def load_context(self, context: Any) -> None:
        from shipyard.artifacts import load_verified_pickle

        self.model = load_verified_pickle(Path(context.artifacts[BUNDLE]), "model.pkl")

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        return self.model.predict_frame(model_input).to_pandas()


@contextmanager
def _quiet() -> Iterator[None]:
    """MLflow without what a Shipyard user cannot act on: its warnings about its own code and
    pandas, its progress bars and info logs, and its habit of copying the uv project of the
    current directory into the model."""
    settings = {
        "MLFLOW_UV_AUTO_DETECT": "false",
        "MLFLOW_LOG_UV_FILES": "false",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    saved = {k: os.environ.get(k) for k in settings}
    logger = logging.getLogger("mlflow")
    level = logger.level
    os.environ.update(settings)
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_pyfunc(path: Path) -> Any:
    """``mlflow.pyfunc.load_model(path)``, quietly."""
    with _quiet():
        return mlflow.pyfunc.load_model(str(path))


def save_pyfunc(loaded: LoadedModel, path: Path, example: pd.DataFrame, scratch: Path) -> None:
    """Write ``loaded`` as a pyfunc model folder at ``path`` (which must not exist), using
    the folder ``scratch`` for a copy of the bundle."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec
    from mlflow.types.schema import AnyType

    model = loaded.model
    columns: list[ColSpec | TensorSpec] = []
    for spec in model.encoder.columns_:
        # MLflow refuses to cast int64 to double and cannot hold a missing boolean in a
        # boolean column, so only strings are typed for MLflow; Shipyard's encoder checks
        # every column's type itself, with an error naming the column.
        kind: Any = "string" if spec.kind == "string" else AnyType()
        columns.append(ColSpec(kind, spec.name))
    bundle = scratch / BUNDLE  # MLflow names an artifact's folder after its source
    shutil.copytree(loaded.path, bundle)
    with _quiet():
        mlflow.pyfunc.save_model(
            path=str(path),
            python_model=ShipyardPyfunc(),
            artifacts={BUNDLE: str(bundle)},
            signature=ModelSignature(inputs=Schema(columns)),
            input_example=example,
            pip_requirements=requirements(loaded),
            metadata={"shipyard_model": loaded.version.ref, "shipyard_signature": model.signature},
        )


def requirements(loaded: LoadedModel) -> list[str]:
    """Shipyard and the libraries the bundle recorded, pinned to the recorded versions."""
    import json

    recorded = json.loads((loaded.path / "model.json").read_text()).get("libraries", {})
    if not recorded.get("shipyard"):
        recorded["shipyard"] = metadata.version("shipyard")
    return [f"{name}=={version}" for name, version in sorted(recorded.items()) if version]
