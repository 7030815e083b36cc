"""ONNX export: ONNX Runtime's single-row latency beside Shipyard's own predict, same model.

    uv run python benchmarks/export.py [--families lightgbm,xgboost,linear]   # ~1-2 minutes

Trains, per family, the demo-sized model of ``serve.py`` (20,000 rows; 20 features: 16
numbers, 2 categories, a flag, an integer), calibrated with isotonic regression as the demo
does, exports it with ``shipyard models export --format onnx`` and measures, in-process on
one thread:

* Shipyard: ``TabularModel.predict_records([row])``, the inference server's path (validate,
  encode, predict, calibrate, decide) on one JSON-like row;
* ONNX Runtime: ``InferenceSession.run`` on one row, with the per-column ``[1, 1]`` arrays
  built from the same dict on every call (what an edge client does), and on arrays built once;

at least 3,000 calls each after a warm-up (p50 / p99), and 10,000 rows in one call (rows per
second). It also prints the export's own check (largest difference on the check rows) and the
file size. The figures are for this machine; nothing here gates CI.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.deploy import export_model, onnx_feed
from shipyard.errors import InvalidInput
from shipyard.ingest import ingest_path
from shipyard.project import init_project
from shipyard.registry import load_model
from shipyard.train import train

CALLS = 3_000
BATCH = 10_000


def demo_frame(rows: int = 20_000, seed: int = 7) -> pd.DataFrame:
    """serve.py's model data: 16 numbers, 2 categories, a flag, an integer; some missing."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"f{i}": rng.normal(size=rows) for i in range(16)})
    frame["country"] = rng.choice(["fr", "de", "es", "it", "us", "jp", "br", "in"], rows)
    frame["plan"] = rng.choice(["prepaid", "postpaid", "business"], rows)
    frame["roaming"] = rng.random(rows) < 0.3
    frame["calls"] = rng.integers(0, 200, rows)
    logit = frame.f0 + 0.5 * frame.f1 - frame.f2 * frame.f3 + (frame.country == "br") * 1.5
    frame["fraud"] = (logit + rng.normal(size=rows) > 1.5).astype(int)
    frame.loc[rng.random(rows) < 0.05, "f4"] = np.nan
    return frame


def timed(call: Callable[[], object], calls: int = CALLS) -> tuple[float, float]:
    """p50 and p99 of one call, in milliseconds."""
    for _ in range(200):
        call()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        call()
        times[i] = time.perf_counter() - start
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def rate(call: Callable[[], object], rows: int) -> float:
    call()
    start = time.perf_counter()
    call()
    return rows / (time.perf_counter() - start)


def measure(project_root: Path, family: str, frame: pd.DataFrame) -> list[tuple]:
    """Rows of the table for ``family``: isotonic calibration as the demo, or, when the export
    refuses that, a row saying why and the figures with sigmoid calibration."""
    import onnxruntime as ort

    from shipyard.project import open_project

    project = open_project(project_root)
    refused: list[tuple] = []
    for calibration in ("isotonic", "sigmoid"):
        result = train(
            project, "roaming", "fraud", model_name=family, family=family, calibration=calibration
        )
        ref = result.model_version.ref
        try:
            out = project_root.parent / f"{family}-{calibration}-onnx"
            exported = export_model(project, ref, "onnx", out)
            break
        except InvalidInput as exc:
            refused.append(
                (f"{family}", f"{calibration}: export refused", 0.0, 0.0, None, exc.message[:120])
            )
    else:
        project.close()
        return refused
    family = f"{family} ({calibration})"
    model = load_model(project, ref).model
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    path = exported.path / "model.onnx"
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = [(i.name, i.type == "tensor(string)") for i in session.get_inputs()]
    raw = frame.drop(columns=["fraud"])
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in raw.iloc[0].items()}

    def from_dict() -> object:
        feed = {
            name: np.array([[row[name]]], dtype=object if text else np.float64)
            for name, text in inputs
        }
        return session.run(None, feed)

    prepared = onnx_feed(session, raw.head(1))
    batch = raw.head(BATCH)
    batch_feed = onnx_feed(session, batch)
    shipyard_p = timed(lambda: model.predict_records([row]))
    onnx_dict_p = timed(from_dict)
    onnx_ready_p = timed(lambda: session.run(None, prepared))
    shipyard_rate = rate(lambda: model.predict_frame(batch, threads=1), len(batch))
    onnx_rate = rate(lambda: session.run(None, batch_feed), len(batch))
    note = (
        f"check: {exported.check['rows']} rows, max |dp| {exported.check['max_error']:.1e}; "
        f"{path.stat().st_size / 1024:,.0f} KiB"
    )
    project.close()
    return [
        *refused,
        (family, "Shipyard predict_records (1 row)", *shipyard_p, shipyard_rate, note),
        (family, "ONNX Runtime run, arrays from the dict", *onnx_dict_p, onnx_rate, ""),
        (family, "ONNX Runtime run, arrays ready", *onnx_ready_p, None, ""),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="lightgbm,xgboost,linear")
    args = parser.parse_args(argv)
    frame = demo_frame()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        project = init_project(root)
        frame.to_parquet(Path(tmp) / "train.parquet")
        ingest_path(project, Path(tmp) / "train.parquet", "roaming")
        project.close()
        for family in args.families.split(","):
            rows.extend(measure(root, family, frame))
    print(
        f"\nSingle-row latency in-process, 1 thread ({CALLS:,} calls after warm-up); batch: "
        f"{BATCH:,} rows in one call\n"
    )
    print(f"| {'model':20}| {'path':40}| p50 ms | p99 ms | batch rows/s | notes")
    print(f"|{'-' * 21}|{'-' * 41}|--------|--------|--------------|{'-' * 40}")
    for family, path, p50, p99, per_s, note in rows:
        shown = f"{per_s:12,.0f}" if per_s else f"{'':12}"
        times = f"{p50:6.3f} | {p99:6.3f}" if p50 else f"{'':6} | {'':6}"
        print(f"| {family:20}| {path:40}| {times} | {shown} | {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
