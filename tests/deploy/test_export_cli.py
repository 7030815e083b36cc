"""``shipyard models export`` through the real CLI, and the export loaded by a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.cli import shipyard

from shipyard.project import Project

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nope:1", "--format", "onnx"], "Error (NotFound)"),
        (["m:1", "--format", "pmml"], "must be one of mlflow, onnx. Got 'pmml'"),
        (["m:1"], "Missing option '--format'"),
    ],
)
def test_bad_input_exits_non_zero_without_a_traceback(
    served_project: Project, tmp_path: Path, args: list[str], said: str
) -> None:
    out = tmp_path / "out"
    proc = shipyard(served_project.root, "models", "export", *args, "--out", str(out), check=False)
    assert proc.returncode != 0
    assert said in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_a_non_empty_folder_is_refused(served_project: Project, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    proc = shipyard(
        served_project.root, "models", "export", "m:1", "--format", "onnx",
        "--out", str(tmp_path), "--force", check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "holds no earlier Shipyard export" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_export_then_load_in_a_fresh_process(served_project: Project, tmp_path: Path) -> None:
    out = tmp_path / "pyfunc"
    proc = shipyard(
        served_project.root, "models", "export", "m@prod", "--format", "mlflow", "--out", str(out)
    )
    assert f"Exported m:1 as mlflow to {out}" in proc.stdout
    assert "checked on" in proc.stdout and "Traceback" not in proc.stderr
    shown = json.loads(
        shipyard(
            served_project.root, "models", "export", "m@prod", "--format", "onnx",
            "--out", str(tmp_path / "onnx"), "--json",
        ).stdout
    )  # fmt: skip
    assert shown["files"] == ["model.onnx", "shipyard-export.json"]
    row = {"amount": 120.5, "calls": 3, "country": "fr", "roaming": True}
    script = (
        "import json, sys, warnings, pandas as pd\n"
        "warnings.simplefilter('ignore')\n"
        "import mlflow.pyfunc\n"
        "m = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "frame = pd.DataFrame([json.loads(sys.argv[2])])\n"
        "print(m.predict(frame).to_json(orient='records', double_precision=15))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script, str(out), json.dumps(row)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    [scored] = json.loads(loaded.stdout.strip().splitlines()[-1])
    from shipyard.registry import load_model

    [ours] = load_model(served_project, "m@prod").model.predict_records([row]).to_records()
    assert scored["score"] == pytest.approx(ours["score"], abs=1e-12)
    assert scored["decision"] == ours["decision"]
