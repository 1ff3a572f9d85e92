"""jo's own `format` checkers: asserted, offline, and only the formats of SPEC §5.1."""

from __future__ import annotations

import datetime as dt
import re

from jsonschema import FormatChecker

DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?\Z"
)
# Exact durations only (SPEC §8): weeks, days, hours, minutes, seconds; no years or months.
DURATION = re.compile(r"P(?!\Z)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?\Z")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")

FORMAT_HELP = {
    "date": "a date like 2026-12-01",
    "date-time": "a date-time like 2026-12-01T09:00:00Z (the offset may be left out)",
    "duration": "an ISO 8601 duration like P3D, PT2H or P1DT12H (no years or months)",
    "email": "an email address like ada@example.org",
}


def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if DATE_TIME.match(value) is None:
        return False
    try:
        dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_duration(value: object) -> bool:
    return not isinstance(value, str) or DURATION.match(value) is not None


def is_email(value: object) -> bool:
    return not isinstance(value, str) or EMAIL.match(value) is not None


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date")(is_date)
    checker.checks("date-time")(is_date_time)
    checker.checks("duration")(is_duration)
    checker.checks("email")(is_email)
    return checker
