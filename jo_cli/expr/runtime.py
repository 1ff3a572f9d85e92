"""Run-time values and operators of the expression language (SPEC §8), called by compiled expressions.

Values: string `str`, integer `int`, decimal `float`, boolean `bool`, date
`datetime.date`, datetime an aware `datetime.datetime`, duration
`datetime.timedelta`, list `list`, object `dict`, null `None`.

Datetimes are instants: they compare, subtract and print in UTC, and
datetime ± duration is exact (P1D is 24 hours, whatever the wall clock
does). A datetime whose tzinfo is a `ZoneInfo` carries that zone (from
`updateTimeZone`); local operations (`setHours`, `toDateOnly`, ...) then use
it instead of the context's zone. `parse_datetime` and `now()` return UTC.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli import durations, schedule

UTC = dt.UTC
_DAY = dt.timedelta(days=1)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_ORDERED = frozenset({"string", "date", "datetime", "duration"})
# Types whose Python == and < are §8's (not datetime: Python ignores fold within one zone; not bool for <).
_FAST_EQ = frozenset({str, int, float, bool, dt.date, dt.timedelta})
_FAST_ORDER = frozenset({str, int, float, dt.date, dt.timedelta})


class EvalError(Exception):
    """Evaluation cannot go on (a failed conversion, an invalid run-time regex): the run routes to on_error."""


def _never_in_audience(name: str) -> bool:
    return False


@dataclass
class EvalContext:
    """What an evaluation may read besides its operands: the logical time, the zone, audiences, the journey."""

    now: dt.datetime
    zone: ZoneInfo
    in_audience: Callable[[str], bool] = _never_in_audience
    journey: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)


def type_name(value: object) -> str:
    """The §8 type of a run-time value (`boolean` before `integer`: Python's bool is an int)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.timedelta):
        return "duration"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def instant(value: dt.datetime) -> dt.datetime:
    """`value` in UTC. Python compares two datetimes of one zone by wall time (ignoring fold): never rely on it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- comparison -------------------------------------------------------------------------------


def eq(a: Any, b: Any) -> bool:
    """`a == b`: null equals only null, 1 equals 1.0, values of different types are unequal."""
    kind = type(a)
    if kind is type(b) and kind in _FAST_EQ:
        return bool(a == b)
    if a is None or b is None:
        return a is None and b is None
    kind_a, kind_b = type_name(a), type_name(b)
    if is_number(a) and is_number(b):
        return bool(a == b)
    if kind_a != kind_b:
        return False
    if kind_a == "datetime":
        return instant(a) == instant(b)
    if kind_a == "list":
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
    if kind_a == "object":
        return a.keys() == b.keys() and all(eq(a[key], b[key]) for key in a)
    return bool(a == b)


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1; None when the values are not comparable (null, different types, booleans, lists)."""
    if type(a) is type(b) and type(a) in _FAST_ORDER:
        return int(a > b) - int(a < b)
    if a is None or b is None:
        return None
    if not (is_number(a) and is_number(b)):
        kind = type_name(a)
        if kind != type_name(b) or kind not in _ORDERED:
            return None
        if kind == "datetime":
            a, b = instant(a), instant(b)
    return int(a > b) - int(a < b)


def lt(a: Any, b: Any) -> bool:
    order = compare(a, b)
    return order is not None and order < 0


def le(a: Any, b: Any) -> bool:
    order = compare(a, b)
    return order is not None and order <= 0


def gt(a: Any, b: Any) -> bool:
    order = compare(a, b)
    return order is not None and order > 0


def ge(a: Any, b: Any) -> bool:
    order = compare(a, b)
    return order is not None and order >= 0


def truthy(value: Any) -> bool:
    """Only `true` is true: null (and any non-boolean) reads as false in and/or/not and conditions."""
    return value is True


def contains(container: Any, item: Any) -> bool:
    """`item in container`, comparing with `==`; a null container contains nothing."""
    if container is None:
        return False
    if not isinstance(container, list | tuple):
        raise EvalError(f"`in` needs a list on its right, not {type_name(container)}")
    return any(eq(element, item) for element in container)


# --- arithmetic -------------------------------------------------------------------------------


def shift(value: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """`value + delta` in exact time, kept in `value`'s zone (Python's own + would add wall time)."""
    try:
        return (instant(value) + delta).astimezone(value.tzinfo or UTC)
    except OverflowError as exc:
        raise EvalError(f"{to_string(value)} + {to_string(delta)} is out of range") from exc


def _shift_date(value: dt.date, delta: dt.timedelta) -> dt.date:
    if delta % _DAY:
        raise EvalError(f"a date moves by whole days only, not {to_string(delta)}")
    try:
        return value + delta
    except OverflowError as exc:
        raise EvalError(f"{to_string(value)} + {to_string(delta)} is out of range") from exc


def _cannot(op: str, a: Any, b: Any) -> EvalError:
    return EvalError(f"cannot apply `{op}` to {type_name(a)} and {type_name(b)}")


def add(a: Any, b: Any) -> Any:
    """Numbers; concatenation when either side is a string; datetime/date + duration; duration + duration."""
    if a is None or b is None:
        return None
    if isinstance(a, str) or isinstance(b, str):
        return to_string(a) + to_string(b)
    if is_number(a) and is_number(b):
        return a + b
    kind_a, kind_b = type_name(a), type_name(b)
    if kind_b == "duration":
        if kind_a == "datetime":
            return shift(a, b)
        if kind_a == "date":
            return _shift_date(a, b)
        if kind_a == "duration":
            return a + b
    if kind_a == "duration" and kind_b in ("datetime", "date"):
        return add(b, a)
    raise _cannot("+", a, b)


def sub(a: Any, b: Any) -> Any:
    """Numbers; datetime/date - duration; datetime - datetime and date - date give a duration."""
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        return a - b
    kind_a, kind_b = type_name(a), type_name(b)
    if kind_b == "duration":
        if kind_a == "datetime":
            return shift(a, -b)
        if kind_a == "date":
            return _shift_date(a, -b)
        if kind_a == "duration":
            return a - b
    if kind_a == kind_b == "datetime":
        return instant(a) - instant(b)
    if kind_a == kind_b == "date":
        return a - b
    raise _cannot("-", a, b)


def mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if is_number(a) and is_number(b):
        return a * b
    raise _cannot("*", a, b)


def div(a: Any, b: Any) -> float | None:
    """Always a decimal; dividing by zero gives null (SPEC §12: AJO's silent 0 hides data errors)."""
    if a is None or b is None:
        return None
    if not (is_number(a) and is_number(b)):
        raise _cannot("/", a, b)
    if b == 0:
        return None
    try:
        return float(a / b)
    except OverflowError as exc:
        raise EvalError(f"{to_string(a)} / {to_string(b)} is out of range") from exc


def mod(a: Any, b: Any) -> int | float | None:
    """The remainder truncated toward zero, as Java and SQLite do: -7 % 3 == -1; `% 0` is null."""
    if a is None or b is None:
        return None
    if not (is_number(a) and is_number(b)):
        raise _cannot("%", a, b)
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        remainder = abs(a) % abs(b)
        return -remainder if a < 0 else remainder
    return math.fmod(a, b)


def neg(a: Any) -> Any:
    if a is None:
        return None
    if is_number(a) or isinstance(a, dt.timedelta):
        return -a
    raise EvalError(f"cannot negate {type_name(a)}")


# --- printing ---------------------------------------------------------------------------------


def to_string(value: Any) -> str:
    """How a value prints (§7.5, §8): `true`, `3` for 3.0, UTC `...Z`, ISO durations, null as ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_decimal(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple | dict):
        return _format_json(value)
    return str(value)


def _format_decimal(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def format_datetime(value: dt.datetime) -> str:
    """UTC ISO 8601 with `Z`; fractional seconds only when non-zero (milliseconds when they suffice)."""
    utc = instant(value).replace(tzinfo=None)
    text = utc.isoformat(timespec="seconds")
    if utc.microsecond:
        micros = f"{utc.microsecond:06d}"
        text += "." + (micros[:3] if micros.endswith("000") else micros)
    return text + "Z"


def format_duration(value: dt.timedelta) -> str:
    """ISO 8601 in days, hours, minutes and seconds: `PT1H30M`, `P3D`, `PT0.5S`, `PT0S`, `-PT1H`."""
    micros = value // dt.timedelta(microseconds=1)
    sign = "-" if micros < 0 else ""
    days, rest = divmod(abs(micros), 86_400_000_000)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, fraction = divmod(rest, 1_000_000)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    if seconds or fraction:
        time += str(seconds) + (f".{fraction:06d}".rstrip("0") if fraction else "") + "S"
    if not days and not time:
        return "PT0S"
    return sign + "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def _format_json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return to_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_format_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_format_json(v)}"
                               for k, v in value.items()) + "}"
    return json.dumps(to_string(value), ensure_ascii=False)


# --- parsing and local time -------------------------------------------------------------------


def parse_date(text: Any) -> dt.date:
    """`2026-12-01` -> a date; EvalError for anything else."""
    if isinstance(text, str) and _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise EvalError(f"`{text}` is not a date like 2026-12-01")


def parse_datetime(text: Any, zone: ZoneInfo) -> dt.datetime:
    """An ISO 8601 date-time, in UTC; without an offset it is a wall time in `zone` (see `resolve_local`)."""
    parsed = schedule.parse_datetime(text)
    if parsed is None:
        raise EvalError(f"`{text}` is not a date-time like 2026-12-01T09:00:00Z")
    if parsed.tzinfo is None:
        parsed = resolve_local(parsed, zone)
    return parsed.astimezone(UTC)


def parse_duration(text: Any) -> dt.timedelta:
    """An exact ISO 8601 duration (weeks, days, hours, minutes, seconds); EvalError for `P1M` and the like."""
    value = durations.parse_duration(text)
    if value is None:
        raise EvalError(f"`{text}` is not an exact ISO 8601 duration like PT1H30M or P3D "
                        "(days, hours, minutes, seconds; no years or months)")
    return value


def resolve_local(naive: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The instant of wall time `naive` in `zone`: the earlier one when ambiguous (fold=0), and inside a
    DST gap the first valid instant after it (the end of the gap: 02:30 on a 02:00->03:00 day is 03:00)."""
    naive = naive.replace(tzinfo=None, fold=0)
    candidate = naive.replace(tzinfo=zone)
    if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return candidate
    # In a gap, fold=1 reads the wall time with the offset after the change (an instant before it)
    # and fold=0 with the offset before (an instant after it): search between them, to the second.
    low = math.floor(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = math.ceil(candidate.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, zone).replace(tzinfo=None) > naive:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, zone)


def local_zone(value: dt.datetime, ctx: EvalContext) -> ZoneInfo:
    """The zone `value` is read in: its own when it carries one (`updateTimeZone`), else the context's."""
    return value.tzinfo if isinstance(value.tzinfo, ZoneInfo) else ctx.zone


def to_local(value: dt.datetime, ctx: EvalContext) -> dt.datetime:
    return instant(value).astimezone(local_zone(value, ctx))


def from_local(naive: dt.datetime, like: dt.datetime, ctx: EvalContext) -> dt.datetime:
    """Wall time `naive` in `like`'s zone, as an instant kept in that zone when `like` carries one, else UTC."""
    resolved = resolve_local(naive, local_zone(like, ctx))
    return resolved if isinstance(like.tzinfo, ZoneInfo) else resolved.astimezone(UTC)
