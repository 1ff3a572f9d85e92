"""The type checker: every expression is checked against the schemas before anything runs (SPEC §8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from jo_cli.durations import parse_duration
from jo_cli.expr.ast import Binary, Call, Conditional, Expr, IsNull, ListExpr, Literal, Ref, Unary
from jo_cli.expr.functions import FUNCTIONS, Function
from jo_cli.expr.runtime import EvalError, parse_date, parse_datetime
from jo_cli.expr.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    NULL,
    STRING,
    Type,
    accepts,
    list_of,
    object_of,
)
from jo_cli.suggest import did_you_mean

# The literal constructors of §8: `date("2026-12-01")`, `datetime("...")`, `duration("P3D")`.
CONSTRUCTORS = {"date": DATE, "datetime": DATETIME, "duration": DURATION}
LINK_FUNCTIONS = frozenset({"exists", "count", "sum", "avg", "min", "max"})
JOURNEY_FIELDS = object_of({"id": STRING, "version": INTEGER, "step": STRING, "entered_at": DATETIME})
_ORDERED = frozenset({"string", "date", "datetime", "duration"})
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class Issue:
    """A type error at offsets `start`..`end` of the expression text, with its finding code."""

    code: str
    message: str
    start: int
    end: int


@dataclass(frozen=True)
class Scope:
    """What names mean: `roots` (profile, event, journey, actions) or, in campaigns, the row's columns."""

    roots: Mapping[str, Type] = field(default_factory=dict)
    row: Type | None = None
    links: Mapping[str, Type] = field(default_factory=dict)
    # Links to at most one row (many-to-one, one-to-one): `product.name` reads the linked row's column.
    to_one: Mapping[str, Type] = field(default_factory=dict)
    # Why `event` is missing, when it is (a journey with no event entry or wait-event).
    no_event_reason: str | None = None
    # The project's audience names, for `inAudience("...")`; None when unknown.
    audiences: frozenset[str] | None = None
    # How messages name a row of this scope: "the row", or "a `purchases` row" inside a link function.
    row_label: str = "the row"


def check(expr: Expr, scope: Scope) -> tuple[Type, list[Issue]]:
    checker = _Checker(scope)
    return checker.visit(expr), checker.issues


def common_type(types: list[Type]) -> Type | None:
    """The type a list or an if/else of these types has; None when they do not mix."""
    known = [t for t in types if t.name not in ("null", "any")]
    if not known:
        return types[0] if types else ANY
    if all(t.is_numeric for t in known):
        return DECIMAL if any(t.name == "decimal" for t in known) else INTEGER
    first = known[0]
    return first if all(t == first for t in known) else None


