"""Every step type and outcome (SPEC §6.4), exit_when (§12) and the P91D instance lifetime (§6.1)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from jo_cli.engine import steps as steps_module
from jo_cli.engine.keys import journey_message_key
from jo_cli.engine.ports import ActionResult, Decision
from jo_cli.engine.steps import split_bucket
from jo_cli.engine.tally import count_journey
from tests.engine.helpers import Policy, Sim, at, event, journey, new_store, simulate

T0 = "2026-12-01T08:00:00Z"  # the default origin: the audience fire


def _fire(text: str, profiles: Mapping[str, dict[str, Any]] | None = None, **options: Any) -> Sim:
    """Everyone in `profiles` enters `text` (an audience `all` journey) at the origin."""
    head = "entry: {type: audience, audience: all, next: " + options.pop("first", "s") + "}\n"
    return simulate(journey(head + text), profiles, audiences={"all": "true"}, **options)


def _outcomes(sim: Sim, step: str) -> dict[str, str]:
    """profile -> the outcome taken at `step`."""
    return {e.profile: e.outcome for e in sim.step_events() if e.step == step}


def _at_step(sim: Sim, step: str, profile: str = "p1") -> list[tuple[str, str, str]]:
    """The step events of one step for one profile."""
    return [item for item in sim.steps(profile) if item[0] == step]


def _rows(*ids: str, **fields: Any) -> dict[str, dict[str, Any]]:
    return {pid: {"id": pid, **fields} for pid in ids}


# ---------------------------------------------------------------- condition


CONDITION = """
steps:
  s:
    type: condition
    paths:
      - {name: big, when: 'profile.total > 100', next: end}
      - {name: some, when: 'profile.total > 10', next: end}
    otherwise: small
  small: {type: end}
"""


def test_condition_takes_the_first_true_path_top_to_bottom_else_otherwise() -> None:
    rows = {"p1": {"id": "p1", "total": 500}, "p2": {"id": "p2", "total": 50}, "p3": {"id": "p3", "total": 5},
            "p4": {"id": "p4", "total": None}}
    sim = _fire(CONDITION, rows).run("2026-12-02T00:00:00")
    assert _outcomes(sim, "s") == {"p1": "big", "p2": "some", "p3": "otherwise", "p4": "otherwise"}
    assert sim.ends() == {"end": ["p1", "p2"], "small": ["p3", "p4"]}


def test_condition_without_otherwise_exits_no_path() -> None:
    text = "steps:\n  s:\n    type: condition\n    paths: [{name: big, when: 'profile.total > 100', next: end}]\n"
    sim = _fire(text, _rows("p1", total=5)).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", T0, "no_path")]
    assert sim.ends() == {"no_path": ["p1"]}


ERRORING = """
steps:
  s:
    type: condition
    paths:
      - {name: first, when: 'profile.ok', next: end}
      - {name: numeric, when: 'toInteger(profile.name) > 1', next: end}
    otherwise: end
    %s
  fallback: {type: end}
"""


def test_condition_evaluation_error_takes_on_error() -> None:
    sim = _fire(ERRORING % "on_error: fallback", _rows("p1", name="abc", ok=False)).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", T0, "on_error"), ("fallback", T0, "end")]
    assert "toInteger" in (sim.step_events("p1")[0].detail or "")
    assert sim.ends() == {"fallback": ["p1"]}


def test_condition_evaluation_error_without_on_error_ends_error_with_the_detail() -> None:
    sim = _fire(ERRORING % "", _rows("p1", name="abc", ok=False)).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", T0, "error")]
    detail = sim.step_events("p1")[0].detail or ""
    assert "toInteger" in detail and "abc" in detail
    assert sim.ends() == {"error": ["p1"]}


def test_condition_stops_at_the_first_true_path_before_a_failing_one() -> None:
    sim = _fire(ERRORING % "", _rows("p1", name="abc", ok=True)).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", T0, "first")]


# ---------------------------------------------------------------- split


SPLIT = """
steps:
  s:
    type: split
    paths:
      - {name: a, percent: 33.33, next: end}
      - {name: b, percent: 33.33, next: end}
      - {name: c, percent: 33.34, next: end}
