"""Replay the later (drifted) period as a stream: every usage record updates its subscriber's
online features and is scored from them, in micro-batches of a few simulated minutes. Scored
rows are captured with their event time as the capture time, so monitors see the replayed
hours."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.demo._build import FEATURES
from shipyard.demo.features import roaming_features

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from shipyard.capture import CaptureWriter
    from shipyard.demo._stream import EventSink
    from shipyard.project import Project

__all__ = ["Replay", "replay"]

BATCH_MINUTES = 10


@dataclass
class Replay:
    """What the replay did: records, how they travelled, alerts per hour, timings."""

    since: datetime
    until: datetime
    path: str = ""
    records: int = 0
    batches: int = 0
    late: int = 0
    alerts: int = 0
    per_hour: dict[datetime, int] = field(default_factory=dict)
    seconds: float = 0.0
    apply_ms: list[float] = field(default_factory=list)
    score_ms: list[float] = field(default_factory=list)
    scored: pd.DataFrame | None = None

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def _records(project: Project, since: datetime, until: datetime) -> pa.Table:
    from shipyard.lake import connect_views

    con = connect_views(project.catalog, project.lake)
    try:
        return con.sql(
            f"SELECT * FROM usage_later WHERE event_time >= TIMESTAMP '{since:%Y-%m-%d %H:%M:%S}' "
            f"AND event_time < TIMESTAMP '{until:%Y-%m-%d %H:%M:%S}' "
            "ORDER BY event_time, subscriber_id"
        ).to_arrow_table()
    finally:
        con.close()


def replay(
    project: Project,
    model_ref: str,
    sink: EventSink,
    capture: CaptureWriter,
    since: datetime,
    until: datetime,
    progress: Any = None,
) -> Replay:
    """Send the usage records of ``[since, until)`` through ``sink`` batch by batch, score
    each batch from the online store right after it is applied, and capture the scores."""
    import pyarrow.compute as pc

    from shipyard.registry import load_model

    model = load_model(project, model_ref).model
    records = _records(project, since, until)
    out = Replay(since, until, path=sink.name, records=records.num_rows)
    micros = pc.cast(records.column("event_time"), "int64").to_numpy()
    step = BATCH_MINUTES * 60 * 1_000_000
    edges = np.searchsorted(micros, np.arange(micros[0] // step * step, micros[-1] + step, step))
    frames = []
    started = time.perf_counter()
    for lo, hi in itertools.pairwise(edges):
        if hi > lo:
            frames.append(_batch(project, model, sink, capture, records.slice(lo, hi - lo), out))
        if progress is not None and out.batches % 36 == 0:
            progress(out.batches, len(edges) - 1)
    out.seconds = time.perf_counter() - started
    out.late = sink.late
    out.scored = _concat(frames)
    out.per_hour = _per_hour(out.scored)
    out.alerts = int(out.scored["alert"].sum()) if out.scored is not None else 0
    return out


def _batch(
    project: Project,
    model: Any,
    sink: EventSink,
    capture: CaptureWriter,
    batch: pa.Table,
    out: Replay,
) -> pd.DataFrame:
    import pyarrow.compute as pc

    t0 = time.perf_counter()
    sink.send(batch)
    t1 = time.perf_counter()
    ids = batch.column("subscriber_id").to_pylist()
    frame = _features_as_of_records(project, batch, ids)
    frame["event_time"] = batch.column("event_time").to_pandas()
    frame["day"] = frame["event_time"].dt.date
    result = model.predict_frame(frame)
    t2 = time.perf_counter()
    micros = pc.cast(batch.column("event_time"), "int64").to_numpy()
    request_ids = [f"{s}-{m}" for s, m in zip(ids, micros.tolist(), strict=True)]
    capture.write_table(
        _arrow(frame),
        result.scores,
        result.labels(),
        request_id=request_ids,
        latency_ms=(t2 - t0) * 1e3 / batch.num_rows,
        captured_us=micros,
    )
    out.batches += 1
    out.apply_ms.append((t1 - t0) * 1e3)
    out.score_ms.append((t2 - t1) * 1e3)
    keep = frame[["subscriber_id", "event_time", "day"]].copy()
    keep["request_id"] = request_ids
    keep["score"] = result.scores
    keep["alert"] = np.asarray(result.decisions, dtype=bool)
    return keep


def _features_as_of_records(project: Project, batch: pa.Table, ids: list[str]) -> pd.DataFrame:
    """Each record's features as its subscriber had them right after that record, as in the
    training set: the windows end at the record's own time (exact: the online state keeps
    the window's events), and the current-record columns are the record's own fields, not
    those of a later record of the same batch."""
    import pandas as pd
    import pyarrow.compute as pc

    from shipyard.features import get_online_features

    one_us = timedelta(microseconds=1)
    end = pc.max(batch.column("event_time")).as_py() + one_us
    online = get_online_features(project, {"subscriber_id": ids}, list(FEATURES), at=end)
    frame = online.to_pandas()
    counts = pd.Series(ids).value_counts()
    times = batch.column("event_time").to_pylist()
    for i in np.flatnonzero(pd.Series(ids).map(counts).to_numpy() > 1):
        # A subscriber with several records in the batch: read again at this record's time.
        own = get_online_features(
            project, {"subscriber_id": [ids[i]]}, list(FEATURES), at=times[i] + one_us
        ).to_pandas()
        frame.iloc[int(i)] = own.iloc[0]
    (usage,) = (g for g in roaming_features().groups if g.name == "roaming_usage")
    for feature in usage.columns:
        frame[feature.name] = batch.column(feature.column).to_pandas()
    return frame


def _arrow(frame: pd.DataFrame) -> pa.Table:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    import pandas as pd

    return pd.concat(frames, ignore_index=True) if frames else None


def _per_hour(scored: pd.DataFrame | None) -> dict[datetime, int]:
    import pandas as pd

    if scored is None:
        return {}
    hours = scored["event_time"].dt.floor("h")
    counts = scored["alert"].groupby(hours).sum()
    return {pd.Timestamp(str(h)).to_pydatetime(): int(n) for h, n in counts.items()}
