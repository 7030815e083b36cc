"""Is a sample representative? A classifier tries to tell two datasets apart.

Adversarial validation: rows of a reference (the training data) and of another dataset (what
the model scores in production, a newer extract) are sampled alike, labelled by side, and
the quick model (:mod:`shipyard.analyze._quick`) learns to tell them apart with 3-fold
cross-validation. Its out-of-fold ROC AUC is the answer: 0.5 when the two are alike, more as
they differ. At :data:`AUC_THRESHOLD` (0.6) or more the samples differ enough that scores on
the other data are not what training measured, and the report says which columns separate
them most (the classifier's gain, and each column's own AUC).

Left out of the comparison: dates and times (two extracts of different months are told
apart by the month alone), identifiers, and columns Shipyard wrote (a model's scores).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.analyze._identifiers import identifiers
from shipyard.analyze._leakage import feature_strengths
from shipyard.analyze._quick import encode_pair, quick_fit
from shipyard.catalog.refs import parse_dataset_ref
from shipyard.errors import InvalidInput, require_columns

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.entities import DatasetVersion
    from shipyard.project import Project

__all__ = ["AUC_THRESHOLD", "COMPARE_VERSION", "compare_datasets", "compare_frames"]

COMPARE_VERSION = 1
AUC_THRESHOLD = 0.6
MAX_ROWS = 20_000  # rows sampled per side
MIN_ROWS = 50
FOLDS = 3
_TOP = 10
_SIDE = "__side__"


def compare_datasets(
    project: Project,
    reference: str,
    other: str,
    *,
    columns: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    max_rows: int = MAX_ROWS,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare dataset ``other`` with ``reference`` (NAME or NAME@N each) and store the
    report with ``other`` (kind ``compare:<reference>``).

    Args:
        columns: Compare these columns only (default: the columns both have).
        exclude: Columns to leave out.
        max_rows: Rows sampled from each side (uniformly, by DuckDB, seeded).

    Returns:
        ``{"kind", "version", "reference", "other", "rows", "columns_used", "left_out",
        "auc", "threshold", "status" (ok | warning), "columns": [{column, importance,
        auc}], "message", "created_at"}``.

    Raises:
        NotFound: A dataset, version or named column does not exist.
        InvalidInput: Fewer than 50 rows on a side, or no column left to compare.
    """
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < MIN_ROWS:
        raise InvalidInput(
            f"The 'max_rows' parameter of compare must be a whole number of at least "
            f"{MIN_ROWS}. Got {max_rows!r} instead."
        )
    ref_version, other_version = _version(project, reference), _version(project, other)
    ref_names = [c.name for c in ref_version.columns]
    other_names = {c.name for c in other_version.columns}
    require_columns([*(columns or ()), *exclude], ref_names)
    require_columns(list(columns or ()), sorted(other_names))
    shared = [c for c in (columns or ref_names) if c in other_names]
    if not shared:
        raise InvalidInput(
            f"{ref_version.ref} and {other_version.ref} have no column in common; there is "
            "nothing to compare."
        )
    written = _written(project, ref_version) | _written(project, other_version)
    report = compare_frames(
        _sample(project, ref_version, shared, max_rows, seed),
        _sample(project, other_version, shared, max_rows, seed),
        exclude=exclude,
        written=written,
        seed=seed,
    )
    report.update(reference=ref_version.ref, other=other_version.ref)
    report["message"] = _message(report)
    project.catalog.put_report(
        other_version.ref, f"compare:{ref_version.ref}", report, html_uri=None, actor=project.actor
    )
    return report


