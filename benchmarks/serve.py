"""Inference server latency and throughput: Shipyard vs MLflow and BentoML on one model.

    uv run python benchmarks/serve.py            # about 3 minutes once the peer venvs exist

Trains one LightGBM model (20 features: 16 numbers, 2 categories, a flag, an integer) in a
temporary project, then measures on loopback with the load generator on the same machine:

* single-row latency p50 / p99 at concurrency 1 (at least 2,000 requests), and
* throughput at concurrency 16 for 10 s,

for Shipyard's server, a FastAPI + pydantic variant of it (the framework we chose not to use),
``mlflow models serve`` and a BentoML service, each peer in its own venv under
``benchmarks/.venvs/``. The floor is the model called in-process. The load generator is
``wrk`` (``apt-get install -y wrk``) or, without it, an httpx keep-alive client (slower; its
own overhead then shows in every row).

The peers serve the same LightGBM booster on the already-encoded float row (they have no
encoder for the two string columns), so they do slightly less work per request than Shipyard,
which validates and encodes the raw row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peer_venv import peer_python

from shipyard.ingest import ingest_path
from shipyard.project import init_project
from shipyard.registry import approve_model, load_model, promote
from shipyard.serve import find_free_port
from shipyard.train import train

LATENCY_REQUESTS = 2_000
THROUGHPUT_SECONDS = 10
CONCURRENCY = 16


@dataclass
class Result:
    name: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    rps: float | None = None
    note: str = ""


# --------------------------------------------------------------------------- the model


def make_model(workdir: Path) -> tuple[Path, dict, list[float], list[str]]:
    """Train the model; return the project root, a raw row, its encoded floats, names."""
    rng = np.random.default_rng(7)
    n = 20_000
    frame = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(16)})
    frame["country"] = rng.choice(["fr", "de", "es", "it", "us", "jp", "br", "in"], n)
    frame["plan"] = rng.choice(["prepaid", "postpaid", "business"], n)
    frame["roaming"] = rng.random(n) < 0.3
    frame["calls"] = rng.integers(0, 200, n)
    logit = frame.f0 + 0.5 * frame.f1 - frame.f2 * frame.f3 + (frame.country == "br") * 1.5
    frame["fraud"] = (logit + rng.normal(size=n) > 1.5).astype(int)
    project = init_project(workdir / "project")
    data = workdir / "train.parquet"
    frame.to_parquet(data)
    ingest_path(project, data, "roaming")
    train(project, "roaming", "fraud", model_name="fraud")
    approve_model(project, "fraud:1", comment="benchmark")
    promote(project, "fraud:1", "prod")
    loaded = load_model(project, "fraud@prod")
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in frame.iloc[0].items()}
    del row["fraud"]
    encoded = loaded.model.encoder.encode_records([row]).matrix[0].tolist()
    booster = loaded.model.estimator
    booster.save_model(str(workdir / "booster.txt"), num_iteration=booster.best_iteration or None)
    project.close()
    return project.root, row, encoded, booster.feature_name()


def floor(project_root: Path, row: dict, encoded: list[float], names: list[str]) -> list[Result]:
    """The model called in-process: what no server can beat."""
    from shipyard.project import open_project

    model = load_model(open_project(project_root), "fraud@prod").model
    booster = model.estimator
    x = np.asarray([encoded])
    df = pd.DataFrame(x, columns=names)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("floor: booster.predict(1 NumPy row)", lambda: booster.predict(x, num_threads=1)),
        ("floor: booster.predict(1-row DataFrame)", lambda: booster.predict(df, num_threads=1)),
        ("floor: TabularModel.predict_records", lambda: model.predict_records([row])),
    ]
    out = []
    for name, call in calls:
        for _ in range(300):
            call()
        times = np.empty(LATENCY_REQUESTS * 5)
        for i in range(len(times)):
            start = time.perf_counter()
            call()
            times[i] = time.perf_counter() - start
        out.append(
            Result(
                name,
                float(np.percentile(times, 50) * 1e3),
                float(np.percentile(times, 99) * 1e3),
                float(1 / times.mean()),
                "in-process, 1 thread",
            )
        )
    return out


# --------------------------------------------------------------------------- load generation

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
function done(summary, latency, requests)
  io.write(string.format('WRK {{"requests": %d, "seconds": %f, '
    .. '"p50": %f, "p99": %f, "bad": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _wrk(url: str, body: bytes, connections: int, seconds: int, limit: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_WRK_SCRIPT.format(body=json.dumps(body.decode())))
        script = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK "))
    return json.loads(line[4:])


async def _httpx(url: str, body: bytes, connections: int, seconds: float, limit: int) -> dict:
    headers = {"content-type": "application/json"}
    latencies: list[float] = []
    bad = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal bad
            while time.perf_counter() < deadline and (not limit or len(latencies) < limit):
                start = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                bad += response.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        took = time.perf_counter() - began
    ms = np.asarray(latencies) * 1e3
    return {
        "requests": len(ms),
        "seconds": took,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "bad": bad,
    }


def measure(name: str, url: str, body: bytes, note: str) -> Result:
    use_wrk = shutil.which("wrk") is not None

    def run(connections: int, seconds: int, limit: int) -> dict:
        if use_wrk:
            return _wrk(url, body, connections, seconds, limit)
        return asyncio.run(_httpx(url, body, connections, seconds, limit))

    run(4, 2, 0)  # warm up: connections, caches, lazy imports in the peers
    # Size the concurrency-1 run from a short probe so it holds >= LATENCY_REQUESTS requests.
    probe = run(1, 2, 0)
    rate = max(probe["requests"] / probe["seconds"], 1.0)
    latency = run(1, max(3, int(LATENCY_REQUESTS / rate * 1.3) + 1), LATENCY_REQUESTS)
    load = run(CONCURRENCY, THROUGHPUT_SECONDS, 0)
    bad = latency["bad"] + load["bad"]
    if bad:
        note = f"{note}; {bad} failed requests!"
    return Result(
        name, latency["p50"], latency["p99"], load["requests"] / load["seconds"], note.strip("; ")
    )


# --------------------------------------------------------------------------- servers


class Server:
    """A server subprocess in its own process group, stopped on exit."""

    def __init__(self, name: str, command: Sequence[str], health: str, log: Path, **kw) -> None:
        self.name, self.health, self.log = name, health, log
        self.proc = subprocess.Popen(
            list(command),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kw,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(self.health, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"not ready after {timeout:.0f} s: {self.tail()}")

    def tail(self, lines: int = 3) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines()
        errors = [ln.strip() for ln in text if "Error" in ln or "Exception" in ln]
        return " | ".join(errors[-lines:] or text[-lines:]) or "(no output)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def run_server(
    name: str,
    start: Callable[[], Server],
    url: str,
    body: bytes,
    note: str,
) -> Result:
    print(f"[serve bench] {name} ...", file=sys.stderr, flush=True)
    server = None
    try:
        server = start()
        server.wait_ready()
        return measure(name, url, body, note)
    except Exception as exc:  # a peer failing must not hide the rest of the table
        return Result(name, note=f"FAILED: {type(exc).__name__}: {exc}"[:300])
    finally:
        if server is not None:
            server.stop()


_FASTAPI_APP = """
import sys
from typing import Optional
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, create_model
from shipyard.project import open_project
from shipyard.registry import load_model

