"""Approval and gated promotion through the CLI's entry point: gates printed with their
evidence, exit 1 on a failed gate, an audited override, and user errors as messages without a
traceback. ``shipyard.cli.main`` runs in this process (a subprocess costs seconds per command
on a busy machine); one case runs the real command to prove the two agree."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import shipyard.cli as cli
from shipyard.cli import _output
from shipyard.ingest import ingest_path
from shipyard.project import init_project
from shipyard.train import train
from tests.conftest import learnable_frame

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("promotion-cli")
    with init_project(root) as project:
        learnable_frame(np.random.default_rng(0), 1500, "binary").to_parquet(root / "d.parquet")
        ingest_path(project, root / "d.parquet", "d")
        train(project, "d", "label", model_name="fraud", family="linear", exclude=["x1", "x2"])
        train(project, "d", "label", model_name="fraud", family="linear")
    return root


@pytest.fixture
def shipyard(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """``shipyard(root, *args, check=True)``: run ``cli.main`` as the command would, and give
    back its exit status and output."""
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    monkeypatch.setattr(_output.console, "_width", 200)  # as a wide terminal: no wrapping
    monkeypatch.setattr(_output.err_console, "_width", 200)
    sigterm, showwarning = signal.getsignal(signal.SIGTERM), warnings.showwarning

    def run(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(sys, "argv", ["shipyard", "-C", str(root), *args])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        done = subprocess.CompletedProcess(args, code, out, err)
        if check and code != 0:
            raise AssertionError(f"shipyard {' '.join(args)} failed:\n{out}\n{err}")
        return done

    yield run
    signal.signal(signal.SIGTERM, sigterm)
    warnings.showwarning = showwarning
    logging.captureWarnings(False)


def _fails(shipyard: Run, root: Path, *args: str) -> str:
    done = shipyard(root, *args, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    return done.stdout + done.stderr


def test_approve_then_promote_through_the_gates(shipyard: Run, root: Path) -> None:
    refused = _fails(shipyard, root, "models", "promote", "fraud:2", "--to", "prod")
    assert "Gates for prod" in refused and "FAIL" in refused
    assert "Error (PromotionRefused)" in refused and "PendingManualApproval" in refused

    shipyard(root, "models", "approve", "fraud:2", "--comment", "report reviewed")
    approved = json.loads(shipyard(root, "models", "list", "--status", "Approved", "--json").stdout)
    assert [f"{v['name']}:{v['version']}" for v in approved] == ["fraud:2"]
    out = shipyard(root, "models", "promote", "fraud:2", "--to", "prod").stdout
    assert "fraud@prod -> fraud:2" in out
    for gate in ("approval", "diagnostics", "baseline", "champion"):
        assert gate in out
    assert "no champion" in out and "reference rows" in out

    assert "give the reason" in _fails(
        shipyard, root, "models", "promote", "fraud:1", "--to", "prod", "--force"
    )
    refused = _fails(shipyard, root, "models", "promote", "fraud:1", "--to", "prod")
    assert "roc_auc" in refused and "improvement -" in refused  # the champion's evidence
    forced = shipyard(
        root, "models", "promote", "fraud:1", "--to", "prod", "--force", "--reason", "rollback"
    )
    assert "fraud@prod -> fraud:1 (was fraud:2)" in forced.stdout
    assert "Forced" in forced.stderr and "rollback" in forced.stderr
    events = json.loads(shipyard(root, "audit", "--json").stdout)
    override = next(e for e in events if e["action"] == "model.promote.override")
    assert override["details"]["reason"] == "rollback"
    assert set(override["details"]["failed"]) == {"approval", "champion"}

    shown = shipyard(root, "models", "show", "fraud:1").stdout
    assert "approval PendingManualApproval" in shown
    assert "Promotion to prod: forced" in shown and "reason: rollback" in shown
    detail = json.loads(shipyard(root, "models", "show", "fraud:2", "--json").stdout)
    assert detail["approval"] == "Approved"
    assert detail["approvals"][0]["comment"] == "report reviewed"
    assert detail["promotions"][0]["gates"][0]["gate"] == "approval"


def test_rejected_versions_and_bad_input_are_messages(shipyard: Run, root: Path) -> None:
    shipyard(root, "models", "reject", "fraud:1", "--comment", "leaks")
    for extra in ((), ("--force", "--reason", "please")):
        message = _fails(shipyard, root, "models", "promote", "fraud:1", "--to", "staging", *extra)
        assert "never promoted, not even with --force" in message
    history = shipyard(root, "models", "history", "fraud:1").stdout
    assert "Rejected" in history and "leaks" in history
    assert "Say why" in _fails(shipyard, root, "models", "approve", "fraud:1", "--comment", "")
    assert "one of dev, staging, prod" in _fails(
        shipyard, root, "models", "promote", "fraud:2", "--to", "qa"
    )
    (root / "shipyard.yaml").write_text(
        "environments:\n  prod:\n    gates: {champion: {margn: 1}}\n"
    )
    try:
        message = _fails(shipyard, root, "models", "promote", "fraud:2", "--to", "prod")
        assert "shipyard.yaml" in message and "environments.prod.gates.champion.margn" in message
        assert "Did you mean 'margin'?" in message
        assert "shipyard.yaml" in _fails(shipyard, root, "environments")
        real = subprocess.run(
            [sys.executable, "-m", "shipyard", "models", "promote", "fraud:2", "--to", "prod"],
            cwd=root, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert real.returncode == 1 and "Traceback" not in real.stderr
        assert "environments.prod.gates.champion.margn" in real.stderr
    finally:
        (root / "shipyard.yaml").unlink()
    envs = shipyard(root, "environments").stdout
    assert "approval, diagnostics, baseline, champion" in envs
