"""``approve-wait``: wait until a model version is approved (SageMaker's callback step): poll
its approval status every ``poll`` seconds; ``Rejected`` stops the run, and so does
``timeout`` (resume the run once someone decided).

The status is the registry's (``shipyard models approve|reject``).
"""

from __future__ import annotations

import time
from typing import Any

from shipyard.pipelines._kinds import Arg, StepContext, StepFailed, StepKind
from shipyard.project import Project

APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"


def approval_status(project: Project, ref: str) -> str:
    """The approval status of the version ``ref`` names, from the registry."""
    from shipyard.registry import resolve_model

    return resolve_model(project, ref).approval


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    ref, wanted = args["model"], args.get("status") or APPROVED
    timeout, poll = float(args.get("timeout") or 3600.0), float(args.get("poll") or 10.0)
    deadline = time.monotonic() + timeout
    ctx.log(f"waiting up to {timeout:g} s for {ref} to be {wanted}")
    while True:
        status = approval_status(ctx.project, ref)
        if status == wanted:
            ctx.log(f"{ref} is {status}")
            return {"status": status}
        if status == REJECTED:
            raise StepFailed(f"{ref} was rejected; the run stops at step '{ctx.step}'.")
        if time.monotonic() >= deadline:
            raise StepFailed(
                f"{ref} was not {wanted} within {timeout:g} s (it is {status}). Resume the run "
                "once it is decided: `shipyard pipelines resume RUN`."
            )
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


KIND = StepKind(
    name="approve-wait",
    version="1",
    args={
        "model": Arg("model"),
        "status": Arg("str", required=False, default=APPROVED),
        "timeout": Arg("float", required=False, default=3600.0, doc="Seconds to wait at most."),
        "poll": Arg("float", required=False, default=10.0, doc="Seconds between looks."),
    },
    outputs={"status": "str"},
    run=run,
    cache=False,
    doc="Wait for a model version's approval.",
)
