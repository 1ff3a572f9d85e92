"""Cell converters: one function per column, built once from its §5.1 schema (SPEC §5.1)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import re2

from jo_cli import durations
from jo_cli.errors import JoError
from jo_cli.expr.runtime import resolve_local
from jo_cli.schema.formats import EMAIL, FORMAT_HELP

UTC = dt.UTC
_BOOLEANS = {"true": True, "false": False}

class CellError(ValueError):
    """A cell that does not convert to its column's type; the message is the reject reason."""


Converter = Callable[[str], Any]


def show(text: str, width: int = 60) -> str:
    """A cell as a reason quotes it: on one line, at most `width` characters."""
    if len(text) > width:
        text = text[:width - 1] + "…"
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f"`{text}`"


# --- cell converters (one per column, built once) -------------------------------------------------


def _to_integer(cell: str) -> int:
    digits = cell[1:] if cell[0] in "+-" else cell
    if not (digits.isascii() and digits.isdigit()):
        raise CellError(f"{show(cell)} is not an integer")
    try:
        return int(cell)
    except ValueError:  # over Python's 4,300-digit conversion limit
        raise CellError(f"{show(cell)} is an integer of {len(digits):,} digits: too long to read") from None


def _to_number(cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise CellError(f"{show(cell)} is not a number") from None
    if not math.isfinite(value) or "_" in cell or cell[0].isspace() or cell[-1].isspace():
        raise CellError(f"{show(cell)} is not a number")
    return value


def _to_boolean(cell: str) -> bool:
    value = _BOOLEANS.get(cell)
    if value is None:
        value = _BOOLEANS.get(cell.lower())
        if value is None:
            raise CellError(f"{show(cell)} is not a boolean (true or false)")
    return value


def _to_date(cell: str) -> dt.date:
    if len(cell) == 10 and cell[4] == "-" and cell[7] == "-":
        try:
            return dt.date.fromisoformat(cell)
        except ValueError:
            pass
    raise CellError(f"{show(cell)} is not {FORMAT_HELP['date']}")


def _to_duration(cell: str) -> dt.timedelta:
    value = durations.parse_duration(cell)
    if value is None:
        raise CellError(f"{show(cell)} is not {FORMAT_HELP['duration']}")
    return value


def _to_email(cell: str) -> str:
    if EMAIL.match(cell) is None:
        raise CellError(f"{show(cell)} is not {FORMAT_HELP['email']}")
    return cell


def naive_datetime(cell: str) -> dt.datetime:
    """A `date-time` cell as Python reads it (naive when it has no offset); CellError when it is not one."""
    size = len(cell)
    if size >= 16 and cell[4] == "-" and cell[7] == "-" and cell[10] in "Tt " and cell[13] == ":":
        tail = cell[16:]
        if (size == 20 and tail[3] in "Zz" and tail[0] == ":") or (size == 19 and tail[0] == ":") or size == 16:
            try:  # the common spellings: 2026-12-01T09:00:00Z, 2026-12-01T09:00:00, 2026-12-01T09:00
                return dt.datetime.fromisoformat(cell[:19] + "+00:00" if size == 20 else cell)
            except ValueError:
                pass
        else:
            from jo_cli import schedule  # the full grammar (fractions, offsets), shared with validation

            parsed = schedule.parse_datetime(cell)
            if parsed is not None:
                return parsed
    raise CellError(f"{show(cell)} is not {FORMAT_HELP['date-time']}")


def to_datetime(cell: str, zone: ZoneInfo) -> dt.datetime:
    """An aware UTC datetime; a wall time without offset is read in `zone` (gaps and folds as §8 says)."""
    value = naive_datetime(cell)
    try:
        if value.tzinfo is None:
            local = value.replace(tzinfo=zone)
            if zone.utcoffset(local) != zone.utcoffset(value.replace(tzinfo=zone, fold=1)):
                local = resolve_local(value, zone)
            return local.astimezone(UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 on the wrong side of UTC
        raise CellError(f"{show(cell)} is outside the date-times jo can place (years 1 to 9999 in UTC)") from None


def _item_converter(schema: Any, zone: ZoneInfo) -> Callable[[Any], Any]:
    """How one decoded JSON item of a list cell is checked and typed."""
    kind = kind_of(schema)
    types: dict[str | None, type | tuple[type, ...]] = {"string": str, "integer": int, "number": (int, float),
                                                        "boolean": bool}
    expected = types.get(kind)
    fmt = schema.get("format") if isinstance(schema, dict) and kind == "string" else None

    def convert(item: Any) -> Any:
        if item is None or expected is None:
            return item
        if not isinstance(item, expected) or (isinstance(item, bool) and kind != "boolean"):
            raise CellError(f"has {show(json.dumps(item))}, not {'an' if kind == 'integer' else 'a'} {kind}")
        value: Any = item
        if kind == "number":
            try:
                return float(value)
            except OverflowError:  # a JSON integer of hundreds of digits
                raise CellError(f"has {show(json.dumps(item))}, a number too large to read") from None
        if fmt == "date":
            return _to_date(value)
        if fmt == "date-time":
            return to_datetime(value, zone)
        if fmt == "duration":
            return _to_duration(value)
        return item

    return convert


def _list_converter(schema: Any, zone: ZoneInfo) -> Converter:
    item = _item_converter(schema.get("items") if isinstance(schema, dict) else None, zone)

    def convert(cell: str) -> list[Any]:
        try:
            value = json.loads(cell, parse_float=_finite, parse_constant=_no_constant)
        except _NotFinite as exc:
            raise CellError(f"{show(cell)} has {exc}, not a number jo can compute with") from None
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, list):
            raise CellError(f'{show(cell)} is not a JSON array like ["a", "b"]')
        try:
            return [item(element) for element in value]
        except CellError as exc:
            raise CellError(f"{show(cell)} {exc}") from None

    return convert


class _NotFinite(Exception):
    """NaN, Infinity or a number past the doubles (1e999) in a list cell: JSON has none of them."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFinite(text)
    return value


def _no_constant(text: str) -> float:
    raise _NotFinite(text)


def kind_of(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object"
    return kind if isinstance(kind, str) else None


def converter(schema: Any, where: str, zone: ZoneInfo) -> Converter | None:
    """The converter of a column (None: the cell is kept as a string); JoError for an unusable pattern.

    A `date-time` column is converted by the reader (it needs the row's zone); in a list its items are
    read in `zone`.
    """
    kind = kind_of(schema)
    fmt = schema.get("format") if isinstance(schema, dict) else None
    steps: list[Converter] = []
    if kind == "integer":
        steps.append(_to_integer)
    elif kind == "number":
        steps.append(_to_number)
    elif kind == "boolean":
        steps.append(_to_boolean)
    elif kind == "array":
        steps.append(_list_converter(schema, zone))
    elif kind == "string" and fmt == "date":
        steps.append(_to_date)
    elif kind == "string" and fmt == "duration":
        steps.append(_to_duration)
    elif kind == "string" and fmt == "email":
        steps.append(_to_email)
    pattern = schema.get("pattern") if isinstance(schema, dict) and kind in ("string", None) else None
    if isinstance(pattern, str):
        steps.append(_pattern_check(pattern, where))
    enum = schema.get("enum") if isinstance(schema, dict) else None
    if isinstance(enum, list):
        steps.append(_enum_check(enum, steps[0] if steps and kind not in ("string", None) else None))
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    first, *rest = steps

    def chain(cell: str) -> Any:
        value = first(cell)
        for step in rest:
            value = step(value)
        return value

    return chain


def _pattern_check(pattern: str, where: str) -> Converter:
    from jo_cli.expr.functions_text import regex_problem

    problem = regex_problem(pattern)
    if problem is not None:
        raise JoError(f"{where}: {problem}")
    options = re2.Options()
    options.log_errors = False
    search = re2.compile(pattern, options).search

    def check(cell: str) -> str:
        if search(cell) is None:
            raise CellError(f"{show(cell)} does not match the pattern `{pattern}`")
        return cell

    return check


def _enum_check(enum: list[Any], typed_by: Converter | None) -> Converter:
    allowed = frozenset(value for value in enum if value is not None and not isinstance(value, (dict, list)))
    listed = ", ".join(str(value) for value in enum)

    def check(value: Any) -> Any:
        if value not in allowed or isinstance(value, bool) != (typed_by is _to_boolean):
            raise CellError(f"{show(str(value))} is not one of {listed}")
        return value

    return check


# --- the file: encoding, NUL bytes, quotes, field size ---------------------------------------------