"""


def test_split_bucket_is_the_first_eight_bytes_of_sha256_big_endian() -> None:
    digest = hashlib.sha256(b"welcome:ab-test:p42").digest()
    assert split_bucket("welcome", "ab-test", "p42") == int.from_bytes(digest[:8], "big")


def test_split_takes_the_path_of_the_basis_point_rule() -> None:
    ids = [f"p{n}" for n in range(60)]
    sim = _fire(SPLIT, _rows(*ids)).run("2026-12-02T00:00:00")
    expected = {}
    for pid in ids:
        b = split_bucket("j", "s", pid)
        cumulative = [("a", 3333), ("b", 6666), ("c", 10000)]
        expected[pid] = next(name for name, bp in cumulative if b * 10_000 < bp * 2**64)
    assert _outcomes(sim, "s") == expected
    assert set(expected.values()) == {"a", "b", "c"}  # the sample exercises every path


def test_split_boundaries_use_exact_integer_basis_points(monkeypatch: pytest.MonkeyPatch) -> None:
    first_b = -(-3333 * 2**64 // 10_000)  # the least b with b * 10000 >= 3333 * 2**64
    buckets = {"zero": 0, "last_a": first_b - 1, "first_b": first_b, "top": 2**64 - 1}
    monkeypatch.setattr(steps_module, "split_bucket", lambda journey, step, identity: buckets[identity])
    sim = _fire(SPLIT, _rows(*buckets)).run("2026-12-02T00:00:00")
    assert _outcomes(sim, "s") == {"zero": "a", "last_a": "a", "first_b": "b", "top": "c"}


def test_split_bucket_exactly_on_a_bound_takes_the_next_path(monkeypatch: pytest.MonkeyPatch) -> None:
    buckets = {"below": 2**63 - 1, "on_bound": 2**63}  # 2**63 * 10000 == 5000 * 2**64: not below path a's bound
    monkeypatch.setattr(steps_module, "split_bucket", lambda journey, step, identity: buckets[identity])
    paths = "[{name: a, percent: 50, next: end}, {name: b, percent: 50, next: end}]"
    text = f"steps:\n  s:\n    type: split\n    paths: {paths}"
    sim = _fire(text, _rows(*buckets)).run("2026-12-02T00:00:00")
    assert _outcomes(sim, "s") == {"below": "a", "on_bound": "b"}


def test_split_is_deterministic_per_identity_across_runs_and_reentries() -> None:
    ids = [f"p{n}" for n in range(20)]
    first = _fire(SPLIT, _rows(*ids)).run("2026-12-02T00:00:00")
    again = _fire(SPLIT, _rows(*reversed(ids)), origin="2026-12-05T10:00:00").run("2026-12-06T00:00:00")
    assert _outcomes(first, "s") == _outcomes(again, "s")
    reentry = simulate(journey("entry: {type: event, event: go, next: s}\n" + SPLIT), _rows("p7"))
    reentry.push(event("go", "2026-12-01T08:00:00", "p7"), event("go", "2026-12-02T08:00:00", "p7")).run(
        "2026-12-03T00:00:00")
    assert [o for _, _, o in reentry.steps("p7")] == [_outcomes(first, "s")["p7"]] * 2


# ---------------------------------------------------------------- time-condition


TIME = """
settings: {use_profile_timezone: %s}
steps:
  s:
    type: time-condition
    paths:
      - {name: day, days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00", next: end}
      - {name: evening, days: [mon, tue, wed, thu, fri], from: "18:00", to: "23:00", next: end}
    otherwise: end
"""
ZONES = {"tokyo": "Asia/Tokyo", "la": "America/Los_Angeles"}
AT_10Z = "2026-12-01T10:00:00"  # Tuesday: 11:00 in Paris, 19:00 in Tokyo, 02:00 in Los Angeles


def test_time_condition_reads_the_journey_zone_by_default() -> None:
    sim = _fire(TIME % "false", _rows("paris", "tokyo", "la"), zones=ZONES, origin=AT_10Z).run("2026-12-02T00:00:00")
    assert _outcomes(sim, "s") == {"paris": "day", "tokyo": "day", "la": "day"}


def test_time_condition_reads_the_profile_zone_with_use_profile_timezone() -> None:
    sim = _fire(TIME % "true", _rows("paris", "tokyo", "la"), zones=ZONES, origin=AT_10Z).run("2026-12-02T00:00:00")
    assert _outcomes(sim, "s") == {"paris": "day", "tokyo": "evening", "la": "otherwise"}


def _by_event(text: str, times: Mapping[str, str], **options: Any) -> Sim:
    """Each profile enters by an event at its own time."""
    sim = simulate(journey("entry: {type: event, event: go, next: s}\n" + text), _rows(*times), **options)
    sim.push(*(event("go", when, pid) for pid, when in times.items()))
    return sim.run("2026-12-31T00:00:00")


def test_time_condition_window_includes_from_and_excludes_to() -> None:
    times = {"before": "2026-12-01T07:59:00", "from": "2026-12-01T08:00:00", "last": "2026-12-01T16:59:59",
             "to": "2026-12-01T17:00:00"}  # Paris local 08:59, 09:00, 17:59:59, 18:00
    sim = _by_event(TIME % "false", times)
    assert _outcomes(sim, "s") == {"before": "otherwise", "from": "day", "last": "day", "to": "evening"}


OVERNIGHT = """
steps:
  s:
    type: time-condition
    paths: [{name: night, days: [fri], from: "22:00", to: "06:00", next: end}]
    otherwise: end
"""


def test_time_condition_overnight_window_belongs_to_its_start_day() -> None:
    times = {  # Paris is UTC+1 in December; 2026-12-04 is a Friday
        "fri_2200": "2026-12-04T21:00:00", "fri_2300": "2026-12-04T22:00:00", "sat_0559": "2026-12-05T04:59:00",
        "sat_0600": "2026-12-05T05:00:00", "fri_0500": "2026-12-04T04:00:00", "sat_2300": "2026-12-05T22:00:00",
        "thu_2300": "2026-12-03T22:00:00",
    }
    sim = _by_event(OVERNIGHT, times)
    assert _outcomes(sim, "s") == {"fri_2200": "night", "fri_2300": "night", "sat_0559": "night",
                                   "sat_0600": "otherwise", "fri_0500": "otherwise", "sat_2300": "otherwise",
                                   "thu_2300": "otherwise"}


# ---------------------------------------------------------------- date-condition


DATES = """
settings: {use_profile_timezone: true}
steps:
  s:
    type: date-condition
    paths: [{name: sale, from: "2026-12-01", to: "2026-12-03", next: end}]
    otherwise: end
"""


def test_date_condition_uses_local_dates_inclusive() -> None:
    times = {"nov30": "2026-11-30T22:59:59", "dec1": "2026-11-30T23:00:00", "dec3": "2026-12-03T22:59:59",
             "dec4": "2026-12-03T23:00:00", "tokyo_dec1": "2026-11-30T15:00:00", "tokyo_dec4": "2026-12-03T15:00:00"}
    sim = _by_event(DATES, times, zones={"tokyo_dec1": "Asia/Tokyo", "tokyo_dec4": "Asia/Tokyo"})
    assert _outcomes(sim, "s") == {"nov30": "otherwise", "dec1": "sale", "dec3": "sale", "dec4": "otherwise",
                                   "tokyo_dec1": "sale", "tokyo_dec4": "otherwise"}


# ---------------------------------------------------------------- profile-cap


CAP = """
entry: {type: audience, audience: all, schedule: {cron: "0 9 * * *", timezone: Europe/Paris}, next: s}
steps:
  s: {type: profile-cap, cap: 2, next: end, over_cap: over}
  over: {type: end}
"""


def test_profile_cap_first_cap_take_next_and_the_counter_never_resets() -> None:
    sim = simulate(journey(CAP), _rows("p1", "p2", "p3"), audiences={"all": "true"}, origin="2026-12-01T00:00:00")
    sim.run("2026-12-01T12:00:00")
    assert _outcomes(sim, "s") == {"p1": "next", "p2": "next", "p3": "over_cap"}
    sim.profiles.rows["p4"] = {"id": "p4"}
    sim.run("2026-12-02T12:00:00")
    second = [(e.profile, e.outcome) for e in sim.step_events() if e.at == at("2026-12-02T08:00:00") and e.step == "s"]
    assert second == [("p1", "over_cap"), ("p2", "over_cap"), ("p3", "over_cap"), ("p4", "over_cap")]


def test_profile_cap_counts_per_version() -> None:
    store = new_store()
    old = journey(CAP, version=1)
    simulate(old, _rows("p1", "p2", "p3"), audiences={"all": "true"}, origin="2026-12-01T00:00:00",
             store=store).run("2026-12-01T12:00:00")
    sim = simulate([old, journey(CAP, version=2)], _rows("p1", "p2", "p3"), audiences={"all": "true"},
                   origin="2026-12-01T00:00:00", store=store).run("2026-12-02T12:00:00")
    second = [(e.version, e.profile, e.outcome) for e in sim.step_events()
              if e.at == at("2026-12-02T08:00:00") and e.step == "s"]
    assert second == [(2, "p1", "next"), (2, "p2", "next"), (2, "p3", "over_cap")]


# ---------------------------------------------------------------- wait


def test_wait_duration_is_exact() -> None:
    sim = _fire("steps:\n  s: {type: wait, duration: PT90M, next: end}").run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", "2026-12-01T09:30:00Z", "next")]


def test_wait_until_an_expression() -> None:
    rows = {"p1": {"id": "p1", "appointment": at("2026-12-05T14:00:00")}}
    text = "steps:\n  s: {type: wait, until: 'profile.appointment - duration(\"PT1H\")', next: end}"
    sim = _fire(text, rows).run("2026-12-04T00:00:00")
    assert sim.waiting() == {"s": ["p1"]}
    sim.run("2026-12-10T00:00:00")
    assert sim.steps("p1") == [("s", "2026-12-05T13:00:00Z", "next")]


def test_wake_ups_keep_to_whole_seconds_and_are_never_early() -> None:
    """The timeline ticks in whole seconds (§0; the store keeps them): a wake-up with a fraction (`PT0.5S`, an
    `until` from a time with milliseconds) is at the next whole second, and `now` drops its fraction."""
    rows = {"p1": {"id": "p1", "appointment": at("2026-12-05T14:00:00.250")}}
    sim = _fire("steps:\n  s: {type: wait, duration: PT0.5S, next: w}\n"
                "  w: {type: wait, until: profile.appointment, next: end}", rows)
    sim.run(at("2026-12-05T14:00:00.900"))  # the fraction is dropped: 14:00:00, before the wake-up
    assert sim.waiting() == {"w": ["p1"]}
    assert sim.steps("p1") == [("s", "2026-12-01T08:00:01Z", "next")]
    assert all(e.at.microsecond == 0 for e in sim.step_events())
    sim.run("2026-12-05T14:00:01")
    assert [e.at for e in sim.step_events("p1") if e.step == "w"] == [at("2026-12-05T14:00:01")]


def test_wait_until_a_local_literal_is_read_in_the_journey_zone() -> None:
    sim = _fire("steps:\n  s: {type: wait, until: 'datetime(\"2026-12-03T09:00:00\")', next: end}")
    sim.run("2026-12-10T00:00:00")
    assert sim.steps("p1") == [("s", "2026-12-03T08:00:00Z", "next")]


def test_wait_until_in_the_past_continues_at_once() -> None:
    text = """
steps:
  s: {type: wait, until: 'datetime("2026-11-01T00:00:00Z")', next: after}
  after: {type: wait, duration: PT1M, next: end}
"""
    sim = _fire(text).run("2026-12-01T08:00:00")
    assert sim.steps("p1") == [("s", T0, "next")]
    assert sim.waiting() == {"after": ["p1"]}


def test_wait_until_null_is_an_error() -> None:
    text = "steps:\n  s: {type: wait, until: 'profile.appointment', next: end}"
    sim = _fire(text, _rows("p1", appointment=None)).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", T0, "error")]
    assert "null" in (sim.step_events("p1")[0].detail or "")
    assert sim.ends() == {"error": ["p1"]}


# ---------------------------------------------------------------- wait-event


WAIT_EVENT = """
entry: {type: event, event: signup, next: w}
steps:
  w: {type: wait-event, event: purchase, timeout: P2D, next: big, timeout_next: nudge}
  big:
    type: condition
    paths: [{name: large, when: 'event.total > 500 and event.plan is null', next: end}]
    otherwise: end
  nudge: {type: end}
"""


def test_wait_event_payload_becomes_event_downstream() -> None:
    sim = simulate(journey(WAIT_EVENT))
    sim.push(event("signup", "2026-12-01T08:00:00", plan="free"), event("purchase", "2026-12-01T09:00:00", total=700))
    sim.run("2026-12-05T00:00:00")
    assert sim.steps("p1") == [("w", "2026-12-01T09:00:00Z", "next"), ("big", "2026-12-01T09:00:00Z", "large")]


def test_wait_event_where_must_hold() -> None:
    sim = simulate(journey(WAIT_EVENT.replace("event: purchase,", "event: purchase, where: 'event.total > 100',")))
    sim.push(event("signup", "2026-12-01T08:00:00"), event("purchase", "2026-12-01T09:00:00", total=50),
             event("purchase", "2026-12-01T10:00:00", total=150))
    sim.run("2026-12-05T00:00:00")
    assert sim.steps("p1") == [("w", "2026-12-01T10:00:00Z", "next"), ("big", "2026-12-01T10:00:00Z", "otherwise")]


def test_wait_event_timeout_takes_timeout_next() -> None:
    sim = simulate(journey(WAIT_EVENT)).push(event("signup", "2026-12-01T08:00:00")).run("2026-12-05T00:00:00")
    assert sim.steps("p1") == [("w", "2026-12-03T08:00:00Z", "timeout"), ("nudge", "2026-12-03T08:00:00Z", "end")]
    assert sim.ends() == {"nudge": ["p1"]}


def test_wait_event_timeout_without_timeout_next_takes_next_with_outcome_timeout() -> None:
    text = WAIT_EVENT.replace(", timeout_next: nudge", "").replace("  nudge: {type: end}\n", "")
    sim = simulate(journey(text)).push(event("signup", "2026-12-01T08:00:00")).run("2026-12-05T00:00:00")
    assert sim.steps("p1") == [("w", "2026-12-03T08:00:00Z", "timeout"), ("big", "2026-12-03T08:00:00Z", "otherwise")]
    counts = count_journey(journey(text), steps=sim.step_events(), instances=sim.store.instances)
    assert counts.steps["w"].paths == {"next": 0, "timeout": 1}


def test_wait_event_takes_only_its_profiles_event() -> None:
    sim = simulate(journey(WAIT_EVENT), _rows("p1", "p2"))
    sim.push(event("signup", "2026-12-01T08:00:00", "p1"), event("purchase", "2026-12-01T09:00:00", "p2", total=900))
    sim.run("2026-12-05T00:00:00")
    assert sim.steps("p1")[0] == ("w", "2026-12-03T08:00:00Z", "timeout")
    assert sim.ends() == {"nudge": ["p1"]}


# ---------------------------------------------------------------- reaction


REACTION = """
steps:
  s: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: react}
  react: {type: reaction, to: s, "on": clicked, timeout: P1D, next: clicked, timeout_next: ignored}
  clicked: {type: end}
  ignored: {type: end}
