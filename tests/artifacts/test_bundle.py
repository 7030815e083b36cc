from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from shipyard.artifacts import FsspecArtifactStore, load_verified_pickle, write_manifest
from shipyard.errors import AlreadyExists, IntegrityError, NotFound


def _bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    (folder / "signature.json").write_text('{"inputs": []}')
    write_manifest(folder)
    return folder


def test_verified_bundle_loads(tmp_path: Path) -> None:
    assert load_verified_pickle(_bundle(tmp_path), "model.pkl") == {"weights": [1, 2, 3]}


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda f: (f / "model.pkl").write_bytes(pickle.dumps("evil")), id="modified"),
        pytest.param(lambda f: (f / "extra.py").write_text("x"), id="added"),
        pytest.param(lambda f: (f / "signature.json").unlink(), id="removed"),
        pytest.param(lambda f: (f / "MANIFEST.json").write_text("{}"), id="manifest"),
    ],
)
def test_tampered_bundle_is_refused_before_unpickling(tmp_path: Path, tamper) -> None:
    folder = _bundle(tmp_path)
    tamper(folder)
    with pytest.raises(IntegrityError, match="refusing to load"):
        load_verified_pickle(folder, "model.pkl")


def test_store_is_write_once_and_atomic(tmp_path: Path) -> None:
    store = FsspecArtifactStore(str(tmp_path / "artifacts"))
    uri = store.put_dir(_bundle(tmp_path), "models/fraud/1")
    assert uri.startswith("file://") and store.exists("models/fraud/1")
    with pytest.raises(AlreadyExists):
        store.put_dir(_bundle(tmp_path / "again"), "models/fraud/1")
    store.put_bytes("reports/a.html", b"<html>")
    assert store.get_bytes("reports/a.html") == b"<html>"
    with pytest.raises(NotFound):
        store.get_bytes("reports/missing.html")
    assert not list((tmp_path / "artifacts" / "_staging").iterdir())
