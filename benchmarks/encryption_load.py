"""What encryption at rest costs when loading a model: load_model with and without a key.

Usage: python benchmarks/encryption_load.py [rows]   (default 20,000 generated rows)
Prints the bundle size and the median load time of each, over 7 loads by fresh projects
(each decrypts the bundle again, as a new server process would).
"""

from __future__ import annotations

import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.ingest import ingest_path
from shipyard.project import Project, init_project
from shipyard.registry import load_model
from shipyard.settings import load_settings
from shipyard.train import train


def _median_load(root: Path, **settings: str) -> float:
    import shipyard.artifacts._sealed as sealed

    times = []
    for _ in range(7):
        sealed._PLAIN_ROOT.clear()  # a fresh process: nothing decrypted yet
        project = Project(root, settings=load_settings(root, **settings))
        start = time.perf_counter()
        load_model(project, "fraud")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(rows: int) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "y": rng.normal(size=rows)})
    frame["label"] = (frame.x + rng.normal(size=rows) > 0).astype(int)
    key = base64.b64encode(bytes(range(32))).decode()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "d.parquet"
        frame.to_parquet(data, index=False)
        for label, settings in (("plaintext", {}), ("AES-256-GCM", {"encryption_key": key})):
            root = Path(tmp) / label
            init_project(root)
            project = Project(root, settings=load_settings(root, **settings))
            ingest_path(project, data, "t")
            train(project, "t", "label", model_name="fraud")
            bundle = project.artifacts.inner.local_dir(  # type: ignore[attr-defined]
                project.artifacts.key_of(load_model(project, "fraud").version.bundle_uri)
            )
            size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
            ms = _median_load(root, **settings) * 1000
            print(f"{label:12s} bundle {size / 1e6:6.2f} MB   load_model median {ms:7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
