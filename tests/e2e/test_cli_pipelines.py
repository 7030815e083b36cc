"""The pipelines commands through the real CLI: a run with its table, show, graph, list and
runs in a ``shipyard`` process; and every bad input a message and exit 1, without a
traceback (through the CLI's own ``main``, in this process: a process start costs seconds)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest
import yaml

from shipyard.project import init_project
from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e

STEPS = [
    {"name": "make", "function": "steps.py:make", "config": {"n": "${params.n}"}},
    {"name": "sum", "function": "steps.py:total", "inputs": {"data": "make"}},
]
CODE = """
import pandas as pd
from shipyard.pipelines import Dataset

def make(n: int) -> Dataset:
    return pd.DataFrame({"x": range(n)})

def total(data: Dataset) -> float:
    return float(data.to_pandas()["x"].sum())
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    init_project(tmp_path).close()
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "steps.py").write_text(CODE)
    doc = {"name": "small", "parameters": {"n": 4}, "steps": STEPS}
    (folder / "small.yaml").write_text(yaml.safe_dump(doc))
    bad = {"name": "bad", "steps": [*STEPS[:1], {**STEPS[1], "inputs": {"data": "mkae"}}]}
    (folder / "bad.yaml").write_text(yaml.safe_dump(bad))
    typed = {"name": "typed", "steps": [*STEPS[:1],
             {"name": "p", "kind": "promote", "inputs": {"model": "make"},
              "config": {"environment": "prod"}}]}  # fmt: skip
    (folder / "typed.yaml").write_text(yaml.safe_dump(typed))
    return tmp_path


def test_a_run_then_a_cached_run_and_what_they_show(root: Path) -> None:
    first = shipyard(root, "pipelines", "run", "small", "-p", "n=5")
    assert "finished" in first.stdout and "0 of 2 steps reused" in first.stdout
    again = json.loads(shipyard(root, "pipelines", "run", "small", "-p", "n=5", "--json").stdout)
    assert [s["status"] for s in again["steps"]] == ["cached", "cached"]
    assert again["steps"][1]["outputs"] == {"result": 10.0}
    run_id = again["run"]["id"]
    shown = shipyard(root, "pipelines", "show", run_id[:8], "--logs", "sum").stdout
    assert "reused from run" in shown
    runs = json.loads(shipyard(root, "pipelines", "runs", "small", "--json").stdout)
    assert [r["status"] for r in runs] == ["finished", "finished"]


def _main(root: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    import shipyard.cli as cli

    sigterm = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(sys, "argv", ["shipyard", "-C", str(root), *args])
    monkeypatch.setenv("COLUMNS", "200")
    try:
        cli.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    return 0


def test_graph_and_list(root: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert _main(root, ["pipelines", "graph", "small"], monkeypatch) == 0
    graph = capsys.readouterr().out
    assert "┌ 1  make" in graph and "└ 2  sum" in graph and "<- make" in graph
    assert _main(root, ["pipelines", "run", "small"], monkeypatch) == 0
    assert _main(root, ["pipelines", "list"], monkeypatch) == 0
    assert "small" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pipelines", "run", "bad"], "no step 'mkae'. Did you mean 'make'?"),
        (["pipelines", "run", "small", "-p", "n=many"], "must be a whole number"),
        (["pipelines", "run", "typed"], "make.result is a dataset, but this input takes a model"),
        (["pipelines", "schedule", "small", "--cron", "0 2 * *"], "is not a cron expression"),
        (["pipelines", "run", "smal"], "Did you mean 'small'?"),
        (["pipelines", "resume", "0123456789"], "No pipeline run with id"),
        (["pipelines", "run", "small", "-p", "n"], "-p takes KEY=VALUE"),
    ],
)
def test_bad_input_is_a_message_and_exit_1(
    root: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert _main(root, args, monkeypatch) == 1
    out = capsys.readouterr()
    assert message in out.err
    assert "Traceback" not in out.err + out.out
