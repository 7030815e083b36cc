"""``monitor``: make sure a monitor watches a model (:func:`shipyard.monitor.create_monitor`
when none has that name; an existing one is kept as it is), and with ``run`` check its
windows (:func:`shipyard.monitor.run_monitor`). Outputs the violations found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shipyard.errors import InvalidInput, NotFound
from shipyard.pipelines._kinds import Arg, StepContext, StepKind

_CREATE = ("kinds", "schedule", "window", "labels", "label", "label_key", "webhook",
           "webhook_secret_env", "on_violation")  # fmt: skip


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.monitor import create_monitor, run_monitor

    name = args["name"]
    try:
        monitor = ctx.project.catalog.get_monitor(name)
        ctx.log(f"monitor {name} watches {monitor.model} already")
    except NotFound:
        options = {k: args[k] for k in _CREATE if args.get(k) is not None}
        monitor = create_monitor(ctx.project, name, model=args["model"], **options)
        ctx.log(f"created monitor {name} of {monitor.model}: {', '.join(monitor.kinds)}")
    violations = 0
    if args.get("run"):
        result = run_monitor(
            ctx.project, name, since=_when(args.get("since")), until=_when(args.get("until")),
            progress=ctx.log,
        )  # fmt: skip
        violations = result.violations
        ctx.log(f"{len(result.windows)} window(s) checked, {violations} violation(s)")
    return {"monitor": name, "violations": violations}


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"'since'/'until' are ISO 8601 times with a zone. Got {text!r}."
        ) from None


KIND = StepKind(
    name="monitor",
    version="1",
    args={
        "name": Arg("str", doc="The monitor's name."),
        "model": Arg("str", doc="What it watches, e.g. fraud@prod."),
        "kinds": Arg("json", required=False),
        "schedule": Arg("str", required=False),
        "window": Arg("str", required=False),
        "labels": Arg("str", required=False),
        "label": Arg("str", required=False),
        "label_key": Arg("json", required=False),
        "webhook": Arg("str", required=False),
        "webhook_secret_env": Arg("str", required=False),
        "on_violation": Arg("str", required=False),
        "run": Arg("bool", required=False, default=False, doc="Also check its windows."),
        "since": Arg("str", required=False),
        "until": Arg("str", required=False),
    },
    outputs={"monitor": "str", "violations": "int"},
    run=run,
    cache=False,
    doc="Make sure a monitor watches a model, and run it.",
)
