"""Crash trials: run a real ``shipyard`` command, kill -9 it at a random moment, check the
project (:mod:`tests.reliability._consistency`), and keep a ledger of the writes that a
process reported done, to prove none is lost later.

Each scenario first runs its command once to the end, to learn how long it takes; each trial
then draws a kill time between the end of Python's imports and a little past the end (so some
trials complete). ``train-register`` waits for the new bundle to appear in the artifact store
and kills at a random moment of the registration that follows. After each check, garbage
collection runs with no grace period and the project is checked again: gc must never remove
anything that a live version needs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.ingest import ingest_path
from shipyard.maintenance import collect_garbage
from shipyard.project import Project, init_project, open_project
from tests.reliability._consistency import check_project

__all__ = ["SCENARIOS", "Summary", "run_trials"]

POLL = 0.005


@dataclass
class Outcome:
    """How one run of the command ended."""

    killed: bool
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    armed_after: float | None = None  # when the trigger fired (seconds from the start)


@dataclass
class Summary:
    """One scenario's trials."""

    scenario: str
    trials: int = 0
    killed: int = 0
    completed: int = 0
    errors: int = 0  # runs that exited non-zero without being killed
    inconsistencies: list[str] = field(default_factory=list)
    lost_writes: list[str] = field(default_factory=list)
    collected: int = 0  # items gc removed after the kills
    recovered: int = 0  # interrupted jobs finished afterwards (a pipeline run resumed)
    seconds: float = 0.0


def run_cli(
    cwd: Path,
    args: list[str],
    *,
    kill_after: float | None,
    trigger: Callable[[], bool] | None = None,
) -> Outcome:
    """Run ``shipyard ARGS``; SIGKILL it ``kill_after`` seconds after it starts (or after
    ``trigger`` first returns true), unless it ends first."""
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "shipyard", *args], cwd=cwd, env=env, stdout=out, stderr=err
        )
        armed = None if trigger is not None else started
        killed = False
        while proc.poll() is None:
            now = time.monotonic()
            if armed is None and trigger is not None and trigger():
                armed = now
            if kill_after is not None and armed is not None and now - armed >= kill_after:
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
            time.sleep(POLL)
        code = proc.wait()
        seconds = time.monotonic() - started
        killed = killed and code == -signal.SIGKILL
        out.seek(0)
        err.seek(0)
        return Outcome(
            killed,
            code,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            None if armed is None else armed - started,
        )


class Scenario:
    """A command to kill, what it must leave, and what a completed run must have written."""

    name = ""
    trigger_based = False
    recovered = 0  # what recover() finished

    def setup(self, root: Path, project: Project) -> None:
        """Make what the command needs (in-process, before any trial)."""

    def command(self, root: Path, trial: int, rng: np.random.Generator) -> list[str]:
        raise NotImplementedError

    def trigger(self, root: Path) -> Callable[[], bool] | None:
        return None

    def recover(self, root: Path, project: Project, outcome: Outcome) -> list[str]:
        """Check and finish what the kill interrupted the way a user would (after the
        consistency check); return the problems found."""
        return []

    def settle(self, project: Project, outcome: Outcome, args: list[str]) -> list[str]:
        """Record what this run wrote in the ledger; return the writes found lost."""
        return []