def compare_frames(
    reference: pd.DataFrame,
    other: pd.DataFrame,
    *,
    exclude: Sequence[str] = (),
    written: dict[str, str] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The comparison of two samples with the same columns (see :func:`compare_datasets`).

    Raises:
        InvalidInput: Fewer than 50 rows on a side, or no column left to compare.
    """
    import pandas as pd

    for side, frame in (("reference", reference), ("other", other)):
        if len(frame) < MIN_ROWS:
            raise InvalidInput(
                f"The {side} sample has {len(frame)} rows; comparing needs at least {MIN_ROWS} "
                "on each side."
            )
    left_out = _left_out(reference, other, exclude, written or {})
    used = [c for c in reference.columns if c not in left_out and c not in exclude]
    if not used:
        raise InvalidInput(
            "No column is left to compare: the datasets share "
            f"{', '.join(reference.columns) or 'no column'}, and "
            f"{', '.join(left_out) or 'the excluded ones'} are left out."
        )
    both = pd.concat([reference[used], other[used]], ignore_index=True)
    side = np.r_[np.zeros(len(reference)), np.ones(len(other))]
    auc, gains = _cross_validated(both, side, used, seed)
    both[_SIDE] = side
    single = {a["column"]: a["value"] for a in feature_strengths(both, _SIDE, used, seed=seed)}
    ranked = sorted(gains.items(), key=lambda kv: -kv[1])[:_TOP]
    return {
        "kind": "shipyard.compare",
        "version": COMPARE_VERSION,
        "rows": {"reference": len(reference), "other": len(other)},
        "columns_used": used,
        "left_out": left_out,
        "auc": auc,
        "threshold": AUC_THRESHOLD,
        "status": "warning" if auc >= AUC_THRESHOLD else "ok",
        "columns": [
            {"column": c, "importance": g, "auc": _away_from_half(single.get(c))}
            for c, g in ranked
            if g > 0
        ],
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _cross_validated(
    both: pd.DataFrame, side: np.ndarray, used: list[str], seed: int
) -> tuple[float, dict[str, float]]:
    """Out-of-fold ROC AUC of the quick model, and each column's share of its gain."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(len(side))
    gain = np.zeros(0)
    names: list[str] = []
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    for train, test in folds.split(np.zeros(len(side)), side):
        x = encode_pair(both.iloc[train], both.iloc[test], ())
        scores[test], model = quick_fit("binary", x.first, side[train], x.second, seed=seed)
        fold_gain = np.asarray(model.feature_importances_, dtype=np.float64)
        gain = fold_gain if gain.size == 0 else gain + fold_gain
        names = x.features
    shares = gain / gain.sum() if gain.sum() > 0 else gain
    by_column: dict[str, float] = {}
    for name, share in zip(names, shares, strict=True):
        column = name if name in used else name.split("__")[0]
        by_column[column] = by_column.get(column, 0.0) + float(share)
    return float(roc_auc_score(side, scores)), by_column


def _away_from_half(auc: float | None) -> float | None:
    """A column's own AUC read either way round (0.3 separates as well as 0.7)."""
    return None if auc is None else max(float(auc), 1.0 - float(auc))


def _left_out(
    reference: pd.DataFrame, other: pd.DataFrame, exclude: Sequence[str], written: dict[str, str]
) -> dict[str, str]:
    import pandas as pd

    out: dict[str, str] = {}
    for name in reference.columns:
        if name in exclude:
            continue
        if name in written:
            out[name] = f"written by Shipyard ({written[name]})"
        elif pd.api.types.is_datetime64_any_dtype(reference[name]):
            out[name] = "a date or time: two periods differ by their dates alone"
    rest = [c for c in reference.columns if c not in out and c not in exclude]
    out.update({c: f"an identifier ({why})" for c, why in identifiers(reference, rest).items()})
    return out


def _message(report: dict[str, Any]) -> str:
    """What the comparison saw and what to do, in a sentence or three."""
    auc, top = report["auc"], report["columns"][:3]
    ref, other = report["reference"], report["other"]
    rows = report["rows"]
    sampled = f"{rows['reference']:,} and {rows['other']:,} sampled rows"
    if report["status"] == "ok":
        how = (
            f"cannot tell their rows apart (ROC AUC {auc:.3f}, below chance: the two share rows"
            if auc < 0.45
            else f"tells their rows apart only with ROC AUC {auc:.3f} ("
        )
        sep = "; " if auc < 0.45 else ""
        return (
            f"{other} looks like {ref}: a classifier {how}{sep}{sampled}; {AUC_THRESHOLD} or "
            "more would be a warning)."
        )
    by = ", ".join(
        f"{c['column']} ({c['importance']:.0%} of the gain"
        + (f", AUC {c['auc']:.2f} alone)" if c["auc"] is not None else ")")
        for c in top
    )
    return (
        f"{other} differs from {ref}: a classifier tells their rows apart with ROC AUC "
        f"{auc:.3f} ({sampled}; threshold {AUC_THRESHOLD}), most by {by}. A model trained on "
        f"{ref} is measured on data unlike {other}: retrain on a sample that resembles it, "
        "or weight the training rows toward it."
    )


def _version(project: Project, ref: str) -> DatasetVersion:
    parsed = parse_dataset_ref(ref)
    return project.catalog.get_dataset_version(parsed.name, parsed.version)


def _written(project: Project, version: DatasetVersion) -> dict[str, str]:
    from shipyard.lake import read_written

    return read_written(project.lake.files(version))


def _sample(
    project: Project, version: DatasetVersion, columns: list[str], rows: int, seed: int
) -> pd.DataFrame:
    """A uniform sample of ``rows`` rows of ``columns`` (all of them when fewer)."""
    from shipyard.analyze._io import duckdb_connect, sql_ident, sql_source

    picked = ", ".join(sql_ident(c) for c in columns) or "*"
    source = sql_source(project.lake.files(version))
    con = duckdb_connect()
    try:
        return con.sql(
            f"SELECT {picked} FROM {source} USING SAMPLE reservoir({int(rows)} ROWS) "
            f"REPEATABLE ({int(seed)})"
        ).df()
    finally:
        con.close()
