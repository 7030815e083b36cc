"""The pitfalls of a model version: what its training recorded (the split's findings, the
columns left out, the learning curve, the diagnostics, how it was tuned), what happened to
it since (batch comparisons, monitors) and where it is deployed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.errors import NotFound
from shipyard.pitfalls._checks import PitfallReport, item, not_checked, ordered

if TYPE_CHECKING:
    from shipyard.entities import ModelVersion
    from shipyard.project import Project

__all__ = ["model_pitfalls"]

_OLD = "Not recorded: the model was trained before Shipyard recorded this check."
_LEAKS = ("target_copy", "target_leakage")


def model_pitfalls(project: Project, ref: str) -> PitfallReport:
    """Every pitfall check that applies to model version ``ref`` (NAME, NAME:N, NAME@ALIAS).

    Raises:
        NotFound: No such model, version or alias.
    """
    from shipyard.registry import resolve_model

    version = resolve_model(project, ref)
    lineage = version.lineage
    findings = (lineage.get("split") or {}).get("findings") or []
    diagnostics = lineage.get("diagnostics") or []
    recorded = lineage.get("pitfalls")
    strategy = (lineage.get("split") or {}).get("strategy", "?")
    checks = [
        _from_split("target_leakage", findings, _LEAKS, "No column gave the target away."),
        _left_out("identifier_feature", recorded, "an identifier", "No identifier"),
        _split_check("shared_entities", findings, strategy, ("group",)),
        _split_check("time_leakage", findings, strategy, ("time",)),
        _left_out("date_feature", recorded, "a date or time", "No date or time"),
        _left_out("model_output_feature", recorded, "written by Shipyard", "No Shipyard output"),
        _from_split("duplicate_rows", findings, ("duplicate_rows",), "No test row is in train."),
        _diagnostic(
            "class_imbalance",
            diagnostics,
            version,
            "No class was too rare for how the model was fit.",
        ),
        _bias(project, version),
        _pii(project, version, recorded),
        _representative(project, version),
        _curve(recorded),
        _overfit(diagnostics),
        _diagnostic("feature_dominance", diagnostics, version, "No single feature dominates."),
        _untuned(lineage),
        _drift(project, version),
        _gates(project, version),
    ]
    return PitfallReport(version.ref, "model", ordered(checks))


def _from_split(
    check: str, findings: list[dict[str, Any]], kinds: tuple[str, ...], clean: str
) -> dict[str, Any]:
    found = [f for f in findings if f["check"] in kinds]
    if found:
        return item(check, "warning", " ".join(f["message"] for f in found[:2]))
    return item(check, "ok", clean)


def _split_check(
    check: str, findings: list[dict[str, Any]], strategy: str, safe: tuple[str, ...]
) -> dict[str, Any]:
    found = [f for f in findings if f["check"] == check]
    if found:
        return item(check, "warning", " ".join(f["message"] for f in found[:2]))
    if strategy in safe:
        return item(check, "ok", f"The split was by {strategy}.")
    return item(check, "ok", f"Nothing found on its {strategy} split.")


def _left_out(check: str, recorded: dict[str, Any] | None, kind: str, none: str) -> dict[str, Any]:
    if recorded is None:
        return not_checked(check, _OLD)
    left = {c: why for c, why in _dict(recorded, "left_out").items() if why.startswith(kind)}
    kept = {c: why for c, why in _dict(recorded, "kept").items() if why.startswith(kind)}
    if kept:
        listed = "; ".join(f"'{c}' ({why})" for c, why in kept.items())
        return item(check, "warning", f"Used as a feature by request (--keep-column): {listed}.")
    if left:
        return item(check, "ok", f"Left out of the features: {', '.join(left)}.")
    return item(check, "ok", f"{none} column was among the inputs.")


def _dict(recorded: dict[str, Any], key: str) -> dict[str, str]:
    value = recorded.get(key)
    return value if isinstance(value, dict) else {}


def _diagnostic(
    check: str, diagnostics: list[dict[str, Any]], version: ModelVersion, clean: str
) -> dict[str, Any]:
    if check == "class_imbalance" and version.problem_type == "regression":
        return item(check, "ok", "A regression model: no classes to balance.")
    found = [d for d in diagnostics if d["check"] == check]
    if found:
        return item(check, "warning", found[0]["message"])
    return item(check, "ok", clean)


def _overfit(diagnostics: list[dict[str, Any]]) -> dict[str, Any]:
    found = [d for d in diagnostics if d["check"] in ("overfitting", "train_valid_gap")]
    if found:
        return item("overfit", "warning", " ".join(d["message"] for d in found))
    return item("overfit", "ok", "Validation loss kept pace with training loss.")


def _curve(recorded: dict[str, Any] | None) -> dict[str, Any]:
    curve = (recorded or {}).get("learning_curve")
    if not curve:
        return not_checked("too_little_data", _OLD)
    return item("too_little_data", curve["status"], curve["message"])


def _untuned(lineage: dict[str, Any]) -> dict[str, Any]:
    tuning = lineage.get("tuning")
    if tuning is None:
        if lineage.get("search"):
            return item("untuned", "ok", "Chosen by an AutoML search.")
        return not_checked("untuned", _OLD)
    if tuning.get("searched"):
        return item("untuned", "ok", "Chosen by an AutoML search.")
    if not tuning.get("untuned"):
        return item("untuned", "ok", "One fit with parameters that were given (--params).")
    return item(
        "untuned",
        "warning",
        "One fit with default parameters and no search (recorded as lineage.tuning.untuned). "
        "Train with --time-budget SECONDS to search.",
    )


def _bias(project: Project, version: ModelVersion) -> dict[str, Any]:
    try:
        report = project.catalog.get_report(version.ref, "evaluation").payload
    except NotFound:
        return not_checked("label_bias", "The model has no evaluation report.")
    bias = report.get("bias")
    if not bias:
        return not_checked(
            "label_bias", "Trained without --facet: train with --facet COLUMN to measure it."
        )
    if bias.get("error"):
        return not_checked("label_bias", f"Not computed on '{bias['facet']}': {bias['error']}")
    flagged = [
        f"{g['description']}: {key}"
        for g in bias["facets"]
        for key, m in g["metrics"].items()
        if m["flag"]
    ]
    if flagged:
        return item(
            "label_bias",
            "warning",
            f"Post-training bias on '{bias['facet']}' flagged: {', '.join(flagged[:4])}. See "
            f"`shipyard models report {version.ref}`.",
        )
    return item("label_bias", "ok", f"No group of '{bias['facet']}' is flagged on test rows.")


def _pii(
    project: Project, version: ModelVersion, recorded: dict[str, Any] | None
) -> dict[str, Any]:
    from shipyard.security.pii import pii_columns

    dataset = version.lineage.get("dataset")
    if not dataset:
        return not_checked("pii_feature", "The model names no training dataset.")
    try:
        tagged = pii_columns(project, dataset)
    except NotFound:
        return not_checked("pii_feature", f"Its training dataset {dataset} is gone.")
    inputs = {c["name"] for c in version.signature.get("inputs", [])}
    used = {c: kind for c, kind in tagged.items() if c in inputs}
    if not used:
        return item("pii_feature", "ok", "No input is tagged as personal data.")
    hashed = set(((recorded or {}).get("pii") or {}).get("hashed", []))
    plain = [c for c in used if c not in hashed]
    if not plain:
        return item(
            "pii_feature", "ok", f"Personal data hashed with the project key: {', '.join(used)}."
        )
    listed = ", ".join(f"{c} ({used[c]})" for c in plain)
    return item(
        "pii_feature",
        "warning",
        f"Personal data used as it is (--allow-pii): {listed}. Hash it instead (--hash-pii) "
        "unless the raw value is needed.",
    )


def _representative(project: Project, version: ModelVersion) -> dict[str, Any]:
    try:
        report = project.catalog.get_report(version.ref, "compare:batch").payload
    except NotFound:
        dataset = version.lineage.get("dataset", "TRAINING_DATASET")
        return not_checked(
            "non_representative",
            f"No batch was scored with it yet (that compares its input with {dataset}); "
            f"`shipyard compare {dataset} OTHER` compares any dataset.",
        )
    return item("non_representative", report["status"], f"Last batch: {report['message']}")


def _drift(project: Project, version: ModelVersion) -> dict[str, Any]:
    from shipyard.registry import resolve_model

    watching = []
    for monitor in project.catalog.list_monitors():
        try:
            if resolve_model(project, monitor.model).ref == version.ref:
                watching.append(monitor)
        except NotFound:
            continue
    if not watching:
        return not_checked(
            "drift",
            f"No monitor watches {version.ref}: `shipyard monitors create NAME --model "
            f"{version.name}@prod`.",
        )
    drifted = []
    for monitor in watching:
        runs = project.catalog.list_monitor_runs(monitor.name, limit=1)
        sections = runs[0].report.get("sections", []) if runs else []
        drifted += [
            f"{monitor.name}, {s['kind']}: {_short(s['summary'])}"
            for s in sections
            if s["kind"] in ("drift", "data-quality") and s.get("violations")
        ]
    names = ", ".join(m.name for m in watching)
    if drifted:
        return item(
            "drift",
            "warning",
            f"The latest window drifted. {'; '.join(drifted[:2])}. See `shipyard monitors "
            f"show {watching[0].name}`; retrain on recent data if it persists.",
        )
    return item("drift", "ok", f"Watched by {names}; the latest window did not drift.")


def _short(summary: str) -> str:
    """A monitor summary without its list of columns (``26 of 53 columns drifted``)."""
    return summary.split(" (", 1)[0].rstrip(".")


def _gates(project: Project, version: ModelVersion) -> dict[str, Any]:
    """Did the version reach prod through prod's promotion gates (as ``shipyard.yaml`` sets
    them), or past them?"""
    from shipyard.registry import model_history

    if "prod" not in version.aliases:
        where = ", ".join(version.aliases) or "no environment"
        return item("ungated_prod", "ok", f"Not in prod ({where}).")
    tuning = version.lineage.get("tuning") or {}
    untuned = " It is an untuned single fit." if tuning.get("untuned") else ""
    history = model_history(project, f"{version.name}@prod")
    moves = [
        p
        for p in history.promotions
        if p.environment == "prod" and p.version == version.version and p.outcome != "refused"
    ]
    if not moves:
        message = f"{version.ref} is in prod with no promotion through prod's gates on record."
    elif moves[-1].outcome == "forced":
        last = moves[-1]
        message = (
            f"{version.ref} was forced into prod past failed gate(s) "
            f"{', '.join(last.failed)} by {last.created_by}: {last.reason}"
        )
    elif not moves[-1].gates:
        message = f"{version.ref} is in prod, and shipyard.yaml turns every prod gate off."
    else:
        passed = ", ".join(g.gate for g in moves[-1].gates)
        return item("ungated_prod", "ok", f"Promoted to prod through its gates ({passed}).")
    return item(
        "ungated_prod",
        "warning",
        f"{message}{untuned} Review `shipyard models report {version.ref}` and `shipyard models "
        "history` before relying on it.",
    )
