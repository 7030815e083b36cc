"""A run whose process is killed (kill -9) in the middle of a step is marked failed, never
left running, and resumes from that step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from shipyard.pipelines import pipeline_runs, resume_pipeline, show_pipeline_run
from shipyard.project import Project

RUNNER = """
import sys
from shipyard.project import open_project
from shipyard.pipelines import run_pipeline
run_pipeline(open_project(sys.argv[1]), sys.argv[2])
"""

S = "tests.pipelines._steps"


def test_a_killed_run_is_failed_and_resumable(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    path = tmp_path / "killed.yaml"
    path.write_text(yaml.safe_dump({
        "name": "killed",
        "steps": [
            {"name": "before", "function": f"{S}:first", "config": {"n": 1}},
            {"name": "slow", "function": f"{S}:slow",
             "inputs": {"marker": "params.marker", "after": "before"}},
            {"name": "after", "function": f"{S}:first",
             "inputs": {"n": "before"}},
        ],
        "parameters": {"marker": str(marker)},
    }))  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    child = subprocess.Popen([sys.executable, "-c", RUNNER, str(project.root), str(path)], env=env)
    try:
        for _ in range(600):  # the step has started once it wrote its marker
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), "the step never started"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()

    (run,) = pipeline_runs(project, "killed")  # reading repairs: the process is gone
    assert run.status == "failed" and "ended without finishing" in (run.error or "")
    steps = {s.step: s.status for s in show_pipeline_run(project, run.id).steps}
    assert steps["slow"] == "failed"
    assert steps["before"] == "finished"

    os.environ["SHIPYARD_TEST_FAST"] = "1"
    try:
        resumed = resume_pipeline(project, run.id)
    finally:
        del os.environ["SHIPYARD_TEST_FAST"]
    assert resumed.ok
    assert resumed.step("slow").outputs == {"result": "slow done"}
    assert resumed.step("before").status == "cached"
