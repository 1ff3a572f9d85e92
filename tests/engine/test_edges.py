"""Instants and durations at the edges of the calendar (issue 12): nothing overflows, nothing crashes.

Python's datetimes end at years 1 and 9999; jo's timeline is
`durations.EARLIEST`..`LATEST` (four days inside). Input instants off it are
refused where they are read (an event's `at`: a located reject; `--now`: exit
2), durations saturate (`durations.later` gives `NEVER`), and the engine
runs no logical time off the timeline, whatever the store holds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jo_cli import durations
from jo_cli.data.events import Event, EventReject, read_events
from jo_cli.durations import ALWAYS, EARLIEST, LATEST, NEVER
from jo_cli.engine.memory import MemoryRuleCounters, MemoryStore, SingleFire
from jo_cli.engine.policy import Policy, channels_of, rule_sets_of
from jo_cli.errors import JoError
from tests.conftest import REPO
from tests.engine.helpers import journey, simulate

UTC = dt.UTC
MIN = dt.datetime.min.replace(tzinfo=UTC)
MAX = dt.datetime.max.replace(tzinfo=UTC)
DAY = dt.timedelta(days=1)
EDGES = (MIN, MIN + dt.timedelta(hours=1), EARLIEST - dt.timedelta(seconds=1), EARLIEST, EARLIEST + DAY,
         dt.datetime(2026, 12, 1, 8, tzinfo=UTC), LATEST - DAY, LATEST - dt.timedelta(seconds=1), LATEST,
         LATEST + dt.timedelta(seconds=1), MAX - dt.timedelta(hours=1), MAX)
INSTANTS = st.one_of(
    st.sampled_from(EDGES),
    st.datetimes(dt.datetime.min, dt.datetime(1, 1, 8)).map(lambda t: t.replace(tzinfo=UTC)),
    st.datetimes(dt.datetime(9999, 12, 24), dt.datetime.max).map(lambda t: t.replace(tzinfo=UTC)),
)
TIMEDELTAS = st.one_of(st.sampled_from((dt.timedelta(0), dt.timedelta(seconds=1), DAY, dt.timedelta(days=91),
                                        dt.timedelta(days=99_999_999), dt.timedelta.max)),
                       st.timedeltas(min_value=dt.timedelta(0)))
DURATIONS = st.sampled_from(("PT0S", "PT1S", "PT1H", "P1D", "P91D", "P99999999D", "P999999999D", "P142857142W"))
# A profile's `day` as a wait-until reads it: dates and date-times at both ends of the calendar.
DAYS = st.sampled_from((dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2026, 12, 2), MIN, MAX, LATEST, EARLIEST))
ZONES = st.sampled_from(("Pacific/Kiritimati", "Etc/GMT+12", "Europe/Paris", "America/St_Johns", "UTC"))

JOURNEY = """
entry: {type: event, event: signup, next: day}
settings:
  use_profile_timezone: true
  reentrance: {allowed: true, wait: %(reentrance)s}
  rules: default
steps:
  day: {type: wait, until: profile.day, next: hold}
  hold: {type: wait, duration: %(wait)s, next: hour}
  hour:
    type: time-condition
    paths: [{name: night, from: "21:00", to: "08:00", next: dates}]
    otherwise: dates
  dates:
    type: date-condition
    paths: [{name: sale, from: "9999-12-01", to: "9999-12-31", next: listen}]
    otherwise: listen
  listen: {type: wait-event, event: order, timeout: %(timeout)s, next: mail, timeout_next: mail}
  mail:
    type: message
    channel: email
    content: {subject: hi, body: hi}
    next: clicked
  clicked: {type: reaction, to: mail, on: clicked, timeout: %(timeout)s, next: end}
