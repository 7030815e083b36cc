"""Train / validation / test splits that are recorded, seeded and checked for leakage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shipyard.entities import DatasetVersion
from shipyard.errors import InvalidInput, did_you_mean, require_columns
from shipyard.project import Project
from shipyard.train._leakage import entity_findings, strength_findings, time_findings

__all__ = ["STRATEGIES", "Split", "split_dataset", "split_frame"]

STRATEGIES = ("random", "stratified", "time", "group", "column")
_PARTS = {"train": 0, "valid": 1, "validation": 1, "test": 2}
_MAX_STRATA = 20


@dataclass
class Split:
    """Row positions of each part, how they were made, and what the leakage checks found."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    strategy: str
    seed: int
    findings: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "seed": self.seed,
            "rows": {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)},
            "findings": self.findings,
            **self.info,
        }

    @property
    def severe(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["severity"] == "error"]


def split_frame(
    frame: pd.DataFrame,
    target: str,
    *,
    strategy: str = "stratified",
    time_column: str | None = None,
    group_column: str | None = None,
    split_column: str | None = None,
    valid_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 0,
    exclude: Sequence[str] = (),
) -> Split:
    """Split rows into train, validation and test, then check the split for leakage.

    ``random`` shuffles; ``stratified`` keeps the class balance in each part; ``time`` puts
    the earliest rows in train and the latest in test; ``group`` keeps every value of
    ``group_column`` within one part; ``column`` takes each row's part from ``split_column``
    (train, valid or test; without valid rows, ``valid_size`` of the train rows are drawn,
    stratified), for a test set fixed outside Shipyard. Columns in ``exclude`` (not to be
    features) are not judged as leaks.

    Raises:
        InvalidInput: Unknown strategy, bad sizes, or a part that would be empty.
        NotFound: The time or group column does not exist.
    """
    _check_options(strategy, valid_size, test_size, len(frame))
    rng = np.random.default_rng(seed)
    if strategy == "time":
        train, valid, test, info = _by_time(frame, time_column, valid_size, test_size)
    elif strategy == "group":
        train, valid, test, info = _by_group(frame, group_column, valid_size, test_size, rng)
    elif strategy == "column":
        train, valid, test, info = _by_column(frame, target, split_column, valid_size, rng)
    elif strategy == "stratified":
        train, valid, test, info = _stratified(frame[target], valid_size, test_size, rng)
    else:
        train, valid, test, info = _random(len(frame), valid_size, test_size, rng)
    for name, part_rows in (("train", train), ("validation", valid), ("test", test)):
        if len(part_rows) == 0:
            raise InvalidInput(f"The {name} part of the split is empty; use more rows.")
    split = Split(train, valid, test, strategy, seed, info=info)
    split.findings = check_leakage(frame, target, split, group_column, exclude)
    return split


def _check_options(strategy: str, valid_size: float, test_size: float, n: int) -> None:
    """Refuse an unknown strategy, sizes that leave no train part, or too few rows."""
    if strategy not in STRATEGIES:
        raise InvalidInput(
            f"Unknown split strategy '{strategy}'.{did_you_mean(strategy, STRATEGIES)} "
            f"Use one of: {', '.join(STRATEGIES)}."
        )
    if not (0 < valid_size < 1 and 0 < test_size < 1 and valid_size + test_size < 0.9):
        raise InvalidInput(
            "valid_size and test_size must be in (0, 1) and add up to less than 0.9. "
            f"Got {valid_size} and {test_size} instead."
        )
    if n < 20:
        raise InvalidInput(f"{n} rows are too few to split into train, validation and test.")


# What each strategy returns: the row positions of train, valid and test, and what to record.
_Parts = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]


def _by_time(
    frame: pd.DataFrame, time_column: str | None, valid_size: float, test_size: float
) -> _Parts:
    """The earliest rows in train, the latest in test."""
    column = _require(frame, time_column, "--time-column", "a time split")
    order = np.argsort(frame[column].to_numpy(), kind="stable")
    train, valid, test = _cut(order, valid_size, test_size)
    values = frame[column]
    cutoffs = {"valid_from": str(values.iloc[valid[0]]), "test_from": str(values.iloc[test[0]])}
    return train, valid, test, {"time_column": column, "cutoffs": cutoffs}


