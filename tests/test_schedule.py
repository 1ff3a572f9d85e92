"""jo_cli.schedule: strict cron validation, fires across DST, gaps, zones and datetimes."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jo_cli.schedule import (
    cron_fires,
    is_fixed_time,
    last_fire,
    load_zone,
    normalize_cron,
    not_before,
    parse_datetime,
    smallest_fire_gap,
    suggest_timezone,
    validate_cron,
    validate_timezone,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize("expr", ["0 9 * * MON-FRI", "*/15 * * * *", "0 0 29 2 *", "0 9 L * *", "0 9 * * 1#2",
                                  "@daily", "@HOURLY", "  0   9 * * *  ", "0 9 * JAN-MAR SUN"])
def test_valid_crons(expr: str) -> None:
    assert validate_cron(expr) is None


@pytest.mark.parametrize(("expr", "message"), [
    ("0 0 31 2 *", "`0 0 31 2 *` never fires: day 31 never occurs in February"),
    ("0 0 30,31 2 *", "`0 0 30,31 2 *` never fires: days 30, 31 never occur in February"),
    ("0 0 31 4,6 *", "`0 0 31 4,6 *` never fires: day 31 never occurs in April or June"),
    ("61 * * * *", "minute field `61` is not valid (allowed: 0-59, lists, ranges and steps)"),
    ("0 9 * 13 *", "month field `13` is not valid (allowed: 1-12 or JAN-DEC, lists, ranges and steps)"),
    ("*/0 * * * *", "minute field `*/0` is not valid (allowed: 0-59, lists, ranges and steps)"),
    ("0 9 * *", "a cron expression has 5 fields (minute hour day-of-month month day-of-week); `0 9 * *` has 4"),
    ("0 0 9 * * *", "a cron expression has 5 fields (minute hour day-of-month month day-of-week); "
                    "`0 0 9 * * *` has 6"),
    ("", "the cron expression is empty"),
    ("@reboot", "unknown cron alias `@reboot`; use one of @annually, @daily, @hourly, @midnight, @monthly, "
                "@weekly, @yearly"),
    ("R 9 * * *", "minute field `R`: random and hashed values (R, H) would fire differently on each host"),
    ("H/5 * * * *", "minute field `H/5`: random and hashed values (R, H) would fire differently on each host"),
])
def test_invalid_crons_say_why(expr: str, message: str) -> None:
    assert validate_cron(expr) == message


def test_month_and_day_names_are_not_mistaken_for_random_fields() -> None:
    assert validate_cron("0 9 * MAR,APR THU,FRI") is None


@pytest.mark.parametrize("expr", ["0 0 99999999999999999999 * *", "0 0 1-99999999999999 * *", "\x00 * * * *",
                                  "0 0 * * MON#9", "*/-1 * * * *", "0 9 ?? * *"])
def test_odd_input_never_raises(expr: str) -> None:
    assert isinstance(validate_cron(expr), str)


def test_normalize_and_fixed_time() -> None:
    assert normalize_cron("@daily") == "0 0 * * *"
    assert normalize_cron(" 0  9 * * * ") == "0 9 * * *"
    assert is_fixed_time("30 2 * * *") and is_fixed_time("0,30 2,14 * * *") and is_fixed_time("@weekly")
    assert not is_fixed_time("*/15 * * * *") and not is_fixed_time("0 8-18 * * *") and not is_fixed_time("@hourly")


def fires(expr: str, zone: ZoneInfo, after: dt.datetime, count: int) -> list[str]:
    return [fire.isoformat() for fire in itertools.islice(cron_fires(expr, zone, after=after), count)]


def test_fixed_time_cron_fires_once_on_the_fall_back_day() -> None:
    # Paris leaves summer time on 2026-10-25 at 03:00 CEST: 02:30 happens twice; jo fires the earlier.
    assert fires("30 2 * * *", PARIS, dt.datetime(2026, 10, 24, 12, tzinfo=PARIS), 3) == [
        "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"]


def test_fixed_time_cron_fires_after_the_gap_on_the_spring_forward_day() -> None:
    # 02:30 does not exist on 2026-03-29 in Paris: the fire moves to the first valid instant, 03:00 CEST.
    assert fires("30 2 * * *", PARIS, dt.datetime(2026, 3, 28, 12, tzinfo=PARIS), 2) == [
        "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    assert fires("0,30 2 * * *", PARIS, dt.datetime(2026, 3, 28, 12, tzinfo=PARIS), 2) == [
        "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]


def test_new_york_dst_and_utc_instants_increase() -> None:
    # America/New_York springs forward on 2026-03-08 at 02:00 EST.
    after = dt.datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK)
    assert fires("*/30 * * * *", NEW_YORK, after, 3) == [
        "2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"]
    fall_back = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    instants = list(itertools.islice(cron_fires("*/15 * * * *", NEW_YORK, after=fall_back), 200))
    assert all(a.astimezone(dt.UTC) < b.astimezone(dt.UTC) for a, b in itertools.pairwise(instants))


def test_a_cron_that_is_not_fixed_time_fires_in_both_repeated_hours() -> None:
    assert fires("*/30 * * * *", PARIS, dt.datetime(2026, 10, 25, 1, 45, tzinfo=PARIS), 5) == [
        "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"]


def test_fires_are_strictly_after_the_start() -> None:
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=PARIS)
    assert fires("0 9 * * *", PARIS, start, 1) == ["2026-01-06T09:00:00+01:00"]
    assert fires("0 9 * * *", PARIS, start.astimezone(dt.UTC), 1) == ["2026-01-06T09:00:00+01:00"]


BASE = dt.datetime(2026, 1, 5, tzinfo=PARIS)
TWO_DAYS = dt.timedelta(days=2)


def test_smallest_gap_of_common_crons() -> None:
    gap = smallest_fire_gap("*/15 * * * *", PARIS, start=BASE, period=TWO_DAYS)
    assert gap is not None and gap.gap == dt.timedelta(minutes=15)
    gap = smallest_fire_gap("0 9,17 * * *", PARIS, start=BASE, period=TWO_DAYS)
    assert gap is not None and gap.gap == dt.timedelta(hours=8)
    gap = smallest_fire_gap("0,50 0,23 * * *", PARIS, start=BASE, period=TWO_DAYS)
    assert gap is not None and gap.gap == dt.timedelta(minutes=10)
    assert (gap.first.isoformat(), gap.second.isoformat()) == ("2026-01-05T23:50:00+01:00", "2026-01-06T00:00:00+01:00")


def test_smallest_gap_starts_at_the_first_fire() -> None:
    gap = smallest_fire_gap("0,5 9 1 * *", PARIS, start=BASE, period=TWO_DAYS)
    assert gap is not None
    assert (gap.first.isoformat(), gap.gap) == ("2026-02-01T09:00:00+01:00", dt.timedelta(minutes=5))


def test_smallest_gap_is_none_with_one_fire_in_the_period() -> None:
    assert smallest_fire_gap("0 0 1 1 *", PARIS, start=BASE, period=TWO_DAYS) is None


def test_smallest_gap_is_real_time_across_dst() -> None:
    # 01:50 CET and 03:00 CEST on 2026-03-29 are ten minutes apart.
    gap = smallest_fire_gap("0,50 1,3 * * *", PARIS, start=dt.datetime(2026, 3, 28, 12, tzinfo=PARIS),
                            period=TWO_DAYS)
    assert gap is not None and gap.gap == dt.timedelta(minutes=10)
    assert gap.first.isoformat() == "2026-03-29T01:50:00+01:00"


def test_smallest_gap_stops_early_below_a_bound() -> None:
    gap = smallest_fire_gap("* * * * *", PARIS, start=BASE, period=dt.timedelta(days=365),
                            below=dt.timedelta(minutes=15))
    assert gap is not None and gap.second - gap.first == dt.timedelta(minutes=1)
    assert gap.first.isoformat() == "2026-01-05T00:01:00+01:00"


def test_smallest_gap_respects_max_fires() -> None:
    gap = smallest_fire_gap("0 9 * * *", PARIS, start=BASE, period=dt.timedelta(days=365), max_fires=3)
    assert gap is not None and gap.gap == dt.timedelta(days=1)


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_iana_zones_load(name: str) -> None:
    assert load_zone(name) is not None
    assert validate_timezone(name) is None


@pytest.mark.parametrize(("name", "suggestion"), [
    ("Europe/Pariss", "Europe/Paris"),
    ("europe/paris", "Europe/Paris"),
    ("Paris", "Europe/Paris"),
    ("America/New York", "America/New_York"),
    ("Asia/Tokio", "Asia/Tokyo"),
])
def test_zone_suggestions(name: str, suggestion: str) -> None:
    assert suggest_timezone(name) == suggestion
    assert validate_timezone(name) == f"`{name}` is not an IANA time zone; did you mean `{suggestion}`?"


@pytest.mark.parametrize("name", ["", "localtime", "posixrules", "Factory", "posix/Europe/Paris", "Europe",
                                  "/etc/localtime", "../../etc/passwd", "Europe/Paris\x00", "x" * 5000])
def test_not_iana_zones_never_raise(name: str) -> None:
    assert load_zone(name) is None
    assert isinstance(validate_timezone(name), str)


def test_parse_datetime() -> None:
    assert parse_datetime("2026-12-01T09:00:00Z") == dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    assert parse_datetime("2026-12-01t09:00z") == dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    assert parse_datetime("2026-12-01 09:00:00+02:00") == dt.datetime(2026, 12, 1, 7, tzinfo=dt.UTC)
    assert parse_datetime("2026-12-01T09:00:00") == dt.datetime(2026, 12, 1, 9)
    for bad in ("2026-12-01", "2026-13-01T00:00:00Z", "soon", 5, None, "2026-12-01T09:00:00+2"):
        assert parse_datetime(bad) is None


def test_not_before() -> None:
    utc = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    naive = dt.datetime(2026, 12, 1, 1)
    assert not_before(utc, utc, None)
    assert not not_before(utc, utc + dt.timedelta(seconds=1), None)
    assert not_before(naive, utc, PARIS)  # 01:00 in Paris is 00:00Z
    assert not_before(naive, utc, NEW_YORK)  # 06:00Z
    assert not not_before(naive, utc, ZoneInfo("Asia/Tokyo"))  # 16:00Z the day before
    assert not not_before(naive, utc, None)  # depends on the zone: not reported
    assert not_before(naive + dt.timedelta(days=2), utc, None)  # later in every zone
    assert not_before(dt.datetime(2026, 12, 1, 9), dt.datetime(2026, 12, 1, 8), None)


# ---------------------------------------------------------------- last_fire (the latest fire at or before an instant)


def _walked(expr: str, zone: dt.tzinfo, *, at: dt.datetime, after: dt.datetime) -> dt.datetime | None:
    """What `last_fire` replaces (dry-run's fire_time before issue 12): every fire from `after`, forward."""
    latest = None
    for fire in cron_fires(expr, zone, after=after):
        fire = fire.astimezone(dt.UTC)
        if fire > at:
            break
        latest = fire
    return latest


def _transitions(zone: dt.tzinfo, start: dt.datetime, stop: dt.datetime) -> list[dt.datetime]:
    """The instants (to the quarter hour) at which `zone`'s offset changes between `start` and `stop`."""
    found, quarter = [], dt.timedelta(minutes=15)
    moment = start
    while moment < stop:
        if (moment + quarter).astimezone(zone).utcoffset() != moment.astimezone(zone).utcoffset():
            found.append(moment + quarter)
        moment += quarter
    return found


LAST_FIRE_CRONS = ("*/5 * * * *", "30 2 * * *", "0 2 * * *", "59 1 * * *", "0,30 1,2,3 * * *",
                   "0 * * * *", "15 */2 * * *", "0 9 * * MON-FRI", "0 3 * * 0", "0 0 * * *", "30 23,0 * * *",
                   "*/17 1-3 * * *", "0 1 L * *")
# Fall-back and spring-forward (Europe, the Americas), a 30-minute DST (Lord Howe), negative DST (Dublin), DST at
# midnight (Santiago, Havana, Beirut), a 2-hour DST (Troll), half-hour offsets (St John's, Kolkata).
LAST_FIRE_ZONES = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Europe/Dublin", "America/Santiago",
                   "America/Havana", "Asia/Beirut", "Antarctica/Troll", "America/St_Johns", "Asia/Kolkata",
                   "America/Sao_Paulo", "UTC")


