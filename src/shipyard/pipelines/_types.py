"""The types a pipeline speaks: what a parameter, a step's input and a step's output may be,
which output an input accepts, and how a value of each type is checked and written.

* ``dataset``: a dataset version, as its ref ``name@N``.
* ``model``: a model version, as its ref ``name:N``.
* ``report``: a stored report, as ``{"subject", "kind"}`` (``shipyard`` keeps its JSON).
* ``json``: any small JSON value; ``str``, ``int``, ``float``, ``bool``: those scalars.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from shipyard.catalog.refs import parse_dataset_ref, parse_model_ref
from shipyard.errors import InvalidInput, ShipyardError

__all__ = [
    "ARTIFACT_TYPES",
    "TYPES",
    "accepts",
    "check_value",
    "parse_duration",
    "parse_text",
]

TYPES = ("dataset", "model", "report", "json", "str", "int", "float", "bool")
ARTIFACT_TYPES = ("dataset", "model", "report")
_SCALARS = {"str": str, "int": int, "float": float, "bool": bool}
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
JSON_MAX_BYTES = 1_000_000
"""A ``json`` value is small: the catalog stores it with the step."""


def accepts(input_type: str, output_type: str) -> bool:
    """Whether an input of ``input_type`` may consume an output of ``output_type``.

    >>> accepts("float", "int"), accepts("json", "float"), accepts("dataset", "model")
    (True, True, False)
    """
    if input_type == output_type:
        return True
    if input_type == "float" and output_type == "int":
        return True
    return input_type == "json" and output_type in ("json", *_SCALARS)


def check_value(kind: str, value: Any, where: str) -> Any:
    """``value`` as a value of type ``kind`` (an int stands for a float), or a clear error.

    Raises:
        InvalidInput: The value is not of that type; the message names ``where``.
    """
    try:
        return _check(kind, value)
    except ShipyardError as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{where} must be {_article(kind)}. Got {value!r} ({exc}).") from None


def _check(kind: str, value: Any) -> Any:
    if kind == "dataset":
        if not isinstance(value, str):
            raise TypeError("a dataset is given by its name or NAME@VERSION")
        parse_dataset_ref(value)
        return value
    if kind == "model":
        if not isinstance(value, str):
            raise TypeError("a model is given by NAME, NAME:VERSION or NAME@ALIAS")
        parse_model_ref(value)
        return value
    if kind == "report":
        if not (isinstance(value, dict) and {"subject", "kind"} <= set(value)):
            raise TypeError("a report is {'subject': ..., 'kind': ...}")
        return value
    if kind == "json":
        text = json.dumps(value, allow_nan=False)
        if len(text) > JSON_MAX_BYTES:
            raise ValueError(f"{len(text):,} bytes of JSON; at most {JSON_MAX_BYTES:,}")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"not a number but {type(value).__name__}")
        if kind == "int" and (isinstance(value, float) and not value.is_integer()):
            raise TypeError("not a whole number")
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return int(value) if kind == "int" else float(value)
    if kind in _SCALARS:
        if not isinstance(value, _SCALARS[kind]):
            raise TypeError(f"not {kind} but {type(value).__name__}")
        return value
    raise InvalidInput(f"unknown type {kind!r}; the types are {', '.join(TYPES)}")


def parse_text(kind: str, text: str, where: str) -> Any:
    """A value of type ``kind`` written as text (``-p key=value`` on the command line).

    Raises:
        InvalidInput: The text is not a value of that type; the message names ``where``.
    """
    value: Any = text
    if kind in ("int", "float"):
        try:
            value = int(text) if kind == "int" else float(text)
        except ValueError:
            raise InvalidInput(f"{where} must be {_article(kind)}. Got {text!r} instead.") from None
    elif kind == "bool":
        lowered = text.strip().lower()
        if lowered not in (*_TRUE, *_FALSE):
            raise InvalidInput(f"{where} must be true or false. Got {text!r} instead.")
        value = lowered in _TRUE
    elif kind in ("json", "report"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"{where} must be JSON. Got {text!r} ({exc}).") from None
    return check_value(kind, value, where)


def parse_duration(value: Any, where: str) -> float:
    """Seconds in ``90s``, ``15m``, ``1h``, ``7d``, ``2w`` or a number of seconds.

    Raises:
        InvalidInput: Not a positive duration in one of those forms.
    """
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidInput(
            f"{where} must be a positive duration such as '30s', '15m', '1h', '7d' or a "
            f"number of seconds. Got {value!r} instead."
        )
    return seconds


def _article(kind: str) -> str:
    words = {"int": "a whole number", "float": "a number", "str": "a string", "bool": "a boolean"}
    return words.get(kind, f"a {kind}")
