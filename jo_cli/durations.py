"""ISO 8601 durations as jo uses them: exact (weeks, days, hours, minutes, seconds; SPEC §8), and instants
moved by them without leaving the calendar.

Python's datetimes end at years 1 and 9999, and a wait, a timeout, a capping
window or a horizon can reach past them (`P99999999D`, an event at
9999-12-31T23:59:59Z). jo's timeline is `[EARLIEST, LATEST]`, four days
inside the calendar at each end, so that at any instant on it a local time
in any zone, the day before or after it, and that day's midnight back in UTC
all exist. Input instants outside it are refused where they are read; a
duration added past its end gives `NEVER`, a wake-up the engine never reaches.
"""

from __future__ import annotations

import datetime as dt
import re

EARLIEST = dt.datetime(1, 1, 5, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 27, tzinfo=dt.UTC)
NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)  # after every instant the engine runs at
ALWAYS = dt.datetime.min.replace(tzinfo=dt.UTC)  # before every instant the engine runs at

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


def later(at: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """`at + delta` (`at` in UTC: exact time), or `NEVER` past the calendar's end (`ALWAYS` before its start)."""
    try:
        return at + delta
    except OverflowError:
        return NEVER if delta > dt.timedelta(0) else ALWAYS


def second_up(at: dt.datetime) -> dt.datetime:
    """`at`, or the next whole second when it has a fraction: jo's timeline ticks in whole seconds, and a
    wake-up (`PT0.5S`, an `until` read from a time with milliseconds) is never early."""
    if not at.microsecond:
        return at
    return later(at.replace(microsecond=0), dt.timedelta(seconds=1))


def earlier(at: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """`at - delta`, or `ALWAYS` before the calendar's start (`NEVER` past its end)."""
    try:
        return at - delta
    except OverflowError:
        return ALWAYS if delta > dt.timedelta(0) else NEVER


def on_timeline(at: dt.datetime) -> bool:
    return EARLIEST <= at <= LATEST


def timeline_text() -> str:
    """The timeline's bounds, as an error message states them."""
    return f"{EARLIEST.date().isoformat()} to {LATEST.date().isoformat()}"
