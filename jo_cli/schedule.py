"""Cron schedules and time zones: strict validation, fires in a zone, the gap between fires (SPEC §7.3).

croniter is imported inside the functions that need it: `jo --help` must not
pay for it (SPEC §11), and most commands never read a cron.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli.durations import ALWAYS, EARLIEST, NEVER, later
from jo_cli.suggest import closest

CRON_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELD_RANGES = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT")
# Vixie cron's aliases (croniter reads them too); `@reboot` has no meaning for run-batch.
CRON_ALIASES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_NEVER = re.compile(r"Day\(s\) \[([\d, ]*)\] can never occur in month\(s\) \[([\d, ]*)\]")
_LITERAL_LIST = re.compile(r"\d+(?:,\d+)*\Z")
# croniter's random (`R`) and hashed (`H`) fields differ between runs and machines.
_RANDOM_PART = re.compile(r"[HR](?:\(.*\))?\Z", re.IGNORECASE)
# Names ZoneInfo loads that are not portable IANA zones: the host's own zone and tzdata internals.
_NOT_IANA = frozenset({"localtime", "posixrules", "factory"})
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?\Z")
# Offsets an unknown zone can have (UTC-12 to UTC+14): a naive datetime lies within this of UTC.
_OFFSET_RANGE = (dt.timezone(dt.timedelta(hours=-12)), dt.timezone(dt.timedelta(hours=14)))


def normalize_cron(expr: str) -> str:
    """The five fields of `expr`, an alias (`@daily`) spelled out."""
    text = " ".join(expr.split())
    return CRON_ALIASES.get(text.lower(), text)


@lru_cache(maxsize=1024)  # a project repeats a handful of crons across many files
def validate_cron(expr: str) -> str | None:
    """None for a five-field cron that can fire (croniter strict mode), else what is wrong with it.

    Strict mode refuses a day that never occurs in the months given
    (`0 0 31 2 *`), which the lenient check accepts.
    """
    text = " ".join(expr.split())
    if text.startswith("@"):
        if text.lower() in CRON_ALIASES:
            return None
        return f"unknown cron alias `{text}`; use one of {', '.join(sorted(CRON_ALIASES))}"
    if not text:
        return "the cron expression is empty"
    fields = text.split(" ")
    if len(fields) != 5:
        return (f"a cron expression has 5 fields ({' '.join(CRON_FIELDS)}); "
                f"`{text}` has {len(fields)}")
    for name, field in zip(CRON_FIELDS, fields, strict=True):
        parts = (part.split("/")[0] for part in field.split(","))
        if any(_RANDOM_PART.match(part) for part in parts):
            return f"{name} field `{field}`: random and hashed values (R, H) would fire differently on each host"
    from croniter import croniter

    if _croniter_accepts(croniter, text, strict=True):
        return None
    for index, (name, field) in enumerate(zip(CRON_FIELDS, fields, strict=True)):
        alone = ["*"] * 5
        alone[index] = field
        if not _croniter_accepts(croniter, " ".join(alone), strict=False):
            allowed = f"{_FIELD_RANGES[index]}, lists, ranges and steps"
            return f"{name} field `{field}` is not valid (allowed: {allowed})"
    try:
        croniter.expand(text, strict=True)
    except Exception as exc:
        return f"`{text}` never fires: {_never_reason(str(exc))}"
    return f"`{text}` is not a valid cron expression"


def _never_reason(message: str) -> str:
    """croniter's "[0 0 31 2 *] is not acceptable. Day(s) [31] can never occur in month(s) [2]", in words."""
    match = _NEVER.search(message)
    if match is None:
        reason = message.split(" is not acceptable", 1)[-1].lstrip(". ,") or message
        return reason[:1].lower() + reason[1:]
    days, months = (re.findall(r"\d+", group) for group in match.groups())
    names = [calendar.month_name[int(m)] if 1 <= int(m) <= 12 else m for m in months]
    subject = f"days {', '.join(days)} never occur" if len(days) > 1 else f"day {''.join(days)} never occurs"
    return f"{subject} in {' or '.join(names)}"


def _croniter_accepts(croniter: Any, text: str, *, strict: bool) -> bool:
    try:
        return bool(croniter.is_valid(text, strict=strict))
    except Exception:  # is_valid catches croniter's own errors only
        return False


