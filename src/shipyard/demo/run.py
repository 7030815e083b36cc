"""``shipyard demo``: the roaming-fraud lifecycle end to end, on the embedded default."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from shipyard.demo.data import drift_start, generate
from shipyard.demo.sql import training_table_sql
from shipyard.project import Project, init_project

__all__ = ["DemoSummary", "run_demo"]

_START = "2026-01-01"
_MODEL = "fraud"


@dataclass
class DemoSummary:
    """What the demo made and where it is."""

    project: str
    datasets: dict[str, int] = field(default_factory=dict)
    model: str = ""
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def run_demo(
    directory: Path | None = None,
    *,
    subscribers: int = 20_000,
    days: int = 60,
    seed: int = 0,
    time_budget: float | None = 45.0,
    console: Console | None = None,
) -> DemoSummary:
    """Generate, ingest, build features with SQL, train, promote, batch-score, serve."""
    from shipyard.deploy import batch_transform
    from shipyard.ingest import ingest_sql
    from shipyard.registry import promote

    out = console or Console()
    started = time.perf_counter()
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="shipyard-demo-"))
    project = init_project(root, face="cli")
    summary = DemoSummary(project=str(project.root))
    cutoff = drift_start(_START, days).isoformat()

    def step(title: str) -> None:
        out.print(f"[bold cyan]>[/] {title}")

    with project:
        step(f"Generating {subscribers:,} subscribers x {days} days of roaming records")
        _load(project, root / "data", summary, out, subscribers=subscribers, days=days, seed=seed)
        step(f"Building subscriber-day features with SQL (training: before {cutoff})")
        for name, sql in (
            ("training", training_table_sql(until=cutoff)),
            ("later", training_table_sql(since=cutoff)),
        ):
            version = ingest_sql(project, sql, name).version
            summary.datasets[version.ref] = version.num_rows
            out.print(f"  {version.ref}: {version.num_rows:,} subscriber-days")

        step("Profiling the training table and checking label bias across home countries")
        _analyze(project, summary, out)

        how = f"AutoML ({time_budget:.0f} s budget)" if time_budget else "LightGBM"
        step(f"Training with {how} on a time split (train / validation / test by day)")
        _train(project, summary, out, seed=seed, time_budget=time_budget)
        step(f"Promoting {summary.model} to prod")
        promote(project, summary.model, "prod")

        step("Batch-scoring the later (drifted) period")
        scored = batch_transform(project, f"{_MODEL}@prod", "later", "later_scored").version
        summary.datasets[scored.ref] = scored.num_rows

        step("Serving fraud@prod on a loopback port and sending requests")
        summary.requests = _exercise_server(project, out)
    summary.seconds = time.perf_counter() - started
    _print_summary(summary, out)
    return summary


def _load(
    project: Project,
    raw: Path,
    summary: DemoSummary,
    out: Console,
    *,
    subscribers: int,
    days: int,
    seed: int,
) -> None:
    """Generate the roaming data and ingest its three tables."""
    from shipyard.ingest import ingest_path

    generate(raw, subscribers=subscribers, days=days, seed=seed, start=_START)
    for name in ("subscribers", "usage", "labels"):
        version = ingest_path(project, raw / f"{name}.parquet", name).version
        summary.datasets[version.ref] = version.num_rows
        out.print(f"  ingested {version.ref}: {version.num_rows:,} rows")


def _train(
    project: Project, summary: DemoSummary, out: Console, *, seed: int, time_budget: float | None
) -> None:
    """Train on a time split, with slices and an age facet, and show what the search did."""
    from shipyard.evaluation.console import leaderboard_table, search_notes
    from shipyard.train import train

    result = train(
        project,
        "training",
        "is_fraud",
        model_name=_MODEL,
        split="time",
        time_column="day",
        exclude=["subscriber_id"],
        seed=seed,
        time_budget=time_budget,
        progress=lambda msg: out.print(f"  {msg}"),
        slice_by=["home_country", "plan", "segment"],
        facet="age_band",
        facet_values=["65+"],
    )
    if result.leaderboard:
        out.print(leaderboard_table(result.leaderboard, limit=6))
        for line in search_notes(result.search):
            out.print(line)
    if result.evaluation is not None:
        _print_evaluation(result.evaluation.payload, out)
        summary.reports["evaluation"] = result.evaluation.location
    summary.model = result.model_version.ref
    summary.metrics = result.metrics


def _analyze(project: Project, summary: DemoSummary, out: Console) -> None:
    from shipyard.analyze import bias_dataset, profile_dataset

    profile = profile_dataset(project, "training", target="is_fraud")
    alerts = profile.payload["alerts"]
    summary.reports["profile"] = str(profile.html_path)
    out.print(f"  {len(alerts)} profile alerts; the first ones:")
    for alert in alerts[:5]:
        out.print(f"    \\[{alert['severity']}] {alert['message']}")
    bias = bias_dataset(project, "training", label="is_fraud", positive=1, facet="home_country")
    summary.reports["bias"] = str(bias.html_path)
    # Flagged groups first, then by the strength of the evidence (the p-value of DPL's test).
    groups = sorted(
        bias.payload["facets"],
        key=lambda g: (not g["metrics"]["DPL"]["flag"], g["metrics"]["DPL"]["evidence"]["p_value"]),
    )
    out.print("  fraud rate by home country (flagged first, then the strongest evidence):")
    for group in groups[:4]:
        dpl, (lo, hi) = group["metrics"]["DPL"], group["positive_rate_d_ci95"]
        flags = [k for k, m in group["metrics"].items() if m["flag"]]
        flag = f" [red]flagged by {', '.join(flags)}[/]" if flags else f" ({dpl['status']})"
        out.print(
            f"    {group['value']}: {group['positives_d']:,} of {group['n_d']:,} "
            f"({group['positive_rate_d']:.2%}, 95% CI {lo:.2%}-{hi:.2%}) vs "
            f"{group['positive_rate_a']:.2%} for the rest, "
            f"DPL {dpl['value']:+.4f}, p = {dpl['evidence']['p_value']:.2g}{flag}"
        )


def _print_evaluation(report: dict[str, Any], out: Console) -> None:
    from shipyard.evaluation.console import flagged_slices, threshold_reading

    out.print(f"  {threshold_reading(report['threshold'])}")
    top = next((r for r in report.get("top_k", []) if r["share"] == 0.01), None)
    if top:
        out.print(
            f"  Reviewing the top 1% ({top['k']:,} subscriber-days) finds {top['recall']:.0%} of "
            f"the fraud at {top['precision']:.0%} precision ({top['lift']:.0f}x the base rate)."
        )
    for column, s in flagged_slices(report):
        out.print(f"  [yellow]slice {column} = {s['value']}:[/] {'; '.join(s['flags'])}")
    bias = report.get("bias") or {}
    for group in bias.get("facets", []):
        flagged = [
            f"{k} ({m['evidence']['text']})" for k, m in group["metrics"].items() if m["flag"]
        ]
        verdict = f"[red]flagged: {'; '.join(flagged)}[/]" if flagged else "no metric flagged"
        out.print(f"  post-training bias, age_band {group['description']}: {verdict}")


def _exercise_server(project: Project, out: Console) -> list[dict[str, Any]]:
    import duckdb

    from shipyard.lake import connect_views
    from shipyard.serve import find_free_port, wait_until_ready

    con: duckdb.DuckDBPyConnection = connect_views(project.catalog, project.lake)
    try:
        frame = con.sql("SELECT * FROM later ORDER BY is_fraud DESC, day LIMIT 3").df()
    finally:
        con.close()
    rows = json.loads(frame.drop(columns=["is_fraud"]).to_json(orient="records", date_format="iso"))
    unseen = dict(rows[0], visited_operator="XX-NewPartner")
    malformed = {k: v for k, v in rows[0].items() if k != "data_mb"}
    port = find_free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shipyard",
            "-C",
            str(project.root),
            "serve",
            f"{_MODEL}@prod",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    results: list[dict[str, Any]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(server, f"{base}/ping")
        with httpx.Client(base_url=base, timeout=10) as client:
            for label, body in (
                ("3 real subscriber-days", {"rows": rows}),
                ("an unseen roaming partner", {"rows": [unseen]}),
                ("a row missing 'data_mb'", {"rows": [malformed]}),
            ):
                response = client.post("/v1/predict", json=body)
                results.append(
                    {"request": label, "status": response.status_code, "body": response.json()}
                )
                out.print(f"  POST /v1/predict ({label}) -> {response.status_code}")
                out.print(f"    {json.dumps(response.json())[:300]}")
            response = client.post("/v1/predict?explain=true&top=3", json={"rows": rows[:1]})
            results.append(
                {"request": "why", "status": response.status_code, "body": response.json()}
            )
            out.print(f"  POST /v1/predict?explain=true&top=3 -> {response.status_code}")
            if response.status_code == 200:
                explanation = response.json()["predictions"][0]["explanation"]
                reasons = ", ".join(
                    f"{c['feature']}={c['value']} ({c['contribution']:+.3f})"
                    for c in explanation["contributions"]
                )
                out.print(f"    why ({explanation['space']}): {reasons}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
    return results


def _print_summary(summary: DemoSummary, out: Console) -> None:
    data = Table(title="Datasets", title_justify="left")
    data.add_column("dataset")
    data.add_column("rows", justify="right")
    for ref, rows in summary.datasets.items():
        data.add_row(ref, f"{rows:,}")
    metrics = Table(title=f"Model {summary.model} (is_fraud)", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("validation", justify="right")
    metrics.add_column("test", justify="right")
    for key in ("roc_auc", "pr_auc", "log_loss", "precision", "recall", "f1", "threshold"):
        metrics.add_row(
            key,
            *(
                f"{summary.metrics[p][key]:.4f}" if key in summary.metrics[p] else "-"
                for p in ("valid", "test")
            ),
        )
    out.print(data)
    out.print(metrics)
    root = summary.project
    cmd = shipyard_command()
    out.print(
        Panel.fit(
            f"Project    {root}/.shipyard  (catalog.db, lake/, artifacts/)\n"
            + "".join(f"{k:10s} {v}\n" for k, v in summary.reports.items())
            + f"Finished in {summary.seconds:.0f} s.  Look further:\n"
            f"  cd {root}\n"
            f"  {cmd} datasets list\n"
            f"  {cmd} models show {_MODEL}@prod\n"
            f"  {cmd} models report {_MODEL}@prod --html {_MODEL}.html\n"
            f'  {cmd} sql "SELECT decision, count(*) FROM later_scored GROUP BY 1"\n'
            f"  {cmd} serve {_MODEL}@prod --port 8080\n"
            f"  {cmd} audit",
            title="Shipyard demo: roaming fraud",
        )
    )


def shipyard_command() -> str:
    """How the user can run ``shipyard`` from a shell: the bare name when it is on the PATH
    (an activated venv), else the full path of the script beside this interpreter."""
    beside = Path(sys.executable).with_name("shipyard")
    found = shutil.which("shipyard")
    if found and (not beside.exists() or Path(found).resolve() == beside.resolve()):
        return "shipyard"
    return str(beside) if beside.exists() else "shipyard"
