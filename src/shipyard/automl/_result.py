"""What a search hands back: its finished candidates, the ensemble, and how it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shipyard.model import Family, FitResult

__all__ = ["Candidate", "SearchProgress", "SearchResult", "StackChoice"]


@dataclass
class Candidate:
    """A finished trial: the fitted model, its validation scores and figures."""

    trial: int
    family: Family
    fit: FitResult
    valid_scores: np.ndarray | None
    score: float
    latency_ms: float
    run_id: str | None = None
    default: bool = False
    cut_by_deadline: bool = False
    predict_seconds: float = 0.0
    """Seconds it took to predict the validation rows."""
    fold_estimators: list[Any] | None = None
    """Cross-validated: the fold models of the first repeat, which a bag averages."""
    fold_scores: list[float] | None = None
    """Cross-validated: the validation score of every fold; ``score`` is their mean."""
    threads: int = 1
    """Threads its trial's fits used."""

    @property
    def single_latency_ms(self) -> float:
        """Single-row milliseconds of one of its models: the whole candidate, or one fold
        model's share of its bag (what a refit of it predicts in)."""
        return self.latency_ms / len(self.fold_estimators or [None])

    def row(self) -> dict[str, Any]:
        row = {
            "trial": self.trial,
            "family": self.family.name,
            "params": self.fit.params,
            "valid_score": self.score,
            "fit_seconds": round(self.fit.fit_seconds, 4),
            "predict_ms_per_row": round(self.latency_ms, 4),
            "best_iteration": self.fit.best_iteration,
            "default_config": self.default,
            "cut_by_deadline": self.cut_by_deadline,
            "run_id": self.run_id,
        }
        if self.fold_scores:
            row |= {
                "folds": len(self.fold_scores),
                "fold_mean": float(np.mean(self.fold_scores)),
                "fold_std": float(np.std(self.fold_scores, ddof=1)),
            }
        return row


@dataclass
class StackChoice:
    """The stack a search chose: its members (indices into the candidates), their weights
    and the bias per class, and its out-of-fold score against the alternative's."""

    members: list[int]
    weights: np.ndarray
    bias: np.ndarray
    oof_score: float
    rival_oof_score: float
    rival: str


@dataclass(frozen=True)
class SearchProgress:
    """What a progress callback sees after every trial."""

    trials_done: int
    trials_pruned: int
    trials_failed: int
    metric: str
    best_score: float | None
    best_family: str | None
    seconds_left: float
    last_family: str
    last_status: str


@dataclass
class SearchResult:
    """Every finished candidate (best first) and the ensemble chosen from them, if any."""

    metric: str
    candidates: list[Candidate]
    trials: int
    pruned: int
    failed: int
    ensemble: dict[int, float] | None = None
    ensemble_score: float | None = None
    stopped_by: str = "budget"
    failures: list[str] = field(default_factory=list)
    duplicates: int = 0
    """Proposals equal to a trial already run, not fit again."""
    converged_after: int | None = None
    """Trials decided when the search stopped for convergence (None: it did not)."""
    unimproved: int = 0
    """Trials decided since the best validation score last improved."""
    families: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per requested family: its trial counts and why it was never or only partly tried."""
    ensemble_note: str = ""
    """Whether an ensemble was built and, if not, why."""
    stack: StackChoice | None = None
    """The stacking layer, when it won out of fold (it is then the model shipped)."""
    stack_note: str = ""
    """Whether a stack was built and, if not, why."""
    execution: dict[str, Any] = field(default_factory=lambda: {"backend": "local"})
    """Where the trials ran: the backend and, on Ray, its parallelism and study."""
    validation: str = "holdout"
    """How trials were scored: on the holdout, or by k-fold cross-validation."""

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    def leaderboard(self) -> list[dict[str, Any]]:
        """Rows best first: family, params, validation score, fit time, latency per row."""
        rows = [c.row() for c in self.candidates]
        if self.ensemble is not None and self.ensemble_score is not None:
            members = {self.candidates[i].trial: round(w, 4) for i, w in self.ensemble.items()}
            rows.insert(
                0,
                {
                    "trial": None,
                    "family": "ensemble",
                    "params": {"members": members},
                    "valid_score": self.ensemble_score,
                    "fit_seconds": round(
                        sum(self.candidates[i].fit.fit_seconds for i in self.ensemble), 4
                    ),
                    "predict_ms_per_row": round(
                        sum(self.candidates[i].latency_ms for i in self.ensemble), 4
                    ),
                },
            )
        if self.stack is not None:
            rows.insert(0, self._stack_row(self.stack))
        for rank, row in enumerate(rows, start=1):
            row["rank"] = rank
        return rows

    def _stack_row(self, stack: StackChoice) -> dict[str, Any]:
        """The stack's leaderboard row; its score is out of fold (the honest one)."""
        members = [self.candidates[i] for i in stack.members]
        return {
            "trial": None,
            "family": "stack",
            "params": {
                "members": {
                    c.trial: round(float(w), 4) for c, w in zip(members, stack.weights, strict=True)
                },
                "bias": [round(float(b), 4) for b in stack.bias],
            },
            "valid_score": stack.oof_score,
            "fit_seconds": round(sum(c.fit.fit_seconds for c in members), 4),
            "predict_ms_per_row": round(sum(c.latency_ms for c in members), 4),
        }
