"""Derived-feature expressions: one small grammar, compiled to DuckDB SQL and to Python.

Grammar (case-insensitive function names and ``null``)::

    expr    := compare
    compare := sum (('<' | '<=' | '>' | '>=' | '=' | '==' | '<>' | '!=') sum)?
    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/') unary)*
    unary   := '-' unary | '+' unary | atom
    atom    := NUMBER | 'null' | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'

Every value is a DOUBLE (or null). The semantics, identical on both paths:

* null propagates through arithmetic and comparisons; a comparison is 1.0 or 0.0;
* ``a / 0`` is null (not infinity); ``ln``/``log``/``log10``/``log2`` of a value <= 0 and
  ``sqrt`` of a negative value are null;
* NaN compares as DuckDB orders it: equal to itself and greater than every other number;
* ``coalesce`` is the first non-null argument, ``nullif(a, b)`` is null when ``a = b``,
  ``least``/``greatest`` skip nulls (null only when all are), ``abs`` is the absolute value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from shipyard.errors import InvalidInput, did_you_mean

__all__ = ["Expression", "parse_expression"]

Value = float | None
Evaluator = Callable[[Mapping[str, Value]], Value]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|<>|!=|==|[-+*/(),<>=]))"
)
_FUNCTIONS: dict[str, tuple[int, int | None]] = {  # name: (min args, max args or None)
    "abs": (1, 1),
    "sqrt": (1, 1),
    "ln": (1, 1),
    "log": (1, 1),
    "log10": (1, 1),
    "log2": (1, 1),
    "coalesce": (1, None),
    "nullif": (2, 2),
    "least": (1, None),
    "greatest": (1, None),
}
_COMPARE = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "==": "=", "<>": "<>", "!=": "<>"}


@dataclass(frozen=True)
class _Node:
    kind: str  # num | null | ref | neg | bin | call
    value: float | str | None = None
    args: tuple[_Node, ...] = ()


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text, self.what = text, what
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        stripped = text.rstrip()
        while pos < len(stripped):
            match = _TOKEN.match(stripped, pos)
            if match is None or match.end() == pos:
                self.fail(f"unexpected {stripped[pos:].lstrip()[:10]!r}", pos)
            assert match is not None  # for mypy; fail() raised otherwise
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind), match.start(kind)))
            pos = match.end()
        self.i = 0

    def fail(self, why: str, pos: int | None = None) -> None:
        where = f" at character {pos + 1}" if pos is not None else ""
        raise InvalidInput(
            f"The expression of {self.what} ({self.text!r}) does not parse: {why}{where}. "
            "Use numbers, feature names, + - * /, comparisons, parentheses and "
            f"{', '.join(_FUNCTIONS)}."
        )

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            self.fail("it ends too early")
            raise AssertionError  # unreachable
        if text is not None and token[1] != text:
            self.fail(f"expected '{text}', found '{token[1]}'", token[2])
        self.i += 1
        return token

    def parse(self) -> _Node:
        node = self.compare()
        if (token := self.peek()) is not None:
            self.fail(f"unexpected '{token[1]}'", token[2])
        return node

    def compare(self) -> _Node:
        left = self.sum()
        token = self.peek()
        if token is not None and token[1] in _COMPARE:
            self.take()
            return _Node("bin", _COMPARE[token[1]], (left, self.sum()))
        return left

    def sum(self) -> _Node:
        node = self.product()
        while (token := self.peek()) is not None and token[1] in ("+", "-"):
            self.take()
            node = _Node("bin", token[1], (node, self.product()))
        return node

    def product(self) -> _Node:
        node = self.unary()
        while (token := self.peek()) is not None and token[1] in ("*", "/"):
            self.take()
            node = _Node("bin", token[1], (node, self.unary()))
        return node

    def unary(self) -> _Node:
        token = self.peek()
        if token is not None and token[1] in ("-", "+"):
            self.take()
            inner = self.unary()
            return _Node("neg", None, (inner,)) if token[1] == "-" else inner
        return self.atom()

    def atom(self) -> _Node:
        kind, text, pos = self.take()
        if kind == "num":
            return _Node("num", float(text))
        if text == "(":
            node = self.compare()
            self.take(")")
            return node
        if kind != "name":
            self.fail(f"unexpected '{text}'", pos)
        if text.lower() == "null":
            return _Node("null")
        nxt = self.peek()
        if nxt is None or nxt[1] != "(":
            return _Node("ref", text)
        return self.call(text, pos)

    def call(self, name: str, pos: int) -> _Node:
        func = name.lower()
        if func not in _FUNCTIONS:
            self.fail(f"unknown function '{name}'.{did_you_mean(func, _FUNCTIONS)}", pos)
        self.take("(")
        args = [self.compare()]
        while (token := self.peek()) is not None and token[1] == ",":
            self.take()
            args.append(self.compare())
        self.take(")")
        low, high = _FUNCTIONS[func]
        if len(args) < low or (high is not None and len(args) > high):
            self.fail(f"{func} takes {low if low == high else f'at least {low}'} argument(s)")
        return _Node("call", func, tuple(args))


def _refs(node: _Node) -> list[str]:
    own = [str(node.value)] if node.kind == "ref" else []
    return own + [name for arg in node.args for name in _refs(arg)]


@dataclass(frozen=True)
class Expression:
    """A parsed derived-feature expression. Build it with :func:`parse_expression`."""

    text: str
    _root: _Node

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The feature names it reads, each once, in order of appearance."""
        return tuple(dict.fromkeys(_refs(self._root)))

    def check_names(self, known: Sequence[str], what: str) -> None:
        """Raise InvalidInput for the first name not in ``known`` (with a did-you-mean)."""
        for name in self.names:
            if name not in known:
                raise InvalidInput(
                    f"The expression of {what} ({self.text!r}) reads '{name}', which is not a "
                    f"feature of its group.{did_you_mean(name, known)} Known: "
                    f"{', '.join(known) or 'none'}."
                )

    def to_sql(self, column: Callable[[str], str]) -> str:
        """DuckDB SQL computing the value; ``column(name)`` gives the SQL of a feature."""
        return _sql(self._root, column)

    @cached_property
    def evaluate(self) -> Evaluator:
        """``evaluate(values) -> float | None``: the value for one row of feature values."""
        return _compile(self._root)


