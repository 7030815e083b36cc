"""``profile``: a dataset version's profile (:func:`shipyard.analyze.profile_dataset`):
types, missing values, distributions, correlations, alerts, PII tags; stored as a report."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepKind
from shipyard.pipelines.steps._common import report_value


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.analyze import profile_dataset

    report = profile_dataset(
        ctx.project, args["dataset"], target=args.get("target"), label_time=args.get("label_time")
    )
    alerts = report.payload.get("alerts", [])
    target, label_time = args.get("target"), args.get("label_time")
    kind = "profile" + (f":{target}" if target else "") + (f"@{label_time}" if label_time else "")
    ctx.log(f"profiled {report.dataset.ref}: {len(alerts)} alert(s); page {report.html_path}")
    return {
        "report": report_value(report.dataset.ref, kind, report.payload),
        "alerts": len(alerts),
    }


KIND = StepKind(
    name="profile",
    version="1",
    args={
        "dataset": Arg("dataset"),
        "target": Arg("str", required=False, doc="The label column."),
        "label_time": Arg("str", required=False, doc="The label's time column."),
    },
    outputs={"report": "report", "alerts": "int"},
    run=run,
    doc="Profile a dataset version.",
)