@pytest.mark.parametrize("zone_name", LAST_FIRE_ZONES)
def test_last_fire_agrees_with_the_forward_walk_across_dst(zone_name: str) -> None:
    """Around each offset change of 2026 (minutes before, inside the repeated or skipped hour, the day after)
    and at ordinary instants: the same fire as walking every fire forward from `after`."""
    zone = ZoneInfo(zone_name)
    year = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    changes = _transitions(zone, *year)
    instants = [change + dt.timedelta(minutes=minutes) for change in changes
                for minutes in (-61, -60, -31, -1, 0, 1, 29, 30, 31, 59, 60, 61, 90, 121, 24 * 60 + 1)]
    instants += [dt.datetime(2026, 6, 15, 12, 34, 56, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)]
    inside = [change + dt.timedelta(minutes=30) for change in changes] + instants[-1:]
    for expr in LAST_FIRE_CRONS:
        frequent = expr.startswith("*")
        for at in inside if frequent else instants:  # the walk of a minutely cron is the slow side: fewer
            after = at - dt.timedelta(days=3)
            assert last_fire(expr, zone, at=at, after=after) == _walked(expr, zone, at=at, after=after), (expr, at)


@pytest.mark.parametrize("expr", ["0 0 29 2 *", "0 9 1 1 *", "0 9 * * 1#2", "0 0 1 1,7 *", "0 9 L 2 *"])
def test_last_fire_of_sparse_crons_over_a_year(expr: str) -> None:
    """A year back, as dry-run looks (a leap-day cron may have no fire in it)."""
    for at in (dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC), dt.datetime(2028, 3, 1, tzinfo=dt.UTC),
               dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), dt.datetime(2029, 1, 1, tzinfo=dt.UTC)):
        after = at - dt.timedelta(days=366)
        assert last_fire(expr, PARIS, at=at, after=after) == _walked(expr, PARIS, at=at, after=after), at


