"""The §8 function table: names, null rules, signatures, and the string, list, math and conversion functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jo_cli.expr.functions import FUNCTIONS
from jo_cli.expr.functions_text import compiled
from jo_cli.expr.runtime import EvalContext, EvalError
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
)

UTC = dt.UTC
T = dt.datetime(2026, 12, 1, 9, tzinfo=UTC)
CTX = EvalContext(now=T, zone=ZoneInfo("Europe/Paris"))
SPEC_NAMES = [
    "inAudience", "now", "nowWithDelta", "inLastDays", "inLastHours", "inLastMonths", "inLastYears", "inNextDays",
    "inNextHours", "inNextMonths", "inNextYears", "dayOfWeek", "setHours", "setDays", "toDateTime", "toDateOnly",
    "toDuration", "toString", "toInteger", "toDecimal", "toBool", "updateTimeZone", "contain", "containIgnoreCase",
    "startWith", "endWith", "equalIgnoreCase", "lower", "upper", "trim", "length", "isEmpty", "isNotEmpty",
    "matchRegExp", "replace", "replaceAll", "split", "substr", "concat", "count", "sum", "avg", "min", "max",
    "distinct", "listSize", "in", "round", "abs",
]
NULL_AWARE = {"isEmpty", "isNotEmpty", "count", "listSize", "in"}


def call(name: str, *args: Any) -> Any:
    """As compiled code calls a function: null arguments short-circuit unless the function handles null."""
    function = FUNCTIONS[name]
    if function.null_result and any(arg is None for arg in args):
        return None
    return function.impl(CTX, *args) if function.context else function.impl(*args)


def result_type(name: str, *types: Type) -> Type | None:
    """The checker's overload resolution: the first signature whose params accept the argument types."""
    for signature in FUNCTIONS[name].signatures:
        params = signature.params
        if signature.variadic and len(types) >= len(params) - 1:
            params = (*params[:-1], *[params[-1]] * (len(types) - len(params) + 1))
        if len(params) == len(types) and all(accepts(p, t) for p, t in zip(params, types, strict=True)):
            returns = signature.returns
            return returns(types) if callable(returns) else returns
    return None


def test_every_spec_function_is_defined_once() -> None:
    assert sorted(FUNCTIONS) == sorted(SPEC_NAMES)
    for name, function in FUNCTIONS.items():
        assert function.name == name
        assert function.doc
        assert function.signatures


def test_only_the_spec_exceptions_see_null() -> None:
    assert {name for name, function in FUNCTIONS.items() if not function.null_result} == NULL_AWARE


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("isEmpty", (None,), True), ("isEmpty", ("",), True), ("isEmpty", (" ",), False), ("isEmpty", ([],), True),
    ("isEmpty", (0,), False),
    ("isNotEmpty", (None,), False), ("isNotEmpty", ("",), False), ("isNotEmpty", ("a",), True),
    ("count", (None,), 0), ("count", ([1, None, "a"],), 2), ("listSize", (None,), 0), ("listSize", ([1, None],), 2),
    ("in", (None, [None]), True), ("in", (None, [1]), False), ("in", (1, None), False), ("in", (1.0, [1]), True),
    ("in", (True, [1]), False),
])
def test_null_aware_functions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == expected


