"""Endpoints: named, revisioned traffic configurations of an environment.

An endpoint of environment ``env`` lives in that environment's catalog
(:func:`~shipyard.environments.environment_project`) and holds:

* live **variants**, each a model version (``fraud:3``) or an alias it follows
  (``fraud@prod``: a promotion that moves the alias changes what the endpoint serves) with a
  whole-number weight, the weights summing to 100;
* an optional **shadow** variant, scored on a copy of (a share of) the requests and
  captured, never answered with;
* the **capture** percentage, an optional **sticky key** (the request field whose value
  keeps one caller on one variant), the **rollback limits** that judge a canary, and the
  **guardrail** its latest change was rolled out with (see :mod:`._guardrails`).

Every change adds a revision; none is edited or lost, so :func:`rollback_endpoint` can
restore the configuration that came before. ``shipyard serve --endpoint NAME`` follows the
current revision (and the aliases) without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.catalog.paging import Page, PageQuery
from shipyard.deploy._endpoint_spec import (
    check_endpoint_name,
    check_sticky_key,
    parse_capture,
    parse_guardrail,
    parse_rollback_on,
    parse_shadow,
    parse_variants,
)
from shipyard.deploy._guardrails import SETTERS, rollout_state, traffic
from shipyard.entities import Endpoint, ModelVersion
from shipyard.environments import environment_project
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.project import Project
from shipyard.registry import resolve_model
from shipyard.types import ENVIRONMENTS, JSON

__all__ = [
    "KEEP",
    "EndpointStatus",
    "Lane",
    "create_endpoint",
    "delete_endpoint",
    "endpoints_page",
    "list_endpoints",
    "rollback_endpoint",
    "show_endpoint",
    "update_endpoint",
]


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()
"""For :func:`update_endpoint`: leave this part of the configuration as it is."""


@dataclass(frozen=True)
class Lane:
    """One variant's place in the traffic: its ``arm`` (``live``; ``canary`` or
    ``baseline`` while a change bakes; ``shadow``), its name, the model reference it was
    given, the version that reference resolves to now (None, with ``problem``, when it no
    longer resolves), and its ``share`` of the requests in percent."""

    arm: str
    variant: str
    model: str
    version: str | None
    share: float
    problem: str | None = None


@dataclass(frozen=True)
class EndpointStatus:
    """An endpoint's current revision, its traffic now, and every revision before."""

    endpoint: Endpoint
    lanes: tuple[Lane, ...]
    shadow: Lane | None
    history: tuple[Endpoint, ...]


def create_endpoint(
    project: Project,
    name: str,
    *,
    env: str,
    variants: Sequence[str] | Mapping[str, int],
    shadow: str | None = None,
    capture: float | str = 0.0,
    sticky_key: str | None = None,
    rollback_on: str | Mapping[str, Any] | None = None,
) -> Endpoint:
    """Create endpoint ``name`` in ``env`` serving ``variants`` (``["fraud:3=90",
    "fraud:4=10"]``), optionally with a ``shadow`` (``"fraud:5"``, or ``"fraud:5=20"`` to
    mirror 20 % of the requests), a ``capture`` percentage (``20`` or ``"20%"``), a
    ``sticky_key`` and ``rollback_on`` limits for later canaries.

    Raises:
        InvalidInput: A bad name, environment, reference, weight, percentage or limit;
            weights that do not sum to 100; a shadow that is also a live variant; variants
            whose inputs differ.
        NotFound: A variant's model, version or alias does not exist in ``env``.
        AlreadyExists: ``env`` has an endpoint with that name.
    """
    check_endpoint_name(name)
    home = environment_project(project, env)
    config: JSON = {
        "variants": parse_variants(variants),
        "shadow": parse_shadow(shadow) if shadow is not None else None,
        "capture": parse_capture(capture),
        "sticky_key": check_sticky_key(sticky_key),
        "guardrail": None,
        "rollback_on": parse_rollback_on(rollback_on) if rollback_on is not None else {},
    }
    _check_models(home, config, baseline=None)
    return home.catalog.create_endpoint(
        env, name, config=config, state={"phase": "live"}, actor=project.actor
    )


