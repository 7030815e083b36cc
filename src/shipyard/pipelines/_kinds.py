"""Kinds of step: a built-in kind (one small module under ``steps/``) or a user function,
seen the same way by the validator and the runner: typed arguments, typed outputs, a code
version for the cache, and what it runs."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, NotFound, did_you_mean
from shipyard.pipelines._handles import Dataset, Model, Report

if TYPE_CHECKING:
    from shipyard.project import Project

__all__ = ["BUILTIN", "Arg", "StepContext", "StepFailed", "StepKind", "builtin", "function_kind"]

BUILTIN = {
    "ingest": "ingest", "check": "check", "profile": "profile", "bias": "bias",
    "feature-training-set": "training_set", "split": "split", "train": "train",
    "evaluate": "evaluate", "gate": "gate", "register": "register",
    "approve-wait": "approve_wait", "promote": "promote", "batch": "batch",
    "monitor": "monitor", "condition": "condition", "fail": "fail",
}  # fmt: skip
"""Built-in kind -> its module under ``shipyard.pipelines.steps``."""


class StepFailed(Exception):
    """A step stops the run on purpose (a fail step, a refused gate): never retried."""


@dataclass(frozen=True)
class Arg:
    """One argument of a kind: its type, whether a step must give it, its default."""

    type: str
    required: bool = True
    default: Any = None
    doc: str = ""


@dataclass
class StepContext:
    """What a running step may use besides its arguments: the project, where it runs, and
    ``log`` (a line into the step's recorded log)."""

    project: Project
    pipeline: str
    run_id: str
    step: str
    params: dict[str, Any] = field(default_factory=dict)

    def log(self, message: str) -> None:
        print(message, flush=True)  # the run captures a step's output as its log


Runner = Callable[[StepContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class StepKind:
    """A kind of step.

    ``version`` enters every cache key, so a changed kind (or a user function whose source
    changed) reruns. ``fingerprint`` adds what the arguments alone do not show (the content
    of a file an ingest reads); ``reads_params`` puts the run's parameters in the key too (a
    condition's expression may name them). ``cache`` is the default of a step's ``cache`` setting:
    false for kinds that act on the world (promote, wait for an approval).
    """

    name: str
    version: str
    args: Mapping[str, Arg]
    outputs: Mapping[str, str]
    run: Runner
    cache: bool = True
    fingerprint: Callable[[Project, dict[str, Any]], Any] | None = None
    reads_params: bool = False
    doc: str = ""


def builtin(name: str) -> StepKind:
    """The built-in kind called ``name``.

    Raises:
        NotFound: No such kind; the message suggests a close one and lists them.
    """
    module = BUILTIN.get(name)
    if module is None:
        raise NotFound(
            f"No step kind named {name!r}.{did_you_mean(name, BUILTIN)} "
            f"Kinds: {', '.join(BUILTIN)}; or give a 'function: module:name'."
        )
    kind: StepKind = importlib.import_module(f"shipyard.pipelines.steps.{module}").KIND
    return kind


_PLAIN = {int: "int", float: "float", str: "str", bool: "bool", dict: "json", list: "json"}
_HANDLES = {Dataset: "dataset", Model: "model", Report: "report"}


def type_of(annotation: Any, where: str) -> str:
    """The pipeline type an annotation stands for (unannotated: json)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return "json"
    origin = typing.get_origin(annotation)
    if origin is not None and origin in (dict, list):
        return "json"
    if annotation in _PLAIN:
        return _PLAIN[annotation]
    if annotation in _HANDLES:
        return _HANDLES[annotation]
    raise InvalidInput(
        f"{where} is annotated {annotation!r}, which is not a pipeline type. Use Dataset, "
        "Model, Report (from shipyard.pipelines), int, float, str, bool, dict or list."
    )


def function_kind(fn: Callable[..., Any], outputs: Mapping[str, str] | None = None) -> StepKind:
    """A kind running the plain function ``fn``: arguments and outputs from its annotations
    (a TypedDict return names several outputs; a single type is the output ``result``).

    Raises:
        InvalidInput: An annotation that is not a pipeline type, or a return type that
            names no output.
    """
    label = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', fn)}"
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:  # a forward reference that does not resolve
        raise InvalidInput(f"The annotations of {label} cannot be read: {exc}.") from None
    args: dict[str, Arg] = {}
    context_arg = None
    for name, p in inspect.signature(fn).parameters.items():
        annotation = _strip_optional(hints.get(name, inspect.Parameter.empty))
        if annotation is StepContext:
            context_arg = name
            continue
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise InvalidInput(
                f"A step function takes named arguments only; {label} takes *{name}."
            )
        has_default = p.default is not inspect.Parameter.empty
        kind = type_of(annotation, f"Argument '{name}' of {label}")
        args[name] = Arg(kind, not has_default, p.default if has_default else None)
    declared = dict(outputs) if outputs else _outputs(hints.get("return"), label)
    return StepKind(
        name=label,
        version=_source_hash(fn),
        args=args,
        outputs=declared,
        run=_FunctionRunner(fn, context_arg, args, declared),
        doc=(inspect.getdoc(fn) or "").split("\n")[0],
    )


def _strip_optional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, _union_type()) and len(args) == 1:
        return args[0]
    return annotation


def _union_type() -> Any:
    import types

    return types.UnionType


def _outputs(annotation: Any, label: str) -> dict[str, str]:
    if annotation is None or annotation is type(None):
        return {}
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation)
        return {k: type_of(v, f"Output '{k}' of {label}") for k, v in hints.items()}
    return {"result": type_of(annotation, f"The return type of {label}")}


def _source_hash(fn: Callable[..., Any]) -> str:
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):  # no source (a builtin, a REPL): its name stands for it
        text = repr(fn)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _FunctionRunner:
    """Calls a user function with handles for its dataset/model/report arguments."""

    def __init__(
        self, fn: Callable[..., Any], context_arg: str | None, args: dict[str, Arg],
        outputs: dict[str, str],
    ) -> None:  # fmt: skip
        self.fn, self.context_arg, self.args, self.outputs = fn, context_arg, args, outputs

    def __call__(self, ctx: StepContext, values: dict[str, Any]) -> dict[str, Any]:
        kwargs = {k: _handle(self.args[k].type, v, ctx) for k, v in values.items()}
        if self.context_arg:
            kwargs[self.context_arg] = ctx
        result = self.fn(**kwargs)
        if not self.outputs:
            return {}
        if len(self.outputs) == 1 and not (
            isinstance(result, Mapping) and set(result) == set(self.outputs)
        ):
            return {next(iter(self.outputs)): result}
        if not isinstance(result, Mapping):
            raise InvalidInput(
                f"Step '{ctx.step}' declares outputs {', '.join(self.outputs)}, so its function "
                f"must return a dict of them. It returned {type(result).__name__}."
            )
        return dict(result)


def _handle(kind: str, value: Any, ctx: StepContext) -> Any:
    if value is None:
        return None
    if kind == "dataset":
        return Dataset(value, ctx.project)
    if kind == "model":
        return Model(value, ctx.project)
    if kind == "report":
        payload = ctx.project.catalog.get_report(value["subject"], value["kind"]).payload
        return Report(payload, value.get("html"), value["subject"], value["kind"])
    return value
