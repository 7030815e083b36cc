"""Export a model version for another runtime: an MLflow pyfunc folder, or one ONNX graph.

An export is checked before it is written: the exported model scores a few hundred rows
(a seeded sample of the version's training data, and copies of some of them with values
missing and categories never seen) and must agree with Shipyard's own predictions, exactly
for MLflow (it runs the same model), to :data:`~shipyard.deploy._onnx.TOLERANCE` for ONNX.

The files are written in a staging folder beside the destination and renamed into place, so
the destination holds a whole export or nothing new. A non-empty destination is refused
unless ``force`` is given and it holds an earlier Shipyard export (its ``shipyard-export.json``
says so): ``force`` never deletes a folder Shipyard did not write.

The libraries are optional extras, imported only here: ``pip install 'shipyard[onnx]'``
(onnx, onnxruntime, onnxmltools, skl2onnx) and ``pip install 'shipyard[mlflow]'``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shipyard.errors import AlreadyExists, BackendUnavailable, InvalidInput, NotFound
from shipyard.project import Project
from shipyard.registry import load_model, resolve_model
from shipyard.staging import staging_dir

if TYPE_CHECKING:
    from shipyard.model import FeatureEncoder
    from shipyard.registry import LoadedModel

__all__ = ["EXPORT_FORMATS", "MARKER", "ExportResult", "check_rows", "export_model"]

EXPORT_FORMATS = ("mlflow", "onnx")
MARKER = "shipyard-export.json"
"""The file every export writes: what was exported, when, and how the check went."""

CHECK_ROWS = 500
"""Rows sampled from the training data to check an export on (edge cases come on top)."""

_LIBRARIES = {
    "onnx": ("onnx", "onnxruntime", "onnxmltools", "skl2onnx"),
    "mlflow": ("mlflow",),
}
_UNSEEN = "<never seen in training>"


@dataclass(frozen=True)
class ExportResult:
    """A written export: where, which files, and how it compared with Shipyard."""

    model: str
    format: str
    path: Path
    files: tuple[str, ...]
    check: dict[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "format": self.format,
            "path": str(self.path),
            "files": list(self.files),
            "check": self.check,
            "notes": list(self.notes),
        }


def export_model(
    project: Project, ref: str, fmt: str, out: str | Path, *, force: bool = False
) -> ExportResult:
    """Export the model version ``ref`` names (``fraud:3``, ``fraud@prod``) as ``fmt`` into
    the folder ``out``, after checking that it predicts as Shipyard does.

    ``mlflow`` writes a pyfunc model folder (``mlflow.pyfunc.load_model(out)``); ``onnx``
    writes ``model.onnx``, one graph from the raw input columns to ``label`` and
    ``probability`` (or ``value``), for LightGBM, XGBoost and linear models and ensembles of
    them. Both also write ``shipyard-export.json``. The export is audited (``model.export``).

    Raises:
        InvalidInput: An unknown format; ``out`` is a file or cannot be written; the model
            cannot be exported in this format (the message says why and what to do); the
            export does not reproduce Shipyard's predictions (nothing is written).
        AlreadyExists: ``out`` is a non-empty folder, and ``force`` was not given or the
            folder is not an earlier Shipyard export.
        NotFound: No such model, version or alias.
        IntegrityError: The bundle does not match its manifest.
        BackendUnavailable: The format's libraries are not installed (the message gives
            the install command).
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(
            f"The export format must be one of {', '.join(EXPORT_FORMATS)}. Got {fmt!r} instead."
        )
    target = _check_target(Path(out).expanduser(), force=force)
    version = resolve_model(project, ref)  # an unknown model fails before the imports
    _require(fmt)
    loaded = load_model(project, version.ref)
    writer = _write_onnx if fmt == "onnx" else _write_mlflow
    rows = check_rows(project, loaded)
    notes = _notes(loaded)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with staging_dir(target.parent, ".shipyard-export-") as staging:
            built = staging / "export"
            check = writer(loaded, built, rows)
            marker = {
                "model": loaded.version.ref,
                "format": fmt,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "signature": loaded.model.signature,
                "check": check,
                "notes": notes,
            }
            (built / MARKER).write_text(json.dumps(marker, indent=2, default=str))
            files = tuple(sorted(p.relative_to(built).as_posix() for p in built.rglob("*")))
            _publish(built, target, staging)
    except OSError as exc:
        raise InvalidInput(
            f"Could not write the export to {target}: {exc.strerror or exc}. Give a folder "
            "you can write to."
        ) from exc
    project.catalog.record_event(
        "model.export",
        "model",
        loaded.version.ref,
        actor=project.actor,
        details={"format": fmt, "path": str(target), "check": check},
    )
    return ExportResult(loaded.version.ref, fmt, target, files, check, tuple(notes))


def _check_target(target: Path, *, force: bool) -> Path:
    target = target.absolute()
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} for --out is a file; give a folder to export into.")
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise AlreadyExists(
                f"The folder {target} is not empty. Give a new or empty folder, or --force "
                "to replace an earlier export there."
            )
        if not (target / MARKER).is_file():
            raise AlreadyExists(
                f"The folder {target} is not empty and holds no earlier Shipyard export "
                f"({MARKER}), so --force will not replace it. Give a new or empty folder."
            )
    return target


def _publish(built: Path, target: Path, staging: Path) -> None:
    """Rename ``built`` to ``target``; what was there goes into ``staging``, removed next."""
    if target.exists():
        os.rename(target, staging / "replaced")
    os.rename(built, target)


def _require(fmt: str) -> None:
    import importlib

    for name in _LIBRARIES[fmt]:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise BackendUnavailable(
                f"Exporting to {fmt} needs {name}, which is not installed ({exc}). "
                f"Install it with `pip install 'shipyard[{fmt}]'`."
            ) from exc