@pytest.mark.parametrize(("name", "args"), [
    ("length", (None,)), ("lower", (None,)), ("substr", ("abc", None)), ("concat", ("a", None, "b")),
    ("toInteger", (None,)), ("toString", (None,)), ("round", (None,)), ("sum", (None,)), ("max", (1, None)),
    ("setHours", (None, 3)), ("contain", ("abc", None)), ("replace", ("a", "a", None)), ("dayOfWeek", (None,)),
])
def test_null_argument_gives_null(name: str, args: tuple[Any, ...]) -> None:
    assert call(name, *args) is None


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("contain", ("hello", "ell"), True), ("contain", ("hello", "EL"), False), ("contain", ("a", ""), True),
    ("containIgnoreCase", ("Hello", "eLL"), True), ("startWith", ("hello", "he"), True),
    ("startWith", ("hello", "lo"), False), ("endWith", ("hello", "lo"), True),
    ("equalIgnoreCase", ("ÉTÉ", "été"), True),
    ("equalIgnoreCase", ("a", "b"), False), ("lower", ("ÀB",), "àb"), ("upper", ("àb",), "ÀB"),
    ("trim", ("  a b \t\n",), "a b"), ("length", ("héllo",), 5), ("length", ("",), 0),
    ("substr", ("abcdef", 1, 3), "bc"), ("substr", ("abcdef", 2), "cdef"), ("substr", ("abc", -2, 2), "ab"),
    ("substr", ("abc", 1, 99), "bc"), ("substr", ("abc", 5), ""), ("substr", ("abc", 2, 1), ""),
    ("concat", ("a", "b"), "ab"), ("concat", ("a", "b", "c", "d"), "abcd"), ("concat", (["x", None, "y"],), "xy"),
    ("concat", ("a",), "a"),
])
def test_string_functions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == expected


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("matchRegExp", ("username@adobe.com", "adobe"), True), ("matchRegExp", ("abc", "^b"), False),
    ("matchRegExp", ("12345", r"^\d+$"), True), ("matchRegExp", ("12a45", r"^\d+$"), False),
    ("replace", ("a-b-c", "-", "+"), "a+b-c"), ("replaceAll", ("a-b-c", "-", "+"), "a+b+c"),
    ("replaceAll", ("john smith", r"(\w+) (\w+)", "$2, $1"), "smith, john"),
    ("replaceAll", ("ab", "(?P<x>a)", "[${x}]"), "[a]b"), ("replaceAll", ("a1", r"\d", r"\$"), "a$"),
    ("replaceAll", ("ac", "(b)?c", "[$1]"), "a[]"), ("replaceAll", ("x", "(x)", "$10"), "x0"),
    ("replaceAll", ("ab", "", "-"), "-a-b-"), ("replace", ("aaa", "z", "$9"), "aaa"),
    ("split", ("a,b,,c,,", ","), ["a", "b", "", "c"]), ("split", ("", ","), [""]),
    ("split", ("abc", ""), ["a", "b", "c"]),
    ("split", (",a", ","), ["", "a"]), ("split", (",", ","), []), ("split", ("a1b22c", r"\d+"), ["a", "b", "c"]),
    ("split", ("é-è", "-"), ["é", "è"]),
])
def test_regex_functions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    assert call(name, *args) == expected


