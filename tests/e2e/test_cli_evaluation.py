"""train --slice-by --facet, then models report: the evaluation report through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shipyard.demo import drift_start, training_table_sql
from tests.e2e.cli import make_project, shipyard

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("e2e-eval"), subscribers=1500, days=24, seed=3)
    cutoff = drift_start("2026-01-01", 24).isoformat()
    shipyard(root, "ingest", "--sql", training_table_sql(until=cutoff), "--name", "training")
    return root


def test_train_then_report(workdir: Path, tmp_path: Path) -> None:
    trained = shipyard(
        workdir,
        "train",
        "training",
        "--target",
        "is_fraud",
        "--split",
        "time",
        "--time-column",
        "day",
        "--exclude",
        "subscriber_id",
        "--exclude",
        "home_country",
        "--slice-by",
        "home_country",
        "--slice-by",
        "plan",
        "--facet",
        "age_band",
        "--facet-value",
        "65+",
        "-m",
        "fraud",
    )
    assert "Evaluation report:" in trained.stdout and "models report fraud:1" in trained.stdout
    assert re.search(r"Single-row predict: \d+\.\d\d ms \(one JSON row", trained.stdout)

    page = tmp_path / "fraud.html"
    shown = shipyard(workdir, "models", "report", "fraud:1", "--html", str(page))
    assert "Test metrics (95% bootstrap interval)" in shown.stdout
    assert re.search(r"roc_auc[\s│]+0\.\d{4}[\s│]+0\.\d{4} – [01]\.\d{4}", shown.stdout)
    assert "Top-k of the scores" in shown.stdout
    assert "Post-training bias on age_band" in shown.stdout
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Post-training bias" in html
    assert "home_country" in html and "DPPL" in html
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?https?:", html)

    report = json.loads(shipyard(workdir, "models", "report", "fraud", "--json").stdout)
    assert report["model"] == "fraud:1" and report["problem_type"] == "binary"
    assert [c["column"] for c in report["slices"]["columns"]] == ["home_country", "plan"]
    slices = report["slices"]["columns"][0]["slices"]
    assert sum(s["rows"] for s in slices) == report["rows"]
    assert report["bias"]["facet"] == "age_band"
    assert [g["value"] for g in report["bias"]["facets"]] == ["65+"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slice-by", "home_contry"], "Did you mean 'home_country'"),
        (["--facet", "age_bnd"], "Did you mean 'age_band'"),
        (["--facet", "age_band", "--facet-value", "65"], "Did you mean '65+'"),
    ],
)
def test_bad_report_options_are_refused_before_training(
    workdir: Path, args: list[str], message: str
) -> None:
    proc = shipyard(
        workdir, "train", "training", "--target", "is_fraud", "-m", "nope", *args, check=False
    )
    assert proc.returncode == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_version_without_a_report_is_not_found(workdir: Path) -> None:
    proc = shipyard(workdir, "models", "report", "ghost", check=False)
    assert proc.returncode == 1 and "ghost" in proc.stderr
