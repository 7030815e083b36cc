"""Validating a pipeline before anything runs: kinds and functions that exist, arguments that
are known and given, references to steps, outputs and parameters that exist, types that
agree between an output and the input consuming it, conditions that are booleans, and no
cycle. Every problem is listed at once; nothing is written."""

from __future__ import annotations

import graphlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput, ShipyardError, did_you_mean
from shipyard.pipelines._kinds import StepKind, builtin, function_kind
from shipyard.pipelines._modules import import_object
from shipyard.pipelines._spec import (
    NAME,
    PARAM_IN_TEXT,
    Parameter,
    PipelineSpec,
    StepSpec,
    parse_reference,
)
from shipyard.pipelines._types import TYPES, accepts, check_value, parse_text

__all__ = ["Plan", "StepPlan", "bind_params", "plan"]


@dataclass(frozen=True)
class StepPlan:
    """A checked step: its kind, the steps it waits for, and whether it may be cached."""

    spec: StepSpec
    kind: StepKind
    deps: tuple[str, ...]
    cache: bool


@dataclass(frozen=True)
class Plan:
    """A checked pipeline: its steps in an order that respects their dependencies, and
    those steps in layers (each layer depends only on the ones above)."""

    spec: PipelineSpec
    steps: Mapping[str, StepPlan]
    layers: tuple[tuple[str, ...], ...]

    @property
    def name(self) -> str:
        return self.spec.name


class _Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def plan(spec: PipelineSpec) -> Plan:
    """Check ``spec`` and order its steps.

    Raises:
        InvalidInput: Anything wrong with it; the message lists every problem, each naming
            its step and key (and the file).
    """
    problems = _Problems()
    if not NAME.match(spec.name):
        problems.add("name", f"a pipeline name is letters, digits, '-' and '_'; got {spec.name!r}")
    params = _check_parameters(spec.parameters, problems)
    kinds = _kinds(spec, problems)
    outputs = {name: kind.outputs for name, kind in kinds.items()}
    deps: dict[str, set[str]] = {}
    for step in spec.steps:
        if step.name in kinds:
            deps[step.name] = _check_step(step, kinds[step.name], params, outputs, problems)
    layers: tuple[tuple[str, ...], ...] = ()
    if not problems:
        layers = _layers(deps, problems)
    if problems:
        where = f" ({spec.source})" if spec.source else ""
        listed = "\n".join(f"  - {p}" for p in problems)
        raise InvalidInput(
            f"Pipeline '{spec.name}'{where} is not valid; nothing was run:\n{listed}",
            details={"pipeline": spec.name, "problems": list(problems)},
        )
    ordered = [name for layer in layers for name in layer]
    by_name = {s.name: s for s in spec.steps}
    steps = {
        name: StepPlan(
            by_name[name],
            kinds[name],
            tuple(sorted(deps[name])),
            kinds[name].cache if by_name[name].cache is None else bool(by_name[name].cache),
        )
        for name in ordered
    }
    return Plan(spec, steps, layers)


def _check_parameters(parameters: tuple[Parameter, ...], problems: _Problems) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in parameters:
        where = f"parameter '{p.name}'"
        if not NAME.match(p.name):
            problems.add(where, "a name is letters, digits, '-' and '_'")
        elif p.type not in TYPES:
            problems.add(where, f"unknown type {p.type!r}.{did_you_mean(p.type, TYPES)} "
                                f"Types: {', '.join(TYPES)}")  # fmt: skip
        elif not p.required and p.default is not None:
            try:
                check_value(p.type, p.default, "its default")
            except ShipyardError as exc:
                problems.add(where, exc.message)
        out[p.name] = p.type
    return out


def _kinds(spec: PipelineSpec, problems: _Problems) -> dict[str, StepKind]:
    base = Path(spec.source).parent if spec.source else None
    kinds: dict[str, StepKind] = {}
    for i, step in enumerate(spec.steps):
        where = f"step '{step.name}'"
        if not NAME.match(step.name):
            problems.add(f"step {i + 1}", f"a step name is letters, digits, '-' and '_'; got "
                                          f"{step.name!r}")  # fmt: skip
            continue
        if step.name in kinds or step.name == "params":
            problems.add(where, "two steps have this name (or it is the reserved 'params')")
            continue
        if (step.kind is None) == (step.function is None and step.callable is None):
            problems.add(where, "give exactly one of 'kind' (a built-in) or 'function'")
            continue
        try:
            if step.kind is not None:
                kinds[step.name] = builtin(step.kind)
            else:
                fn = step.callable or import_object(str(step.function), base)
                fn = getattr(fn, "fn", fn)  # a @step-decorated function: the plain one
                kinds[step.name] = function_kind(fn, step.outputs or None)
        except ShipyardError as exc:
            problems.add(f"{where}, key '{'kind' if step.kind else 'function'}'", exc.message)
    return kinds


