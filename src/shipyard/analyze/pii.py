"""Likely personal data in a dataset: found by column name and by content, in DuckDB.

Content checks run regular expressions over a bounded random sample (10,000 rows) in one
DuckDB query per column, then the Luhn check (IMEI, card numbers) in NumPy over the digits
of the matching values. A column is tagged when its name says so, or when at least 80% of
its sampled non-missing values look like one kind. Names that say a column was transformed
already (``..._hash``, ``..._sha256``, ``masked``, ``token``) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from shipyard.analyze._io import duckdb_connect, sql_source

__all__ = ["PII_KINDS", "detect_pii", "luhn_valid", "redact_profile"]

PII_KINDS = ("email", "phone", "imei", "imsi", "ip_address", "card_number", "person_name")

SAMPLE_ROWS = 10_000
_SHARE = 0.8

_TRANSFORMED = re.compile(r"(hash|hashed|sha\d*|digest|masked|token|pseudo)")
_BY_NAME = (
    ("email", re.compile(r"^(e_?mail|mail)(_?addr(ess)?)?$|_e?mail$|^e?mail_")),
    ("phone", re.compile(r"(^|_)(phone|msisdn|mobile|cell|tel|telephone)(_|$)")),
    ("imei", re.compile(r"(^|_)imei(_|$)")),
    ("imsi", re.compile(r"(^|_)imsi(_|$)")),
    ("ip_address", re.compile(r"(^|_)(ip|ip_?addr(ess)?|ipv[46])(_|$)")),
    (
        "card_number",
        re.compile(r"(^|_)(card_?(number|no|num)|pan|cc_?(number|num)|credit_?card)(_|$)"),
    ),
    (
        "person_name",
        re.compile(
            r"^(name|surname|full_?name|first_?name|last_?name|given_?name|family_?name|"
            r"middle_?name|(customer|subscriber|person|user|holder|owner|contact|account)"
            r"_?name)$"
        ),
    ),
)

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"({_OCTET}\.){{3}}{_OCTET}"
_IPV6 = r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}"
_E164 = r"\+[1-9][0-9]{7,14}"
_MSISDN = r"[1-9][0-9]{9,13}"  # international without the +, 10-14 digits
_NATIONAL = r"[+(0][0-9 ().-]{8,20}"  # 06 12 34 56 78, (020) 7946 0018, +44 20 7946 0018
_CARD = r"[0-9]{4}([ -]?[0-9]{4}){2}[ -]?[0-9]{1,7}"


def _name_kind(name: str) -> str | None:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    snake = re.sub(r"[^a-z0-9]+", "_", snake).strip("_")
    if _TRANSFORMED.search(snake):
        return None
    for kind, pattern in _BY_NAME:
        if pattern.search(snake):
            return kind
    return None


def luhn_valid(digits: Sequence[str]) -> np.ndarray:
    """Whether each all-digit string passes the Luhn check (vectorized per length)."""
    values = np.asarray(digits, dtype=object)
    out = np.zeros(len(values), dtype=bool)
    lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        raw = "".join(values[rows]).encode("ascii")
        d = (np.frombuffer(raw, dtype=np.uint8).reshape(len(rows), int(length)) - 48).astype(
            np.int64
        )
        doubled = d[:, int(length) - 2 :: -2] * 2
        total = d[:, int(length) - 1 :: -2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(1)
        out[rows] = total % 10 == 0
    return out


def _content_query(column: str) -> str:
    c = 'CAST("' + column.replace('"', '""') + '" AS VARCHAR)'
    digits = f"regexp_replace({c}, '[^0-9]', '', 'g')"

    def share(pattern: str, extra: str = "") -> str:
        return f"count(*) FILTER (WHERE regexp_full_match({c}, '{pattern}'){extra})"

    return f"""
        SELECT count({c}) AS n,
          {share(_EMAIL)} AS email,
          {share(_IPV4)} + {share(_IPV6, f" AND {c} LIKE '%:%:%'")} AS ip_address,
          {share(_E164)} + {share(_MSISDN)}
            + {share(_NATIONAL, f" AND length({digits}) BETWEEN 9 AND 15")} AS phone,
          {share("[0-9]{15}")} AS fifteen,
          {share("[2-7][0-9]{14}")} AS imsi,
          list({c}) FILTER (WHERE regexp_full_match({c}, '[0-9]{{15}}')) AS imei_values,
          list({digits}) FILTER (WHERE regexp_full_match({c}, '{_CARD}')
            AND length({digits}) BETWEEN 13 AND 19) AS card_values
        FROM sample"""


def _content_kind(row: dict[str, Any], text: bool) -> tuple[str | None, float]:
    n = row["n"] or 0
    if n == 0:
        return None, 0.0
    luhn_imei = int(luhn_valid(row["imei_values"] or []).sum())
    luhn_card = int(luhn_valid(row["card_values"] or []).sum())
    # Order matters: a 15-digit IMEI also looks like an MSISDN, an IMSI like a long number.
    candidates = (
        ("email", row["email"]),
        ("ip_address", row["ip_address"]),
        ("imei", luhn_imei if row["fifteen"] >= _SHARE * n else 0),
        ("card_number", luhn_card if luhn_card > luhn_imei else 0),
        ("imsi", row["imsi"]),
        # A whole number of 10-14 digits is as often an account id as a phone number: only
        # text (or the column's name) says phone.
        ("phone", row["phone"] if text else 0),
    )
    for kind, hits in candidates:
        if hits >= _SHARE * n:
            return kind, hits / n
    return None, 0.0


_TEXTUAL = ("VARCHAR", "BIGINT", "UBIGINT", "HUGEINT", "DECIMAL")


def detect_pii(
    files: Sequence[str], columns: Sequence[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """The columns that likely hold personal data: ``{column: {"kind", "by", "share"}}``.

    Args:
        files: The dataset version's Parquet files.
        columns: ``(name, type)`` of each column (DuckDB types).

    ``by`` is ``name`` or ``content``; ``share`` is the sampled share of values that matched
    (1.0 for a name). No value of the data is returned.
    """
    found: dict[str, dict[str, Any]] = {}
    con = duckdb_connect()
    try:
        con.execute(
            f"CREATE TEMP TABLE sample AS SELECT * FROM {sql_source(files)} "
            f"USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (0)"
        )
        for name, type_ in columns:
            by_name = _name_kind(name)
            if by_name is not None:
                found[name] = {"kind": by_name, "by": "name", "share": 1.0}
                continue
            if _TRANSFORMED.search(name.lower()) or not type_.upper().startswith(_TEXTUAL):
                continue
            cursor = con.execute(_content_query(name))
            keys = [d[0] for d in cursor.description]
            row = dict(zip(keys, cursor.fetchone() or (), strict=False))
            kind, share = _content_kind(row, text=type_.upper().startswith("VARCHAR"))
            if kind is not None:
                found[name] = {"kind": kind, "by": "content", "share": round(share, 4)}
    finally:
        con.close()
    return found


_REDACTED_KEYS = ("top_values", "levels", "min", "max", "examples")


def redact_profile(payload: dict[str, Any], pii: dict[str, dict[str, Any]]) -> None:
    """Drop the values a profile shows of PII columns (top values, levels, min and max)."""
    for column in payload.get("columns", []):
        tag = pii.get(column.get("name"))
        if tag is None:
            continue
        for key in _REDACTED_KEYS:
            if key == "top_values" and column.get(key):
                column[key] = [{**top, "value": f"<{tag['kind']}>"} for top in column["top_values"]]
            elif key in column and key != "top_values":
                column[key] = f"<{tag['kind']}>" if key in ("min", "max") else []
        column.pop("log_histogram", None)  # its edges are values too
        column["pii"] = tag["kind"]
