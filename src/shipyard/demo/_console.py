"""What the demo prints: the profile and bias readings, the evaluation, the closing panel."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from shipyard.demo._replay import BATCH_MINUTES
from shipyard.demo._watch import MONITOR

if TYPE_CHECKING:
    from shipyard.demo._replay import Replay
    from shipyard.demo._retrain import Retrained
    from shipyard.demo._watch import Watch
    from shipyard.demo.run import DemoSummary
    from shipyard.features import SkewReport
    from shipyard.project import Project

__all__ = [
    "MODEL",
    "print_analysis",
    "print_evaluation",
    "print_replay",
    "print_retrain",
    "print_summary",
    "print_watch",
    "shipyard_command",
]

MODEL = "fraud"


def print_analysis(profile: dict[str, Any], bias: dict[str, Any], out: Console) -> None:
    """The training table's profile alerts and its label bias across home countries."""
    alerts = profile["alerts"]
    out.print(f"  {len(alerts)} profile alerts; the first ones:")
    for alert in alerts[:3]:
        out.print(f"    \\[{alert['severity']}] {alert['message']}")
    # Flagged groups first, then by the strength of the evidence (the p-value of DPL's test).
    groups = sorted(
        bias["facets"],
        key=lambda g: (not g["metrics"]["DPL"]["flag"], g["metrics"]["DPL"]["evidence"]["p_value"]),
    )
    out.print("  fraud rate by home country (flagged first, then the strongest evidence):")
    for group in groups[:3]:
        dpl, (lo, hi) = group["metrics"]["DPL"], group["positive_rate_d_ci95"]
        flags = [k for k, m in group["metrics"].items() if m["flag"]]
        flag = f" [red]flagged by {', '.join(flags)}[/]" if flags else f" ({dpl['status']})"
        out.print(
            f"    {group['value']}: {group['positives_d']:,} of {group['n_d']:,} "
            f"({group['positive_rate_d']:.2%}, 95% CI {lo:.2%}-{hi:.2%}) vs "
            f"{group['positive_rate_a']:.2%} for the rest, "
            f"DPL {dpl['value']:+.4f}, p = {dpl['evidence']['p_value']:.2g}{flag}"
        )


def print_evaluation(report: dict[str, Any], out: Console) -> None:
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


def print_replay(replayed: Replay, skew: SkewReport, out: Console) -> None:
    """Alerts per replayed hour (scores past the model's threshold), speed, and the skew."""
    import numpy as np

    days: dict[str, list[int]] = {}
    for hour, count in sorted(replayed.per_hour.items()):
        days.setdefault(f"{hour:%Y-%m-%d}", [0] * 24)[hour.hour] = count
    out.print(
        f"  {replayed.records:,} records in {replayed.batches:,} micro-batches of "
        f"{BATCH_MINUTES} simulated minutes, {replayed.seconds:.1f} s "
        f"({replayed.rate:,.0f} records/s applied and scored); {replayed.late} late"
    )
    out.print(
        f"  per batch: features applied p50 {np.median(replayed.apply_ms):.1f} ms, "
        f"looked up + scored p50 {np.median(replayed.score_ms):.1f} ms"
    )
    out.print(f"  alerts per hour (score past the threshold), {replayed.alerts:,} in all:")
    out.print("             " + "".join(f"{h:>4d}" for h in range(0, 24)))
    for day, counts in days.items():
        out.print(f"  {day} " + "".join(f"{c:>4d}" for c in counts))
    verdict = "[green]online equals offline[/]" if skew.ok else "[red]SKEW[/]"
    out.print(
        f"  skew check {skew.group} at {skew.at:%Y-%m-%d %H:%M}: {skew.entities} subscribers x "
        f"{skew.features} features, {skew.mismatch_count} mismatches, "
        f"{skew.missing_online} missing online: {verdict}"
    )


def print_watch(project: Project, found: Watch, out: Console) -> None:
    """What the monitor flagged, estimated and measured, its alerts and its report."""
    drifted = sorted({c for cols in found.drifted.values() for c in cols})
    out.print(f"  drift flagged in the replayed windows: {', '.join(drifted[:12]) or 'nothing'}")
    if found.estimated:
        values = ", ".join(f"{v:.3f}" for v in found.estimated.values())
        out.print(f"  before labels: CBPE estimated roc_auc {values}")
    if found.measured:
        values = ", ".join(f"{v:.3f}" for v in found.measured.values())
        base = f" (baseline {found.baseline_auc:.3f})" if found.baseline_auc else ""
        out.print(f"  once labels arrived: measured roc_auc {values}{base}")
    out.print(f"  {len(found.alerts)} alert(s) raised, by violation:")
    for line, count in Counter(found.alerts).most_common(6):
        out.print(f"    {count:>4d} x {line}")
    if found.reports:
        out.print(f"  report: {project.artifacts.key_of(found.reports[-1])}")


