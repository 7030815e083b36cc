"""Key rotation for encryption at rest: what ``shipyard keys rotate`` runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.artifacts import (
    RotationResult,
    SealedArtifactStore,
    parse_keys,
    read_key_file,
    rotate,
)

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["rotate_encryption_key"]


def rotate_encryption_key(project: Project, new_key_file: str | Path) -> RotationResult:
    """Re-encrypt every encrypted file of the artifact store under the key in
    ``new_key_file`` (its first line), each file swapped atomically, so readers holding both
    keys keep loading throughout. Files under the new key already are skipped, so a rotation
    that stopped half-way is finished by running it again. Plaintext files are kept.

    Raises:
        InvalidInput: The file cannot be read or holds no valid key.
        IntegrityError: A file is encrypted under a key the project's settings do not hold.
        BackendUnavailable: The artifact store cannot be reached or failed.
    """
    path = Path(new_key_file)
    new_key = parse_keys(read_key_file(path, "--new-key-file"), f"--new-key-file ({path})")[0]
    store = project.artifacts
    if not isinstance(store, SealedArtifactStore):
        store = SealedArtifactStore(store, None)
    result = rotate(store, new_key)
    project.catalog.record_event(
        "keys.rotate",
        "artifacts",
        store.root_uri,
        actor=project.actor,
        details=result.to_dict(),
    )
    return result
