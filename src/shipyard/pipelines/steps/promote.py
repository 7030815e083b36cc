"""``promote``: point ``name@<environment>`` at a version through the environment's gates
(:func:`shipyard.registry.promote`). A failed gate stops the run with each gate's evidence;
``force`` with a ``reason`` overrides them, audited. Not cached by default: the alias is the
world's state, and moving it again is cheap."""

from __future__ import annotations

from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepFailed, StepKind


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.registry import PromotionRefused, promote

    env = args["environment"]
    try:
        result = promote(
            ctx.project,
            args["model"],
            env,
            force=bool(args.get("force")),
            reason=args.get("reason"),
        )
    except PromotionRefused as exc:
        for gate in exc.gates:
            ctx.log(f"gate {gate.gate}: {'pass' if gate.passed else 'FAIL'} - {gate.summary}")
        raise StepFailed(f"Promotion to {env} refused at step '{ctx.step}': {exc}") from None
    for gate in result.gates:
        ctx.log(f"gate {gate.gate}: {'pass' if gate.passed else 'FAIL'} - {gate.summary}")
    version = result.version
    ctx.log(f"{version.name}@{env} -> {version.ref} ({result.outcome})")
    return {"model": version.ref}


KIND = StepKind(
    name="promote",
    version="2",
    args={
        "model": Arg("model", doc="The version to promote."),
        "environment": Arg("str", doc="dev, staging or prod."),
        "force": Arg("bool", required=False, default=False, doc="Override failed gates."),
        "reason": Arg("str", required=False, default=None, doc="Why, with force (audited)."),
    },
    outputs={"model": "model"},
    run=run,
    cache=False,
    doc="Promote a version into an environment through its gates.",
)
