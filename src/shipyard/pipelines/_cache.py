"""Cache keys: a step reruns only when what it reads, how it is configured or its code
changed. Inputs count by content: a dataset version by its fingerprint, a model version by
the digest of its bundle's manifest, a report by the hash of its JSON, anything else by its
value; a kind may add more (the bytes of a file it ingests)."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.errors import NotFound, ShipyardError
from shipyard.pipelines._kinds import StepKind
from shipyard.project import Project

__all__ = ["cache_key", "resolve_datasets"]

_DIGESTS: dict[str, str] = {}  # bundle key -> digest; bundles are immutable
_LOCK = threading.Lock()


def resolve_datasets(project: Project, kind: StepKind, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` with each dataset given by name (its latest version) pinned to ``name@N``,
    so the step reads what its cache key was computed from.

    Raises:
        NotFound: A dataset or version that does not exist.
    """
    out = dict(args)
    for name, value in args.items():
        arg = kind.args.get(name)
        if arg is not None and arg.type == "dataset" and isinstance(value, str):
            ref = parse_dataset_ref(value)
            out[name] = project.catalog.get_dataset_version(ref.name, ref.version).ref
    return out


def cache_key(
    project: Project, kind: StepKind, args: dict[str, Any], params: dict[str, Any]
) -> str:
    """The SHA-256 that names this step's work: kind and code version, each argument's
    content, and what the kind's fingerprint adds.

    Raises:
        NotFound: A dataset or model the arguments name does not exist.
    """
    material = {
        "kind": kind.name,
        "version": kind.version,
        "args": {
            k: _content(project, kind.args[k].type if k in kind.args else "json", v)
            for k, v in sorted(args.items())
        },
        "extra": kind.fingerprint(project, args) if kind.fingerprint else None,
        "params": params if kind.reads_params else None,
    }
    text = json.dumps(material, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _content(project: Project, kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "dataset":
        ref = parse_dataset_ref(value)
        return "dataset:" + project.catalog.get_dataset_version(ref.name, ref.version).fingerprint
    if kind == "model":
        try:
            return "model:" + model_digest(project, value)
        except NotFound:  # a champion that does not exist yet is a state too
            return f"model:missing:{value}"
    if kind == "report" and isinstance(value, dict):
        return "report:" + str(value.get("sha256") or json.dumps(value, sort_keys=True))
    return value


def model_digest(project: Project, ref: str) -> str:
    """The SHA-256 of the bundle manifest of the version ``ref`` names (which lists the
    SHA-256 of every file of the bundle)."""
    from shipyard.registry import resolve_model

    version = resolve_model(project, ref)
    key = project.artifacts.key_of(version.bundle_uri)
    with _LOCK:
        known = _DIGESTS.get(key)
    if known is None:
        try:
            manifest = project.artifacts.get_bytes(f"{key}/MANIFEST.json")
        except ShipyardError:  # an unreadable bundle: its identity still names it uniquely
            manifest = f"{version.ref}:{version.bundle_uri}".encode()
        known = hashlib.sha256(manifest).hexdigest()
        with _LOCK:
            _DIGESTS[key] = known
    return known