def print_retrain(found: Retrained, out: Console) -> None:
    """The retraining's window, its gate and decision, and the quality before and after."""
    window = found.window
    if window:
        out.print(
            f"  recent labelled window: {window['days']} day(s) from {window['since']}, "
            f"{window['rows']:,} rows, {window['fraud']:,} fraud"
        )
    if found.gate:
        verdict = "[green]passed[/]" if found.gate.get("passed") else "[red]refused[/]"
        out.print(f"  gate on the window: {verdict}: {found.gate.get('reason', '')}")
    if "error" in found.quality:
        out.print(f"  [yellow]before/after not measured[/]: {found.quality['error']['message']}")
    elif found.quality:
        table = Table(title="Before and after, on the recent labelled window", title_justify="left")
        for column in ("model", "PR AUC", "recall", f"{found.quality['champion']['variant']} "
                       "PR AUC", "recall"):  # fmt: skip
            table.add_column(column, justify="right")
        for role, q in found.quality.items():
            table.add_row(
                f"{role} {q['model']}",
                *(_num(q[k]) for k in ("all_pr_auc", "all_recall", "variant_pr_auc",
                                        "variant_recall")),
            )  # fmt: skip
        out.print(table)
        q = found.quality["champion"]
        out.print(
            f"  ({q['variant_rows']:,} rows of the new variant, {q['variant']}; recall at each "
            "model's own operating threshold)"
        )
    if found.promoted:
        out.print(f"  [green]promoted[/]: {MODEL}@prod -> {found.candidate} (was {found.champion})")
    else:
        out.print(
            f"  [yellow]champion kept[/]: {MODEL}@prod stays {found.champion}; {found.reason}"
        )
    if found.run:
        out.print(f"  run {found.run[:12]} ({found.trigger}) in {found.seconds:.1f} s")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_summary(summary: DemoSummary, out: Console) -> None:
    metrics = Table(title=f"Model {summary.model} (is_fraud)", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("validation", justify="right")
    metrics.add_column("test", justify="right")
    for key in ("roc_auc", "pr_auc", "log_loss", "precision", "recall", "threshold"):
        metrics.add_row(
            key,
            *(
                f"{summary.metrics[p][key]:.4f}" if key in summary.metrics.get(p, {}) else "-"
                for p in ("valid", "test")
            ),
        )
    out.print(metrics)
    if summary.retrain.get("promoted"):  # the table is the first model's: say what prod runs
        out.print(
            f"  {summary.model} was the first model; the retrain promoted "
            f"{summary.retrain['candidate']} to {MODEL}@prod since."
        )
    out.print(Panel.fit(_panel_text(summary), title="Shipyard demo: roaming fraud, real time"))


def _panel_text(summary: DemoSummary) -> str:
    root, cmd = summary.project, shipyard_command()
    times = ", ".join(f"{k} {v:.0f} s" for k, v in summary.timings.items())
    replay, serving = summary.replay, summary.serving
    lines = [f"Project    {root}/.shipyard  (catalog.db, lake/, artifacts/, online.db)"]
    lines += [f"{k:10s} {v}" for k, v in summary.reports.items()]
    if replay:
        lines.append(
            f"Replay     {replay['records']:,} records via {replay['path']}, "
            f"{replay['events_per_s']:,}/s, {replay['alerts']:,} alerts, "
            f"skew {'ok' if replay['skew_ok'] else 'MISMATCH'}"
        )
    if serving:
        lines.append(
            f"Serving    {serving['requests']:,} HTTP requests: p50 {serving['p50_ms']:.2f} ms, "
            f"p99 {serving['p99_ms']:.2f} ms"
        )
    if summary.monitor:
        lines.append(f"Monitor    {len(summary.monitor.get('alerts', []))} alert(s) raised")
    if summary.retrain:
        lines.append(_retrain_line(summary.retrain))
    lines += [f"Finished in {summary.seconds:.0f} s ({times}).  Look further:", f"  cd {root}"]
    lines += [
        f"  {cmd} {c}"
        for c in (
            "features list",
            "features show roaming_usage",
            "features online roaming_usage --entity S0000123",
            "features check-skew roaming_usage --sample 1000",
            f"models show {MODEL}@prod",
            "pipelines runs roaming",
            f"monitors show {MONITOR}",
            f"monitors history {MONITOR}",
            "alerts list --open",
            f'sql "SELECT prediction, count(*) FROM capture_{MODEL} GROUP BY 1"',
            f"serve {MODEL}@prod --port 8080 --capture 100",
        )
    ]
    return "\n".join(lines)


def _retrain_line(found: dict[str, Any]) -> str:
    quality = found.get("quality") or {}
    before, after = quality.get("champion", {}), quality.get("candidate", {})
    how = (
        f"{found['candidate']} promoted" if found.get("promoted")
        else f"{found['champion']} kept"
    )  # fmt: skip
    reading = ""
    if before.get("model") and after.get("model"):
        reading = (
            f"; {before['variant']} recall {_num(before['variant_recall'])} -> "
            f"{_num(after['variant_recall'])}, PR AUC {_num(before['variant_pr_auc'])} -> "
            f"{_num(after['variant_pr_auc'])}"
        )
    return f"Retrain    {how}{reading}"


def shipyard_command() -> str:
    """How the user can run ``shipyard`` from a shell: the bare name when it is on the PATH
    (an activated venv), else the full path of the script beside this interpreter."""
    beside = Path(sys.executable).with_name("shipyard")
    found = shutil.which("shipyard")
    if found and (not beside.exists() or Path(found).resolve() == beside.resolve()):
        return "shipyard"
    return str(beside) if beside.exists() else "shipyard"
