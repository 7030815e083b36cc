"""The artifact store on any fsspec filesystem: a local folder by default, S3 by URL."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fsspec

from shipyard.artifacts.base import ArtifactStore, StoredEntry
from shipyard.errors import (
    AlreadyExists,
    BackendUnavailable,
    InvalidInput,
    NotFound,
    ShipyardError,
)
from shipyard.staging import owned_name, staging_dir, sweep

__all__ = ["FsspecArtifactStore"]

_COMMIT_MARK = "_COMMITTED"
_STAGING = "_staging"


class FsspecArtifactStore(ArtifactStore):
    """An :class:`ArtifactStore` on a local folder (atomic renames) or an object store.

    On a local folder, a folder is written under a temporary name and renamed into place, and
    a blob is hard-linked into place, which fails when the key exists.
    On an object store, which has no atomic rename, a folder's files are written under
    ``<key>/<write id>/`` and then committed by creating ``<key>/_COMMITTED`` (holding the
    write id) with an exclusive put: a folder without the marker counts as absent, and of two
    writers racing for one key, only the one that created the marker wins.

    Args:
        url: A local path, ``file:///path``, ``memory://prefix`` or ``s3://bucket/prefix``.
        cache_dir: Where remote folders are copied for reading.
        storage_options: Passed to the fsspec filesystem (e.g. ``endpoint_url``, ``key``).
    """

    def __init__(
        self,
        url: str,
        *,
        cache_dir: Path | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        protocol = url.split("://", 1)[0] if "://" in url else "file"
        self._protocol = protocol
        try:
            self._fs = fsspec.filesystem(protocol, **(storage_options or {}))
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
        self._root = self._root.rstrip("/")
        root_id = hashlib.sha256(self.root_uri.encode()).hexdigest()[:16]
        self._cache = (cache_dir or Path(tempfile.gettempdir()) / "shipyard-artifacts") / root_id

    # --- keys and URIs --------------------------------------------------------------------
    def _path(self, key: str) -> str:
        parts = [p for p in key.strip("/").split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise InvalidInput(
                f"'{key}' is not a valid artifact key. Expected a relative path such as "
                "'models/fraud/1', without '.' or '..' parts."
            )
        return "/".join([self._root, *parts])

    @property
    def _scheme(self) -> str:
        return "file" if self._local else self._protocol

    def uri(self, key: str) -> str:
        return f"{self._scheme}://{self._path(key)}"

    def filesystem(self, key: str) -> tuple[fsspec.AbstractFileSystem, str]:
        return self._fs, self._path(key)

    @property
    def root_uri(self) -> str:
        """The URI of the store's root folder, ending with '/'."""
        return f"{self._scheme}://{self._root}/"

    def key_of(self, uri: str) -> str:
        if "://" not in uri:
            self._path(uri)
            return uri.strip("/")
        if uri.startswith(self.root_uri):
            return uri[len(self.root_uri) :]
        moved = self._moved_key(uri)
        if moved is None:
            raise NotFound(
                f"{uri} is not in the artifact store at {self.root_uri}, and no part of its "
                "path is stored there either. If the project was moved, copy its artifacts "
                "folder along; if SHIPYARD_ARTIFACTS_URL changed, set it back."
            )
        return moved

    def _moved_key(self, uri: str) -> str | None:
        """The key under which an absolute URI written under another root (a project that
        was moved, copied or restored since) is stored here: its longest tail that exists."""
        parts = [p for p in uri.split("://", 1)[1].split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        for start in range(len(parts) - 1):  # a tail of two parts at least: models/<name>/...
            key = "/".join(parts[start:])
            if self.exists(key):
                return key
        return None

    # --- reads ----------------------------------------------------------------------------
    @contextmanager
    def _backend(self, doing: str) -> Iterator[None]:
        """Translate a filesystem's own errors (OSError, botocore's, ...) while ``doing``."""
        try:
            yield
        except ShipyardError:
            raise
        except Exception as exc:  # any driver error: fsspec backends raise their own kinds
            raise BackendUnavailable(
                f"The artifact store at {self.root_uri} failed while {doing}: "
                f"{type(exc).__name__}: {exc}. Check that it is reachable and that its "
                "credentials are set (e.g. AWS_* variables for S3); then try again."
            ) from exc

    def exists(self, key: str) -> bool:
        path = self._path(key)
        if self._local:
            return os.path.exists(path)
        with self._backend(f"looking up '{key}'"):
            return self._is_file(path) or self._is_file(f"{path}/{_COMMIT_MARK}")

    def _is_file(self, path: str) -> bool:
        # Not fs.isfile: it answers False for any error, an unreachable store included.
        try:
            return bool(self._fs.info(path)["type"] == "file")
        except FileNotFoundError:
            return False

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        with self._backend(f"reading '{key}'"):
            if not self._is_file(path):
                raise NotFound(f"No artifact '{key}' in {self.root_uri}.")
            return bytes(self._fs.cat_file(path))

    def local_dir(self, key: str) -> Path:
        if not self.exists(key):
            raise NotFound(f"No artifact '{key}' in {self.root_uri}.")
        if self._local:
            return Path(self._path(key))
        path = self._path(key)
        with self._backend(f"downloading '{key}'"):
            write_id = self._fs.cat_file(f"{path}/{_COMMIT_MARK}").decode()
            cached = self._cache / key.strip("/") / (write_id or "_")
            if cached.is_dir():  # complete: it was renamed into place whole
                return cached
            cached.parent.mkdir(parents=True, exist_ok=True)
            sweep(cached.parent, f".{cached.name}.")  # copies a dead reader left half-done
            tmp = cached.with_name(f".{cached.name}.{owned_name()}")
            self._fs.get(f"{path}/{write_id}" if write_id else path, str(tmp), recursive=True)
        (tmp / _COMMIT_MARK).unlink(missing_ok=True)  # a folder written before write ids
        try:
            os.rename(tmp, cached)
        except OSError:  # another thread or process cached it first
            shutil.rmtree(tmp, ignore_errors=True)
        return cached

    # --- writes ---------------------------------------------------------------------------
    def _refuse_existing(self, key: str) -> None:
        if self.exists(key):
            raise AlreadyExists(
                f"Artifact '{key}' exists already in {self.root_uri}; artifacts are immutable. "
                "Write under a new key."
            )

    def put_dir(self, local_dir: Path, key: str) -> str:
        target = self._path(key)
        if not Path(local_dir).is_dir():
            raise InvalidInput(f"'{local_dir}' is not a folder; put_dir copies a folder.")
        self._refuse_existing(key)
        if self._local:
            self._put_local_dir(Path(local_dir), key, Path(target))
            return self.uri(key)
        write_id = uuid.uuid4().hex
        with self._backend(f"writing '{key}'"):
            self._fs.put(f"{local_dir}/", f"{target}/{write_id}", recursive=True)
            try:
                self._fs.pipe_file(f"{target}/{_COMMIT_MARK}", write_id.encode(), mode="create")
            except FileExistsError as exc:
                self._fs.rm(f"{target}/{write_id}", recursive=True)
                raise AlreadyExists(f"Artifact '{key}' was written concurrently.") from exc
        return self.uri(key)

    def _put_local_dir(self, local_dir: Path, key: str, target: Path) -> None:
        with self._backend(f"writing '{key}'"), staging_dir(Path(self._root) / _STAGING) as tmp:
            staging = tmp / "copy"
            shutil.copytree(local_dir, staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(staging, target)
            except OSError as exc:  # a non-empty folder is there: a concurrent writer won
                if not target.exists():
                    raise
                raise AlreadyExists(f"Artifact '{key}' was written concurrently.") from exc

    def put_bytes(self, key: str, data: bytes) -> str:
        target = self._path(key)
        self._refuse_existing(key)
        with self._backend(f"writing '{key}'"):
            try:
                if self._local:
                    _link_into_place(Path(target), data)
                else:
                    self._fs.pipe_file(target, data, mode="create")
            except FileExistsError as exc:
                raise AlreadyExists(f"Artifact '{key}' was written concurrently.") from exc
        return self.uri(key)

    # --- key rotation ---------------------------------------------------------------------
    def rewrite_files(self, change: Callable[[str, bytes], bytes | None]) -> int:
        replaced = 0
        with self._backend("rewriting files"):
            for path in sorted(self._fs.find(self._root)):
                rel = path[len(self._root) :].lstrip("/") if path.startswith(self._root) else ""
                parts = rel.split("/")
                if not rel or parts[0] == _STAGING or parts[-1] == _COMMIT_MARK:
                    continue
                if any(p.startswith(".") for p in parts):  # temporary files and copies
                    continue
                new = change(rel, bytes(self._fs.cat_file(path)))
                if new is None:
                    continue
                if self._local:
                    _replace_local(Path(path), new)
                else:
                    self._fs.pipe_file(path, new)  # one PUT replaces an object whole
                replaced += 1
        return replaced

    # --- garbage collection ---------------------------------------------------------------
    def list_keys(self, prefix: str) -> list[StoredEntry]:
        path = self._path(prefix)
        base = prefix.strip("/")
        with self._backend(f"listing '{prefix}'"):
            if self._local:
                return _list_local(Path(path), base)
            try:
                entries = self._fs.ls(path, detail=True)
            except FileNotFoundError:
                return []
            found = []
            for entry in entries:
                name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
                if name in (_STAGING, _COMMIT_MARK) or name.startswith("."):
                    continue
                found.append(StoredEntry(f"{base}/{name}", self._modified(entry)))
        return sorted(found, key=lambda e: e.key)

    def _modified(self, entry: dict[str, Any]) -> datetime | None:
        """When an object, or the newest object of a folder, was written."""
        if entry["type"] != "directory":
            return _entry_time(entry)
        times = [_entry_time(e) for e in self._fs.find(entry["name"], detail=True).values()]
        return max((t for t in times if t is not None), default=None)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._backend(f"deleting '{key}'"):
            if self._local:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.lexists(path):
                    os.unlink(path)
                else:
                    raise NotFound(f"No artifact '{key}' in {self.root_uri}.")
                return
            if not self._fs.exists(path):
                raise NotFound(f"No artifact '{key}' in {self.root_uri}.")
            self._fs.rm(path, recursive=True)
            self._fs.invalidate_cache(path)


def _list_local(folder: Path, base: str) -> list[StoredEntry]:
    if not folder.is_dir():
        return []
    found = [
        StoredEntry(f"{base}/{e.name}", datetime.fromtimestamp(e.stat().st_mtime, UTC))
        for e in os.scandir(folder)
        if e.name != _STAGING and not e.name.startswith(".")
    ]
    return sorted(found, key=lambda e: e.key)


def _entry_time(entry: dict[str, Any]) -> datetime | None:
    """An object's write time from fsspec's listing: S3's LastModified, memory's created."""
    value = entry.get("LastModified") or entry.get("created") or entry.get("mtime")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _link_into_place(target: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file and hard-link it to ``target``: readers never see a
    part of it, and the link fails with FileExistsError when ``target`` exists."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.link(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _replace_local(target: Path, data: bytes) -> None:
    """Write ``data`` beside ``target`` and rename it over ``target`` (atomic on POSIX)."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.chmod(tmp, target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
