"""Request bodies to rows: the JSON shapes and CSV that the routes accept.

Every parser returns a list of ``{column: value}`` rows for
:meth:`TabularModel.predict_records`, which validates types against the signature; here we
only check the shape and how many rows there are, so a bad request fails before any scoring.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence, Sized
from typing import Any

import orjson

from shipyard.errors import InvalidInput
from shipyard.serve._errors import MalformedBody, PayloadTooLarge

__all__ = [
    "MLFLOW_KEYS",
    "Rows",
    "check_count",
    "rows_from_csv",
    "rows_from_invocation",
    "rows_from_predict",
]

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
    """Rows of an ``/invocations`` JSON body: SageMaker's shapes and MLflow's scoring payloads.

    Accepts a bare list, ``{"instances": [...]}``, ``{"columns": [...], "data": [[...]]}``,
    ``{"rows": [...]}``, and MLflow's ``{"dataframe_split": {"columns", "data", "index"}}``,
    ``{"dataframe_records": [...]}`` and ``{"inputs": ...}`` (a list of rows, or an object of
    columns: ``{column: [values]}``); a row is an object, or a list of values in signature
    order. MLflow's ``params`` may come along only when empty: no Shipyard model takes any.

    Raises:
        InvalidInput: Another shape, more than one of MLflow's keys, or non-empty ``params``.
    """
    if isinstance(doc, list):
        return _objects(doc, names)
    if isinstance(doc, dict):
        mlflow = [key for key in MLFLOW_KEYS if key in doc]
        if mlflow:
            return _mlflow_rows(doc, mlflow, names)
        if "data" in doc:
            return _split_frame(doc, names, "")
        if "rows" in doc:
            return rows_from_predict(doc)
    raise InvalidInput(
        'The body must be {"instances": [...]}, a list of rows, {"columns": [...], '
        '"data": [[...], ...]}, or one of MLflow\'s payloads {"dataframe_split": ...}, '
        '{"dataframe_records": [...]}, {"inputs": ...}. '
        f"Got {_describe(doc)} instead."
    )


MLFLOW_KEYS = ("instances", "inputs", "dataframe_split", "dataframe_records")
"""The payload keys of MLflow's scoring server (a body carries exactly one)."""


def _mlflow_rows(doc: dict[str, Any], keys: list[str], names: Sequence[str]) -> Rows:
    if len(keys) > 1:
        raise InvalidInput(
            f"The body carries {' and '.join(repr(k) for k in keys)}; send exactly one of "
            f"{', '.join(repr(k) for k in MLFLOW_KEYS)}.",
            details={"keys": keys},
        )
    params = doc.get("params")
    if params is not None and params != {}:
        raise InvalidInput(
            f"This model takes no params; the body sends {_describe(params)} under 'params'. "
            "Drop them: a Shipyard model scores rows only.",
            details={"params": sorted(params) if isinstance(params, dict) else None},
        )
    key = keys[0]
    value = doc[key]
    if key == "dataframe_split":
        if not isinstance(value, dict):
            raise InvalidInput(
                '"dataframe_split" must be an object {"columns": [...], "data": [[...]], '
                f'"index": [...]}}. Got {_describe(value)}.'
            )
        extra = sorted(set(value) - {"columns", "data", "index"})
        if extra or "data" not in value:
            raise InvalidInput(
                '"dataframe_split" must have "data" and optionally "columns" and "index"'
                f"{'; it also has ' + ', '.join(map(repr, extra)) if extra else ''}.",
                details={"keys": sorted(value)},
            )
        return _split_frame(value, names, "dataframe_split.")
    if key == "inputs" and isinstance(value, dict):
        return _columns_to_rows(value)
    if not isinstance(value, list):
        raise InvalidInput(f'"{key}" must be a list of rows. Got {_describe(value)}.')
    if key == "dataframe_records" and value and not isinstance(value[0], dict):
        raise InvalidInput(
            '"dataframe_records" must be a list of objects {column: value}. '
            f"Got a list of {_describe(value[0])}."
        )
    return _objects(value, names)


def _columns_to_rows(columns: dict[str, Any]) -> Rows:
    """MLflow's ``{"inputs": {column: [values]}}`` (or one row of scalars) as rows."""
    if not columns:
        return []
    lists = {k: v for k, v in columns.items() if isinstance(v, list)}
    if not lists:  # {"inputs": {"amount": 1.5, ...}}: one row
        return [columns]
    if len(lists) != len(columns):
        scalar = next(k for k in columns if k not in lists)
        raise InvalidInput(
            f'"inputs" must map every column to a list of values (or every column to one '
            f"value). Column '{scalar}' has {_describe(columns[scalar])}.",
            details={"column": scalar},
        )
    lengths = {len(v) for v in lists.values()}
    if len(lengths) > 1:
        raise InvalidInput(
            '"inputs" columns differ in length: '
            + ", ".join(f"'{k}' has {len(v)}" for k, v in lists.items())
            + ". Every column needs one value per row.",
            details={k: len(v) for k, v in lists.items()},
        )
    keys = list(lists)
    return [dict(zip(keys, values, strict=True)) for values in zip(*lists.values(), strict=True)]


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


def check_count(rows: Sized, max_rows: int) -> None:
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


def _split_frame(doc: dict[str, Any], names: Sequence[str], where: str) -> Rows:
    """Rows of a split frame: ``data`` under ``columns`` (signature order when ``where`` is
    MLflow's and there are none); an ``index`` is read by pandas only, so it is ignored."""
    columns, data = doc.get("columns"), doc["data"]
    if columns is None and where:
        columns = list(names)
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InvalidInput(f'"{where}columns" must be a list of column names next to "data".')
    if not isinstance(data, list):
        raise InvalidInput(f'"{where}data" must be a list of rows. Got {_describe(data)}.')
    index = doc.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(data)):
        raise InvalidInput(
            f'"{where}index" must be a list with one label per row of "data" ({len(data)}).'
        )
    out: Rows = []
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            raise InvalidInput(
                f'Row {i} of "{where}data" must be a list of {len(columns)} values, one per '
                f"column ({', '.join(columns)}).",
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
