"""``split``: train / validation / test with the leakage report
(:func:`shipyard.train.split_dataset`). A severe finding stops the run unless
``stop_on_leakage`` is false."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepFailed, StepKind

_OPTIONS = ("strategy", "time_column", "group_column", "split_column", "valid_size", "test_size",
            "seed")  # fmt: skip


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.train import split_dataset

    options = {k: args[k] for k in _OPTIONS if args.get(k) is not None}
    version, report = split_dataset(ctx.project, args["dataset"], args["target"], **options)
    ctx.log(f"{version.ref}: rows per part {report['rows']}")
    errors = [f["message"] for f in report["findings"] if f["severity"] == "error"]
    for finding in report["findings"]:
        ctx.log(f"  {finding['severity']}: {finding['message']}")
    if errors and args.get("stop_on_leakage", True):
        raise StepFailed(f"The split of {version.ref} leaks: {errors[0]}")
    return {"report": report, "ok": not errors}


KIND = StepKind(
    name="split",
    version="1",
    args={
        "dataset": Arg("dataset"),
        "target": Arg("str"),
        "strategy": Arg("str", required=False, doc="random, stratified, time, group, column."),
        "time_column": Arg("str", required=False),
        "group_column": Arg("str", required=False),
        "split_column": Arg("str", required=False),
        "valid_size": Arg("float", required=False),
        "test_size": Arg("float", required=False),
        "seed": Arg("int", required=False),
        "stop_on_leakage": Arg("bool", required=False, default=True),
    },
    outputs={"report": "json", "ok": "bool"},
    run=run,
    doc="Split with the leakage report.",
)
