"""CLI: profile, constraints suggest, check, bias."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipyard.cli._context import project_of, remote_of
from shipyard.cli._output import JsonFlag, console, emit_json
from shipyard.outfile import check_output_path, write_output

if TYPE_CHECKING:
    from shipyard.analyze import StoredReport

constraints_app = typer.Typer(help="Data-quality rules.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("profile")(profile)
    app.command("check")(check)
    app.command("bias")(bias)
    app.add_typer(constraints_app, name="constraints")


def profile(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    target: Annotated[
        str | None, typer.Option(help="Label column: balance and associations.")
    ] = None,
    label_time: Annotated[
        str | None, typer.Option(help="Label time: later datetimes are flagged.")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Also copy the HTML report to FILE.")] = None,
    refresh: Annotated[bool, typer.Option(help="Recompute even if a profile is stored.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Profile a dataset version: types, missing, distributions, correlations, alerts."""
    from shipyard.analyze import print_profile_summary

    if html is not None:
        check_output_path(html, option="--html")
    client = remote_of(ctx)
    if client is not None:
        with console.status("Profiling on the server..."):
            remote = client.profile(ref, target=target, label_time=label_time, refresh=refresh)
        payload, reused, where = (
            remote.payload,
            remote.reused,
            f"{client.url}/api/v1{remote.html_path}",
        )
        page = client.report_html(remote.subject, remote.kind) if html is not None else None
    else:
        report = _profile_here(ctx, ref, target, label_time, refresh)
        payload, reused, where = report.payload, report.reused, str(report.html_path)
        page = report.html_path.read_bytes() if html and report.html_path else None
    if html is not None and page is not None:
        write_output(html, page, option="--html")
    if as_json:
        emit_json(payload)
        return
    print_profile_summary(payload, console)
    note = " (stored earlier; --refresh to recompute)" if reused else ""
    console.print(f"HTML report: {html or where}{note}")


def _profile_here(
    ctx: typer.Context, ref: str, target: str | None, label_time: str | None, refresh: bool
) -> StoredReport:
    from shipyard.analyze import profile_dataset

    with console.status("Profiling...") as status:
        return profile_dataset(
            project_of(ctx),
            ref,
            target=target,
            label_time=label_time,
            refresh=refresh,
            progress=lambda step, done, total: status.update(f"Profiling: {step} ({done}/{total})"),
        )


@constraints_app.command("suggest")
def constraints_suggest(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Baseline dataset: NAME@VERSION.")],
    out: Annotated[Path | None, typer.Option(help="Write the YAML here (default: stdout).")] = None,
) -> None:
    """Suggest data-quality rules from a baseline version, as an editable YAML file."""
    from shipyard.analyze import suggest_for

    if out is not None:
        check_output_path(out, option="--out")
    version, text = suggest_for(project_of(ctx), ref)
    if out is None:
        sys.stdout.write(text)
        return
    write_output(out, text, option="--out")
    console.print(f"Wrote rules inferred from {version.ref} to {out}; edit them as you like.")


def check(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Dataset to check: NAME@VERSION.")],
    constraints: Annotated[Path | None, typer.Option(help="Rules YAML file.")] = None,
    against: Annotated[
        str | None, typer.Option(help="Baseline NAME@N to infer rules from.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a dataset version against data-quality rules; exit 1 if an error rule fails."""
    from shipyard.analyze import check_dataset, print_check_summary

    client = remote_of(ctx)
    if client is not None:
        rules = _read_rules(constraints) if constraints is not None else None
        report = client.check(ref, against=against, constraints=rules).payload
    else:
        _, report = check_dataset(
            project_of(ctx), ref, constraints_file=constraints, against=against
        )
    if as_json:
        emit_json(report)
    else:
        print_check_summary(report, console)
    if not report["passed"]:
        raise typer.Exit(1)


def bias(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME or NAME@VERSION.")],
    label: Annotated[str, typer.Option(help="The label column.")],
    positive: Annotated[str, typer.Option(help="The favourable / positive label value.")],
    facet: Annotated[str, typer.Option(help="The sensitive column.")],
    facet_value: Annotated[list[str] | None, typer.Option(help="Facet value(s) to report.")] = None,
    threshold: Annotated[float | None, typer.Option(help="For a numeric facet: facet > T.")] = None,
    group: Annotated[str | None, typer.Option(help="Group column for CDDL.")] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also print every metric of every group.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Pre-training bias (SageMaker Clarify): CI, DPL, KL, JS, LP, TVD, KS, CDDL per facet.

    Leads with what is flagged and why (group, metric, counts, interval), then one line per
    group; --all adds every metric of every group.
    """
    from shipyard.analyze import bias_dataset, print_bias_summary

    options = {
        "label": label,
        "positive": _scalar(positive),
        "facet": facet,
        "facet_values": [_scalar(v) for v in facet_value] if facet_value else None,
        "threshold": threshold,
        "group": group,
    }
    client = remote_of(ctx)
    if client is not None:
        remote = client.bias(ref, **options)
        payload, where = remote.payload, f"{client.url}/api/v1{remote.html_path}"
    else:
        report = bias_dataset(project_of(ctx), ref, **options)  # type: ignore[arg-type]
        payload, where = report.payload, str(report.html_path)
    if as_json:
        emit_json(payload)
        return
    print_bias_summary(payload, console, full=show_all)
    console.print(f"HTML report: {where}")


def _read_rules(path: Path) -> str:
    from shipyard.analyze import load_rules_file

    load_rules_file(path)  # the same "no such file" and YAML errors as here
    return path.read_text()


def _scalar(text: str) -> object:
    """A CLI value as the type it most likely has in the data: int, float, bool or str."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)
