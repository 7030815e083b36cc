"""The Open Inference Protocol's tensors (KServe v2): an infer request to columns, and
predictions to output tensors.

A model's inputs are its signature's columns, one tensor each (shape ``[n]`` or ``[n, 1]``):
numbers as FP64 (any FP or INT type is read), booleans as BOOL, strings and ISO-8601
timestamps as BYTES. Its outputs are ``score`` (FP64: P(positive), the value, or the
``[n, k]`` class probabilities) and, but for regression, ``decision`` (the label).

Tensor data come as JSON (flat or nested row-major lists) or, with Triton's binary tensor
extension that ``tritonclient`` uses by default, as raw little-endian bytes after a JSON header
of ``Inference-Header-Content-Length`` bytes. Columns are built whole (NumPy arrays or lists),
never as per-row dicts; answers are always JSON tensors, which every client reads.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipyard.errors import InvalidInput, did_you_mean
from shipyard.serve._errors import MalformedBody
from shipyard.serve._parse import load_json

__all__ = [
    "InferRequest",
    "label_datatype",
    "model_metadata",
    "output_tensors",
    "parse_infer",
    "rows_of",
]

NUMERIC_TYPES: Mapping[str, str] = {
    "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
    "INT8": "i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
    "UINT8": "u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
}  # fmt: skip
_KIND_TYPES: Mapping[str, tuple[str, ...]] = {
    "number": tuple(NUMERIC_TYPES),
    "boolean": ("BOOL",),
    "string": ("BYTES",),
    "datetime": ("BYTES",),
}
DECLARED_TYPES: Mapping[str, str] = {
    "number": "FP64",
    "boolean": "BOOL",
    "string": "BYTES",
    "datetime": "BYTES",
}
"""The datatype the metadata declares for each signature kind."""

_LENGTH = struct.Struct("<I")


@dataclass
class InferRequest:
    """A decoded infer request: its id, one array or list per input column, the row count,
    and the outputs asked for (None: all)."""

    id: str | None
    columns: dict[str, Any]
    rows: int
    outputs: list[str] | None


def parse_infer(
    body: bytes, header_length: int | None, specs: Sequence[tuple[str, str]]
) -> InferRequest:
    """Decode an infer request against the model's ``(column, kind)`` specs.

    Raises:
        MalformedBody: The JSON header or a binary buffer cannot be decoded.
        InvalidInput: Not an infer request, an unknown, repeated or missing input, a datatype
            the column cannot take, a shape that is not a column, or inputs of different
            lengths (each message names the input).
    """
    head, tail = _split(body, header_length)
    doc = load_json(head)
    inputs = doc.get("inputs") if isinstance(doc, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput(
            'The body must be an infer request {"inputs": [{"name": ..., "datatype": ..., '
            '"shape": [n], "data": [...]}, ...]} with one input per column: '
            f"{', '.join(name for name, _ in specs)}."
        )
    kinds = dict(specs)
    columns: dict[str, Any] = {}
    rows: int | None = None
    offset = 0
    for i, tensor in enumerate(inputs):
        name, datatype, count, size = _header(tensor, i, kinds, columns)
        if size is not None:
            if offset + size > len(tail):
                raise MalformedBody(
                    f"Input '{name}' says it has {size} bytes of binary data; the body has "
                    f"{len(tail) - offset} left."
                )
            values = _from_binary(tail[offset : offset + size], datatype, name)
            offset += size
        else:
            values = _from_json(tensor.get("data"), datatype, kinds[name], name)
        if len(values) != count:
            raise InvalidInput(
                f"Input '{name}' has shape {tensor['shape']} but {len(values)} values.",
                details={"input": name, "shape": tensor["shape"], "values": len(values)},
            )
        if rows is not None and count != rows:
            raise InvalidInput(
                f"Input '{name}' has {count} rows; the inputs before it have {rows}. Every "
                "input is a column: send one value per row in each.",
                details={"input": name, "rows": count, "expected": rows},
            )
        rows = count
        columns[name] = values
    if offset != len(tail):
        raise MalformedBody(f"The body has {len(tail) - offset} bytes no input claims.")
    missing = [name for name, _ in specs if name not in columns]
    if missing:
        raise InvalidInput(
            f"The request lacks input(s) {', '.join(repr(m) for m in missing)}. The model "
            f"expects one input per column: {', '.join(name for name, _ in specs)}.",
            details={"missing": missing},
        )
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput(f'The request\'s "id" must be a string. Got {request_id!r}.')
    if not isinstance(doc.get("parameters", {}), dict):
        raise InvalidInput('The request\'s "parameters" must be an object.')
    return InferRequest(
        request_id,
        columns,
        rows or 0,
        _outputs(doc.get("outputs")),
    )


def output_tensors(
    scores: np.ndarray, labels: np.ndarray | None, label_type: str, wanted: list[str] | None
) -> list[dict[str, Any]]:
    """The ``score`` and ``decision`` tensors (only ``wanted`` ones when given).

    Raises:
        InvalidInput: ``wanted`` names an output the model does not have.
    """
    available = ["score"] if labels is None else ["score", "decision"]
    for name in wanted or ():
        if name not in available:
            raise InvalidInput(
                f"The model has no output {name!r}.{did_you_mean(name, available)} Its "
                f"outputs are: {', '.join(available)}.",
                details={"output": name, "outputs": available},
            )
    out: list[dict[str, Any]] = []
    if wanted is None or "score" in wanted:
        out.append(
            {
                "name": "score",
                "datatype": "FP64",
                "shape": list(scores.shape),
                "data": np.ascontiguousarray(scores, dtype=np.float64).ravel(),
            }
        )
    if labels is not None and (wanted is None or "decision" in wanted):
        data = labels.tolist()
        if label_type == "BYTES":
            data = [str(v) for v in data]
        out.append({"name": "decision", "datatype": label_type, "shape": [len(data)], "data": data})
    return out


def label_datatype(classes: Sequence[Any]) -> str:
    """The datatype of a classifier's labels: BOOL, INT64, FP64 or (text) BYTES."""
    if classes and all(isinstance(c, bool) for c in classes):
        return "BOOL"
    if classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "INT64"
    if classes and all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes):
        return "FP64"
    return "BYTES"


