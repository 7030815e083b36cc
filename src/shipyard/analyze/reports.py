"""The analyze room on a project: reports of dataset versions, stored and reused."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.entities import DatasetVersion
from shipyard.errors import InvalidInput, NotFound, did_you_mean

if TYPE_CHECKING:
    from shipyard.project import Project

# Each report imports its own code when asked for, so a profile never loads the bias code
# (and pyarrow.dataset, which loads pandas) or the rules' YAML.

__all__ = [
    "StoredReport",
    "bias_dataset",
    "check_dataset",
    "dataset_report",
    "load_rules_file",
    "profile_dataset",
    "suggest_for",
]


@dataclass(frozen=True)
class StoredReport:
    """A report's content, where its HTML page is, and whether it was computed just now."""

    dataset: DatasetVersion
    payload: dict[str, Any]
    html_path: Path | None
    reused: bool


def _version(project: Project, ref: str) -> DatasetVersion:
    parsed = parse_dataset_ref(ref)
    return project.catalog.get_dataset_version(parsed.name, parsed.version)


def _store(
    project: Project, version: DatasetVersion, kind: str, payload: dict[str, Any], html: str
) -> StoredReport:
    slug = kind.replace(":", "-").replace("@", "-")
    key = f"reports/{version.name}/{version.version}/{slug}-{uuid.uuid4().hex[:8]}.html"
    uri = project.artifacts.put_bytes(key, html.encode())
    project.catalog.put_report(version.ref, kind, payload, html_uri=uri, actor=project.actor)
    return StoredReport(version, payload, _local(project, uri), reused=False)


def _local(project: Project, uri: str | None) -> Path | None:
    if not uri or not uri.startswith("file://"):
        return None
    return Path(uri[len("file://") :])


def dataset_report(project: Project, name: str, version: int, kind: str) -> Any:
    """The stored ``kind`` report (profile, quality, bias, ...) of dataset ``name@version``.

    Raises:
        NotFound: No such dataset version, or it has no such report (the message lists the
            reports it has).
    """
    found = project.catalog.get_dataset_version(name, version)
    try:
        return project.catalog.get_report(found.ref, kind)
    except NotFound:
        kinds = [s.kind for s in project.catalog.list_reports(found.ref)]
        raise NotFound(
            f"{found.ref} has no {kind!r} report.{did_you_mean(kind, kinds)} Its reports: "
            f"{', '.join(kinds) or 'none yet (a profile, check or bias run makes one)'}.",
            details={"dataset": found.ref, "kind": kind},
        ) from None


def profile_dataset(
    project: Project,
    ref: str,
    *,
    target: str | None = None,
    label_time: str | None = None,
    refresh: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> StoredReport:
    """Profile a dataset version once; later calls with the same options reuse it."""
    from shipyard.analyze.profile import PROFILE_VERSION, profile_parquet
    from shipyard.analyze.profile_html import render_profile_html

    version = _version(project, ref)
    kind = "profile" + (f":{target}" if target else "") + (f"@{label_time}" if label_time else "")
    if not refresh:
        try:
            stored = project.catalog.get_report(version.ref, kind)
            if stored.payload.get("version") == PROFILE_VERSION:
                return StoredReport(version, stored.payload, _local(project, stored.html_uri), True)
        except NotFound:
            pass
    payload = profile_parquet(
        project.lake.files(version), target=target, label_time=label_time, progress=progress
    )
    payload["dataset"] = version.ref
    _tag_pii(project, version, payload)
    return _store(project, version, kind, payload, render_profile_html(payload))


def _tag_pii(project: Project, version: DatasetVersion, payload: dict[str, Any]) -> None:
    """Detect likely PII columns, keep their values out of the report, tag them."""
    from shipyard.analyze._alerts import alerts
    from shipyard.analyze.pii import detect_pii, redact_profile

    found = detect_pii(project.lake.files(version), [(c.name, c.type) for c in version.columns])
    payload["pii"] = found
    if found:
        redact_profile(payload, found)
        payload["alerts"] = alerts(payload)  # they may quote a value of a PII column
    project.catalog.set_pii_tags(
        version.name,
        version.version,
        {c: tag["kind"] for c, tag in found.items()},
        tagged=True,
        source="profile",
        actor=project.actor,
        replace=True,
    )


def suggest_for(project: Project, ref: str) -> tuple[DatasetVersion, str]:
    """Data-quality rules inferred from a baseline version, as editable YAML."""
    from shipyard.analyze.constraints import dump_constraints_yaml, suggest_constraints

    report = profile_dataset(project, ref)
    return report.dataset, dump_constraints_yaml(suggest_constraints(report.payload))


def check_dataset(
    project: Project,
    ref: str,
    *,
    constraints_file: Path | None = None,
    against: str | None = None,
    rules: str | None = None,
) -> tuple[DatasetVersion, dict[str, Any]]:
    """Check a version against a rules file (or its YAML text, ``rules``), or against rules
    suggested from a baseline; exactly one of the three is given."""
    from shipyard.analyze.constraints import load_constraints_yaml, suggest_constraints
    from shipyard.analyze.quality import check_constraints

    if sum(x is not None for x in (constraints_file, against, rules)) != 1:
        raise InvalidInput("Give either --constraints FILE or --against DATASET@N.")
    if constraints_file is not None:
        constraints = load_rules_file(constraints_file)
    elif rules is not None:
        constraints = load_constraints_yaml(rules)
    else:
        baseline = profile_dataset(project, against)  # type: ignore[arg-type]
        constraints = suggest_constraints(baseline.payload)
    version = _version(project, ref)
    report = check_constraints(project.lake.files(version), constraints)
    report["dataset"] = version.ref
    project.catalog.put_report(version.ref, "check", report, html_uri=None, actor=project.actor)
    return version, report


def load_rules_file(path: Path) -> dict[str, Any]:
    """Read and validate a constraints YAML file."""
    from shipyard.analyze.constraints import load_constraints_yaml

    if not path.is_file():
        raise NotFound(
            f"No constraints file at {path}. Make one with `shipyard constraints suggest`."
        )
    return load_constraints_yaml(path.read_text())


def bias_dataset(
    project: Project,
    ref: str,
    *,
    label: str,
    positive: Any,
    facet: str,
    facet_values: Sequence[Any] | None = None,
    threshold: float | None = None,
    group: str | None = None,
) -> StoredReport:
    """Clarify's pre-training bias metrics of a version, stored with an HTML page."""
    from shipyard.analyze.bias import pretraining_bias
    from shipyard.analyze.bias_html import render_bias_html

    version = _version(project, ref)
    payload = pretraining_bias(
        project.lake.files(version),
        label=label,
        positive=positive,
        facet=facet,
        facet_values=list(facet_values) if facet_values else None,
        threshold=threshold,
        group=group,
    )
    payload["dataset"] = version.ref
    return _store(project, version, f"bias:{label}:{facet}", payload, render_bias_html(payload))
