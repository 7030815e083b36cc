"""Pipelines in Python: steps are plain functions with typed arguments and a typed return
(Kedro's idea), marked with :func:`step`; a :func:`pipeline` function wires them by calling
them, which records the graph instead of running it::

    from shipyard.pipelines import Dataset, pipeline, step, use

    @step(retries=2)
    def clean(raw: Dataset, min_amount: float = 0.0) -> Dataset:
        frame = raw.to_pandas()
        return frame[frame["amount"] >= min_amount]   # published as a new dataset version

    @pipeline
    def nightly(path: str = "raw/usage.parquet", min_amount: float = 1.0) -> None:
        raw = use("ingest", path=path, name="usage")
        clean(raw.dataset, min_amount=min_amount)

Called outside a pipeline, a step is the plain function. Inside, an argument that is a
step's output or a parameter becomes an input (an edge of the graph); any other value is
configuration. ``clean.using(name=..., when=better.result, cache=False)`` changes one call.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.pipelines._kinds import StepKind, builtin, function_kind, type_of
from shipyard.pipelines._spec import Parameter, PipelineSpec, StepSpec
from shipyard.pipelines._types import parse_duration

__all__ = ["PipelineFunction", "Ref", "StepFunction", "pipeline", "step", "use"]


@dataclass(frozen=True)
class Ref:
    """A value known only when the pipeline runs: a step's output or a parameter."""

    text: str
    negated: bool = False

    def __invert__(self) -> Ref:
        return Ref(self.text, not self.negated)

    def __str__(self) -> str:
        return ("not " if self.negated else "") + self.text

    def __bool__(self) -> bool:
        raise InvalidInput(
            f"{self.text} has no value while the pipeline is being defined: a Python `if` "
            "cannot branch on it. Use a condition step and `.using(when=...)`."
        )


class Outputs:
    """A traced step's outputs: ``outs.name`` (or ``outs["name"]``) is a :class:`Ref`."""

    def __init__(self, step: str, names: Mapping[str, str]) -> None:
        self._step, self._names = step, dict(names)

    def __getattr__(self, name: str) -> Ref:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._names:
            raise InvalidInput(
                f"Step '{self._step}' has no output {name!r}. Its outputs: "
                f"{', '.join(self._names) or 'none'}."
            )
        return Ref(f"{self._step}.{name}")

    __getitem__ = __getattr__


@dataclass
class _Tracer:
    steps: list[StepSpec] = field(default_factory=list)

    def unique(self, name: str) -> str:
        taken = {s.name for s in self.steps}
        if name not in taken:
            return name
        return next(f"{name}_{i}" for i in range(2, 10_000) if f"{name}_{i}" not in taken)


_TRACING: ContextVar[_Tracer | None] = ContextVar("shipyard_pipeline_trace", default=None)


def _record(
    tracer: _Tracer, base: StepSpec, kind: StepKind, bound: Mapping[str, Any]
) -> Ref | Outputs:
    inputs, config = {}, {}
    for key, value in bound.items():
        if isinstance(value, Outputs) and len(value._names) == 1:
            value = Ref(f"{value._step}.{next(iter(value._names))}")
        if isinstance(value, Ref):
            inputs[key] = str(value)
        else:
            config[key] = value
    name = tracer.unique(base.name)
    tracer.steps.append(replace(base, name=name, inputs=inputs, config=config))
    if base.callable is not None and len(kind.outputs) == 1:
        return Ref(f"{name}.{next(iter(kind.outputs))}")
    return Outputs(name, kind.outputs)


class StepFunction:
    """A function marked as a step; calling it outside a pipeline just calls it."""

    def __init__(self, fn: Callable[..., Any], spec: StepSpec) -> None:
        self.fn, self.spec = fn, spec
        self.__doc__, self.__name__ = fn.__doc__, fn.__name__
        self.__wrapped__ = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tracer = _TRACING.get()
        if tracer is None:
            return self.fn(*args, **kwargs)
        kind = function_kind(self.fn, self.spec.outputs or None)
        try:
            bound = inspect.signature(self.fn).bind_partial(*args, **kwargs).arguments
        except TypeError as exc:
            raise InvalidInput(f"Step '{self.spec.name}': {exc}.") from None
        return _record(tracer, self.spec, kind, bound)

    def using(self, **options: Any) -> StepFunction:
        """A copy of this step with other options for one call: name, when, cache,
        expire_after, retries, backoff."""
        return StepFunction(self.fn, _options(self.spec, options))


