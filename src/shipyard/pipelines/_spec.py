"""What a pipeline is, as written (YAML or Python): parameters and steps. Frozen, and the
same whichever way it was written; :func:`~shipyard.pipelines._validate.plan` checks it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.types import JSON

__all__ = ["Parameter", "PipelineSpec", "Reference", "StepSpec", "parse_reference"]

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,127}$")
"""A pipeline's, a step's or a parameter's name."""
_REF = re.compile(
    r"^\s*(?P<not>not\s+)?(?P<head>[A-Za-z][\w\-]*)(?:\.(?P<tail>[A-Za-z][\w\-]*))?\s*$"
)
PARAM_IN_TEXT = re.compile(r"\$\{\s*params\.([A-Za-z][\w\-]*)\s*\}")
"""``${params.NAME}`` in a config value."""


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter: its type, and its default (none: a run must give it)."""

    name: str
    type: str
    default: Any = None
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class StepSpec:
    """One step as written.

    ``kind`` names a built-in kind, or ``function`` a user function (``module:name`` or
    ``file.py:name``; ``callable`` holds it when the pipeline was written in Python).
    ``inputs`` bind arguments to references (``STEP.OUTPUT``, ``STEP`` for a step's only
    output, or ``params.NAME``); ``config`` gives literal arguments, where a string may hold
    ``${params.NAME}``. ``outputs`` declares a user function's outputs (name -> type) when
    its annotations do not. ``when`` is a reference to a boolean (``not`` negates it): false
    skips the step and what depends on it. ``after`` names steps to wait for without reading
    their outputs (a monitor after the promotion). ``cache`` None takes the kind's default.
    """

    name: str
    kind: str | None = None
    function: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    cache: bool | None = None
    expire_after: float | None = None
    retries: int = 0
    backoff: float = 1.0
    when: str | None = None
    after: tuple[str, ...] = ()
    description: str = ""
    callable: Any = field(default=None, compare=False, repr=False)

    def to_json(self) -> JSON:
        out: JSON = {"name": self.name}
        out.update({"kind": self.kind} if self.kind else {"function": self.function})
        for key in ("inputs", "config", "outputs"):
            if getattr(self, key):
                out[key] = dict(getattr(self, key))
        if self.cache is not None:
            out["cache"] = self.cache
        if self.expire_after is not None:
            out["expire_after"] = self.expire_after
        if self.retries:
            out.update(retries=self.retries, backoff=self.backoff)
        if self.when:
            out["when"] = self.when
        if self.after:
            out["after"] = list(self.after)
        return out


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline as written: its name, parameters and steps (in the order given), and the
    file it came from."""

    name: str
    parameters: tuple[Parameter, ...] = ()
    steps: tuple[StepSpec, ...] = ()
    description: str = ""
    source: str | None = None

    def step(self, name: str) -> StepSpec:
        return next(s for s in self.steps if s.name == name)

    def to_json(self) -> JSON:
        """The canonical definition the catalog versions (no file, no callables)."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": {
                p.name: {"type": p.type, "required": p.required, "default": p.default}
                for p in self.parameters
            },
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class Reference:
    """A parsed ``STEP.OUTPUT`` / ``STEP`` / ``params.NAME`` (``negated`` by ``not``)."""

    step: str | None
    output: str | None
    param: str | None = None
    negated: bool = False

    def __str__(self) -> str:
        text = f"params.{self.param}" if self.param else f"{self.step}.{self.output or ''}"
        return ("not " if self.negated else "") + text.rstrip(".")


def parse_reference(text: Any) -> Reference | None:
    """A reference written as text, or None when ``text`` is not one."""
    if not isinstance(text, str):
        return None
    match = _REF.match(text)
    if not match:
        return None
    head, tail, negated = match.group("head"), match.group("tail"), bool(match.group("not"))
    if head == "params":
        return Reference(None, None, tail, negated) if tail else None
    return Reference(head, tail, None, negated)