def test_last_fire_includes_a_fire_at_the_instant_itself() -> None:
    at = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)  # 09:00 in Paris
    assert last_fire("0 9 * * *", PARIS, at=at, after=at - dt.timedelta(days=366)) == at
    assert last_fire("0 9 * * *", PARIS, at=at - dt.timedelta(seconds=1), after=at - dt.timedelta(days=366)) \
        == at - dt.timedelta(days=1)


def test_last_fire_on_a_fall_back_day_is_the_first_of_the_two_instants() -> None:
    """01:30 happens twice in New York on 2026-11-01; a fixed-time cron fires at the first (cron_fires' rule)."""
    after_both = dt.datetime(2026, 11, 1, 7, 0, tzinfo=dt.UTC)  # 02:00 EST, after the repeated hour
    first = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)  # 01:30 EDT
    assert last_fire("30 1 * * *", NEW_YORK, at=after_both, after=after_both - dt.timedelta(days=366)) == first


@pytest.mark.parametrize(("expr", "bound"), [("* * * * *", 4_000), ("*/5 * * * *", 1_000), ("0 9 * * *", 400)])
def test_last_fire_asks_croniter_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch, expr: str,
                                                            bound: int) -> None:
    """Counted, not timed: a year of minutely fires is 527,040 steps of the forward walk; the margin of the walk
    after `get_prev` (two days) costs at most ~2,900. A daily cron on a DST day falls back to the year's walk."""
    from croniter import croniter

    calls = {"next": 0, "prev": 0}
    real_next, real_prev = croniter.get_next, croniter.get_prev

    def counted_next(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["next"] += 1
        return real_next(self, *args, **kwargs)

    def counted_prev(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["prev"] += 1
        return real_prev(self, *args, **kwargs)

    monkeypatch.setattr(croniter, "get_next", counted_next)
    monkeypatch.setattr(croniter, "get_prev", counted_prev)
    for at in (dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)):
        calls.update(next=0, prev=0)
        found = last_fire(expr, PARIS, at=at, after=at - dt.timedelta(days=366))
        assert found is not None and found <= at
        assert calls["prev"] == 1 and calls["next"] <= bound, (at, calls)


def test_last_fire_at_the_calendar_ends() -> None:
    start = dt.datetime(1, 1, 5, tzinfo=dt.UTC)
    assert last_fire("0 0 1 1 *", PARIS, at=start, after=start - dt.timedelta(days=2)) is None  # before year 1
    end = dt.datetime(9999, 12, 27, tzinfo=dt.UTC)
    assert last_fire("0 0 1 1 *", ZoneInfo("Etc/GMT+12"), at=end, after=end - dt.timedelta(days=366)) \
        == dt.datetime(9999, 1, 1, 12, tzinfo=dt.UTC)
    assert list(cron_fires("0 0 1 1 *", PARIS, after=end)) == []  # the next one would be in year 10000


def test_smallest_fire_gap_at_the_calendar_end() -> None:
    start = dt.datetime(9999, 12, 20, tzinfo=dt.UTC)
    gap = smallest_fire_gap("0 9 * * *", PARIS, start=start, period=dt.timedelta(days=400))
    assert gap is not None and gap.gap == dt.timedelta(days=1)