def parse_expression(text: str, what: str = "a derived feature") -> Expression:
    """Parse ``text`` once; the result compiles to SQL and to a Python evaluator.

    Raises:
        InvalidInput: The text is not in the grammar (the message says where).

    >>> e = parse_expression("sum_1h / nullif(sum_7d, 0)")
    >>> e.names, e.evaluate({"sum_1h": 3.0, "sum_7d": 6.0}), e.evaluate({"sum_1h": 1, "sum_7d": 0})
    (('sum_1h', 'sum_7d'), 0.5, None)
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"The expression of {what} must be a non-empty text. Got {text!r}.")
    return Expression(text, _Parser(text, what).parse())


# --- SQL ------------------------------------------------------------------------------------
def _sql(node: _Node, column: Callable[[str], str]) -> str:
    args = [_sql(a, column) for a in node.args]
    if node.kind == "num":
        return f"CAST({float(node.value)!r} AS DOUBLE)"  # type: ignore[arg-type]
    if node.kind == "null":
        return "CAST(NULL AS DOUBLE)"
    if node.kind == "ref":
        return f"CAST({column(str(node.value))} AS DOUBLE)"
    if node.kind == "neg":
        return f"(-{args[0]})"
    if node.kind == "bin":
        op = str(node.value)
        if op == "/":
            return f"({args[0]} / NULLIF({args[1]}, CAST(0 AS DOUBLE)))"
        if op in ("+", "-", "*"):
            return f"({args[0]} {op} {args[1]})"
        return f"CAST(({args[0]} {op} {args[1]}) AS DOUBLE)"
    func = str(node.value)
    if func in ("ln", "log", "log10", "log2"):
        sql_func = "ln" if func == "log" else func
        return f"(CASE WHEN {args[0]} > 0 THEN {sql_func}({args[0]}) END)"
    if func == "sqrt":
        return f"(CASE WHEN {args[0]} >= 0 THEN sqrt({args[0]}) END)"
    return f"{func}({', '.join(args)})"


# --- Python ---------------------------------------------------------------------------------
def _key(x: float) -> tuple[int, float]:
    """DuckDB's order of doubles: NaN equals itself and sorts above everything."""
    return (1, 0.0) if math.isnan(x) else (0, x)


_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: _key(a) < _key(b),
    "<=": lambda a, b: _key(a) <= _key(b),
    ">": lambda a, b: _key(a) > _key(b),
    ">=": lambda a, b: _key(a) >= _key(b),
    "=": lambda a, b: _key(a) == _key(b),
    "<>": lambda a, b: _key(a) != _key(b),
}


def _arith(op: str, a: float, b: float) -> Value:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


def _unary_func(func: str, x: float) -> Value:
    if func == "abs":
        return abs(x)
    if func == "sqrt":
        return None if _key(x) < (0, 0.0) else math.sqrt(x)
    if _key(x) <= (0, 0.0):
        return None
    if math.isnan(x):
        return x
    return {"ln": math.log, "log": math.log, "log10": math.log10, "log2": math.log2}[func](x)


def _variadic(func: str, values: list[Value]) -> Value:
    if func == "coalesce":
        return next((v for v in values if v is not None), None)
    present = [v for v in values if v is not None]
    if not present:
        return None
    return (min if func == "least" else max)(present, key=_key)


def _compile(node: _Node) -> Evaluator:
    if node.kind == "num":
        number = float(node.value)  # type: ignore[arg-type]
        return lambda row: number
    if node.kind == "null":
        return lambda row: None
    if node.kind == "ref":
        name = str(node.value)

        def ref(row: Mapping[str, Value]) -> Value:
            value = row[name]
            return None if value is None else float(value)

        return ref
    args = [_compile(a) for a in node.args]
    if node.kind == "neg":
        inner = args[0]
        return lambda row: None if (v := inner(row)) is None else -v
    if node.kind == "bin":
        op, left, right = str(node.value), args[0], args[1]
        compare = _COMPARATORS.get(op)

        def binary(row: Mapping[str, Value]) -> Value:
            a, b = left(row), right(row)
            if a is None or b is None:
                return None
            return (1.0 if compare(a, b) else 0.0) if compare else _arith(op, a, b)

        return binary
    func = str(node.value)
    if func == "nullif":
        first, second = args

        def nullif(row: Mapping[str, Value]) -> Value:
            a, b = first(row), second(row)
            return None if a is not None and b is not None and _key(a) == _key(b) else a

        return nullif
    if func in ("coalesce", "least", "greatest"):
        return lambda row: _variadic(func, [f(row) for f in args])
    only = args[0]
    return lambda row: None if (v := only(row)) is None else _unary_func(func, v)
