"""Shipyard: the whole life of a tabular machine-learning model.

The SDK surface. Names load on first use, so ``import shipyard`` (and the CLI) stays fast::

    import shipyard
    project = shipyard.open_project(".")
    shipyard.ingest_path(project, "usage.parquet", "usage")
"""

from __future__ import annotations

from shipyard._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Project": "shipyard.project",
    "init_project": "shipyard.project",
    "open_project": "shipyard.project",
    "ingest_path": "shipyard.ingest",
    "ingest_sql": "shipyard.ingest",
    "train": "shipyard.train",
    "TrainSpec": "shipyard.train",
    "query": "shipyard.lake",
    "historical_features": "shipyard.features",
    "training_set": "shipyard.features",
    "load_evaluation": "shipyard.evaluation",
    "load_model": "shipyard.registry",
    "promote": "shipyard.registry",
    "resolve_model": "shipyard.registry",
    "batch_transform": "shipyard.deploy",
    "pitfalls_of": "shipyard.pitfalls",
    "compare_datasets": "shipyard.analyze",
    "ShipyardError": "shipyard.errors",
    "NotFound": "shipyard.errors",
    "InvalidInput": "shipyard.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
