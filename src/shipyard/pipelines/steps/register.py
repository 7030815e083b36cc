"""``register``: make a trained version the candidate of an environment's line: it must be
ready (published with its evaluation), and ``name@<environment>`` (default ``dev``) points
at it, audited, through :func:`shipyard.registry.promote`. Training registers the version
itself; this step is where a pipeline hands it on, after its gate."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepKind


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.registry import promote, resolve_model

    version = resolve_model(ctx.project, args["model"])
    environment = args.get("environment") or "dev"
    promote(ctx.project, version.ref, environment)
    ctx.log(f"{version.ref} registered as {version.name}@{environment}")
    return {"model": version.ref}


KIND = StepKind(
    name="register",
    version="1",
    args={
        "model": Arg("model"),
        "environment": Arg("str", required=False, default="dev"),
    },
    outputs={"model": "model"},
    run=run,
    cache=False,
    doc="Hand a trained version on as an environment's candidate.",
)