@pytest.mark.parametrize(("name", "args", "message"), [
    ("matchRegExp", ("aa", r"(a)\1"), r"regular expression `(a)\1` uses the backreference `\1`: RE2 has none "
                                      "(it runs in linear time)"),
    ("split", ("a", "("), "invalid regular expression `(`: missing ): ("),
    ("replaceAll", ("ab", "(a)", "$2"), "replacement `$2`: `$` must be followed by a group number (up to 1) or "
                                        "{name}; write `\\$` for a dollar sign"),
    ("replaceAll", ("ab", "a", "x\\"), "replacement `x\\` ends with an unescaped `\\`"),
    ("replaceAll", ("ab", "a", "${y}"), "replacement `${y}` names no group of the pattern"),
])
def test_regex_failures_at_run_time(name: str, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(EvalError) as caught:
        call(name, *args)
    assert str(caught.value) == message


def test_regex_literals_are_checked_at_lint_time_and_cached() -> None:
    for name in ("matchRegExp", "replace", "replaceAll", "split"):
        check = FUNCTIONS[name].check_constant
        assert check is not None
        assert check(1, r"(\w)\1") == (r"regular expression `(\w)\1` uses the backreference `\1`: RE2 has none "
                                       "(it runs in linear time)")
        assert check(1, "[a-z]+") is None
        assert check(0, r"(a)\1") is None
    assert compiled("[a-z]+") is compiled("[a-z]+")


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("sum", ([1, 2, None, 3],), 6), ("sum", ([1, 2.5],), 3.5), ("sum", ([],), 0), ("sum", ([None],), 0),
    ("sum", (2, 3), 5), ("avg", ([1, 2, None],), 1.5), ("avg", ([2, 2],), 2.0), ("avg", ([],), None),
    ("avg", ([None],), None), ("avg", (1, 2), 1.5), ("min", ([3, None, 1.5, 2],), 1.5), ("max", ([3, None, 1.5],), 3),
    ("min", ([],), None), ("max", ([None],), None), ("min", (2, 1), 1), ("max", (2, 2.5), 2.5),
    ("max", (["b", "a"],), "b"),
    ("min", ([dt.date(2026, 1, 2), dt.date(2026, 1, 1)],), dt.date(2026, 1, 1)),
    ("max", ([T, T.replace(hour=8)],), T), ("min", ([dt.timedelta(hours=2), dt.timedelta(minutes=5)],),
                                                 dt.timedelta(minutes=5)),
    ("distinct", ([1, 1.0, None, "1", True, 1, "1"],), [1, "1", True]), ("distinct", ([[1], [1.0], [2]],), [[1], [2]]),
    ("distinct", ([T, T.astimezone(ZoneInfo("Asia/Tokyo"))],), [T]), ("distinct", ([],), []),
    ("distinct", ([{"a": 1}, {"a": 1.0}],), [{"a": 1}]),
])
def test_list_functions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    result = call(name, *args)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("name", "args", "message"), [
    ("sum", ([1, "2"],), "sum adds numbers, not string"), ("avg", ([True],), "avg adds numbers, not boolean"),
    ("max", ([1, "a"],), "max cannot compare string with integer"), ("min", ([True],), "min cannot compare boolean "
                                                                                      "with boolean"),
    ("sum", (5,), "sum needs a list, not integer"), ("count", ("abc",), "count needs a list, not string"),
])
def test_list_function_failures(name: str, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(EvalError) as caught:
        call(name, *args)
    assert str(caught.value) == message


@pytest.mark.parametrize(("value", "expected"), [
    (2.5, 3), (-2.5, -2), (1.5, 2), (-0.5, 0), (0.5, 1), (2.4999, 2), (-2.5000001, -3), (0.49999999999999994, 0),
    (3, 3), (-3, -3), (4503599627370497.0, 4503599627370497),
])
def test_round_halves_up(value: float, expected: int) -> None:
    result = call("round", value)
    assert result == expected
    assert type(result) is int


def test_round_and_abs_edges() -> None:
    with pytest.raises(EvalError, match="round cannot make an integer of nan"):
        call("round", float("nan"))
    assert call("abs", -3) == 3
    assert call("abs", -2.5) == 2.5
    assert type(call("abs", -3)) is int


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("toString", (3.0,), "3"), ("toString", (True,), "true"), ("toString", (T,), "2026-12-01T09:00:00Z"),
    ("toString", (dt.timedelta(seconds=1.52),), "PT1.52S"), ("toString", ([1, "a"],), '[1, "a"]'),
    ("toInteger", ("42",), 42), ("toInteger", ("-7",), -7), ("toInteger", (" 8 ",), 8), ("toInteger", (3.9,), 3),
    ("toInteger", (-3.9,), -3), ("toInteger", (True,), 1), ("toInteger", (T,), 1796115600000), ("toInteger", (5,), 5),
    ("toDecimal", ("2.5",), 2.5), ("toDecimal", ("1e3",), 1000.0), ("toDecimal", (".5",), 0.5),
    ("toDecimal", (3,), 3.0),
    ("toDecimal", (False,), 0.0), ("toBool", ("true",), True), ("toBool", ("TRUE",), False),
    ("toBool", ("yes",), False),
    ("toBool", (0,), False), ("toBool", (-0.5,), True), ("toBool", (False,), False),
    ("toDuration", ("PT1H30M",), dt.timedelta(minutes=90)), ("toDuration", (500,), dt.timedelta(milliseconds=500)),
    ("toDuration", (dt.timedelta(days=1),), dt.timedelta(days=1)),
])
def test_conversions(name: str, args: tuple[Any, ...], expected: Any) -> None:
    result = call(name, *args)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("toInteger", "abc", "toInteger cannot convert `abc`"), ("toInteger", "4.5", "toInteger cannot convert `4.5`"),
    ("toInteger", float("inf"), "toInteger cannot convert decimal"),
    ("toInteger", "9223372036854775808", "toInteger: 9223372036854775808 does not fit in 64 bits"),
    ("toDecimal", "nan", "toDecimal cannot convert `nan`"), ("toDecimal", "1_000", "toDecimal cannot convert `1_000`"),
    ("toDecimal", "", "toDecimal cannot convert ``"), ("toBool", [1], "toBool cannot convert list"),
    ("toDuration", "P1M", "`P1M` is not an exact ISO 8601 duration like PT1H30M or P3D (days, hours, minutes, "
                          "seconds; no years or months)"),
    ("toDuration", True, "toDuration cannot convert boolean"),
])
def test_failed_conversions_raise(name: str, value: Any, message: str) -> None:
    with pytest.raises(EvalError) as caught:
        call(name, value)
    assert str(caught.value) == message


