"""An artifact store that encrypts what it writes and decrypts what it reads.

:class:`SealedArtifactStore` wraps any :class:`ArtifactStore`. With a :class:`Keyring`, each
blob and each file of a folder is sealed (AES-256-GCM, see ``_crypto``) before the inner
store sees it, and opened when read: ``get_bytes`` returns plaintext, ``local_dir`` a
private decrypted copy, ``filesystem`` a read-only file system that decrypts on open (so
DuckDB reads sealed captures in place). Files written before encryption was switched on are
plaintext and read as they are. Without a keyring it writes plaintext and refuses, with a
clear message, a sealed file it cannot open.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsspec import AbstractFileSystem

from shipyard._files import PerThreadFile
from shipyard.artifacts._crypto import (
    HEADER_LEN,
    MAGIC,
    OVERHEAD,
    Keyring,
    key_id,
    open_unkeyed,
    sealed_key_id,
)
from shipyard.artifacts.base import ArtifactStore, StoredEntry
from shipyard.staging import owned_name

__all__ = ["SEALED_PROTOCOL", "RotationResult", "SealedArtifactStore"]

SEALED_PROTOCOL = "shipyardsealed"

_PLAIN_LOCK = threading.Lock()
_PLAIN_ROOT: list[Path] = []


def _plain_root() -> Path:
    """This process's private folder (mode 0700) of decrypted bundles, removed at exit."""
    with _PLAIN_LOCK:
        if not _PLAIN_ROOT:
            root = Path(tempfile.mkdtemp(prefix="shipyard-plain-"))
            atexit.register(shutil.rmtree, root, True)
            _PLAIN_ROOT.append(root)
        return _PLAIN_ROOT[0]


class SealedArtifactStore(ArtifactStore):
    """An :class:`ArtifactStore` that seals what it stores under ``keyring`` (when given).

    The contract is the inner store's; in addition, reads raise
    :class:`~shipyard.errors.IntegrityError` when a sealed file needs a key that is not set,
    or does not authenticate (the wrong key, or changed after it was written).
    """

    def __init__(self, inner: ArtifactStore, keyring: Keyring | None) -> None:
        self.inner = inner
        self.keyring = keyring

    def _open(self, blob: bytes, what: str) -> bytes:
        if self.keyring is None:
            return open_unkeyed(blob, what)
        return self.keyring.open(blob, what)

    def _seal(self, data: bytes) -> bytes:
        return data if self.keyring is None else self.keyring.seal(data)

    # --- writes ---------------------------------------------------------------------------
    def put_bytes(self, key: str, data: bytes) -> str:
        return self.inner.put_bytes(key, self._seal(data))

    def put_dir(self, local_dir: Path, key: str) -> str:
        if self.keyring is None or not Path(local_dir).is_dir():
            return self.inner.put_dir(local_dir, key)
        with tempfile.TemporaryDirectory(prefix="shipyard-seal-") as tmp:
            sealed = Path(tmp) / "bundle"
            for path in sorted(Path(local_dir).rglob("*")):
                target = sealed / path.relative_to(local_dir)
                if path.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                elif path.is_file():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(self.keyring.seal(path.read_bytes()))
            sealed.mkdir(exist_ok=True)
            return self.inner.put_dir(sealed, key)

    # --- reads ----------------------------------------------------------------------------
    def get_bytes(self, key: str) -> bytes:
        return self._open(self.inner.get_bytes(key), f"The artifact '{key}'")

    def local_dir(self, key: str) -> Path:
        folder = self.inner.local_dir(key)
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        if not any(_starts_sealed(p) for p in files):
            return folder  # plaintext (written before encryption): read in place
        # Per keyring: a store holding other keys must decrypt (and fail) for itself.
        ids = ",".join(self.keyring.ids) if self.keyring else ""
        seed = f"{self.inner.uri(key)}\0{folder}\0{ids}"
        digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
        plain = _plain_root() / digest
        if plain.is_dir():
            return plain
        tmp = plain.with_name(f".{plain.name}.{owned_name()}")
        try:
            for path in files:
                rel = path.relative_to(folder).as_posix()
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self._open(path.read_bytes(), f"File {rel} of bundle '{key}'"))
            tmp.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # another thread decrypted it first
                os.rename(tmp, plain)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return plain

    def filesystem(self, key: str) -> tuple[AbstractFileSystem, str]:
        fs, path = self.inner.filesystem(key)
        if self.keyring is None:
            return fs, path
        return SealedFileSystem(fs, self), path

    # --- delegated ------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def uri(self, key: str) -> str:
        return self.inner.uri(key)

    def key_of(self, uri: str) -> str:
        return self.inner.key_of(uri)

    def list_keys(self, prefix: str) -> list[StoredEntry]:
        return self.inner.list_keys(prefix)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def rewrite_files(self, change: Callable[[str, bytes], bytes | None]) -> int:
        return self.inner.rewrite_files(change)

    @property
    def root_uri(self) -> str:
        """The inner store's root URI."""
        return str(getattr(self.inner, "root_uri", self.inner.uri("x")[:-1]))

    def __repr__(self) -> str:
        state = f"keys {', '.join(self.keyring.ids)}" if self.keyring else "no key"
        return f"SealedArtifactStore({self.inner!r}, {state})"


