"""``register``: make a trained version the candidate of an environment's line: it must be
ready (published with its evaluation), ``name@<environment>`` (default ``dev``) points at it,
audited, through :func:`shipyard.registry.promote`, and (with ``baseline``, the default) it
carries a monitoring baseline, which the later environments' gates ask for. Training
registers the version itself; this step is where a pipeline hands it on, after its gate."""

from __future__ import annotations

from typing import Any

from shipyard.errors import NotFound
from shipyard.pipelines._kinds import Arg, StepContext, StepKind


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.monitor import create_baseline, load_baseline
    from shipyard.registry import promote, resolve_model

    version = resolve_model(ctx.project, args["model"])
    environment = args.get("environment") or "dev"
    promote(ctx.project, version.ref, environment)
    ctx.log(f"{version.ref} registered as {version.name}@{environment}")
    if args.get("baseline", True):
        try:
            load_baseline(ctx.project, version.ref)
        except NotFound:
            create_baseline(ctx.project, version.ref)
            ctx.log(f"monitoring baseline of {version.ref} made from its training data")
    return {"model": version.ref}


KIND = StepKind(
    name="register",
    version="2",
    args={
        "model": Arg("model"),
        "environment": Arg("str", required=False, default="dev"),
        "baseline": Arg("bool", required=False, default=True, doc="Attach a baseline."),
    },
    outputs={"model": "model"},
    run=run,
    cache=False,
    doc="Hand a trained version on as an environment's candidate, with a baseline.",
)
