"""compare(): no false alarm on identical distributions, each kind of shift caught, the
multivariate check catching a correlation change, reports and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.ingest import ingest_path
from shipyard.monitor import DriftInput, DriftReport, compare
from shipyard.project import Project

LEVELS = np.array(["a", "b", "c", "d", "e"])
SHARES = np.array([0.4, 0.25, 0.15, 0.12, 0.08])


def table(n: int, rng: np.random.Generator, **shift: object) -> pa.Table:
    """Numbers of three shapes, categories and a column with gaps; ``shift`` plants drift."""
    x = rng.normal(10, 2, n) + float(shift.get("mean", 0.0))  # type: ignore[arg-type]
    spread = rng.normal(0, 1, n) * float(shift.get("sd", 1.0))  # type: ignore[arg-type]
    shares = SHARES[::-1] if shift.get("reverse") else SHARES
    if shift.get("move"):
        shares = np.array([0.25, 0.25, 0.3, 0.12, 0.08])
    cat = LEVELS[rng.choice(5, n, p=shares)].astype(object)
    if shift.get("new"):
        cat[rng.random(n) < 0.05] = "new"
    gaps = rng.exponential(3, n)
    return pa.table(
        {
            "x": x,
            "spread": spread,
            "skewed": rng.lognormal(0, 1.2, n),
            "count": rng.poisson(30, n),
            "cat": cat.astype(str),
            "flag": rng.random(n) < 0.1,
            "gaps": pa.array(gaps, mask=rng.random(n) < 0.1),
        }
    )


def run(tmp_path: Path, ref: pa.Table, cur: pa.Table, **kw: object) -> DriftReport:
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(cur, tmp_path / "cur.parquet")
    return compare(
        None,
        DriftInput.of_parquet(tmp_path / "ref.parquet"),
        DriftInput.of_parquet(tmp_path / "cur.parquet"),
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("rows", [300, 5_000, 300_000], ids=["small", "mid", "large"])
def test_same_distribution_is_not_flagged(tmp_path: Path, rows: int) -> None:
    rng = np.random.default_rng(rows)
    report = run(tmp_path, table(rows, rng), table(rows, rng))
    assert report.drifted_columns == ()
    assert report.multivariate is not None and not report.multivariate.drifted
    assert not report.drifted
    assert report.regime == ("tests" if rows <= 1000 else "distances")


@pytest.mark.parametrize(
    ("shift", "column"),
    [
        ({"mean": 0.6}, "x"),
        ({"sd": 1.6}, "spread"),
        ({"reverse": True}, "cat"),
        ({"move": True}, "cat"),
        ({"new": True}, "cat"),
    ],
    ids=["mean", "variance", "reversed-categories", "frequency", "new-category"],
)
@pytest.mark.parametrize("rows", [800, 200_000], ids=["small", "large"])
def test_each_kind_of_shift_is_caught_alone(
    tmp_path: Path, shift: dict[str, object], column: str, rows: int
) -> None:
    rng = np.random.default_rng(rows)
    report = run(tmp_path, table(rows, rng), table(rows, rng, **shift))
    assert report.drifted_columns == (column,), [c.explanation for c in report.columns]
    hit = next(c for c in report.columns if c.column == column)
    expected = {"x": ("ks", "wasserstein"), "spread": ("ks", "wasserstein")}.get(
        column, ("chi_square", "jensen_shannon")
    )
    assert hit.test == expected[rows > 1000]
    assert hit.explanation


def test_missing_share_jump_flags_a_number(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref, cur = table(50_000, rng), table(50_000, rng)
    gaps = cur.column("gaps").to_numpy(zero_copy_only=False)
    cur = cur.set_column(6, "gaps", pa.array(gaps, mask=rng.random(gaps.size) < 0.4))
    report = run(tmp_path, ref, cur)
    assert report.drifted_columns == ("gaps",)
    assert "missing" in report.columns[6].explanation


@pytest.mark.parametrize("direction", ["appears", "vanishes"])
def test_multivariate_catches_a_correlation_change_with_fixed_marginals(
    tmp_path: Path, direction: str
) -> None:
    rng = np.random.default_rng(11)
    n = 100_000

    def pair(rho: float) -> pa.Table:
        a = rng.normal(0, 1, n)
        b = rho * a + np.sqrt(1 - rho**2) * rng.normal(0, 1, n)
        return pa.table({"a": a, "b": b, "c": rng.normal(5, 2, n)})

    ref, cur = (pair(0.0), pair(0.7)) if direction == "appears" else (pair(0.7), pair(0.0))
    report = run(tmp_path, ref, cur)
    assert report.drifted_columns == ()  # every marginal is the same
    mv = report.multivariate
    assert mv is not None and mv.drifted and mv.statistic > 0.55
    assert mv.correlation_change is not None
    assert sorted(mv.correlation_change["columns"]) == ["a", "b"]
    assert report.drifted


def test_report_is_strict_json_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ref = table(2000, rng)
    cur = table(2000, rng, mean=1.0).append_column("extra", pa.array(np.ones(2000)))
    report = run(tmp_path, ref, cur)
    text = report.to_json()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["n_drifted"] == 1 and data["only_in_current"] == ["extra"]
    again = DriftReport.from_dict(data)
    assert again.drifted_columns == ("x",) and again.n_columns == report.n_columns


def test_html_is_self_contained(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    html = run(tmp_path, table(3000, rng), table(3000, rng, reverse=True)).to_html()
    assert html.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in html
    assert "<script src=" not in html and "cat" in html


def test_columns_option_and_skipped_types(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    ref = table(500, rng).append_column("ts", pa.array(np.arange(500).astype("datetime64[s]")))
    cur = table(500, rng).append_column("ts", pa.array(np.arange(500).astype("datetime64[s]")))
    report = run(tmp_path, ref, cur)
    assert "ts" in report.skipped and "ts" not in [c.column for c in report.columns]
    only = run(tmp_path, ref, cur, columns=["x", "cat"])
    assert [c.column for c in only.columns] == ["x", "cat"]


def test_unknown_column_suggests_a_close_name(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    with pytest.raises(NotFound, match="Did you mean 'spread'"):
        run(tmp_path, table(100, rng), table(100, rng), columns=["spraed"])


def test_no_common_column_and_empty_side(tmp_path: Path) -> None:
    left = DriftInput.of_query("SELECT 1 AS a")
    with pytest.raises(InvalidInput, match="no column in common"):
        compare(None, left, DriftInput.of_query("SELECT 2 AS b"))
    with pytest.raises(InvalidInput, match="has no rows"):
        compare(None, left, DriftInput.of_query("SELECT 1 AS a WHERE false", label="window"))


def test_a_query_must_be_read_only() -> None:
    with pytest.raises(InvalidInput):
        compare(None, DriftInput.of_query("DROP TABLE x"), DriftInput.of_query("SELECT 1 AS a"))


def test_dataset_references_resolve_through_the_catalog(project: Project, tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    for name, t in (("base", table(3000, rng)), ("later", table(3000, rng, mean=1.0))):
        pq.write_table(t, tmp_path / f"{name}.parquet")
        ingest_path(project, tmp_path / f"{name}.parquet", name)
    report = compare(project, "base", "later@1")
    assert report.reference == "base@1" and report.current == "later@1"
    assert report.drifted_columns == ("x",)
    with pytest.raises(NotFound, match="Did you mean 'base'"):
        compare(project, "bsae", "later")