"""


def _policy(per: str, zone: str) -> Policy:
    config = {"channels": {"email": {"address": "email"}},
              "rules": {"default": {"capping": [{"channels": ["email"], "max": 1, "per": per}],
                                    "quiet_hours": {"windows": [{"from": "21:00", "to": "08:00"},
                                                                {"from": "00:00", "to": "23:59", "days": ["sun"]}],
                                                    "timezone": "profile", "handling": "queue"}}}}
    return Policy(channels=channels_of(config), rule_sets=rule_sets_of(config), counters=MemoryRuleCounters(),
                  project_zone=ZoneInfo("UTC"), zone_of=lambda profile: ZoneInfo(zone))


def _event(name: str, at: dt.datetime, profile: str, line: int) -> Event:
    payload = {"profile": profile} if name.startswith("message_") else {"customer_id": profile}
    return Event(line=line, id=None, name=name, at=at, payload=payload, profile=profile)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(times=st.lists(st.tuples(st.sampled_from(("signup", "order", "message_clicked")), INSTANTS), max_size=6),
       now=INSTANTS, wait=DURATIONS, timeout=DURATIONS, reentrance=DURATIONS, per=DURATIONS, zone=ZONES,
       day=DAYS)
def test_engine_never_overflows_at_the_calendar_edges(times: list[tuple[str, dt.datetime]], now: dt.datetime,
                                                      wait: str, timeout: str, reentrance: str, per: str, zone: str,
                                                      day: Any) -> None:
    """Events at any instant (the store takes what a reader would refuse), any horizon, saturating durations:
    the engine runs only on the timeline, and a second pass to a later horizon moves on from the first."""
    compiled = journey(JOURNEY % {"wait": wait, "timeout": timeout, "reentrance": reentrance})
    profiles = {"p1": {"id": "p1", "email": "a@b.c", "day": day}, "p2": {"id": "p2", "email": "d@e.f", "day": None}}
    sim = simulate(compiled, profiles, zones={"p1": zone, "p2": zone}, policy=_policy(per, zone),
                   fires=SingleFire(now))
    sim.push(*(_event(name, at, "p1" if index % 2 else "p2", index) for index, (name, at) in enumerate(times)))
    sim.run(now)
    sim.run(MAX)
    for step in sim.store.steps:
        assert EARLIEST <= step.at <= LATEST, step
    for instance in sim.store.instances:
        assert EARLIEST <= instance.entered_at <= LATEST
        assert instance.end is not None or instance.wake_at is None or instance.wake_at > LATEST or \
            instance.wake_at >= instance.entered_at


def test_a_wait_past_the_calendar_end_never_wakes() -> None:
    compiled = journey("entry: {type: event, event: signup, next: hold}\n"
                       "steps:\n  hold: {type: wait, duration: P99999999D, next: end}")
    sim = simulate(compiled, {"p1": {"id": "p1"}}).push(_event("signup", LATEST - DAY, "p1", 1))
    sim.run(MAX)
    assert sim.waiting() == {"hold": ["p1"]}  # parked until the P91D lifetime, itself past the timeline's end
    assert sim.store.instances[0].wake_at == NEVER


def test_quiet_hours_and_capping_at_the_last_instant() -> None:
    """Near LATEST, in a zone 14 hours ahead: the quiet period ends on a day that still exists; capping looks
    back P999999999D (before year 1) without overflowing, and still counts."""
    compiled = journey("entry: {type: event, event: signup, next: mail}\nsettings: {rules: default}\n"
                       "steps:\n  mail: {type: message, channel: email, content: {subject: s, body: b}, next: end}")
    sim = simulate(compiled, {"p1": {"id": "p1", "email": "a@b.c"}},
                   policy=_policy("P999999999D", "Pacific/Kiritimati"))
    sim.push(_event("signup", LATEST - dt.timedelta(hours=10), "p1", 1), _event("signup", LATEST, "p1", 2))
    sim.run(MAX)
    assert sim.steps() == [("mail", "9999-12-26T14:00:00Z", "queued"),  # 04:00 on the 27th in Kiritimati
                           ("mail", "9999-12-26T18:00:00Z", "sent"),  # released at 08:00 local
                           ("mail", "9999-12-27T00:00:00Z", "excluded")]  # the second entry: capped


@settings(deadline=None, database=None)  # no deadline: a loaded machine must not fail it
@given(at=INSTANTS, delta=TIMEDELTAS)
def test_later_and_earlier_saturate(at: dt.datetime, delta: dt.timedelta) -> None:
    assert at <= durations.later(at, delta) <= NEVER
    assert ALWAYS <= durations.earlier(at, delta) <= at
    if delta <= MAX - at:
        assert durations.later(at, delta) == at + delta
    else:
        assert durations.later(at, delta) == NEVER
    if delta <= at - MIN:
        assert durations.earlier(at, delta) == at - delta
    else:
        assert durations.earlier(at, delta) == ALWAYS


@settings(max_examples=200, deadline=None, database=None)
@given(when=st.one_of(INSTANTS, st.datetimes(dt.datetime.min, dt.datetime.max, timezones=st.integers(-1439, 1439).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))))), naive=st.booleans())
def test_event_at_off_the_timeline_is_a_located_reject(when: dt.datetime, naive: bool) -> None:
    text = when.replace(tzinfo=None).isoformat() if naive else when.isoformat()
    line = json.dumps({"event": "order", "at": text, "payload": {"customer_id": "p1"}})
    events = {"order": {"id": "order", "key": "customer_id", "schema": {"type": "object"}}}
    [item] = read_events([line], shown="ev.jsonl", events=events, zone=ZoneInfo("Pacific/Kiritimati"))
    if isinstance(item, Event):
        assert EARLIEST <= item.at <= LATEST
    else:
        assert isinstance(item, EventReject) and item.line == 1
        assert item.reason.startswith("`at`: ") and item.reason.endswith("is out of range (jo's times run "
                                                                         "0001-01-05 to 9999-12-27)")


# ---------------------------------------------------------------- the dry-run, in process


def _events_file(tmp_path: Path, *ats: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps({"event": "cart_abandoned", "at": at, "payload": {
        "customer_id": "p243", "cart_id": "c", "cart_total": 124.0, "item_count": 1, "items": []}}) + "\n"
        for at in ats))
    return path


@pytest.mark.parametrize("journey_file", ["journeys/abandoned-cart.yaml", "journeys/welcome-series.yaml"])
def test_dry_run_for_a_huge_duration_stops_at_the_timeline_end(run_jo: Any, journey_file: str) -> None:
    ran = run_jo("jo", "dry-run", journey_file, "--now", "2026-12-01T08:00:00Z", "--for", "P99999999D",
                 "--format", "json", cwd=REPO)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["horizon"] == "9999-12-27T00:00:00Z"


@pytest.mark.parametrize("now", ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:00:00",
                                 "0001-01-01T00:30:00+01:00"])
@pytest.mark.parametrize("journey_file", ["journeys/abandoned-cart.yaml", "journeys/welcome-series.yaml"])
def test_dry_run_now_off_the_timeline_is_one_line_exit_2(run_jo: Any, journey_file: str, now: str) -> None:
    ran = run_jo("jo", "dry-run", journey_file, "--now", now, "--format", "json", cwd=REPO)
    assert ran.code == 2, ran.err
    assert ran.err.startswith("jo: error: --now") and "out of range" in ran.err and "Traceback" not in ran.err
    assert ran.err.strip().count("\n") == 0


@pytest.mark.parametrize("placeholder", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59"])
def test_dry_run_rejects_placeholder_event_times_at_their_line(run_jo: Any, tmp_path: Path,
                                                                placeholder: str) -> None:
    """A "never" in an export, in a journey with capping, quiet hours and a re-entrance wait (the demo's
    abandoned cart), beside an ordinary event: rejected at its line, the other one runs."""
    events = _events_file(tmp_path, "2026-12-01T08:00:00Z", placeholder)
    ran = run_jo("jo", "dry-run", "journeys/abandoned-cart.yaml", "--events", str(events), "--until",
                 "9999-12-31T23:59:59Z", "--format", "json", cwd=REPO)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert report["events"]["rejected"] == 1 and report["events"]["read"] == 2
    assert report["horizon"] == "9999-12-27T00:00:00Z"
    [reject] = [r for r in report["rejected_rows"] if r["file"].endswith("events.jsonl")]
    assert reject["line"] == 2 and reject["reason"].startswith(f"`at`: `{placeholder}` is out of range")


def test_dry_run_event_near_the_timeline_end_runs_to_it(run_jo: Any, tmp_path: Path) -> None:
    """Waits, timeouts and the quiet hours of a journey entered days before the end saturate or stay parked."""
    events = _events_file(tmp_path, "9999-12-25T23:00:00Z", "9999-12-26T23:30:00Z")
    ran = run_jo("jo", "dry-run", "journeys/abandoned-cart.yaml", "--events", str(events), "--for", "P999D",
                 "--format", "json", cwd=REPO)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert report["now"] == "9999-12-25T23:00:00Z" and report["horizon"] == "9999-12-27T00:00:00Z"
    assert report["profiles"]["entered"] == 1 and report["profiles"]["discarded"] == {"already_in_journey": 1}
    assert sum(report["ended"].values()) + sum(report["waiting"].values()) == 1


def test_parse_when_out_of_range_is_a_jo_error() -> None:
    from jo_cli.dryrun import parse_when

    with pytest.raises(JoError) as info:
        parse_when("9999-12-31T23:30:00", option="--until", zone=ZoneInfo("America/New_York"))
    assert info.value.exit_code == 2 and info.value.message.startswith("--until: '9999-12-31T23:30:00' is out of")


def test_store_times_off_the_timeline_run_at_its_start() -> None:
    """An event the reader would refuse, queued by some other path: it is taken at EARLIEST, not before."""
    compiled = journey("entry: {type: event, event: signup, next: hold}\n"
                       "steps:\n  hold: {type: wait, duration: P1D, next: end}")
    store = MemoryStore()
    sim = simulate(compiled, {"p1": {"id": "p1"}}, store=store).push(_event("signup", MIN, "p1", 1))
    sim.run(EARLIEST + dt.timedelta(days=2))
    assert sim.store.instances[0].entered_at == EARLIEST
    assert [(e.step, e.at, e.outcome) for e in sim.step_events("p1")] == [("hold", EARLIEST + DAY, "next")]


@pytest.mark.parametrize("cron", ["0 9 * * *", "30 2 * * *", "0 0 29 2 *", "0 0 1 1 *", "*/30 * * * *"])
@pytest.mark.parametrize("now", [EARLIEST, EARLIEST + DAY, dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
                                 dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LATEST])
def test_fire_time_is_the_latest_cron_time_of_the_year_before(cron: str, now: dt.datetime) -> None:
    """§7.1: the latest cron time at or before --now within a year (else --now), at the calendar's ends too."""
    from jo_cli import schedule
    from jo_cli.assembly import fire_time

    compiled = journey(f'entry: {{type: audience, audience: all, schedule: {{cron: "{cron}"}}, next: end}}\n'
                       'steps: {}')
    expected = now
    for fire in schedule.cron_fires(cron, compiled.zone, after=max(durations.earlier(now, 366 * DAY), EARLIEST)):
        if fire.astimezone(UTC) > now:
            break
        expected = fire.astimezone(UTC)
    assert fire_time(compiled, now) == expected