loaded = load_model(open_project(sys.argv[1]), "fraud@prod")
model = loaded.model
types = {"number": Optional[float], "boolean": Optional[bool], "string": Optional[str],
         "datetime": Optional[str]}
Row = create_model("Row", **{c["name"]: (types[c["type"]], ...) for c in model.signature["inputs"]})

class Request(BaseModel):
    rows: list[Row]

app = FastAPI()

@app.get("/ping")
def ping():
    return {"status": "ok"}

@app.post("/v1/predict")
async def predict(request: Request):
    result = model.predict_records([r.model_dump() for r in request.rows], threads=1)
    return {"model": loaded.version.ref,
            "predictions": [{"score": s, "decision": bool(d)}
                            for s, d in zip(result.scores.tolist(), result.decisions.tolist())],
            "unseen": result.unseen}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            loop="uvloop", http="httptools", access_log=False)
"""

_BENTO_SERVICE = """
import os
import bentoml
import lightgbm as lgb
import numpy as np


@bentoml.service(workers=1)
class Fraud:
    def __init__(self) -> None:
        self.booster = lgb.Booster(model_file=os.environ["BOOSTER_FILE"])

    @bentoml.api
    def predict(self, rows: list[list[float]]) -> list[float]:
        x = np.asarray(rows, dtype=np.float64)
        return self.booster.predict(x, num_threads=1).tolist()