"""


def test_reaction_matches_a_click_with_the_message_key_or_without_a_key() -> None:
    sim = _fire(REACTION, _rows("keyed", "keyless", "wrong_key", "opened", "silent"))
    sim.push(event("message_clicked", "2026-12-01T09:00:00", "keyed", key=journey_message_key("j", "keyed", 1, "s")),
             event("message_clicked", "2026-12-01T09:00:00", "keyless"),
             event("message_clicked", "2026-12-01T09:00:00", "wrong_key", key="journey:j:wrong_key:9:s"),
             event("message_opened", "2026-12-01T09:00:00", "opened", key=journey_message_key("j", "opened", 1, "s")))
    sim.run("2026-12-05T00:00:00")
    assert _outcomes(sim, "react") == {"keyed": "next", "keyless": "next", "wrong_key": "timeout",
                                       "opened": "timeout", "silent": "timeout"}
    assert sim.ends() == {"clicked": ["keyed", "keyless"], "ignored": ["wrong_key", "opened", "silent"]}
    assert sim.steps("silent")[-2:] == [("react", "2026-12-02T08:00:00Z", "timeout"),
                                        ("ignored", "2026-12-02T08:00:00Z", "end")]
    assert sim.steps("keyed")[-2:] == [("react", "2026-12-01T09:00:00Z", "next"),
                                       ("clicked", "2026-12-01T09:00:00Z", "end")]


# ---------------------------------------------------------------- message


MESSAGE = """
steps:
  s: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: after, %s}
  after: {type: end}
  broken: {type: end}