def _step_name(value: Any) -> str:
    if isinstance(value, Outputs):
        return value._step
    if isinstance(value, Ref):
        return value.text.split(".")[0]
    return str(value)


def _options(spec: StepSpec, options: Mapping[str, Any]) -> StepSpec:
    allowed = ("name", "when", "cache", "expire_after", "retries", "backoff", "outputs", "after")
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise InvalidInput(
            f"Unknown step option(s) {', '.join(unknown)}. Options: {', '.join(allowed)}."
        )
    values = dict(options)
    if isinstance(values.get("when"), Ref):
        values["when"] = str(values["when"])
    if "after" in values:
        values["after"] = tuple(_step_name(a) for a in values["after"])
    if values.get("expire_after") is not None:
        values["expire_after"] = parse_duration(values["expire_after"], "expire_after")
    if "backoff" in values:
        values["backoff"] = float(values["backoff"])
    return replace(spec, **values)


def step(fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Mark a plain function as a pipeline step (``@step`` or ``@step(retries=2, ...)``).

    Options: ``name`` (default: the function's), ``cache``, ``expire_after``, ``retries``,
    ``backoff`` (seconds before the second attempt, doubled after), ``outputs`` (name ->
    type, when the return annotation does not say).
    """

    def mark(f: Callable[..., Any]) -> StepFunction:
        ref = f"{f.__module__}:{f.__qualname__}"
        base = StepSpec(name=f.__name__, function=ref, callable=f)
        return StepFunction(f, _options(base, options))

    return mark(fn) if fn is not None else mark


def use(kind: str, /, *, step_name: str | None = None, **args: Any) -> Outputs:
    """Call a built-in kind inside a pipeline function: ``use("ingest", path=p, name="x")``
    returns its outputs (``.dataset``); ``step_name`` names the step (default: the kind)."""
    tracer = _TRACING.get()
    if tracer is None:
        raise InvalidInput("use() wires a built-in step; call it inside a @pipeline function.")
    found = builtin(kind)
    names: tuple[str, ...] = ("when", "cache", "expire_after", "retries", "backoff", "after")
    options: dict[str, Any] = {k: args.pop(k) for k in names if k in args}
    spec = _options(StepSpec(name=step_name or kind, kind=kind), options)
    return typing.cast(Outputs, _record(tracer, spec, found, args))  # a kind's: Outputs


class PipelineFunction:
    """A function marked as a pipeline: its parameters are the pipeline's (typed by their
    annotations, with their defaults); its body wires the steps."""

    def __init__(self, fn: Callable[..., Any], name: str | None, description: str | None) -> None:
        self.fn = fn
        self.name = name or fn.__name__.replace("_", "-")
        self.description = description or (inspect.getdoc(fn) or "").split("\n")[0]
        self.__doc__, self.__wrapped__ = fn.__doc__, fn

    def spec(self, source: str | None = None) -> PipelineSpec:
        """Trace the function into a :class:`PipelineSpec`."""
        hints = typing.get_type_hints(self.fn)
        parameters, refs = [], {}
        for name, p in inspect.signature(self.fn).parameters.items():
            kind = type_of(hints.get(name, inspect.Parameter.empty), f"Parameter '{name}'")
            required = p.default is inspect.Parameter.empty
            parameters.append(Parameter(name, kind, None if required else p.default, required))
            refs[name] = Ref(f"params.{name}")
        tracer = _Tracer()
        token = _TRACING.set(tracer)
        try:
            self.fn(**refs)
        finally:
            _TRACING.reset(token)
        return PipelineSpec(
            self.name, tuple(parameters), tuple(tracer.steps), self.description, source
        )


def pipeline(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None
) -> Any:
    """Mark a function as a pipeline (``@pipeline`` or ``@pipeline(name="nightly")``)."""

    def mark(f: Callable[..., Any]) -> PipelineFunction:
        return PipelineFunction(f, name, description)

    return mark(fn) if fn is not None else mark