class Ingest(Scenario):
    name = "ingest"

    def __init__(self) -> None:
        self.ledger: dict[str, str] = {}  # dataset ref -> fingerprint

    def command(self, root: Path, trial: int, rng: np.random.Generator) -> list[str]:
        n = 20_000
        frame = pd.DataFrame(
            {
                "id": np.arange(n) + trial * n,
                "x": rng.normal(size=n),
                "k": rng.choice(["a", "b", "c"], n),
                "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            }
        )
        path = root / "incoming.parquet"
        frame.to_parquet(path)
        return ["ingest", str(path), "--name", "events", "--json"]

    def settle(self, project: Project, outcome: Outcome, args: list[str]) -> list[str]:
        lost = []
        if outcome.returncode == 0:
            reported = json.loads(outcome.stdout)["dataset"]
            self.ledger[f"{reported['name']}@{reported['version']}"] = reported["fingerprint"]
        for ref, fingerprint in self.ledger.items():
            name, version = ref.split("@")
            found = {v.version: v for v in project.catalog.list_dataset_versions(name)}
            if int(version) not in found:
                lost.append(f"dataset {ref} is gone")
            elif found[int(version)].fingerprint != fingerprint:
                lost.append(f"dataset {ref} changed content")
        for v in project.catalog.list_dataset_versions("events"):  # a kill after the commit
            self.ledger.setdefault(v.ref, v.fingerprint)
        return lost


def ungated(root: Path) -> None:
    """A shipyard.yaml that turns every promotion gate off: these scenarios test what a crash
    or a concurrent writer does to an alias, not the gates (tests/registry covers those)."""
    off = "{approval: false, baseline: false, diagnostics: false, champion: false}"
    (root / "shipyard.yaml").write_text(
        "environments:\n"
        + "".join(f"  {env}:\n    gates: {off}\n" for env in ("dev", "staging", "prod"))
    )


def training_frame(seed: int, rows: int = 1_500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["k"] = rng.choice(["p", "q", "r"], rows)
    frame["y"] = (x[:, 0] - x[:, 1] + rng.normal(scale=0.7, size=rows) > 0).astype(int)
    return frame


class _Models(Scenario):
    """Training scenarios: every model version reported registered must stay ready."""

    def __init__(self) -> None:
        self.ledger: set[str] = set()

    def setup(self, root: Path, project: Project) -> None:
        training_frame(0).to_parquet(root / "kb.parquet")
        ingest_path(project, root / "kb.parquet", "kb")

    def settle(self, project: Project, outcome: Outcome, args: list[str]) -> list[str]:
        if outcome.returncode == 0:
            self.ledger.add(json.loads(outcome.stdout)["model"])
        ready = {v.ref for v in project.catalog.list_model_versions()}
        lost = [f"model {ref} is gone" for ref in sorted(self.ledger - ready)]
        self.ledger |= ready
        return lost


class TrainSearch(_Models):
    name = "train (mid-search)"
    budget = 6.0  # seconds of AutoML search

    def command(self, root: Path, trial: int, rng: np.random.Generator) -> list[str]:
        return [
            "train",
            "kb",
            "--target",
            "y",
            "--time-budget",
            f"{self.budget:g}",
            "--max-trials",
            "12",
            "--families",
            "linear,random_forest,lightgbm",
            "--seed",
            str(trial),
            "--json",
        ]


class TrainRegister(_Models):
    name = "train (mid-register)"
    trigger_based = True

    def command(self, root: Path, trial: int, rng: np.random.Generator) -> list[str]:
        return [
            "train",
            "kb",
            "--target",
            "y",
            "--family",
            "linear",
            "--seed",
            str(trial),
            "--json",
        ]

    def trigger(self, root: Path) -> Callable[[], bool]:
        """True once a bundle that was not there before appears (registration began)."""
        folder = root / ".shipyard" / "artifacts" / "models" / "kb"
        before = set(folder.iterdir()) if folder.exists() else set()
        return lambda: folder.exists() and bool(set(folder.iterdir()) - before)


class Materialize(Scenario):
    name = "features materialize"

    def __init__(self) -> None:
        self.entities: int | None = None

    def setup(self, root: Path, project: Project) -> None:
        from tests.features._online_data import make_events, setup

        setup(project, make_events(np.random.default_rng(7), n=60_000, entities=6_000))

    def command(self, root: Path, trial: int, rng: np.random.Generator) -> list[str]:
        return ["features", "materialize", "usage", "--json"]

    def settle(self, project: Project, outcome: Outcome, args: list[str]) -> list[str]:
        if outcome.returncode != 0:
            return []
        reported = json.loads(outcome.stdout)[0]["entities"]
        self.entities = self.entities or reported
        stored = online_entities(project)
        if reported != self.entities or stored != self.entities:
            return [f"materialize reported {reported} entities, the store holds {stored}"]
        return []


def online_entities(project: Project) -> int:
    from shipyard.features import get_group
    from shipyard.features._plan import table_name

    table = table_name(get_group(project, "usage"))
    return sum(len(batch) for batch in project.online.scan(table))


class Promote(Scenario):
    name = "promote"

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}  # environment -> the ref it names

    def setup(self, root: Path, project: Project) -> None:
        from shipyard.train import TrainSpec, train

        ungated(root)
        training_frame(0).to_parquet(root / "kb.parquet")
        ingest_path(project, root / "kb.parquet", "kb")
        for seed in range(3):
            train(project, "kb", "y", TrainSpec.of(family="linear", seed=seed))

    def command(self, root: Path, trial: int, rng: np.random.Generator) -> list[str]:
        env = str(rng.choice(["dev", "staging", "prod"]))
        return ["models", "promote", f"kb:{int(rng.integers(1, 4))}", "--to", env, "--json"]

    def settle(self, project: Project, outcome: Outcome, args: list[str]) -> list[str]:
        ref, env = args[2], args[4]
        now = {a: v.ref for v in project.catalog.list_model_versions() for a in v.aliases}
        lost = []
        if outcome.returncode == 0 and now.get(env) != ref:
            lost.append(f"kb@{env} names {now.get(env)} after a promotion to {ref} succeeded")
        elif now.get(env) not in (self.aliases.get(env), ref):
            lost.append(f"kb@{env} names {now.get(env)}, neither before nor after")
        for other, was in self.aliases.items():
            if other != env and now.get(other) != was:
                lost.append(f"kb@{other} moved from {was} to {now.get(other)}")
        self.aliases = {a: r for a, r in now.items() if r is not None}
        return lost


def _pipeline_step() -> Scenario:
    from tests.reliability._crash_pipeline import PipelineStep  # it builds on this module

    return PipelineStep()


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "ingest": Ingest,
    "train-search": TrainSearch,
    "train-register": TrainRegister,
    "materialize": Materialize,
    "promote": Promote,
    "pipeline-step": _pipeline_step,
}