"""


def test_message_sent_is_delivered_with_its_key() -> None:
    sim = _fire(MESSAGE % "category: marketing").run("2026-12-02T00:00:00")
    assert _at_step(sim, "s") == [("s", T0, "sent")]
    assert [(m["key"], m["at"]) for m in sim.delivery.messages] == [("journey:j:p1:1:s", at(T0))]
    assert sim.ends() == {"after": ["p1"]}


def test_message_excluded_continues_on_next() -> None:
    policy = Policy(script={("p1", "s"): [Decision("excluded", reason="no_consent")]})
    sim = _fire(MESSAGE % "on_error: broken", policy=policy).run("2026-12-02T00:00:00")
    assert _at_step(sim, "s") == [("s", T0, "excluded")]
    assert sim.step_events("p1")[0].detail == "no_consent"
    assert sim.delivery.messages == []
    assert sim.ends() == {"after": ["p1"]}


def test_message_render_error_takes_on_error() -> None:
    policy = Policy(script={("p1", "s"): [Decision("excluded", reason="render_error", on_error=True)]})
    sim = _fire(MESSAGE % "on_error: broken", policy=policy).run("2026-12-02T00:00:00")
    assert _at_step(sim, "s") == [("s", T0, "excluded")]
    assert sim.step_events("p1")[0].detail == "render_error"
    assert sim.ends() == {"broken": ["p1"]}


def test_message_render_error_without_on_error_continues_on_next() -> None:
    policy = Policy(script={("p1", "s"): [Decision("excluded", reason="render_error", on_error=True)]})
    sim = _fire(MESSAGE % "category: marketing", policy=policy).run("2026-12-02T00:00:00")
    assert sim.ends() == {"after": ["p1"]}


def test_message_queued_by_quiet_hours_is_sent_at_release() -> None:
    release = at("2026-12-01T20:00:00")
    policy = Policy(script={("p1", "s"): [Decision("queued", reason="quiet_hours", release_at=release)]})
    sim = _fire(MESSAGE % "category: marketing", policy=policy).run("2026-12-01T12:00:00")
    assert _at_step(sim, "s") == [("s", T0, "queued")]
    assert sim.waiting() == {"s": ["p1"]}
    assert sim.delivery.messages == []
    sim.run("2026-12-02T00:00:00")
    assert _at_step(sim, "s") == [("s", T0, "queued"), ("s", "2026-12-01T20:00:00Z", "sent")]
    assert [(m["key"], m["at"]) for m in sim.delivery.messages] == [("journey:j:p1:1:s", release)]
    assert [(r.at, r.released) for r in policy.requests] == [(at(T0), False), (release, True)]
    document = journey("entry: {type: audience, audience: all, next: s}\n" + MESSAGE % "category: marketing")
    counts = count_journey(document, steps=sim.step_events(), instances=sim.store.instances)
    assert (counts.steps["s"].entered, counts.steps["s"].sent, counts.steps["s"].queued) == (1, 1, 0)


def test_message_discarded_by_quiet_hours_exits_quiet_hours() -> None:
    policy = Policy(script={("p1", "s"): [Decision("excluded", reason="quiet_hours", exit="quiet_hours")]})
    sim = _fire(MESSAGE % "category: marketing", policy=policy).run("2026-12-02T00:00:00")
    assert _at_step(sim, "s") == [("s", T0, "excluded")]
    assert sim.ends() == {"quiet_hours": ["p1"]}


# ---------------------------------------------------------------- action


ACTION = """
steps:
  call-crm: {type: action, action: crm-task, params: {subject: 'concat("Call ", profile.name)', n: '1 + 2'},
             next: check, %s}
  check:
    type: condition
    paths: [{name: has_id, when: "actions.'call-crm'.id == 7", next: end}]
    otherwise: end
  failed: {type: end}
