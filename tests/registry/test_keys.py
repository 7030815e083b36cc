"""Bundles of a project with an encryption key or a signing key: encrypted at rest, signed,
and refused before unpickling when the signature is missing or wrong."""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path

import pytest

from shipyard.artifacts._crypto import MAGIC
from shipyard.errors import IntegrityError
from shipyard.ingest import ingest_path
from shipyard.project import Project
from shipyard.registry import load_model, resolve_model
from shipyard.settings import load_settings
from shipyard.train import train

KEY = base64.b64encode(bytes(range(32))).decode()
SIGN = "a-signing-key-of-some-length"


def _reopen(project: Project, **settings: str) -> Project:
    return Project(project.root, settings=load_settings(project.root, **settings))


@pytest.fixture
def data(project: Project, parquet_file: Path) -> Project:
    ingest_path(project, parquet_file, "t")
    return project


def _bundle_dir(project: Project, ref: str) -> Path:
    version = resolve_model(project, ref)
    return project.artifacts.inner.local_dir(project.artifacts.key_of(version.bundle_uri))  # type: ignore[attr-defined]


def test_an_encrypted_bundle_loads_with_its_key_and_only_with_it(data: Project) -> None:
    keyed = _reopen(data, encryption_key=KEY)
    train(keyed, "t", "label", model_name="fraud")
    stored = _bundle_dir(keyed, "fraud:1")
    assert (stored / "model.pkl").read_bytes().startswith(MAGIC)
    assert load_model(keyed, "fraud:1").model is not None
    other = base64.b64encode(bytes(32)).decode()
    with pytest.raises(IntegrityError, match="key id"):
        load_model(_reopen(data, encryption_key=other), "fraud:1")
    with pytest.raises(IntegrityError, match="no encryption key is set"):
        load_model(_reopen(data), "fraud:1")


def test_a_plaintext_bundle_still_loads_once_encryption_is_on(data: Project) -> None:
    train(data, "t", "label", model_name="fraud")
    assert load_model(_reopen(data, encryption_key=KEY), "fraud:1").model is not None


def test_an_unsigned_bundle_is_refused_when_a_signing_key_is_set(
    data: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    train(data, "t", "label", model_name="fraud")
    unpickled = []
    from shipyard.artifacts import _classpaths

    monkeypatch.setattr(_classpaths.BundleUnpickler, "load", lambda self: unpickled.append(1))
    with pytest.raises(IntegrityError, match="not signed"):
        load_model(_reopen(data, signing_key=SIGN), "fraud:1")
    assert unpickled == []


def test_a_bundle_tampered_after_signing_is_refused(data: Project) -> None:
    signed = _reopen(data, signing_key=SIGN)
    train(signed, "t", "label", model_name="fraud")
    assert load_model(signed, "fraud:1").model is not None
    with pytest.raises(IntegrityError, match="does not match its manifest under the signing"):
        load_model(_reopen(data, signing_key="another-signing-key-here"), "fraud:1")
    folder = _bundle_dir(signed, "fraud:1")
    # Swap the model and rewrite the manifest to match: only the signature can tell.
    (folder / "model.pkl").write_bytes(pickle.dumps({"evil": True}))
    from shipyard.artifacts.bundle import _sha256

    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["sha256"]["model.pkl"] = _sha256(folder / "model.pkl")
    (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    with pytest.raises(IntegrityError, match="signature that does not match"):
        load_model(signed, "fraud:1")
