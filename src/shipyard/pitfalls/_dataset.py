"""The pitfalls of a dataset version, before any model: from its profile, the split a
training job would make (with a target), a bias report (with a facet) and a comparison
with another dataset (with ``against``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.pitfalls._checks import PitfallReport, item, not_checked, ordered

if TYPE_CHECKING:
    from shipyard.project import Project
    from shipyard.train import DataChecks

__all__ = ["MODEL_ONLY", "dataset_pitfalls"]

MODEL_ONLY = ("overfit", "feature_dominance", "untuned", "drift", "ungated_prod")
_LEAKS = ("target_copy", "target_leakage")


def dataset_pitfalls(
    project: Project,
    ref: str,
    *,
    target: str | None = None,
    facet: str | None = None,
    positive: Any = None,
    against: str | None = None,
) -> PitfallReport:
    """Every pitfall check that applies to dataset ``ref`` (NAME or NAME@N).

    Raises:
        NotFound: The dataset, a version or a named column does not exist.
        InvalidInput: A facet without a target, or options the reports refuse.
    """
    from shipyard.analyze import profile_dataset
    from shipyard.errors import InvalidInput
    from shipyard.train import check_training_data

    if facet is not None and target is None:
        raise InvalidInput("Label bias is measured on the target: give --target with --facet.")
    stored = profile_dataset(project, ref, target=target)
    profile, version = stored.payload, stored.dataset
    data = check_training_data(project, version.ref, target) if target else None
    findings = data.split["findings"] if data else []
    checks = [
        _leakage(profile, findings, target),
        _identifiers(profile),
        _shared(findings, data),
        _time(profile, findings, data),
        _dates(profile),
        _written(profile),
        _duplicates(profile, findings),
        _imbalance(profile, target),
        _bias(project, version.ref, profile, target, facet, positive),
        _pii(profile),
        _representative(project, version.ref, against),
        not_checked(
            "too_little_data",
            "A learning curve is drawn when a model is trained: see `shipyard pitfalls MODEL`.",
        ),
    ]
    notes = [
        "Checks of a trained model (overfit, feature dominance, untuned, drift, gates): "
        "`shipyard pitfalls MODEL`."
    ]
    if target is None:
        notes.append("Give --target COLUMN for the checks that need the label and a split.")
    return PitfallReport(version.ref, "dataset", ordered(checks), notes)


def _messages(found: list[dict[str, Any]], limit: int = 2) -> str:
    shown = " ".join(f["message"] for f in found[:limit])
    return shown + (f" (and {len(found) - limit} more)" if len(found) > limit else "")


def _leakage(
    profile: dict[str, Any], findings: list[dict[str, Any]], target: str | None
) -> dict[str, Any]:
    if target is None:
        return not_checked(
            "target_leakage", "Give --target COLUMN: leakage is judged on the label."
        )
    found = [f for f in findings if f["check"] in _LEAKS]
    columns = {f.get("column") for f in found}
    found += [
        a for a in profile["alerts"] if a["kind"] == "target_leakage" and a["column"] not in columns
    ]
    if found:
        return item("target_leakage", "warning", _messages(found))
    assoc = (profile.get("target") or {}).get("associations") or []
    best = (
        f" (strongest: {assoc[0]['column']}, {assoc[0]['metric']} {assoc[0]['value']:.3f})"
        if assoc
        else ""
    )
    return item(
        "target_leakage", "ok", f"No column predicts '{target}' far better than the rest{best}."
    )


def _identifiers(profile: dict[str, Any]) -> dict[str, Any]:
    ids = [c for c in profile["columns"] if c.get("identifier")]
    if not ids:
        return item("identifier_feature", "ok", "No column looks like an identifier.")
    listed = "; ".join(f"'{c['name']}' ({c['identifier']})" for c in ids[:3])
    return item(
        "identifier_feature",
        "ok",
        f"Identifiers: {listed}. Training leaves them out of the features (--keep-column "
        "NAME to use one).",
    )


def _shared(findings: list[dict[str, Any]], data: DataChecks | None) -> dict[str, Any]:
    if data is None:
        return not_checked("shared_entities", "Give --target COLUMN to try the split.")
    found = [f for f in findings if f["check"] == "shared_entities"]
    if found:
        return item("shared_entities", "warning", _messages(found))
    return item(
        "shared_entities",
        "ok",
        "No column looks like an entity key repeated across rows, so a random split keeps "
        "entities apart.",
    )


def _datetimes(profile: dict[str, Any]) -> list[str]:
    return [c["name"] for c in profile["columns"] if c["semantic_type"] == "datetime"]


def _time(
    profile: dict[str, Any], findings: list[dict[str, Any]], data: DataChecks | None
) -> dict[str, Any]:
    times = _datetimes(profile)
    if not times:
        return item("time_leakage", "ok", "No date or time column: rows carry no time order.")
    found = [f for f in findings if f["check"] == "time_leakage"]
    if found:
        return item("time_leakage", "warning", _messages(found))
    if data is None:
        return item(
            "time_leakage",
            "warning",
            f"The rows carry a time ({', '.join(times)}): a random or stratified split tests on "
            f"days the model has already seen. Use --split time --time-column {times[0]}; "
            "give --target to see what a time split gives.",
        )
    return item("time_leakage", "ok", f"The split orders rows by time ({', '.join(times)}).")


def _dates(profile: dict[str, Any]) -> dict[str, Any]:
    times = _datetimes(profile)
    if not times:
        return item("date_feature", "ok", "No date or time column.")
    return item(
        "date_feature",
        "ok",
        f"{', '.join(times)}: left out of the features by default (--keep-column NAME to use "
        "one; its hour, weekday, month and day then become features).",
    )


def _written(profile: dict[str, Any]) -> dict[str, Any]:
    written = [c for c in profile["columns"] if c.get("written_by")]
    if not written:
        return item("model_output_feature", "ok", "No column was written by Shipyard.")
    listed = "; ".join(f"'{c['name']}' ({c['written_by']})" for c in written)
    return item(
        "model_output_feature",
        "ok",
        f"Written by Shipyard: {listed}. Training leaves them out of the features "
        "(--keep-column NAME to use one).",
    )


def _duplicates(profile: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    found = [f for f in findings if f["check"] == "duplicate_rows"]
    if found:
        return item("duplicate_rows", "warning", _messages(found))
    table = profile["table"]
    if table["duplicate_rows"]:
        return item(
            "duplicate_rows",
            "warning",
            f"{table['duplicate_rows']:,} rows ({table['duplicate_rows_pct']:.1f}%) repeat "
            "another row exactly: a random split puts copies in train and test. Deduplicate "
            '(`shipyard ingest --sql "SELECT DISTINCT * FROM ..."`).',
        )
    return item("duplicate_rows", "ok", "No row repeats another.")


def _imbalance(profile: dict[str, Any], target: str | None) -> dict[str, Any]:
    if target is None:
        return not_checked("class_imbalance", "Give --target COLUMN.")
    summary = profile.get("target") or {}
    if summary.get("kind") == "regression":
        return item("class_imbalance", "ok", f"'{target}' is a number: no classes to balance.")
    found = [a for a in profile["alerts"] if a["kind"] == "imbalanced_target"]
    if found:
        return item(
            "class_imbalance",
            "warning",
            found[0]["message"] + " Let a search weigh the classes (--time-budget), and set "
            "the threshold by costs (--cost-fp, --cost-fn) or --alert-rate.",
        )
    pct = summary.get("minority_pct")
    shown = f" (the rarest class is {pct:.1f}% of rows)" if pct is not None else ""
    return item("class_imbalance", "ok", f"The classes are balanced enough{shown}.")


def _bias(
    project: Project,
    ref: str,
    profile: dict[str, Any],
    target: str | None,
    facet: str | None,
    positive: Any,
) -> dict[str, Any]:
    from shipyard.analyze import bias_dataset

    if facet is None or target is None:
        return not_checked(
            "label_bias",
            "Give --target and --facet COLUMN (a sensitive column such as age or gender) to "
            "measure it.",
        )
    summary = profile.get("target") or {}
    if summary.get("kind") != "binary":
        return not_checked("label_bias", f"'{target}' is not a binary label.")
    wanted = positive if positive is not None else summary.get("minority")
    report = bias_dataset(project, ref, label=target, positive=wanted, facet=facet).payload
    flagged = [
        f"{g['description']}: {key}"
        for g in report["facets"]
        for key, m in g["metrics"].items()
        if m["flag"]
    ]
    if flagged:
        return item(
            "label_bias",
            "warning",
            f"Labels of '{target}' differ by '{facet}' beyond chance: {', '.join(flagged[:4])}. "
            f"See `shipyard bias {ref} --label {target} --positive {wanted} --facet {facet}`.",
        )
    return item("label_bias", "ok", f"No group of '{facet}' is flagged.")


def _pii(profile: dict[str, Any]) -> dict[str, Any]:
    found = profile.get("pii") or {}
    if not found:
        return item("pii_feature", "ok", "No column looks like personal data.")
    listed = ", ".join(f"{name} ({tag['kind']})" for name, tag in found.items())
    return item(
        "pii_feature",
        "ok",
        f"Tagged as personal data: {listed}. Training refuses them as features unless "
        "--allow-pii or --hash-pii names them.",
    )


def _representative(project: Project, ref: str, against: str | None) -> dict[str, Any]:
    from shipyard.analyze import compare_datasets

    if against is None:
        return not_checked(
            "non_representative",
            "Give --against DATASET (the data the model will score) to compare the two.",
        )
    report = compare_datasets(project, ref, against)
    return item("non_representative", report["status"], report["message"])
