"""Reading a pipeline from YAML, validated with pydantic; errors name the file, the step and
the key. The format::

    name: retrain
    description: Retrain on the latest data; promote when it beats the champion.
    parameters:
      data: {type: str, default: raw/usage.parquet}
      margin: {type: float, default: 0.01}
      alert: {type: json, default: {}}       # a monitor's trigger passes its alerts here
    steps:
      - name: ingest
        kind: ingest                         # a built-in kind ...
        config: {path: "${params.data}", name: usage}
      - name: clean
        function: steps.py:clean             # ... or a function (module:name, file.py:name)
        inputs: {raw: ingest.dataset}        # STEP.OUTPUT, STEP, or params.NAME
        retries: 2                           # with backoff: 5s, doubled each time
        cache: false                         # default true; expire_after: 7d
      - name: fail-if-worse
        kind: fail
        when: not better.result              # a boolean output (or parameter)
        after: [promote]                     # wait for steps whose outputs it does not read
        config: {message: "The candidate does not beat the champion."}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shipyard.errors import InvalidInput, ShipyardError
from shipyard.pipelines._spec import Parameter, PipelineSpec, StepSpec
from shipyard.pipelines._types import parse_duration

__all__ = ["load_yaml"]

_TYPE_OF = {bool: "bool", int: "int", float: "float", str: "str", dict: "json", list: "json"}


class _Param(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str | None = None
    default: Any = None
    description: str = ""


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    kind: str | None = None
    function: str | None = None
    description: str = ""
    inputs: dict[str, str] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)
    cache: bool | None = None
    expire_after: str | float | None = None
    retries: int = Field(0, ge=0, le=100)
    backoff: str | float = 1.0
    when: str | None = None
    after: list[str] = Field(default_factory=list)

    @field_validator("inputs", mode="before")
    @classmethod
    def _text_inputs(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key, ref in value.items():
                if not isinstance(ref, str):
                    raise ValueError(
                        f"input {key!r} must be a reference such as STEP.OUTPUT or "
                        f"params.NAME; a literal value belongs in 'config' (got {ref!r})"
                    )
        return value


class _Pipeline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    parameters: dict[str, _Param | bool | int | float | str | list[Any] | None] = Field(
        default_factory=dict
    )
    steps: list[_Step] = Field(min_length=1)


def load_yaml(path: Path) -> PipelineSpec:
    """The pipeline a YAML file defines (not validated as a graph yet: see ``plan``).

    Raises:
        NotFound: No such file.
        InvalidInput: Not YAML, or not of the pipeline format; the message names the file,
            the step and the key.
    """
    from shipyard.errors import NotFound

    if not path.is_file():
        raise NotFound(f"No pipeline file at {path}.")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{path}: a pipeline is a mapping with 'name' and 'steps'.")
    try:
        doc = _Pipeline.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(_message(path, raw, exc)) from None
    try:
        return PipelineSpec(
            name=doc.name,
            description=doc.description,
            parameters=tuple(_parameter(k, v) for k, v in doc.parameters.items()),
            steps=tuple(_step(s) for s in doc.steps),
            source=str(path.resolve()),
        )
    except ShipyardError as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None


def _parameter(name: str, value: Any) -> Parameter:
    if isinstance(value, _Param):
        if value.type is None and value.default is None:
            raise InvalidInput(f"parameter '{name}' needs a 'type' or a 'default'.")
        kind = value.type or _TYPE_OF.get(type(value.default), "json")
        return Parameter(name, kind, value.default, value.default is None, value.description)
    if value is None:
        raise InvalidInput(f"parameter '{name}' needs a 'type' or a 'default'.")
    return Parameter(name, _TYPE_OF.get(type(value), "json"), value)


def _step(s: _Step) -> StepSpec:
    where = f"step '{s.name}'"
    return StepSpec(
        name=s.name,
        kind=s.kind,
        function=s.function,
        inputs=s.inputs,
        config=s.config,
        outputs=s.outputs,
        cache=s.cache,
        expire_after=(
            None
            if s.expire_after is None
            else parse_duration(s.expire_after, f"{where}: 'expire_after'")
        ),
        retries=s.retries,
        backoff=0.0 if s.backoff in (0, "0") else parse_duration(s.backoff, f"{where}: 'backoff'"),
        when=s.when,
        after=tuple(s.after),
        description=s.description,
    )


def _message(path: Path, raw: dict[str, Any], exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = list(error["loc"])
        where = "top level"
        if loc[:1] == ["steps"] and len(loc) > 1 and isinstance(loc[1], int):
            steps = raw.get("steps") or []
            item = steps[loc[1]] if loc[1] < len(steps) else {}
            name = item.get("name") if isinstance(item, dict) else None
            where = f"step '{name}'" if name else f"step {loc[1] + 1}"
            loc = loc[2:]
        elif loc[:1] == ["parameters"] and len(loc) > 1:
            as_mapping = isinstance((raw.get("parameters") or {}).get(loc[1]), dict)
            if as_mapping != (loc[2:3] == ["_Param"]):
                continue  # pydantic tried every form of a parameter; report the one written
            where, loc = f"parameter '{loc[1]}'", loc[3:] if as_mapping else []
        key = ".".join(str(p) for p in loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{where}, key '{key}': {message}" if key else f"{where}: {message}")
    listed = "\n".join(f"  - {line}" for line in dict.fromkeys(lines))
    return f"{path} is not a valid pipeline:\n{listed}"
