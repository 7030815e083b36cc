from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.demo import drift_start, generate, training_table_sql
from shipyard.errors import InvalidInput

TABLES = ("subscribers", "usage", "labels")
SMALL = {"subscribers": 2_000, "days": 20, "start": "2026-01-01"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, seed=0, **SMALL)
    return out


@pytest.fixture
def con(demo: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{demo / table}.parquet'")
    return con


def _digest(folder: Path) -> dict[str, str]:
    return {t: hashlib.sha256((folder / f"{t}.parquet").read_bytes()).hexdigest() for t in TABLES}


def test_same_seed_writes_identical_bytes(tmp_path: Path, demo: Path) -> None:
    rows = generate(tmp_path, seed=0, **SMALL)
    assert _digest(tmp_path) == _digest(demo)
    assert rows == {t: pq.read_metadata(demo / f"{t}.parquet").num_rows for t in TABLES}


def test_another_seed_writes_other_content(tmp_path: Path, demo: Path) -> None:
    generate(tmp_path, seed=1, **SMALL)
    theirs, ours = (pq.read_table(p / "usage.parquet") for p in (tmp_path, demo))
    assert not theirs.equals(ours)


@pytest.mark.parametrize(
    ("table", "schema"),
    [
        (
            "subscribers",
            {
                "subscriber_id": pa.string(), "home_country": pa.string(), "plan": pa.string(),
                "activation_date": pa.date32(), "device_model": pa.string(),
                "age_band": pa.string(), "segment": pa.string(),
            },
        ),
        (
            "usage",
            {
                "event_time": pa.timestamp("us"), "subscriber_id": pa.string(),
                "visited_country": pa.string(), "visited_operator": pa.string(),
                "record_type": pa.string(), "duration_s": pa.int32(), "bytes": pa.int64(),
                "destination_country": pa.string(), "is_premium_destination": pa.bool_(),
                "charge": pa.float64(), "device_imei_hash": pa.string(),
                "device_model": pa.string(),
            },
        ),
        (
            "labels",
            {
                "subscriber_id": pa.string(), "day": pa.date32(), "fraud_type": pa.string(),
                "is_fraud": pa.int8(), "confirmed_at": pa.timestamp("us"),
            },
        ),
    ],
)  # fmt: skip
def test_schema(demo: Path, table: str, schema: dict[str, pa.DataType]) -> None:
    written = pq.read_schema(demo / f"{table}.parquet")
    assert dict(zip(written.names, written.types, strict=True)) == schema


def test_values_are_consistent_with_the_record_type(con: duckdb.DuckDBPyConnection) -> None:
    bad = con.execute(
        """SELECT count(*) FILTER (WHERE (duration_s IS NULL) = record_type LIKE 'voice%'),
                  count(*) FILTER (WHERE (bytes IS NULL) = (record_type = 'data')),
                  count(*) FILTER (WHERE (destination_country IS NULL)
                                         = record_type IN ('voice_out', 'sms')),
                  count(*) FILTER (WHERE charge < 0),
                  count(*) FILTER (WHERE split_part(visited_operator, '-', 1) <> visited_country)
           FROM usage"""
    ).fetchone()
    assert bad == (0, 0, 0, 0, 0)
    ids = con.execute("SELECT count(*) FROM usage ANTI JOIN subscribers USING (subscriber_id)")
    assert ids.fetchone() == (0,)


def test_only_some_subscribers_roam_on_a_given_day(con: duckdb.DuckDBPyConnection) -> None:
    share = con.execute(
        """SELECT avg(n) / (SELECT count(*) FROM subscribers) FROM (
               SELECT count(DISTINCT subscriber_id) AS n FROM usage
               GROUP BY CAST(event_time AS DATE))"""
    ).fetchone()[0]
    assert 0.02 < share < 0.2


def test_fraud_is_rare_and_labelled_late(con: duckdb.DuckDBPyConnection) -> None:
    rate, late, on_roaming_days, types = con.execute(
        """SELECT count(*) / (SELECT count(DISTINCT (subscriber_id, CAST(event_time AS DATE)))
                              FROM usage),
                  bool_and(confirmed_at >= day + INTERVAL 1 DAY
                           AND confirmed_at < day + INTERVAL 11 DAY),
                  count(*) = count(*) FILTER (WHERE EXISTS (
                      SELECT 1 FROM usage u WHERE u.subscriber_id = l.subscriber_id
                      AND CAST(u.event_time AS DATE) = l.day)),
                  list(DISTINCT fraud_type ORDER BY fraud_type)
           FROM labels AS l"""
    ).fetchone()
    assert 0.005 < rate < 0.035
    assert late and on_roaming_days
    assert types == [
        "account_takeover", "revenue_share", "simbox", "subscription", "wangiri"
    ]  # fmt: skip


def test_drift_late_in_the_period(con: duckdb.DuckDBPyConnection) -> None:
    drift = drift_start(SMALL["start"], SMALL["days"])
    by_period = con.execute(
        f"""SELECT event_time >= DATE '{drift}' AS late,
                   count(*) FILTER (WHERE visited_operator IN ('ES-Digi', 'IT-Iliad')),
                   avg(bytes)
            FROM usage GROUP BY late ORDER BY late"""
    ).fetchall()
    (_, new_operator_early, bytes_early), (_, new_operator_late, bytes_late) = by_period
    assert new_operator_early == 0 < new_operator_late
    assert bytes_late > 1.3 * bytes_early
    wangiri = con.execute("SELECT min(day) FROM labels WHERE fraud_type = 'wangiri'").fetchone()[0]
    assert wangiri >= drift


def test_drift_start_is_the_last_sixth() -> None:
    assert drift_start("2026-01-01", 60).isoformat() == "2026-02-20"
    assert drift_start("2026-01-01", 20) - drift_start("2026-01-01", 14) == timedelta(days=5)


def test_training_table_has_one_row_per_roaming_subscriber_day(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(f"CREATE TEMP TABLE t AS {training_table_sql()}")
    rows, keys, frauds, labels, values = con.execute(
        """SELECT count(*), count(DISTINCT (subscriber_id, day)), sum(is_fraud),
                  (SELECT count(*) FROM labels), list(DISTINCT is_fraud ORDER BY is_fraud)
           FROM t"""
    ).fetchone()
    roaming = con.execute(
        "SELECT count(DISTINCT (subscriber_id, CAST(event_time AS DATE))) FROM usage"
    ).fetchone()[0]
    assert rows == keys == roaming
    assert frauds == labels
    assert values == [0, 1]


def test_training_table_range_is_a_slice_of_the_full_table(
    con: duckdb.DuckDBPyConnection,
) -> None:
    full = con.execute(
        f"SELECT * FROM ({training_table_sql()}) WHERE day >= DATE '2026-01-08' "
        "AND day < DATE '2026-01-15'"
    ).fetchall()
    part = con.execute(training_table_sql("2026-01-08", "2026-01-15")).fetchall()
    assert part == full and part


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"subscribers": 99}, "The 'subscribers' parameter of generate must be an integer >= 100"),
        ({"days": 3}, "The 'days' parameter of generate must be an integer >= 14. Got 3 instead."),
        ({"days": 30.0}, "'days' parameter of generate must be an integer >= 14. Got 30.0"),
        ({"seed": -1}, "The 'seed' parameter of generate must be an integer >= 0"),
        ({"start": "01/02/2026"}, "The 'start' parameter of generate must be an ISO date"),
        ({"progress": "yes"}, "The 'progress' parameter of generate must be a callable"),
    ],
)
def test_bad_arguments_raise_invalid_input(
    tmp_path: Path, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message.replace(".", r"\.")):
        generate(tmp_path, **arguments)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("since", "until"), [("2026-13-01", None), (None, "1 = 1; DROP"), ("2026-02-01", "2026-01-01")]
)
def test_bad_day_range_raises_invalid_input(since: str | None, until: str | None) -> None:
    with pytest.raises(InvalidInput, match="parameter of training_table_sql"):
        training_table_sql(since, until)


def test_progress_reports_each_stage(tmp_path: Path) -> None:
    messages: list[str] = []
    generate(tmp_path, subscribers=100, days=14, progress=messages.append)
    assert any("usage.parquet" in m for m in messages)
    assert len(messages) >= 4