def update_endpoint(
    project: Project,
    name: str,
    *,
    env: str,
    variants: Sequence[str] | Mapping[str, int] | None = None,
    shadow: str | None = KEEP,
    capture: float | str | None = None,
    sticky_key: str | None = KEEP,
    rollback_on: str | Mapping[str, Any] | None = None,
    canary: float | str | None = None,
    bake: float | str | None = None,
    linear: str | None = None,
) -> Endpoint:
    """Change endpoint ``name`` of ``env``: what is given replaces what it had (``shadow``
    or ``sticky_key`` None removes it; :data:`KEEP`, the default, keeps it).

    A change of variants rolls out at once, or with a guardrail: ``canary="10%"`` (with
    ``bake="5m"``, the default) or ``linear="10%/1m"``; a serving process moves it along
    and rolls it back when the canary crosses the ``rollback_on`` limits.

    Raises:
        InvalidInput: Nothing to change, the configuration would stay the same, or any
            reason :func:`create_endpoint` gives.
        NotFound: No such endpoint, or a variant's model does not exist in ``env``.
        Conflict: The endpoint changed while this change was made; nothing was written.
    """
    check_endpoint_name(name)
    home = environment_project(project, env)
    guardrail = parse_guardrail(canary, bake, linear)
    given = {
        "variants": parse_variants(variants) if variants is not None else KEEP,
        "shadow": KEEP if shadow is KEEP else (parse_shadow(shadow) if shadow else None),
        "capture": parse_capture(capture) if capture is not None else KEEP,
        "sticky_key": KEEP if sticky_key is KEEP else check_sticky_key(sticky_key or None),
        "rollback_on": parse_rollback_on(rollback_on) if rollback_on is not None else KEEP,
    }
    changes = {k: v for k, v in given.items() if v is not KEEP}
    if not changes:
        raise InvalidInput(
            "Nothing to change: give --variant, --shadow/--no-shadow, --capture, "
            "--sticky-key/--no-sticky-key or --rollback-on.",
        )
    history = home.catalog.endpoint_history(env, name)
    current = history[-1]
    config = {**current.config, **changes, "guardrail": guardrail}
    if {**config, "guardrail": None} == {**current.config, "guardrail": None}:
        raise InvalidInput(
            f"Endpoint {current.ref} has that configuration already (revision "
            f"{current.revision}). Nothing was written.",
        )
    if guardrail is not None and "variants" not in changes:
        raise InvalidInput(
            "A guardrail rolls out new variants; this change keeps the variants. Drop "
            "--canary/--linear, or give the new --variant(s)."
        )
    now = datetime.now(UTC)
    state = rollout_state(current, _origin(history, current.revision), config, now)
    baseline = state.get("baseline", {}).get("config")
    _check_models(home, config, baseline=baseline)
    return home.catalog.revise_endpoint(
        env,
        name,
        config=config,
        state=state,
        action="update",
        expected_revision=current.revision,
        actor=project.actor,
        details={"changed": sorted(changes), "guardrail": guardrail},
    )


def rollback_endpoint(project: Project, name: str, *, env: str) -> Endpoint:
    """Restore the configuration endpoint ``name`` had before its current one, live at once
    (a roll-out baking is abandoned). Rolling back again goes one configuration further
    back, as an undo would.

    Raises:
        NotFound: No such endpoint.
        Conflict: It has no earlier configuration, or it changed meanwhile.
    """
    check_endpoint_name(name)
    home = environment_project(project, env)
    history = home.catalog.endpoint_history(env, name)
    current = history[-1]
    start = _origin(history, current.revision)
    earlier = [r for r in history if r.revision < start and r.action in SETTERS]
    if not earlier:
        raise Conflict(
            f"Endpoint {current.ref} has no earlier configuration to roll back to: revision "
            f"{start} set the one it has, and nothing came before it.",
            details={"endpoint": current.ref, "revision": current.revision},
        )
    target = earlier[-1]
    restores = target.restores if target.restores is not None else target.revision
    return home.catalog.revise_endpoint(
        env,
        name,
        config={**target.config, "guardrail": None},
        state={"phase": "live"},
        action="rollback",
        restores=restores,
        expected_revision=current.revision,
        actor=project.actor,
    )


def show_endpoint(project: Project, name: str, *, env: str) -> EndpointStatus:
    """Endpoint ``name`` of ``env``: its revision, where its roll-out is, which version each
    variant serves now, and its history.

    Raises:
        NotFound: No such endpoint.
    """
    check_endpoint_name(name)
    home = environment_project(project, env)
    history = home.catalog.endpoint_history(env, name)
    current = history[-1]
    lanes = tuple(
        _lane(home, arm, variant, share)
        for arm, variant, share in traffic(current.config, current.state)
    )
    shadow = current.config.get("shadow")
    shadow_lane = _lane(home, "shadow", shadow, shadow["percent"]) if shadow else None
    return EndpointStatus(current, lanes, shadow_lane, tuple(history))


def list_endpoints(project: Project, *, env: str | None = None) -> list[Endpoint]:
    """The current revision of every endpoint of ``env`` (of every environment when None).

    Raises:
        InvalidInput: ``env`` is not an environment.
    """
    envs = ENVIRONMENTS if env is None else (env,)
    out: list[Endpoint] = []
    for each in envs:
        out += environment_project(project, each).catalog.list_endpoints(each)
    return out


