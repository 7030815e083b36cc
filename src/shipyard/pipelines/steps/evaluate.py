"""``evaluate``: a candidate model, and the champion when there is one, scored on the same
labelled dataset (the held-out or the recent labelled window), each at its own threshold,
with :func:`shipyard.evaluation.evaluate`'s metrics. The champion is a ref such as
``fraud@prod``; when it does not resolve yet (a first deployment) its metrics are null."""

from __future__ import annotations

from typing import Any

from shipyard.errors import InvalidInput, NotFound, require_columns
from shipyard.pipelines._kinds import Arg, StepContext, StepKind


def score(ctx: StepContext, model_ref: str, frame: Any, label: str | None) -> dict[str, Any]:
    """The metrics of ``model_ref`` on ``frame`` (its label column: ``label`` or the model's
    target)."""
    from shipyard.evaluation import evaluate
    from shipyard.registry import load_model

    loaded = load_model(ctx.project, model_ref)
    model = loaded.model
    target = label or model.problem.target
    require_columns([target], list(frame.columns), role="label")
    labelled = frame[frame[target].notna()]
    if labelled.empty:
        raise InvalidInput(f"The label column {target!r} has no value to evaluate against.")
    scores = model.predict_frame(labelled.drop(columns=[target])).scores
    y = model.problem.encode(labelled[target])
    metrics = evaluate(model.problem.type, y, scores, threshold=model.threshold)
    return {"model": loaded.version.ref, **metrics}


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.pipelines._handles import Dataset

    frame = Dataset(args["dataset"], ctx.project).to_pandas()
    candidate = score(ctx, args["model"], frame, args.get("label"))
    ctx.log(f"candidate {candidate['model']} on {args['dataset']}: {_short(candidate)}")
    champion = None
    if args.get("champion"):
        from shipyard.registry import resolve_model

        try:
            same = resolve_model(ctx.project, args["champion"]).ref == candidate["model"]
            champion = dict(candidate) if same else score(ctx, args["champion"], frame,
                                                          args.get("label"))  # fmt: skip
        except NotFound as exc:
            ctx.log(f"no champion ({exc.message}); the candidate is the first")
        else:
            ctx.log(f"champion {champion['model']}: {_short(champion)}")
    return {"candidate": candidate, "champion": champion}


def _short(metrics: dict[str, Any]) -> str:
    keys = ("roc_auc", "pr_auc", "log_loss", "rmse", "accuracy", "rows")
    return ", ".join(f"{k} {metrics[k]:.4g}" for k in keys if k in metrics)


KIND = StepKind(
    name="evaluate",
    version="1",
    args={
        "model": Arg("model", doc="The candidate."),
        "dataset": Arg("dataset", doc="Labelled rows both are scored on."),
        "label": Arg("str", required=False, doc="The label column (default: the target)."),
        "champion": Arg("model", required=False, doc="The model to beat, e.g. fraud@prod."),
    },
    outputs={"candidate": "json", "champion": "json"},
    run=run,
    doc="Score a candidate (and the champion) on the same labelled data.",
)
