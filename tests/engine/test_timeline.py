"""Logical time, the order at one logical time, zones and DST (SPEC §5.1, §6.3, §8 `now()`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from tests.engine.helpers import PARIS, Sim, at, event, journey, simulate

T0 = "2026-12-01T08:00:00Z"  # the default origin: the audience fire (09:00 in Paris)
WALL = at("2026-12-01T00:00:00")  # the helpers' fixed wall clock


def _fire(text: str, profiles: Mapping[str, dict[str, Any]] | None = None, *, first: str = "s",
          journey_id: str = "j", **options: Any) -> Sim:
    head = f"id: {journey_id}\nentry: {{type: audience, audience: all, next: {first}}}\n"
    return simulate(journey(head + text), profiles, audiences={"all": "true"}, **options)


def _outcomes(sim: Sim, step: str) -> dict[str, str]:
    return {e.profile: e.outcome for e in sim.step_events() if e.step == step}


def _rows(*ids: str, **fields: Any) -> dict[str, dict[str, Any]]:
    return {pid: {"id": pid, **fields} for pid in ids}


def _by_event(text: str, times: Mapping[str, str], until: str, **options: Any) -> Sim:
    """Each profile enters by its own `go` event at its own time."""
    sim = simulate(journey("entry: {type: event, event: go, next: s}\n" + text), _rows(*times), **options)
    sim.push(*(event("go", when, pid) for pid, when in times.items()))
    return sim.run(until)


# ---------------------------------------------------------------- logical time


NOW = """
steps:
  pause: {type: wait, duration: P2D, next: s}
  s:
    type: condition
    paths:
      - name: on_time
        when: 'now() == datetime("2026-12-03T08:00:00Z") and journey.entered_at == datetime("2026-12-01T09:00:00")'
        next: end
    otherwise: end
"""


def test_now_is_the_instances_logical_time_in_one_pass() -> None:
    sim = _fire(NOW, first="pause").run("2026-12-20T00:00:00")
    assert sim.steps("p1") == [("pause", "2026-12-03T08:00:00Z", "next"), ("s", "2026-12-03T08:00:00Z", "on_time")]


def test_now_is_the_instances_logical_time_when_woken_late() -> None:
    sim = _fire(NOW, first="pause").run("2026-12-01T09:00:00").run("2027-01-15T00:00:00")
    assert _outcomes(sim, "s") == {"p1": "on_time"}


def test_now_at_an_event_entry_is_the_events_at() -> None:
    text = """
steps:
  s:
    type: condition
    paths: [{name: on_time, when: 'now() == datetime("2026-12-01T10:15:00Z")', next: end}]
    otherwise: end
"""
    sim = simulate(journey("entry: {type: event, event: go, next: s}\n" + text))
    sim.push(event("go", "2026-12-01T10:15:00")).run("2026-12-09T00:00:00")
    assert sim.steps("p1") == [("s", "2026-12-01T10:15:00Z", "on_time")]


def test_step_events_record_the_wall_clock_beside_the_logical_time() -> None:
    sim = _fire(NOW, first="pause").run("2026-12-20T00:00:00")
    assert {(e.at, e.processed_at) for e in sim.step_events()} == {(at("2026-12-03T08:00:00"), WALL)}


def test_a_wait_woken_in_a_later_run_records_its_own_due_time() -> None:
    text = """
steps:
  s: {type: wait, duration: P2D, next: office}
  office:
    type: time-condition
    paths: [{name: morning, from: "09:00", to: "09:30", next: send}]
    otherwise: end
  send: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: end}
"""
    sim = _fire(text).run("2026-12-01T12:00:00")
    assert sim.waiting() == {"s": ["p1"]}
    sim.run("2026-12-10T17:00:00")
    assert sim.steps("p1") == [("s", "2026-12-03T08:00:00Z", "next"), ("office", "2026-12-03T08:00:00Z", "morning"),
                               ("send", "2026-12-03T08:00:00Z", "sent")]
    assert [(m["key"], m["at"]) for m in sim.delivery.messages] == [("journey:j:p1:1:send", at("2026-12-03T08:00:00"))]


# ---------------------------------------------------------------- events and waiting steps at one time


WAIT_EVENT = """
steps:
  s: {type: wait-event, event: purchase, timeout: PT1H, next: end, timeout_next: late}
  late: {type: end}