def _window(scenario: Scenario, root: Path, project: Project) -> tuple[float, float]:
    """The kill-time range: a clean run, timed (and settled into the ledger)."""
    args = scenario.command(root, 0, np.random.default_rng(0))
    trigger = scenario.trigger(root)
    clean = run_cli(root, args, kill_after=None, trigger=trigger)
    if clean.returncode != 0:
        raise RuntimeError(f"shipyard {' '.join(args)} failed:\n{clean.stdout}\n{clean.stderr}")
    scenario.settle(project, clean, args)
    if scenario.trigger_based:
        if clean.armed_after is None:
            raise RuntimeError(f"{scenario.name}: the trigger never fired in a clean run.")
        return 0.0, 1.1 * (clean.seconds - clean.armed_after)
    startup = run_cli(root, ["--help"], kill_after=None).seconds
    return 0.8 * startup, 1.05 * clean.seconds


def run_trials(
    kind: str, trials: int, root: Path, *, seed: int = 0, search_budget: float = 6.0
) -> Summary:
    """``trials`` kills of scenario ``kind`` in a new project under ``root``."""
    scenario = SCENARIOS[kind]()
    if isinstance(scenario, TrainSearch):
        scenario.budget = search_budget
    summary = Summary(scenario.name)
    started = time.monotonic()
    rng = np.random.default_rng(seed)
    with init_project(root) as project:
        scenario.setup(root, project)
        low, high = _window(scenario, root, project)
    for trial in range(1, trials + 1):
        args = scenario.command(root, trial, rng)
        outcome = run_cli(
            root, args, kill_after=float(rng.uniform(low, high)), trigger=scenario.trigger(root)
        )
        summary.trials += 1
        summary.killed += outcome.killed
        summary.completed += outcome.returncode == 0
        if not outcome.killed and outcome.returncode != 0:
            summary.errors += 1
            summary.inconsistencies.append(
                f"trial {trial}: exit {outcome.returncode}: {outcome.stderr.strip()[-300:]}"
            )
        with open_project(root) as project:
            found = check_project(project)
            if type(scenario).recover is not Scenario.recover:
                found += scenario.recover(root, project, outcome)
                found += [f"after recovery: {p}" for p in check_project(project)]
            summary.lost_writes += [
                f"trial {trial}: {w}" for w in scenario.settle(project, outcome, args)
            ]
            summary.collected += len(
                collect_garbage(project, delete=True, grace=timedelta(0)).garbage
            )
            found += [f"after gc: {p}" for p in check_project(project)]
            summary.lost_writes += [
                f"trial {trial}, after gc: {w}" for w in scenario.settle(project, outcome, args)
            ]
        summary.inconsistencies += [f"trial {trial}: {p}" for p in found]
    summary.recovered = scenario.recovered
    summary.seconds = time.monotonic() - started
    return summary