def _notes(loaded: LoadedModel) -> list[str]:
    refs = loaded.version.lineage.get("features")
    if not refs:
        return []
    from_store = sorted({c for g in refs.get("groups", []) for c in g.get("columns", {}).values()})
    return [
        "Inputs served from the feature store by entity "
        f"({', '.join(refs.get('entity', []))}) are plain inputs of the export: "
        f"{', '.join(from_store)}. Look them up before scoring; `shipyard serve` does that."
    ]


def _write_onnx(loaded: LoadedModel, folder: Path, rows: pd.DataFrame) -> dict[str, Any]:
    from shipyard.deploy._onnx import check_onnx, onnx_graph

    graph = onnx_graph(loaded.model, name=loaded.version.ref)
    check = check_onnx(graph, loaded.model, rows)
    folder.mkdir()
    (folder / "model.onnx").write_bytes(graph.SerializeToString())
    return check


def _write_mlflow(loaded: LoadedModel, folder: Path, rows: pd.DataFrame) -> dict[str, Any]:
    from shipyard.deploy._mlflow import load_pyfunc, save_pyfunc

    scratch = folder.parent / "scratch"
    scratch.mkdir()
    save_pyfunc(loaded, folder, rows.head(5), scratch)
    got = load_pyfunc(folder).predict(rows)
    ours = loaded.model.predict_frame(rows).to_pandas()
    return _compare_frames(got, ours, tolerance=1e-9)


def _compare_frames(got: pd.DataFrame, ours: pd.DataFrame, *, tolerance: float) -> dict[str, Any]:
    """How the reloaded MLflow model's predictions compare with Shipyard's (equal, or refuse)."""
    scores_got, scores_ours = (_score_matrix(f["score"]) for f in (got, ours))
    error = float(np.abs(scores_got - scores_ours).max(initial=0.0))
    labels_equal = "decision" not in ours or bool((got["decision"] == ours["decision"]).all())
    result = {
        "rows": len(ours),
        "max_error": error,
        "measure": "absolute",
        "tolerance": tolerance,
        "labels_differ": 0 if labels_equal else int((got["decision"] != ours["decision"]).sum()),
    }
    if error > tolerance or not labels_equal:
        raise InvalidInput(
            f"The MLflow model, loaded back, does not reproduce Shipyard's predictions "
            f"(largest difference {error:.3g}); nothing was written.",
            details=result,
        )
    return result


def _score_matrix(column: pd.Series) -> np.ndarray:
    """Scores as floats, (n,) or (n, k) for multiclass's per-class dicts."""
    first = column.iloc[0] if len(column) else None
    if isinstance(first, dict):
        return np.asarray([list(v.values()) for v in column], dtype=np.float64)
    return column.to_numpy(dtype=np.float64)


def check_rows(project: Project, loaded: LoadedModel, rows: int = CHECK_ROWS) -> pd.DataFrame:
    """Rows to check an export on: a seeded sample of the version's training dataset (or,
    when that is gone, rows drawn from the signature), plus copies of some of them with
    values missing and string values never seen in training."""
    encoder = loaded.model.encoder
    names = [s.name for s in encoder.columns_]
    frame = _training_sample(project, loaded, names, rows)
    if frame is None or frame.empty:
        frame = _drawn(encoder, rows)
    return pd.concat([frame, _edge_cases(frame.head(100), encoder)], ignore_index=True)


def _training_sample(
    project: Project, loaded: LoadedModel, names: list[str], rows: int
) -> pd.DataFrame | None:
    import duckdb

    from shipyard.catalog.refs import parse_dataset_ref
    from shipyard.lake import quote_ident, quote_literal

    dataset = loaded.version.lineage.get("dataset")
    if not dataset:
        return None
    try:
        parsed = parse_dataset_ref(str(dataset))
        version = project.catalog.get_dataset_version(parsed.name, parsed.version)
    except (NotFound, InvalidInput):
        return None
    if not {c.name for c in version.columns} >= set(names):
        return None
    columns = ", ".join(quote_ident(n) for n in names)
    con = duckdb.connect()
    try:
        return con.sql(
            f"SELECT {columns} FROM read_parquet('{quote_literal(project.lake.glob(version))}') "
            f"USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE (7)"
        ).df()
    finally:
        con.close()


def _drawn(encoder: FeatureEncoder, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    columns: dict[str, Any] = {}
    for spec in encoder.columns_:
        if spec.kind == "string":
            columns[spec.name] = rng.choice(np.asarray(spec.levels, dtype=object), rows)
        elif spec.kind == "boolean":
            columns[spec.name] = rng.random(rows) < 0.5
        elif spec.kind == "datetime":
            columns[spec.name] = pd.Timestamp("2026-01-01") + pd.to_timedelta(
                rng.integers(0, 365 * 24 * 3600, rows), unit="s"
            )
        else:
            columns[spec.name] = rng.normal(0.0, 100.0, rows)
    return pd.DataFrame(columns)


def _edge_cases(frame: pd.DataFrame, encoder: FeatureEncoder) -> pd.DataFrame:
    """Copies of ``frame`` with, in each column, a third of the values missing and (strings)
    a quarter of them values the model never saw."""
    out = frame.copy().reset_index(drop=True)
    for j, spec in enumerate(encoder.columns_):
        index = np.arange(len(out)) + j  # a different row pattern per column
        values = out[spec.name].astype(object)
        values[index % 3 == 1] = None
        if spec.kind == "string":
            values[index % 4 == 2] = _UNSEEN
        out[spec.name] = values
    return out
