"""Lexer and recursive-descent parser for SPEC §8 expressions, with exact offsets.

Precedence, loosest first: `or`; `and`; `not`; comparisons (`== != < <= > >=`,
`in`, `is null`, `is not null`; they do not chain); `+ -`; `* / %`; unary `-`.
`if (c) then (a) else (b)` and calls are primaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal as TypingLiteral

from jo_cli.expr.ast import Binary, BinaryOp, Call, Conditional, Expr, IsNull, ListExpr, Literal, Ref, Unary

MAX_LENGTH = 10_000
MAX_DEPTH = 64
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
KEYWORDS = frozenset({"and", "or", "not", "is", "null", "true", "false", "if", "then", "else", "in"})
TokenKind = TypingLiteral["number", "string", "name", "op", "end"]

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<string>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|[<>+\-*/%()\[\],.])",
    re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class ExprSyntaxError(Exception):
    """A located syntax error: `start`/`end` are offsets in the expression text."""

    def __init__(self, message: str, start: int, end: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end if end is not None else start + 1


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int
    end: int
    value: object = None


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(f"expression longer than {MAX_LENGTH:,} characters", 0, len(text))
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "\"'":
                raise ExprSyntaxError("unterminated string", pos, len(text))
            raise ExprSyntaxError(f"unexpected character `{text[pos]}`", pos)
        kind = match.lastgroup
        if kind == "number":
            tokens.append(Token("number", match.group(), pos, match.end(), _number(match.group(), pos, match.end())))
        elif kind == "string":
            tokens.append(Token("string", match.group(), pos, match.end(), _unquote(match.group(), pos)))
        elif kind in ("name", "op"):
            tokens.append(Token(kind, match.group(), pos, match.end()))  # type: ignore[arg-type]
        pos = match.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


def _number(text: str, start: int, end: int) -> int | float:
    if "." in text or "e" in text or "E" in text:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ExprSyntaxError(f"number `{text}` is too large", start, end)
        return value
    number = int(text)
    if number > INT_MAX + 1:  # -(2**63) is written as unary minus on 2**63
        raise ExprSyntaxError(f"integer `{text}` is out of range (64 bits)", start, end)
    return number


def _unquote(text: str, start: int) -> str:
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            escaped = body[i + 1]
            if escaped not in _ESCAPES:
                raise ExprSyntaxError(f"unknown escape `\\{escaped}`", start + 1 + i, start + 3 + i)
            out.append(_ESCAPES[escaped])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def parse(text: str) -> Expr:
    """The AST of `text`; raises ExprSyntaxError (never anything else) on bad input."""
    parser = _Parser(tokenize(text))
    expr = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        lowercase = f": operators are lowercase (`{token.text.lower()}`)" \
            if token.text.lower() in KEYWORDS and token.text != token.text.lower() else ""
        raise ExprSyntaxError(f"unexpected `{token.text}` after a complete expression{lowercase}", token.start,
                              token.end)
    return expr


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind in ("op", "name") and token.text == text

    def expect(self, text: str, what: str) -> Token:
        if not self.at(text):
            token = self.peek()
            shown = f"`{token.text}`" if token.kind != "end" else "the end"
            raise ExprSyntaxError(f"expected `{text}` {what}, found {shown}", token.start,
                                  max(token.end, token.start + 1))
        return self.take()

    def expression(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            token = self.peek()
            raise ExprSyntaxError(f"expression nested deeper than {MAX_DEPTH} levels", token.start)
        try:
            return self.disjunction()
        finally:
            self.depth -= 1

    def disjunction(self) -> Expr:
        left = self.conjunction()
        while self.at("or"):
            self.take()
            right = self.conjunction()
            left = Binary("or", left, right, start=left.start, end=right.end)
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.at("and"):
            self.take()
            right = self.negation()
            left = Binary("and", left, right, start=left.start, end=right.end)
        return left

    def negation(self) -> Expr:
        if self.at("not"):
            token = self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExprSyntaxError(f"expression nested deeper than {MAX_DEPTH} levels", token.start)
            operand = self.negation()
            self.depth -= 1
            return Unary("not", operand, start=token.start, end=operand.end)
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.additive()
        token = self.peek()
        # After a value, `in` is the operator (`x in (list)`); the call `in(v, list)` starts a value.
        if (token.kind == "op" and token.text in _COMPARISONS) or self.at("in"):
            self.take()
            right = self.additive()
            op: BinaryOp = "in" if token.text == "in" else token.text  # type: ignore[assignment]
            left = Binary(op, left, right, start=left.start, end=right.end)
        elif self.at("is"):
            self.take()
            negated = self.at("not")
            if negated:
                self.take()
            end = self.expect("null", "after `is`" + (" not" if negated else "")).end
            left = IsNull(left, negated, start=left.start, end=end)
        following = self.peek()
        if (following.kind == "op" and following.text in _COMPARISONS) or (following.text in ("in", "is") \
                and following.kind == "name"):
            raise ExprSyntaxError("comparisons do not chain: combine them with `and`", following.start, following.end)
        return left

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op: BinaryOp = self.take().text  # type: ignore[assignment]
            right = self.multiplicative()
            left = Binary(op, left, right, start=left.start, end=right.end)
        return left

    def multiplicative(self) -> Expr:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            op: BinaryOp = self.take().text  # type: ignore[assignment]
            right = self.unary()
            left = Binary(op, left, right, start=left.start, end=right.end)
        return left

    def unary(self) -> Expr:
        if self.peek().kind == "op" and self.peek().text == "-":
            token = self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExprSyntaxError(f"expression nested deeper than {MAX_DEPTH} levels", token.start)
            operand = self.unary()
            self.depth -= 1
            return Unary("-", operand, start=token.start, end=operand.end)
        return self.primary()

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind == "number":
            self.take()
            if isinstance(token.value, float):
                return Literal(token.value, "decimal", start=token.start, end=token.end)
            return Literal(token.value, "integer", start=token.start, end=token.end)
        if token.kind == "string":
            self.take()
            return Literal(token.value, "string", start=token.start, end=token.end)
        if token.kind == "op" and token.text == "(":
            self.take()
            inner = self.expression()
            self.expect(")", "to close `(`")
            return inner
        if token.kind == "op" and token.text == "[":
            return self.list_literal()
        if token.kind == "name":
            return self.named(token)
        shown = f"`{token.text}`" if token.kind != "end" else "the end of the expression"
        raise ExprSyntaxError(f"expected a value, found {shown}", token.start, max(token.end, token.start + 1))

    def named(self, token: Token) -> Expr:
        if token.text in ("true", "false"):
            self.take()
            return Literal(token.text == "true", "boolean", start=token.start, end=token.end)
        if token.text == "null":
            self.take()
            return Literal(None, "null", start=token.start, end=token.end)
        if token.text == "if":
            return self.conditional()
        opens_call = self.peek(1).kind == "op" and self.peek(1).text == "("
        if opens_call and (token.text not in KEYWORDS or token.text == "in"):
            return self.call()
        if token.text in KEYWORDS:
            raise ExprSyntaxError(f"`{token.text}` cannot start a value", token.start, token.end)
        return self.reference()

    def conditional(self) -> Expr:
        start = self.take().start
        parts: list[Expr] = []
        for keyword in ("if", "then", "else"):
            if keyword != "if":
                self.expect(keyword, "in `if (...) then (...) else (...)`")
            self.expect("(", f"after `{keyword}` (AJO writes `if (c) then (a) else (b)`)")
            parts.append(self.expression())
            end = self.expect(")", f"to close `{keyword} (`").end
        return Conditional(parts[0], parts[1], parts[2], start=start, end=end)

    def call(self) -> Expr:
        name = self.take()
        self.take()  # (
        args: list[Expr] = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.take()
                args.append(self.expression())
        end = self.expect(")", f"to close the arguments of `{name.text}(`").end
        return Call(name.text, tuple(args), start=name.start, end=end)

    def list_literal(self) -> Expr:
        start = self.take().start
        items: list[Expr] = []
        if not self.at("]"):
            items.append(self.expression())
            while self.at(","):
                self.take()
                items.append(self.expression())
        end = self.expect("]", "to close the list").end
        return ListExpr(tuple(items), start=start, end=end)

    def reference(self) -> Expr:
        first = self.take()
        parts, end = [first.text], first.end
        while self.at("."):
            self.take()
            segment = self.peek()
            if segment.kind not in ("name", "string"):
                raise ExprSyntaxError("expected a field name after `.` (quote unusual names: `actions.'crm-task'`)",
                                      segment.start, max(segment.end, segment.start + 1))
            self.take()
            parts.append(str(segment.value) if segment.kind == "string" else segment.text)
            end = segment.end
        return Ref(tuple(parts), start=first.start, end=end)
