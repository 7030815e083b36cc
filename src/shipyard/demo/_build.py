"""What the roaming pipeline's demo steps (``shipyard/demo/pipeline_steps.py``) share: the
feature groups the model is trained on, the spine's row cap, the constant-column check."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["FEATURES", "SPINE_ROWS", "constant_columns", "spine_share"]

FEATURES = ("subscriber_profile", "roaming_usage")
"""The groups the model is trained on and scored from."""
SPINE_ROWS = 300_000
"""Most training rows: past it the spine is a uniform sample of the usage records, so the
45-second AutoML budget on 2 cores still leaves time to search."""


def spine_share(project: Project, sql: str) -> float:
    """The share of the rows of ``sql`` a spine of at most :data:`SPINE_ROWS` rows keeps."""
    from shipyard.lake import connect_views

    con = connect_views(project.catalog, project.lake)
    try:
        row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    finally:
        con.close()
    count = int(row[0]) if row else 0
    return min(1.0, SPINE_ROWS / count) if count else 1.0


def constant_columns(project: Project, dataset: str) -> list[str]:
    """The columns of ``dataset`` that hold at most one distinct value (nulls included)."""
    from shipyard.lake import connect_views, quote_ident

    con = connect_views(project.catalog, project.lake)
    try:
        table = quote_ident(dataset.split("@")[0])
        names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        counts = ", ".join(
            f"count(DISTINCT {quote_ident(n)}) + (count(*) > count({quote_ident(n)}))::INT"
            for n in names
        )
        row = con.execute(f"SELECT {counts} FROM {table}").fetchone()
    finally:
        con.close()
    return [n for n, c in zip(names, row or (), strict=True) if c <= 1]
