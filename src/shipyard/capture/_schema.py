"""The captured row: the fixed columns every capture has, then the model's inputs.

This schema is a contract: monitors read it. The fixed columns come first, in this order:

================  ======================  ================================================
column            type                    what it holds
================  ======================  ================================================
request_id        string                  the caller's ``X-Request-Id`` (or a row's own
                                          ``request_id`` field), else a generated one; a
                                          request of n > 1 rows gives ``<id>-<i>``
captured_at       timestamp[us, UTC]      when the request was answered
model             string                  the model's name
model_version     int64                   its version
variant           string (nullable)       the endpoint variant that answered, if any
latency_ms        float64                 the server's time on the request (batch: per row)
score             float64                 P(positive) for binary, the value for regression,
                                          the chosen class's probability for multiclass
prediction        string (nullable)       the decision / class label as text (null for
                                          regression)
================  ======================  ================================================

then one column per input of the signature, under its own name, typed by the signature:
``number`` float64, ``boolean`` bool, ``string`` string, ``datetime`` timestamp[us, UTC].
An input tagged as personal data is null (masked) or, hashed, a string: the keyed hash of its
value (see :func:`capture_privacy`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from shipyard.errors import InvalidInput

__all__ = ["BASE_FIELDS", "capture_schema", "input_schema", "masked_columns"]

BASE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("request_id", pa.string(), nullable=False),
    pa.field("captured_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("model", pa.string(), nullable=False),
    pa.field("model_version", pa.int64(), nullable=False),
    pa.field("variant", pa.string()),
    pa.field("latency_ms", pa.float64()),
    pa.field("score", pa.float64()),
    pa.field("prediction", pa.string()),
)
"""The fixed leading columns of every captured row, in order."""

_INPUT_TYPES: dict[str, pa.DataType] = {
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
    "datetime": pa.timestamp("us", tz="UTC"),
}

_BASE_NAMES = frozenset(f.name for f in BASE_FIELDS)


def input_schema(signature: Mapping[str, Any]) -> pa.Schema:
    """The Arrow schema of a model's input columns, as captures store them.

    Raises:
        InvalidInput: An input column is named like a fixed capture column (``score``, ...),
            or has a type captures cannot store.
    """
    fields = []
    for column in signature["inputs"]:
        name, kind = column["name"], column["type"]
        if name in _BASE_NAMES:
            raise InvalidInput(
                f"The model's input column '{name}' has the name of a capture column "
                f"({', '.join(sorted(_BASE_NAMES))}), so its requests cannot be captured. "
                "Retrain with the column renamed, or serve without capture."
            )
        if kind not in _INPUT_TYPES:
            raise InvalidInput(
                f"The model's input column '{name}' has type {kind!r}, which captures cannot "
                f"store; they store {', '.join(sorted(_INPUT_TYPES))}."
            )
        fields.append(pa.field(name, _INPUT_TYPES[kind]))
    return pa.schema(fields)


def capture_schema(signature: Mapping[str, Any]) -> pa.Schema:
    """The whole schema of a model's captured rows: :data:`BASE_FIELDS`, then the inputs."""
    return pa.schema([*BASE_FIELDS, *input_schema(signature)])


def masked_columns(signature: Mapping[str, Any], extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The input columns whose values captures must not keep (personal data).

    A column is masked when its signature entry carries ``"pii": true`` or is listed in the
    signature's ``"pii"`` list, or when ``extra`` names it. The training dataset's tags are
    looked up by :func:`capture_privacy`, which needs the project.

    Raises:
        InvalidInput: ``extra`` names a column the model does not take.
    """
    names = [c["name"] for c in signature["inputs"]]
    unknown = [c for c in extra if c not in names]
    if unknown:
        raise InvalidInput(
            f"Cannot mask column(s) {', '.join(map(repr, unknown))}: the model's inputs are "
            f"{', '.join(names)}."
        )
    listed = set(signature.get("pii") or ())
    tagged = {c["name"] for c in signature["inputs"] if c.get("pii")}
    wanted = listed | tagged | set(extra)
    return tuple(n for n in names if n in wanted)
