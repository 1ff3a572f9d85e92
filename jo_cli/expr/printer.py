"""AST -> source text that parses back to the same AST (compound operands are parenthesised)."""

from __future__ import annotations

import re

from jo_cli.expr.ast import Binary, Conditional, Expr, IsNull, ListExpr, Literal, Ref, Unary

_PLAIN_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = frozenset({"and", "or", "not", "is", "null", "true", "false", "if", "then", "else", "in"})


def to_source(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return _literal(expr)
    if isinstance(expr, ListExpr):
        return "[" + ", ".join(to_source(item) for item in expr.items) + "]"
    if isinstance(expr, Ref):
        return ".".join([expr.parts[0], *(_segment(part) for part in expr.parts[1:])])
    if isinstance(expr, Unary):
        return f"{expr.op} {_operand(expr.operand)}" if expr.op == "not" else f"-{_operand(expr.operand)}"
    if isinstance(expr, Binary):
        return f"{_operand(expr.left)} {expr.op} {_operand(expr.right)}"
    if isinstance(expr, IsNull):
        return f"{_operand(expr.operand)} is {'not ' if expr.negated else ''}null"
    if isinstance(expr, Conditional):
        return (f"if ({to_source(expr.condition)}) then ({to_source(expr.then)}) "
                f"else ({to_source(expr.otherwise)})")
    return f"{expr.name}(" + ", ".join(to_source(arg) for arg in expr.args) + ")"


def _operand(expr: Expr) -> str:
    text = to_source(expr)
    if isinstance(expr, Binary | Unary | IsNull):
        return f"({text})"
    return text


def _literal(expr: Literal) -> str:
    if expr.kind == "string":
        escaped = str(expr.value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
            .replace("\t", "\\t").replace("\r", "\\r")
        return f'"{escaped}"'
    if expr.kind == "boolean":
        return "true" if expr.value else "false"
    if expr.kind == "null":
        return "null"
    return repr(expr.value)


def _segment(part: str) -> str:
    if _PLAIN_SEGMENT.match(part) and part not in _KEYWORDS:
        return part
    return "'" + part.replace("\\", "\\\\").replace("'", "\\'") + "'"