def model_metadata(name: str, version: int, signature: Mapping[str, Any]) -> dict[str, Any]:
    """The model metadata answer: its inputs (one column each) and outputs as tensors."""
    problem = signature.get("problem_type")
    classes = signature.get("classes") or []
    score_shape = [-1, len(classes)] if problem == "multiclass" else [-1]
    outputs: list[dict[str, Any]] = [{"name": "score", "datatype": "FP64", "shape": score_shape}]
    if problem != "regression":
        outputs.append({"name": "decision", "datatype": label_datatype(classes), "shape": [-1]})
    return {
        "name": name,
        "versions": [str(version)],
        "platform": "shipyard",
        "inputs": [
            {"name": col["name"], "datatype": DECLARED_TYPES[col["type"]], "shape": [-1]}
            for col in signature.get("inputs", [])
        ],
        "outputs": outputs,
    }


def rows_of(columns: Mapping[str, Any], names: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of a request's columns (for the capture, on its own thread)."""
    lists = [_plain(columns[name]) for name in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*lists, strict=True)]


def _plain(values: Any) -> list[Any]:
    """A column as JSON-ready values: NaN (how binary data says missing) as None."""
    if not isinstance(values, np.ndarray):
        return list(values)
    if values.dtype.kind == "f":
        return [None if v != v else v for v in values.tolist()]
    return values.tolist()


def _split(body: bytes, header_length: int | None) -> tuple[bytes, memoryview]:
    if header_length is None:
        return body, memoryview(b"")
    if not 0 < header_length <= len(body):
        raise MalformedBody(
            f"Inference-Header-Content-Length is {header_length}, but the body has "
            f"{len(body)} bytes. It must give the size of the JSON header at the body's start."
        )
    return body[:header_length], memoryview(body)[header_length:]


