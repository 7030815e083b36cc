"""``shipyard endpoints ...`` and ``shipyard serve --endpoint`` through the CLI's entry point
(in process: the same ``main`` the script runs, its exit code and its output)."""

from __future__ import annotations

import json
import signal
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

import shipyard.cli as cli
from shipyard.project import Project
from tests._endpoints import endpoint_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = endpoint_project(tmp_path_factory.mktemp("endpoint-cli"))
    yield project
    project.close()


@pytest.fixture
def shipyard(trained: Project, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Iterator[Any]:
    """Run ``shipyard ARGS`` in the trained project; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SHIPYARD_HOME", raising=False)
    sigterm, showwarning = signal.getsignal(signal.SIGTERM), warnings.showwarning

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["shipyard", "-C", str(trained.root), *args])
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            signal.signal(signal.SIGTERM, sigterm)
            warnings.showwarning = showwarning
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    from shipyard.deploy import delete_endpoint, list_endpoints

    for e in list_endpoints(trained):
        delete_endpoint(trained, e.name, env=e.env)


def test_create_update_show_rollback_list_delete(shipyard: Any) -> None:
    code, out, err = shipyard(
        "endpoints",
        "create",
        "fraud",
        "--env",
        "prod",
        "--variant",
        "m@prod=90",
        "--variant",
        "m:2=10",
        "--shadow",
        "m:3",
        "--capture",
        "20%",
    )
    assert code == 0, err
    assert "Created endpoint prod/fraud: revision 1." in out
    assert "m:1 (follows m@prod)" in out and "100% mirrored" in out and "capture 20%" in out

    code, out, err = shipyard(
        "endpoints",
        "update",
        "fraud",
        "--env",
        "prod",
        "--variant",
        "m:2",
        "--no-shadow",
        "--canary",
        "10%",
        "--bake",
        "5m",
        "--rollback-on",
        "error_rate=0.01,p99_ms=50,psi=0.2",
    )
    assert code == 0, err
    assert "baking 10%" in out and "canary 10% for 300 s" in out
    assert "error_rate=0.01,p99_ms=50,psi=0.2" in out

    code, out, _ = shipyard("endpoints", "show", "fraud", "--env", "prod", "--json")
    shown = json.loads(out)
    assert shown["endpoint"]["revision"] == 2 and shown["endpoint"]["state"]["phase"] == "baking"
    assert [(lane["arm"], lane["version"]) for lane in shown["lanes"]] == [
        ("canary", "m:2"),
        ("baseline", "m:1"),
        ("baseline", "m:2"),
    ]

    code, out, err = shipyard("endpoints", "rollback", "fraud", "--env", "prod")
    assert code == 0, err
    assert "Rolled back endpoint prod/fraud: revision 3." in out and "live" in out
    code, out, _ = shipyard("endpoints", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["config"]["variants"][0]["model"] == "m@prod" and listed["restores"] == 1
    code, out, _ = shipyard("endpoints", "show", "fraud", "--env", "prod")
    assert "History" in out and "rollback" in out

    code, out, _ = shipyard("endpoints", "delete", "fraud", "--env", "prod")
    assert code == 0 and "Deleted endpoint prod/fraud (it was at revision 3)." in out
    assert json.loads(shipyard("endpoints", "list", "--json")[1]) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variant", "m:1=90", "--variant", "m:2=20"], "weights must sum to 100"),
        (["--variant", "nope:1"], "No model named 'nope'"),
        (["--variant", "m:7"], "Model 'm' has no version 7"),
        (["--variant", "m:1", "--shadow", "m:1"], "is also the live variant"),
        (["--variant", "m:1", "--env", "qa"], "Got 'qa' instead"),
        (["--variant", "m:1", "--capture", "lots"], "capture must be a percentage"),
        ([], "at least one variant"),
    ],
)
def test_bad_input_exits_1_with_a_message(shipyard: Any, args: list[str], message: str) -> None:
    full = ["endpoints", "create", "fraud", *([] if "--env" in args else ["--env", "prod"]), *args]
    code, out, err = shipyard(*full)
    assert code == 1
    assert message in err and "Traceback" not in err + out
    assert json.loads(shipyard("endpoints", "list", "--json")[1]) == []


def test_errors_on_existing_and_unknown_endpoints(shipyard: Any) -> None:
    assert shipyard("endpoints", "create", "fraud", "--env", "prod", "--variant", "m:1")[0] == 0
    cases = [
        (
            ("endpoints", "create", "fraud", "--env", "prod", "--variant", "m:2"),
            "has an endpoint named 'fraud'",
        ),
        (
            ("endpoints", "update", "fraud", "--env", "prod", "--shadow", "m:2", "--no-shadow"),
            "not both",
        ),
        (("endpoints", "rollback", "fraud", "--env", "prod"), "no earlier configuration"),
        (("endpoints", "show", "fraud", "--env", "dev"), "It exists in prod"),
        (
            ("serve", "--endpoint", "fraud", "--env", "staging", "--port", "0"),
            "No endpoint named 'fraud' in staging",
        ),
        (("serve", "m@prod", "--endpoint", "fraud"), "Give one thing to serve"),
        (("serve", "--env", "prod"), "--env goes with --endpoint"),
        (
            ("serve", "--endpoint", "fraud", "--env", "prod", "--capture", "5"),
            "keeps its own capture",
        ),
    ]
    for args, message in cases:
        code, out, err = shipyard(*args)
        assert code == 1, args
        assert message in err and "Traceback" not in err + out, err
        assert "Serving" not in out


def test_help_lists_the_commands(shipyard: Any) -> None:
    code, out, _ = shipyard("endpoints", "--help")
    assert code == 0
    for command in ("create", "update", "show", "list", "delete", "rollback"):
        assert command in out