def is_fixed_time(expr: str) -> bool:
    """Minute and hour are literals or lists: such a cron fires once per local date across DST (SPEC §7.3)."""
    fields = normalize_cron(expr).split(" ")
    return len(fields) == 5 and all(_LITERAL_LIST.match(field) for field in fields[:2])


def cron_fires(expr: str, zone: dt.tzinfo, *, after: dt.datetime) -> Iterator[dt.datetime]:
    """Fires of a valid `expr` read in `zone`, strictly after the aware `after`, as aware datetimes in `zone`.

    Instants strictly increase. A fixed-time cron fires once per local date
    and time: on the fall-back day at the earlier of the two instants
    (croniter yields both); on the spring-forward day croniter already fires
    at the first valid instant after the missing time. Endless but for the
    calendar's end (year 9999): the caller stops.
    """
    from croniter import croniter

    fixed = is_fixed_time(expr)
    try:
        start = after.astimezone(zone)
    except OverflowError:  # within a day of the calendar's end: no wall time in `zone`
        if after.year > 5000:
            return
        start = EARLIEST.astimezone(zone)  # the fires of year 1's first days are lost
    iterator = croniter(normalize_cron(expr), start, ret_type=dt.datetime)
    previous: dt.datetime | None = None
    while True:
        try:
            fire: dt.datetime = iterator.get_next()
        except (OverflowError, ValueError):  # the next fire would be past year 9999 (croniter's bad date too)
            return
        if previous is not None:
            # Aware datetimes sharing a tzinfo compare and subtract as wall times: compare instants in UTC.
            if fire.astimezone(dt.UTC) <= previous.astimezone(dt.UTC):
                continue
            if fixed and fire.replace(tzinfo=None) <= previous.replace(tzinfo=None):
                continue  # the wall clock went back: the repeated hour of a fall-back day
        previous = fire
        yield fire


# Wall time moves against real time by less than two days at any instant (offsets lie within ±24 h): a walk
# that starts this long before a fire filters it as a walk started any earlier would (see `last_fire`).
_WALK_MARGIN = dt.timedelta(days=2)


def last_fire(expr: str, zone: dt.tzinfo, *, at: dt.datetime, after: dt.datetime) -> dt.datetime | None:
    """The latest fire at or before `at` of those `cron_fires(expr, zone, after=after)` yields, in UTC.

    croniter's `get_prev` says where to look, so the cost does not grow with
    the fires between `after` and `at` (a minutely cron over a year); it is
    not trusted across DST (it can yield the second instant of a fall-back
    hour that `cron_fires` drops): the answer is read off a forward walk
    that starts `_WALK_MARGIN` before the fire it found, and when that walk
    finds no fire that late, off the whole walk from `after`.
    """
    at, after = at.astimezone(dt.UTC), after.astimezone(dt.UTC)
    found = _previous_raw(expr, zone, at)
    if found is not None and found - _WALK_MARGIN > after:
        start = found - _WALK_MARGIN - dt.timedelta(seconds=1)
        latest = _last_walked(expr, zone, after=start, at=at)
        if latest is not None and latest >= found:  # past the margin: the walk from `after` agrees
            return latest
    return _last_walked(expr, zone, after=after, at=at)


def _previous_raw(expr: str, zone: dt.tzinfo, at: dt.datetime) -> dt.datetime | None:
    """croniter's fire before `at` (None at the calendar's start), in UTC and never after `at`."""
    from croniter import croniter

    try:
        found: dt.datetime = croniter(normalize_cron(expr), at.astimezone(zone), ret_type=dt.datetime).get_prev()
        return min(found.astimezone(dt.UTC), at)
    except (OverflowError, ValueError):  # before year 1 (croniter's bad date is a ValueError)
        return None


def _last_walked(expr: str, zone: dt.tzinfo, *, after: dt.datetime, at: dt.datetime) -> dt.datetime | None:
    latest = None
    for fire in cron_fires(expr, zone, after=after):
        fire = fire.astimezone(dt.UTC)
        if fire > at:
            break
        latest = fire
    return latest


@dataclass(frozen=True, slots=True)
class FireGap:
    """Two consecutive fires of a cron and the time between them."""

    first: dt.datetime
    second: dt.datetime

    @property
    def gap(self) -> dt.timedelta:
        """Real time between the fires (not wall time, which a DST change skews)."""
        return self.second.astimezone(dt.UTC) - self.first.astimezone(dt.UTC)


