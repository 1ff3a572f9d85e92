"""Time functions of §8 in a zone: DST days in Paris (2026-03-29, 2026-10-25) and New York (2026-03-08,
2026-11-01), midnight and the date line, month ends, and the bounds of inLast*/inNext*."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jo_cli.expr.functions import FUNCTIONS
from jo_cli.expr.runtime import EvalContext, EvalError

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
SECOND = dt.timedelta(seconds=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        microsecond: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


T = utc(2026, 12, 1, 9)


def call(name: str, *args: Any, now: dt.datetime = T, zone: ZoneInfo = PARIS, audiences: tuple[str, ...] = ()) -> Any:
    ctx = EvalContext(now=now, zone=zone, in_audience=lambda audience: audience in audiences)
    function = FUNCTIONS[name]
    return function.impl(ctx, *args) if function.context else function.impl(*args)


def test_now_is_the_logical_time_in_utc() -> None:
    result = call("now", now=T.astimezone(PARIS))
    assert result == T
    assert result.tzinfo is UTC
    tokyo = call("now", "Asia/Tokyo")
    assert tokyo == T
    assert (tokyo.tzinfo, tokyo.hour) == (TOKYO, 18)


def test_in_audience_asks_the_context() -> None:
    assert call("inAudience", "vip", audiences=("vip",)) is True
    assert call("inAudience", "gold", audiences=("vip",)) is False


@pytest.mark.parametrize(("now", "amount", "unit", "expected"), [
    (T, 1, "days", utc(2026, 12, 2, 9)), (T, -2, "hours", utc(2026, 12, 1, 7)),
    (T, 90, "minutes", utc(2026, 12, 1, 10, 30)),
    (T, 30, "seconds", utc(2026, 12, 1, 9, 0, 30)), (T, 0, "months", T),
    (utc(2026, 1, 31, 12), 1, "months", utc(2026, 2, 28, 12)),  # clamped to the month's end
    (utc(2028, 1, 31, 12), 1, "months", utc(2028, 2, 29, 12)),  # leap year
    (utc(2026, 1, 31, 12), -13, "months", utc(2024, 12, 31, 12)),
    (utc(2026, 3, 31, 10), -1, "months", utc(2026, 2, 28, 11)),  # 12:00 CEST -> 12:00 CET: wall time kept
    (utc(2026, 3, 15, 12), 1, "months", utc(2026, 4, 15, 11)),  # 13:00 CET -> 13:00 CEST
    (utc(2026, 1, 31, 23, 30), 1, "months", utc(2026, 2, 28, 23, 30)),  # 1 Feb 00:30 in Paris -> 1 March 00:30
    (utc(2028, 2, 29, 12), 1, "years", utc(2029, 2, 28, 12)), (utc(2028, 2, 29, 12), -4, "years", utc(2024, 2, 29, 12)),
    (utc(2026, 3, 28, 11), 1, "days", utc(2026, 3, 29, 11)),  # days are exact: 12:00 CET -> 13:00 CEST
])
def test_now_with_delta(now: dt.datetime, amount: int, unit: str, expected: dt.datetime) -> None:
    result = call("nowWithDelta", amount, unit, now=now)
    assert result == expected
    assert result.tzinfo is UTC


def test_now_with_delta_in_a_zone() -> None:
    now = utc(2026, 1, 31, 3)  # 31 January 04:00 in Paris, but 30 January 22:00 in New York
    assert call("nowWithDelta", 1, "months", now=now) == utc(2026, 2, 28, 3)  # 28 February 04:00 CET
    result = call("nowWithDelta", 1, "months", "America/New_York", now=now)
    assert result == utc(2026, 3, 1, 3)  # 28 February 22:00 EST
    assert result.tzinfo is NEW_YORK
    with pytest.raises(EvalError) as caught:
        call("nowWithDelta", 1, "fortnights")
    assert str(caught.value) == "unknown unit `fortnights` (units: years, months, days, hours, minutes, seconds)"
    with pytest.raises(EvalError, match="out of range"):
        call("nowWithDelta", 10**9, "years")


@pytest.mark.parametrize(("name", "value", "amount", "expected"), [
    ("inLastDays", T - 3 * dt.timedelta(days=1), 3, True), ("inLastDays", T - dt.timedelta(days=3) - SECOND, 3, False),
    ("inLastDays", T, 3, True), ("inLastDays", T + SECOND, 3, False),
    ("inLastDays", T - dt.timedelta(days=1), 0, False),
    ("inNextDays", T + dt.timedelta(days=3), 3, True), ("inNextDays", T + dt.timedelta(days=3) + SECOND, 3, False),
    ("inNextDays", T, 3, True), ("inNextDays", T - SECOND, 3, False),
    ("inLastHours", T - dt.timedelta(hours=24), 24, True),
    ("inLastHours", T - dt.timedelta(hours=24) - SECOND, 24, False),
    ("inNextHours", T + dt.timedelta(hours=2), 2, True),
    ("inNextHours", T + dt.timedelta(hours=2, seconds=1), 2, False), ("inLastDays", T.astimezone(TOKYO), 1, True),
    ("inLastYears", utc(2025, 12, 1, 9), 1, True), ("inLastYears", utc(2025, 12, 1, 8, 59, 59), 1, False),
    ("inNextYears", utc(2027, 12, 1, 9), 1, True), ("inNextYears", utc(2027, 12, 1, 9, 0, 1), 1, False),
    ("inLastDays", T - dt.timedelta(days=1), -1, False), ("inNextMonths", T + dt.timedelta(days=31), 1, True),
    ("inNextMonths", T + dt.timedelta(days=31) + SECOND, 1, False),
])
def test_windows_include_their_bounds(name: str, value: dt.datetime, amount: int, expected: bool) -> None:
    assert call(name, value, amount) is expected


def test_month_windows_are_calendar_months_in_the_zone() -> None:
    now = utc(2026, 3, 31, 10)  # 12:00 CEST; a month before is 28 February 12:00 CET (11:00Z)
    assert call("inLastMonths", utc(2026, 2, 28, 11), 1, now=now) is True
    assert call("inLastMonths", utc(2026, 2, 28, 10, 59, 59), 1, now=now) is False
    now = utc(2026, 1, 31, 12)  # 13:00 CET; a month later is 28 February 13:00 CET
    assert call("inNextMonths", utc(2026, 2, 28, 12), 1, now=now) is True
    assert call("inNextMonths", utc(2026, 2, 28, 12, 0, 1), 1, now=now) is False
    # Across New York's fall-back: 1 October 12:00 EDT (16:00Z) + 1 month = 1 November 12:00 EST (17:00Z).
    now = utc(2026, 10, 1, 16)
    assert call("inNextMonths", utc(2026, 11, 1, 17), 1, now=now, zone=NEW_YORK) is True
    assert call("inNextMonths", utc(2026, 11, 1, 17, 0, 1), 1, now=now, zone=NEW_YORK) is False


@pytest.mark.parametrize(("value", "zone", "expected"), [
    (utc(2026, 11, 30, 23, 30), PARIS, 2), (utc(2026, 11, 30, 23, 30), NEW_YORK, 1),  # Tue 00:30 / Mon 18:30
    (utc(2026, 12, 1, 4, 59, 59), NEW_YORK, 1), (utc(2026, 12, 1, 5), NEW_YORK, 2),  # midnight EST is 05:00Z
    (utc(2026, 11, 30, 22, 59, 59), PARIS, 1), (utc(2026, 11, 30, 23), PARIS, 2),  # midnight CET is 23:00Z
    (utc(2026, 3, 28, 23), PARIS, 7), (utc(2026, 3, 29, 22), PARIS, 1),  # the 23-hour Sunday 29 March
    (dt.date(2026, 12, 6), PARIS, 7), (dt.date(2026, 12, 7), NEW_YORK, 1),
    (utc(2026, 11, 30, 23, 30).astimezone(PARIS), NEW_YORK, 2),  # a value's own zone wins (updateTimeZone)
])
def test_day_of_week(value: Any, zone: ZoneInfo, expected: int) -> None:
    assert call("dayOfWeek", value, zone=zone) == expected


@pytest.mark.parametrize(("value", "hour", "zone", "expected"), [
    (T, 18, PARIS, utc(2026, 12, 1, 17)), (utc(2026, 12, 1, 9, 15, 30), 8, PARIS, utc(2026, 12, 1, 7, 15, 30)),
    (utc(2026, 12, 1, 3), 23, NEW_YORK, utc(2026, 12, 1, 4)),  # 30 Nov 22:00 EST -> 30 Nov 23:00 EST
    (utc(2026, 3, 29, 0, 15), 2, PARIS, utc(2026, 3, 29, 1)),  # 02:15 does not exist: 03:00 CEST
    (utc(2026, 3, 29, 10), 2, PARIS, utc(2026, 3, 29, 1)),
    (utc(2026, 10, 24, 22, 30), 2, PARIS, utc(2026, 10, 25, 0, 30)),  # 02:30 twice: the first, CEST
    (utc(2026, 10, 25, 11), 2, PARIS, utc(2026, 10, 25, 0)),  # from 12:00 CET: 02:00 CEST
    (utc(2026, 3, 8, 12), 2, NEW_YORK, utc(2026, 3, 8, 7)),  # 02:00 does not exist: 03:00 EDT
    (utc(2026, 11, 1, 12, 45), 1, NEW_YORK, utc(2026, 11, 1, 5, 45)),  # 01:45 twice: the first, EDT
    (utc(2026, 11, 1, 12, 45), 3, NEW_YORK, utc(2026, 11, 1, 8, 45)),
])
def test_set_hours(value: dt.datetime, hour: int, zone: ZoneInfo, expected: dt.datetime) -> None:
    result = call("setHours", value, hour, zone=zone)
    assert result == expected
    assert result.tzinfo is UTC


def test_set_hours_in_the_values_own_zone_and_bad_hours() -> None:
    result = call("setHours", T.astimezone(TOKYO), 9)  # 18:00 JST -> 09:00 JST, whatever the context's zone
    assert result == utc(2026, 12, 1, 0)
    assert result.tzinfo is TOKYO
    for hour in (24, -1):
        with pytest.raises(EvalError) as caught:
            call("setHours", T, hour)
        assert str(caught.value) == f"setHours takes an hour from 0 to 23, not {hour}"


@pytest.mark.parametrize(("value", "day", "expected"), [
    (T, 15, utc(2026, 12, 15, 9)), (T, 31, utc(2026, 12, 31, 9)),
    (utc(2026, 3, 15, 11), 29, utc(2026, 3, 29, 10)),  # 12:00 CET -> 12:00 CEST
    (utc(2026, 3, 1, 1, 30), 29, utc(2026, 3, 29, 1)),  # 02:30 on the 29th does not exist: 03:00 CEST
    (utc(2026, 11, 30, 23, 30), 31, utc(2026, 12, 30, 23, 30)),  # local 1 December 00:30 -> 31 December 00:30
    (dt.date(2026, 2, 10), 28, dt.date(2026, 2, 28)),
])
def test_set_days(value: Any, day: int, expected: Any) -> None:
    assert call("setDays", value, day) == expected


@pytest.mark.parametrize(("value", "day", "message"), [
    (dt.date(2026, 2, 10), 30, "day 30 does not exist in February 2026"),
    (utc(2026, 11, 10), 31, "day 31 does not exist in November 2026"), (T, 0, "day 0 does not exist in December 2026"),
])
def test_set_days_to_a_missing_day_fails(value: Any, day: int, message: str) -> None:
    with pytest.raises(EvalError) as caught:
        call("setDays", value, day)
    assert str(caught.value) == message


def test_update_time_zone_keeps_the_instant() -> None:
    result = call("updateTimeZone", T, "America/New_York")
    assert result == T
    assert (result.tzinfo, result.hour) == (NEW_YORK, 4)
    with pytest.raises(EvalError) as caught:
        call("updateTimeZone", T, "Mars/Olympus")
    assert str(caught.value) == "`Mars/Olympus` is not an IANA time zone (a name like `Europe/Paris` or `UTC`)"


@pytest.mark.parametrize(("value", "zone", "expected"), [
    (utc(2026, 12, 1, 10, 30), "Pacific/Kiritimati", dt.date(2026, 12, 2)),  # UTC+14: 00:30 the next day
    (utc(2026, 12, 1, 10, 30), "Pacific/Pago_Pago", dt.date(2026, 11, 30)),  # UTC-11: 23:30 the day before
    (utc(2026, 12, 1, 10, 30), "UTC", dt.date(2026, 12, 1)),
    (utc(2011, 12, 30, 9, 59), "Pacific/Apia", dt.date(2011, 12, 29)),  # Samoa crossed the date line:
    (utc(2011, 12, 30, 10), "Pacific/Apia", dt.date(2011, 12, 31)),  # 30 December 2011 never happened there
    (utc(2026, 11, 30, 23), "Europe/Paris", dt.date(2026, 12, 1)),
    (dt.date(2026, 12, 1), "Asia/Tokyo", dt.date(2026, 12, 1)),
    ("2026-12-01", "Europe/Paris", dt.date(2026, 12, 1)),
    ("2026-11-30T23:30:00Z", "Europe/Paris", dt.date(2026, 12, 1)),
    ("2026-12-01T23:30:00", "Asia/Tokyo", dt.date(2026, 12, 1)),
])
def test_to_date_only(value: Any, zone: str, expected: dt.date) -> None:
    assert call("toDateOnly", value, zone=ZoneInfo(zone)) == expected


@pytest.mark.parametrize(("value", "zone", "expected"), [
    ("2026-12-01T09:00:00Z", PARIS, T), ("2026-12-01T10:00:00", PARIS, T), ("2026-12-01T04:00:00", NEW_YORK, T),
    ("2026-03-29T02:30:00", PARIS, utc(2026, 3, 29, 1)), (0, PARIS, utc(1970, 1, 1)), (1796115600000, PARIS, T),
    (-1000, PARIS, utc(1969, 12, 31, 23, 59, 59)), (dt.date(2026, 12, 1), PARIS, utc(2026, 11, 30, 23)),
    (dt.date(2026, 3, 29), PARIS, utc(2026, 3, 28, 23)), (dt.date(2026, 9, 6), ZoneInfo("America/Santiago"),
                                                          utc(2026, 9, 6, 4)),  # midnight is missing: 01:00
    (T, NEW_YORK, T),
])
def test_to_datetime(value: Any, zone: ZoneInfo, expected: dt.datetime) -> None:
    assert call("toDateTime", value, zone=zone) == expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("toDateTime", "nope", "`nope` is not a date-time like 2026-12-01T09:00:00Z"),
    ("toDateTime", True, "toDateTime cannot convert boolean"), ("toDateTime", 10**20, "out of range"),
    ("toDateOnly", "2026-02-30", "`2026-02-30` is not a date like 2026-12-01"),
    ("toDateOnly", "soon", "`soon` is not a date-time like 2026-12-01T09:00:00Z"),
    ("toDateOnly", 5, "toDateOnly cannot convert integer"),
])
def test_time_conversion_failures(name: str, value: Any, message: str) -> None:
    with pytest.raises(EvalError) as caught:
        call(name, value)
    assert message in str(caught.value)
