"""Step functions and pipelines the pipeline tests run (importable, so YAML can name them)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TypedDict

import pandas as pd

from shipyard.pipelines import Dataset, pipeline, step, use

CALLS: list[str] = []
ATTEMPTS: dict[str, int] = {}
BARRIER = threading.Barrier(2, timeout=20)


class Parts(TypedDict):
    low: Dataset
    high: Dataset


@step
def source(n: int) -> Dataset:
    CALLS.append("source")
    return pd.DataFrame({"x": range(n)})


@step
def scale(data: Dataset, factor: float = 2.0) -> Dataset:
    CALLS.append("scale")
    frame = data.to_pandas()
    return frame.assign(x=frame["x"] * factor)


@step
def total(data: Dataset) -> float:
    CALLS.append("total")
    print(f"summing {data.ref}")
    return float(data.to_pandas()["x"].sum())


@step
def other(n: int) -> int:
    CALLS.append("other")
    return n * 2


@step
def halves(data: Dataset) -> Parts:
    frame = data.to_pandas()
    middle = frame["x"].median()
    return {"low": frame[frame["x"] <= middle], "high": frame[frame["x"] > middle]}


@pipeline
def chain(n: int = 5, factor: float = 2.0) -> None:
    data = source(n)
    scaled = scale(data, factor=factor)
    total(scaled)
    other(n)


def flaky(key: str, failures: int) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] <= failures:
        raise ConnectionError(f"attempt {ATTEMPTS[key]} lost the connection")
    return f"ok after {ATTEMPTS[key]}"


def meet(side: str) -> str:
    """Returns only when the other side arrives too: both run at once, or both fail."""
    BARRIER.wait()
    return side


def gated(flag: str) -> str:
    if not Path(flag).exists():
        raise RuntimeError(f"{flag} is not there yet")
    return "through"


def slow(marker: str, after: int = 0) -> str:
    Path(marker).write_text(str(os.getpid()))
    if os.environ.get("SHIPYARD_TEST_FAST") != "1":
        time.sleep(120)
    return "slow done"


def first(n: int) -> int:
    return n + 1


@pipeline(name="wired")
def wired(n: int = 3, limit: float = 10.0) -> None:
    data = source(n)
    summed = total(data)
    big = use("condition", check="left > params.limit", left=summed)
    total.using(name="when_big", when=big.result)(data)
    use("fail", step_name="stop", message="too small", when=~big.result)
