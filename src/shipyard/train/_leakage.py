"""The split's checks that look past the parts themselves: the same entity on both sides of
a random split, time-stamped rows split at random, and a column that predicts the target far
better than any other. Each finding says what was seen and what to do; none of them stops
training (they are warnings), since each can be a judgment call.

They run on samples (50,000 training rows for the associations, 20,000 rows for the quick
models of the time comparison), so a million-row table adds a second or two, not minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shipyard.analyze import entity_keys, feature_strengths, identifiers, leak_message, leaking
from shipyard.errors import ShipyardError

if TYPE_CHECKING:
    from shipyard.train._split import Split

__all__ = ["entity_findings", "strength_findings", "time_findings"]

ENTITY_SHARE = 0.10  # test rows whose entity is also in train: past this, warn
STRENGTH_ROWS = 50_000
TIME_ROWS = 20_000
TIME_TEST = 0.2


def entity_findings(frame: pd.DataFrame, split: Split) -> list[dict[str, Any]]:
    """A column that looks like an entity key and repeats across rows, whose entities are
    on both sides of a split that did not keep them apart."""
    out = []
    for column, why in entity_keys(frame).items():
        codes, _ = pd.factorize(frame[column], use_na_sentinel=True)
        seen = np.zeros(codes.max(initial=-1) + 2, dtype=bool)
        seen[codes[split.train] + 1] = True
        seen[0] = False  # missing keys name no entity
        shared = float(seen[codes[split.test] + 1].mean()) if len(split.test) else 0.0
        if shared < ENTITY_SHARE:
            continue
        out.append(
            {
                "check": "shared_entities",
                "severity": "warning",
                "column": column,
                "message": f"Column '{column}' looks like an entity key ({why}) and no group "
                f"was given: {shared:.0%} of the test rows belong to a '{column}' that is also "
                "in train, so the test score overstates how the model does on new ones. "
                f"Use --split group --group-column {column}.",
            }
        )
    return out


def strength_findings(
    frame: pd.DataFrame, target: str, split: Split, skip: Sequence[str]
) -> list[dict[str, Any]]:
    """Columns whose association with the target, on the training rows, stands far above
    every other (see :mod:`shipyard.analyze._leakage`), except those in ``skip``."""
    rows = split.train
    if len(rows) > STRENGTH_ROWS:
        rows = np.sort(np.random.default_rng(split.seed).choice(rows, STRENGTH_ROWS, False))
    columns = [c for c in frame.columns if c != target and c not in skip]
    strengths = feature_strengths(frame.iloc[rows], target, columns, seed=split.seed)
    return [
        {
            "check": "target_leakage",
            "severity": "warning",
            "column": leak["column"],
            "message": leak_message(leak, target),
        }
        for leak in leaking(strengths)
    ]


def time_findings(
    frame: pd.DataFrame, target: str, split: Split, exclude: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows that carry a date or time, split at random: what a time split would give."""
    if split.strategy not in ("random", "stratified"):
        return []
    times = [
        c
        for c in frame.columns
        if c != target and pd.api.types.is_datetime64_any_dtype(frame[c]) and frame[c].notna().any()
    ]
    if not times:
        return []
    column = max(times, key=lambda c: frame[c].nunique())
    values = frame[column].dropna()
    span = f"{values.min():%Y-%m-%d} .. {values.max():%Y-%m-%d}"
    compared = _compare_splits(frame, target, column, [*times, *exclude], split.seed)
    seen = (
        f"A quick model scores test {compared['metric']} {compared['random']:.3f} on a "
        f"{split.strategy} split of these rows and {compared['time']:.3f} on a time split "
        f"(the earliest {1 - TIME_TEST:.0%} to train, the latest {TIME_TEST:.0%} to test)."
        if compared
        else "A time split tests the model the way production will use it."
    )
    return [
        {
            "check": "time_leakage",
            "severity": "warning",
            "column": column,
            "message": f"The rows carry a time ('{column}', {span}) and the split is "
            f"{split.strategy}: train and test rows come from the same days, so the test "
            "score says how the model does on days it has already seen, not on later ones. "
            f"{seen} Use --split time --time-column {column}.",
            **({"comparison": compared} if compared else {}),
        }
    ]


def _compare_splits(
    frame: pd.DataFrame, target: str, column: str, exclude: Sequence[str], seed: int
) -> dict[str, Any] | None:
    """The quick model's test score on a random and on a time split of the same sample;
    None when it cannot be computed (a target or features the quick model cannot read)."""
    from shipyard.analyze import encode_pair, quick_fit, quick_metric, quick_score
    from shipyard.model import infer_problem

    rng = np.random.default_rng(seed)
    sample = frame.iloc[np.sort(rng.choice(len(frame), min(len(frame), TIME_ROWS), False))]
    sample = sample[sample[column].notna()]
    n_test = round(TIME_TEST * len(sample))
    if n_test < 20:
        return None
    try:
        problem = infer_problem(sample[target])
        y = problem.encode(sample[target])
        by_time = np.argsort(sample[column].to_numpy(), kind="stable")
        orders = {"random": rng.permutation(len(sample)), "time": by_time}
        drop = [target, *identifiers(sample), *exclude]
        out: dict[str, Any] = {"time_column": column, "rows": len(sample)}
        for name, order in orders.items():
            train, test = order[:-n_test], order[-n_test:]
            x = encode_pair(sample.iloc[train], sample.iloc[test], drop)
            metric = out.setdefault("metric", quick_metric(problem.type, y[train]))
            predicted, _ = quick_fit(
                problem.type, x.first, y[train], x.second, seed=seed, n_classes=len(problem.classes)
            )
            value = quick_score(metric, y[test], predicted)
            if value is None:
                return None
            out[name] = value
    except ShipyardError:
        return None
    return out
