"""Serving fraud@prod on a loopback port with capture on, and measuring it: a few thousand
single-record requests, each with an ``X-Request-Id`` so labels can join the captures later."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator

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


def _bodies(project: Project, since: datetime, count: int) -> list[tuple[str, dict]]:
    """Scoring-by-entity bodies for the first ``count`` usage records from ``since`` on
    (records the replay has not sent): ``{"subscriber_id": ..., "event": {record}}``."""
    from shipyard.lake import connect_views

    con = connect_views(project.catalog, project.lake)
    try:
        frame = con.sql(
            f"SELECT * FROM usage_later WHERE event_time >= TIMESTAMP '{since:%Y-%m-%d %H:%M:%S}' "
            f"ORDER BY event_time, subscriber_id LIMIT {int(count)}"
        ).df()
    finally:
        con.close()
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    stamps = frame["event_time"].astype("int64") // 1000
    return [
        (f"{r['subscriber_id']}-{t}", {"subscriber_id": r["subscriber_id"], "event": r})
        for r, t in zip(records, stamps.tolist(), strict=True)
    ]


def exercise_server(
    project: Project, model: str, since: datetime, out: Console, *, count: int = 2000
) -> Served:
    """Start ``shipyard serve MODEL --capture 100`` and time ``count`` requests that each
    apply a new usage record to its subscriber's features and score the subscriber."""
    served = Served(mode="by subscriber id, event applied")
    bodies = _bodies(project, since, count + 1)
    first, bodies = bodies[0], bodies[1:]
    with _server(project, model) as base, httpx.Client(base_url=base, timeout=10) as client:
        _explain(client, first[1], served, out)
        took = []
        for request_id, body in bodies:
            started = time.perf_counter()
            response = client.post(
                "/v1/predict?apply=true", json=body, headers={"X-Request-Id": request_id}
            )
            took.append((time.perf_counter() - started) * 1e3)
            served.errors += response.status_code != 200
            if response.status_code != 200 and served.errors == 1:
                out.print(f"  [red]{response.status_code}[/] {response.text[:300]}")
        served.requests = len(took)
        served.p50_ms, served.p99_ms = (float(x) for x in np.percentile(took, [50, 99]))
        out.print(
            f"  {served.requests:,} requests ({served.mode}), each with X-Request-Id: "
            f"lookup + score p50 {served.p50_ms:.2f} ms, p99 {served.p99_ms:.2f} ms "
            f"(client side, over HTTP), {served.errors} errors"
        )
    return served


def _explain(client: httpx.Client, body: dict, served: Served, out: Console) -> None:
    response = client.post("/v1/predict?apply=true&explain=true&top=3", json=body)
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
