"""``promote``: point ``name@<environment>`` at a version (:func:`shipyard.registry.promote`).
Not cached by default: the alias is the world's state, and moving it again is cheap."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepKind


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.registry import promote

    moved = promote(ctx.project, args["model"], args["environment"])
    ctx.log(f"{moved.name}@{args['environment']} -> {moved.ref}")
    return {"model": moved.ref}


KIND = StepKind(
    name="promote",
    version="1",
    args={
        "model": Arg("model", doc="The version to promote."),
        "environment": Arg("str", doc="dev, staging or prod."),
    },
    outputs={"model": "model"},
    run=run,
    cache=False,
    doc="Point an environment's alias at a version.",
)
