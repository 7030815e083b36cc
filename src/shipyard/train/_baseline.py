"""What the monitoring baseline a training job stores costs, reserved from its time budget
(the baseline itself is written by :func:`shipyard.train._records.write_baseline`)."""

from __future__ import annotations

__all__ = ["baseline_seconds"]


def baseline_seconds(rows: int) -> float:
    """About how long the monitoring baseline takes (measured on 2 busy cores: ~0.5 s, plus
    the dataset's profile at ~4 s per million rows), reserved from a time budget."""
    return 0.5 + 4e-6 * rows
