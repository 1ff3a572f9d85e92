"""Conversion functions of §8: `toDateTime`, `toDateOnly`, `toDuration`, `toString`, `toInteger`,
`toDecimal`, `toBool`.

A conversion that cannot be made raises EvalError, a failure the engine
routes to `on_error` (AJO gives null for a malformed `toDateTime` string).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from jo_cli.expr.functions_base import Function, fn, sig
from jo_cli.expr.runtime import (
    UTC,
    EvalContext,
    EvalError,
    instant,
    parse_date,
    parse_datetime,
    parse_duration,
    resolve_local,
    to_local,
    to_string,
    type_name,
)
from jo_cli.expr.types import ANY, BOOLEAN, DATE, DATETIME, DECIMAL, DURATION, INTEGER, STRING

EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)
_INTEGER = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
_INT64 = (-(2**63), 2**63 - 1)


def _cannot(function: str, value: Any) -> EvalError:
    shown = f"`{value}`" if isinstance(value, str) else type_name(value)
    return EvalError(f"{function} cannot convert {shown}")


def _to_datetime(ctx: EvalContext, value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return resolve_local(dt.datetime.combine(value, dt.time()), ctx.zone).astimezone(UTC)
    if isinstance(value, str):
        return parse_datetime(value, ctx.zone)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return EPOCH + value * _MILLISECOND
        except OverflowError as exc:
            raise EvalError(f"{value} milliseconds since 1970 is out of range") from exc
    raise _cannot("toDateTime", value)


def _to_date_only(ctx: EvalContext, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return to_local(value, ctx).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if len(value) == 10:
            return parse_date(value)
        return to_local(parse_datetime(value, ctx.zone), ctx).date()
    raise _cannot("toDateOnly", value)


def _to_duration(value: Any) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return value * _MILLISECOND
        except OverflowError as exc:
            raise EvalError(f"{value} milliseconds is out of range") from exc
    raise _cannot("toDuration", value)


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _cannot("toInteger", value)
        result = int(value)  # truncates toward zero, as AJO does
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        result = int(value.strip())
    elif isinstance(value, dt.datetime):
        return (instant(value) - EPOCH) // _MILLISECOND
    else:
        raise _cannot("toInteger", value)
    if not _INT64[0] <= result <= _INT64[1]:
        raise EvalError(f"toInteger: {to_string(value)} does not fit in 64 bits")
    return result


def _to_decimal(value: Any) -> float:
    if isinstance(value, int | float):  # booleans too: 1.0 and 0.0
        return float(value)
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        result = float(value.strip())
        if math.isfinite(result):
            return result
    raise _cannot("toDecimal", value)


def _to_bool(value: Any) -> bool:
    """True only for the string `true` or a non-zero number (AJO)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value == "true"
    if isinstance(value, int | float):
        return value != 0
    raise _cannot("toBool", value)


CONVERT_FUNCTIONS: tuple[Function, ...] = (
    fn("toDateTime", _to_datetime, sig(STRING, returns=DATETIME), sig(INTEGER, returns=DATETIME),
       sig(DATE, returns=DATETIME), sig(DATETIME, returns=DATETIME), context=True,
       doc="toDateTime(x): an ISO string (without offset: local), epoch milliseconds, or a date's local midnight"),
    fn("toDateOnly", _to_date_only, sig(DATETIME, returns=DATE), sig(DATE, returns=DATE),
       sig(STRING, returns=DATE), context=True,
       doc="toDateOnly(x): the local date of a datetime (profile's or journey's zone), or a parsed string"),
    fn("toDuration", _to_duration, sig(STRING, returns=DURATION), sig(INTEGER, returns=DURATION),
       sig(DURATION, returns=DURATION), doc="toDuration(x): an exact ISO 8601 duration string, or milliseconds"),
    fn("toString", to_string, sig(ANY, returns=STRING),
       doc="toString(x): x as text (true, 3, 2.5, 2026-12-01T09:00:00Z, PT1H30M)"),
    fn("toInteger", _to_integer, sig(STRING, returns=INTEGER), sig(DECIMAL, returns=INTEGER),
       sig(BOOLEAN, returns=INTEGER), sig(DATETIME, returns=INTEGER),
       doc="toInteger(x): a decimal truncated toward zero, a string parsed, true as 1, a datetime as epoch ms"),
    fn("toDecimal", _to_decimal, sig(STRING, returns=DECIMAL), sig(DECIMAL, returns=DECIMAL),
       sig(BOOLEAN, returns=DECIMAL), doc="toDecimal(x): a number, a parsed string, or true as 1"),
    fn("toBool", _to_bool, sig(STRING, returns=BOOLEAN), sig(DECIMAL, returns=BOOLEAN),
       sig(BOOLEAN, returns=BOOLEAN), doc='toBool(x): true for the string "true" or a non-zero number'),
)
