"""Request bodies to rows: the JSON shapes and CSV that the routes accept.

Every parser returns a list of ``{column: value}`` rows for
:meth:`TabularModel.predict_records`, which validates types against the signature; here we
only check the shape and how many rows there are, so a bad request fails before any scoring.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from shipyard.errors import InvalidInput
from shipyard.serve._errors import MalformedBody, PayloadTooLarge

__all__ = ["Rows", "check_count", "rows_from_csv", "rows_from_invocation", "rows_from_predict"]

Rows = list[Mapping[str, Any]]

_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})


def load_json(body: bytes) -> Any:
    """Decode a JSON body, or raise MalformedBody (400) saying where it broke."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(
            f"The body is not valid JSON ({exc}). Send a JSON document with "
            "Content-Type: application/json.",
        ) from None


def rows_from_predict(doc: Any) -> Rows:
    """Rows of a ``/v1/predict`` body: ``{"rows": [{...}, ...]}``."""
    if not isinstance(doc, dict) or "rows" not in doc:
        raise InvalidInput(
            'The body must be a JSON object {"rows": [{column: value, ...}, ...]}. '
            f"Got {_describe(doc)} instead."
        )
    rows = doc["rows"]
    if not isinstance(rows, list):
        raise InvalidInput(f'"rows" must be a list of JSON objects. Got {_describe(rows)}.')
    return rows


def rows_from_invocation(doc: Any, names: Sequence[str]) -> Rows:
    """Rows of a SageMaker ``/invocations`` JSON body.

    Accepts ``{"instances": [...]}``, a bare list, or ``{"columns": [...], "data": [[...]]}``;
    a row is an object, or a list of values in signature order.
    """
    if isinstance(doc, list):
        return _objects(doc, names)
    if isinstance(doc, dict):
        if "instances" in doc:
            instances = doc["instances"]
            if not isinstance(instances, list):
                raise InvalidInput(f'"instances" must be a list. Got {_describe(instances)}.')
            return _objects(instances, names)
        if "data" in doc:
            return _split_frame(doc)
        if "rows" in doc:
            return rows_from_predict(doc)
    raise InvalidInput(
        'The body must be {"instances": [...]}, a list of rows, or '
        '{"columns": [...], "data": [[...], ...]}. '
        f"Got {_describe(doc)} instead."
    )


def rows_from_csv(body: bytes, specs: Sequence[tuple[str, str]]) -> Rows:
    """Rows of a CSV body: values in signature order, or any order under a header line.

    Values are typed by the signature (numbers, true/false, strings, ISO timestamps); an
    empty field is missing.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"The CSV body is not UTF-8 text ({exc}).") from None
    try:
        lines = [row for row in csv.reader(text.splitlines()) if row]
    except csv.Error as exc:
        raise MalformedBody(f"The CSV body cannot be read: {exc}.") from None
    if not lines:
        return []
    names = [name for name, _ in specs]
    order = _header_order(lines[0], names)
    if order is not None:
        lines = lines[1:]
    width = len(lines[0]) if order is None and lines else len(order or ())
    out: Rows = []
    for i, line in enumerate(lines):
        if order is None:
            if len(line) != len(names):
                raise InvalidInput(
                    f"CSV row {i} has {len(line)} values; the model expects {len(names)} in "
                    f"this order: {', '.join(names)} (or send a header line).",
                    details={"row": i, "values": len(line), "expected": len(names)},
                )
            fields = line
        else:
            if len(line) != width:
                raise InvalidInput(
                    f"CSV row {i} has {len(line)} values but the header has {width}.",
                    details={"row": i, "values": len(line), "expected": width},
                )
            fields = [line[j] for j in order]
        out.append(
            {name: _cell(v, kind, name, i) for (name, kind), v in zip(specs, fields, strict=True)}
        )
    return out


def check_count(rows: Rows, max_rows: int) -> None:
    """Refuse an empty request (422) and one with more than ``max_rows`` rows (413)."""
    if not rows:
        raise InvalidInput("The request has no rows. Send at least one row to score.")
    if len(rows) > max_rows:
        raise PayloadTooLarge(
            f"The request has {len(rows):,} rows; this server scores at most {max_rows:,} per "
            "request. Split it, or use batch transform for large files.",
            details={"rows": len(rows), "max_rows": max_rows},
        )


def _objects(items: list[Any], names: Sequence[str]) -> Rows:
    if items and isinstance(items[0], list):
        return _positional(items, names)
    return items


def _positional(items: list[Any], names: Sequence[str]) -> Rows:
    out: Rows = []
    for i, row in enumerate(items):
        if not isinstance(row, list) or len(row) != len(names):
            raise InvalidInput(
                f"Row {i} must be a list of {len(names)} values in this order: "
                f"{', '.join(names)}. Got {_describe(row)}.",
                details={"row": i, "expected": len(names)},
            )
        out.append(dict(zip(names, row, strict=True)))
    return out


def _split_frame(doc: dict[str, Any]) -> Rows:
    columns, data = doc.get("columns"), doc["data"]
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InvalidInput('"columns" must be a list of column names next to "data".')
    if not isinstance(data, list):
        raise InvalidInput(f'"data" must be a list of rows. Got {_describe(data)}.')
    out: Rows = []
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            raise InvalidInput(
                f'Row {i} of "data" must be a list of {len(columns)} values, one per column.',
                details={"row": i, "expected": len(columns)},
            )
        out.append(dict(zip(columns, row, strict=True)))
    return out


def _header_order(first: list[str], names: Sequence[str]) -> list[int] | None:
    """Column positions if ``first`` is a header line, else None.

    A line is a header when most of its fields are column names; then every column the
    model needs must be in it.
    """
    known = set(names)
    hits = sum(1 for f in first if f.strip() in known)
    if hits * 2 <= len(first):
        return None
    position = {f.strip(): j for j, f in enumerate(first)}
    missing = [n for n in names if n not in position]
    if missing:
        raise InvalidInput(
            f"The CSV header lacks column(s) {', '.join(repr(m) for m in missing)}. "
            f"The model expects: {', '.join(names)}.",
            details={"missing": missing},
        )
    return [position[n] for n in names]


def _cell(value: str, kind: str, column: str, row: int) -> Any:
    if value == "":
        return None
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            raise _bad(column, row, value, "a number") from None
    if kind == "boolean":
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise _bad(column, row, value, "true or false")
    return value


def _bad(column: str, row: int, value: str, expected: str) -> InvalidInput:
    return InvalidInput(
        # Not the value itself: a row may hold personal data, and errors reach logs.
        f"Column '{column}' expects {expected}; CSV row {row} has text that is not.",
        details={"column": column, "row": row, "expected": expected},
    )


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(list(map(str, value))[:5])
        return f"an object with keys {keys}" if keys else "an empty object"
    return f"a {type(value).__name__}" if value is not None else "null"