def _starts_sealed(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


class RotationResult:
    """What a key rotation did: files re-sealed under the new key, and files left as they
    were (plaintext, or sealed under the new key already)."""

    def __init__(self, new_key_id: str, resealed: int, kept: int) -> None:
        self.new_key_id = new_key_id
        self.resealed = resealed
        self.kept = kept

    def to_dict(self) -> dict[str, Any]:
        """As JSON."""
        return {"new_key_id": self.new_key_id, "resealed": self.resealed, "kept": self.kept}


def rotate(store: SealedArtifactStore, new_key: bytes) -> RotationResult:
    """Re-seal every sealed file of ``store`` under ``new_key``, one atomic swap per file.

    Readers keep working throughout when they hold the old key and the new one.

    Raises:
        IntegrityError: A file needs a key ``store`` does not hold, or fails to
            authenticate; the files done so far stay under the new key (run it again once
            fixed: it skips those).
        BackendUnavailable: The store cannot be reached or failed.
    """
    wanted = key_id(new_key)
    old = store.keyring
    ring = Keyring((new_key, *(old.keys if old else ())))
    kept = [0]

    def change(rel: str, blob: bytes) -> bytes | None:
        found = sealed_key_id(blob)
        if found is None or found == wanted:
            kept[0] += 1
            return None
        return ring.seal(ring.open(blob, f"The stored file '{rel}'"))

    resealed = store.rewrite_files(change)
    return RotationResult(wanted.hex(), resealed, kept[0])


class SealedFileSystem(AbstractFileSystem):
    """A read-only view of a file system whose files may be sealed: ``open`` returns the
    plaintext, and ``info`` its size, so DuckDB and pyarrow read sealed Parquet in place."""

    protocol = SEALED_PROTOCOL
    root_marker = ""
    cachable = False

    def __init__(self, fs: AbstractFileSystem, store: SealedArtifactStore) -> None:
        super().__init__()
        self._fs = fs
        self._store = store

    def _inner(self, path: str) -> str:
        return str(self._fs._strip_protocol(self._strip_protocol(path)))

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """The entries of a folder (sizes as stored)."""
        return list(self._fs.ls(self._inner(path), detail=detail))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """Type and plaintext size of one path."""
        inner = self._inner(path)
        found = dict(self._fs.info(inner))
        if found.get("type") == "file" and found.get("size", 0) >= HEADER_LEN:
            head = self._fs.cat_file(inner, start=0, end=len(MAGIC))
            if head == MAGIC:
                found["size"] = int(found["size"]) - OVERHEAD
        return found

    def modified(self, path: str) -> Any:
        """When a file last changed."""
        return self._fs.modified(self._inner(path))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode != "rb":
            raise PermissionError(f"Sealed artifacts are read-only here: cannot open {path}.")
        inner = self._inner(path)
        plain = self._store._open(bytes(self._fs.cat_file(inner)), f"The stored file {inner}")
        return PerThreadFile(io.BytesIO(plain), path)

    def _rm(self, path: str) -> None:
        raise PermissionError(f"Sealed artifacts are read-only here: cannot remove {path}.")
