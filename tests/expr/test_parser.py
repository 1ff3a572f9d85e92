"""Parser: precedence, positions, round trips, and located syntax errors (SPEC §8)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jo_cli.expr.ast import Binary, Call, Conditional, Expr, IsNull, ListExpr, Literal, Ref, Unary
from jo_cli.expr.parser import ExprSyntaxError, parse
from jo_cli.expr.printer import to_source


def test_precedence_loosest_first() -> None:
    tree = parse("not a or b and c == 1 + 2 * -3")
    assert tree == Binary(
        "or",
        Unary("not", Ref(("a",))),
        Binary("and", Ref(("b",)), Binary("==", Ref(("c",)), Binary(
            "+", Literal(1, "integer"), Binary("*", Literal(2, "integer"), Unary("-", Literal(3, "integer")))))),
    )


def test_references_and_quoted_segments() -> None:
    assert parse("profile.consent.email") == Ref(("profile", "consent", "email"))
    assert parse("actions.'crm-task'.id") == Ref(("actions", "crm-task", "id"))
    assert parse("event.'3h'") == Ref(("event", "3h"))


def test_literals() -> None:
    assert parse('"a\\"b"') == Literal('a"b', "string")
    assert parse("'it\\'s'") == Literal("it's", "string")
    assert parse("3.5") == Literal(3.5, "decimal")
    assert parse("[1, 2]") == ListExpr((Literal(1, "integer"), Literal(2, "integer")))
    assert parse("null") == Literal(None, "null")
    assert parse("true") == Literal(True, "boolean")


def test_is_null_in_and_conditional() -> None:
    assert parse("x is not null") == IsNull(Ref(("x",)), True)
    assert parse("x in [1]") == Binary("in", Ref(("x",)), ListExpr((Literal(1, "integer"),)))
    assert parse("in(x, [1])") == Call("in", (Ref(("x",)), ListExpr((Literal(1, "integer"),))))
    assert parse("if (a) then (1) else (2)") == Conditional(Ref(("a",)), Literal(1, "integer"), Literal(2, "integer"))


def test_positions_are_offsets_in_the_text() -> None:
    tree = parse('profile.tier == "gold"')
    assert isinstance(tree, Binary)
    assert (tree.start, tree.end) == (0, 22)
    assert (tree.left.start, tree.left.end) == (0, 12)
    assert (tree.right.start, tree.right.end) == (16, 22)


@pytest.mark.parametrize(
    ("text", "message", "start"),
    [
        ("a < b < c", "comparisons do not chain", 6),
        ("(a", "expected `)` to close `(`", 2),
        ("a ==", "expected a value", 4),
        ('"abc', "unterminated string", 0),
        ("a.1", "expected a field name after `.`", 2),
        ("a AND b", "unexpected `AND`", 2),
        ("a # b", "unexpected character `#`", 2),
        ("if a then (1) else (2)", "expected `(` after `if`", 3),
        ('"\\q"', "unknown escape", 1),
        ("f(1,)", "expected a value", 4),
        ("1e999", "too large", 0),
        ("99999999999999999999", "out of range", 0),
        ("", "expected a value", 0),
    ],
)
def test_syntax_errors_are_located(text: str, message: str, start: int) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        parse(text)
    assert message in caught.value.message
    assert caught.value.start == start
    assert caught.value.end > caught.value.start


def test_nesting_limit() -> None:
    with pytest.raises(ExprSyntaxError, match="nested deeper"):
        parse("(" * 100 + "1" + ")" * 100)
    with pytest.raises(ExprSyntaxError, match="nested deeper"):
        parse("not " * 100 + "true")
    assert parse("(" * 20 + "1" + ")" * 20) == Literal(1, "integer")


NAMES = st.sampled_from(["profile", "event", "tier", "a", "b_2", "x"])
SEGMENTS = st.text(alphabet="ab-_ 3'\\", min_size=1, max_size=5)
LEAVES: st.SearchStrategy[Expr] = st.one_of(
    st.builds(lambda v: Literal(v, "integer"), st.integers(0, 2**63 - 1)),
    st.builds(lambda v: Literal(v, "decimal"), st.floats(0, 1e300, allow_nan=False, allow_infinity=False)),
    st.builds(lambda v: Literal(v, "string"), st.text(max_size=8)),
    st.builds(lambda v: Literal(v, "boolean"), st.booleans()),
    st.just(Literal(None, "null")),
    st.builds(lambda root, rest: Ref((root, *rest)), NAMES, st.lists(st.one_of(NAMES, SEGMENTS), max_size=3)),
)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    ops = st.sampled_from(["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"])
    return st.one_of(
        st.builds(Binary, ops, children, children),
        st.builds(Unary, st.sampled_from(["not", "-"]), children),
        st.builds(IsNull, children, st.booleans()),
        st.builds(Conditional, children, children, children),
        st.builds(lambda name, args: Call(name, tuple(args)), st.sampled_from(["round", "now", "in", "concat"]),
                  st.lists(children, max_size=3)),
        st.builds(lambda items: ListExpr(tuple(items)), st.lists(children, max_size=3)),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=12)


@settings(max_examples=2000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_print_then_parse_gives_the_same_ast(tree: Expr) -> None:
    assert parse(to_source(tree)) == tree


@settings(max_examples=2000, deadline=None, database=None)
@given(st.lists(st.sampled_from([*"ab01.()[]\"',=!<>+-*/% \n", "and", "or", "not", "is", "null", "if", "then",
                                  "else", "in", "é", " "]), max_size=30).map(" ".join))
def test_random_text_only_ever_raises_located_syntax_errors(text: str) -> None:
    try:
        parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.start <= len(text) and exc.end > exc.start and exc.message


@settings(max_examples=2000, deadline=None, database=None)
@given(st.text(max_size=60))
def test_arbitrary_unicode_never_crashes_the_parser(text: str) -> None:
    try:
        parse(text)
    except ExprSyntaxError as exc:
        assert 0 <= exc.start <= len(text)
