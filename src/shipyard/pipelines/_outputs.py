"""What a step returned, as the typed values the catalog records: a dataset or model version
ref (a DataFrame or Arrow table returned for a dataset is published as a new version), a
report stored in the catalog, or a small JSON value."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from shipyard.catalog.refs import parse_dataset_ref
from shipyard.errors import InvalidInput, ShipyardError
from shipyard.pipelines._handles import Dataset, Model, Report
from shipyard.pipelines._kinds import StepContext, StepKind
from shipyard.pipelines._types import check_value

__all__ = ["store_outputs"]


def store_outputs(
    ctx: StepContext, kind: StepKind, result: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The step's outputs as JSON values, and the ``(kind, ref)`` of the versions it made.

    Raises:
        InvalidInput: An output missing, one not declared, or one of the wrong type.
    """
    missing = [k for k in kind.outputs if k not in result]
    extra = [k for k in result if k not in kind.outputs]
    if missing or extra:
        raise InvalidInput(
            f"Step '{ctx.step}' must return its outputs {', '.join(kind.outputs) or '(none)'}. "
            f"Missing: {', '.join(missing) or 'none'}; not declared: {', '.join(extra) or 'none'}."
        )
    out: dict[str, Any] = {}
    lineage: list[tuple[str, str]] = []
    for name, kind_of in kind.outputs.items():
        where = f"Output '{name}' of step '{ctx.step}'"
        value = _store(ctx, kind_of, name, result[name], where)
        out[name] = value
        if kind_of in ("dataset", "model") and value is not None:
            lineage.append((kind_of, value))
    return out, lineage


def _store(ctx: StepContext, kind: str, name: str, value: Any, where: str) -> Any:
    if value is None and kind not in ("dataset", "model", "report"):
        return None
    if kind == "dataset":
        return _dataset(ctx, name, value, where)
    if kind == "model":
        return _model(ctx, value, where)
    if kind == "report":
        return _report(ctx, name, value, where)
    return check_value(kind, value, where)


def _dataset(ctx: StepContext, name: str, value: Any, where: str) -> str:
    if isinstance(value, Dataset):
        value = value.ref
    version = getattr(value, "version", None)  # an IngestResult, a TrainingSet
    if version is not None and hasattr(version, "ref"):
        value = version.ref
    if hasattr(value, "fingerprint") and hasattr(value, "ref"):  # a DatasetVersion
        value = value.ref
    if isinstance(value, str):
        ref = parse_dataset_ref(value)
        return ctx.project.catalog.get_dataset_version(ref.name, ref.version).ref
    if type(value).__name__ in ("DataFrame", "Table"):
        return _publish(ctx, name, value)
    raise InvalidInput(
        f"{where} is a dataset: return its ref, a DatasetVersion, a pandas DataFrame or an "
        f"Arrow table. Got {type(value).__name__}."
    )


def _publish(ctx: StepContext, output: str, frame: Any) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shipyard.ingest import ingest_path

    table = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )
    stem = f"{ctx.pipeline}_{ctx.step}" + ("" if output == "result" else f"_{output}")
    name = re.sub(r"[^A-Za-z0-9_\-]", "_", stem)[:128]
    with tempfile.TemporaryDirectory(prefix="shipyard-step-") as folder:
        path = Path(folder) / "part.parquet"
        pq.write_table(table, path)
        return ingest_path(ctx.project, path, name).version.ref


def _model(ctx: StepContext, value: Any, where: str) -> str:
    from shipyard.registry import resolve_model

    if isinstance(value, Model):
        value = value.ref
    version = getattr(value, "model_version", None)  # a TrainResult
    if version is not None:
        value = version
    if hasattr(value, "bundle_uri") and hasattr(value, "ref"):  # a ModelVersion
        value = value.ref
    if not isinstance(value, str):
        raise InvalidInput(
            f"{where} is a model: return its ref, a ModelVersion or a TrainResult. "
            f"Got {type(value).__name__}."
        )
    try:
        return resolve_model(ctx.project, value).ref
    except ShipyardError as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None


def _report(ctx: StepContext, name: str, value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, dict) and {"subject", "kind"} <= set(value) and "payload" not in value:
        return value  # a report stored already (a built-in kind's)
    report = value if isinstance(value, Report) else Report(payload=value)
    if not isinstance(report.payload, dict):
        raise InvalidInput(
            f"{where} is a report: return a dict or a Report. Got {type(value).__name__}."
        )
    text = json.dumps(report.payload, sort_keys=True, allow_nan=False, default=str)
    subject = f"pipeline/{ctx.pipeline}/{ctx.run_id}/{ctx.step}"
    html_uri = None
    if report.html is not None:
        key = f"reports/pipelines/{ctx.pipeline}/{ctx.run_id}/{ctx.step}-{name}.html"
        html_uri = ctx.project.artifacts.put_bytes(key, report.html.encode())
    ctx.project.catalog.put_report(
        subject, name, json.loads(text), html_uri=html_uri, actor=ctx.project.actor
    )
    return {"subject": subject, "kind": name, "sha256": hashlib.sha256(text.encode()).hexdigest()}
