"""``bias``: pre-training bias of a label across a facet (:func:`shipyard.analyze.bias_dataset`,
SageMaker Clarify's metrics); stored as a report, with the number of flagged groups."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepKind
from shipyard.pipelines.steps._common import report_value


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.analyze import bias_dataset

    label, facet = args["label"], args["facet"]
    report = bias_dataset(
        ctx.project, args["dataset"], label=label, positive=args["positive"], facet=facet,
        facet_values=args.get("facet_values"), threshold=args.get("threshold"),
        group=args.get("group"),
    )  # fmt: skip
    flagged = [
        g["value"] for g in report.payload.get("facets", [])
        if any(m.get("flag") for m in g.get("metrics", {}).values())
    ]  # fmt: skip
    ctx.log(f"{label} across {facet}: {len(flagged)} group(s) flagged {flagged[:10]}")
    kind = f"bias:{label}:{facet}"
    return {
        "report": report_value(report.dataset.ref, kind, report.payload),
        "flagged": len(flagged),
    }


KIND = StepKind(
    name="bias",
    version="1",
    args={
        "dataset": Arg("dataset"),
        "label": Arg("str", doc="The label column."),
        "positive": Arg("json", doc="The favourable / positive label value."),
        "facet": Arg("str", doc="The sensitive column."),
        "facet_values": Arg("json", required=False, doc="Facet values to report."),
        "threshold": Arg("float", required=False, doc="For a numeric facet: facet > T."),
        "group": Arg("str", required=False, doc="Group column for CDDL."),
    },
    outputs={"report": "report", "flagged": "int"},
    run=run,
    doc="Pre-training bias metrics across a facet.",
)
