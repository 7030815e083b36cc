"""shipyard recommend: targets parsed, a plan sized from planted measurements, one real
(short) measurement stored with the version and shown by the CLI."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import make_frame

import shipyard.cli as cli
from shipyard.deploy import load_recommendation, recommend
from shipyard.deploy._rows import measurement_rows, synthetic_rows
from shipyard.deploy._sizing import plan_deployment
from shipyard.deploy._units import parse_bytes, parse_latency, parse_rate
from shipyard.errors import InvalidInput, NotFound
from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import load_model
from shipyard.train import train

MIB = 2**20


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run the real CLI entry point in this process: (exit code, stdout, stderr)."""
    sigterm = signal.getsignal(signal.SIGTERM)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["shipyard", *args])
        try:
            cli.main()
            code = 0
        except SystemExit as exited:
            code = int(exited.code or 0)
        finally:
            logging.captureWarnings(False)
            signal.signal(signal.SIGTERM, sigterm)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A model trained once for the module (tests that store a plan use their own version)."""
    root = tmp_path_factory.mktemp("recommend")
    project = init_project(root / "proj")
    make_frame(1500).to_parquet(root / "t.parquet", index=False)
    ingest_path(project, root / "t.parquet", "t")
    train(project, "t", "label", model_name="fraud")
    train(project, "t", "label", model_name="other")
    yield project
    project.close()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10ms", 0.01), ("0.5s", 0.5), ("250us", 250e-6), (" 2 MS ", 0.002), ("1", 1.0), (0.02, 0.02)],
)
def test_latency_targets_read_as_people_write_them(text, seconds) -> None:
    assert parse_latency(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["fast", "10 parsecs", "-5ms", "0ms", "ms", "2h", True])
def test_a_bad_latency_target_says_what_was_expected(text) -> None:
    with pytest.raises(InvalidInput, match=r"'p99' target must be a duration .*10ms.*Got"):
        parse_latency(text)


@pytest.mark.parametrize(("text", "rate"), [("500", 500), ("1.5k", 1500), ("500/s", 500), (20, 20)])
def test_rate_targets(text, rate) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["lots", "0", "-3", "5 per minute"])
def test_a_bad_rate_says_what_was_expected(text) -> None:
    with pytest.raises(InvalidInput, match=r"'rps' target must be .*500.*Got"):
        parse_rate(text)


def test_memory_sizes() -> None:
    assert parse_bytes("512MB") == 512 * MIB
    assert parse_bytes("2GiB") == 2 * 2**30
    with pytest.raises(InvalidInput, match="at least 1MB"):
        parse_bytes("10KB")


def _measured(**changes) -> dict:
    measured = {
        "latency": {"app": {"mean_ms": 1.0, "p99_ms": 2.0}},
        "scaling": [{"workers": 1, "rps": 1000.0}, {"workers": 2, "rps": 1900.0}],
        "memory": {"rss_loaded": 380 * MIB, "load_peak": 500 * MIB, "serving_peak": 400 * MIB},
        "batches": [
            {"rows": 256, "rows_per_second": 100_000.0, "peak_rss": 450 * MIB},
            {"rows": 4096, "rows_per_second": 150_000.0, "peak_rss": 500 * MIB},
            {"rows": 65536, "rows_per_second": 146_000.0, "peak_rss": 900 * MIB},
            {"rows": 262144, "rows_per_second": 151_000.0, "peak_rss": 2048 * MIB},
        ],
    }
    measured.update(changes)
    return measured


def test_the_plan_follows_from_the_numbers() -> None:
    plan, reasons = plan_deployment(_measured(), p99=0.02, rps=5000, batch_memory=1024 * MIB)
    # Two workers (1,900 req/s beats 1,000 by more than 5%), each 950 req/s at 70% busy:
    # 1,330 req/s a replica, so 5,000 req/s needs ceil(3.76) = 4 replicas of 2 cores.
    assert plan["workers_per_replica"] == 2
    assert plan["busy"] == pytest.approx(0.7)
    assert plan["replica_rps"] == pytest.approx(1330)
    assert (plan["replicas"], plan["cores"]) == (4, 8)
    # The load peak (500 MiB) × 1.25, rounded up to 64 MiB: 640 MiB a worker.
    assert plan["memory_per_worker_bytes"] == 640 * MIB
    assert plan["memory_per_replica_bytes"] == 1280 * MIB
    # 262,144 rows is fastest but needs 2 GiB; of the rest, 65,536 is within 5% of the best.
    assert plan["batch_rows"] == 65536
    assert plan["meets_p99"] is True
    assert any("5,000 req/s" in r and "4 replica(s)" in r for r in reasons)
    assert any("262,144 rows would not fit" in r for r in reasons)


def test_a_tight_p99_plans_workers_less_busy() -> None:
    plan, reasons = plan_deployment(_measured(), p99=0.01, rps=None, batch_memory=1024 * MIB)
    # M/M/1: ln(100) × 1 ms / (1 − busy) ≤ 10 ms up to busy = 1 − 0.4605 = 54%.
    assert plan["busy"] == pytest.approx(0.5395, abs=0.001)
    assert plan["replicas"] == 1
    assert any("No --rps target" in r for r in reasons)


def test_a_p99_the_model_cannot_meet_is_said_plainly() -> None:
    plan, reasons = plan_deployment(_measured(), p99=0.001, rps=100, batch_memory=1024 * MIB)
    assert plan["meets_p99"] is False
    assert any("more replicas cannot fix that" in r for r in reasons)


def test_no_batch_size_fitting_the_budget_is_said_plainly() -> None:
    plan, reasons = plan_deployment(_measured(), p99=None, rps=None, batch_memory=100 * MIB)
    assert plan["batch_rows"] is None
    assert any("--batch-memory" in r for r in reasons)


def test_rows_come_from_the_signature_when_the_training_data_is_gone(trained) -> None:
    loaded = load_model(trained, "fraud")
    table, source = measurement_rows(trained, loaded, 50)
    assert source.startswith("t@1") and table.num_rows == 50  # a sample of the 1,500 rows
    orphan = dataclasses.replace(
        loaded, version=dataclasses.replace(loaded.version, lineage={"dataset": "gone@1"})
    )
    table, source = measurement_rows(trained, orphan, 50)
    assert source.startswith("synthetic") and table.num_rows == 50
    scores = loaded.model.predict_frame(synthetic_rows(loaded.model, 20).to_pandas()).scores
    assert len(scores) == 20


def test_recommend_measures_stores_and_shows_the_plan(trained, run_cli) -> None:
    assert load_recommendation(trained, "fraud") is None
    seen: list[str] = []
    result = recommend(
        trained,
        "fraud",
        p99="50ms",
        rps=300,
        batch_rows=[1, 64],
        max_workers=1,
        requests=50,
        seconds=0.2,
        batch_seconds=0.01,
        progress=lambda what, done, total: seen.append(what),
    )
    p = result.payload
    assert p["latency"]["app"]["requests"] == 50
    assert 0 < p["latency"]["model"]["p50_ms"] <= p["latency"]["model"]["p99_ms"]
    assert [s["workers"] for s in p["scaling"]] == [1] and p["scaling"][0]["rps"] > 0
    assert [b["rows"] for b in p["batches"]] == [1, 64]
    assert p["memory"]["rss_loaded"] > p["memory"]["rss_imports"] > 0
    assert p["rows"]["source"].startswith("t@1")
    assert p["plan"]["replicas"] >= 1 and p["plan"]["batch_rows"] in (1, 64)
    assert any("Batches of 64 rows" in s for s in seen)
    stored = json.loads(Path(result.uri.removeprefix("file://")).read_text())
    assert stored["plan"] == p["plan"]
    assert "/reports/models/fraud/1/recommendation-" in result.uri
    again = load_recommendation(trained, "fraud:1")
    assert again is not None and again.payload == p
    code, out, _ = run_cli("-C", str(trained.root), "models", "show", "fraud")
    assert code == 0
    assert "recommendation  measured" in out and "plan for 300 req/s" in out


def test_recommend_refuses_bad_input_before_measuring(trained) -> None:
    with pytest.raises(NotFound):
        recommend(trained, "nosuch")
    for bad in ({"batch_rows": [0]}, {"batch_rows": []}, {"max_workers": 0}, {"seconds": 0}):
        with pytest.raises(InvalidInput):
            recommend(trained, "other", **bad)
    assert load_recommendation(trained, "other") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "Error (NotFound)"),
        (["other", "--p99", "fast"], "'p99' target must be a duration such as 10ms"),
        (["other", "--rps", "0"], "'rps' target must be a rate above 0"),
        (["other", "--batch-memory", "lots"], "'batch_memory' parameter must be a memory size"),
    ],
)
def test_the_cli_says_what_is_wrong_without_a_traceback(trained, run_cli, args, message) -> None:
    code, _, err = run_cli("-C", str(trained.root), "recommend", *args)
    assert code == 1
    assert message in " ".join(err.split()) and "Traceback" not in err
