"""The Python backend: a checked AST becomes one Python function, compiled once per run.

The code is generated from the AST, never from user text: names and string
constants travel in a table of constants or as `repr()` literals, so no user
input can become Python syntax. The function never raises for data: a failing
conversion or regex gives an `EvalFailure` value the engine routes to
`on_error` (SPEC §6.4).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jo_cli.expr import runtime
from jo_cli.expr.ast import Binary, Call, Conditional, Expr, IsNull, ListExpr, Literal, Ref, Unary
from jo_cli.expr.functions import FUNCTIONS

_EMPTY: dict[str, Any] = {}
_OPERATORS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "==": "eq", "!=": "ne",
              "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_INLINE_ORDER = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True, slots=True)
class EvalFailure:
    """An evaluation that could not complete; the message says why (for the step event's error detail)."""

    message: str

    def __bool__(self) -> bool:
        return False


Compiled = Callable[..., Any]


def compile_expr(expr: Expr, *, params: tuple[str, ...] = ("profile", "event", "ctx"),
                 numeric_refs: frozenset[tuple[str, ...]] = frozenset()) -> Compiled:
    """A function of `params` evaluating `expr`; `numeric_refs` are references known to be numbers or null.

    With `params=("row", "ctx")` (campaigns), bare names read the row's columns.
    """
    generator = _Generator(params, numeric_refs)
    body = generator.emit(expr)
    source = (
        f"def _evaluate({', '.join(params)}):\n"
        f"    try:\n"
        f"        return {body}\n"
        f"    except _EvalError as exc:\n"
        f"        return _EvalFailure(str(exc))\n"
        f"    except (ArithmeticError, TypeError, ValueError, OverflowError, AttributeError, KeyError) as exc:\n"
        f"        return _EvalFailure(f'a value of the wrong type at run time ({{exc}})')\n"
    )
    namespace: dict[str, Any] = {"_EvalError": runtime.EvalError, "_EvalFailure": EvalFailure, "_EMPTY": _EMPTY,
                                 "_truthy": runtime.truthy, **generator.names}
    exec(compile(source, "<jo expression>", "exec"), namespace)
    function: Compiled = namespace["_evaluate"]
    return function


class _Generator:
    def __init__(self, params: tuple[str, ...], numeric_refs: frozenset[tuple[str, ...]]) -> None:
        self.params = params
        self.numeric_refs = numeric_refs
        self.names: dict[str, Any] = {}
        self.counter = itertools.count()

    def constant(self, value: Any) -> str:
        name = f"_c{next(self.counter)}"
        self.names[name] = value
        return name

    def temp(self) -> str:
        return f"_t{next(self.counter)}"

    def emit(self, node: Expr) -> str:
        if isinstance(node, Literal):
            # Strings and numbers travel as named constants (a literal number before `is` is a SyntaxWarning).
            return self.constant(node.value) if node.kind in ("string", "integer", "decimal") else repr(node.value)
        if isinstance(node, ListExpr):
            return "[" + ", ".join(self.emit(item) for item in node.items) + "]"
        if isinstance(node, Ref):
            return self.reference(node)
        if isinstance(node, Unary):
            if node.op == "not":
                return f"(not ({self.emit(node.operand)}) is True)"
            return f"{self.constant(runtime.neg)}({self.emit(node.operand)})"
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, IsNull):
            return f"(({self.emit(node.operand)}) is {'not ' if node.negated else ''}None)"
        if isinstance(node, Conditional):
            return (f"(({self.emit(node.then)}) if ({self.emit(node.condition)}) is True "
                    f"else ({self.emit(node.otherwise)}))")
        return self.call(node)

    def reference(self, node: Ref) -> str:
        if self.params[0] == "row":  # campaigns: every name is the row's (a column or a linked row)
            code, rest = "row", node.parts
        elif node.parts[0] in ("journey", "actions"):
            code, rest = f"ctx.{node.parts[0]}", node.parts[1:]
        else:
            code, rest = node.parts[0], node.parts[1:]
            if code not in self.params:
                return "None"
        if rest:  # a root is a mapping or null
            code = f"({code} or _EMPTY).get({rest[0]!r})"
        for name in rest[1:]:  # deeper values may be anything: a missing field, or a field of a non-object, is null
            temp = self.temp()
            code = f"({temp}.get({name!r}) if type({temp} := {code}) is dict else None)"
        return code

    def binary(self, node: Binary) -> str:
        left, right = self.emit(node.left), self.emit(node.right)
        if node.op == "and":
            return f"(({left}) is True and ({right}) is True)"
        if node.op == "or":
            return f"(({left}) is True or ({right}) is True)"
        if node.op == "in":
            return f"{self.constant(runtime.contains)}({right}, {left})"
        if node.op in ("==", "!=") and isinstance(node.right, Literal) and node.right.kind != "integer" \
                and node.right.kind != "decimal" and not isinstance(node.left, Literal):
            # Against a string, compare with Python's `==`; against true, false or null, by identity,
            # so that 1 never equals true (§8: values of different types are unequal).
            operator = {"string": node.op}.get(node.right.kind, "is" if node.op == "==" else "is not")
            return f"(({left}) {operator} {right})"
        if node.op in _INLINE_ORDER and self._numeric(node.left) and _is_number(node.right):
            temp = self.temp()
            return f"(({temp} := {left}) is not None and {temp} {node.op} {right})"
        return f"{self.constant(getattr(runtime, _OPERATORS[node.op]))}({left}, {right})"

    def _numeric(self, node: Expr) -> bool:
        return isinstance(node, Ref) and node.parts in self.numeric_refs

    def call(self, node: Call) -> str:
        if node.name in ("date", "datetime", "duration"):
            return self.constructor(node)
        function = FUNCTIONS[node.name]
        impl = self.constant(function.impl)
        args = [self.emit(arg) for arg in node.args]
        prefix = ["ctx"] if function.context else []
        if not function.null_result or not args:
            return f"{impl}({', '.join(prefix + args)})"
        temps = [self.temp() for _ in args]
        guard = " or ".join(f"({t} := {a}) is None" for t, a in zip(temps, args, strict=True))
        return f"(None if ({guard}) else {impl}({', '.join(prefix + temps)}))"

    def constructor(self, node: Call) -> str:
        arg = node.args[0]
        text = str(arg.value) if isinstance(arg, Literal) else ""
        if node.name == "date":
            return self.constant(runtime.parse_date(text))
        if node.name == "duration":
            return self.constant(runtime.parse_duration(text))
        return f"{self.constant(runtime.parse_datetime)}({self.constant(text)}, ctx.zone)"


def _is_number(node: Expr) -> bool:
    return isinstance(node, Literal) and node.kind in ("integer", "decimal")
