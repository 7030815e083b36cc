"""`shipyard tokens` and `serve --auth` through the real CLI: shown once, clear errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e


def test_a_token_is_shown_once_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    shipyard(tmp_path, "init")
    made = shipyard(
        tmp_path,
        "tokens",
        "create",
        "--name",
        "ci",
        "--role",
        "predict-only",
        "--env",
        "prod",
        "--expires",
        "30d",
    )
    token = made.stdout.strip()
    assert token.startswith("shp_") and "not shown again" in made.stderr
    listed = json.loads(shipyard(tmp_path, "tokens", "list", "--json").stdout)
    assert [(t["name"], t["role"], t["env"]) for t in listed] == [("ci", "predict-only", "prod")]
    assert token not in json.dumps(listed)
    with sqlite3.connect(tmp_path / ".shipyard" / "catalog.db") as db:
        dump = "\n".join(db.iterdump())
    secret = token.split("_", 2)[2]
    assert secret not in dump and "ci" in dump
    shipyard(tmp_path, "tokens", "revoke", "ci")
    assert json.loads(shipyard(tmp_path, "tokens", "list", "--json").stdout)[0]["revoked_at"]
    actions = [e["action"] for e in json.loads(shipyard(tmp_path, "audit", "--json").stdout)]
    changes = [a for a in actions if a != "cli.call"]  # each command's call is audited too
    assert changes[:2] == ["token.revoke", "token.create"] and actions[0] == "cli.call"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tokens", "create", "--name", "a", "--role", "god"], "Got 'god' instead"),
        (["tokens", "create", "--name", "a", "--role", "admin", "--env", "qa"], "'env'"),
        (["tokens", "create", "--name", "a", "--role", "admin", "--expires", "0d"], "expires"),
        (["tokens", "create", "--name", "a b", "--role", "admin"], "'name'"),
        (["tokens", "create", "--name", "dup", "--role", "admin"], "already a token named"),
        (["tokens", "revoke", "nope"], "No token named 'nope'"),
        (["serve", "m", "--auth", "maybe"], "'auth' parameter"),
    ],
)
def test_bad_token_input_is_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    shipyard(tmp_path, "init")
    shipyard(tmp_path, "tokens", "create", "--name", "dup", "--role", "viewer")
    proc = shipyard(tmp_path, *args, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert message in proc.stderr
