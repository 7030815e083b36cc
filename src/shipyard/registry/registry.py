"""The model registry: bundles in the artifact store, versions and aliases in the catalog."""

from __future__ import annotations

import json
import pickle
import platform
import tempfile
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.artifacts import BUNDLE_FORMAT, load_verified_pickle, write_manifest
from shipyard.catalog.refs import parse_model_ref
from shipyard.entities import APPROVAL_STATUSES, ModelVersion
from shipyard.environments import environment_project, resolve_version
from shipyard.errors import InvalidInput, did_you_mean
from shipyard.project import Project
from shipyard.staging import staging_dir
from shipyard.tracking import fail_dead_runs
from shipyard.types import JSON

if TYPE_CHECKING:
    from shipyard.model import TabularModel

__all__ = [
    "MODEL_FILE",
    "LoadedModel",
    "list_versions",
    "load_model",
    "load_version",
    "publish_model",
    "register_model",
    "resolve_model",
]

MODEL_FILE = "model.pkl"
"""The pickled model's file in a bundle (its size is the model's footprint in memory)."""
_BUNDLE_PREFIX = "shipyard-bundle-"
_LIBRARIES = (
    "shipyard",
    "lightgbm",
    "xgboost-cpu",
    "catboost",
    "scikit-learn",
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
)


@dataclass
class LoadedModel:
    """A verified, unpickled model version, ready to score."""

    version: ModelVersion
    model: TabularModel
    path: Path


def register_model(
    project: Project,
    name: str,
    model: TabularModel,
    *,
    run_id: str | None,
    metrics: JSON,
    lineage: JSON,
    extra_files: dict[str, bytes] | None = None,
    pending: bool = False,
) -> ModelVersion:
    """Write a bundle (model, signature, metrics, lineage, library versions, manifest) and
    register it as the next version of ``name``.

    The version is ready at once; with ``pending`` it stays hidden (not resolved, listed or
    promoted) until :func:`publish_model` makes it ready, so a caller that still has to
    store what goes with it (a report) never exposes a half-made version.
    """
    parse_model_ref(name)
    with staging_dir(Path(tempfile.gettempdir()), _BUNDLE_PREFIX) as folder:
        with (folder / MODEL_FILE).open("wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        meta = {
            "format": BUNDLE_FORMAT,
            "signature": model.signature,
            "metrics": metrics,
            "lineage": lineage,
            "libraries": _library_versions(),
            "python": platform.python_version(),
        }
        for file_name, payload in {
            "signature.json": model.signature,
            "model.json": meta,
        }.items():
            (folder / file_name).write_text(json.dumps(payload, indent=2, default=str))
        for file_name, data in (extra_files or {}).items():
            (folder / file_name).write_bytes(data)
        write_manifest(folder, project.signing_key)
        key = f"models/{name}/{uuid.uuid4().hex}"
        project.artifacts.put_dir(folder, key)
    return project.catalog.create_model_version(
        name,
        run_id=run_id,
        bundle_uri=key,  # relative to the artifact store, so the project folder can move
        problem_type=model.problem.type,
        signature=model.signature,
        metrics=metrics,
        lineage=lineage,
        actor=project.actor,
        pending=pending,
    )


def publish_model(
    project: Project,
    version: ModelVersion,
    *,
    run_metrics: JSON | None = None,
    run_outputs: JSON | None = None,
) -> ModelVersion:
    """Make a version registered with ``pending=True`` ready, finishing its run (if any)
    with ``run_metrics`` and ``run_outputs`` in the same catalog transaction.

    Raises:
        NotFound: No such version.
        Conflict: The version is ready already, or its run is no longer running.
    """
    return project.catalog.publish_model_version(
        version.name,
        version.version,
        run_metrics=run_metrics,
        run_outputs=run_outputs,
        actor=project.actor,
    )


def list_versions(
    project: Project,
    name: str | None = None,
    *,
    include_pending: bool = False,
    approval: str | None = None,
    environment: str | None = None,
) -> list[ModelVersion]:
    """Model versions, oldest first: the ready ones, and with ``include_pending`` also the
    pending and abandoned ones. Runs whose process died are failed first, so the version a
    dead job left shows as ``abandoned``, not ``pending``.

    Args:
        approval: Only versions with this approval status (PendingManualApproval, Approved,
            Rejected).
        environment: List the catalog of this environment (dev, staging, prod) instead of
            the project's: they differ when ``shipyard.yaml`` gives it its own.

    Raises:
        InvalidInput: An unknown approval status or environment.
    """
    if approval is not None and approval not in APPROVAL_STATUSES:
        raise InvalidInput(
            f"The approval status must be one of {', '.join(APPROVAL_STATUSES)}. Got "
            f"'{approval}' instead.{did_you_mean(approval, APPROVAL_STATUSES)}"
        )
    home = project if environment is None else environment_project(project, environment)
    if include_pending:
        fail_dead_runs(home.catalog, home.actor)
    versions = home.catalog.list_model_versions(name, include_pending=include_pending)
    return [v for v in versions if approval is None or v.approval == approval]


def resolve_model(project: Project, ref: str) -> ModelVersion:
    """The version ``ref`` names: ``fraud`` (latest), ``fraud:3`` or ``fraud@prod`` (an
    environment's alias, resolved in that environment's catalog, see
    :func:`~shipyard.environments.environment_project`)."""
    return resolve_version(project, ref)[1]


def load_model(project: Project, ref: str) -> LoadedModel:
    """Resolve, verify (SHA-256 manifest) and unpickle a model version; ``fraud@prod`` loads
    from prod's own catalog and artifact store when it has them.

    Raises:
        NotFound: No such model, version or alias.
        IntegrityError: The bundle does not match its manifest; nothing was unpickled.
    """
    home, version = resolve_version(project, ref)
    return load_version(home, version)


def load_version(home: Project, version: ModelVersion) -> LoadedModel:
    """Verify (SHA-256 manifest) and unpickle ``version`` from ``home``'s artifact store.

    Raises:
        NotFound: The bundle is not in the artifact store.
        IntegrityError: The bundle does not match its manifest; nothing was unpickled.
    """
    key = home.artifacts.key_of(version.bundle_uri)
    folder = home.artifacts.local_dir(key)
    model = load_verified_pickle(folder, MODEL_FILE, home.signing_key)
    return LoadedModel(version, model, folder)


def _library_versions() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lib in _LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out
