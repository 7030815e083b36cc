"""Scoring by entity over HTTP: online feature look-up plus scoring, single-entity requests.

    .venv/bin/python benchmarks/features_serving.py            # about a minute
    SHIPYARD_TEST_REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python benchmarks/features_serving.py

Trains a LightGBM model on a feature-store training set (one group of 10 features: counts,
sums, means, max and distinct counts over 1h, 24h and 7d windows, a latest value and a ratio)
in a temporary project, materializes the online store, starts ``serve_model`` and sends
``{"subscriber_id": ..., "event": {...}}`` requests (random entities) on loopback at
concurrency 1: p50 / p99 of look-up + score. Also: the same with ``?apply=true`` (the event is
applied to the online store first), and the in-process floor (``EntityScorer.lookup`` +
``predict_records``). The target is p99 <= 2 ms over HTTP. The online store is the embedded
SQLite, and Redis when ``SHIPYARD_TEST_REDIS_URL`` is set (its db is flushed first).

The load generator is ``wrk`` when installed (a Lua script picks the entity per request),
else an httpx keep-alive client, whose own overhead then shows in every row.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.features._model_data import build, usage_events  # noqa: E402

from shipyard.features import entity_scorer  # noqa: E402
from shipyard.project import init_project, open_project  # noqa: E402
from shipyard.registry import load_model  # noqa: E402
from shipyard.serve import find_free_port, wait_until_ready  # noqa: E402

_WRK = """
local bodies = {bodies}
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json"}},
                    bodies[(n % #bodies) + 1])
end
function done(summary, latency, requests)
  io.write(string.format('WRK {{"requests": %d, "p50": %f, "p99": %f, "bad": %d}}\\n',
    summary.requests, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.status + summary.errors.connect + summary.errors.timeout))
end
"""


def _bodies(count: int, at: pd.Timestamp, *, apply: bool) -> list[str]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(count):
        when = at + timedelta(seconds=i) if apply else at
        event = {"amount": float(rng.gamma(2.0, 10.0)), "kind": str(rng.choice(["voice", "roam"])),
                 "premium": bool(rng.random() < 0.2), "ts": when.isoformat()}  # fmt: skip
        body = {"subscriber_id": f"S{int(rng.integers(0, 2000)):06d}", "event": event}
        if not apply:
            body["at"] = at.isoformat()
        out.append(json.dumps(body))
    return out


def _wrk(url: str, bodies: list[str], seconds: int) -> dict:
    lua = "{" + ", ".join(json.dumps(b) for b in bodies) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_WRK.format(bodies=lua))
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", "-c1", f"-d{seconds}s", "-s", script, url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script)
    return json.loads(next(ln for ln in out.splitlines() if ln.startswith("WRK "))[4:])


def _httpx(url: str, bodies: list[str], seconds: int) -> dict:
    times, bad = [], 0
    deadline = time.perf_counter() + seconds
    with httpx.Client(timeout=10) as client:
        i = 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            r = client.post(url, content=bodies[i % len(bodies)],
                            headers={"content-type": "application/json"})  # fmt: skip
            times.append(time.perf_counter() - start)
            bad += r.status_code != 200
            i += 1
    ms = np.asarray(times) * 1e3
    return {"requests": len(ms), "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99)), "bad": bad}  # fmt: skip


def _load(url: str, bodies: list[str], seconds: int) -> dict:
    return (_wrk if shutil.which("wrk") else _httpx)(url, bodies, seconds)


def _in_process(root: Path, at: pd.Timestamp, count: int) -> tuple[float, float]:
    project = open_project(root)
    loaded = load_model(project, "fs")
    scorer = entity_scorer(project, loaded.version.lineage)
    assert scorer is not None
    bodies = [json.loads(b) for b in _bodies(200, at, apply=False)]
    times = np.empty(count)
    for i in range(count + 200):
        body = bodies[i % len(bodies)]
        start = time.perf_counter()
        rows = scorer.lookup([body], at=body["at"]).rows
        loaded.model.predict_records(rows)
        if i >= 200:
            times[i - 200] = time.perf_counter() - start
    scorer.close()
    project.close()
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def _serve(root: Path, env: dict[str, str], at: pd.Timestamp, seconds: int) -> dict[str, dict]:
    port = find_free_port()
    code = (
        "import sys; from shipyard.project import open_project; "
        "from shipyard.serve import serve_model; "
        "serve_model(open_project(sys.argv[1], face='serve'), 'fs', port=int(sys.argv[2]))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(root), str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{base}/ping", timeout=180)
        _load(f"{base}/v1/predict", _bodies(50, at, apply=False), 2)  # warm up
        out = {"lookup + score": _load(f"{base}/v1/predict", _bodies(500, at, apply=False),
                                       seconds)}  # fmt: skip
        out["apply + lookup + score"] = _load(
            f"{base}/v1/predict?apply=true",
            _bodies(20_000, at + timedelta(hours=1), apply=True),
            seconds,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--entities", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    stores = [("sqlite (embedded)", None)]
    if os.environ.get("SHIPYARD_TEST_REDIS_URL"):
        stores.append(("redis", os.environ["SHIPYARD_TEST_REDIS_URL"]))
    events = usage_events(args.events, args.entities)
    at = pd.Timestamp(events["ts"].max())
    loader = "wrk" if shutil.which("wrk") else "httpx"
    print(f"{args.events:,} events, {args.entities:,} entities, 10 features; loader: {loader}, "
          f"concurrency 1, {args.seconds} s each")  # fmt: skip
    print(f"{'store':<18} {'path':<34} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9}")
    for label, url in stores:
        env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_HOME"}
        if url:
            import redis

            redis.Redis.from_url(url).flushdb()
            env["SHIPYARD_ONLINE_URL"] = url
        else:
            env.pop("SHIPYARD_ONLINE_URL", None)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(env)
            if not url:
                os.environ.pop("SHIPYARD_ONLINE_URL", None)
            project = init_project(Path(tmp) / "p")
            build(project, events)
            root = project.root
            project.close()
            p50, p99 = _in_process(root, at, 3_000)
            print(f"{label:<18} {'in process: lookup + predict':<34} {p50:>8.3f} {p99:>8.3f}")
            for path, got in _serve(root, env, at, args.seconds).items():
                errors = f"  (errors: {got['bad']})" if got["bad"] else ""
                print(f"{label:<18} {'HTTP: ' + path:<34} {got['p50']:>8.3f} {got['p99']:>8.3f} "
                      f"{got['requests']:>9,}{errors}")  # fmt: skip
    print(
        "target: HTTP lookup + score p99 <= 2 ms; Feast's in-process online read alone "
        "(1 entity x 10 features, issue 10): p50 0.15 ms, p99 0.47 ms"
    )


if __name__ == "__main__":
    main()