"""


@dataclass
class ScriptedActions:
    """An action caller answering every call with one result."""

    result: ActionResult
    calls: list[tuple[str, dict[str, Any], str, dt.datetime]] = field(default_factory=list)

    def call(self, action: str, params: Mapping[str, Any], *, key: str, at: dt.datetime) -> ActionResult:
        self.calls.append((action, dict(params), key, at))
        return self.result


def test_action_in_a_dry_run_records_the_evaluated_call_and_answers_null() -> None:
    sim = _fire(ACTION % "on_error: failed", _rows("p1", name="Ada"), first="call-crm").run("2026-12-02T00:00:00")
    assert sim.actions.calls == [("crm-task", {"subject": "Call Ada", "n": 3}, "journey:j:p1:1:call-crm", at(T0))]
    assert sim.steps("p1") == [("call-crm", T0, "next"), ("check", T0, "otherwise")]
    assert sim.store.instances[0].actions == {"call-crm": None}


def test_action_response_is_readable_downstream() -> None:
    actions = ScriptedActions(ActionResult(ok=True, response={"id": 7}))
    sim = _fire(ACTION % "on_error: failed", _rows("p1", name="Ada"), first="call-crm", actions=actions)
    sim.run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("call-crm", T0, "next"), ("check", T0, "has_id")]


def test_action_failure_takes_on_error() -> None:
    actions = ScriptedActions(ActionResult(ok=False, error="HTTP 500 from crm-task"))
    sim = _fire(ACTION % "on_error: failed", _rows("p1", name="Ada"), first="call-crm", actions=actions)
    sim.run("2026-12-02T00:00:00")
    assert _at_step(sim, "call-crm") == [("call-crm", T0, "on_error")]
    assert sim.step_events("p1")[0].detail == "HTTP 500 from crm-task"
    assert sim.ends() == {"failed": ["p1"]}


def test_action_failure_without_on_error_ends_error() -> None:
    actions = ScriptedActions(ActionResult(ok=False, error="HTTP 500 from crm-task"))
    text = ACTION.replace(", %s", "")
    sim = _fire(text, _rows("p1", name="Ada"), first="call-crm", actions=actions).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("call-crm", T0, "error")]
    assert sim.ends() == {"error": ["p1"]}


# ---------------------------------------------------------------- update-profile


UPDATE = """
steps:
  s: {type: update-profile, set: {tier: '"gold"', 'consent.email': 'false'}, next: now}
  now:
    type: condition
    paths: [{name: gold, when: 'profile.tier == "gold" and profile.consent.email == false', next: pause}]
    otherwise: pause
  pause: {type: wait, duration: P1D, next: later}
  later:
    type: condition
    paths:
      - {name: gold, when: 'profile.tier == "gold"', next: end}
      - {name: platinum, when: 'profile.tier == "platinum"', next: end}
    otherwise: end