def smallest_fire_gap(
    expr: str,
    zone: dt.tzinfo,
    *,
    start: dt.datetime,
    period: dt.timedelta,
    below: dt.timedelta | None = None,
    max_fires: int = 5000,
) -> FireGap | None:
    """The closest pair of consecutive fires in `period` from the first fire after `start`; None under two fires.

    Starting at the first fire (not at `start`) means a monthly or yearly cron
    is sampled on a day it fires. Gaps are real time, so DST shows. With
    `below`, the first gap shorter than it is returned at once.
    """
    best: FireGap | None = None
    previous: dt.datetime | None = None
    end: dt.datetime | None = None
    for count, fire in enumerate(cron_fires(expr, zone, after=start)):
        if end is None:
            end = later(fire.astimezone(dt.UTC), period)
        elif fire.astimezone(dt.UTC) > end or count >= max_fires:
            break
        if previous is not None:
            pair = FireGap(previous, fire)
            if best is None or pair.gap < best.gap:
                best = pair
                if below is not None and pair.gap < below:
                    break
        previous = fire
    return best


@cache
def iana_zone_names() -> tuple[str, ...]:
    """Every IANA zone name known here, sorted (for suggestions)."""
    import zoneinfo

    return tuple(sorted(name for name in zoneinfo.available_timezones() if _is_portable(name)))


def load_zone(name: str) -> ZoneInfo | None:
    """The IANA zone `name`, or None when it is not one (never raises)."""
    if not _is_portable(name):
        return None
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError (bad key), IsADirectoryError ("Europe"), ...
        return None


@lru_cache(maxsize=256)
def validate_timezone(name: str) -> str | None:
    """None for an IANA zone name, else the problem with a "did you mean"."""
    if load_zone(name) is not None:
        return None
    suggestion = suggest_timezone(name)
    hint = f"; did you mean `{suggestion}`?" if suggestion else " (a name like `Europe/Paris` or `UTC`)"
    return f"`{name}` is not an IANA time zone{hint}"


def suggest_timezone(name: str) -> str | None:
    names = iana_zone_names()
    folded = {zone.lower(): zone for zone in names}
    wanted = name.strip().replace(" ", "_").lower()
    if wanted in folded:
        return folded[wanted]
    # "Paris" -> "Europe/Paris": compare with the city part too.
    cities = {zone.rsplit("/", 1)[-1].lower(): zone for zone in names if "/" in zone}
    if wanted in cities:
        return cities[wanted]
    close = closest(wanted, folded)
    return folded[close] if close else None


def _is_portable(name: str) -> bool:
    return name.lower() not in _NOT_IANA and not name.startswith(("posix/", "right/"))


def parse_datetime(text: object) -> dt.datetime | None:
    """A jo `date-time` (the offset may be left out: naive), or None when `text` is not one."""
    if not isinstance(text, str) or _DATE_TIME.match(text) is None:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
    except ValueError:
        return None


def local_instant(text: Any, zone: ZoneInfo) -> dt.datetime | None:
    """A settings or schedule date-time in UTC (None for None); without an offset a wall time in `zone`
    (§5.1: a gap's time is the first valid instant after it, a fold's the earlier)."""
    if text is None:
        return None
    from jo_cli.errors import JoError
    from jo_cli.expr.runtime import resolve_local

    parsed = parse_datetime(text)
    if parsed is None:
        raise JoError(f"{text!r} is not a date-time")
    try:
        return (resolve_local(parsed, zone) if parsed.tzinfo is None else parsed).astimezone(dt.UTC)
    except OverflowError:  # within a day of the calendar's end (a "never" like 9999-12-31T23:59:59)
        return NEVER if parsed.year > 5000 else ALWAYS


def not_before(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo | None) -> bool:
    """True when `start` is at or after `end`: the window [start, end) is empty.

    A naive datetime is read in `zone`; two naive ones compare as wall times.
    When one is naive and the zone is unknown (the project's), the answer
    must hold for every offset a zone can have, so only a sure case is True.
    """
    if (start.tzinfo is None) == (end.tzinfo is None):
        return start >= end
    if zone is not None:
        return start.replace(tzinfo=start.tzinfo or zone) >= end.replace(tzinfo=end.tzinfo or zone)
    return all(
        start.replace(tzinfo=start.tzinfo or offset) >= end.replace(tzinfo=end.tzinfo or offset)
        for offset in _OFFSET_RANGE
    )