"""


def test_an_event_at_exactly_the_time_an_instance_reaches_a_wait_event_counts() -> None:
    sim = _fire(WAIT_EVENT).push(event("purchase", "2026-12-01T08:00:00")).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", T0, "next")]
    assert [(r.journey, r.result) for r in sim.store.event_results] == [("j", "consumed")]


def test_an_event_at_exactly_the_time_a_wake_up_reaches_a_wait_event_counts() -> None:
    text = WAIT_EVENT.replace("steps:\n", "steps:\n  pause: {type: wait, duration: PT1H, next: s}\n")
    sim = _fire(text, first="pause").push(event("purchase", "2026-12-01T09:00:00")).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("pause", "2026-12-01T09:00:00Z", "next"), ("s", "2026-12-01T09:00:00Z", "next")]


def test_an_event_at_exactly_the_timeout_wins_over_the_timeout() -> None:
    sim = _fire(WAIT_EVENT).push(event("purchase", "2026-12-01T09:00:00")).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", "2026-12-01T09:00:00Z", "next")]
    assert sim.ends() == {"end": ["p1"]}


def test_an_event_after_the_timeout_does_not_count() -> None:
    sim = _fire(WAIT_EVENT).push(event("purchase", "2026-12-01T09:00:01")).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", "2026-12-01T09:00:00Z", "timeout"), ("late", "2026-12-01T09:00:00Z", "end")]


LATE_WAIT = WAIT_EVENT.replace("steps:\n", "steps:\n  pause: {type: wait, duration: PT1H, next: s}\n") \
    .replace("timeout: PT1H", "timeout: PT2H")  # reaches the wait-event at 09:00Z, times out at 11:00Z


def test_an_event_before_the_instance_reached_the_step_does_not_count() -> None:
    sim = _fire(LATE_WAIT, first="pause").push(event("purchase", "2026-12-01T08:30:00")).run("2026-12-02T00:00:00")
    assert sim.ends() == {"late": ["p1"]}
    assert ("s", "2026-12-01T11:00:00Z", "timeout") in sim.steps("p1")


def test_a_late_pushed_event_from_before_the_step_was_reached_does_not_count() -> None:
    sim = _fire(LATE_WAIT, first="pause").run("2026-12-01T10:00:00")
    sim.push(event("purchase", "2026-12-01T08:59:59")).run("2026-12-02T00:00:00")
    assert sim.ends() == {"late": ["p1"]}


def test_a_late_pushed_event_from_while_the_step_waited_counts_at_its_own_time() -> None:
    sim = _fire(LATE_WAIT, first="pause").run("2026-12-01T10:00:00")
    sim.push(event("purchase", "2026-12-01T09:30:00")).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("pause", "2026-12-01T09:00:00Z", "next"), ("s", "2026-12-01T09:30:00Z", "next")]


def test_events_after_the_runs_now_stay_queued() -> None:
    sim = _fire(WAIT_EVENT.replace("PT1H", "P3D")).push(event("purchase", "2026-12-02T10:00:00"))
    sim.run("2026-12-02T09:59:59")
    assert sim.waiting() == {"s": ["p1"]}
    assert [e.at for e in sim.store.queued] == [at("2026-12-02T10:00:00")]
    assert sim.store.event_results == []
    sim.run("2026-12-02T10:00:00")
    assert sim.steps("p1") == [("s", "2026-12-02T10:00:00Z", "next")]
    assert sim.store.queued == []


# ---------------------------------------------------------------- the order at one logical time


def test_events_run_by_at_then_push_order() -> None:
    text = """
settings: {reentrance: {allowed: false}}
steps:
  s:
    type: condition
    paths: [{name: first, when: 'event.n == 1', next: end}]
    otherwise: end
"""
    sim = simulate(journey("entry: {type: event, event: go, next: s}\n" + text), _rows("late", "tie"))
    sim.push(event("go", "2026-12-01T10:00:01", "late", n=1), event("go", "2026-12-01T10:00:00", "late", n=2),
             event("go", "2026-12-01T10:00:00", "tie", n=1), event("go", "2026-12-01T10:00:00", "tie", n=2))
    sim.run("2026-12-02T00:00:00")
    assert _outcomes(sim, "s") == {"late": "otherwise", "tie": "first"}
    assert [(d.profile, d.reason) for d in sim.store.discards] == [("tie", "reentrance_not_allowed"),
                                                                    ("late", "reentrance_not_allowed")]


WRITER = """
id: writer
entry: {type: event, event: upgrade, next: s}
steps:
  s: {type: update-profile, set: {tier: '"gold"'}, next: end}