def endpoints_page(project: Project, env: str, query: PageQuery) -> Page[Endpoint]:
    """One page of ``env``'s endpoints at their current revision, by name (listing
    ``endpoints`` of :data:`~shipyard.catalog.paging.LISTINGS`), read from the catalog that
    environment keeps them in.

    Raises:
        InvalidInput: ``env`` is not an environment, or a bad sort, filter or cursor.
    """
    if env not in ENVIRONMENTS:
        raise InvalidInput(
            f"An environment is one of {', '.join(ENVIRONMENTS)}. Got {env!r} instead."
        )
    scoped = PageQuery(
        query.sort, query.descending, query.limit, query.cursor, {**query.filters, "env": env}
    )
    return environment_project(project, env).catalog.page_endpoints(scoped)


def delete_endpoint(project: Project, name: str, *, env: str) -> Endpoint:
    """Delete endpoint ``name`` of ``env`` and its history (the audit trail keeps what it
    was); returns its last revision. A server serving it keeps its last configuration.

    Raises:
        NotFound: No such endpoint.
    """
    check_endpoint_name(name)
    home = environment_project(project, env)
    return home.catalog.delete_endpoint(env, name, actor=project.actor)


def _origin(history: Sequence[Endpoint], revision: int) -> int:
    """The revision whose configuration is in force at ``revision``: the last one that set
    a configuration, or, when that was a rollback, the revision it restored."""
    setter = next(r for r in reversed(history) if r.revision <= revision and r.action in SETTERS)
    return setter.restores if setter.restores is not None else setter.revision


def _lane(home: Project, arm: str, variant: JSON, share: float) -> Lane:
    try:
        version: str | None = resolve_model(home, variant["model"]).ref
        problem = None
    except NotFound as exc:
        version, problem = None, exc.message
    return Lane(arm, variant["name"], variant["model"], version, share, problem)


def _check_models(home: Project, config: JSON, *, baseline: JSON | None) -> None:
    """Every variant and the shadow resolve in the environment, no version is served twice,
    the shadow is no live variant, and all take the same inputs (with the baseline's, when
    a change bakes beside it)."""
    live = {v["model"]: _resolve(home, v["model"], "variant") for v in config["variants"]}
    seen: dict[str, str] = {}
    for ref, version in live.items():
        if version.ref in seen:
            raise InvalidInput(
                f"The variants {seen[version.ref]} and {ref} both serve {version.ref}. Give "
                "each version once.",
                details={"version": version.ref},
            )
        seen[version.ref] = ref
    others: dict[str, ModelVersion] = {}
    shadow = config.get("shadow")
    if shadow:
        version = _resolve(home, shadow["model"], "shadow")
        if shadow["model"] in live or version.ref in seen:
            twin = seen.get(version.ref, shadow["model"])
            served = "" if twin == version.ref else f" ({version.ref})"
            raise InvalidInput(
                f"The shadow {shadow['model']} is also the live variant {twin}{served}. A "
                "shadow must be a model the live traffic does not reach; choose another "
                "version, or drop the shadow (--no-shadow).",
                details={"shadow": shadow["model"], "variant": twin},
            )
        others[f"shadow {shadow['model']}"] = version
    for v in (baseline or {}).get("variants", []):
        others[f"baseline {v['model']}"] = _resolve(home, v["model"], "baseline variant")
    first_ref, first = next(iter(live.items()))
    for ref, version in [*list(live.items())[1:], *others.items()]:
        _same_inputs(first_ref, first, ref, version)


def _resolve(home: Project, ref: str, role: str) -> ModelVersion:
    try:
        return resolve_model(home, ref)
    except NotFound as exc:
        raise NotFound(
            f"The {role} {ref} does not resolve: {exc.message}", details=exc.details
        ) from None


def _same_inputs(ref_a: str, a: ModelVersion, ref_b: str, b: ModelVersion) -> None:
    inputs_a = {c["name"]: c["type"] for c in a.signature.get("inputs", [])}
    inputs_b = {c["name"]: c["type"] for c in b.signature.get("inputs", [])}
    if a.problem_type != b.problem_type:
        raise InvalidInput(
            f"{ref_b} ({b.ref}) is a {b.problem_type} model and {ref_a} ({a.ref}) a "
            f"{a.problem_type} one: the variants of an endpoint answer alike, so they must "
            "solve the same problem.",
            details={"variants": [ref_a, ref_b]},
        )
    if inputs_a == inputs_b:
        return
    missing = sorted(set(inputs_a) - set(inputs_b))
    extra = sorted(set(inputs_b) - set(inputs_a))
    typed = sorted(k for k in set(inputs_a) & set(inputs_b) if inputs_a[k] != inputs_b[k])
    parts = [f"lacks {', '.join(missing)}" if missing else ""]
    parts.append(f"also takes {', '.join(extra)}" if extra else "")
    parts.append(f"types {', '.join(typed)} differently" if typed else "")
    said = "; ".join(p for p in parts if p)
    raise InvalidInput(
        f"The variants of an endpoint must take the same inputs, so that any of them can "
        f"answer a request. {ref_b} ({b.ref}) {said} compared with {ref_a} ({a.ref}).",
        details={"variants": [ref_a, ref_b], "missing": missing, "extra": extra, "types": typed},
    )
