"""The project configuration file, ``shipyard.yaml``: each environment's own locations and
promotion gates, validated.

The schema (every key optional)::

    environments:
      prod:
        catalog_url: postgresql://shipyard:${PROD_DB_PASSWORD}@db.internal/shipyard
        artifacts_url: s3://acme-models/prod     # a folder, file:// or s3://
        online_url: redis://cache.internal:6379/0
        gates:
          approval: true                         # the version must be Approved
          baseline: true                         # a monitoring baseline is attached
          diagnostics: {fail_on: error}          # or true / false; fail_on: error | warning
          champion: {metric: roc_auc, margin: 0.0, resamples: 1000}   # or true / false
          bias:                                  # off unless facets are named
            facets:
              - column: age_band
                values: ["65+"]                  # or threshold: 65 for a numeric facet
                limits: {DPPL: 0.1, DI: [0.8, 1.25]}   # |value| <= x, or lo <= value <= hi

``${NAME}`` in a URL is replaced by the environment variable ``NAME`` (so no secret is written in
the file). A relative folder or SQLite path is taken from the project folder. A gate not named
keeps its default for the environment (:data:`DEFAULT_GATES`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shipyard.errors import InvalidInput, did_you_mean
from shipyard.types import ENVIRONMENTS, Environment

__all__ = [
    "BIAS_METRICS",
    "CHAMPION_METRICS",
    "CONFIG_FILE",
    "DEFAULT_GATES",
    "BiasFacet",
    "BiasGate",
    "ChampionGate",
    "DiagnosticsGate",
    "EnvironmentConfig",
    "GatePlan",
    "load_config",
]

CONFIG_FILE = "shipyard.yaml"
"""The project configuration file, at the project's root (beside ``.shipyard/``)."""