"""


def test_events_at_t_run_before_fires_at_t() -> None:
    reader = journey("id: reader\nentry: {type: audience, audience: gold, next: s}\nsteps:\n  s: {type: end}")
    sim = simulate([reader, journey(WRITER)], _rows("p1", tier="silver"),
                   audiences={"gold": 'profile.tier == "gold"'})
    sim.push(event("upgrade", "2026-12-01T08:00:00")).run("2026-12-02T00:00:00")
    assert [(i.journey, i.profile) for i in sim.store.instances] == [("writer", "p1"), ("reader", "p1")]


def test_fires_at_t_run_by_journey_id_with_members_in_source_row_order() -> None:
    text = "steps:\n  s: {type: end}"
    jobs = [journey(f"id: {jid}\nentry: {{type: audience, audience: all, next: s}}\n{text}") for jid in ("b", "a")]
    sim = simulate(jobs, _rows("p2", "p1"), audiences={"all": ["p1", "p2"]}).run("2026-12-02T00:00:00")
    assert [(i.journey, i.profile) for i in sim.store.instances] == [("a", "p2"), ("a", "p1"), ("b", "p2"),
                                                                     ("b", "p1")]


def test_wake_ups_at_t_run_by_entry_sequence() -> None:
    text = """
steps:
  s: {type: wait, until: 'datetime("2026-12-01T12:00:00Z")', next: cap}
  cap: {type: profile-cap, cap: 1, next: end, over_cap: end}
"""
    sim = _by_event(text, {"p1": "2026-12-01T09:00:00", "p2": "2026-12-01T08:00:00"}, "2026-12-02T00:00:00")
    assert [(e.profile, e.outcome) for e in sim.step_events() if e.step == "cap"] == [("p2", "next"),
                                                                                       ("p1", "over_cap")]


def test_wake_ups_at_t_run_before_timeouts_at_t() -> None:
    setter = journey("""
id: a-setter
entry: {type: audience, audience: all, next: pause}
steps:
  pause: {type: wait, duration: PT1H, next: s}
  s: {type: update-profile, set: {tier: '"gold"'}, next: end}
""")
    waiter = journey("""
id: b-waiter
entry: {type: audience, audience: all, next: w}
steps:
  w: {type: wait-event, event: purchase, timeout: PT1H, next: end}
  tier:
    type: condition
    paths: [{name: gold, when: 'profile.tier == "gold"', next: end}]
    otherwise: end
""".replace("next: end}\n  tier", "next: end, timeout_next: tier}\n  tier"))
    sim = simulate([waiter, setter], _rows("p1", tier="silver"), audiences={"all": "true"}).run("2026-12-02T00:00:00")
    assert [(e.journey, e.step, e.outcome) for e in sim.step_events()] == [
        ("a-setter", "pause", "next"), ("a-setter", "s", "next"), ("b-waiter", "w", "timeout"),
        ("b-waiter", "tier", "gold")]


# ---------------------------------------------------------------- zones and DST


def test_an_exact_p1d_wait_across_the_fall_back_day_lands_an_hour_earlier_in_local_time() -> None:
    text = "steps:\n  s: {type: wait, duration: P1D, next: end}"
    sim = _fire(text, origin="2026-10-24T08:00:00").run("2026-10-27T00:00:00")  # 10:00 CEST on Saturday
    assert sim.steps("p1") == [("s", "2026-10-25T08:00:00Z", "next")]
    woke = sim.step_events("p1")[0].at.astimezone(PARIS)
    assert (woke.day, woke.hour) == (25, 9)


TIME_DST = """
steps:
  s:
    type: time-condition
    paths:
      - {name: morning, days: [sun], from: "09:00", to: "10:00", next: end}
      - {name: gap, days: [sun], from: "02:00", to: "03:00", next: end}
      - {name: after_gap, days: [sun], from: "03:00", to: "04:00", next: end}
    otherwise: end
