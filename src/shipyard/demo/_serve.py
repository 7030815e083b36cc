"""Serving fraud@prod on a loopback port with capture on, and measuring it: a few thousand
single-record requests, each with an ``X-Request-Id`` so labels can join the captures later."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd
    from rich.console import Console

    from shipyard.project import Project

__all__ = ["Served", "exercise_server"]


@dataclass
class Served:
    """What the HTTP round did: requests, latency percentiles (ms), and the examples."""

    mode: str = ""
    requests: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    examples: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def _server(project: Project, model: str) -> Iterator[str]:
    from shipyard.serve import find_free_port, wait_until_ready

    port = find_free_port()
    command = [sys.executable, "-m", "shipyard", "-C", str(project.root), "serve", model]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--capture", "100"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(server, f"{base}/ping")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()


def _bodies(project: Project, scored: pd.DataFrame, count: int) -> list[tuple[str, dict]]:
    """Request bodies for ``count`` replayed records: the features the online store holds
    for their subscribers, as a client without entity scoring must send them."""
    from shipyard.demo._build import FEATURES
    from shipyard.features import get_online_features

    picked = scored.sample(n=min(count, len(scored)), random_state=0)
    online = get_online_features(
        project, {"subscriber_id": picked["subscriber_id"].tolist()}, list(FEATURES)
    ).to_pandas()
    online["event_time"] = picked["event_time"].to_numpy()
    online["day"] = picked["day"].to_numpy()
    rows = json.loads(online.to_json(orient="records", date_format="iso"))
    ids = [f"http-{r}" for r in picked["request_id"]]
    return [(i, {"rows": [row]}) for i, row in zip(ids, rows, strict=True)]


def exercise_server(
    project: Project, model: str, scored: pd.DataFrame, out: Console, *, count: int = 2000
) -> Served:
    """Start ``shipyard serve MODEL --capture 100`` and time ``count`` requests."""
    served = Served(mode="rows of online features")
    bodies = _bodies(project, scored, count)
    with _server(project, model) as base, httpx.Client(base_url=base, timeout=10) as client:
        for request_id, body in bodies[:20]:  # warm the connection and the model
            client.post("/v1/predict", json=body, headers={"X-Request-Id": f"warm-{request_id}"})
        took = []
        for request_id, body in bodies:
            started = time.perf_counter()
            response = client.post("/v1/predict", json=body, headers={"X-Request-Id": request_id})
            took.append((time.perf_counter() - started) * 1e3)
            served.errors += response.status_code != 200
        served.requests = len(took)
        served.p50_ms, served.p99_ms = (float(x) for x in np.percentile(took, [50, 99]))
        out.print(
            f"  {served.requests:,} requests ({served.mode}), each with X-Request-Id: "
            f"p50 {served.p50_ms:.2f} ms, p99 {served.p99_ms:.2f} ms, {served.errors} errors"
        )
        _explain(client, bodies[0][1], served, out)
    return served


def _explain(client: httpx.Client, body: dict, served: Served, out: Console) -> None:
    response = client.post("/v1/predict?explain=true&top=3", json=body)
    served.examples.append({"request": "why", "status": response.status_code})
    if response.status_code != 200:
        out.print(f"  POST /v1/predict?explain=true -> {response.status_code}")
        return
    prediction = response.json()["predictions"][0]
    reasons = ", ".join(
        f"{c['feature']}={c['value']} ({c['contribution']:+.3f})"
        for c in prediction["explanation"]["contributions"]
    )
    out.print(f"  why this score ({prediction.get('score', 0):.3f}): {reasons}")
