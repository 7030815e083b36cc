"""``shipyard doctor``: is the catalog consistent with the lake and the artifact store?

It repairs what is safe to repair (runs whose process died are marked failed, which abandons
the versions they left pending), then checks: every dataset version's files match its
fingerprint; every model version that is ready (or that an alias names) has a bundle, and
that bundle matches its manifest (and signature, when a signing key is set); no alias names
a version that is not ready. What no catalog row names is reported as an orphan, for
``shipyard gc`` to remove.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from shipyard.artifacts import verify_bundle
from shipyard.entities import ModelVersion
from shipyard.errors import BackendUnavailable, IntegrityError, NotFound, ShipyardError
from shipyard.lake import verify_datasets
from shipyard.maintenance.gc import GRACE, collect_garbage
from shipyard.project import Project
from shipyard.tracking import fail_dead_runs

__all__ = ["Finding", "Health", "check_health"]


@dataclass(frozen=True)
class Finding:
    """One thing ``doctor`` found: its ``kind`` (``dataset``, ``bundle``, ``alias``, ``run``,
    ``orphan``), the object, what is wrong (or was repaired), and what to do."""

    kind: str
    object: str
    problem: str
    fix: str


@dataclass(frozen=True)
class Health:
    """What ``doctor`` found: ``problems`` (inconsistencies: exit 1), ``repaired`` (fixed just
    now), and ``orphans`` (left by killed jobs; harmless, removed by ``shipyard gc``)."""

    problems: tuple[Finding, ...] = ()
    repaired: tuple[Finding, ...] = ()
    orphans: tuple[Finding, ...] = ()
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_health(project: Project, *, grace: timedelta = GRACE) -> Health:
    """Repair dead runs, then check the catalog against the lake and the artifact store.

    Raises:
        InvalidInput: A key setting is malformed.
        BackendUnavailable: The catalog, the lake or the artifact store cannot be reached.
    """
    _ = project.artifacts, project.signing_key  # a malformed key setting fails first
    repaired = [
        Finding(
            "run",
            run.id,
            f"Run {run.id} was still running, but {run.error or 'its process died'}",
            "Marked failed; the versions it left pending are abandoned.",
        )
        for run in fail_dead_runs(project.catalog, project.actor)
    ]
    datasets = verify_datasets(project)
    problems = [
        Finding(
            "dataset",
            check.ref,
            f"Its files {'are missing' if check.status == 'missing' else 'changed'}: "
            f"{check.detail}.",
            "Restore the lake folder from a backup, or ingest the data again.",
        )
        for check in datasets
        if not check.ok
    ]
    versions = project.catalog.list_model_versions(include_pending=True)
    bundles = 0
    for version in versions:
        if version.status != "ready" and not version.aliases:
            continue
        bundles += 1
        problems += _check_version(project, version)
    orphans = [
        Finding(
            "orphan",
            g.location,
            g.reason,
            "Run `shipyard gc` to list, then `shipyard gc --yes` to remove.",
        )
        for g in collect_garbage(project, grace=grace).garbage
    ]
    checked = {"datasets": len(datasets), "bundles": bundles, "model_versions": len(versions)}
    return Health(tuple(problems), tuple(repaired), tuple(orphans), checked)


def _check_version(project: Project, version: ModelVersion) -> list[Finding]:
    found = []
    for alias in version.aliases:
        if version.status != "ready":
            found.append(
                Finding(
                    "alias",
                    f"{version.name}@{alias}",
                    f"It names {version.ref}, which is {version.status}, not ready.",
                    f"Promote a ready version: `shipyard models promote {version.name}:N "
                    f"--to {alias}`.",
                )
            )
    problem = _bundle_problem(project, version)
    if problem is not None:
        named = ", ".join(f"{version.name}@{a}" for a in version.aliases)
        found.append(
            Finding(
                "bundle",
                version.ref,
                problem + (f" The alias(es) {named} name it." if named else ""),
                "Restore the artifact store from a backup, or train and register it again "
                "(then promote the new version).",
            )
        )
    return found


def _bundle_problem(project: Project, version: ModelVersion) -> str | None:
    store = project.artifacts
    try:
        key = store.key_of(version.bundle_uri)
        folder = store.local_dir(key)
        verify_bundle(folder, project.signing_key)
    except NotFound:
        return f"Its bundle {version.bundle_uri} is missing."
    except IntegrityError as exc:
        return f"Its bundle does not verify: {exc.message}"
    except BackendUnavailable:
        raise
    except ShipyardError as exc:
        return f"Its bundle cannot be read: {exc.message}"
    return None