def _by_group(
    frame: pd.DataFrame,
    group_column: str | None,
    valid_size: float,
    test_size: float,
    rng: np.random.Generator,
) -> _Parts:
    """Every value of the group column within one part, the groups shuffled."""
    column = _require(frame, group_column, "--group-column", "a group split")
    codes, uniques = pd.factorize(frame[column])
    perm = rng.permutation(len(uniques))
    g_train, g_valid, _ = _cut(perm, valid_size, test_size)
    part = np.full(len(uniques), 2)
    part[g_train] = 0
    part[g_valid] = 1
    row_part = part[codes]
    train, valid, test = (np.flatnonzero(row_part == k) for k in range(3))
    return train, valid, test, {"group_column": column}


def _by_column(
    frame: pd.DataFrame,
    target: str,
    split_column: str | None,
    valid_size: float,
    rng: np.random.Generator,
) -> _Parts:
    """Each row's part as the split column names it."""
    column = _require(frame, split_column, "--split-column", "a column split")
    train, valid, test = _given_parts(frame, target, column, valid_size, rng)
    return train, valid, test, {"split_column": column}


def _stratified(
    target: pd.Series, valid_size: float, test_size: float, rng: np.random.Generator
) -> _Parts:
    """The class balance (or the deciles of a numeric target) kept in each part."""
    train_l, valid_l, test_l = [], [], []
    strata = _strata(target)
    for _, idx in strata.groupby(strata, sort=True, dropna=False).indices.items():
        t, v, s = _cut(rng.permutation(idx), valid_size, test_size)
        train_l.append(t)
        valid_l.append(v)
        test_l.append(s)
    train, valid, test = (np.sort(np.concatenate(p)) for p in (train_l, valid_l, test_l))
    return train, valid, test, {}


def _random(n: int, valid_size: float, test_size: float, rng: np.random.Generator) -> _Parts:
    """The rows shuffled."""
    train, valid, test = _cut(rng.permutation(n), valid_size, test_size)
    return np.sort(train), np.sort(valid), np.sort(test), {}