"""


def _updating() -> Sim:
    rows = {"p1": {"id": "p1", "tier": "silver", "consent": {"email": True}}}
    return _fire(UPDATE, rows).run("2026-12-01T12:00:00")


def test_update_profile_is_seen_by_later_steps_and_later_reads() -> None:
    sim = _updating()
    assert sim.steps("p1") == [("s", T0, "next"), ("now", T0, "gold")]
    view = sim.engine.view("p1")
    assert view is not None and view["tier"] == "gold" and view["consent"] == {"email": False}
    assert sim.profiles.rows["p1"]["tier"] == "silver"  # the source is not written
    sim.run("2026-12-03T00:00:00")
    assert sim.steps("p1")[-1] == ("later", "2026-12-02T08:00:00Z", "gold")


def test_update_profile_overlay_stops_winning_once_the_source_changes() -> None:
    sim = _updating()
    sim.profiles.rows["p1"]["tier"] = "platinum"
    sim.run("2026-12-03T00:00:00")
    assert sim.steps("p1")[-1] == ("later", "2026-12-02T08:00:00Z", "platinum")
    view = sim.engine.view("p1")
    assert view is not None and view["tier"] == "platinum" and view["consent"] == {"email": False}


def test_update_profile_is_seen_by_another_journey() -> None:
    reader = journey("""
