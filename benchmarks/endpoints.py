"""Endpoints: the cost of variants, a shadow and capture, and a hot switch under load.

    .venv/bin/python benchmarks/endpoints.py [--skip-peers] [--repeat 3] [--rate 1000]

Trains the inference benchmark's model (``benchmarks/serve.py``: LightGBM on 20 features) in
four versions, then on loopback, load generator on the same machine:

(a) single-row latency p50/p99 at concurrency 1 and throughput at concurrency 16 (wrk, or
    httpx without it; ``serve.py``'s ``measure``) for a plain ``shipyard serve fraud:1``,
    for ``shipyard serve --endpoint`` of an endpoint with two weighted variants
    (``fraud:1=90``, ``fraud:2=10``), a shadow (``fraud:3``, every request mirrored) and
    capture at 100%, and for the BentoML service of ``serve.py`` (its own venv).
    Targets: the endpoint's p50 within 0.1 ms of the plain server's; its throughput at
    least 10x BentoML's.

(b) a hot switch: an endpoint of ``fraud:1=90, fraud:2=10`` with capture at 100% (no
    shadow) under an open-loop load of ``--rate`` requests per second for ``--seconds``
    (each request timed from when it was due, so a stall counts in full), with one
    ``endpoints update`` in the middle to ``fraud:4=90, fraud:2=10`` (a version the server
    has not loaded yet). Reports failed requests (target 0), p99
    overall and during the switch (from the update until 1 s after the first answer from
    ``fraud:4``; target < 20 ms), and how long the switch took to be served.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve import Result, Server, _bentoml, _median, make_model, print_table, run_server
from shipyard.deploy import create_endpoint, update_endpoint
from shipyard.project import open_project
from shipyard.serve import find_free_port
from shipyard.train import train

ENDPOINT = {"variants": ["fraud:1=90", "fraud:2=10"], "shadow": "fraud:3", "capture": 100}
SWITCHED = {"variants": ["fraud:1=90", "fraud:2=10"], "capture": 100}
SWITCH_TO = ["fraud:4=90", "fraud:2=10"]
PLAIN = "plain `shipyard serve fraud:1`"
ENDPOINT_ROW = "endpoint: 90/10 variants + shadow"


def more_versions(root: Path) -> None:
    """fraud:2..4: the same data, other seeds."""
    with open_project(root) as project:
        for seed in (1, 2, 3):
            train(project, "roaming", "fraud", model_name="fraud", seed=seed)


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
    env.update(extra)
    return env


def endpoint_server(root: Path, name: str, port: int, log: Path, **env: str) -> Server:
    command = [sys.executable, "-m", "shipyard", "-C", str(root), "serve", "--endpoint", name]
    command += ["--env", "prod", "--port", str(port)]
    return Server(name, command, f"http://127.0.0.1:{port}/ping", log, env=env_for(**env))


# --------------------------------------------------------------------------- (a)


def costs(
    root: Path, workdir: Path, body: bytes, encoded: list[float], peers: bool, repeat: int
) -> list[Result]:
    """Plain server and endpoint measured in turn, ``repeat`` rounds, the median of each
    kept (a burst of load from elsewhere moves one round, not the comparison); BentoML
    once."""
    rounds: dict[str, list[Result]] = {PLAIN: [], ENDPOINT_ROW: []}
    plain = [sys.executable, "-m", "shipyard.serve", "fraud:1", "--project", str(root)]
    for _ in range(max(repeat, 1)):
        port = find_free_port()
        rounds[PLAIN].append(
            run_server(
                PLAIN,
                lambda port=port: Server(
                    "plain",
                    [*plain, "--port", str(port)],
                    f"http://127.0.0.1:{port}/ping",
                    workdir / "plain.log",
                    env=env_for(),
                ),
                f"http://127.0.0.1:{port}/v1/predict",
                body,
                "",
            )
        )
        port = find_free_port()
        rounds[ENDPOINT_ROW].append(
            run_server(
                ENDPOINT_ROW,
                lambda port=port: endpoint_server(root, "bench", port, workdir / "endpoint.log"),
                f"http://127.0.0.1:{port}/v1/predict",
                body,
                "",
            )
        )
    results = [_median(name, found) for name, found in rounds.items()]
    results[0].note += "; one model, capture off"
    results[1].note += "; shadow mirrors 100%, capture 100%"
    if peers:
        results.append(_bentoml(workdir, encoded))
    return results


# --------------------------------------------------------------------------- (b)


@dataclass
class Paced:
    """What an open-loop load saw: per request, when it was sent (s from the start), its
    latency from when it was due (ms: a stall of the server or of the generator counts in
    full) and from when it was written (the server and the network alone), its status (0:
    the connection failed) and the version that answered."""

    sent: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    wire_ms: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    model: list[str] = field(default_factory=list)


async def _exchange(conn: tuple, request: bytes) -> tuple[int, str]:
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    model = re.search(rb"(?i)x-shipyard-model: *([^\r]+)", head)
    await reader.readexactly(length)
    return int(head[9:12]), model.group(1).decode() if model else ""


async def paced_load(
    port: int, body: bytes, rate: float, seconds: float, at_half: object, connections: int = 64
) -> tuple[Paced, float]:
    """Send ``rate`` requests per second for ``seconds`` whatever the answers take; call
    ``at_half`` (in a thread) half-way. Returns what was seen and when ``at_half`` ran.

    Each connection takes the next due request when it is free, waits until it is due and
    sends it: while every connection waits for an answer, requests fall behind schedule, and
    that delay counts in their latency.
    """
    request = (
        b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    seen = Paced()
    total = int(rate * seconds)
    ticket = iter(range(total))
    start = time.perf_counter() + 0.5
    switch: dict[str, object] = {}

    async def connection() -> None:
        conn = await asyncio.open_connection("127.0.0.1", port)
        for i in ticket:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i == total // 2:
                switch["at"] = time.perf_counter() - start
                switch["task"] = asyncio.create_task(asyncio.to_thread(at_half))  # type: ignore[arg-type]
            written = time.perf_counter()
            try:
                status, model = await _exchange(conn, request)
            except (OSError, asyncio.IncompleteReadError, AttributeError):
                status, model = 0, ""
                conn[1].close()
                conn = await asyncio.open_connection("127.0.0.1", port)
            end = time.perf_counter()
            seen.sent.append(written - start)
            seen.latency_ms.append((end - due) * 1e3)
            seen.wire_ms.append((end - written) * 1e3)
            seen.status.append(status)
            seen.model.append(model)
        conn[1].close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    if "task" in switch:
        await switch["task"]  # type: ignore[misc]
    return seen, float(switch.get("at", -1.0))  # type: ignore[arg-type]


def hot_switch(root: Path, workdir: Path, body: bytes, rate: float, seconds: float) -> dict:
    port = find_free_port()
    server = endpoint_server(
        root, "switch", port, workdir / "switch.log", SHIPYARD_ENDPOINT_POLL_SECONDS="1"
    )
    try:
        server.wait_ready()

        def update() -> None:
            with open_project(root) as project:
                update_endpoint(project, "switch", env="prod", variants=SWITCH_TO)

        seen, switched_at = asyncio.run(paced_load(port, body, rate, seconds, update))
    finally:
        server.stop()
    sent = np.asarray(seen.sent)
    ms, wire = np.asarray(seen.latency_ms), np.asarray(seen.wire_ms)
    ok = np.asarray(seen.status) == 200
    new = np.asarray([m == "fraud:4" for m in seen.model])
    first_new = float(sent[new].min()) if new.any() else float("nan")
    window = (sent >= switched_at) & (sent <= first_new + 1.0)

    def p99(values: np.ndarray) -> float:
        return float(np.percentile(values, 99)) if values.size else float("nan")

    return {
        "requests": len(ms),
        "failed": int((~ok).sum()),
        "rate": len(ms) / (sent.max() - sent.min()) if len(sent) > 1 else 0.0,
        "p50": float(np.percentile(ms, 50)),
        "p99": p99(ms),
        "wire_p99": p99(wire),
        "switch_seconds": first_new - switched_at,
        "window_requests": int(window.sum()),
        "window_p99": p99(ms[window]),
        "window_wire_p99": p99(wire[window]),
        "window_max": float(ms[window].max()) if window.any() else float("nan"),
        "served_after": sorted(
            {m for m, t in zip(seen.model, sent, strict=True) if t > first_new + 1}
        ),
    }


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-peers", action="store_true", help="no BentoML")
    parser.add_argument("--rate", type=float, default=1000.0, help="requests/s in (b)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of (b)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of (a), median kept")
    parser.add_argument("--only", choices=("costs", "switch"), help="run (a) or (b) alone")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="shipyard-endpoint-bench-"))
    try:
        print("[endpoint bench] training four versions ...", file=sys.stderr, flush=True)
        root, row, encoded, _ = make_model(workdir)
        more_versions(root)
        with open_project(root) as project:
            create_endpoint(project, "bench", env="prod", **ENDPOINT)  # type: ignore[arg-type]
            create_endpoint(project, "switch", env="prod", **SWITCHED)  # type: ignore[arg-type]
        body = json.dumps({"rows": [row]}).encode()
        results, switch = [], {}
        if args.only in (None, "costs"):
            results = costs(root, workdir, body, encoded, not args.skip_peers, args.repeat)
        if args.only in (None, "switch"):
            print(f"[endpoint bench] hot switch at {args.rate:g} req/s ...", file=sys.stderr)
            switch = hot_switch(root, workdir, body, args.rate, args.seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, switch, args)
    return 0


def report(results: list[Result], switch: dict, args: argparse.Namespace) -> None:
    if results:
        print_table(results)
        plain, endpoint = results[0], results[1]
        bento = results[2] if len(results) > 2 else None
        if plain.p50_ms is not None and endpoint.p50_ms is not None:
            delta = endpoint.p50_ms - plain.p50_ms
            print(
                f"\n(a) endpoint p50 {delta:+.3f} ms against the plain server (target <= +0.100 ms)"
            )
        if bento is not None and bento.rps and endpoint.rps:
            print(
                f"    endpoint throughput {endpoint.rps / bento.rps:.1f}x BentoML's (target >= 10x)"
            )
    if switch:
        report_switch(switch, args)
    print(f"\nmachine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at the end")


def report_switch(switch: dict, args: argparse.Namespace) -> None:
    print(
        f"\n(b) hot switch: {switch['requests']:,} requests at {switch['rate']:,.0f} req/s over "
        f"{args.seconds:g} s to fraud:1=90, fraud:2=10 with capture 100%, one `endpoints "
        f"update` half-way to fraud:4=90 (a version not loaded before)\n"
        f"    failed requests: {switch['failed']} (target 0)\n"
        f"    latency from when each request was due: p50 {switch['p50']:.2f} ms, p99 "
        f"{switch['p99']:.2f} ms overall (from when it was written: p99 "
        f"{switch['wire_p99']:.2f} ms)\n"
        f"    during the switch ({switch['window_requests']:,} requests, from the update to 1 s "
        f"after fraud:4's first answer): p99 {switch['window_p99']:.2f} ms (target < 20 ms; "
        f"from when written {switch['window_wire_p99']:.2f} ms),"
        f" max {switch['window_max']:.2f} ms\n"
        f"    the update was served {switch['switch_seconds']:.2f} s after it was written "
        f"(poll every 1 s, then load + warm); afterwards: {', '.join(switch['served_after'])}"
    )


if __name__ == "__main__":
    sys.exit(main())
