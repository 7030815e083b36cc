"""Every CLI command that may change a project records one ``cli.call`` audit event with the
command, face ``cli``, this host, and the outcome, failures and bad command lines included;
read-only commands record none. The walk covers every mutating command: a command added
later fails :func:`test_the_walk_covers_every_mutating_command` until it is listed here."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli import app
from shipyard.cli._audit import READ_ONLY, AuditedGroup
from shipyard.project import Project, init_project
from shipyard.train import TrainSpec, train
from tests.reliability._crash import training_frame, ungated

OK = "ok"

CALLS: dict[str, list[tuple[list[str], str]]] = {
    # command -> [(arguments after the command, expected outcome)]
    "init": [(["{root}"], OK)],  # says it is a project already
    "ingest": [(["{root}/kb.csv", "--name", "kb2"], OK), (["missing.csv"], "InvalidInput")],
    "profile": [(["nope"], "NotFound")],
    "check": [(["nope"], "InvalidInput")],
    "bias": [(["nope"], "usage")],
    "drift": [(["nope", "nope2"], "NotFound")],
    "train": [(["nope", "--target", "y"], "NotFound")],
    "split": [(["nope", "--target", "y"], "NotFound")],
    "serve": [(["nope:1"], "NotFound")],
    "batch": [(["nope:1"], "usage")],
    "demo": [(["--time-budget", "soon"], "usage")],
    "demo-data": [(["--no-such-option"], "usage")],
    "gc": [([], OK)],
    "doctor": [([], OK)],
    "scheduler": [(["--no-such-option"], "usage")],
    "server": [(["--port", "many"], "usage")],
    "datasets tag": [(["kb", "--pii", "k"], OK), (["kb", "--pii", "nope"], "NotFound")],
    "features apply": [(["missing.yaml"], "NotFound")],
    "features training-set": [(["--no-such-option"], "usage")],
    "features materialize": [(["nope"], "NotFound")],
    "features push": [(["nope", "missing.csv"], "NotFound")],
    "features consume": [(["nope", "--stream", "redis://127.0.0.1:1/0/s"], "BackendUnavailable")],
    "models export": [(["nope:1"], "usage")],
    "models approve": [(["kb:1", "-m", "checked"], OK)],
    "models reject": [(["nope:1", "-m", "no"], "NotFound")],
    "models promote": [(["kb:1", "--to", "dev"], OK), (["kb:1", "--to", "moon"], "InvalidInput")],
    "endpoints create": [(["nope"], "usage")],
    "endpoints update": [(["nope"], "usage")],
    "endpoints rollback": [(["nope"], "usage")],
    "endpoints delete": [(["nope"], "usage")],
    "monitors create": [(["nope"], "usage")],
    "monitors run": [(["nope"], "NotFound")],
    "alerts ack": [(["999"], "NotFound")],
    "pipelines run": [(["nope"], "NotFound")],
    "pipelines resume": [(["nope00"], "NotFound")],
    "pipelines schedule": [(["nope", "--cron", "0 2 * * *"], "NotFound")],
    "keys rotate": [(["--new-key-file", "missing.key"], "InvalidInput")],
    "tokens create": [(["--name", "ci", "--role", "viewer", "--env", "dev"], OK)],
    "tokens revoke": [(["ci"], OK), (["ci"], "Conflict"), (["nobody"], "NotFound")],
}


def _leaves() -> set[str]:
    import typer.main

    root = typer.main.get_command(app)
    assert isinstance(root, AuditedGroup)
    ctx = root.make_context("shipyard", ["--help"], resilient_parsing=True)
    found: set[str] = set()

    def walk(command: object, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):  # type: ignore[attr-defined]
                walk(command.get_command(ctx, name), [*path, name])  # type: ignore[attr-defined]
        else:
            found.add(" ".join(path))

    walk(root, [])
    return found


def test_the_walk_covers_every_mutating_command() -> None:
    leaves = _leaves()
    assert leaves >= READ_ONLY, f"READ_ONLY names no command: {sorted(READ_ONLY - leaves)}"
    assert set(CALLS) == leaves - READ_ONLY


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("audit-cli") / "p"
    with init_project(root) as opened:
        ungated(root)
        training_frame(0).to_csv(root / "kb.csv", index=False)
        from shipyard.ingest import ingest_path

        ingest_path(opened, root / "kb.csv", "kb")
        train(opened, "kb", "y", TrainSpec.of(family="linear", seed=0))
        yield opened


def _calls(project: Project) -> list[tuple[str, str]]:
    return [
        (e.object_id, str(e.details.get("outcome")))
        for e in reversed(project.catalog.list_events(10_000))
        if e.action == "cli.call"
    ]


@pytest.mark.parametrize("command", list(CALLS))
def test_each_mutating_command_audits_its_call(
    project: Project, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.root)
    monkeypatch.delenv("SHIPYARD_SERVER_URL", raising=False)
    for args, outcome in CALLS[command]:
        before = len(_calls(project))
        argv = [*command.split(), *(a.format(root=project.root) for a in args)]
        result = CliRunner().invoke(app, argv)
        assert (result.exit_code == 0) == (outcome == OK), (argv, result.output)
        new = _calls(project)[before:]
        assert new == [(command, outcome)], (argv, result.output, result.exception)
    event = next(e for e in project.catalog.list_events(1) if e.action == "cli.call")
    assert event.face == "cli" and event.address == socket.gethostname()


def test_read_only_commands_and_help_audit_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.root)
    before = len(_calls(project))
    for argv in (["datasets", "list"], ["models", "show", "kb:1"], ["ingest", "--help"],
                 ["models"], ["audit", "verify"]):  # fmt: skip
        CliRunner().invoke(app, argv)
    assert len(_calls(project)) == before


def test_a_change_and_its_call_are_both_recorded(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(project.root)
    result = CliRunner().invoke(app, ["ingest", str(project.root / "kb.csv"), "--name", "kb3"])
    assert result.exit_code == 0, result.output
    change, call = project.catalog.list_events(2)[::-1]
    assert (change.action, change.object_id, change.face) == ("dataset.create", "kb3@1", "cli")
    assert change.address == socket.gethostname()
    assert (call.action, call.object_id, call.details["outcome"]) == ("cli.call", "ingest", OK)
