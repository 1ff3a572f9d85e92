"""ISO 8601 durations as jo uses them: exact (weeks, days, hours, minutes, seconds; SPEC §8)."""

from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(
    r"P(?!\Z)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?\Z"
)


def parse_duration(text: object) -> dt.timedelta | None:
    """`P3D` -> 3 days; None for anything that is not an exact ISO 8601 duration (`P1M`, `3 days`, 5)."""
    if not isinstance(text, str):
        return None
    match = _DURATION.match(text)
    if match is None:
        return None
    parts = {name: float(value) for name, value in match.groupdict().items() if value is not None}
    try:
        return dt.timedelta(**parts)
    except OverflowError:
        return None


def format_duration(value: dt.timedelta) -> str:
    """The shortest ISO 8601 spelling of an exact duration: 91 days -> `P91D`."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days or not time else "") + (f"T{time}" if time else "")
