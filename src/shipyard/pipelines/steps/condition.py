"""``condition``: a boolean from the step's inputs, to branch on with ``when:``.

``check`` is an expression over the inputs (``simpleeval``: arithmetic, comparisons,
``and``/``or``/``not``, ``x.key`` or ``x['key']`` into JSON, ``abs``/``min``/``max``), e.g.
``candidate.pr_auc >= champion.pr_auc + margin``. ``values`` is a JSON object of the inputs
given as references (``inputs: {values: evaluate.metrics}``) or literals; each key is a name
in the expression, and so is each parameter of the run (``params.margin``).
"""

from __future__ import annotations

from typing import Any

from shipyard.errors import InvalidInput
from shipyard.pipelines._kinds import Arg, StepContext, StepKind

FUNCTIONS = {"abs": abs, "min": min, "max": max, "len": len, "round": round}


def evaluate(check: str, names: dict[str, Any]) -> Any:
    """The value of ``check`` with ``names`` bound (no attribute of Python objects, no call
    but the few functions above).

    Raises:
        InvalidInput: The expression does not parse, names something unknown, or fails.
    """
    from simpleeval import EvalWithCompoundTypes, InvalidExpression

    evaluator = EvalWithCompoundTypes(names=names, functions=FUNCTIONS)
    try:
        return evaluator.eval(check)
    except (
        InvalidExpression,
        SyntaxError,
        TypeError,
        KeyError,
        ValueError,
        ZeroDivisionError,
    ) as exc:
        shown = ", ".join(sorted(names)) or "none"
        raise InvalidInput(
            f"The condition {check!r} cannot be evaluated: {type(exc).__name__}: {exc}. "
            f"Names it may use: {shown}."
        ) from None


class _Dotted(dict[str, Any]):
    """A JSON object whose keys read as attributes too (``champion.pr_auc``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _dotted(value: Any) -> Any:
    if isinstance(value, dict):
        return _Dotted({k: _dotted(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_dotted(v) for v in value]
    return value


def run(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    values = args.get("values") or {}
    if not isinstance(values, dict):
        raise InvalidInput(
            f"'values' of step '{ctx.step}' is a JSON object of named values. Got "
            f"{type(values).__name__}; give one value as 'left' or 'right' instead."
        )
    names = {k: _dotted(v) for k, v in values.items()}
    for key in ("left", "right"):
        if args.get(key) is not None:
            names[key] = _dotted(args[key])
    names["params"] = _dotted(ctx.params)
    result = evaluate(args["check"], names)
    ctx.log(f"{args['check']} -> {result!r}")
    return {"result": bool(result)}


KIND = StepKind(
    name="condition",
    version="1",
    args={
        "check": Arg("str", doc="The expression, e.g. 'left.pr_auc >= right.pr_auc + 0.01'."),
        "values": Arg("json", required=False, doc="Named values the expression reads."),
        "left": Arg("json", required=False, doc="A value named 'left' in the expression."),
        "right": Arg("json", required=False, doc="A value named 'right' in the expression."),
    },
    outputs={"result": "bool"},
    run=run,
    reads_params=True,
    doc="A boolean from the inputs, to branch on with when:.",
)
