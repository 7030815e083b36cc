"""What a training job is asked to do: one frozen, validated spec that every face builds.

A :class:`TrainSpec` is made of parts (split, search, decision, report), each checked once
when it is made, with messages in scikit-learn's shape. A spec that exists is valid as far
as it can be without the data; what needs the table (do the columns exist, does the target
have two classes) is checked when the job reads it. The CLI, the SDK and the REST API all
build a spec, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from shipyard.automl import Budget, check_families
from shipyard.catalog.refs import parse_model_ref
from shipyard.compute import check_backend
from shipyard.errors import InvalidInput, did_you_mean
from shipyard.model import CALIBRATIONS, get_family
from shipyard.model.anomaly_feature import check_detector
from shipyard.train._split import STRATEGIES
from shipyard.train._target import TARGET_TRANSFORMS
from shipyard.train._threshold import check_decision

__all__ = ["DecisionSpec", "ReportSpec", "SearchSpec", "SplitSpec", "TrainSpec"]

_PROBLEM_TYPES = ("binary", "multiclass", "regression", "anomaly")


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class SplitSpec:
    """How rows become train, validation and test.

    Args:
        strategy: random, stratified, time (``time_column``), group (``group_column``) or
            column: each row's part read from ``split_column`` (train, valid or test).
        allow_leakage: Train even when the leakage checks find a severe problem (recorded
            on the run).
    """

    strategy: str = "stratified"
    time_column: str | None = None
    group_column: str | None = None
    split_column: str | None = None
    allow_leakage: bool = False

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise InvalidInput(
                f"The 'split' parameter of train must be one of {', '.join(STRATEGIES)}. Got "
                f"{self.strategy!r} instead.{did_you_mean(str(self.strategy), STRATEGIES)}"
            )
        needs = {"time": "time_column", "group": "group_column", "column": "split_column"}
        column = needs.get(self.strategy)
        if column and not getattr(self, column):
            flag = column.replace("_", "-")
            raise InvalidInput(
                f"A {self.strategy} split needs the '{column}' parameter (--{flag} COLUMN)."
            )

    @property
    def used_columns(self) -> tuple[str, ...]:
        """Columns the split reads that must not become features."""
        out = [self.group_column, self.split_column]
        if self.strategy == "time":
            out.append(self.time_column)
        return tuple(c for c in out if c)


@dataclass(frozen=True)
class SearchSpec:
    """One fit of one family, or an AutoML search under a time budget.

    Args:
        time_budget: Seconds for the whole job, registration and report included; turns on
            the search. None: one fit of ``family``.
        family: The family of a single fit; ``params`` its parameters.
        families: Families the search may use (default: all).
        metric: What the search optimizes (default: roc_auc, pr_auc under 5% positives,
            log_loss or rmse).
        ensemble: Let the search pick a greedy ensemble when it beats the best model.
        max_trials: Stop the search after this many trials even with time left.
        backend: Where the search's trials run: ``local`` or ``ray`` (needs a budget).
        ray_address: The Ray cluster (default: the ``ray_address`` setting).
        threads: Threads per fit and prediction (0: one for small data, else all cores).
        target_transform: For a regression search: ``auto`` (y, and boosters on log(1 + y)
            beside them when y is never negative and skewed), ``none`` (y as given) or
            ``log`` (every model on log(1 + y)).
    """

    time_budget: float | None = None
    family: str = "lightgbm"
    params: Mapping[str, Any] | None = None
    families: tuple[str, ...] | None = None
    metric: str | None = None
    ensemble: bool = True
    max_trials: int | None = None
    backend: str = "local"
    ray_address: str | None = None
    threads: int = 0
    target_transform: str = "auto"

    def __post_init__(self) -> None:
        if self.target_transform not in TARGET_TRANSFORMS:
            raise InvalidInput(
                f"The 'target_transform' parameter of train must be one of "
                f"{', '.join(TARGET_TRANSFORMS)}. Got {self.target_transform!r} instead."
            )
        if self.families is not None:
            object.__setattr__(self, "families", tuple(check_families(list(self.families))))
        check_backend(self.backend)
        _check_int("threads", self.threads, low=0)
        if self.time_budget is None:
            get_family(self.family)
            if (
                self.families is not None
                or self.max_trials is not None
                or self.target_transform != "auto"
            ):
                raise InvalidInput(
                    "'families', 'max_trials' and 'target_transform' shape an AutoML search; "
                    "give time_budget (seconds) to run one, or use family= for a single fit."
                )
            if self.backend == "ray":
                raise InvalidInput(
                    "backend='ray' runs the trials of an AutoML search on Ray; give "
                    "time_budget (seconds) to run one, or use the local backend for a single fit."
                )
            return
        Budget(self.time_budget)  # the budget's own checks: a number, not too small or large
        if self.params:
            raise InvalidInput(
                "'params' sets the parameters of a single fit; an AutoML search (time_budget) "
                "chooses its own. Drop one of them."
            )
        if self.max_trials is not None:
            _check_int("max_trials", self.max_trials, low=1)

    @property
    def automl(self) -> bool:
        return self.time_budget is not None


@dataclass(frozen=True)
class DecisionSpec:
    """How a binary model turns scores into decisions.

    Args:
        cost_fp, cost_fn: Costs of a false alarm and of a miss: the threshold minimizes
            their total on validation.
        alert_rate: Flag at most this share of rows.
        calibration: auto (isotonic or sigmoid when it lowers validation log loss), none,
            isotonic or sigmoid.
    """

    cost_fp: float | None = None
    cost_fn: float | None = None
    alert_rate: float | None = None
    calibration: str = "auto"

    def __post_init__(self) -> None:
        check_decision(self.cost_fp, self.cost_fn, self.alert_rate)
        if self.calibration not in CALIBRATIONS:
            raise InvalidInput(
                f"The 'calibration' parameter of train must be one of {', '.join(CALIBRATIONS)}."
                f" Got {self.calibration!r} instead."
            )

    @property
    def rule(self) -> str:
        """cost, alert_rate or f1: what chooses the threshold."""
        return check_decision(self.cost_fp, self.cost_fn, self.alert_rate)


@dataclass(frozen=True)
class ReportSpec:
    """What the evaluation report breaks down.

    Args:
        slice_by: Columns of the table whose values or quantile bins get their own metrics.
        facet: Column whose groups post-training bias is measured on (binary only), for
            ``facet_values`` (default: each value) or, numeric, ``facet > facet_threshold``.
    """

    slice_by: tuple[str, ...] = ()
    facet: str | None = None
    facet_values: tuple[Any, ...] | None = None
    facet_threshold: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "slice_by", _names(self.slice_by))
        if self.facet is None and (self.facet_values or self.facet_threshold is not None):
            raise InvalidInput(
                "facet_values and facet_threshold choose the groups of a facet; give the facet "
                "column too (--facet COLUMN)."
            )
        if self.facet_values is not None and self.facet_threshold is not None:
            raise InvalidInput(
                "Give either facet_values (a categorical facet) or facet_threshold (a numeric "
                "one), not both."
            )


@dataclass(frozen=True)
class TrainSpec:
    """Everything a training job is asked to do, validated.

    Args:
        model_name: The registered model's name (default: the dataset's name).
        exclude: Columns that must not become features.
        positive: The positive class of a binary target (default: 1, True or the minority).
        problem_type: binary, multiclass or regression (default: inferred from the target),
            or anomaly: an unsupervised detector, the target (optional) only evaluates it.
        contamination: The share of training rows an anomaly model flags (0 < c <= 0.5;
            default: chosen on the label, else 0.01).
        seed: Seeds the split, the search and every fit.
        allow_pii: Columns tagged as personal data that may become features as they are.
        hash_pii: Columns tagged as personal data that become features through a keyed hash
            (HMAC-SHA256 with the project's key), compiled into the model.
        keep_columns: Columns left out of the features by default (dates and times,
            identifiers, columns Shipyard wrote such as a model's scores) to use anyway.
        anomaly_feature: ``lof`` or ``isolation_forest``: a detector of that kind, fitted on
            the train part's encoded features only, whose score becomes one more feature
            (``anomaly_score``) computed inside the model from the raw row (supervised
            models only; default: none).

    Example:
        >>> spec = TrainSpec(search=SearchSpec(time_budget=60), model_name="fraud")
        >>> spec.search.automl
        True
    """

    split: SplitSpec = field(default_factory=SplitSpec)
    search: SearchSpec = field(default_factory=SearchSpec)
    decision: DecisionSpec = field(default_factory=DecisionSpec)
    report: ReportSpec = field(default_factory=ReportSpec)
    model_name: str | None = None
    exclude: tuple[str, ...] = ()
    positive: Any = None
    problem_type: str | None = None
    seed: int = 0
    allow_pii: tuple[str, ...] = ()
    hash_pii: tuple[str, ...] = ()
    keep_columns: tuple[str, ...] = ()
    contamination: float | None = None
    anomaly_feature: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude", _names(self.exclude))
        object.__setattr__(self, "keep_columns", _names(self.keep_columns))
        object.__setattr__(self, "allow_pii", _names(self.allow_pii))
        object.__setattr__(self, "hash_pii", _names(self.hash_pii))
        _check_int("seed", self.seed, low=0)
        if self.problem_type is not None and self.problem_type not in _PROBLEM_TYPES:
            raise InvalidInput(
                f"The 'problem_type' parameter of train must be one of "
                f"{', '.join(_PROBLEM_TYPES)}. Got {self.problem_type!r} instead."
            )
        if self.model_name is not None:
            parse_model_ref(self.model_name)
        if self.contamination is not None:
            _check_contamination(self.contamination, self.problem_type)
        if self.anomaly_feature is not None:
            check_detector(self.anomaly_feature)
            if self.problem_type == "anomaly":
                raise InvalidInput(
                    "'anomaly_feature' adds an anomaly score to the features of a supervised "
                    "model; an anomaly model is that score already. Drop one of them."
                )

    @classmethod
    def of(cls, **options: Any) -> TrainSpec:
        """A spec from flat keyword options (``split="time"``, ``time_budget=60``, ...), as
        the SDK's ``train(project, dataset, target, **options)`` takes them.

        Raises:
            InvalidInput: An unknown option (with the closest name), or an invalid value.
        """
        parts: dict[str, dict[str, Any]] = {
            name: {} for name in ("split", "search", "decision", "report", "top")
        }
        for key, value in options.items():
            part = _OPTION_PART.get(key)
            if part is None:
                raise InvalidInput(
                    f"train() got an unknown option {key!r}.{did_you_mean(key, _OPTION_PART)} "
                    f"Options: {', '.join(sorted(_OPTION_PART))}."
                )
            parts[part]["strategy" if key == "split" else key] = value
        if parts["search"].get("families") is not None:
            parts["search"]["families"] = _names(parts["search"]["families"])
        if parts["report"].get("facet_values") is not None:
            parts["report"]["facet_values"] = tuple(parts["report"]["facet_values"])
        return cls(
            split=SplitSpec(**parts["split"]),
            search=SearchSpec(**parts["search"]),
            decision=DecisionSpec(**parts["decision"]),
            report=ReportSpec(**parts["report"]),
            **parts["top"],
        )


def _check_int(name: str, value: Any, *, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput(
            f"The '{name}' parameter of train must be an integer of at least {low}. "
            f"Got {value!r} instead."
        )


def _check_contamination(value: Any, problem_type: str | None) -> None:
    if problem_type != "anomaly":
        raise InvalidInput(
            "'contamination' sets the share of rows an anomaly model flags; give "
            "problem_type='anomaly' (--problem anomaly) with it."
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 0.5:
        raise InvalidInput(
            "The 'contamination' parameter of train must be a share of rows in (0, 0.5]. "
            f"Got {value!r} instead."
        )


def _option_parts() -> dict[str, str]:
    out = {"split": "split"}
    for part, spec in (
        ("split", SplitSpec),
        ("search", SearchSpec),
        ("decision", DecisionSpec),
        ("report", ReportSpec),
    ):
        out.update({f.name: part for f in fields(spec) if f.name != "strategy"})
    out.update({f.name: "top" for f in fields(TrainSpec) if f.name not in out})
    for part in ("search", "decision", "report"):
        out.pop(part, None)
    return out


_OPTION_PART = _option_parts()