class _Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.issues: list[Issue] = []

    def error(self, node: Expr, code: str, message: str) -> Type:
        self.issues.append(Issue(code, message, node.start, max(node.end, node.start + 1)))
        return ANY

    def visit(self, node: Expr) -> Type:
        if isinstance(node, Literal):
            return {"string": STRING, "integer": INTEGER, "decimal": DECIMAL, "boolean": BOOLEAN}.get(node.kind, NULL)
        if isinstance(node, ListExpr):
            items = [self.visit(item) for item in node.items]
            item_type = common_type(items) if items else ANY
            if item_type is None:
                return self.error(node, "JO405", "a list holds values of one type: " + ", ".join(map(str, items)))
            return list_of(item_type)
        if isinstance(node, Ref):
            return self.reference(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, IsNull):
            self.visit(node.operand)
            return BOOLEAN
        if isinstance(node, Conditional):
            self.condition(node.condition, "the condition of `if`")
            branches = [self.visit(node.then), self.visit(node.otherwise)]
            result = common_type(branches)
            if result is None:
                return self.error(node, "JO405", f"`then` gives {branches[0]} but `else` gives {branches[1]}")
            return result
        return self.call(node)

    def condition(self, node: Expr, what: str) -> None:
        found = self.visit(node)
        if not accepts(BOOLEAN, found):
            self.error(node, "JO406", f"{what} must be a boolean, not {found}")

    def reference(self, node: Ref) -> Type:
        root, *path = node.parts
        if self.scope.row is not None and not self.scope.roots:
            if self.scope.row.field(root) is None and root in self.scope.links and root not in self.scope.to_one:
                return self.error(node, "JO402", f"`{root}` is a link to many rows, not a column: use "
                                  f"`count({root}, ...)`, `exists({root}, ...)` or `sum({root}, ...)`")
            current, names = self.scope.row, node.parts
            if self.scope.row.field(root) is None and root in self.scope.to_one and path:
                current, names = self.scope.to_one[root], tuple(path)
        elif root in self.scope.roots:
            current, names = self.scope.roots[root], tuple(path)
        elif root == "event" and self.scope.no_event_reason:
            return self.error(node, "JO411", f"`event` is not available here: {self.scope.no_event_reason}")
        else:
            known = sorted(self.scope.roots)
            return self.error(node, "JO402", f"unknown name `{root}`{did_you_mean(root, known)}"
                              + (f" (names: {', '.join(known)})" if known else ""))
        walked = [] if names == node.parts else [root]
        for name in names:
            if current.name == "any":
                return ANY
            if current.name != "object":
                return self.error(node, "JO402", f"`{'.'.join(walked)}` is {current} and has no field `{name}`")
            found = current.field(name)
            if found is None:
                where = f"`{'.'.join(walked)}`" if walked else self.scope.row_label
                return self.error(node, "JO402",
                                  f"{where} has no field `{name}`{did_you_mean(name, current.field_names)}")
            walked.append(name)
            current = found
        return current

    def unary(self, node: Unary) -> Type:
        if node.op == "not":
            self.condition(node.operand, "the operand of `not`")
            return BOOLEAN
        found = self.visit(node.operand)
        if found.is_numeric or found.name in ("duration", "any", "null"):
            return found
        return self.error(node, "JO405", f"cannot negate {found}")

    def binary(self, node: Binary) -> Type:
        if node.op in ("and", "or"):
            self.condition(node.left, f"each side of `{node.op}`")
            self.condition(node.right, f"each side of `{node.op}`")
            return BOOLEAN
        left, right = self.visit(node.left), self.visit(node.right)
        if node.op in ("==", "!="):
            return BOOLEAN
        if node.op == "in":
            if right.name not in ("list", "any", "null"):
                self.error(node.right, "JO405", f"`in` needs a list on its right, not {right}")
            return BOOLEAN
        if node.op in ("<", "<=", ">", ">="):
            return self.ordering(node, left, right)
        return self.arithmetic(node, left, right)

    def ordering(self, node: Binary, left: Type, right: Type) -> Type:
        if "any" in (left.name, right.name) or "null" in (left.name, right.name):
            return BOOLEAN
        if (left.is_numeric and right.is_numeric) or (left == right and left.name in _ORDERED):
            return BOOLEAN
        return self.error(node, "JO405", f"cannot order {left} and {right} with `{node.op}`")

    def arithmetic(self, node: Binary, left: Type, right: Type) -> Type:
        names = (left.name, right.name)
        if "any" in names or "null" in names:
            return ANY if node.op != "/" else DECIMAL
        if node.op == "+" and "string" in names:
            return STRING
        if left.is_numeric and right.is_numeric:
            if node.op == "/":
                return DECIMAL
            return INTEGER if names == ("integer", "integer") else DECIMAL
        result = _TIME_ARITHMETIC.get((node.op, left.name, right.name))
        if result is not None:
            return result
        return self.error(node, "JO405", f"cannot apply `{node.op}` to {left} and {right}")

    def call(self, node: Call) -> Type:
        if node.name in CONSTRUCTORS:
            return self.constructor(node)
        if node.name in LINK_FUNCTIONS and self.scope.links and node.args and isinstance(node.args[0], Ref) \
                and len(node.args[0].parts) == 1 and node.args[0].parts[0] in self.scope.links:
            return self.link_call(node)
        function = FUNCTIONS.get(node.name)
        if function is None:
            known = sorted(set(FUNCTIONS) | set(CONSTRUCTORS))
            for arg in node.args:
                self.visit(arg)
            return self.error(node, "JO403", f"unknown function `{node.name}`{did_you_mean(node.name, known)}")
        args = [self.visit(arg) for arg in node.args]
        self.constants(node, function)
        for signature in function.signatures:
            params = signature.params
            if signature.variadic and len(args) >= len(params) - 1:
                params = (*params[:-1], *[params[-1]] * (len(args) - len(params) + 1))
            if len(params) == len(args) and all(accepts(p, a) for p, a in zip(params, args, strict=True)):
                returns = signature.returns
                return returns(args) if callable(returns) else returns
        wanted = " or ".join("(" + ", ".join(map(str, s.params)) + (", ..." if s.variadic else "") + ")"
                             for s in function.signatures)
        return self.error(node, "JO404", f"`{node.name}` takes {wanted}, not ({', '.join(map(str, args))})")

    def constants(self, node: Call, function: Function) -> None:
        """Arguments that must be constants are; every string constant passes the function's own check."""
        for position, arg in enumerate(node.args):
            literal = isinstance(arg, Literal) and arg.kind == "string"
            if position in function.constants and not literal:
                self.error(arg, "JO408", f"argument {position + 1} of `{node.name}` must be a string constant")
            elif literal and function.check_constant is not None:
                problem = function.check_constant(position, str(arg.value))  # type: ignore[union-attr]
                if problem:
                    self.error(arg, "JO408", problem)
            if literal and node.name == "inAudience" and self.scope.audiences is not None \
                    and str(arg.value) not in self.scope.audiences:  # type: ignore[union-attr]
                name = str(arg.value)  # type: ignore[union-attr]
                hint = did_you_mean(name, self.scope.audiences) or (
                    f" (audiences: {', '.join(sorted(self.scope.audiences)[:10])})" if self.scope.audiences else
                    " (the project declares no audience)")
                self.error(arg, "JO408", f"unknown audience `{name}`{hint}")

    def constructor(self, node: Call) -> Type:
        wanted = CONSTRUCTORS[node.name]
        if len(node.args) != 1 or not (isinstance(node.args[0], Literal) and node.args[0].kind == "string"):
            return self.error(node, "JO408", f"`{node.name}(...)` takes one string constant")
        text = str(node.args[0].value)
        if wanted == DURATION and parse_duration(text) is None:
            code = "JO409" if ("Y" in text.split("T")[0] or "M" in text.split("T")[0]) else "JO408"
            return self.error(node.args[0], code, f"`{text}` is not an exact ISO 8601 duration (days, hours, "
                              "minutes, seconds; no years or months)")
        try:
            if wanted == DATE:
                parse_date(text)
            elif wanted == DATETIME:
                parse_datetime(text, UTC_ZONE)
        except EvalError:
            example = "2026-12-01" if wanted == DATE else "2026-12-01T09:00:00Z"
            return self.error(node.args[0], "JO408", f"`{text}` is not a {node.name} like {example}")
        return wanted

    def link_call(self, node: Call) -> Type:
        link = node.args[0]
        assert isinstance(link, Ref)
        linked = _Checker(Scope(row=self.scope.links[link.parts[0]], row_label=f"a `{link.parts[0]}` row"))
        rest = [linked.visit(arg) for arg in node.args[1:]]
        self.issues.extend(linked.issues)
        if node.name == "exists":
            if len(rest) != 1 or not accepts(BOOLEAN, rest[0]):
                return self.error(node, "JO404", "`exists(link, condition)` takes a link and a boolean condition")
            return BOOLEAN
        if node.name == "count":
            if len(rest) > 1 or (rest and not accepts(BOOLEAN, rest[0])):
                return self.error(node, "JO404", "`count(link[, condition])` takes a link and a boolean condition")
            return INTEGER
        if not 1 <= len(rest) <= 2 or (len(rest) == 2 and not accepts(BOOLEAN, rest[1])):
            return self.error(node, "JO404", f"`{node.name}(link, value[, condition])` takes a link, a value and "
                              "a boolean condition")
        if node.name in ("sum", "avg") and not (rest[0].is_numeric or rest[0].name in ("any", "null")):
            return self.error(node.args[1], "JO404", f"`{node.name}` adds numbers, not {rest[0]}")
        return DECIMAL if node.name == "avg" else rest[0]


_TIME_ARITHMETIC: dict[tuple[str, str, str], Type] = {
    ("+", "datetime", "duration"): DATETIME, ("+", "duration", "datetime"): DATETIME,
    ("+", "date", "duration"): DATE, ("+", "duration", "duration"): DURATION,
    ("-", "datetime", "duration"): DATETIME, ("-", "datetime", "datetime"): DURATION,
    ("-", "date", "date"): DURATION, ("-", "date", "duration"): DATE, ("-", "duration", "duration"): DURATION,
}
