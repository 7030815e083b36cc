"""The artifact store: a port (:class:`ArtifactStore`), its fsspec adapter, bundle manifests,
and encryption at rest (:class:`SealedArtifactStore`)."""

from __future__ import annotations

from shipyard.artifacts._classpaths import BUNDLE_FORMAT
from shipyard.artifacts._crypto import (
    Keyring,
    keyring_from_settings,
    parse_keys,
    read_key_file,
    signing_key_from_settings,
)
from shipyard.artifacts._sealed import SEALED_PROTOCOL, RotationResult, SealedArtifactStore, rotate
from shipyard.artifacts.base import ArtifactStore, StoredEntry
from shipyard.artifacts.bundle import (
    check_library_versions,
    load_verified_pickle,
    verify_bundle,
    write_manifest,
)
from shipyard.artifacts.fs import FsspecArtifactStore

__all__ = [
    "BUNDLE_FORMAT",
    "SEALED_PROTOCOL",
    "ArtifactStore",
    "FsspecArtifactStore",
    "Keyring",
    "RotationResult",
    "SealedArtifactStore",
    "StoredEntry",
    "check_library_versions",
    "keyring_from_settings",
    "load_verified_pickle",
    "open_artifacts",
    "parse_keys",
    "read_key_file",
    "rotate",
    "signing_key_from_settings",
    "verify_bundle",
    "write_manifest",
]


def open_artifacts(url: str, *, keyring: Keyring | None = None) -> SealedArtifactStore:
    """The artifact store at ``url`` (a local folder, ``file://``, ``s3://``), sealing what it
    writes under ``keyring`` when one is given (and refusing sealed files without one)."""
    return SealedArtifactStore(FsspecArtifactStore(url), keyring)
