"""The DAG in a terminal: one band per layer (steps that can run at once), each step with its
kind and the steps it reads from, its condition and its cache setting."""

from __future__ import annotations

from shipyard.pipelines._validate import Plan

__all__ = ["draw_graph"]


def draw_graph(plan: Plan) -> list[str]:
    """The lines that draw ``plan``, top (first to run) to bottom.

    >>> # ingest -> (check, profile) -> train
    >>> # ┌ 1  ingest [ingest]
    >>> # ├ 2  check [check] <- ingest
    >>> # │    profile [profile] <- ingest
    >>> # └ 3  train [train] <- check, profile
    """
    lines = [f"{plan.name}: {len(plan.steps)} steps in {len(plan.layers)} layers"]
    width = max((len(n) for n in plan.steps), default=0)
    for i, layer in enumerate(plan.layers):
        last = i == len(plan.layers) - 1
        for j, name in enumerate(layer):
            sp = plan.steps[name]
            if j == 0:
                corner = "┌" if i == 0 else ("└" if last else "├")
                head = f"{corner} {i + 1:<3}"
            else:
                head = f"{' ' if last else '│'}    "
            kind = sp.spec.kind or sp.kind.name.rsplit(":", 1)[-1] + "()"
            text = f"{head}{name:<{width}}  [{kind}]"
            if sp.deps:
                text += f" <- {', '.join(sp.deps)}"
            if sp.spec.when:
                text += f"  when {sp.spec.when}"
            if not sp.cache:
                text += "  (not cached)"
            lines.append(text)
        if not last:
            lines.append("│")
    return lines
