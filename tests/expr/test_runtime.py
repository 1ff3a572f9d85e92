"""Run-time values and operators of SPEC §8: null, number and time rules, printing, literal parsing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jo_cli.expr import runtime as rt
from jo_cli.expr.runtime import EvalError

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
D = dt.date(2026, 12, 1)
H = dt.timedelta(hours=1)
P1D = dt.timedelta(days=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        microsecond: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


T = utc(2026, 12, 1, 9)
# 01:30 on 2026-11-01 happens twice in New York: EDT (05:30Z), then EST (06:30Z).
NY_FIRST = utc(2026, 11, 1, 5, 30).astimezone(NEW_YORK)
NY_SECOND = utc(2026, 11, 1, 6, 30).astimezone(NEW_YORK)


@pytest.mark.parametrize(("a", "b", "expected"), [
    (None, None, True), (None, 0, False), (0, None, False), (None, "", False),
    (1, 1.0, True), (1, 1.5, False), (True, 1, False), (1, True, False), (False, 0, False), (0.0, False, False),
    (True, True, True), ("a", "a", True), ("1", 1, False), ("true", True, False),
    (D, utc(2026, 12, 1), False), (T, T.astimezone(PARIS), True), (NY_FIRST, NY_SECOND, False),
    (H, dt.timedelta(minutes=60), True), (H, 3600, False),
    ([1, "a"], [1.0, "a"], True), ([1], [True], False), ([1], [1, 2], False), ([None], [None], True),
    ({"a": 1}, {"a": 1.0}, True), ({"a": 1}, {"b": 1}, False), ({"a": [T]}, {"a": [T.astimezone(PARIS)]}, True),
])
def test_eq_and_ne(a: Any, b: Any, expected: bool) -> None:
    assert rt.eq(a, b) is expected
    assert rt.ne(a, b) is (not expected)


@pytest.mark.parametrize(("op", "a", "b", "expected"), [
    (rt.lt, 1, 2.5, True), (rt.lt, 2.5, 1, False), (rt.le, 2, 2.0, True), (rt.ge, 2.0, 2, True), (rt.gt, 3, 2, True),
    (rt.gt, None, 1, False), (rt.lt, None, 1, False), (rt.lt, 1, None, False), (rt.le, None, None, False),
    (rt.ge, None, None, False), (rt.lt, "a", "b", True), (rt.gt, "b", "a", True), (rt.le, "a", "a", True),
    (rt.lt, D, D + P1D, True), (rt.lt, D, T, False), (rt.gt, D, T, False), (rt.ge, T, D, False),
    (rt.lt, T, T + H, True), (rt.ge, H, H, True), (rt.lt, H, P1D, True),
    (rt.lt, utc(2026, 12, 1, 8), T.astimezone(PARIS), True),
    (rt.lt, NY_FIRST, NY_SECOND, True), (rt.gt, NY_SECOND, NY_FIRST, True),
    (rt.lt, False, True, False), (rt.gt, True, False, False), (rt.le, True, True, False),
    (rt.lt, "1", 2, False), (rt.gt, "1", 0, False), (rt.lt, 1, H, False), (rt.gt, [2], [1], False),
    (rt.le, {"a": 1}, {"a": 1}, False),
])
def test_ordering(op: Any, a: Any, b: Any, expected: bool) -> None:
    assert op(a, b) is expected


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), (None, False), (1, False), ("true", False), ([True], False),
])
def test_truthy_only_true(value: Any, expected: bool) -> None:
    assert rt.truthy(value) is expected


def test_contains_compares_with_eq() -> None:
    assert rt.contains([1, 2], 2.0) is True
    assert rt.contains([None], None) is True
    assert rt.contains([True], 1) is False
    assert rt.contains(["a"], None) is False
    assert rt.contains([], 1) is False
    assert rt.contains(None, 1) is False
    assert rt.contains(None, None) is False
    with pytest.raises(EvalError, match="`in` needs a list on its right, not string"):
        rt.contains("abc", "a")


@pytest.mark.parametrize(("a", "b", "expected"), [
    (1, 2, 3), (1, 2.5, 3.5), (0.5, 0.25, 0.75), ("a", "b", "ab"), ("a", 1, "a1"), (1, "a", "1a"), ("x", 3.0, "x3"),
    ("x", 2.5, "x2.5"), ("x", True, "xtrue"), ("at ", T, "at 2026-12-01T09:00:00Z"), ("d", 1.5 * H, "dPT1H30M"),
    ("", D, "2026-12-01"), ("l", [1, "a"], 'l[1, "a"]'), ("a", None, None), (None, "a", None), (None, 1, None),
    (None, None, None), (T, P1D, utc(2026, 12, 2, 9)), (P1D, T, utc(2026, 12, 2, 9)),
    (D, 2 * P1D, dt.date(2026, 12, 3)),
    (P1D, D, dt.date(2026, 12, 2)), (H, H, 2 * H),
])
def test_add(a: Any, b: Any, expected: Any) -> None:
    result = rt.add(a, b)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("a", "b", "message"), [
    (D, H, "a date moves by whole days only, not PT1H"),
    (True, 1, "cannot apply `+` to boolean and integer"),
    ([1], [2], "cannot apply `+` to list and list"),
    (T, T, "cannot apply `+` to datetime and datetime"),
])
def test_add_errors(a: Any, b: Any, message: str) -> None:
    with pytest.raises(EvalError) as caught:
        rt.add(a, b)
    assert str(caught.value) == message


@pytest.mark.parametrize(("start", "zone", "end", "wall_hour"), [
    (utc(2026, 10, 24, 10), PARIS, utc(2026, 10, 25, 10), 11),  # 12:00 CEST + P1D = 11:00 CET
    (utc(2026, 10, 31, 16), NEW_YORK, utc(2026, 11, 1, 16), 11),  # 12:00 EDT + P1D = 11:00 EST
    (utc(2026, 3, 28, 11), PARIS, utc(2026, 3, 29, 11), 13),  # 12:00 CET + P1D = 13:00 CEST
    (utc(2026, 3, 7, 17), NEW_YORK, utc(2026, 3, 8, 17), 13),  # 12:00 EST + P1D = 13:00 EDT
])
def test_exact_day_across_dst_moves_wall_time(start: dt.datetime, zone: ZoneInfo, end: dt.datetime,
                                              wall_hour: int) -> None:
    result = rt.add(start.astimezone(zone), P1D)
    assert rt.eq(result, end)
    assert result.tzinfo is zone
    assert (result.hour, result.minute) == (wall_hour, 0)
    assert rt.sub(result, P1D).astimezone(zone).hour == 12


@pytest.mark.parametrize(("a", "b", "expected"), [
    (5, 7, -2), (5.5, 1, 4.5), (T, H, utc(2026, 12, 1, 8)), (T, utc(2026, 12, 1, 8), H), (utc(2026, 12, 1, 8), T, -H),
    (D, dt.date(2026, 11, 28), 3 * P1D), (D, P1D, dt.date(2026, 11, 30)), (H, H, dt.timedelta(0)),
    (NY_SECOND, NY_FIRST, H), (None, H, None), (T, None, None),
])
def test_sub(a: Any, b: Any, expected: Any) -> None:
    result = rt.sub(a, b)
    assert result == expected
    assert type(result) is type(expected)


def test_sub_errors() -> None:
    with pytest.raises(EvalError, match="cannot apply `-` to datetime and date"):
        rt.sub(T, D)
    with pytest.raises(EvalError, match="cannot apply `-` to string and string"):
        rt.sub("a", "b")


@pytest.mark.parametrize(("op", "a", "b", "expected"), [
    (rt.mul, 3, 4, 12), (rt.mul, 3, 0.5, 1.5), (rt.mul, None, 2, None), (rt.mul, 2, None, None),
    (rt.div, 7, 2, 3.5), (rt.div, 6, 3, 2.0), (rt.div, 0, 5, 0.0), (rt.div, 1, 0, None), (rt.div, 1.5, 0.0, None),
    (rt.div, -1, 0, None), (rt.div, None, 0, None), (rt.div, 1, None, None),
    (rt.mod, 7, 3, 1), (rt.mod, -7, 3, -1), (rt.mod, 7, -3, 1), (rt.mod, -7, -3, -1), (rt.mod, 6, 3, 0),
    (rt.mod, 7.5, 2, 1.5), (rt.mod, -7.5, 2, -1.5), (rt.mod, 7, 0, None), (rt.mod, 7.5, 0.0, None),
    (rt.mod, None, 3, None), (rt.mod, 3, None, None),
])
def test_mul_div_mod(op: Any, a: Any, b: Any, expected: Any) -> None:
    result = op(a, b)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("op", "symbol"), [(rt.mul, "*"), (rt.div, "/"), (rt.mod, "%")])
def test_arithmetic_on_non_numbers_fails(op: Any, symbol: str) -> None:
    with pytest.raises(EvalError) as caught:
        op("a", 2)
    assert str(caught.value) == f"cannot apply `{symbol}` to string and integer"


def test_neg() -> None:
    assert rt.neg(3) == -3
    assert rt.neg(2.5) == -2.5
    assert rt.neg(H) == -H
    assert rt.neg(None) is None
    with pytest.raises(EvalError, match="cannot negate string"):
        rt.neg("a")


@pytest.mark.parametrize(("value", "expected"), [
    (None, ""), ("text", "text"), (True, "true"), (False, "false"), (42, "42"), (-7, "-7"),
    (3.0, "3"), (-0.0, "0"), (2.5, "2.5"), (0.1 + 0.2, "0.30000000000000004"), (1e20, "1e+20"),
    (float("nan"), "NaN"), (float("inf"), "Infinity"),
    (T, "2026-12-01T09:00:00Z"), (T.astimezone(PARIS), "2026-12-01T09:00:00Z"),
    (utc(2026, 12, 1, 9, 0, 0, 500000), "2026-12-01T09:00:00.500Z"),
    (utc(2026, 12, 1, 9, 0, 0, 123456), "2026-12-01T09:00:00.123456Z"),
    (D, "2026-12-01"), (1.5 * H, "PT1H30M"), (3 * P1D, "P3D"), (dt.timedelta(seconds=0.5), "PT0.5S"),
    (dt.timedelta(0), "PT0S"), (P1D + 2 * H + dt.timedelta(seconds=5), "P1DT2H5S"), (-H, "-PT1H"),
    (dt.timedelta(microseconds=1), "PT0.000001S"),
    ([1, "a"], '[1, "a"]'), ([None, True, 2.0, [D]], '[null, true, 2, ["2026-12-01"]]'),
    ([T, H, 'say "hi"'], '["2026-12-01T09:00:00Z", "PT1H", "say \\"hi\\""]'), ([], "[]"),
    ({"a": 1, "b": [None]}, '{"a": 1, "b": [null]}'),
])
def test_to_string(value: Any, expected: str) -> None:
    assert rt.to_string(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (None, "null"), (True, "boolean"), (1, "integer"), (1.0, "decimal"), ("", "string"), (T, "datetime"),
    (D, "date"), (H, "duration"), ([], "list"), ({}, "object"),
])
def test_type_name(value: Any, expected: str) -> None:
    assert rt.type_name(value) == expected


def test_parse_date() -> None:
    assert rt.parse_date("2026-12-01") == D
    for bad in ("2026-02-30", "20261201", "2026-W48-2", "", "2026-12-01T00:00:00Z", 5):
        with pytest.raises(EvalError) as caught:
            rt.parse_date(bad)
        assert str(caught.value) == f"`{bad}` is not a date like 2026-12-01"


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2026-12-01T09:00:00Z", PARIS, T), ("2026-12-01T10:00:00+01:00", NEW_YORK, T),
    ("2026-12-01T10:00:00", PARIS, T), ("2026-12-01T04:00:00", NEW_YORK, T), ("2026-12-01T10:00", PARIS, T),
    ("2026-12-01T09:00:00.250Z", PARIS, utc(2026, 12, 1, 9, 0, 0, 250000)),
    ("2026-03-29T02:30:00", PARIS, utc(2026, 3, 29, 1)),  # gap: the first instant after it, 03:00 CEST
    ("2026-10-25T02:30:00", PARIS, utc(2026, 10, 25, 0, 30)),  # overlap: the earlier instant, CEST
    ("2026-03-08T02:30:00", NEW_YORK, utc(2026, 3, 8, 7)),  # gap: 03:00 EDT
    ("2026-11-01T01:30:00", NEW_YORK, utc(2026, 11, 1, 5, 30)),  # overlap: 01:30 EDT
    ("2026-10-04T02:15:00", ZoneInfo("Australia/Lord_Howe"), utc(2026, 10, 3, 15, 30)),  # a 30-minute gap
    ("2026-09-06T00:00:00", ZoneInfo("America/Santiago"), utc(2026, 9, 6, 4)),  # midnight missing: 01:00
])
def test_parse_datetime(text: str, zone: ZoneInfo, expected: dt.datetime) -> None:
    result = rt.parse_datetime(text, zone)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize("text", ["nope", "2026-12-01", "2026-13-01T00:00:00Z", "2026-12-01T25:00:00Z", ""])
def test_parse_datetime_rejects(text: str) -> None:
    with pytest.raises(EvalError) as caught:
        rt.parse_datetime(text, PARIS)
    assert str(caught.value) == f"`{text}` is not a date-time like 2026-12-01T09:00:00Z"


def test_parse_duration() -> None:
    assert rt.parse_duration("PT1H30M") == 1.5 * H
    assert rt.parse_duration("P1W") == 7 * P1D
    assert rt.parse_duration("PT0.5S") == dt.timedelta(seconds=0.5)
    for bad in ("P1M", "P1Y", "", "3 days", "PT"):
        with pytest.raises(EvalError) as caught:
            rt.parse_duration(bad)
        assert str(caught.value) == (f"`{bad}` is not an exact ISO 8601 duration like PT1H30M or P3D "
                                     "(days, hours, minutes, seconds; no years or months)")


def test_context_defaults() -> None:
    ctx = rt.EvalContext(now=T, zone=PARIS)
    assert ctx.in_audience("vip") is False
    assert ctx.journey == {}
    assert ctx.actions == {}
    assert rt.EvalContext(now=T, zone=PARIS).journey is not ctx.journey
