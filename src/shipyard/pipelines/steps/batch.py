"""``batch``: score a dataset version with a model into a new dataset version
(:func:`shipyard.deploy.batch_transform`)."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepKind


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.deploy import batch_transform

    published = batch_transform(
        ctx.project, args["model"], args["dataset"], args["output"],
        batch_rows=args.get("batch_rows"), capture=bool(args.get("capture")),
    )  # fmt: skip
    ctx.log(f"scored {args['dataset']} with {args['model']} into {published.version.ref}")
    return {"dataset": published.version.ref}


KIND = StepKind(
    name="batch",
    version="1",
    args={
        "model": Arg("model"),
        "dataset": Arg("dataset", doc="The rows to score."),
        "output": Arg("str", doc="The scored dataset's name."),
        "batch_rows": Arg("int", required=False),
        "capture": Arg("bool", required=False, default=False),
    },
    outputs={"dataset": "dataset"},
    run=run,
    doc="Batch transform: score a dataset into a new one.",
)
