"""The artifact store: a port (:class:`ArtifactStore`), its fsspec adapter, bundle manifests."""

from __future__ import annotations

from shipyard.artifacts._classpaths import BUNDLE_FORMAT
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
    "ArtifactStore",
    "FsspecArtifactStore",
    "StoredEntry",
    "check_library_versions",
    "load_verified_pickle",
    "open_artifacts",
    "verify_bundle",
    "write_manifest",
]


def open_artifacts(url: str) -> ArtifactStore:
    """The artifact store at ``url`` (a local folder, ``file://``, ``s3://``)."""
    return FsspecArtifactStore(url)
