"""What a kill -9 must never leave behind: a stand-in for ``shipyard doctor`` until it lands.

:func:`check_project` repairs what a dead process is allowed to leave (a run still marked
``running``, a pending version) the way every face does, then lists every inconsistency
between the catalog, the lake, the artifact store and the online store:

- a dataset version whose files are missing or do not match its fingerprint;
- a ready model version whose bundle is missing or does not match its manifest;
- an alias that names no ready version;
- a pending version still visible, or a run (training or pipeline) still ``running`` once
  its process is dead;
- a version number used twice or skipped backwards;
- a broken audit chain, or a SQLite file that fails ``PRAGMA integrity_check``.

:func:`lost_writes` compares the project with a ledger of writes that a process reported
done (it exited 0): each must still be there, with the same content.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable

from shipyard.artifacts import verify_bundle
from shipyard.errors import NotFound, ShipyardError
from shipyard.lake import verify_datasets
from shipyard.pipelines import fail_dead_pipeline_runs
from shipyard.project import Project
from shipyard.tracking import fail_dead_runs

__all__ = ["check_project", "lost_writes"]


def check_project(project: Project) -> list[str]:
    """Every inconsistency found, as a sentence each; empty when the project is sound."""
    fail_dead_runs(project.catalog, project.actor)  # the repairs every face runs
    fail_dead_pipeline_runs(project)
    problems = _sqlite_files(project)
    problems += [
        f"dataset {c.ref} is {c.status}: {c.detail}" for c in verify_datasets(project) if not c.ok
    ]
    problems += _model_versions(project)
    problems += _numbering(project)
    problems += [
        f"run {r.id} is still running" for r in project.catalog.list_runs(status="running")
    ]
    problems += [
        f"pipeline run {r.id} of {r.pipeline} is still running"
        for r in project.catalog.list_pipeline_runs(status="running", limit=1000)
    ]
    chain = project.catalog.verify_audit_chain()
    problems += [f"audit chain breaks: {b}" for b in chain.breaks]
    return problems


def _sqlite_files(project: Project) -> list[str]:
    problems = []
    for name in ("catalog.db", "online.db"):
        path = project.dir / name
        if not path.exists():
            continue
        con = sqlite3.connect(path)
        try:
            verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()
        if verdict != "ok":
            problems.append(f"{name} fails its integrity check: {verdict}")
    return problems


def _model_versions(project: Project) -> list[str]:
    problems = []
    versions = project.catalog.list_model_versions(include_pending=True)
    for v in versions:
        if v.status == "pending":
            problems.append(f"{v.ref} is still pending after its job died")
        if v.status != "ready":
            if v.aliases:
                problems.append(f"{v.ref} is {v.status} but aliased as {', '.join(v.aliases)}")
            continue
        try:
            verify_bundle(project.artifacts.local_dir(project.artifacts.key_of(v.bundle_uri)))
        except (NotFound, ShipyardError, OSError) as exc:
            problems.append(f"{v.ref}'s bundle is unusable: {exc}")
    visible = {v.ref for v in project.catalog.list_model_versions()}
    ready = {v.ref for v in versions if v.status == "ready"}
    if visible != ready:
        problems.append(f"visible versions {sorted(visible)} are not the ready ones")
    for v in versions:
        for alias in v.aliases:
            try:
                target = project.catalog.resolve_alias(v.name, alias)
            except NotFound:
                problems.append(f"{v.name}@{alias} resolves to nothing")
                continue
            if target.ref not in ready:
                problems.append(f"{v.name}@{alias} names {target.ref}, which is not ready")
    return problems


def _numbering(project: Project) -> list[str]:
    problems = []
    datasets = [(d.name, d.version) for d in project.catalog.list_dataset_versions()]
    models = [
        (m.name, m.version) for m in project.catalog.list_model_versions(include_pending=True)
    ]
    for kind, pairs in (("dataset", datasets), ("model", models)):
        twice = [f"{n}:{v}" for (n, v), k in Counter(pairs).items() if k > 1]
        problems += [f"{kind} version {ref} exists twice" for ref in twice]
    return problems


def lost_writes(
    project: Project,
    datasets: Iterable[tuple[str, str]],
    models: Iterable[str],
    aliases: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """The writes a process reported done that the project no longer holds.

    Args:
        datasets: ``(ref, fingerprint)`` of each dataset version reported published.
        models: Refs (``name:N``) of each model version reported registered.
        aliases: ``(name@alias, ref)`` pairs reported promoted; the alias must still name
            that version or a later one (a later promotion may move it on).
    """
    lost = []
    for ref, fingerprint in datasets:
        name, version = ref.split("@")
        try:
            found = project.catalog.get_dataset_version(name, int(version))
        except NotFound:
            lost.append(f"dataset {ref} is gone")
            continue
        if found.fingerprint != fingerprint:
            lost.append(f"dataset {ref} changed content")
    ready = {v.ref for v in project.catalog.list_model_versions()}
    lost += [f"model {ref} is gone" for ref in models if ref not in ready]
    for alias_ref, ref in aliases:
        name, alias = alias_ref.split("@")
        try:
            now = project.catalog.resolve_alias(name, alias)
        except NotFound:
            lost.append(f"{alias_ref} is gone")
            continue
        if now.version < int(ref.split(":")[1]):
            lost.append(f"{alias_ref} went back to {now.ref} from {ref}")
    return lost
