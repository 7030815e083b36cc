"""Shipyard: the whole life of a tabular machine-learning model.

The SDK surface. Names load on first use, so ``import shipyard`` (and the CLI) stays fast::

    import shipyard
    project = shipyard.open_project(".")
    shipyard.ingest_path(project, "usage.parquet", "usage")

or, through a team's ``shipyard server``, ``client = shipyard.connect(url, token=...)``.
"""

from __future__ import annotations

from shipyard._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Project": "shipyard.project",
    "init_project": "shipyard.project",
    "open_project": "shipyard.project",
    "connect": "shipyard.client",
    "Client": "shipyard.client",
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
    "approve_model": "shipyard.registry",
    "reject_model": "shipyard.registry",
    "environment_project": "shipyard.environments",
    "resolve_model": "shipyard.registry",
    "batch_transform": "shipyard.deploy",
    "run_pipeline": "shipyard.pipelines",
    "resume_pipeline": "shipyard.pipelines",
    "export_model": "shipyard.deploy",
    "recommend": "shipyard.deploy",
    "load_recommendation": "shipyard.deploy",
    "pitfalls_of": "shipyard.pitfalls",
    "compare_datasets": "shipyard.analyze",
    "ShipyardError": "shipyard.errors",
    "NotFound": "shipyard.errors",
    "InvalidInput": "shipyard.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
