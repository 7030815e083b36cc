"""The champion gate: the candidate must beat the version the environment serves now.

Both models score the candidate's held-out rows (the test rows its training never saw); the
improvement in the metric (oriented: positive is better) gets a paired bootstrap 95% interval,
and the gate passes when that interval's lower end is above the margin. A margin of 0 asks
that the candidate be better beyond chance; a negative margin accepts a candidate no worse than
the champion by more than it (non-inferiority); a positive one asks for a gain of at least it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.entities import GateResult, ModelVersion
from shipyard.environments import ChampionGate, GatePlan
from shipyard.errors import InvalidInput, NotFound
from shipyard.registry._gate_context import GateContext
from shipyard.registry._held_out import held_out_positions
from shipyard.registry.registry import LoadedModel, load_version

__all__ = ["champion_gate"]


def champion_gate(context: GateContext, plan: GatePlan) -> GateResult:
    """Beat ``name@environment`` on the candidate's held-out rows by the configured margin,
    the paired bootstrap interval agreeing (its lower end above the margin)."""
    config = plan.champion or ChampionGate()
    candidate = context.candidate
    try:
        champion = context.target.catalog.resolve_alias(candidate.name, context.environment)
    except NotFound:
        return GateResult(
            "champion",
            True,
            f"no champion: {candidate.name}@{context.environment} is not set yet",
            {"champion": None},
        )
    if champion.version == candidate.version:
        return GateResult(
            "champion",
            True,
            f"{candidate.ref} is the champion already",
            {"champion": champion.ref},
        )
    try:
        evidence = _compare(context, champion, config)
    except (NotFound, InvalidInput) as exc:
        return GateResult(
            "champion",
            False,
            f"cannot compare with {champion.ref}: {exc.message}",
            {"champion": champion.ref, "error": exc.message},
        )
    ci = evidence["ci95"]
    passed = ci is not None and ci[0] > config.margin
    metric = evidence["metric"]
    interval = "undefined" if ci is None else f"[{ci[0]:+.4f}, {ci[1]:+.4f}]"
    summary = (
        f"{metric} {_num(evidence['candidate'])} vs {champion.ref} {_num(evidence['champion'])}:"
        f" improvement {_num(evidence['improvement'], '+')}, 95% CI {interval}; "
        f"needs lower end > {config.margin:g}"
    )
    return GateResult("champion", passed, summary, evidence)


def _compare(context: GateContext, champion: ModelVersion, config: ChampionGate) -> dict[str, Any]:
    from shipyard.evaluation import paired_difference

    mine = context.loaded.model
    theirs = load_version(context.target, champion)
    problem = _judged(mine, context.candidate.ref)
    _check_same_problem(context.candidate, problem, champion, _judged(theirs.model, champion.ref))
    frame = context.held_out
    # An anomaly model's held-out rows may lack the label it is judged on.
    labelled = frame[problem.target].notna().to_numpy()
    frame = frame[labelled]
    y = problem.encode(frame[problem.target])
    candidate = context.scores[labelled]
    try:
        champion_scores = np.asarray(theirs.model.predict_frame(frame).scores)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{champion.ref} cannot score the candidate's held-out rows: {exc.message}"
        ) from exc
    if mine.problem.type == "multiclass":  # the champion's columns in the candidate's order
        order = [list(theirs.model.problem.classes).index(c) for c in mine.problem.classes]
        champion_scores = champion_scores[:, order]
    metric = config.metric or mine.problem.default_metric
    result = paired_difference(
        problem.type,
        y,
        candidate,
        champion_scores,
        metric=metric,
        thresholds=(float(mine.threshold), float(theirs.model.threshold)),
        resamples=config.resamples,
        seed=config.seed,
    )
    result.update(
        champion_ref=champion.ref,
        margin=config.margin,
        rule="lower end of the paired 95% interval of the improvement > margin",
        dataset=context.candidate.lineage.get("held_out", {}).get("dataset"),
        champion_saw_rows=_champion_saw(context, champion, theirs),
    )
    return result


def _judged(model: Any, ref: str) -> Any:
    """The problem a model is judged on: its own, or an anomaly model's label (its positive
    class is the anomaly), so an anomaly model meets a champion trained on that label too."""
    if model.problem.type != "anomaly":
        return model.problem
    label = getattr(model, "label", None)
    if label is None:
        raise InvalidInput(
            f"{ref} is an anomaly model trained without a label, so no metric can judge it "
            "against another model; train it with --target LABEL, or turn the champion gate "
            "off for this environment"
        )
    return label


def _check_same_problem(
    candidate: ModelVersion, problem: Any, champion: ModelVersion, other: Any
) -> None:
    same = (
        other.type == problem.type
        and other.target == problem.target
        and set(other.classes) == set(problem.classes)
        and other.positive == problem.positive
    )
    if not same:
        raise InvalidInput(
            f"{champion.ref} solves another problem ({other.type} on '{other.target}', "
            f"classes {list(other.classes)}) than {candidate.ref} ({problem.type} on "
            f"'{problem.target}', classes {list(problem.classes)}); they cannot be compared"
        )


def _champion_saw(context: GateContext, champion: ModelVersion, theirs: LoadedModel) -> int | None:
    """How many of the candidate's held-out rows the champion was trained (or validated) on:
    those favour the champion. None when that cannot be told (another dataset, or a champion
    that records no held-out rows)."""
    mine = context.candidate.lineage.get("held_out", {})
    if champion.lineage.get("held_out", {}).get("dataset") != mine.get("dataset"):
        return None
    theirs_rows = held_out_positions(champion, theirs.path)
    if theirs_rows is None:
        return None
    rows = held_out_positions(context.candidate, context.loaded.path)
    if rows is None:
        return None
    return int(np.count_nonzero(~np.isin(rows, theirs_rows)))


def _num(value: float | None, sign: str = "") -> str:
    return "undefined" if value is None else f"{value:{sign}.4f}"