id: reader
entry: {type: event, event: ping, next: r}
steps:
  r:
    type: condition
    paths: [{name: gold, when: 'profile.tier == "gold"', next: end}]
    otherwise: end
""")
    rows = {"p1": {"id": "p1", "tier": "silver", "consent": {"email": True}}}
    sim = simulate([journey("entry: {type: audience, audience: all, next: s}\n" + UPDATE), reader], rows,
                   audiences={"all": "true"})
    sim.push(event("ping", "2026-12-01T09:00:00")).run("2026-12-01T12:00:00")
    assert [(e.journey, e.outcome) for e in sim.step_events() if e.step == "r"] == [("reader", "gold")]


@pytest.mark.parametrize("ping", ["2026-12-01T20:00:00", "2026-12-02T08:00:00"])  # before the wake-up, at it
def test_a_waiting_instance_wakes_to_an_update_profile_made_while_it_waited(ping: str) -> None:
    """An instance keeps the row it read for its next steps only while nothing is written over it: another
    journey's update-profile, committed while it waits or in the very unit that wakes it, is what it reads."""
    writer = journey("""
id: writer
entry: {type: event, event: ping, next: w}
steps:
  w: {type: update-profile, set: {tier: '"gold"'}, next: end}
""")
    waiter = journey("""
id: waiter
entry: {type: audience, audience: all, next: pause}
steps:
  pause: {type: wait, duration: P1D, next: later}
  later:
    type: condition
    paths: [{name: gold, when: 'profile.tier == "gold"', next: end}]
    otherwise: end
""")
    rows = {"p1": {"id": "p1", "tier": "silver"}, "p2": {"id": "p2", "tier": "silver"}}
    sim = simulate([writer, waiter], rows, audiences={"all": "true"})
    sim.push(event("ping", ping)).run("2026-12-03T00:00:00")
    assert _outcomes(sim, "later") == {"p1": "gold", "p2": "otherwise"}


