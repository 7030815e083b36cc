"""The roaming-fraud demo: synthetic data and the SQL that turns it into a training table."""

from __future__ import annotations

from shipyard.demo.data import MIN_DAYS, MIN_SUBSCRIBERS, drift_start, generate
from shipyard.demo.run import DemoSummary, run_demo
from shipyard.demo.sql import training_table_sql

__all__ = [
    "MIN_DAYS",
    "MIN_SUBSCRIBERS",
    "DemoSummary",
    "drift_start",
    "generate",
    "run_demo",
    "training_table_sql",
]