"""

_MLFLOW_SAVE = """
import sys
import lightgbm as lgb
import mlflow.lightgbm
mlflow.lightgbm.save_model(lgb.Booster(model_file=sys.argv[1]), sys.argv[2])
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-peers", action="store_true", help="only Shipyard and the floor")
    parser.add_argument(
        "--capture",
        action="store_true",
        help="only Shipyard's capture and /metrics costs: capture off vs 100%%, metrics off/on",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of the capture comparison (median kept)"
    )
    args = parser.parse_args(argv)
    if args.capture:
        return capture_costs(args.repeat)
    workdir = Path(tempfile.mkdtemp(prefix="shipyard-serve-bench-"))
    results: list[Result] = []
    try:
        print("[serve bench] training the model ...", file=sys.stderr, flush=True)
        root, row, encoded, names = make_model(workdir)
        results += floor(root, row, encoded, names)
        ours = json.dumps({"rows": [row]}).encode()

        port = find_free_port()
        results.append(
            run_server(
                "Shipyard (raw ASGI, orjson, uvicorn)",
                lambda: Server(
                    "shipyard",
                    [
                        sys.executable,
                        "-m",
                        "shipyard.serve",
                        "fraud@prod",
                        "--project",
                        str(root),
                        "--port",
                        str(port),
                    ],
                    f"http://127.0.0.1:{port}/ping",
                    workdir / "shipyard.log",
                ),
                f"http://127.0.0.1:{port}/v1/predict",
                ours,
                "raw JSON row, validated + encoded",
            )
        )
        port = find_free_port()
        (workdir / "fastapi_app.py").write_text(_FASTAPI_APP)
        results.append(
            run_server(
                "same model, FastAPI + pydantic",
                lambda: Server(
                    "fastapi",
                    [sys.executable, str(workdir / "fastapi_app.py"), str(root), str(port)],
                    f"http://127.0.0.1:{port}/ping",
                    workdir / "fastapi.log",
                ),
                f"http://127.0.0.1:{port}/v1/predict",
                ours,
                "the framework we did not pick",
            )
        )
        if not args.skip_peers:
            results.append(_mlflow(workdir, encoded, names))
            results.append(_bentoml(workdir, encoded))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(results)
    return 0


_CAPTURE_CONFIGS = (
    ("Shipyard, /metrics off, capture off", [], {"SHIPYARD_SERVE_METRICS": "false"}),
    ("Shipyard, /metrics on, capture off", [], {}),
    ("Shipyard, /metrics on, capture 100%", ["--capture", "100"], {}),
)


def capture_costs(repeat: int) -> int:
    """What /metrics and capture at 100% cost a single-row request, measured in one run.

    The three configurations are measured in turn, ``repeat`` rounds, and each figure is the
    median of its rounds, so a burst of load from elsewhere on the machine moves one round,
    not the comparison.
    """
    workdir = Path(tempfile.mkdtemp(prefix="shipyard-capture-bench-"))
    rounds: dict[str, list[Result]] = {name: [] for name, _, _ in _CAPTURE_CONFIGS}
    try:
        print("[serve bench] training the model ...", file=sys.stderr, flush=True)
        root, row, _, _ = make_model(workdir)
        body = json.dumps({"rows": [row]}).encode()
        for _ in range(max(repeat, 1)):
            for name, args, env in _CAPTURE_CONFIGS:
                port = find_free_port()
                command = [sys.executable, "-m", "shipyard.serve", "fraud@prod"]
                command += ["--project", str(root), "--port", str(port), *args]
                rounds[name].append(
                    run_server(
                        name,
                        lambda command=command, env=env, port=port: Server(
                            "shipyard",
                            command,
                            f"http://127.0.0.1:{port}/ping",
                            workdir / "shipyard.log",
                            env={**os.environ, **env},
                        ),
                        f"http://127.0.0.1:{port}/v1/predict",
                        body,
                        "",
                    )
                )
        captured = _captured_rows(root)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = [_median(name, found) for name, found in rounds.items()]
    results[-1].note += f"; {captured:,} rows captured in all"
    print_table(results)
    off, on = results[1], results[2]
    if None not in (off.p50_ms, on.p50_ms, off.rps, on.rps):
        dp50 = on.p50_ms - off.p50_ms  # type: ignore[operator]
        drop = 1 - on.rps / off.rps  # type: ignore[operator]
        print(
            f"\nCapture at 100%: p50 {dp50:+.3f} ms (target <= +0.050 ms), throughput at "
            f"concurrency {CONCURRENCY} {-drop:+.1%} (target >= -10%). "
            f"/metrics: p50 {off.p50_ms - results[0].p50_ms:+.3f} ms, "  # type: ignore[operator]
            f"throughput {off.rps / results[0].rps - 1:+.1%}."  # type: ignore[operator]
        )
    return 0


