"""Model bundles: a folder of files plus a SHA-256 manifest checked before anything is loaded."""

from __future__ import annotations

import hashlib
import hmac
import json
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from shipyard.artifacts._classpaths import BUNDLE_FORMAT, BundleUnpickler
from shipyard.errors import IntegrityError, LibraryVersionWarning

__all__ = [
    "MANIFEST",
    "SIGNATURE",
    "check_library_versions",
    "load_verified_pickle",
    "verify_bundle",
    "write_manifest",
]

MANIFEST = "MANIFEST.json"
SIGNATURE = "MANIFEST.sig"
"""HMAC-SHA256 of ``MANIFEST.json``'s bytes under the signing key, when the bundle is signed."""
META = "model.json"
_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    top = (MANIFEST, SIGNATURE)
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() not in top
    )


def _hmac(key: bytes, manifest: bytes) -> str:
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


def write_manifest(folder: Path, signing_key: bytes | None = None) -> dict[str, str]:
    """Write ``MANIFEST.json`` (relative path -> SHA-256) for every file in ``folder``, and
    with ``signing_key`` its HMAC-SHA256 in ``MANIFEST.sig``."""
    digests = {p.relative_to(folder).as_posix(): _sha256(p) for p in _files(folder)}
    text = json.dumps({"sha256": digests}, indent=2, sort_keys=True).encode()
    (folder / MANIFEST).write_bytes(text)
    if signing_key is not None:
        signature = {"algorithm": "HMAC-SHA256", "hmac": _hmac(signing_key, text)}
        (folder / SIGNATURE).write_text(json.dumps(signature, indent=2))
    return digests


def check_signature(folder: Path, signing_key: bytes) -> None:
    """Check ``MANIFEST.sig`` against the manifest under ``signing_key`` (constant time).

    Raises:
        IntegrityError: The bundle is not signed, or not by this key, or its manifest was
            changed after it was signed.
    """
    try:
        manifest = (folder / MANIFEST).read_bytes()
        found = json.loads((folder / SIGNATURE).read_text())["hmac"]
    except FileNotFoundError as exc:
        raise IntegrityError(
            f"The bundle at {folder} is not signed, and SHIPYARD_SIGNING_KEY is set: it was "
            "written without the signing key (or its signature was removed). Refusing to load "
            "it; register the model again where the signing key is set."
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(
            f"The bundle at {folder} has an unreadable {SIGNATURE}; refusing to load it."
        ) from exc
    if not isinstance(found, str) or not hmac.compare_digest(found, _hmac(signing_key, manifest)):
        raise IntegrityError(
            f"The bundle at {folder} has a signature that does not match its manifest under "
            "the signing key set: it was signed with another key, or changed after it was "
            "signed. Refusing to load it; check SHIPYARD_SIGNING_KEY, or register the model "
            "again."
        )


def verify_bundle(folder: Path, signing_key: bytes | None = None) -> dict[str, str]:
    """Check a bundle's signature (with ``signing_key``) and every file against its manifest.

    Raises:
        IntegrityError: The signature is missing or wrong, the manifest is missing or
            unreadable, or a file was changed, added or removed since the bundle was written.
    """
    if signing_key is not None:
        check_signature(folder, signing_key)
    manifest = folder / MANIFEST
    try:
        expected: dict[str, str] = json.loads(manifest.read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(
            f"The bundle at {folder} has no readable {MANIFEST}; refusing to load it."
        ) from exc
    actual = {p.relative_to(folder).as_posix(): p for p in _files(folder)}
    problems = [f"{name} is missing" for name in sorted(set(expected) - set(actual))]
    problems += [f"{name} is not in the manifest" for name in sorted(set(actual) - set(expected))]
    problems += [
        f"{name} was modified"
        for name in sorted(set(expected) & set(actual))
        if _sha256(actual[name]) != expected[name]
    ]
    if problems:
        raise IntegrityError(
            f"The bundle at {folder} does not match its manifest: {'; '.join(problems)}. "
            "It may have been tampered with; refusing to load it. Re-register the model.",
            details={"problems": problems},
        )
    return expected


def load_verified_pickle(folder: Path, name: str, signing_key: bytes | None = None) -> Any:
    """Unpickle ``name`` from a bundle, only after the whole bundle is verified (and, with
    ``signing_key``, its signature checked).

    Raises:
        IntegrityError: As :func:`verify_bundle`; nothing was unpickled.

    Warns:
        LibraryVersionWarning: The bundle's libraries differ from the installed ones.
    """
    verify_bundle(folder, signing_key)
    check_format(folder)
    check_library_versions(folder)
    with (folder / name).open("rb") as fh:
        return BundleUnpickler(fh).load()


def check_format(folder: Path) -> int:
    """The bundle's format (1 when ``model.json`` names none).

    Raises:
        IntegrityError: A newer Shipyard wrote the bundle, in a format this one cannot read.
    """
    try:
        found = json.loads((folder / META).read_text()).get("format", 1)
    except (OSError, ValueError, AttributeError):
        found = 1
    if not isinstance(found, int) or found > BUNDLE_FORMAT:
        raise IntegrityError(
            f"The bundle at {folder} has format {found!r}; this Shipyard reads formats up to "
            f"{BUNDLE_FORMAT}. Upgrade Shipyard (pip install -U shipyard) to load it."
        )
    return found


def check_library_versions(folder: Path) -> dict[str, tuple[str, str | None]]:
    """Compare the library versions a bundle recorded (``model.json``) with the installed
    ones, warn when any differs, and return those: name -> (recorded, installed or None).

    A library the bundle recorded as absent is not compared; a bundle without
    ``model.json`` has nothing to compare.
    """
    try:
        recorded = json.loads((folder / META).read_text()).get("libraries") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    differ: dict[str, tuple[str, str | None]] = {}
    for lib, version in sorted(recorded.items()):
        if version is None:
            continue
        try:
            installed: str | None = metadata.version(lib)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differ[lib] = (str(version), installed)
    if differ:
        listed = ", ".join(
            f"{lib} {was} (installed: {now or 'none'})" for lib, (was, now) in differ.items()
        )
        warnings.warn(
            f"The model bundle at {folder} was written with {listed}. It may predict "
            "differently or fail to load; install those versions, or train and register "
            "the model again here.",
            LibraryVersionWarning,
            stacklevel=3,
        )
    return differ
