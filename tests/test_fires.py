"""The fire planner of run-batch (SPEC §7.3): due times, catch-up, lateness, windows, origins, DST."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jo_cli.errors import JoError
from jo_cli.fires import Fire, Published, due_fires, schedule_origin

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
T0 = dt.datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # a Monday
QUARTER = dt.timedelta(minutes=15)


def _week_of_passes(plan: dict[str, Any], *, offline: tuple[dt.datetime, dt.datetime]) -> list[Fire]:
    """A pass every 5 minutes for a week, none while the runner is offline; every fire recorded, in order."""
    recorded: list[Fire] = []
    last = None
    now = T0
    while now < T0 + dt.timedelta(days=7):
        if not offline[0] <= now < offline[1]:
            fires = due_fires(plan, zone=PARIS, origin=T0, last=last, now=now, live=True)
            recorded += fires
            if fires:
                last = fires[-1].scheduled_for
        now += dt.timedelta(minutes=5)
    return recorded


OUTAGE = (T0 + dt.timedelta(days=2, hours=10, minutes=1), T0 + dt.timedelta(days=2, hours=11, minutes=1))


@pytest.mark.parametrize(("plan", "skipped"), [
    ({"cron": "*/15 * * * *"}, {"superseded": 3}),  # 10:15, 10:30, 10:45 superseded by 11:00
    ({"cron": "*/15 * * * *", "catch_up": "all"}, {}),
    ({"cron": "*/15 * * * *", "catch_up": "all", "max_lateness": "PT20M"}, {"too_late": 2}),  # 10:15, 10:30
    ({"cron": "*/15 * * * *", "max_lateness": "PT20M"}, {"too_late": 2, "superseded": 1}),  # too_late wins
])
def test_a_week_of_quarter_hours_with_the_runner_offline_for_an_hour(plan: dict[str, Any],
                                                                    skipped: dict[str, int]) -> None:
    recorded = _week_of_passes(plan, offline=OUTAGE)
    expected = [T0 + QUARTER * n for n in range(7 * 96)]  # at or after the origin, up to the last pass
    assert [f.scheduled_for for f in recorded] == expected  # each cron time recorded once: none lost or repeated
    assert Counter(f.skip for f in recorded if f.skip) == skipped
    gap = [f for f in recorded if OUTAGE[0] <= f.scheduled_for <= OUTAGE[1]]
    assert gap[-1].skip is None  # the newest fire of the outage runs (11:00) under every policy


def test_too_late_wins_over_superseded_and_old_fires_are_never_run() -> None:
    now = T0 + dt.timedelta(hours=5)
    fires = due_fires({"cron": "0 * * * *", "max_lateness": "PT2H"}, zone=PARIS, origin=T0, last=None, now=now,
                      live=True)
    assert [(f.scheduled_for.hour, f.skip) for f in fires] == [
        (0, "too_late"), (1, "too_late"), (2, "too_late"), (3, "superseded"), (4, "superseded"), (5, None)]


def test_without_a_schedule_an_id_fires_once_at_its_first_pass() -> None:
    assert due_fires(None, zone=PARIS, origin=T0, last=None, now=T0 + QUARTER, live=True) == [Fire(T0 + QUARTER)]
    assert due_fires(None, zone=PARIS, origin=T0, last=T0 + QUARTER, now=T0 + 9 * QUARTER, live=True) == []
    assert due_fires(None, zone=PARIS, origin=T0, last=None, now=T0 - QUARTER, live=True) == []


def test_no_live_version_and_outside_the_entry_window_are_skips() -> None:
    plan = {"cron": "0 * * * *", "catch_up": "all"}
    now = T0 + dt.timedelta(hours=3)
    assert {f.skip for f in due_fires(plan, zone=PARIS, origin=T0, last=None, now=now, live=False)} == \
        {"no_live_version"}
    window = (T0 + dt.timedelta(hours=2), T0 + dt.timedelta(hours=3))
    fires = due_fires(plan, zone=PARIS, origin=T0, last=None, now=now, live=True, window=window)
    assert [(f.scheduled_for.hour, f.skip) for f in fires] == [(0, "outside_window"), (1, "outside_window"),
                                                                (2, None), (3, "outside_window")]  # [start, end)


def test_a_clock_moved_back_never_refires() -> None:
    plan = {"cron": "*/15 * * * *"}
    first = due_fires(plan, zone=PARIS, origin=T0, last=None, now=T0 + dt.timedelta(hours=2), live=True)
    last = first[-1].scheduled_for
    assert due_fires(plan, zone=PARIS, origin=T0, last=last, now=T0 + dt.timedelta(hours=1), live=True) == []
    assert due_fires(plan, zone=PARIS, origin=T0, last=last, now=last, live=True) == []


def test_the_schedule_start_and_until_bound_the_due_times() -> None:
    plan = {"cron": "0 9 * * *", "timezone": "Europe/Paris", "start": "2026-12-09T00:00:00",
            "until": "2026-12-11T12:00:00", "catch_up": "all"}
    fires = due_fires(plan, zone=ZoneInfo("UTC"), origin=T0, last=None, now=T0 + dt.timedelta(days=10), live=True)
    assert [f.scheduled_for for f in fires] == [dt.datetime(2026, 12, d, 8, tzinfo=UTC) for d in (9, 10, 11)]


def test_the_origin_is_set_by_the_version_that_introduced_the_schedule() -> None:
    daily = {"cron": "0 9 * * *"}
    hourly = {"cron": "0 * * * *"}
    published = [T0, T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2)]
    # A republish with the same schedule keeps the first origin: the fire between a fire time and the next
    # pass is neither lost nor repeated.
    same = [Published(published[0], daily), Published(published[1], daily)]
    assert schedule_origin(same, zone=PARIS) == T0
    changed = [Published(published[0], daily), Published(published[1], daily), Published(published[2], hourly)]
    assert schedule_origin(changed, zone=PARIS) == published[2]
    with_start = {**daily, "start": "2026-11-01T00:00:00Z"}
    assert schedule_origin([Published(published[0], with_start)], zone=PARIS) == \
        dt.datetime(2026, 11, 1, tzinfo=UTC)  # a start in the past: catch-up and lateness decide
    later_start = {**hourly, "start": "2026-12-20T00:00:00Z"}
    assert schedule_origin([Published(published[0], daily), Published(published[1], later_start)],
                           zone=PARIS) == dt.datetime(2026, 12, 20, tzinfo=UTC)
    past_start = {**hourly, "start": "2026-11-01T00:00:00Z"}
    assert schedule_origin([Published(published[0], daily), Published(published[1], past_start)],
                           zone=PARIS) == published[1]  # a changed schedule never makes older times due


def test_a_republish_between_a_fire_time_and_the_next_pass_neither_loses_nor_repeats_it() -> None:
    plan = {"cron": "0 9 * * *", "timezone": "UTC"}
    origin = schedule_origin([Published(T0, plan)], zone=PARIS)
    fired = due_fires(plan, zone=PARIS, origin=origin, last=None, now=T0 + dt.timedelta(hours=9, minutes=5),
                      live=True)
    last = fired[-1].scheduled_for
    # v2 (same schedule) is published at 08:59 the next day; the 09:00 fire is due at the 09:05 pass.
    origin = schedule_origin([Published(T0, plan), Published(T0 + dt.timedelta(days=1, hours=8, minutes=59), plan)],
                             zone=PARIS)
    next_pass = due_fires(plan, zone=PARIS, origin=origin, last=last, now=T0 + dt.timedelta(days=1, hours=9,
                                                                                            minutes=5), live=True)
    assert next_pass == [Fire(T0 + dt.timedelta(days=1, hours=9))]


@pytest.mark.parametrize("zone_name", ["Europe/Paris", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("cron", ["30 2 * * *", "15 2 * * *", "0 9 * * *", "0 1,2,3 * * SUN"])
def test_a_fixed_time_cron_fires_once_per_local_date_across_dst_2026_2030(zone_name: str, cron: str) -> None:
    zone = ZoneInfo(zone_name)
    start = dt.datetime(2026, 1, 1, tzinfo=zone).astimezone(UTC)
    end = dt.datetime(2031, 1, 1, tzinfo=zone).astimezone(UTC)
    fires = due_fires({"cron": cron, "catch_up": "all"}, zone=zone, origin=start, last=None, now=end, live=True)
    times = [f.scheduled_for for f in fires]
    assert times == sorted(set(times))  # strictly increasing: no instant twice
    per_time = Counter((t.astimezone(zone).date(), _nominal(cron, t.astimezone(zone))) for t in times)
    assert max(per_time.values()) == 1  # each local date and cron time once, the fall-back hour included
    dates = {t.astimezone(zone).date() for t in times}
    days = (dt.date(2031, 1, 1) - dt.date(2026, 1, 1)).days
    expected = days if "SUN" not in cron else sum(
        1 for n in range(days) if (dt.date(2026, 1, 1) + dt.timedelta(n)).weekday() == 6)
    assert len(dates) == expected  # no local date lost, the spring-forward day included


def _nominal(cron: str, local: dt.datetime) -> int:
    """Which of the cron's hours a fire stands for (a spring-forward fire comes after its missing time)."""
    hours = [int(h) for h in cron.split()[1].split(",")]
    return max((h for h in hours if h <= local.hour), default=hours[0])


def test_a_minutely_cron_after_a_long_outage_stays_bounded() -> None:
    plan = {"cron": "* * * * *"}
    now = T0 + dt.timedelta(days=200)  # 288,000 due minutes
    fires = due_fires(plan, zone=PARIS, origin=T0, last=None, now=now, live=True, limit=1_000)
    assert len(fires) == 1_000 and fires[-1] == Fire(now) and {f.skip for f in fires[:-1]} == {"superseded"}
    # The next pass starts after the newest: the minutes in between are covered, never run.
    assert due_fires(plan, zone=PARIS, origin=T0, last=now, now=now + dt.timedelta(minutes=2), live=True) == [
        Fire(now + dt.timedelta(minutes=1), "superseded"), Fire(now + dt.timedelta(minutes=2))]
    with pytest.raises(JoError, match="catch_up: all"):
        due_fires({**plan, "catch_up": "all"}, zone=PARIS, origin=T0, last=None, now=now, live=True, limit=1_000)
