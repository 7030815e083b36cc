"""The retraining loop: the monitor's alerts start the roaming pipeline again with the later
period and only the labels known by then; the candidate is gated against the champion on the
most recent labelled window and promoted when it wins, or the champion is kept. Measured
before and after on the drift's new fraud variant (Wangiri callbacks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shipyard.errors import NotFound, ShipyardError

if TYPE_CHECKING:
    from rich.console import Console

    from shipyard.demo._pipeline import Pipelined
    from shipyard.project import Project

__all__ = ["VARIANT", "Retrained", "alert_payload", "retrain", "variant_quality"]

VARIANT = "wangiri"
"""The fraud type that appears with the drift (see ``shipyard/demo/_patterns.py``)."""
_ALERTS = 50
"""At most this many of the monitor's newest alerts go into the run's ``alert`` parameter."""


@dataclass
class Retrained:
    """What the retraining run did and what it measured."""

    known_by: str
    champion: str
    trigger: str
    run: str | None = None
    seconds: float = 0.0
    candidate: str | None = None
    promoted: bool = False
    decision: str = "kept"
    reason: str = ""
    gate: dict[str, Any] = field(default_factory=dict)
    window: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``champion`` and ``candidate``: PR AUC and recall at each one's own threshold on
    the recent window (``all_*``) and on its rows of the new variant against the clean ones
    (``variant_*``), with the row counts."""


def alert_payload(project: Project, monitor: str) -> dict[str, Any]:
    """The alerts of ``monitor`` as its on-violation action gets them (the pipeline's
    ``alert`` parameter), newest first, at most :data:`_ALERTS` of them."""
    from shipyard.entities import to_json
    from shipyard.monitor import list_alerts

    found = project.catalog.get_monitor(monitor)
    alerts = list_alerts(project, monitor=monitor, open_only=True)[:_ALERTS]
    return {"monitor": found.name, "model": found.model, "alerts": [to_json(a) for a in alerts]}


def retrain(
    project: Project,
    params: dict[str, Any],
    known_by: datetime,
    monitor: str,
    out: Console,
) -> Retrained:
    """Run the roaming pipeline as the monitor's ``pipeline:roaming`` action would, in this
    process: ``params`` plus ``known_by`` and the monitor's alerts as ``alert``. Never raises
    for a failed run or a refused gate: the champion is kept and the reason recorded."""
    from shipyard.demo._pipeline import roaming_run
    from shipyard.registry import resolve_model

    champion = resolve_model(project, "fraud@prod").ref
    trigger = f"monitor:{monitor}"
    found = Retrained(known_by=known_by.isoformat(), champion=champion, trigger=trigger)
    given = {**params, "known_by": found.known_by, "alert": alert_payload(project, monitor)}
    try:
        done = roaming_run(project, given, out, trigger=trigger)
    except ShipyardError as exc:  # refused before it ran (a bad parameter)
        found.reason = exc.message
        return found
    _read(project, done, found)
    return found


def _read(project: Project, done: Pipelined, found: Retrained) -> None:
    from shipyard.registry import resolve_model

    result = done.result
    found.run, found.seconds = result.run.id, round(done.seconds, 1)
    finished = {s.step for s in result.steps if s.status in ("finished", "cached")}
    if "recent-window" in finished:
        found.window = result.outputs("recent-window")["window"]
    if "gate" in finished:
        found.gate = result.outputs("gate")["evidence"]
    if "train" in finished:
        found.candidate = result.outputs("train")["model"]
        holdout = result.outputs("recent-window")["holdout"]
        try:
            for role, ref in (("champion", found.champion), ("candidate", found.candidate)):
                found.quality[role] = variant_quality(project, holdout, ref)
        except ShipyardError as exc:  # reported, as the decision is: the demo goes on
            found.quality = {"error": {"message": exc.message}}
    found.promoted = resolve_model(project, "fraud@prod").ref != found.champion
    found.decision = "promoted" if found.promoted else "kept"
    failed = done.failed
    if found.promoted:
        found.reason = found.gate.get("reason", "")
    elif failed is not None:
        found.reason = f"step '{failed.step}' failed: {failed.error or result.run.error}"
    elif found.gate and not found.gate.get("passed"):
        found.reason = f"the gate refused it: {found.gate.get('reason', '')}"
    else:
        found.reason = result.run.error or "the run did not promote it"


def variant_quality(
    project: Project, holdout: str, model: str, variant: str = VARIANT
) -> dict[str, Any]:
    """``model`` on the labelled rows of ``holdout``: PR AUC and recall at its threshold on
    all of them, and on the rows of fraud ``variant`` against the clean rows (the fraud type
    read from the ``labels`` dataset for the rows labelled fraud).

    Raises:
        NotFound: No such dataset or model.
    """
    import numpy as np
    from sklearn.metrics import average_precision_score

    from shipyard.lake import connect_views, quote_ident
    from shipyard.registry import load_model

    con = connect_views(project.catalog, project.lake)
    try:
        frame = con.execute(
            f"SELECT h.*, CASE WHEN h.is_fraud = 1 THEN l.fraud_type END AS __type "
            f"FROM {quote_ident(holdout)} h LEFT JOIN labels l "
            "ON l.subscriber_id = h.subscriber_id AND l.day = h.day"
        ).df()
    except Exception as exc:  # duckdb.CatalogException: a dataset is missing
        raise NotFound(f"Cannot read the holdout {holdout} with the labels: {exc}") from None
    finally:
        con.close()
    kinds = frame.pop("__type").to_numpy()
    y = frame.pop("is_fraud").to_numpy().astype(int)
    predicted = load_model(project, model).model.predict_frame(frame)
    scores, flagged = np.asarray(predicted.scores), np.asarray(predicted.decisions, dtype=bool)
    is_variant, clean = kinds == variant, y == 0
    scope = is_variant | clean

    def pr_auc(truth: np.ndarray, where: np.ndarray) -> float | None:
        if not truth[where].any() or truth[where].all():
            return None
        return round(float(average_precision_score(truth[where], scores[where])), 4)

    def recall(rows: np.ndarray) -> float | None:
        return round(float(flagged[rows].mean()), 4) if rows.any() else None

    return {
        "model": model, "rows": len(y), "fraud": int(y.sum()), "variant": variant,
        "variant_rows": int(is_variant.sum()),
        "all_pr_auc": pr_auc(y.astype(bool), np.ones(len(y), dtype=bool)),
        "all_recall": recall(y == 1),
        "variant_pr_auc": pr_auc(is_variant, scope), "variant_recall": recall(is_variant),
    }  # fmt: skip