# ---------------------------------------------------------------- end


def test_declared_end_steps_are_counted_by_id_and_the_implicit_end_as_end() -> None:
    text = """
steps:
  s:
    type: condition
    paths: [{name: vip, when: 'profile.vip', next: vip-exit}]
    otherwise: end
  vip-exit: {type: end, label: VIP exit}
"""
    sim = _fire(text, {"p1": {"id": "p1", "vip": True}, "p2": {"id": "p2", "vip": False}}).run("2026-12-02T00:00:00")
    assert sim.ends() == {"vip-exit": ["p1"], "end": ["p2"]}
    j = journey("entry: {type: audience, audience: all, next: s}\n" + text)
    counts = count_journey(j, steps=sim.step_events(), instances=sim.store.instances)
    assert counts.ended == {"end": 1, "vip-exit": 1}
    assert counts.steps["vip-exit"].entered == 1


# ---------------------------------------------------------------- exit_when


EXIT_WHEN = """
settings: {exit_when: 'profile.unsubscribed == true'}
steps:
  s: {type: wait, duration: P1D, next: send}
  send: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: end}
"""


def test_exit_when_is_checked_before_the_first_step() -> None:
    sim = _fire(EXIT_WHEN, _rows("p1", unsubscribed=True)).run("2026-12-05T00:00:00")
    assert sim.ends() == {"exit_when": ["p1"]}
    assert sim.steps("p1") == []
    assert sim.store.instances[0].ended_at == at(T0)


def test_exit_when_is_checked_right_after_a_wait() -> None:
    sim = _fire(EXIT_WHEN, _rows("p1", unsubscribed=False)).run("2026-12-01T12:00:00")
    sim.profiles.rows["p1"]["unsubscribed"] = True
    sim.run("2026-12-05T00:00:00")
    assert sim.ends() == {"exit_when": ["p1"]}
    assert sim.steps("p1") == [("s", "2026-12-02T08:00:00Z", "next")]
    assert sim.delivery.messages == []
    assert sim.store.instances[0].ended_at == at("2026-12-02T08:00:00")


def test_exit_when_is_checked_before_every_step_within_one_time() -> None:
    text = """
settings: {exit_when: 'profile.unsubscribed == true'}
steps:
  s: {type: update-profile, set: {unsubscribed: 'true'}, next: send}
  send: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: end}
"""
    sim = _fire(text, _rows("p1", unsubscribed=False)).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("s", T0, "next")]
    assert sim.ends() == {"exit_when": ["p1"]}
    assert sim.delivery.messages == []


# ---------------------------------------------------------------- the P91D lifetime


def test_instance_parked_on_a_wait_event_without_timeout_exits_timeout_after_p91d() -> None:
    sim = _fire("steps:\n  s: {type: wait-event, event: purchase, next: end}").run("2027-03-02T07:59:59")
    assert sim.waiting() == {"s": ["p1"]}
    sim.run("2027-06-01T00:00:00")
    assert sim.ends() == {"timeout": ["p1"]}
    assert sim.steps("p1") == [("s", "2027-03-02T08:00:00Z", "timeout")]
    assert sim.store.instances[0].ended_at == at(T0) + dt.timedelta(days=91)


def test_instance_lifetime_ends_a_long_wait_while_parked() -> None:
    text = "steps:\n  s: {type: wait, duration: P2D, next: long}\n  long: {type: wait, duration: P90D, next: end}"
    sim = _fire(text).run("2027-06-01T00:00:00")
    assert sim.ends() == {"timeout": ["p1"]}
    assert sim.steps("p1")[-1] == ("long", "2027-03-02T08:00:00Z", "timeout")
