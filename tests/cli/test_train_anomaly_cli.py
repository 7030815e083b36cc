"""``shipyard train --problem anomaly`` through the CLI's entry point: a model without a
target, and each user error as a message and exit 1 without a traceback."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

import shipyard.cli as cli
from shipyard.cli import _output
from shipyard.ingest import ingest_path
from shipyard.project import init_project
from tests.train.test_anomaly import anomaly_frame

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("anomaly-cli")
    with init_project(root) as project:
        anomaly_frame(800).to_parquet(root / "d.parquet")
        ingest_path(project, root / "d.parquet", "d")
        pd.DataFrame(
            {"subscriber_id": [f"s{i}" for i in range(200)], "note": [None] * 200}
        ).to_parquet(root / "ids.parquet")
        ingest_path(project, root / "ids.parquet", "ids")
    return root


@pytest.fixture
def shipyard(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """``shipyard(root, *args)``: run ``cli.main`` as the command would; exit code and output."""
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    monkeypatch.setattr(_output.console, "_width", 200)
    monkeypatch.setattr(_output.err_console, "_width", 200)
    sigterm, showwarning = signal.getsignal(signal.SIGTERM), warnings.showwarning

    def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(sys, "argv", ["shipyard", "-C", str(root), *args])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    yield run
    signal.signal(signal.SIGTERM, sigterm)
    warnings.showwarning = showwarning
    logging.captureWarnings(False)


def test_train_anomaly_without_a_target(shipyard: Run, root: Path) -> None:
    done = shipyard(
        root,
        "train",
        "d",
        "--problem",
        "anomaly",
        "--exclude",
        "fraud",
        "--contamination",
        "0.02",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["problem_type"] == "anomaly" and answer["evaluation"] is None
    assert answer["metrics"]["test"]["anomaly_rate"] == pytest.approx(0.02, abs=0.03)


def test_train_with_the_anomaly_feature(shipyard: Run, root: Path) -> None:
    done = shipyard(root, "train", "d", "-t", "fraud", "--anomaly-feature", "lof", "-m", "af")
    assert done.returncode == 0, done.stderr
    shown = shipyard(root, "models", "show", "af:1", "--json")
    assert shown.returncode == 0, shown.stderr
    assert '"anomaly_score"' in shown.stdout


def test_train_anomaly_with_a_label_prints_its_metrics(shipyard: Run, root: Path) -> None:
    done = shipyard(root, "train", "d", "--problem", "anomaly", "--target", "fraud", "-m", "x")
    assert done.returncode == 0, done.stderr
    assert "(anomaly)" in done.stdout and "precision_at_k" in done.stdout
    assert "Evaluation report" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["d", "--problem", "anomaly", "--contamination", "2"], "'contamination'"),
        (["d", "--contamination", "0.1", "--target", "fraud"], "problem_type='anomaly'"),
        (["d"], "--problem anomaly"),
        (["d", "--problem", "anomaly", "--target", "nope"], "nope"),
        (["ids", "--problem", "anomaly"], "No feature varies"),
        (["d", "--problem", "anomaly", "--params", '{"kind": "svm"}'], "Unknown anomaly"),
        (["d", "--problem", "anomaly", "--params", '{"bogus": 1}'], "isolation_forest"),
        (["d", "-t", "fraud", "--anomaly-feature", "svm"], "'anomaly_feature'"),
        (["d", "--problem", "anomaly", "--anomaly-feature", "lof"], "is that score already"),
    ],
    ids=[
        "contamination",
        "not-anomaly",
        "no-target",
        "no-label",
        "no-features",
        "kind",
        "param",
        "feature-kind",
        "feature-of-anomaly",
    ],
)
def test_bad_input_is_a_message_without_a_traceback(
    shipyard: Run, root: Path, args: list[str], message: str
) -> None:
    done = shipyard(root, "train", *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stdout + done.stderr


def test_an_unlabelled_model_explains_why_it_has_no_report(shipyard: Run, root: Path) -> None:
    assert shipyard(root, "train", "d", "--problem", "anomaly", "-m", "blind").returncode == 0
    done = shipyard(root, "models", "report", "blind:1")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "--problem anomaly --target LABEL" in done.stderr
    pitfalls = shipyard(root, "pitfalls", "blind:1", "--json")
    assert pitfalls.returncode == 0, pitfalls.stderr
    status = {c["check"]: c["status"] for c in json.loads(pitfalls.stdout)["checks"]}
    recorded = ("identifier_feature", "date_feature", "model_output_feature", "pii_feature")
    assert {status[c] for c in recorded} == {"ok"}
