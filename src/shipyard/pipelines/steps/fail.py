"""``fail``: stop the run with a message (usually guarded by ``when:``). ``{name}`` in the
message is replaced by the input ``values``' entry of that name."""

from __future__ import annotations

import contextlib
from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepFailed, StepKind


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    message = str(args["message"])
    # A message whose {name} has no value stays as written: a stop never fails on wording.
    with contextlib.suppress(KeyError, IndexError, ValueError):
        message = message.format(**(args.get("values") or {}))
    raise StepFailed(f"Stopped by step '{ctx.step}': {message}")


KIND = StepKind(
    name="fail",
    version="1",
    args={
        "message": Arg("str", doc="Why the run stops."),
        "values": Arg("json", required=False, doc="Values for {name} in the message."),
    },
    outputs={},
    run=run,
    cache=False,
    doc="Stop the run with a message.",
)
