"""Consume a real Redis Stream: acknowledge after the write, resume after a crash."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from shipyard.errors import BackendUnavailable, InvalidInput
from shipyard.features import _stream, consume, get_online_features, materialize
from shipyard.features._stream import parse_stream_url
from shipyard.project import Project
from tests.features._online_data import make_events, setup

REDIS_URL = os.environ.get("SHIPYARD_TEST_REDIS_URL")


@pytest.fixture
def stream() -> Iterator[tuple[Any, str]]:
    if not REDIS_URL:
        pytest.skip("SHIPYARD_TEST_REDIS_URL is not set")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    name = f"test-usage-{uuid.uuid4().hex[:10]}"
    yield client, name
    client.delete(name)
    client.close()


def _publish(client: Any, name: str, frame: Any) -> None:
    for row in frame.to_dict(orient="records"):
        client.xadd(name, {k: ("" if v is None else str(v)) for k, v in row.items()})


def test_consume_resumes_after_a_crash_and_loses_nothing(
    project: Project, stream: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, name = stream
    events = make_events(np.random.default_rng(20), n=400)
    cut = events["ts"].quantile(0.5)
    setup(project, events[events["ts"] < cut])
    materialize(project)
    later = events[events["ts"] >= cut].sort_values("ts", kind="stable")
    later = later.assign(ts=later["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    _publish(client, name, later)
    url = f"{REDIS_URL}/{name}" if REDIS_URL.rstrip("/")[-1].isdigit() else f"{REDIS_URL}/0/{name}"

    real = _stream.push_table
    calls = {"n": 0}

    def crash_on_second(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash before the write")
        return real(*args)

    monkeypatch.setattr(_stream, "push_table", crash_on_second)
    with pytest.raises(RuntimeError, match="simulated crash"):
        consume(project, "usage", url, consumer="c1", batch=50, idle_timeout=0.2)
    pending = client.xpending(name, "shipyard")["pending"]
    assert pending == 50  # read, not acknowledged
    monkeypatch.setattr(_stream, "push_table", real)
    report = consume(project, "usage", url, consumer="c1", batch=50, idle_timeout=0.5)
    assert report.recovered == 50
    assert report.read == len(later) - 50
    assert client.xpending(name, "shipyard")["pending"] == 0
    # Everything arrived exactly once: the online counts equal a fresh materialize of all.
    keys = [{"subscriber_id": k} for k in sorted(events["subscriber_id"].unique())]
    online = get_online_features(project, keys, "usage", at=events["ts"].max()).to_dict()
    materialize(project)
    rebuilt = get_online_features(project, keys, "usage", at=events["ts"].max()).to_dict()
    assert online["count_amount_6h"] == rebuilt["count_amount_6h"]
    assert online["premium_24h"] == rebuilt["premium_24h"]


def test_stream_url_must_name_db_and_stream() -> None:
    assert parse_stream_url("redis://:pw@h:6379/2/usage") == ("redis://:pw@h:6379/2", "usage")
    with pytest.raises(InvalidInput, match=r"redis://\[:password@\]host"):
        parse_stream_url("redis://:pw@h:6379/usage")


def test_unreachable_stream_hides_the_password(project: Project) -> None:
    pytest.importorskip("redis")
    setup(project, make_events(np.random.default_rng(21), n=50))
    with pytest.raises(BackendUnavailable) as caught:
        consume(project, "usage", "redis://:topsecret@127.0.0.1:1/0/usage", max_events=1)
    assert "topsecret" not in caught.value.message and "***" in caught.value.message