L = list_of


@pytest.mark.parametrize(("name", "types", "expected"), [
    ("sum", (L(INTEGER),), INTEGER), ("sum", (L(DECIMAL),), DECIMAL), ("sum", (INTEGER, DECIMAL), DECIMAL),
    ("sum", (INTEGER, INTEGER), INTEGER), ("sum", (ANY,), ANY), ("avg", (L(INTEGER),), DECIMAL),
    ("max", (L(DATETIME),), DATETIME), ("max", (DATE, DATE), DATE), ("min", (L(INTEGER),), INTEGER),
    ("min", (L(ANY),), ANY), ("min", (DURATION, NULL), DURATION), ("max", (L(BOOLEAN),), None),
    ("max", (DATE, DATETIME), None),
    ("abs", (INTEGER,), INTEGER), ("abs", (DECIMAL,), DECIMAL), ("round", (INTEGER,), INTEGER),
    ("distinct", (L(STRING),), L(STRING)), ("distinct", (ANY,), L(ANY)), ("setDays", (DATE, INTEGER), DATE),
    ("setDays", (DATETIME, INTEGER), DATETIME), ("concat", (STRING, STRING, STRING), STRING),
    ("concat", (L(STRING),), STRING), ("split", (STRING, STRING), L(STRING)), ("in", (INTEGER, L(STRING)), BOOLEAN),
    ("now", (), DATETIME), ("nowWithDelta", (INTEGER, STRING, STRING), DATETIME), ("toInteger", (DATETIME,), INTEGER),
    ("toDateOnly", (STRING,), DATE), ("length", (INTEGER,), None), ("isEmpty", (NULL,), BOOLEAN),
    ("isEmpty", (INTEGER,), BOOLEAN),
])
def test_signatures(name: str, types: Sequence[Type], expected: Type | None) -> None:
    assert result_type(name, *types) == expected


def test_string_constant_positions() -> None:
    constants = {name: function.constants for name, function in FUNCTIONS.items() if function.constants}
    assert constants == {"inAudience": (0,), "now": (0,), "nowWithDelta": (1, 2), "updateTimeZone": (1,)}


@pytest.mark.parametrize(("name", "position", "text", "expected"), [
    ("updateTimeZone", 1, "Europe/Paris", None),
    ("updateTimeZone", 1, "Europe/Pariss", "`Europe/Pariss` is not an IANA time zone; did you mean `Europe/Paris`?"),
    ("now", 0, "Paris", "`Paris` is not an IANA time zone; did you mean `Europe/Paris`?"),
    ("nowWithDelta", 2, "UTC", None), ("nowWithDelta", 1, "days", None),
    ("nowWithDelta", 1, "day", "unknown unit `day`; did you mean `days`? (units: years, months, days, hours, minutes, "
                               "seconds)"),
    ("nowWithDelta", 1, "weeks", "unknown unit `weeks` (units: years, months, days, hours, minutes, seconds)"),
])
def test_check_constant(name: str, position: int, text: str, expected: str | None) -> None:
    check = FUNCTIONS[name].check_constant
    assert check is not None
    assert check(position, text) == expected
