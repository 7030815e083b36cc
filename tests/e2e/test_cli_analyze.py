"""profile -> constraints suggest -> check (the drifted period breaks rules) -> bias, by CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.demo import drift_start, training_table_sql
from tests.e2e.cli import make_project, shipyard

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("e2e-analyze"), subscribers=1500, days=24, seed=5)
    cutoff = drift_start("2026-01-01", 24).isoformat()
    shipyard(root, "ingest", "--sql", training_table_sql(until=cutoff), "--name", "training")
    return root


def test_profile_is_stored_and_reused(workdir: Path) -> None:
    first = json.loads(shipyard(workdir, "profile", "usage", "--json").stdout)
    assert first["table"]["rows"] > 1000 and first["dataset"] == "usage@1"
    html = workdir / "usage.html"
    again = shipyard(workdir, "profile", "usage", "--html", str(html))
    assert "stored earlier" in again.stdout
    assert html.read_text().startswith("<!DOCTYPE html>") or "<html" in html.read_text()[:500]


def test_rules_from_a_baseline_catch_the_drifted_period(workdir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "usage.yaml"
    shipyard(workdir, "constraints", "suggest", "usage@1", "--out", str(rules))
    assert "visited_operator" in rules.read_text()
    cutoff = drift_start("2026-01-01", 24).isoformat()
    shipyard(
        workdir,
        "ingest",
        "--sql",
        f"SELECT * FROM usage WHERE event_time < DATE '{cutoff}'",
        "--name",
        "usage_early",
    )
    shipyard(
        workdir,
        "ingest",
        "--sql",
        f"SELECT * FROM usage WHERE event_time >= DATE '{cutoff}'",
        "--name",
        "usage_late",
    )
    shipyard(workdir, "constraints", "suggest", "usage_early", "--out", str(rules))
    report = json.loads(
        shipyard(
            workdir, "check", "usage_late", "--constraints", str(rules), "--json", check=False
        ).stdout
    )
    # Longer calls and more bytes per session arrive with the drift.
    assert report["violations"], report
    assert all(v["count"] > 0 and v["examples"] for v in report["violations"])
    clean = json.loads(
        shipyard(workdir, "check", "usage_early", "--against", "usage_early", "--json").stdout
    )
    assert clean["passed"] and not clean["violations"]


def test_ingest_with_broken_rules_is_refused(workdir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "strict.yaml"
    rules.write_text(
        "version: 1\nkind: shipyard.constraints\nrules:\n"
        "- {column: plan, rule: allowed_values, values: [prepaid], severity: error}\n"
    )
    before = shipyard(workdir, "datasets", "list", "--json").stdout
    proc = shipyard(
        workdir,
        "ingest",
        str(workdir / "raw" / "subscribers.parquet"),
        "--name",
        "subs_checked",
        "--constraints",
        str(rules),
        check=False,
    )
    assert proc.returncode == 1 and "plan" in proc.stderr and "Nothing was stored" in proc.stderr
    assert shipyard(workdir, "datasets", "list", "--json").stdout == before


def test_bias_report(workdir: Path) -> None:
    report = json.loads(
        shipyard(
            workdir,
            "bias",
            "training",
            "--label",
            "is_fraud",
            "--positive",
            "1",
            "--facet",
            "plan",
            "--json",
        ).stdout
    )
    assert {g["value"] for g in report["facets"]} == {"prepaid", "postpaid"}
    assert {"CI", "DPL", "KL", "JS", "LP", "TVD", "KS"} <= set(report["facets"][0]["metrics"])
    args = ("bias", "training", "--label", "is_fraud", "--positive", "1", "--facet", "plan")
    short = shipyard(workdir, *args).stdout
    # The verdict and its rule lead; the per-group line table follows; --all adds every metric.
    assert short.index("A metric is flagged when") < short.index("Positive rate per group")
    assert "Class imbalance" not in short and "--all" in short
    assert "CI" in shipyard(workdir, *args, "--all").stdout.replace("95% CI", "")
    bad = shipyard(
        workdir,
        "bias",
        "training",
        "--label",
        "is_fraud",
        "--positive",
        "1",
        "--facet",
        "plann",
        check=False,
    )
    assert bad.returncode == 1 and "plan" in bad.stderr


def test_split_reports_shared_entities_and_leaks(workdir: Path) -> None:
    report = json.loads(
        shipyard(
            workdir,
            "split",
            "training",
            "--target",
            "is_fraud",
            "--strategy",
            "time",
            "--time-column",
            "day",
            "--group-column",
            "subscriber_id",
            "--json",
        ).stdout
    )
    assert {f["check"] for f in report["findings"]} == {"shared_entities"}
    grouped = shipyard(
        workdir,
        "split",
        "training",
        "--target",
        "is_fraud",
        "--strategy",
        "group",
        "--group-column",
        "subscriber_id",
    )
    assert "no leakage found" in grouped.stdout
    typo = shipyard(workdir, "split", "training", "--target", "is_frud", check=False)
    assert typo.returncode == 1 and "Did you mean 'is_fraud'" in typo.stderr
