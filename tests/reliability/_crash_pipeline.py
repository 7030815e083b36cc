"""The ``pipeline-step`` crash scenario: kill -9 ``shipyard pipelines run`` at a random moment
of a four-step pipeline (ingest a new file, a Python step that publishes a cleaned dataset,
a single fit registered as a model version, a promotion to dev), then prove the run is
marked failed (its process is gone) and that ``shipyard pipelines resume RUN`` completes it,
reusing every step that had succeeded.

A step's outputs that a finished run (or a finished resume) reported are writes done: the
dataset versions and model versions must stay, with the same content.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from shipyard.pipelines import fail_dead_pipeline_runs
from shipyard.project import Project
from tests.reliability._consistency import lost_writes
from tests.reliability._crash import Outcome, Scenario, run_cli, training_frame, ungated

__all__ = ["PipelineStep"]

PIPELINE = "crashy"

STEPS_PY = """
from shipyard.pipelines import Dataset, step


@step
def clean(raw: Dataset) -> Dataset:
    frame = raw.to_pandas()
    return frame[frame["a"] > -2.5].reset_index(drop=True)
"""

DEFINITION = {
    "name": PIPELINE,
    "steps": [
        {"name": "ingest", "kind": "ingest", "config": {"path": "incoming.parquet", "name": "kb"}},
        {"name": "clean", "function": "steps.py:clean", "inputs": {"raw": "ingest.dataset"}},
        {
            "name": "train",
            "kind": "train",
            "inputs": {"dataset": "clean"},
            "config": {"target": "y", "family": "linear", "model_name": "kb"},
        },
        {
            "name": "promote",
            "kind": "promote",
            "inputs": {"model": "train.model"},
            "config": {"environment": "dev"},
        },
    ],
}


class PipelineStep(Scenario):
    name = "pipeline step"

    def __init__(self) -> None:
        self.datasets: dict[str, str] = {}  # ref -> fingerprint, reported by finished runs
        self.models: set[str] = set()
        self.seen: set[str] = set()  # pipeline runs already looked at

    def setup(self, root: Path, project: Project) -> None:
        ungated(root)
        (root / "pipelines").mkdir(exist_ok=True)
        (root / "pipelines" / f"{PIPELINE}.yaml").write_text(yaml.safe_dump(DEFINITION))
        (root / "pipelines" / "steps.py").write_text(STEPS_PY)

    def command(self, root: Path, trial: int, rng: np.random.Generator) -> list[str]:
        training_frame(trial).to_parquet(root / "incoming.parquet")  # new bytes: no cache hit
        return ["pipelines", "run", PIPELINE, "--json"]

    def recover(self, root: Path, project: Project, outcome: Outcome) -> list[str]:
        """Every run this trial left unfinished must be failed, and resume to the end."""
        fail_dead_pipeline_runs(project)
        problems = []
        for run in project.catalog.list_pipeline_runs(PIPELINE, limit=1000):
            if run.id in self.seen:
                continue
            self.seen.add(run.id)
            if run.status == "finished":
                continue
            if run.status != "failed":
                problems.append(f"pipeline run {run.id[:12]} is {run.status} after its kill")
                continue
            problems += self._resume(root, project, run.id)
        return problems

    def _resume(self, root: Path, project: Project, run_id: str) -> list[str]:
        succeeded = {
            s.step
            for s in project.catalog.list_pipeline_steps(run_id)
            if s.status in ("finished", "cached")
        }
        again = run_cli(root, ["pipelines", "resume", run_id, "--json"], kill_after=None)
        if again.returncode != 0:
            return [f"resume of {run_id[:12]} exited {again.returncode}: {again.stderr[-300:]}"]
        self.recovered += 1
        reported = json.loads(again.stdout)
        self.seen.add(reported["run"]["id"])
        self._record(reported)
        status = {s["step"]: s["status"] for s in reported["steps"]}
        redone = sorted(step for step in succeeded if status.get(step) != "cached")
        if redone:
            return [f"resume of {run_id[:12]} ran its succeeded steps {redone} again"]
        return []

    def _record(self, reported: dict) -> None:
        for step in reported["steps"]:
            out = step.get("outputs") or {}
            if step["step"] == "train" and out.get("model"):
                self.models.add(out["model"])

    def settle(self, project: Project, outcome: Outcome, args: list[str]) -> list[str]:
        if outcome.returncode == 0 and outcome.stdout.strip():
            self._record(json.loads(outcome.stdout))
        for v in project.catalog.list_dataset_versions():  # a publish is a write once done
            self.datasets.setdefault(v.ref, v.fingerprint)
        return lost_writes(project, self.datasets.items(), sorted(self.models))