@pytest.mark.parametrize("cron", ["* * * * *", "*/5 * * * *"])
def test_fire_time_of_a_frequent_cron_asks_croniter_a_few_thousand_times(monkeypatch: pytest.MonkeyPatch,
                                                                          cron: str) -> None:
    """Counted, not timed: walking a year of minutely fires forward was 527,040 croniter steps (`*/5`: 105,408);
    the walk after `get_prev` covers two days. The count stops the test as soon as it is over."""
    from croniter import croniter

    from jo_cli.assembly import fire_time

    calls = [0]
    real_next = croniter.get_next

    def counted_next(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        assert calls[0] <= 3_000, "fire_time walks too many cron fires"
        return real_next(self, *args, **kwargs)

    monkeypatch.setattr(croniter, "get_next", counted_next)
    compiled = journey(f'entry: {{type: audience, audience: all, schedule: {{cron: "{cron}"}}, next: end}}\n'
                       'steps: {}')
    now = dt.datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)
    assert fire_time(compiled, now) == dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_dry_run_takes_a_repeated_event_id_once(run_jo: Any, tmp_path: Path) -> None:
    """§5.3: a repeated `id` is a duplicate (as `jo events push` ignores it), not a second event."""
    path = tmp_path / "events.jsonl"
    line = {"id": "ev-1", "event": "cart_abandoned", "at": "2026-12-01T08:00:00Z", "payload": {
        "customer_id": "p243", "cart_id": "c", "cart_total": 124.0, "item_count": 1, "items": []}}
    path.write_text(json.dumps(line) + "\n" + json.dumps({**line, "at": "2026-12-01T08:05:00Z"}) + "\n")
    ran = run_jo("jo", "dry-run", "journeys/abandoned-cart.yaml", "--events", str(path), "--format", "json",
                 cwd=REPO)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert report["events"]["read"] == 2 and report["events"]["rejected"] == 0
    assert report["profiles"]["entered"] == 1 and report["profiles"]["discarded"] == {}  # not already_in_journey