"""


def test_time_condition_on_the_spring_forward_day() -> None:
    times = {  # 2026-03-29, Europe/Paris: 02:00 CET becomes 03:00 CEST at 01:00Z
        "0830_cest": "2026-03-29T06:30:00", "0930_cest": "2026-03-29T07:30:00", "1030_cest": "2026-03-29T08:30:00",
        "0159_cet": "2026-03-29T00:59:59", "0300_cest": "2026-03-29T01:00:00", "0930_cet_sat": "2026-03-28T08:30:00",
    }
    sim = _by_event(TIME_DST, times, "2026-04-01T00:00:00")
    assert _outcomes(sim, "s") == {"0830_cest": "otherwise", "0930_cest": "morning", "1030_cest": "otherwise",
                                   "0159_cet": "otherwise", "0300_cest": "after_gap", "0930_cet_sat": "otherwise"}


def test_time_condition_on_the_fall_back_day() -> None:
    times = {  # 2026-10-25, Europe/Paris: 03:00 CEST becomes 02:00 CET at 01:00Z
        "0830_cet": "2026-10-25T07:30:00", "0930_cet": "2026-10-25T08:30:00", "1030_cet": "2026-10-25T09:30:00",
        "0159_cest": "2026-10-24T23:59:59", "0200_cest": "2026-10-25T00:00:00", "0230_cest": "2026-10-25T00:30:00",
        "0230_cet": "2026-10-25T01:30:00", "0300_cet": "2026-10-25T02:00:00",
    }
    sim = _by_event(TIME_DST, times, "2026-10-28T00:00:00")
    assert _outcomes(sim, "s") == {"0830_cet": "otherwise", "0930_cet": "morning", "1030_cet": "otherwise",
                                   "0159_cest": "otherwise", "0200_cest": "gap", "0230_cest": "gap", "0230_cet": "gap",
                                   "0300_cet": "after_gap"}


def test_wait_until_a_local_literal_inside_a_dst_gap_moves_to_the_first_valid_instant_after_it() -> None:
    text = "steps:\n  s: {type: wait, until: 'datetime(\"2026-03-29T02:30:00\")', next: end}"
    sim = _fire(text, origin="2026-03-28T08:00:00").run("2026-03-29T00:59:59")
    assert sim.waiting() == {"s": ["p1"]}
    sim.run("2026-03-30T00:00:00")
    assert sim.steps("p1") == [("s", "2026-03-29T01:00:00Z", "next")]
    assert sim.step_events("p1")[0].at.astimezone(PARIS).strftime("%H:%M %Z") == "03:00 CEST"


def test_wait_until_a_local_literal_is_read_in_the_profile_zone_with_use_profile_timezone() -> None:
    text = """
settings: {use_profile_timezone: %s}
steps:
  s: {type: wait, until: 'datetime("2026-12-02T09:00:00")', next: end}
"""
    zones = {"tokyo": "Asia/Tokyo", "la": "America/Los_Angeles"}
    rows = _rows("paris", "tokyo", "la")
    own = _fire(text % "true", rows, zones=zones).run("2026-12-05T00:00:00")
    assert {e.profile: e.at for e in own.step_events()} == {
        "tokyo": at("2026-12-02T00:00:00"), "paris": at("2026-12-02T08:00:00"), "la": at("2026-12-02T17:00:00")}
    journey_zone = _fire(text % "false", rows, zones=zones).run("2026-12-05T00:00:00")
    assert {e.at for e in journey_zone.step_events()} == {at("2026-12-02T08:00:00")}


def test_a_journey_timezone_setting_is_the_zone_of_its_time_conditions() -> None:
    text = """
settings: {timezone: Asia/Tokyo}
steps:
  s:
    type: time-condition
    paths: [{name: evening, from: "17:00", to: "18:00", next: end}]
    otherwise: end
"""
    sim = _fire(text, origin="2026-12-01T08:30:00").run("2026-12-02T00:00:00")  # 17:30 in Tokyo, 09:30 in Paris
    assert _outcomes(sim, "s") == {"p1": "evening"}
    assert journey("entry: {type: event, event: go, next: s}\n" + text).zone == ZoneInfo("Asia/Tokyo")


def test_a_timeout_left_behind_by_an_event_does_not_wake_a_later_parking_at_the_same_instant() -> None:
    """The wait-event `a` times out at 12:00 but its event comes at 09:00; after a wait, `b` also times out at
    12:00: the instance wakes once, from `b` (the first parking's entry stays stale: tokens never restart)."""
    sim = simulate(journey("""
entry: {type: event, event: signup, next: a}
steps:
  a: {type: wait-event, event: order, timeout: PT4H, next: w}
  w: {type: wait, duration: PT1H, next: b}
  b: {type: wait-event, event: visit, timeout: PT2H, next: end}
"""), _rows("p0", "p1"))
    # p0 keeps a valid 12:00 timeout ahead of p1's stale one, so the stale entry is not dropped on the way
    sim.push(event("signup", "2026-12-01T08:00:00", "p0"), event("signup", "2026-12-01T08:00:00", "p1"),
             event("order", "2026-12-01T09:00:00", "p1"))
    sim.run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("a", "2026-12-01T09:00:00Z", "next"), ("w", "2026-12-01T10:00:00Z", "next"),
                               ("b", "2026-12-01T12:00:00Z", "timeout")]
    assert sim.ends() == {"end": ["p0", "p1"]}