def _check_step(
    step: StepSpec,
    kind: StepKind,
    params: dict[str, str],
    outputs: dict[str, Mapping[str, str]],
    problems: _Problems,
) -> set[str]:
    where = f"step '{step.name}'"
    deps: set[str] = set()
    for key in (*step.inputs, *step.config):
        if key not in kind.args:
            known = ", ".join(kind.args) or "none"
            problems.add(f"{where}, key '{key}'", f"{kind.name} has no argument {key!r}."
                         f"{did_you_mean(key, kind.args)} Its arguments: {known}")  # fmt: skip
    for key in set(step.inputs) & set(step.config):
        problems.add(f"{where}, key '{key}'", "given both as an input and in config; keep one")
    for key, arg in kind.args.items():
        if arg.required and key not in step.inputs and key not in step.config:
            problems.add(f"{where}, key '{key}'", f"the argument {key!r} ({arg.type}) is missing")
    for key, text in step.inputs.items():
        if key in kind.args:
            dep = _check_input(f"{where}, input '{key}'", text, kind.args[key].type, params,
                               outputs, problems)  # fmt: skip
            deps.update([dep] if dep else [])
    for key, value in step.config.items():
        if key in kind.args:
            _check_config(f"{where}, config '{key}'", value, kind.args[key].type, params, problems)
    if step.when is not None:
        dep = _check_input(f"{where}, key 'when'", step.when, "bool", params, outputs, problems)
        deps.update([dep] if dep else [])
    for name in step.after:
        if name not in outputs:
            problems.add(f"{where}, key 'after'", f"no step {name!r}.{did_you_mean(name, outputs)}")
        deps.add(name)
    if step.retries < 0 or step.backoff < 0:
        problems.add(where, "'retries' and 'backoff' must be zero or more")
    if step.expire_after is not None and step.expire_after <= 0:
        problems.add(where, "'expire_after' must be a positive duration")
    if step.name in deps:
        problems.add(where, "a step cannot consume its own output")
    return {d for d in deps if d in outputs}


def _check_input(
    where: str,
    text: str,
    wanted: str,
    params: dict[str, str],
    outputs: dict[str, Mapping[str, str]],
    problems: _Problems,
) -> str | None:
    ref = parse_reference(text)
    if ref is None:
        problems.add(where, f"{text!r} is not a reference: use STEP.OUTPUT, STEP or params.NAME "
                            "(a literal value belongs in 'config')")  # fmt: skip
        return None
    if ref.negated and wanted != "bool":
        problems.add(where, "'not' only negates a boolean, in 'when'")
    if ref.param is not None:
        if ref.param not in params:
            problems.add(where, f"no parameter {ref.param!r}.{did_you_mean(ref.param, params)}")
        elif not accepts(wanted, params[ref.param]):
            problems.add(where, f"parameter {ref.param!r} is {params[ref.param]}, but this "
                                f"takes {wanted}")  # fmt: skip
        return None
    step = str(ref.step)
    if step not in outputs:
        problems.add(where, f"no step {step!r}.{did_you_mean(step, outputs)}")
        return None
    made = outputs[step]
    output = ref.output
    if output is None:
        if len(made) != 1:
            names = ", ".join(made) or "none"
            problems.add(where, f"step {step!r} has outputs {names}; name one as {step}.OUTPUT")
            return step
        output = next(iter(made))
    if output not in made:
        problems.add(where, f"step {step!r} has no output {output!r}."
                            f"{did_you_mean(output, made)} Its outputs: "
                            f"{', '.join(made) or 'none'}")  # fmt: skip
    elif not accepts(wanted, made[output]):
        problems.add(where, f"{step}.{output} is {_a(made[output])}, but this input takes "
                            f"{_a(wanted)}")  # fmt: skip
    return step


def _check_config(
    where: str, value: Any, wanted: str, params: dict[str, str], problems: _Problems
) -> None:
    names = PARAM_IN_TEXT.findall(value) if isinstance(value, str) else []
    for name in names:
        if name not in params:
            problems.add(where, f"no parameter {name!r}.{did_you_mean(name, params)}")
            return
    if names and PARAM_IN_TEXT.fullmatch(value.strip()):
        if not accepts(wanted, params[names[0]]):
            problems.add(where, f"parameter {names[0]!r} is {params[names[0]]}, but this "
                                f"takes {wanted}")  # fmt: skip
        return
    if names and wanted not in ("str", "json", "dataset", "model"):
        problems.add(where, f"takes {_a(wanted)}; text with ${{params...}} in it is a string")
        return
    if not names:
        try:
            check_value(wanted, value, "the value")
        except ShipyardError as exc:
            problems.add(where, exc.message)


def _layers(deps: dict[str, set[str]], problems: _Problems) -> tuple[tuple[str, ...], ...]:
    order = list(deps)
    sorter = graphlib.TopologicalSorter(deps)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))
        problems.add("steps", f"{' -> '.join(cycle)} form a cycle; a step cannot wait for itself")
        return ()
    layers = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=order.index)
        layers.append(tuple(ready))
        sorter.done(*ready)
    return tuple(layers)


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def bind_params(
    spec: PipelineSpec, given: Mapping[str, Any], *, as_text: bool = False
) -> dict[str, Any]:
    """The run's parameter values: ``given`` (text from ``-p`` when ``as_text``) over the
    defaults.

    Raises:
        InvalidInput: An unknown parameter, a value of the wrong type, or a required
            parameter not given.
    """
    declared = {p.name: p for p in spec.parameters}
    for key in given:
        if key not in declared:
            raise InvalidInput(
                f"Pipeline '{spec.name}' has no parameter {key!r}.{did_you_mean(key, declared)} "
                f"Its parameters: {', '.join(declared) or 'none'}."
            )
    out: dict[str, Any] = {}
    for name, p in declared.items():
        where = f"Parameter '{name}' of pipeline '{spec.name}'"
        if name in given:
            value = given[name]
            parse = as_text and isinstance(value, str)
            out[name] = (parse_text if parse else check_value)(p.type, value, where)
        elif p.required:
            raise InvalidInput(f"{where} ({p.type}) has no default; give it with -p {name}=VALUE.")
        else:
            out[name] = p.default
    return out
