"""The artifact store on any fsspec filesystem: a local folder by default, S3 by URL."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import fsspec

from shipyard.artifacts.base import ArtifactStore
from shipyard.errors import AlreadyExists, BackendUnavailable, InvalidInput, NotFound

__all__ = ["FsspecArtifactStore"]

_COMMIT_MARK = "_COMMITTED"


class FsspecArtifactStore(ArtifactStore):
    """An :class:`ArtifactStore` on a local folder (atomic renames) or an object store.

    On a local folder, a folder is written under a temporary name and renamed into place.
    On an object store, which has no atomic rename, a ``_COMMITTED`` marker is written last
    and a folder without it counts as absent.

    Args:
        url: A local path, ``file:///path``, or ``s3://bucket/prefix``.
        cache_dir: Where remote folders are copied for reading.
    """

    def __init__(self, url: str, *, cache_dir: Path | None = None) -> None:
        protocol = url.split("://", 1)[0] if "://" in url else "file"
        try:
            self._fs = fsspec.filesystem(protocol)
        except (ImportError, ValueError) as exc:
            extra = "s3" if protocol == "s3" else protocol
            raise BackendUnavailable(
                f"No filesystem for artifact URL '{url}' ({exc}). "
                f"Install it with `pip install 'shipyard[{extra}]'`."
            ) from exc
        self._local = protocol in ("file", "local")
        self._root = url.split("://", 1)[1] if "://" in url else url
        if self._local:
            self._root = str(Path(self._root).resolve())
            Path(self._root).mkdir(parents=True, exist_ok=True)
        self._cache = cache_dir or Path(tempfile.gettempdir()) / "shipyard-artifacts"

    def _path(self, key: str) -> str:
        parts = [p for p in key.strip("/").split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise InvalidInput(f"'{key}' is not a valid artifact key.")
        return "/".join([self._root.rstrip("/"), *parts])

    def uri(self, key: str) -> str:
        path = self._path(key)
        return f"file://{path}" if self._local else f"{self._fs.protocol[0]}://{path}"

    @property
    def root_uri(self) -> str:
        root = self._root.rstrip("/")
        return f"file://{root}/" if self._local else f"{self._fs.protocol[0]}://{root}/"

    def key_of(self, uri: str) -> str:
        if not uri.startswith(self.root_uri):
            raise InvalidInput(
                f"{uri} is not in the artifact store at {self.root_uri}. "
                "Was SHIPYARD_ARTIFACTS_URL changed since it was written?"
            )
        return uri[len(self.root_uri) :]

    def exists(self, key: str) -> bool:
        path = self._path(key)
        if self._local:
            return os.path.exists(path)
        return bool(self._fs.exists(path)) and (
            self._fs.isfile(path) or self._fs.exists(f"{path}/{_COMMIT_MARK}")
        )

    def put_dir(self, local_dir: Path, key: str) -> str:
        target = self._path(key)
        if self.exists(key):
            raise AlreadyExists(f"Artifact '{key}' exists already; artifacts are immutable.")
        if self._local:
            staging = Path(self._root) / "_staging" / uuid.uuid4().hex
            staging.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(local_dir, staging)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, target)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise AlreadyExists(f"Artifact '{key}' was written concurrently.") from exc
        else:
            self._fs.put(str(local_dir), target, recursive=True)
            self._fs.pipe(f"{target}/{_COMMIT_MARK}", b"")
        return self.uri(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        target = self._path(key)
        if self.exists(key):
            raise AlreadyExists(f"Artifact '{key}' exists already; artifacts are immutable.")
        if self._local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            tmp = f"{target}.{uuid.uuid4().hex}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        else:
            self._fs.pipe(target, data)
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        if not self.exists(key):
            raise NotFound(f"No artifact '{key}' in {self.root_uri}.")
        return bytes(self._fs.cat_file(self._path(key)))

    def local_dir(self, key: str) -> Path:
        if not self.exists(key):
            raise NotFound(f"No artifact '{key}' in {self.root_uri}.")
        if self._local:
            return Path(self._path(key))
        cached = self._cache / key.strip("/")
        if not (cached / _COMMIT_MARK).exists():
            tmp = cached.with_name(cached.name + f".{uuid.uuid4().hex}")
            self._fs.get(self._path(key), str(tmp), recursive=True)
            shutil.rmtree(cached, ignore_errors=True)
            os.rename(tmp, cached)
        return cached
