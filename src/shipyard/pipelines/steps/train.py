"""``train``: split, fit (or AutoML with ``time_budget``), evaluate and register a model
version (:func:`shipyard.train.train`). ``options`` takes any other option of the SDK's
``train`` (``TrainSpec.of``). A ``time_budget`` of 0 means one fit, no search (so a
pipeline parameter, which is never null, can ask for either); so does an ``anomaly_feature``
of ``none`` or "" (no anomaly feature). ``options: {problem_type:
anomaly}`` trains an anomaly model, ``target`` then optional."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepKind

_NAMED = {
    "split": "str", "time_column": "str", "group_column": "str", "exclude": "json",
    "family": "str", "params": "json", "time_budget": "float", "families": "json",
    "metric": "str", "seed": "int", "calibration": "str", "slice_by": "json", "facet": "str",
    "facet_values": "json", "positive": "json", "anomaly_feature": "str",
    "target_transform": "str",
}  # fmt: skip
"""The options a step names directly (the others go in ``options``), with their types."""


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.train import train

    options = {k: args[k] for k in _NAMED if args.get(k) is not None}
    if options.get("time_budget") == 0:  # as `shipyard demo --time-budget 0`: one fit
        del options["time_budget"]
    if options.get("anomaly_feature") in ("", "none"):  # a parameter's way to say "off"
        del options["anomaly_feature"]
    options.update(args.get("options") or {})
    if args.get("model_name"):
        options["model_name"] = args["model_name"]
    result = train(ctx.project, args["dataset"], args.get("target"), progress=ctx.log, **options)
    version = result.model_version
    test = result.metrics.get("test", {})
    ctx.log(f"registered {version.ref} from run {result.run.id[:12]}; test {test}")
    return {"model": version.ref, "metrics": result.metrics, "run": result.run.id}


KIND = StepKind(
    name="train",
    version="1",
    args={
        "dataset": Arg("dataset", doc="The training table."),
        "target": Arg(
            "str",
            required=False,
            doc="The column to predict (optional for problem_type: anomaly, in options).",
        ),
        "model_name": Arg("str", required=False, doc="Register as (default: the dataset name)."),
        **{k: Arg(t, required=False) for k, t in _NAMED.items()},
        "options": Arg("json", required=False, doc="Any other option of train()."),
    },
    outputs={"model": "model", "metrics": "json", "run": "str"},
    run=run,
    doc="Train, evaluate and register a model version.",
)
