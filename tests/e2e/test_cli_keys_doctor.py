"""`shipyard keys rotate` and `shipyard doctor` through the real CLI: exit codes, no traceback."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()


def _refused(proc, message: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert message in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SHIPYARD_ENCRYPTION_KEY", "not-a-key", "base64 of exactly 32 bytes"),
        ("SHIPYARD_ENCRYPTION_KEY_FILE", "/nonexistent/key", "cannot be read"),
        ("SHIPYARD_SIGNING_KEY", "short", "at least 16 characters"),
    ],
)
def test_a_malformed_key_setting_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    shipyard(tmp_path, "init")
    monkeypatch.setenv(variable, value)
    _refused(shipyard(tmp_path, "doctor", check=False), message)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot be read"), ("", "holds no key"), ("abc", "base64 of exactly 32 bytes")],
)
def test_keys_rotate_refuses_a_bad_new_key_file(tmp_path: Path, content, message) -> None:
    shipyard(tmp_path, "init")
    key_file = tmp_path / "new.key"
    if content is not None:
        key_file.write_text(content)
    _refused(
        shipyard(tmp_path, "keys", "rotate", "--new-key-file", str(key_file), check=False), message
    )


def test_rotate_then_doctor_on_an_encrypted_project(tmp_path: Path, monkeypatch) -> None:
    shipyard(tmp_path, "init")
    monkeypatch.setenv("SHIPYARD_ENCRYPTION_KEY", KEY_A)
    store = tmp_path / ".shipyard" / "artifacts"
    (store / "reports").mkdir(parents=True)
    from shipyard.artifacts import Keyring, open_artifacts

    open_artifacts(str(store), keyring=Keyring((bytes(range(32)),))).put_bytes("reports/x", b"x")
    (tmp_path / "new.key").write_text(KEY_B + "\n")
    done = json.loads(
        shipyard(tmp_path, "keys", "rotate", "--new-key-file", "new.key", "--json").stdout
    )
    assert done["resealed"] == 1
    # The old key alone no longer opens what was rotated: the error says which key to set.
    monkeypatch.setenv("SHIPYARD_ENCRYPTION_KEY", KEY_A)
    again = shipyard(tmp_path, "keys", "rotate", "--new-key-file", "new.key", "--json")
    assert json.loads(again.stdout)["resealed"] == 0
    health = json.loads(shipyard(tmp_path, "doctor", "--json").stdout)
    assert health["ok"] is True and health["problems"] == []


def test_doctor_exits_1_on_a_dataset_that_changed(tmp_path: Path) -> None:
    import pandas as pd

    from shipyard.ingest import ingest_path
    from shipyard.project import init_project

    data = tmp_path / "d.parquet"
    pd.DataFrame({"a": [1, 2, 3]}).to_parquet(data, index=False)
    with init_project(tmp_path) as project:
        ingest_path(project, data, "usage")
        version = project.catalog.get_dataset_version("usage")
        folder = project.lake.root / version.location
    for part in folder.glob("*.parquet"):
        part.write_bytes(b"garbage")
    proc = shipyard(tmp_path, "doctor", "--json", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    found = json.loads(proc.stdout)
    assert found["ok"] is False and found["problems"][0]["object"] == "usage@1"
    human = shipyard(tmp_path, "doctor", check=False)
    assert human.returncode == 1 and "usage@1" in human.stdout and "Traceback" not in human.stderr