ChampionMetric = Literal[
    "roc_auc", "pr_auc", "log_loss", "brier", "precision", "recall", "f1", "accuracy",
    "macro_f1", "rmse", "mae", "r2",
]  # fmt: skip
CHAMPION_METRICS: tuple[str, ...] = get_args(ChampionMetric)
"""Metrics the champion gate can compare (those the evaluation's bootstrap computes)."""
BiasMetric = Literal["DPPL", "DI", "DCAcc", "DCR", "RD", "DAR", "DRR", "AD", "TE"]
BIAS_METRICS: tuple[str, ...] = get_args(BiasMetric)
"""Clarify's post-training bias metrics (:mod:`shipyard.analyze.posttraining`)."""

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CATALOG_SCHEMES = ("sqlite", "postgresql", "postgres")
_ONLINE_SCHEMES = ("sqlite", "redis", "rediss")
_ARTIFACT_SCHEMES = ("file", "s3")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Switch(_Strict):
    """A gate that ``true`` turns on with its defaults and ``false`` turns off."""

    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _from_bool(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value


class ChampionGate(_Switch):
    """Beat the environment's current champion on the candidate's held-out rows."""

    metric: ChampionMetric | None = Field(
        default=None, description="default: the problem's (roc_auc, log_loss or rmse)"
    )
    margin: float = Field(
        default=0.0,
        ge=-1.0,
        le=1.0,
        description="the lower end of the 95% paired bootstrap interval of the improvement "
        "must exceed this (negative: non-inferiority)",
    )
    resamples: int = Field(default=1000, ge=100, le=20_000)
    seed: int = 0


class DiagnosticsGate(_Switch):
    """No training diagnostic (or split finding) at ``fail_on`` severity or above."""

    fail_on: Literal["error", "warning"] = "error"


class BiasFacet(_Strict):
    """A facet column, its groups, and the limit of each post-training bias metric."""

    column: str = Field(min_length=1)
    values: list[str | int | float | bool] | None = None
    threshold: float | None = None
    limits: dict[BiasMetric, float | tuple[float, float]] = Field(min_length=1)

    @model_validator(mode="after")
    def _groups_and_limits(self) -> BiasFacet:
        if self.values is not None and self.threshold is not None:
            raise ValueError("give either values (a categorical facet) or threshold, not both")
        for metric, limit in self.limits.items():
            if isinstance(limit, tuple) and limit[0] > limit[1]:
                raise ValueError(f"the range of {metric} must be [low, high]; got {list(limit)}")
            if isinstance(limit, float | int) and limit < 0:
                raise ValueError(f"the limit of |{metric}| must be >= 0; got {limit}")
        return self


class BiasGate(_Switch):
    """Post-training bias within limits for each named facet."""

    facets: list[BiasFacet] = []

    @model_validator(mode="after")
    def _needs_facets(self) -> BiasGate:
        if self.enabled and not self.facets:
            raise ValueError("name the facets to check (facets: [{column, limits}, ...])")
        return self


class _Gates(_Strict):
    approval: bool | None = None
    baseline: bool | None = None
    diagnostics: DiagnosticsGate | None = None
    champion: ChampionGate | None = None
    bias: BiasGate | None = None


class _Environment(_Strict):
    catalog_url: str | None = None
    artifacts_url: str | None = None
    online_url: str | None = None
    gates: _Gates = _Gates()

    @field_validator("catalog_url", "artifacts_url", "online_url")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("a URL, or leave the key out")
        return value


class _File(_Strict):
    environments: dict[Environment, _Environment] = {}


@dataclass(frozen=True)
class GatePlan:
    """The gates an environment runs, defaults applied: each is off (False / None) or on."""

    approval: bool = False
    baseline: bool = False
    diagnostics: DiagnosticsGate | None = None
    champion: ChampionGate | None = None
    bias: BiasGate | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The gates that are on, in the order they run."""
        on = {
            "approval": self.approval,
            "diagnostics": self.diagnostics is not None,
            "baseline": self.baseline,
            "bias": self.bias is not None,
            "champion": self.champion is not None,
        }
        return tuple(name for name, enabled in on.items() if enabled)


DEFAULT_GATES: dict[str, GatePlan] = {
    "dev": GatePlan(),
    "staging": GatePlan(baseline=True, diagnostics=DiagnosticsGate()),
    "prod": GatePlan(
        approval=True, baseline=True, diagnostics=DiagnosticsGate(), champion=ChampionGate()
    ),
}
"""The gates of an environment that ``shipyard.yaml`` does not change: none in dev; a baseline
and clean diagnostics in staging; in prod also approval and beating the champion."""


@dataclass(frozen=True)
class EnvironmentConfig:
    """An environment's validated configuration: its own locations (None: the project's) and
    its gates; ``source`` is the file it came from (None: the defaults)."""

    name: str
    catalog_url: str | None
    artifacts_url: str | None
    online_url: str | None
    gates: GatePlan
    source: Path | None = None

    @property
    def has_own_locations(self) -> bool:
        return any((self.catalog_url, self.artifacts_url, self.online_url))


def load_config(root: Path) -> dict[str, EnvironmentConfig]:
    """Every environment's configuration from ``root/shipyard.yaml`` (defaults without it).

    Raises:
        InvalidInput: The file is not YAML, or a key is unknown or has a value of the wrong
            kind; the message names the file, the key and what is expected.
    """
    path = root / CONFIG_FILE
    raw = _read(path)
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        raise _explain(path, exc) from None
    out: dict[str, EnvironmentConfig] = {}
    for name in ENVIRONMENTS:
        given = parsed.environments.get(name)
        if given is None:
            out[name] = EnvironmentConfig(name, None, None, None, DEFAULT_GATES[name])
            continue
        where = f"environments.{name}"
        out[name] = EnvironmentConfig(
            name,
            _location(given.catalog_url, root, path, f"{where}.catalog_url", _CATALOG_SCHEMES),
            _location(given.artifacts_url, root, path, f"{where}.artifacts_url", None),
            _location(given.online_url, root, path, f"{where}.online_url", _ONLINE_SCHEMES),
            _plan(given.gates, DEFAULT_GATES[name]),
            path,
        )
    return out


def _read(path: Path) -> dict[str, Any]:
    import yaml  # only a project with the file pays for it

    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(
            f"{path}{where} is not valid YAML: {problem}. Fix it, or remove the file to use "
            "the default environments.",
            details={"file": str(path)},
        ) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput(
            f"{path}: expected a mapping with the key 'environments' at the top. Got "
            f"{type(raw).__name__} instead.",
            details={"file": str(path)},
        )
    return raw


def _explain(path: Path, exc: ValidationError) -> InvalidInput:
    """One message naming the file, each bad key and what it expects."""
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        key = ".".join(str(p) for p in loc if p != "[key]") or "(top)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            known = [k for k in _model_at(loc[:-1]).model_fields if k != "enabled"]
            message = (
                f"unknown key.{did_you_mean(str(loc[-1]), known)} Keys here: {', '.join(known)}"
            )
        elif err["type"] in ("model_type", "dict_type"):
            message = "expected true, false, or a mapping of the gate's settings"
        elif loc[-1:] == ("[key]",) and len(loc) == 3:
            message = f"unknown environment; use one of {', '.join(ENVIRONMENTS)}"
        problems.append(f"key '{key}': {message}")
    return InvalidInput(
        f"{path} is not a valid Shipyard configuration: {'; '.join(problems)}.",
        details={"file": str(path), "problems": problems},
    )


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    """The model class whose keys are allowed at ``loc`` (a path into the file)."""
    model: type[BaseModel] = _File
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is not None:
            model = _inner_model(field.annotation) or model
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _plan(gates: _Gates, default: GatePlan) -> GatePlan:
    def pick(value: Any, fallback: Any) -> Any:
        if value is None:
            return fallback
        return value if value.enabled else None

    return GatePlan(
        approval=default.approval if gates.approval is None else gates.approval,
        baseline=default.baseline if gates.baseline is None else gates.baseline,
        diagnostics=pick(gates.diagnostics, default.diagnostics),
        champion=pick(gates.champion, default.champion),
        bias=pick(gates.bias, default.bias),
    )


def _location(
    url: str | None, root: Path, path: Path, key: str, schemes: tuple[str, ...] | None
) -> str | None:
    """A URL with ``${VAR}`` expanded, relative paths taken from ``root``, scheme checked."""
    if url is None:
        return None
    url = _expand(url, path, key)
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower() if "://" in url else ""
    if schemes is None:  # an artifact store: a folder, file:// or s3://
        if scheme and scheme not in _ARTIFACT_SCHEMES:
            raise _bad_scheme(path, key, url, ("a folder", "file://", "s3://"))
        if not scheme:
            return str(_under(root, url))
        return url
    if scheme not in schemes:
        raise _bad_scheme(path, key, url, tuple(f"{s}://" for s in schemes))
    if scheme == "sqlite":
        file = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not file:
            raise InvalidInput(
                f"{path}: key '{key}': expected sqlite:///PATH with a file path. Got "
                f"'{url}' instead.",
                details={"file": str(path), "key": key},
            )
        return f"sqlite:///{_under(root, file)}"
    return url


def _under(root: Path, place: str) -> Path:
    folder = Path(place).expanduser()
    return folder if folder.is_absolute() else (root / folder).resolve()


def _expand(url: str, path: Path, key: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = os.environ.get(name)
        if found is None:
            raise InvalidInput(
                f"{path}: key '{key}' uses ${{{name}}}, but the environment variable {name} is "
                "not set. Set it (it keeps the secret out of the file), or write the value.",
                details={"file": str(path), "key": key, "variable": name},
            )
        return found

    return _VARIABLE.sub(value, url)


def _bad_scheme(path: Path, key: str, url: str, expected: tuple[str, ...]) -> InvalidInput:
    shown = _VARIABLE.sub("***", url.split("@")[-1]) if "@" in url else url
    return InvalidInput(
        f"{path}: key '{key}': unknown location '{shown}'. Expected {', '.join(expected)}.",
        details={"file": str(path), "key": key},
    )
