"""CLI: demo, demo-data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._output import JsonFlag, console, emit_json, err_console


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("demo-data")(demo_data)


def demo(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Project folder (default: a new temporary one).")
    ] = None,
    subscribers: Annotated[int, typer.Option(help="How many subscribers.")] = 20_000,
    days: Annotated[int, typer.Option(help="How many days of roaming usage.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    time_budget: Annotated[
        float, typer.Option(help="AutoML seconds; 0 for one LightGBM fit.")
    ] = 45.0,
    replay_days: Annotated[
        int, typer.Option(help="Days of the drifted period replayed as a stream.")
    ] = 2,
    http_requests: Annotated[
        int, typer.Option(help="Requests timed against the inference server (0: skip).")
    ] = 2000,
    retrain_budget: Annotated[
        float, typer.Option(help="The retraining's AutoML seconds; 0 for one LightGBM fit.")
    ] = 0.0,
    as_json: JsonFlag = False,
) -> None:
    """Run the roaming-fraud lifecycle end to end and in real time: feature store, train,
    promote, replay the drifted period as a stream, monitor it as labels arrive, serve, and
    retrain on the later period as the monitor's alerts ask, promoting the new model if it
    beats the champion on the most recent labelled window."""
    from shipyard.demo import run_demo

    out = err_console if as_json else console
    summary = run_demo(
        directory,
        subscribers=subscribers,
        days=days,
        seed=seed,
        time_budget=time_budget or None,
        replay_days=replay_days,
        http_requests=http_requests,
        retrain_budget=retrain_budget,
        console=out,
    )
    if as_json:
        emit_json(summary)


def demo_data(
    out: Annotated[Path, typer.Option(help="Folder to write the Parquet files to.")],
    subscribers: Annotated[int, typer.Option(help="How many subscribers.")] = 20_000,
    days: Annotated[int, typer.Option(help="How many days of roaming usage.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Write the synthetic roaming-fraud data (subscribers, usage, labels) as Parquet."""
    from shipyard.demo import generate

    with console.status("Generating roaming data..."):
        counts = generate(out, subscribers=subscribers, days=days, seed=seed)
    if as_json:
        emit_json({"out": str(out), "rows": counts})
        return
    for name, rows in counts.items():
        console.print(f"{name:12s} {rows:>12,} rows  {out / (name + '.parquet')}")
