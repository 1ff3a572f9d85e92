"""Which fires a run-batch pass processes, and why it skips the others (SPEC §7.3).

Fire state belongs to the journey (or campaign) id, not to a version: the
times due at a pass are the cron times up to and including `now` after the
last fire recorded for the id (processed or skipped; a failed fire is not a
record, so it stays due and is retried) and at or after the schedule's
origin. Of those:

- while no version is live, each is skipped `no_live_version`;
- one older than `now - max_lateness` is skipped `too_late` (this wins over
  `superseded`); `max_lateness` has no default;
- with `catch_up: latest` (the default, Airflow's "no catch-up") only the
  newest is processed and the older ones are `superseded`; with `all` each
  is processed, oldest first;
- one outside the entry window `[start, end)` is skipped `outside_window`.

An audience entry without a schedule fires once per id: at the first pass
after the first publication, `scheduled_for` that pass's `now`.

The origin is set by the version that introduced the current schedule: the
first version's `start` when given (a `start` in the past lets catch-up and
`max_lateness` decide), else its publication; a later version whose schedule
differs from its predecessor's, the later of its publication and its `start`,
so a changed schedule never makes times before its publication due.

Everything here is a pure function of what the caller read from the store, so
that every rule is tested without a store, and run-batch records each
decision in the same transaction as the fire's first chunk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jo_cli import durations, schedule
from jo_cli.errors import JoError

Skip = Literal["superseded", "too_late", "outside_window", "no_live_version"]


@dataclass(frozen=True, slots=True)
class Fire:
    """A due fire: `skip` None to process it, else why it is recorded without running."""

    scheduled_for: dt.datetime
    skip: Skip | None = None


@dataclass(frozen=True, slots=True)
class Published:
    """What the origin needs of one version: when it was published and its entry's schedule (None: none)."""

    published_at: dt.datetime
    schedule: Mapping[str, Any] | None


def schedule_origin(versions: Sequence[Published], *, zone: ZoneInfo) -> dt.datetime:
    """The origin of the current schedule, from the id's versions oldest first (the last is the current)."""
    if not versions:
        raise ValueError("an id with no version has no schedule")
    current = len(versions) - 1
    while current > 0 and _same_schedule(versions[current - 1].schedule, versions[current].schedule):
        current -= 1  # the version that introduced the current schedule
    introduced = versions[current]
    start = _start(introduced.schedule, zone)
    if current == 0:
        return start if start is not None else introduced.published_at
    return max(introduced.published_at, start) if start is not None else introduced.published_at


def due_fires(plan: Mapping[str, Any] | None, *, zone: ZoneInfo, origin: dt.datetime, last: dt.datetime | None,
              now: dt.datetime, live: bool, window: tuple[dt.datetime | None, dt.datetime | None] = (None, None),
              limit: int = 10_000) -> list[Fire]:
    """The fires due at a pass at `now`, oldest first, each with its decision.

    `plan` is the live version's `schedule` (None: an audience entry without one), `zone` its zone (the
    schedule's `timezone`, else the journey's, else the project's), `last` the latest fire recorded for the
    id, `window` the live version's entry window. A storm of due times (a minutely cron after a long outage)
    is cut at `limit`: with `catch_up: latest` the first `limit - 1` are listed and the newest due time is
    found directly (the ones between are superseded or too late without a record of their own: the newest
    recorded covers them); with `catch_up: all` that many is an error.
    """
    if limit < 2:
        raise ValueError("a storm is cut at two fires at least: some listed, and the newest")
    catch_up_all = bool(plan) and plan.get("catch_up", "latest") == "all"  # type: ignore[union-attr]
    if plan is None:
        times = [now] if last is None and origin <= now else []
    else:
        times = _times(plan, zone=zone, after=last, origin=origin, now=now, limit=limit)
        if len(times) > limit:
            if catch_up_all:
                raise JoError(f"more than {limit:,} fires are due (catch_up: all): set max_lateness, or "
                              "catch_up: latest")
            newest = _newest(plan, zone=zone, after=times[0], now=now)
            times = times[:limit - 1] + ([newest] if newest is not None and newest > times[limit - 2] else [])
    if not live:
        return [Fire(at, "no_live_version") for at in times]
    lateness = durations.parse_duration(str(plan["max_lateness"])) if plan and plan.get("max_lateness") else None
    oldest = durations.earlier(now, lateness) if lateness is not None else None
    timely = [at for at in times if oldest is None or at >= oldest]
    newest = timely[-1] if timely else None
    start, end = window
    fires = []
    for at in times:
        if oldest is not None and at < oldest:
            fires.append(Fire(at, "too_late"))
        elif not catch_up_all and at != newest:
            fires.append(Fire(at, "superseded"))
        elif (start is not None and at < start) or (end is not None and at >= end):
            fires.append(Fire(at, "outside_window"))
        else:
            fires.append(Fire(at))
    return fires


def _zone_of(plan: Mapping[str, Any], zone: ZoneInfo) -> ZoneInfo:
    if plan.get("timezone"):
        return schedule.load_zone(str(plan["timezone"])) or zone
    return zone


def _times(plan: Mapping[str, Any], *, zone: ZoneInfo, after: dt.datetime | None, origin: dt.datetime,
           now: dt.datetime, limit: int) -> list[dt.datetime]:
    """Cron times in (`after`, `now`], at or after `origin` and the schedule's `start`, up to its `until`,
    oldest first; the walk stops at `limit + 1` of them."""
    zone = _zone_of(plan, zone)
    start = _start(plan, zone)
    stop = schedule.local_instant(plan.get("until"), zone)
    floor = max(origin, start) if start is not None else origin
    # Fires strictly after `base`: the later of the last recorded fire and just before the floor.
    base = durations.earlier(floor, dt.timedelta(seconds=1))
    if after is not None and after > base:
        base = after
    kept: list[dt.datetime] = []
    for fire in _fires(str(plan["cron"]), zone, base):
        if fire > now or (stop is not None and fire > stop) or len(kept) > limit:
            break
        kept.append(fire)
    return kept


def _newest(plan: Mapping[str, Any], *, zone: ZoneInfo, after: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The newest cron time in (`after`, min(`now`, until)], without walking the ones before it."""
    zone = _zone_of(plan, zone)
    stop = schedule.local_instant(plan.get("until"), zone)
    at = min(now, stop) if stop is not None else now
    return schedule.last_fire(str(plan["cron"]), zone, at=at, after=after)


def _fires(cron: str, zone: ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    for fire in schedule.cron_fires(cron, zone, after=after):
        yield fire.astimezone(dt.UTC)


def _same_schedule(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    return dict(old or {}) == dict(new or {})


def _start(plan: Mapping[str, Any] | None, zone: ZoneInfo) -> dt.datetime | None:
    if not plan:
        return None
    zone = _zone_of(plan, zone)
    return schedule.local_instant(plan.get("start"), zone)
