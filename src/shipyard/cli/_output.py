"""How the CLI prints: Rich tables for people, JSON for programs, errors on stderr."""

from __future__ import annotations

import json
import numbers
import sys
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shipyard.jsonable import strict_json

__all__ = [
    "MISSING",
    "JsonFlag",
    "cell",
    "console",
    "emit_json",
    "err_console",
    "fmt_metric",
    "human_bytes",
    "strict_json",
    "table",
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
"""The ``--json`` option every command that shows something takes."""

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit_json(obj: Any) -> None:
    """Print ``obj`` (entities, query results, NumPy and pandas values) as strict JSON on stdout.

    Strict means what ``JSON.parse`` and ``jq`` accept: see :func:`strict_json`.
    """
    sys.stdout.write(json.dumps(strict_json(obj), indent=2, allow_nan=False) + "\n")


MISSING = "—"
"""How a table shows a missing value (None, NaN, pandas' NA, NaT)."""

# Metrics that count something: shown as whole numbers (8,228), not as 8228.0000.
_COUNTS = ("rows", "iteration", "iterations", "trials", "count", "support", "positives")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table with the given header and rows, for 80 columns and up.

    The first column names each row (a dataset, a model, a run, a metric): it is never wrapped
    or cut while the other columns can give room. No cell is ever cut with an ellipsis: a value
    wider than its column folds onto the next line. Cells are plain text, never Rich markup,
    and missing values show as :data:`MISSING`.
    """
    out = Table(title=title, title_justify="left", header_style="bold")
    for i, column in enumerate(columns):
        out.add_column(column, no_wrap=i == 0, overflow="fold")
    for row in rows:
        out.add_row(*(Text(cell(v)) for v in row))
    return out


def cell(value: Any) -> str:
    """A value as a table cell: missing values as :data:`MISSING`, everything else as str."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return MISSING
    if isinstance(value, numbers.Real) and value != value:  # NaN, including NumPy's
        return MISSING
    return str(value)


def fmt_metric(value: Any, name: str = "") -> str:
    """A metric for a table: counts (``rows``, ``best_iteration``) whole, scores to 4 places."""
    if isinstance(value, str) or cell(value) == MISSING:
        return cell(value)
    counted = name.rsplit(".", 1)[-1].endswith(_COUNTS)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) or (counted and float(value).is_integer()):
            return f"{int(value):,}"
        return f"{value:.4f}"
    return str(value)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
