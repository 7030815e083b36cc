"""The artifact store contract, run against a local folder, fsspec memory:// and S3 (moto)."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
import pytest

from shipyard.artifacts import ArtifactStore, FsspecArtifactStore, verify_bundle, write_manifest
from shipyard.errors import AlreadyExists, BackendUnavailable, InvalidInput, NotFound


@pytest.fixture(scope="session")
def s3_options() -> Iterator[dict[str, Any]]:
    """A real S3 protocol server (moto) on a loopback port, and a bucket in it."""
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = _s3_options(f"http://{host}:{port}")
    fsspec.filesystem("s3", **options).mkdir("shipyard-test")
    yield options
    server.stop()


def _s3_options(endpoint: str) -> dict[str, Any]:
    return {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": endpoint,
        "client_kwargs": {"region_name": "eu-west-1"},
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
        "skip_instance_cache": True,
    }


def _url(backend: str, tmp_path: Path) -> str:
    prefix = f"shipyard-test/{uuid.uuid4().hex}"
    return {"local": str(tmp_path / "artifacts"), "memory": f"memory://{prefix}"}.get(
        backend, f"s3://{prefix}"
    )


def _open(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> ArtifactStore:
    options = request.getfixturevalue("s3_options") if backend == "s3" else None
    return FsspecArtifactStore(
        _url(backend, tmp_path), cache_dir=tmp_path / "cache", storage_options=options
    )


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    return _open(request.param, tmp_path, request)


@pytest.fixture(params=["memory", "s3"])
def object_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[ArtifactStore, fsspec.AbstractFileSystem]:
    """An object store, and the filesystem under it (to leave what a dead writer leaves)."""
    options = request.getfixturevalue("s3_options") if request.param == "s3" else {}
    return _open(request.param, tmp_path, request), fsspec.filesystem(request.param, **options)


def _folder(tmp_path: Path, payload: bytes = b"\x00weights\xff") -> Path:
    folder = tmp_path / f"bundle-{uuid.uuid4().hex[:6]}"
    (folder / "nested" / "deeper").mkdir(parents=True)
    (folder / "model.pkl").write_bytes(payload)
    (folder / "nested" / "deeper" / "notes.txt").write_text("hello")
    write_manifest(folder)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_folder_round_trips_and_verifies(store: ArtifactStore, tmp_path: Path) -> None:
    source = _folder(tmp_path)
    uri = store.put_dir(source, "models/fraud/abc")
    assert store.exists("models/fraud/abc") and not store.exists("models/fraud/other")
    copy = store.local_dir("models/fraud/abc")
    assert _files(copy) == _files(source)  # no marker or staging file in what a reader sees
    verify_bundle(copy)
    assert store.local_dir("models/fraud/abc") == copy
    assert store.key_of(uri) == "models/fraud/abc"


def test_blobs_round_trip(store: ArtifactStore) -> None:
    uri = store.put_bytes("reports/usage/1/profile.html", b"<html>")
    assert store.get_bytes("reports/usage/1/profile.html") == b"<html>"
    assert store.exists("reports/usage/1/profile.html")
    assert store.key_of(uri) == "reports/usage/1/profile.html"


def test_keys_are_written_once(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_dir(_folder(tmp_path, b"first"), "models/m/1")
    store.put_bytes("blob", b"first")
    with pytest.raises(AlreadyExists, match="immutable"):
        store.put_dir(_folder(tmp_path, b"second"), "models/m/1")
    with pytest.raises(AlreadyExists, match="immutable"):
        store.put_bytes("blob", b"second")
    assert (store.local_dir("models/m/1") / "model.pkl").read_bytes() == b"first"
    assert store.get_bytes("blob") == b"first"


@pytest.mark.parametrize("kind", ["folder", "blob"])
def test_of_writers_racing_for_one_key_exactly_one_wins(
    store: ArtifactStore, tmp_path: Path, kind: str
) -> None:
    folders = [_folder(tmp_path, f"writer {i}".encode()) for i in range(6)]
    barrier, won, lost = threading.Barrier(len(folders)), [], []

    def write(i: int) -> None:
        barrier.wait()
        try:
            if kind == "folder":
                store.put_dir(folders[i], "models/m/1")
            else:
                store.put_bytes("models/m/1", f"writer {i}".encode())
            won.append(i)
        except AlreadyExists:
            lost.append(i)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(folders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == len(folders) - 1
    if kind == "folder":
        assert _files(store.local_dir("models/m/1")) == _files(folders[won[0]])
    else:
        assert store.get_bytes("models/m/1") == f"writer {won[0]}".encode()


def test_missing_keys_are_not_found(store: ArtifactStore) -> None:
    with pytest.raises(NotFound, match="No artifact 'models/none/1'"):
        store.local_dir("models/none/1")
    with pytest.raises(NotFound, match=r"No artifact 'reports/none\.html'"):
        store.get_bytes("reports/none.html")


@pytest.mark.parametrize("key", ["", "/", "models/../secrets", "./x"])
def test_malformed_keys_are_invalid(store: ArtifactStore, tmp_path: Path, key: str) -> None:
    for call in (store.exists, store.uri, store.get_bytes, store.key_of):
        with pytest.raises(InvalidInput, match="not a valid artifact key"):
            call(key)
    with pytest.raises(InvalidInput, match="not a valid artifact key"):
        store.put_dir(_folder(tmp_path), key)


def test_a_location_from_another_place_resolves_by_its_tail(
    store: ArtifactStore, tmp_path: Path
) -> None:
    store.put_dir(_folder(tmp_path), "models/fraud/abc")
    old = "file:///home/someone/old/.shipyard/artifacts/models/fraud/abc"
    assert store.key_of(old) == "models/fraud/abc"
    assert store.key_of("models/fraud/abc") == "models/fraud/abc"
    with pytest.raises(NotFound, match="copy its artifacts folder along"):
        store.key_of("file:///home/someone/old/.shipyard/artifacts/models/fraud/zzz")


def test_a_half_written_folder_counts_as_absent(
    object_store: tuple[ArtifactStore, fsspec.AbstractFileSystem], tmp_path: Path
) -> None:
    store, fs = object_store
    # What a writer that died before committing leaves: files, but no _COMMITTED marker.
    fs.pipe_file(f"{store.uri('models/m/1')}/deadbeef/model.pkl", b"partial")
    assert not store.exists("models/m/1")
    with pytest.raises(NotFound):
        store.local_dir("models/m/1")
    source = _folder(tmp_path)
    store.put_dir(source, "models/m/1")
    assert _files(store.local_dir("models/m/1")) == _files(source)


def test_garbage_collection_lists_and_deletes_folders_and_blobs(
    store: ArtifactStore, tmp_path: Path
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.put_dir(_folder(tmp_path), "models/fraud/b")
    store.put_dir(_folder(tmp_path), "models/fraud/a")
    store.put_bytes("models/fraud/note.txt", b"x")
    listed = store.list_keys("models/fraud")
    assert [e.key for e in listed] == ["models/fraud/a", "models/fraud/b", "models/fraud/note.txt"]
    assert all(e.modified is not None and e.modified >= before for e in listed)
    assert [e.key for e in store.list_keys("models")] == ["models/fraud"]
    assert store.list_keys("models/none") == []
    store.delete("models/fraud/a")
    store.delete("models/fraud/note.txt")
    assert not store.exists("models/fraud/a") and store.exists("models/fraud/b")
    assert [e.key for e in store.list_keys("models/fraud")] == ["models/fraud/b"]
    with pytest.raises(NotFound):
        store.local_dir("models/fraud/a")
    with pytest.raises(NotFound):
        store.delete("models/fraud/a")
    with pytest.raises(InvalidInput):
        store.delete("../x")


def test_garbage_collection_finds_a_half_written_folder(
    object_store: tuple[ArtifactStore, fsspec.AbstractFileSystem],
) -> None:
    store, fs = object_store
    fs.pipe_file(f"{store.uri('models/m/1')}/deadbeef/model.pkl", b"partial")
    [entry] = store.list_keys("models/m")
    assert entry.key == "models/m/1" and entry.modified is not None
    store.delete("models/m/1")
    assert store.list_keys("models/m") == []


def test_an_unreachable_object_store_is_backend_unavailable(tmp_path: Path) -> None:
    pytest.importorskip("s3fs")
    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = FsspecArtifactStore(
        "s3://nowhere/x", storage_options=_s3_options(f"http://127.0.0.1:{port}")
    )
    with pytest.raises(BackendUnavailable, match="Check that it is reachable"):
        store.exists("models/m/1")
    with pytest.raises(BackendUnavailable, match="failed while"):
        store.put_bytes("blob", b"x")


@pytest.mark.parametrize("method", sorted(ArtifactStore.__abstractmethods__))
def test_every_method_of_the_port_says_what_it_raises(method: str) -> None:
    doc = getattr(ArtifactStore, method).__doc__ or ""
    assert "Raises:" in doc and "InvalidInput" in doc