def _header(
    tensor: Any, i: int, kinds: Mapping[str, str], seen: Mapping[str, Any]
) -> tuple[str, str, int, int | None]:
    """An input's name, datatype, row count and binary size, checked against the model."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise InvalidInput(
            f'Input {i} must be an object {{"name", "datatype", "shape", "data"}}.',
            details={"input": i},
        )
    name = tensor["name"]
    if name not in kinds:
        raise InvalidInput(
            f"The model has no input {name!r}.{did_you_mean(name, list(kinds))} Its inputs "
            f"(one per column) are: {', '.join(kinds)}.",
            details={"input": name, "inputs": list(kinds)},
        )
    if name in seen:
        raise InvalidInput(f"Input '{name}' is sent twice.", details={"input": name})
    datatype = tensor.get("datatype")
    accepted = _KIND_TYPES[kinds[name]]
    if datatype not in accepted:
        shown = "FP64 (or another FP or INT type)" if len(accepted) > 1 else accepted[0]
        raise InvalidInput(
            f"Input '{name}' is a {kinds[name]} column: its datatype must be {shown}. "
            f"Got {datatype!r} instead.",
            details={"input": name, "datatype": datatype, "expected": list(accepted)},
        )
    count = _rows_of_shape(name, tensor.get("shape"))
    parameters = tensor.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidInput(f"Input '{name}' has parameters that are not an object.")
    size = parameters.get("binary_data_size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise InvalidInput(
            f"Input '{name}' has binary_data_size {size!r}; it must be a byte count.",
            details={"input": name},
        )
    return name, datatype, count, size


def _rows_of_shape(name: str, shape: Any) -> int:
    ok = (
        isinstance(shape, list)
        and len(shape) in (1, 2)
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        and (len(shape) == 1 or shape[1] == 1)
    )
    if not ok:
        raise InvalidInput(
            f"Input '{name}' must be one column: shape [n] or [n, 1]. Got {shape!r} instead.",
            details={"input": name, "shape": shape},
        )
    return int(shape[0])


def _from_json(data: Any, datatype: str, kind: str, name: str) -> Any:
    """One column from JSON data: a float or bool array when the values allow, else the list
    itself (with nulls as missing), whose values the encoder then checks."""
    if not isinstance(data, list):
        raise InvalidInput(
            f"Input '{name}' needs its values under \"data\" (a list), or binary data.",
            details={"input": name},
        )
    if data and isinstance(data[0], list):
        if not all(isinstance(part, list) for part in data):
            raise InvalidInput(f"Input '{name}' mixes lists and values in its data.")
        data = list(itertools.chain.from_iterable(data))
    try:
        array = np.asarray(data)
    except ValueError:  # ragged nesting
        raise InvalidInput(f"Input '{name}' has ragged data.", details={"input": name}) from None
    found = array.dtype.kind
    expected = {"number": "fiu", "boolean": "b"}.get(kind, "U")
    if found in expected and kind == "number":
        return array.astype(np.float64, copy=False)
    if found in expected and kind == "boolean":
        return array
    if found in expected or (found == "O" and kind != "datetime"):
        return data  # strings, or values with nulls among them: the encoder checks each
    if found == "f" and not data:
        return data  # an empty list
    if found == "O" and all(v is None or isinstance(v, str) for v in data):
        return data  # timestamps with nulls
    held = {"b": "true/false", "U": "text", "f": "numbers", "i": "numbers", "u": "numbers"}
    raise InvalidInput(
        f"Input '{name}' is {datatype}, but its data holds {held.get(found, 'mixed values')}.",
        details={"input": name, "datatype": datatype},
    )


def _from_binary(buffer: memoryview, datatype: str, name: str) -> Any:
    if datatype == "BYTES":
        return _strings(buffer, name)
    dtype = np.dtype(NUMERIC_TYPES.get(datatype, "?"))
    if len(buffer) % dtype.itemsize:
        raise MalformedBody(
            f"Input '{name}' has {len(buffer)} bytes of {datatype}, not a whole number of "
            f"{dtype.itemsize}-byte values."
        )
    return np.frombuffer(buffer, dtype=dtype)


def _strings(buffer: memoryview, name: str) -> list[str]:
    """Triton's BYTES encoding: each element a 4-byte little-endian length, then its bytes."""
    out: list[str] = []
    offset, end = 0, len(buffer)
    try:
        while offset < end:
            (size,) = _LENGTH.unpack_from(buffer, offset)
            offset += 4
            if offset + size > end:
                raise struct.error
            out.append(bytes(buffer[offset : offset + size]).decode("utf-8"))
            offset += size
    except struct.error:
        raise MalformedBody(
            f"Input '{name}' has BYTES data cut short: each element needs a 4-byte length and "
            "that many bytes."
        ) from None
    except UnicodeDecodeError:
        raise MalformedBody(f"Input '{name}' has BYTES that are not UTF-8 text.") from None
    return out


def _outputs(outputs: Any) -> list[str] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise InvalidInput('"outputs" must be a list of objects {"name": ...}.')
    return [o["name"] for o in outputs]
