"""Shared vocabulary: the type aliases every room speaks."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

JSON: TypeAlias = dict[str, Any]
"""A JSON-serializable mapping."""

ProblemType: TypeAlias = Literal["binary", "multiclass", "regression", "anomaly"]
Environment: TypeAlias = Literal["dev", "staging", "prod"]

ENVIRONMENTS: tuple[Environment, ...] = ("dev", "staging", "prod")
