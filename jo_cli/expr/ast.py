"""The expression AST: backend-neutral nodes with their offsets in the source text.

Offsets (`start`, `end`, 0-based, end exclusive) do not take part in equality,
so an AST printed and parsed again compares equal to the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from typing import Literal as TypingLiteral

LiteralKind = TypingLiteral["string", "integer", "decimal", "boolean", "null"]
BinaryOp = TypingLiteral["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"]
UnaryOp = TypingLiteral["not", "-"]


@dataclass(frozen=True, slots=True)
class Node:
    start: int = field(default=0, compare=False, kw_only=True)
    end: int = field(default=0, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any
    kind: LiteralKind


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Ref(Node):
    """A reference: `profile.consent.email` is ("profile", "consent", "email"); a campaign column is ("tier",)."""

    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: UnaryOp
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    operand: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Expr, ...]


Expr = Literal | ListExpr | Ref | Unary | Binary | IsNull | Conditional | Call
