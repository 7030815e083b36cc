"""Encryption at rest: sealed blobs and bundles round-trip, a wrong key is refused clearly,
plaintext written before encryption still reads, and a rotation never breaks a reader."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from shipyard.artifacts import Keyring, SealedArtifactStore, keyring_from_settings, open_artifacts
from shipyard.artifacts import rotate as rotate_keys
from shipyard.artifacts._crypto import MAGIC
from shipyard.capture import capture_relation
from shipyard.errors import IntegrityError, InvalidInput
from shipyard.settings import load_settings

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def _store(root: Path, *keys: bytes) -> SealedArtifactStore:
    return open_artifacts(str(root), keyring=Keyring(keys) if keys else None)


def _bundle(folder: Path) -> Path:
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"secret-model-weights" * 100)
    (folder / "sub").mkdir()
    (folder / "sub" / "model.json").write_text('{"format": 2}')
    return folder


def test_blobs_and_folders_are_sealed_at_rest_and_read_back(tmp_path: Path) -> None:
    store = _store(tmp_path / "a", KEY_A)
    store.put_bytes("reports/r.html", b"<p>report</p>")
    store.put_dir(_bundle(tmp_path / "b"), "models/m/1")
    raw = (tmp_path / "a" / "reports" / "r.html").read_bytes()
    assert raw.startswith(MAGIC) and b"report" not in raw
    stored = (tmp_path / "a" / "models" / "m" / "1" / "model.pkl").read_bytes()
    assert stored.startswith(MAGIC) and b"secret-model-weights" not in stored
    assert store.get_bytes("reports/r.html") == b"<p>report</p>"
    plain = store.local_dir("models/m/1")
    assert (plain / "model.pkl").read_bytes() == b"secret-model-weights" * 100
    assert (plain / "sub" / "model.json").read_text() == '{"format": 2}'


@pytest.mark.parametrize("reader_keys", [(KEY_B,), ()], ids=["wrong-key", "no-key"])
def test_a_wrong_or_missing_key_is_a_clear_integrity_error(tmp_path, reader_keys) -> None:
    _store(tmp_path / "a", KEY_A).put_bytes("reports/r.html", b"x")
    _store(tmp_path / "a", KEY_A).put_dir(_bundle(tmp_path / "b"), "models/m/1")
    reader = _store(tmp_path / "a", *reader_keys)
    with pytest.raises(IntegrityError, match="SHIPYARD_ENCRYPTION_KEY"):
        reader.get_bytes("reports/r.html")
    with pytest.raises(IntegrityError, match="SHIPYARD_ENCRYPTION_KEY"):
        reader.local_dir("models/m/1")


def test_a_changed_sealed_file_fails_authentication(tmp_path: Path) -> None:
    store = _store(tmp_path / "a", KEY_A)
    store.put_bytes("reports/r.html", b"<p>report</p>")
    path = tmp_path / "a" / "reports" / "r.html"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="changed or truncated"):
        store.get_bytes("reports/r.html")


def test_plaintext_written_before_encryption_still_reads(tmp_path: Path) -> None:
    _store(tmp_path / "a").put_dir(_bundle(tmp_path / "b"), "models/m/1")
    _store(tmp_path / "a").put_bytes("reports/r.html", b"old")
    store = _store(tmp_path / "a", KEY_A)
    assert store.get_bytes("reports/r.html") == b"old"
    assert store.local_dir("models/m/1") == tmp_path / "a" / "models" / "m" / "1"


def test_duckdb_reads_sealed_captures_in_place(tmp_path: Path) -> None:
    store = _store(tmp_path / "a", KEY_A)
    frame = pd.DataFrame(
        {
            "captured_at": pd.to_datetime(["2025-01-01T10:05:00Z"] * 3),
            "model_version": [1, 1, 1],
            "x": [1.0, 2.0, 3.0],
        }
    )
    key = "captures/fraud/v1/date=2025-01-01/hour=10/part-1.parquet"
    store.put_bytes(key, frame.to_parquet(index=False))
    assert (tmp_path / "a" / key).read_bytes().startswith(MAGIC)
    with duckdb.connect() as con:
        rel = capture_relation(con, store, "fraud")
        assert rel is not None
        assert sorted(rel.to_arrow_table().column("x").to_pylist()) == [1.0, 2.0, 3.0]


def test_rotation_reseals_everything_while_a_reader_keeps_loading(tmp_path: Path) -> None:
    writer = _store(tmp_path / "a", KEY_A)
    for n in range(20):
        writer.put_dir(_bundle(tmp_path / f"b{n}"), f"models/m/{n}")
        writer.put_bytes(f"reports/{n}.html", b"page %d" % n)
    stop, failures, loads = threading.Event(), [], [0]

    def read() -> None:
        while not stop.is_set():
            # a fresh reader each time (no decrypted cache), holding both keys
            reader = _store(tmp_path / "a", KEY_B, KEY_A)
            try:
                for n in range(20):
                    assert reader.get_bytes(f"reports/{n}.html") == b"page %d" % n
                    folder = reader.inner.local_dir(f"models/m/{n}")
                    for p in folder.rglob("*"):
                        # A rotation writes ".name.tmp" beside a file and renames it over; a
                        # loader reads the bundle's named files, never those.
                        if p.is_file() and not p.name.startswith("."):
                            reader.keyring.open(p.read_bytes(), str(p))  # type: ignore[union-attr]
                loads[0] += 1
            except Exception as exc:  # collected and asserted below
                failures.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        result = rotate_keys(writer, KEY_B)
    finally:
        stop.set()
        thread.join()
    assert failures == [] and loads[0] >= 1
    assert result.resealed == 20 * 3
    after = _store(tmp_path / "a", KEY_B)
    assert after.get_bytes("reports/3.html") == b"page 3"
    assert (after.local_dir("models/m/3") / "model.pkl").read_bytes().startswith(b"secret")
    with pytest.raises(IntegrityError, match="key id"):
        _store(tmp_path / "a", KEY_A).get_bytes("reports/3.html")
    assert rotate_keys(after, KEY_B).resealed == 0  # idempotent


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "base64 of exactly 32 bytes"),
        (base64.b64encode(b"short").decode(), "base64 of exactly 32 bytes"),
        (" , ", "holds no key"),
    ],
)
def test_malformed_keys_are_invalid_input(tmp_path: Path, monkeypatch, value, message) -> None:
    monkeypatch.setenv("SHIPYARD_ENCRYPTION_KEY", value)
    with pytest.raises(InvalidInput, match=message):
        keyring_from_settings(load_settings(tmp_path))


def test_a_key_file_holds_several_keys_first_one_seals(tmp_path: Path, monkeypatch) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"{base64.b64encode(KEY_B).decode()}\n{base64.b64encode(KEY_A).decode()}\n")
    monkeypatch.setenv("SHIPYARD_ENCRYPTION_KEY_FILE", str(key_file))
    ring = keyring_from_settings(load_settings(tmp_path))
    assert ring is not None and ring.keys == (KEY_B, KEY_A)
    monkeypatch.setenv("SHIPYARD_ENCRYPTION_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(InvalidInput, match="cannot be read"):
        keyring_from_settings(load_settings(tmp_path))
