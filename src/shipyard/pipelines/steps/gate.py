"""``gate``: does the candidate beat the champion? On one metric of two ``evaluate`` results,
by at least ``margin`` (in the metric's better direction); with no champion the candidate
passes. The evidence (both values, the margin, the verdict) is an output. A refused
candidate stops the run when ``stop_on_fail``; otherwise branch on ``passed`` with ``when:``.

This is the champion gate of promotion. The registry's own promotion gates (bias limits,
baseline, approval) are applied by the ``promote`` step through
:func:`shipyard.registry.promote`.
"""

from __future__ import annotations

from typing import Any

from shipyard.errors import InvalidInput
from shipyard.pipelines._kinds import Arg, StepContext, StepFailed, StepKind


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    from shipyard.evaluation import HIGHER_IS_BETTER

    metric, margin = args.get("metric") or "pr_auc", float(args.get("margin") or 0.0)
    candidate, champion = args["candidate"] or {}, args.get("champion")
    if metric not in candidate:
        raise InvalidInput(
            f"The candidate's evaluation has no {metric!r}; it has {', '.join(candidate)}."
        )
    higher = HIGHER_IS_BETTER.get(metric, True)
    evidence: dict[str, Any] = {
        "metric": metric, "margin": margin, "higher_is_better": higher,
        "candidate": candidate.get("model"), "candidate_value": candidate[metric],
        "champion": None, "champion_value": None,
    }  # fmt: skip
    if not champion or champion.get(metric) is None:
        passed, why = True, "no champion to beat"
    else:
        evidence.update(champion=champion.get("model"), champion_value=champion[metric])
        delta = candidate[metric] - champion[metric]
        passed = delta >= margin if higher else -delta >= margin
        evidence["difference"] = delta
        why = (
            f"{metric} {candidate[metric]:.4f} vs {champion[metric]:.4f} "
            f"({'+' if delta >= 0 else ''}{delta:.4f}; needs {'+' if higher else '-'}{margin:g})"
        )
    evidence.update(passed=passed, reason=why)
    ctx.log(f"{'passed' if passed else 'refused'}: {why}")
    if not passed and args.get("stop_on_fail"):
        raise StepFailed(
            f"The candidate {candidate.get('model')} does not beat the champion: {why}"
        )
    return {"passed": passed, "evidence": evidence}


KIND = StepKind(
    name="gate",
    version="1",
    args={
        "candidate": Arg("json", doc="The candidate's metrics (evaluate.candidate)."),
        "champion": Arg("json", required=False, doc="The champion's (evaluate.champion)."),
        "metric": Arg("str", required=False, default="pr_auc"),
        "margin": Arg("float", required=False, default=0.0),
        "stop_on_fail": Arg("bool", required=False, default=False),
    },
    outputs={"passed": "bool", "evidence": "json"},
    run=run,
    doc="Does the candidate beat the champion by a margin?",
)
