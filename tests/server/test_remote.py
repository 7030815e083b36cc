"""Remote use against a real `shipyard server` on loopback: the CLI with --server (and
SHIPYARD_SERVER_URL, SHIPYARD_TOKEN) and the SDK's shipyard.connect, round trip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import shipyard
from shipyard.errors import NotFound, PermissionDenied, Unauthenticated
from tests.reliability._hostile import running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(project_root: Path) -> Iterator[str]:
    with running(project_root, "server", deadline=None, ready="/healthz") as port:
        yield f"http://127.0.0.1:{port}"


def remote(
    cwd: Path, url: str | None, token: str | None, *args: str
) -> subprocess.CompletedProcess[str]:
    """``shipyard ARGS`` with SHIPYARD_SERVER_URL and SHIPYARD_TOKEN set, in a folder that
    holds no project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env.update(COLUMNS="200", **({"SHIPYARD_SERVER_URL": url} if url else {}))
    if token:
        env["SHIPYARD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> object:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_cli_reads_and_governs_through_the_server(
    server: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    deployer = tokens["deployer-all"]
    rows = ok(remote(tmp_path, server, deployer, "sql", "SELECT count(*) AS n FROM d", "--json"))
    assert rows == [{"n": 600}]
    (run,) = ok(remote(tmp_path, server, deployer, "runs", "list", "--json"))
    assert run["experiment"] == "m" and run["status"] == "finished"
    promote = ["--server", server, "models", "promote", "m:1", "--to", "staging", "--json"]
    assert "staging" in ok(remote(tmp_path, None, deployer, *promote))["version"]["aliases"]
    with shipyard.connect(server, token=deployer) as client:
        alert = client.list_alerts(open_only=True)[0]
    acked = ok(remote(tmp_path, server, deployer, "alerts", "ack", str(alert.id), "--json"))
    assert acked["acked_by"] == "deployer-all" and acked["status"] == "acked"
    window = ["--since", "2026-01-01T01:00Z", "--until", "2026-01-01T03:00Z", "--json"]
    ran = ok(remote(tmp_path, server, deployer, "monitors", "run", "watch", *window))
    assert [w["status"] for w in ran["windows"]] == ["empty", "empty"]
    trail = ok(remote(tmp_path, server, deployer, "audit", "--limit", "30", "--json"))
    assert {"model.alias", "alert.ack", "api.call"} <= {e["action"] for e in trail}
    assert all(e["face"] == "api" for e in trail if e["actor"] == "deployer-all")


def test_remote_errors_are_messages_not_tracebacks(
    server: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    viewer = tokens["viewer-all"]
    cases = [
        (server, viewer, ["models", "promote", "m:1", "--to", "prod"], "Roles that may"),
        (server, viewer, ["train", "d", "--target", "y"], "no remote form"),
        ("http://127.0.0.1:9", viewer, ["models", "show", "m"], "Cannot reach"),
    ]
    for url, token, args, message in cases:
        proc = remote(tmp_path, url, token, *args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)


def test_the_sdk_connects_with_the_same_operations(server: str, tokens: dict[str, str]) -> None:
    with shipyard.connect(server, token=tokens["deployer-all"]) as client:
        assert client.resolve_model("m@prod").ref == "m:1"
        assert client.promote("m@prod", "dev").version.aliases >= ("dev", "prod")
        detail = client.get_run(client.list_runs("m")[0].id)
        assert detail.run.status == "finished" and detail.run.started_at.tzinfo is not None
        assert client.query("SELECT 2 AS two").column("two").to_pylist() == [2]
        assert client.load_evaluation("m:1")["model"] == "m:1"
        assert client.show_monitor("watch").monitor.model == "m@prod"
        assert client.verify_audit().ok
        assert [g.name for g in client.list_feature_definitions("group")] == ["usage"]
        with pytest.raises(NotFound, match="Did you mean 'd'"):
            client.get_dataset_version("dd")
        with pytest.raises(NotFound, match="Did you mean 'm'"):
            client.resolve_model("mm")
    prod_only = shipyard.connect(server, token=tokens["viewer-prod"])
    with prod_only, pytest.raises(PermissionDenied, match="scoped to prod"):
        prod_only.list_runs()
    with shipyard.connect(server) as client, pytest.raises(Unauthenticated, match="needs a token"):
        client.list_models()
    forged = shipyard.connect(server, token="shp_0123456789abcdef_nope")
    with forged, pytest.raises(Unauthenticated, match="not valid"):
        forged.list_models()
