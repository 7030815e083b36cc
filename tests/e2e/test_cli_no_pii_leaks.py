"""No log line, error message, report or audit event carries a row's values.

Plants unique values in personal-data columns, drives ingest, profile, train (refused and
then hashed) and serving (with bad requests) through the real CLI and server app, and greps
everything they wrote outside the lake for the planted values.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

from shipyard.project import open_project
from shipyard.registry import load_model
from shipyard.serve import create_app
from tests.e2e.cli import shipyard

pytestmark = pytest.mark.e2e

PLANTED = ("zq7plantedmail@example.org", "+33699887766", "Xylophonia", "Quarrendine")


def _frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    amount = rng.gamma(2.0, 50.0, n)
    frame = pd.DataFrame(
        {
            "email": [f"user{i}@example.net" for i in range(n)],
            "msisdn": [f"+3361{i:07d}" for i in range(n)],
            "first_name": rng.choice(["ann", "bob", "eve"], n),
            "country": rng.choice(["fr", "de"], n),
            "amount": amount,
            "y": (amount > 100).astype(int),
        }
    )
    frame.loc[7, ["email", "msisdn", "first_name"]] = PLANTED[:3]
    frame.loc[8, "first_name"] = PLANTED[3]
    return frame


def test_planted_values_appear_nowhere_but_the_lake(tmp_path: Path) -> None:
    _frame().to_csv(tmp_path / "subs.csv", index=False)
    outputs = [shipyard(tmp_path, "init"), shipyard(tmp_path, "ingest", "subs.csv", "--name", "s")]
    outputs.append(shipyard(tmp_path, "profile", "s"))
    refused = shipyard(tmp_path, "train", "s", "-t", "y", check=False)
    assert refused.returncode == 1 and "personal data" in refused.stderr
    outputs.append(refused)
    outputs.append(shipyard(tmp_path, "train", "s", "-t", "nope", check=False))
    outputs.append(
        shipyard(
            tmp_path,
            "train",
            "s",
            "-t",
            "y",
            "--exclude",
            "email",
            "--exclude",
            "msisdn",
            "--hash-pii",
            "first_name",
            "--model-name",
            "m",
        )
    )
    outputs.append(shipyard(tmp_path, "audit", "--json"))
    with open_project(tmp_path) as project:
        app = create_app(load_model(project, "m"), max_body_bytes=4096, max_rows=10)
    bad = [
        (
            "/v1/predict",
            {"rows": [{"first_name": PLANTED[2], "country": "fr", "amount": PLANTED[0]}]},
        ),
        ("/v1/predict", {"rows": [{"first_name": PLANTED[3], "country": 5, "amount": 1.0}]}),
    ]
    answers: list[str] = []
    for path, body in bad:
        import anyio
        import httpx

        async def go(body: dict = body, path: str = path) -> str:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
                return (await client.post(path, content=orjson.dumps(body))).text

        answers.append(anyio.run(go))
    assert all("error" in a for a in answers)

    texts = [p.stdout + p.stderr for p in outputs] + answers
    shipyard_dir = tmp_path / ".shipyard"
    for path in shipyard_dir.rglob("*"):
        if path.is_file() and "lake" not in path.parts and path.suffix != ".db":
            texts.append(path.read_bytes().decode("latin-1"))
    with sqlite3.connect(shipyard_dir / "catalog.db") as db:
        texts.append("\n".join(db.iterdump()))
    for value in PLANTED:
        leaks = [t[max(0, t.find(value) - 80) : t.find(value) + 80] for t in texts if value in t]
        assert not leaks, f"{value} leaked: {leaks}"
