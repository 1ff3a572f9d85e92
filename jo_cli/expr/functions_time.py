"""Time functions of §8: `now`, `nowWithDelta`, `inLast*`/`inNext*`, `dayOfWeek`, `setHours`, `setDays`,
`updateTimeZone`, and `inAudience`.

Days, hours, minutes and seconds are exact (a day is 24 hours, as durations
are); months and years are calendar steps in the zone, the day clamped to
the month's end (31 March - 1 month = 28 February), the wall time kept.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli import schedule
from jo_cli.expr.functions_base import Function, fn, sig, want_int, want_str, zone_problem
from jo_cli.expr.runtime import (
    UTC,
    EvalContext,
    EvalError,
    from_local,
    instant,
    le,
    resolve_local,
    shift,
    to_local,
    to_string,
    type_name,
)
from jo_cli.expr.types import BOOLEAN, DATE, DATETIME, INTEGER, STRING
from jo_cli.suggest import did_you_mean

UNITS = ("years", "months", "days", "hours", "minutes", "seconds")
_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def load_zone(name: Any) -> ZoneInfo:
    zone = schedule.load_zone(name) if isinstance(name, str) else None
    if zone is None:
        raise EvalError(zone_problem(name) if isinstance(name, str) else f"a time zone is a string, not {name!r}")
    return zone


def unit_problem(text: str) -> str | None:
    if text in UNITS:
        return None
    return f"unknown unit `{text}`{did_you_mean(text, UNITS)} (units: {', '.join(UNITS)})"


def add_months(value: dt.datetime, months: int, zone: ZoneInfo) -> dt.datetime:
    """`value` moved by calendar months in `zone`, wall time kept, day clamped to the month's end."""
    local = instant(value).astimezone(zone)
    years, month_index = divmod(local.month - 1 + months, 12)
    year = local.year + years
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise EvalError(f"{to_string(value)} moved by {months} months is out of range")
    day = min(local.day, calendar.monthrange(year, month_index + 1)[1])
    naive = local.replace(tzinfo=None, fold=0, year=year, month=month_index + 1, day=day)
    return resolve_local(naive, zone)


def move(value: dt.datetime, amount: int, unit: str, zone: ZoneInfo) -> dt.datetime:
    """`value` moved by `amount` units: calendar months and years in `zone`, exact days and below."""
    if unit in ("years", "months"):
        return add_months(value, amount * (12 if unit == "years" else 1), zone)
    if unit not in _SECONDS:
        raise EvalError(unit_problem(unit) or unit)
    try:
        delta = dt.timedelta(seconds=amount * _SECONDS[unit])
    except OverflowError as exc:
        raise EvalError(f"{amount} {unit} is out of range") from exc
    return shift(value, delta)