def check_leakage(
    frame: pd.DataFrame,
    target: str,
    split: Split,
    group_column: str | None = None,
    exclude: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Findings about a split: rows repeated across parts, shared entities (given, or a
    column that looks like an entity key), time order, time-stamped rows split at random,
    and columns that are near-copies of the target or predict it far better than any other
    (except those in ``exclude``)."""
    findings: list[dict[str, Any]] = []
    features = frame.drop(columns=[target])
    hashes = pd.util.hash_pandas_object(features, index=False).to_numpy()
    train_hashes = set(hashes[split.train].tolist())
    repeated = int(np.isin(hashes[split.test], list(train_hashes)).sum())
    if repeated:
        share = repeated / len(split.test)
        findings.append(
            {
                "check": "duplicate_rows",
                "severity": "error" if share > 0.05 else "warning",
                "message": f"{repeated} test rows ({share:.1%}) also appear in train: the test "
                "score overstates quality. Deduplicate, or split by group.",
            }
        )
    if not group_column and split.strategy in ("random", "stratified"):
        findings.extend(entity_findings(frame, split))
    if group_column and split.strategy != "group":
        groups = frame[group_column].to_numpy()
        shared = np.intersect1d(groups[split.train], groups[split.test])
        if len(shared):
            findings.append(
                {
                    "check": "shared_entities",
                    "severity": "warning",
                    "message": f"{len(shared)} values of '{group_column}' are in both train and "
                    "test. Use --split group to keep each entity in one part.",
                }
            )
    if split.strategy == "time":
        column = split.info["time_column"]
        values = frame[column]
        if values.iloc[split.test].min() < values.iloc[split.train].max():
            findings.append(
                {
                    "check": "time_order",
                    "severity": "error",
                    "message": "Test rows are earlier than training rows in a time split.",
                }
            )
    kept = frame.iloc[split.train].drop(columns=list(exclude), errors="ignore")
    copies = _target_copies(kept, target)
    copied = [f["column"] for f in copies]
    findings.extend(copies)
    findings.extend(strength_findings(frame, target, split, [*exclude, *copied]))
    findings.extend(time_findings(frame, target, split, exclude))
    return findings


_COPY_CORRELATION = 0.99


def _target_copies(train: pd.DataFrame, target: str) -> list[dict[str, Any]]:
    """Columns that give the target away on the training rows.

    A numeric column whose correlation with a numeric or binary target is at least 0.99, or
    a column of repeated values each of which always comes with the same target value.
    """
    y = train[target]
    if y.nunique(dropna=True) < 2:
        return []
    codes = (
        y.astype("float64")
        if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
        else pd.Series(pd.factorize(y)[0], index=y.index, dtype="float64")
    )
    binary_or_numeric = y.nunique() == 2 or pd.api.types.is_numeric_dtype(y)
    findings = []
    for column in train.columns.drop(target):
        values = train[column]
        reason = None
        if (
            binary_or_numeric
            and pd.api.types.is_numeric_dtype(values)
            and not pd.api.types.is_bool_dtype(values)
            and values.nunique() > 1
        ):
            corr = values.astype("float64").corr(codes)
            if corr == corr and abs(corr) >= _COPY_CORRELATION:
                reason = f"its correlation with '{target}' is {corr:+.3f}"
        distinct = values.nunique(dropna=True)
        # Groups of five rows on average, so that unique values are not "pure" by chance.
        if reason is None and 1 < distinct <= len(values) // 5:
            purity = codes.groupby(values, observed=True).nunique()
            if (purity == 1).all():
                reason = f"each of its {distinct} values always comes with the same '{target}'"
        if reason:
            findings.append(
                {
                    "check": "target_copy",
                    "severity": "error",
                    "column": column,
                    "message": f"Column '{column}' is a near-copy of the target: {reason}. "
                    "It is likely leakage (known only after the label); exclude it with "
                    f"--exclude {column}.",
                }
            )
    return findings


def _given_parts(
    frame: pd.DataFrame, target: str, column: str, valid_size: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = frame[column].astype("string").str.strip().str.lower()
    unknown = sorted(set(labels.dropna().unique()) - set(_PARTS))
    if unknown or labels.isna().any():
        shown = ", ".join(repr(v) for v in unknown[:5]) or "missing values"
        raise InvalidInput(
            f"Column '{column}' must say train, valid or test on every row; it has {shown}."
        )
    part = labels.map(_PARTS).to_numpy(dtype=np.int64)
    train, valid, test = (np.flatnonzero(part == k) for k in range(3))
    if len(valid) == 0 and len(train):
        strata = _strata(frame[target].iloc[train])
        drawn = []
        for _, idx in strata.groupby(strata, sort=True, dropna=False).indices.items():
            order = rng.permutation(idx)
            drawn.append(order[: max(1, round(len(idx) * valid_size))])
        picked = np.zeros(len(train), dtype=bool)
        picked[np.concatenate(drawn)] = True
        train, valid = train[~picked], train[picked]
    return train, valid, test


def _strata(target: pd.Series) -> pd.Series:
    """The classes of a class-like target; deciles of a many-valued numeric one (regression),
    whose every value would otherwise be a stratum of one row."""
    values = target.reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique() > _MAX_STRATA:
        return pd.Series(pd.qcut(values.rank(method="first"), 10, labels=False), name=target.name)
    return values


def _cut(order: np.ndarray, valid_size: float, test_size: float) -> tuple[np.ndarray, ...]:
    n = len(order)
    n_test = max(1, round(n * test_size)) if n >= 3 else 0
    n_valid = max(1, round(n * valid_size)) if n >= 3 else 0
    n_train = n - n_valid - n_test
    return order[:n_train], order[n_train : n_train + n_valid], order[n_train + n_valid :]


def _require(frame: pd.DataFrame, column: str | None, flag: str, what: str) -> str:
    if not column:
        raise InvalidInput(f"{what.capitalize()} needs {flag} COLUMN.")
    require_columns([column], list(frame.columns))
    return column


def split_dataset(
    project: Project,
    dataset: str,
    target: str,
    **options: Any,
) -> tuple[DatasetVersion, dict[str, Any]]:
    """Split a dataset version as training would, and store the report with the dataset.

    Takes the keyword arguments of :func:`split_frame`.
    """
    from shipyard.catalog.refs import parse_dataset_ref

    ref = parse_dataset_ref(dataset)
    version = project.catalog.get_dataset_version(ref.name, ref.version)
    frame = project.lake.read_frame(version)
    require_columns([target], list(frame.columns), role="target")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    parts = split_frame(frame, target, **options)
    report = {"dataset": version.ref, "target": target, **parts.summary()}
    y = frame[target]
    if pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        report["target_mean"] = {
            name: float(y.iloc[rows].astype("float64").mean())
            for name, rows in (("train", parts.train), ("valid", parts.valid), ("test", parts.test))
        }
    project.catalog.put_report(
        version.ref, f"split:{target}", report, html_uri=None, actor=project.actor
    )
    return version, report
