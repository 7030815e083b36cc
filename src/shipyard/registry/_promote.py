"""Promotion: run the environment's gates on a version, then point ``name@environment`` at it,
copying it first into the environment's own catalog and artifact store when it has them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.entities import GateResult, ModelVersion, PromotionRecord
from shipyard.environments import (
    check_environment,
    environment_config,
    environment_project,
    resolve_version,
)
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.project import Project
from shipyard.registry._copy import copy_version
from shipyard.registry._gate_context import GateContext
from shipyard.registry._gates import run_gates

__all__ = ["PromotionRefused", "PromotionResult", "promote"]


@dataclass(frozen=True)
class PromotionResult:
    """A done promotion: the version as the environment's catalog holds it, each gate's
    result, ``outcome`` (``promoted``, or ``forced`` past failed gates with ``reason``), the
    version ``name@environment`` named before (None: none), and whether the bundle was copied
    into the environment's own stores now."""

    version: ModelVersion
    environment: str
    gates: tuple[GateResult, ...]
    outcome: str
    reason: str | None
    previous: int | None
    copied: bool
    record: PromotionRecord

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if not g.passed)


class PromotionRefused(Conflict):
    """A gate failed (or the version is Rejected) and the promotion was not forced; the alias
    did not move. ``gates`` holds every gate's result, for a face to show."""

    def __init__(self, message: str, gates: Sequence[GateResult], environment: str) -> None:
        failed = [g.gate for g in gates if not g.passed]
        super().__init__(
            message,
            details={
                "environment": environment,
                "failed": failed,
                "gates": [
                    {"gate": g.gate, "passed": g.passed, "summary": g.summary} for g in gates
                ],
            },
        )
        self.gates = tuple(gates)
        self.environment = environment


def promote(
    project: Project,
    ref: str,
    environment: str,
    *,
    force: bool = False,
    reason: str | None = None,
) -> PromotionResult:
    """Run ``environment``'s gates on the version ``ref`` names and, when they pass (or with
    ``force`` and a ``reason``), point ``name@environment`` at it. When the environment has
    its own catalog and artifact store (``shipyard.yaml``), the version is copied there first
    (bundle verified by its manifest) and the alias moves there. Every attempt, refused ones
    too, is stored with the version and audited (``model.promote``,
    ``model.promote.override``, ``model.promote.refused``).

    A Rejected version is refused even with ``force``: approve it again first.

    Raises:
        InvalidInput: ``environment`` is not dev, staging or prod; ``force`` without a
            reason; a malformed reference; or an invalid ``shipyard.yaml``.
        NotFound: No such model, version or alias.
        PromotionRefused: A gate failed and ``force`` was not given, or the version is
            Rejected; the alias did not move.
        IntegrityError: A bundle does not match its manifest; nothing was promoted.
        Conflict: The environment's catalog holds that version number for another bundle.
    """
    check_environment(environment)
    reason = (reason or "").strip() or None
    if force and reason is None:
        raise InvalidInput(
            "--force overrides failed gates and is audited: give the reason with "
            '--reason "...". Got no reason.'
        )
    source, candidate = resolve_version(project, ref)
    if candidate.approval == "Rejected":
        _refuse_rejected(source, candidate, environment)
    target = environment_project(project, environment)
    plan = environment_config(project, environment).gates
    context = GateContext(project, source, target, environment, candidate)
    gates = tuple(run_gates(context, plan))
    failed = [g for g in gates if not g.passed]
    if failed and not force:
        _record(source, candidate, environment, "refused", gates, None, move=False)
        lines = "; ".join(f"{g.gate}: {g.summary}" for g in failed)
        raise PromotionRefused(
            f"{candidate.ref} was not promoted to {environment}: "
            f"{len(failed)} gate(s) failed ({lines}). Fix what they say, or override with "
            '--force --reason "..." (audited).',
            gates,
            environment,
        )
    outcome = "forced" if failed else "promoted"
    previous = _current(target, candidate.name, environment)
    copied = False
    if target is not source and target.catalog_url != source.catalog_url:
        placed, copied = copy_version(source, candidate, target)
        _record(source, candidate, environment, outcome, gates, reason, move=False)
        record = _record(target, placed, environment, outcome, gates, reason, move=True)
    else:
        record = _record(source, candidate, environment, outcome, gates, reason, move=True)
    version = target.catalog.get_model_version(candidate.name, candidate.version)
    return PromotionResult(version, environment, gates, outcome, reason, previous, copied, record)


def _record(
    home: Project,
    version: ModelVersion,
    environment: str,
    outcome: str,
    gates: Sequence[GateResult],
    reason: str | None,
    *,
    move: bool,
) -> PromotionRecord:
    return home.catalog.record_promotion(
        version.name,
        version.version,
        environment,
        outcome=outcome,
        gates=gates,
        reason=reason,
        move_alias=move,
        actor=home.actor,
    )


def _current(target: Project, name: str, environment: str) -> int | None:
    try:
        return target.catalog.resolve_alias(name, environment).version
    except NotFound:
        return None


def _refuse_rejected(source: Project, candidate: ModelVersion, environment: str) -> None:
    history = source.catalog.list_approvals(candidate.name, candidate.version)
    last = history[-1] if history else None
    why = f" by {last.changed_by}: {last.comment}" if last else ""
    gate = GateResult(
        "approval",
        False,
        f"Rejected{why}",
        {
            "status": "Rejected",
            **({"by": last.changed_by, "comment": last.comment} if last else {}),
        },
    )
    _record(source, candidate, environment, "refused", [gate], None, move=False)
    raise PromotionRefused(
        f"{candidate.ref} was Rejected{why}. A rejected version is never promoted, not even "
        f"with --force: approve it again (`shipyard models approve {candidate.ref} --comment "
        '"..."`) or promote another version.',
        [gate],
        environment,
    )