def _datetime(value: Any, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise EvalError(f"{what} needs a datetime, not {type_name(value)}")
    return value


def _now(ctx: EvalContext, zone: str | None = None) -> dt.datetime:
    now = instant(ctx.now)
    return now if zone is None else now.astimezone(load_zone(zone))


def _now_with_delta(ctx: EvalContext, amount: Any, unit: Any, zone: str | None = None) -> dt.datetime:
    amount = want_int(amount, "nowWithDelta's amount")
    in_zone = ctx.zone if zone is None else load_zone(zone)
    moved = move(instant(ctx.now), amount, want_str(unit, "nowWithDelta's unit"), in_zone)
    return moved.astimezone(UTC if zone is None else in_zone)


def _window(unit: str, past: bool) -> Function:
    name = f"in{'Last' if past else 'Next'}{unit.capitalize()}"

    def impl(ctx: EvalContext, value: Any, amount: Any) -> bool:
        value = _datetime(value, name)
        now = instant(ctx.now)
        other = move(now, -want_int(amount, name) if past else want_int(amount, name), unit, ctx.zone)
        start, end = (other, now) if past else (now, other)
        return le(start, value) and le(value, end)

    return fn(name, impl, sig(DATETIME, INTEGER, returns=BOOLEAN), context=True,
              doc=f"{name}(dt, n): whether dt is within the {'last' if past else 'next'} n {unit} "
                  "from now (bounds included)")


def _day_of_week(ctx: EvalContext, value: Any) -> int:
    if isinstance(value, dt.datetime):
        return to_local(value, ctx).isoweekday()
    if isinstance(value, dt.date):
        return value.isoweekday()
    raise EvalError(f"dayOfWeek needs a date or a datetime, not {type_name(value)}")


def _set_hours(ctx: EvalContext, value: Any, hours: Any) -> dt.datetime:
    value = _datetime(value, "setHours")
    hours = want_int(hours, "setHours' hour")
    if not 0 <= hours <= 23:
        raise EvalError(f"setHours takes an hour from 0 to 23, not {hours}")
    naive = to_local(value, ctx).replace(tzinfo=None, fold=0, hour=hours)
    return from_local(naive, value, ctx)


def _set_days(ctx: EvalContext, value: Any, day: Any) -> dt.date:
    day = want_int(day, "setDays' day")
    if not isinstance(value, dt.date):
        raise EvalError(f"setDays needs a date or a datetime, not {type_name(value)}")
    local = to_local(value, ctx) if isinstance(value, dt.datetime) else value
    try:
        moved = local.replace(day=day)
    except ValueError as exc:
        raise EvalError(f"day {day} does not exist in {local:%B %Y}") from exc
    if isinstance(value, dt.datetime):
        assert isinstance(moved, dt.datetime)
        return from_local(moved.replace(tzinfo=None, fold=0), value, ctx)
    return moved


def _update_time_zone(value: Any, zone: Any) -> dt.datetime:
    return instant(_datetime(value, "updateTimeZone")).astimezone(load_zone(zone))


def _in_audience(ctx: EvalContext, name: Any) -> bool:
    return bool(ctx.in_audience(want_str(name, "inAudience's name")))


def _check_now(position: int, text: str) -> str | None:
    return zone_problem(text)


def _check_now_with_delta(position: int, text: str) -> str | None:
    return unit_problem(text) if position == 1 else zone_problem(text)


def _check_update_time_zone(position: int, text: str) -> str | None:
    return zone_problem(text) if position == 1 else None


TIME_FUNCTIONS: tuple[Function, ...] = (
    fn("inAudience", _in_audience, sig(STRING, returns=BOOLEAN), context=True, constants=(0,),
       doc="inAudience(name): whether the profile belongs to the audience `name` (a string constant)"),
    fn("now", _now, sig(returns=DATETIME), sig(STRING, returns=DATETIME), context=True, constants=(0,),
       check_constant=_check_now, doc="now(): the instance's logical time; now(tz) carries the zone tz"),
    fn("nowWithDelta", _now_with_delta, sig(INTEGER, STRING, returns=DATETIME),
       sig(INTEGER, STRING, STRING, returns=DATETIME), context=True, constants=(1, 2),
       check_constant=_check_now_with_delta,
       doc="nowWithDelta(n, unit[, tz]): now moved by n years|months|days|hours|minutes|seconds"),
    *(_window(unit, past) for past in (True, False) for unit in ("days", "hours", "months", "years")),
    fn("dayOfWeek", _day_of_week, sig(DATETIME, returns=INTEGER), sig(DATE, returns=INTEGER), context=True,
       doc="dayOfWeek(dt): 1 (Monday) to 7 (Sunday), in the profile's or journey's zone"),
    fn("setHours", _set_hours, sig(DATETIME, INTEGER, returns=DATETIME), context=True,
       doc="setHours(dt, h): dt with the local hour set to h (a DST gap moves to the next valid instant)"),
    fn("setDays", _set_days, sig(DATETIME, INTEGER, returns=DATETIME), sig(DATE, INTEGER, returns=DATE),
       context=True, doc="setDays(dt, d): dt with the local day of the month set to d"),
    fn("updateTimeZone", _update_time_zone, sig(DATETIME, STRING, returns=DATETIME), constants=(1,),
       check_constant=_check_update_time_zone,
       doc="updateTimeZone(dt, tz): the same instant, read in zone tz by later local functions"),
)
