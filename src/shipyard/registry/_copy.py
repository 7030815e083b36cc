"""Copy a model version into an environment that has its own catalog and artifact store.

The bundle is immutable and carries a SHA-256 manifest: the copy is verified file by file
against it before it is uploaded (a tampered source is refused, nothing is written), and the
uploaded copy is verified again where it landed. The environment's catalog then registers
the same version (same name and number, metrics, lineage, signature, approval status and
history, gate records), with its evaluation, leaderboard and monitoring baseline. Copying a
version that is already there checks that it is the same bundle (the manifest's digest).
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from shipyard.artifacts import verify_bundle
from shipyard.entities import ModelVersion
from shipyard.errors import AlreadyExists, Conflict, IntegrityError, NotFound
from shipyard.project import Project
from shipyard.staging import staging_dir

__all__ = ["COPIED_REPORTS", "copy_version", "manifest_digest"]

COPIED_REPORTS = ("evaluation", "leaderboard", "baseline")
"""The catalog reports that go with a version into another environment's catalog."""
_MANIFEST = "MANIFEST.json"
_PREFIX = "shipyard-copy-"


def manifest_digest(folder: Path) -> str:
    """The SHA-256 of a bundle's manifest: it names every file's SHA-256, so equal digests
    mean equal bundles."""
    try:
        return hashlib.sha256((folder / _MANIFEST).read_bytes()).hexdigest()
    except OSError as exc:
        raise IntegrityError(
            f"The bundle at {folder} has no readable {_MANIFEST}; refusing to copy it."
        ) from exc


def copy_version(
    source: Project, version: ModelVersion, target: Project
) -> tuple[ModelVersion, bool]:
    """``version`` (from ``source``'s catalog) as ``target``'s catalog holds it, copied there
    first when missing; and whether it was copied now.

    Raises:
        IntegrityError: The source bundle (or the copy that landed) does not match its
            manifest; nothing was registered in ``target``.
        Conflict: ``target`` holds a version with that name and number but another bundle.
    """
    key = source.artifacts.key_of(version.bundle_uri)
    folder = source.artifacts.local_dir(key)
    verify_bundle(folder, source.signing_key)
    digest = manifest_digest(folder)
    existing = _existing(target, version)
    if existing is not None:
        _check_same(target, existing, digest)
        return existing, False
    _copy_bundle(folder, key, digest, source.signing_key, target)
    _copy_reports(source, target, version)
    try:
        imported = target.catalog.import_model_version(
            version,
            approvals=source.catalog.list_approvals(version.name, version.version),
            promotions=source.catalog.list_promotions(version.name, version.version),
            actor=source.actor,
        )
    except AlreadyExists as exc:  # a pending or abandoned version took that number there
        raise Conflict(
            f"The environment's catalog holds {version.ref} already as another, unfinished "
            "version; nothing was promoted. Remove it there, or promote another version.",
            details={"model": version.ref},
        ) from exc
    target.catalog.record_event(
        "model.copy",
        "model",
        version.ref,
        actor=source.actor,
        details={"bundle": key, "manifest_sha256": digest},
    )
    return imported, True


def _existing(target: Project, version: ModelVersion) -> ModelVersion | None:
    try:
        return target.catalog.get_model_version(version.name, version.version)
    except NotFound:
        return None


def _check_same(target: Project, existing: ModelVersion, digest: str) -> None:
    folder = target.artifacts.local_dir(target.artifacts.key_of(existing.bundle_uri))
    verify_bundle(folder, target.signing_key)
    theirs = manifest_digest(folder)
    if theirs != digest:
        raise Conflict(
            f"The environment's catalog holds {existing.ref} already, with another bundle "
            f"(manifest {theirs[:12]}, the source's is {digest[:12]}): the two catalogs "
            "numbered different models alike. Nothing was promoted; promote a version the "
            "environment does not hold, or retrain.",
            details={"model": existing.ref, "theirs": theirs, "ours": digest},
        )


def _copy_bundle(
    folder: Path, key: str, digest: str, signing_key: bytes | None, target: Project
) -> None:
    """Upload a verified private copy of the bundle under the same key, then verify what
    landed; a copy there already (a retry, or a store both share) is verified the same way."""
    with staging_dir(Path(tempfile.gettempdir()), _PREFIX) as stage:
        copy = stage / "bundle"
        shutil.copytree(folder, copy)
        # Verified after copying, so what is uploaded is what was checked.
        verify_bundle(copy, signing_key)
        if manifest_digest(copy) != digest:
            raise IntegrityError(f"The bundle at {folder} changed while it was being copied.")
        with contextlib.suppress(AlreadyExists):  # a retry, or a store both environments share
            target.artifacts.put_dir(copy, key)
    landed = target.artifacts.local_dir(key)
    verify_bundle(landed, target.signing_key)
    if manifest_digest(landed) != digest:
        raise IntegrityError(
            f"The environment's artifact store holds another bundle under {key}; nothing "
            "was registered there."
        )


def _copy_reports(source: Project, target: Project, version: ModelVersion) -> None:
    for kind in COPIED_REPORTS:
        try:
            report = source.catalog.get_report(version.ref, kind)
        except NotFound:
            continue
        payload: dict[str, Any] = dict(report.payload)
        html_uri = _copy_blob(source, target, report.html_uri) if report.html_uri else None
        reference = payload.get("reference")
        if isinstance(reference, dict) and reference.get("uri"):
            payload["reference"] = {
                **reference,
                "uri": _copy_blob(source, target, reference["uri"]),
            }
        target.catalog.put_report(version.ref, kind, payload, html_uri=html_uri, actor=source.actor)


def _copy_blob(source: Project, target: Project, uri: str) -> str:
    key = source.artifacts.key_of(uri)
    try:
        return target.artifacts.put_bytes(key, source.artifacts.get_bytes(key))
    except AlreadyExists:
        return target.artifacts.uri(key)