def _median(name: str, found: list[Result]) -> Result:
    ok = [r for r in found if r.p50_ms is not None]
    if not ok:
        return found[0]

    def mid(values: list[float]) -> float:
        return float(np.median(values))

    return Result(
        name,
        mid([r.p50_ms for r in ok]),  # type: ignore[misc]
        mid([r.p99_ms for r in ok]),  # type: ignore[misc]
        mid([r.rps for r in ok]),  # type: ignore[misc]
        f"median of {len(ok)} rounds",
    )


def _captured_rows(root: Path) -> int:
    import pyarrow.parquet as pq

    files = (root / ".shipyard" / "artifacts" / "captures").rglob("*.parquet")
    return sum(pq.read_metadata(f).num_rows for f in files)


def _mlflow(workdir: Path, encoded: list[float], names: list[str]) -> Result:
    name = "MLflow `models serve` (lightgbm flavour)"
    try:
        python = peer_python("mlflow", ["mlflow", "lightgbm"])
        (workdir / "mlflow_save.py").write_text(_MLFLOW_SAVE)
        subprocess.run(
            [
                str(python),
                str(workdir / "mlflow_save.py"),
                str(workdir / "booster.txt"),
                str(workdir / "mlflow-model"),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        version = subprocess.run(
            [str(python), "-c", "import mlflow; print(mlflow.__version__)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return Result(name, note=f"FAILED to install or save: {detail.strip()[-300:]}")
    port = find_free_port()
    mlflow_bin = python.parent / "mlflow"
    body = json.dumps({"dataframe_split": {"columns": names, "data": [encoded]}}).encode()
    return run_server(
        name,
        lambda: Server(
            "mlflow",
            [
                str(mlflow_bin),
                "models",
                "serve",
                "-m",
                str(workdir / "mlflow-model"),
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            f"http://127.0.0.1:{port}/ping",
            workdir / "mlflow.log",
            env={**_venv_env(python), "MLFLOW_TRACKING_URI": f"file://{workdir / 'mlruns'}"},
        ),
        f"http://127.0.0.1:{port}/invocations",
        body,
        f"mlflow {version}, encoded float row, default workers",
    )


def _bentoml(workdir: Path, encoded: list[float]) -> Result:
    name = "BentoML service (1 worker)"
    try:
        python = peer_python("bentoml", ["bentoml", "lightgbm", "pandas"])
        version = subprocess.run(
            [str(python), "-c", "import bentoml; print(bentoml.__version__)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return Result(name, note=f"FAILED to install: {detail.strip()[-300:]}")
    service_dir = workdir / "bento"
    service_dir.mkdir()
    (service_dir / "service.py").write_text(textwrap.dedent(_BENTO_SERVICE))
    port = find_free_port()
    env = {
        **_venv_env(python),
        "BOOSTER_FILE": str(workdir / "booster.txt"),
        "BENTOML_HOME": str(workdir / "bentoml-home"),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    return run_server(
        name,
        lambda: Server(
            "bentoml",
            [
                str(python.parent / "bentoml"),
                "serve",
                "service:Fraud",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            f"http://127.0.0.1:{port}/readyz",
            workdir / "bentoml.log",
            cwd=service_dir,
            env=env,
        ),
        f"http://127.0.0.1:{port}/predict",
        json.dumps({"rows": [encoded]}).encode(),
        f"bentoml {version}, encoded float row",
    )


def _venv_env(python: Path) -> dict[str, str]:
    """The environment of an activated venv: peers shell out to tools (uvicorn) by name."""
    return {
        **os.environ,
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(python.parent.parent),
    }


def print_table(results: list[Result]) -> None:
    def fmt(value: float | None, digits: int) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    gen = "wrk" if shutil.which("wrk") else "httpx.AsyncClient"
    print(
        f"\nSingle-row scoring on loopback, {os.cpu_count()} cores, load generator: {gen} "
        f"(latency: concurrency 1, >= {LATENCY_REQUESTS:,} requests; "
        f"throughput: concurrency {CONCURRENCY}, {THROUGHPUT_SECONDS} s)\n"
    )
    header = f"| {'system':<42} | {'p50 ms':>7} | {'p99 ms':>7} | {'req/s':>8} | notes"
    print(header)
    print(f"|{'-' * 44}|{'-' * 9}|{'-' * 9}|{'-' * 10}|{'-' * 40}")
    for r in results:
        print(
            f"| {r.name:<42} | {fmt(r.p50_ms, 3):>7} | {fmt(r.p99_ms, 3):>7} | "
            f"{fmt(r.rps, 0):>8} | {r.note}"
        )


if __name__ == "__main__":
    sys.exit(main())
