"""Terminal views of training results (Rich)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

__all__ = ["leaderboard_table"]


def leaderboard_table(rows: list[dict[str, Any]], limit: int = 10) -> Table:
    """The AutoML leaderboard: rank, family, validation score, fit time, latency, params."""
    out = Table(title="Leaderboard (validation)", title_justify="left", header_style="bold")
    for column in ("#", "family", "score", "fit s", "ms/row", "params"):
        out.add_column(column)
    for r in rows[:limit]:
        out.add_row(
            str(r["rank"]),
            r["family"],
            f"{r['valid_score']:.4f}",
            f"{r['fit_seconds']:.2f}",
            f"{r['predict_ms_per_row']:.3f}",
            _short(r.get("params", {})),
        )
    return out


def _short(params: dict[str, Any]) -> str:
    text = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
    return text if len(text) <= 60 else text[:57] + "..."
