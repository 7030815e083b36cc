"""What a process serving an endpoint asks of the deploy room: the traffic plan of the
current revision (aliases resolved now), each version's baseline scores for the PSI, and the
next step of a baking roll-out, written back to the catalog."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shipyard.deploy._guardrails import CanaryStats, next_step, traffic
from shipyard.deploy.endpoints import Lane
from shipyard.entities import Actor, Endpoint
from shipyard.environments import environment_project
from shipyard.errors import Conflict, NotFound
from shipyard.project import Project
from shipyard.registry import resolve_model

__all__ = ["TrafficPlan", "advance_rollout", "plan_traffic", "score_baseline"]

log = logging.getLogger("shipyard.deploy")


@dataclass(frozen=True)
class TrafficPlan:
    """What an endpoint's current revision serves, every reference resolved to a version:
    the lanes (shares summing to 100), the shadow (its share: the percentage of requests
    mirrored), the capture percentage, the sticky key, and the roll-out baking, if any.
    Two plans are equal exactly when a server would serve them alike."""

    env: str
    name: str
    revision: int
    lanes: tuple[Lane, ...]
    shadow: Lane | None
    capture: float
    sticky_key: str | None
    rollout: int | None

    @property
    def versions(self) -> frozenset[str]:
        """Every model version the plan needs loaded."""
        found = {lane.version for lane in self.lanes}
        if self.shadow is not None:
            found.add(self.shadow.version)
        return frozenset(v for v in found if v is not None)


def plan_traffic(project: Project, name: str, *, env: str) -> tuple[Endpoint, TrafficPlan]:
    """The current revision of endpoint ``name`` of ``env`` and its plan.

    Raises:
        NotFound: No such endpoint, or a variant's alias or version no longer resolves.
        InvalidInput: ``env`` is not an environment.
    """
    home = environment_project(project, env)
    endpoint = home.catalog.get_endpoint(env, name)
    resolved: dict[str, str] = {}

    def lane(arm: str, variant: dict, share: float) -> Lane:
        model = variant["model"]
        if model not in resolved:
            try:
                resolved[model] = resolve_model(home, model).ref
            except NotFound as exc:
                raise NotFound(
                    f"Endpoint {endpoint.ref} revision {endpoint.revision}: its {arm} variant "
                    f"{model} no longer resolves ({exc.message})",
                    details={"endpoint": endpoint.ref, "variant": model},
                ) from None
        return Lane(arm, variant["name"], model, resolved[model], share)

    config = endpoint.config
    lanes = tuple(lane(*each) for each in traffic(config, endpoint.state))
    shadow = config.get("shadow")
    plan = TrafficPlan(
        env=env,
        name=name,
        revision=endpoint.revision,
        lanes=lanes,
        shadow=lane("shadow", shadow, float(shadow["percent"])) if shadow else None,
        capture=float(config.get("capture") or 0.0),
        sticky_key=config.get("sticky_key"),
        rollout=endpoint.state.get("rollout") if endpoint.state.get("phase") == "baking" else None,
    )
    return endpoint, plan


def advance_rollout(
    project: Project,
    endpoint: Endpoint,
    stats: CanaryStats,
    now: datetime,
    *,
    actor: Actor | None = None,
) -> Endpoint | None:
    """Write the next step of ``endpoint``'s baking roll-out (see
    :func:`~shipyard.deploy._guardrails.next_step`) as a new revision, audited as
    ``endpoint.guardrail`` or ``endpoint.auto-rollback``; None when there is no step yet, or
    when the endpoint changed meanwhile (the caller reads it again on its next poll).
    ``actor`` (default: the project's) is who the audit trail records.

    Raises:
        BackendUnavailable: The catalog cannot be reached.
    """
    step = next_step(endpoint, stats, now)
    if step is None:
        return None
    home = environment_project(project, endpoint.env)
    try:
        return home.catalog.revise_endpoint(
            endpoint.env,
            endpoint.name,
            config=step.config,
            state=step.state,
            action=step.action,
            restores=step.restores,
            expected_revision=endpoint.revision,
            actor=actor or project.actor,
            details=step.details,
        )
    except Conflict:
        log.info("Endpoint %s changed while its roll-out moved on; reading it again.", endpoint.ref)
        return None


def score_baseline(
    project: Project, env: str, version: str
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The score histogram (edges, counts) of ``version``'s monitoring baseline in ``env``,
    for the canary's PSI; None when the version has no baseline.

    Raises:
        NotFound: No such version.
    """
    from shipyard.monitor import load_baseline

    home = environment_project(project, env)
    try:
        payload = load_baseline(home, version).payload
    except NotFound:
        resolve_model(home, version)  # an unknown version still raises
        return None
    histogram = (payload.get("prediction") or {}).get("histogram") or {}
    edges, counts = histogram.get("edges"), histogram.get("counts")
    if not edges or not counts or len(edges) != len(counts) + 1:
        return None
    return tuple(float(e) for e in edges), tuple(float(c) for c in counts)
