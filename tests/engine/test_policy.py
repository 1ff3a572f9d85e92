"""The message policy (SPEC §7.5, §7.6, §12): consent, address, capping, quiet hours, render, the message object.

Every test runs the real `Policy` inside the engine (helpers.simulate), so the
outcome is what a dry-run would record: the step event (`sent`, `excluded`
with its reason, `queued`), where the instance goes next, and the message
object handed to delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jo_cli.engine.keys import journey_message_key, journey_message_keys
from jo_cli.engine.memory import MemoryProfiles, MemoryRuleCounters
from jo_cli.engine.model import Journey
from jo_cli.engine.policy import Policy, RenderHook, channels_of, rule_sets_of
from jo_cli.engine.ports import Decision, MessagePolicy, MessageRequest
from tests.engine.helpers import Sim, at, event, journey, simulate

PARIS = ZoneInfo("Europe/Paris")
TOKYO = ZoneInfo("Asia/Tokyo")

T0 = "2026-12-01T08:00:00"  # Tuesday, 09:00 in Paris: outside the usual night window
HORIZON = "2026-12-20T00:00:00"

CHANNELS: dict[str, Any] = {
    "email": {"address": "email", "consent": "consent.email"},
    "sms": {"address": "phone", "consent": "consent.sms"},
    "push": {"address": "push_token"},  # no consent field: never checked
}

NIGHT = {"windows": [{"from": "21:00", "to": "08:00"}], "timezone": "profile", "handling": "queue"}

Trail = list[tuple[str, str, str, str | None]]


# ---------------------------------------------------------------- building blocks


def _policy(rules: Mapping[str, Any] | None = None, *, zones: Mapping[str, str] | None = None,
            project_zone: ZoneInfo = PARIS, render: RenderHook | None = None,
            counters: MemoryRuleCounters | None = None, status: str = "would_send") -> Policy:
    """The real policy over a jo.yaml-shaped config; profile zones as the simulation has them."""
    config = {"channels": CHANNELS, "rules": dict(rules or {})}
    lookup = MemoryProfiles({}, {pid: ZoneInfo(name) for pid, name in (zones or {}).items()})
    return Policy(channels=channels_of(config), rule_sets=rule_sets_of(config),
                  counters=counters if counters is not None else MemoryRuleCounters(),
                  project_zone=project_zone, zone_of=lookup.zone, render=render, status=status)


def _journey(steps: str, *, jid: str = "j", first: str = "email", settings: str = "", version: int | None = None,
             zone: ZoneInfo = PARIS) -> Journey:
    """An audience journey (`all`) whose members enter `first` at the fire."""
    head = f"id: {jid}\nentry: {{type: audience, audience: all, next: {first}}}\n"
    if settings:
        head += f"settings: {settings}\n"
    return journey(head + steps, version=version, zone=zone)


def _person(pid: str, **fields: Any) -> dict[str, Any]:
    """A profile with every address and every consent, unless `fields` says otherwise."""
    row: dict[str, Any] = {"id": pid, "first_name": pid.title(), "email": f"{pid}@example.org",
                           "phone": "+33600000000", "push_token": f"tok-{pid}",
                           "consent": {"email": True, "sms": True}}
    row.update(fields)
    return row


@dataclass
class Guarded:
    """The policy, failing the test (rather than looping the engine forever at one instant) when it queues a
    message until a time that is not after the request's."""

    inner: MessagePolicy

    def decide(self, request: MessageRequest) -> Decision:
        decision = self.inner.decide(request)
        if decision.outcome == "queued":
            assert decision.release_at is not None and decision.release_at > request.at, (request.key, decision)
        return decision


def _run(journeys: Journey | list[Journey], rows: Mapping[str, dict[str, Any]], policy: Policy, *,
         zones: Mapping[str, str] | None = None, origin: str = T0, until: str = HORIZON,
         project_zone: ZoneInfo = PARIS) -> Sim:
    sim = simulate(journeys, rows, zones=zones, audiences={"all": "true"}, origin=origin, policy=Guarded(policy),
                   project_zone=project_zone)
    return sim.run(until)


def _trail(sim: Sim, profile: str = "p1", journey_id: str | None = None) -> Trail:
    """(step, logical time, outcome, detail) of every step event of one profile."""
    return [(e.step, e.at.strftime("%Y-%m-%dT%H:%M:%SZ"), e.outcome, e.detail) for e in sim.step_events(profile)
            if journey_id is None or e.journey == journey_id]


def _message_outcomes(sim: Sim, step: str = "email") -> dict[str, tuple[str, str | None]]:
    """profile -> (outcome, detail) of its last step event at `step`."""
    return {e.profile: (e.outcome, e.detail) for e in sim.step_events() if e.step == step}


def _sent_at(sim: Sim) -> dict[str, dt.datetime]:
    """profile -> the `at` of the message it was sent (one message per profile)."""
    return {str(m["profile"]): m["at"] for m in sim.delivery.messages}


ONE_EMAIL = """
steps:
  email: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: after}
  after: {type: end}
"""


def _one(channel: str = "email", *, category: str = "marketing", rules: str | None = None,
         on_error: str | None = None, jid: str = "j", settings: str = "") -> Journey:
    """One message step, then the End `after` (and `fallback` for `on_error`)."""
    extra = f", rules: {rules}" if rules else ""
    extra += f", on_error: {on_error}" if on_error else ""
    text = (f"steps:\n  email: {{type: message, channel: {channel}, category: {category}, "
            f"content: {{body: Hello}}, next: after{extra}}}\n  after: {{type: end}}\n  fallback: {{type: end}}\n")
    return _journey(text, jid=jid, settings=settings)


# ---------------------------------------------------------------- consent (§7.5)


@pytest.mark.parametrize(("consent", "category", "expected"), [
    (False, "marketing", ("excluded", "no_consent")),
    (None, "marketing", ("sent", None)),  # an empty cell is consent (AJO)
    (True, "marketing", ("sent", None)),
    (False, "transactional", ("sent", None)),  # transactional messages need no consent
])
def test_consent(consent: bool | None, category: str, expected: tuple[str, str | None]) -> None:
    rows = {"p1": _person("p1", consent={"email": consent, "sms": True})}
    sim = _run(_one(category=category), rows, _policy())
    assert _message_outcomes(sim) == {"p1": expected}
    assert len(sim.delivery.messages) == (1 if expected[0] == "sent" else 0)
    assert sim.ends() == {"after": ["p1"]}  # excluded profiles continue on `next`


def test_consent_missing_object_counts_as_consent() -> None:
    rows = {"p1": {"id": "p1", "email": "p1@example.org"}}  # no consent column at all: null
    sim = _run(_one(), rows, _policy())
    assert _message_outcomes(sim) == {"p1": ("sent", None)}


def test_a_channel_without_consent_field_is_not_checked() -> None:
    rows = {"p1": _person("p1", consent={"email": False, "sms": False, "push": False})}
    sim = _run(_one("push"), rows, _policy())
    assert _message_outcomes(sim) == {"p1": ("sent", None)}
    assert [m["to"] for m in sim.delivery.messages] == ["tok-p1"]


def test_consent_is_per_channel() -> None:
    rows = {"p1": _person("p1", consent={"email": True, "sms": False})}
    email = _run(_one("email"), rows, _policy())
    sms = _run(_one("sms"), rows, _policy())
    assert _message_outcomes(email) == {"p1": ("sent", None)}
    assert _message_outcomes(sms) == {"p1": ("excluded", "no_consent")}


# ---------------------------------------------------------------- address (§7.5)


@pytest.mark.parametrize("category", ["marketing", "transactional"])
@pytest.mark.parametrize("address", [None, ""])
def test_missing_address_is_no_address(address: str | None, category: str) -> None:
    rows = {"p1": _person("p1", email=address)}
    sim = _run(_one(category=category), rows, _policy())
    assert _message_outcomes(sim) == {"p1": ("excluded", "no_address")}
    assert sim.delivery.messages == []
    assert sim.ends() == {"after": ["p1"]}


def test_a_profile_without_the_address_field_is_no_address() -> None:
    rows = {"p1": {"id": "p1", "consent": {"email": True}}}
    sim = _run(_one(), rows, _policy())
    assert _message_outcomes(sim) == {"p1": ("excluded", "no_address")}


def test_consent_is_checked_before_the_address() -> None:
    rows = {"p1": _person("p1", email=None, consent={"email": False})}
    sim = _run(_one(), rows, _policy())
    assert _message_outcomes(sim) == {"p1": ("excluded", "no_consent")}


def test_transactional_without_consent_and_without_address_is_no_address() -> None:
    rows = {"p1": _person("p1", email="", consent={"email": False})}
    sim = _run(_one(category="transactional"), rows, _policy())
    assert _message_outcomes(sim) == {"p1": ("excluded", "no_address")}


def _full_counters(profile: str = "p1", channel: str = "email", when: str = "2026-12-01T07:00:00") -> \
        MemoryRuleCounters:
    """Counters holding one earlier message: any `max: 1` cap over `channel` is reached."""
    counters = MemoryRuleCounters()
    counters.add(profile, channel, at(when))
    return counters


CAP_ONE_DAY = {"capping": [{"channels": ["email"], "max": 1, "per": "P1D"}]}


def test_address_is_checked_before_capping() -> None:
    rows = {"p1": _person("p1", email=None)}
    sim = _run(_one(), rows, _policy({"default": CAP_ONE_DAY}, counters=_full_counters()))
    assert _message_outcomes(sim) == {"p1": ("excluded", "no_address")}


def test_consent_is_checked_before_capping() -> None:
    rows = {"p1": _person("p1", consent={"email": False})}
    sim = _run(_one(), rows, _policy({"default": CAP_ONE_DAY}, counters=_full_counters()))
    assert _message_outcomes(sim) == {"p1": ("excluded", "no_consent")}


def test_capping_is_checked_before_quiet_hours() -> None:
    """A capped message inside quiet hours is excluded at once, never queued."""
    rules = {"default": {**CAP_ONE_DAY, "quiet_hours": NIGHT}}
    counters = _full_counters(when="2026-12-01T21:00:00")
    sim = _run(_one(), {"p1": _person("p1")}, _policy(rules, counters=counters), origin="2026-12-01T22:00:00")
    assert _trail(sim) == [("email", "2026-12-01T22:00:00Z", "excluded", "capped"),
                           ("after", "2026-12-01T22:00:00Z", "end", None)]


def test_no_address_inside_quiet_hours_is_excluded_at_once() -> None:
    rows = {"p1": _person("p1", email="")}
    sim = _run(_one(), rows, _policy({"default": {"quiet_hours": NIGHT}}), origin="2026-12-01T22:00:00")
    assert _trail(sim)[0] == ("email", "2026-12-01T22:00:00Z", "excluded", "no_address")


# ---------------------------------------------------------------- rule-set selection (§7.6)


SELECTION_RULES: dict[str, Any] = {
    "default": CAP_ONE_DAY,  # capped (the counters hold an email an hour ago)
    "relaxed": {},  # nothing: sent
    "hushed": {"quiet_hours": {"windows": [{"from": "09:00", "to": "10:00"}], "timezone": "Europe/Paris"}},  # queued
}


@pytest.mark.parametrize(("journey_rules", "step_rules", "expected"), [
    (None, None, ("excluded", "capped")),  # `default` when nothing names a set
    ("relaxed", None, ("sent", None)),  # the journey's settings.rules
    ("hushed", None, ("queued", "quiet_hours")),
    ("hushed", "relaxed", ("sent", None)),  # the step's rules beat the journey's
    ("relaxed", "default", ("excluded", "capped")),
    ("relaxed", "hushed", ("queued", "quiet_hours")),
    (None, "hushed", ("queued", "quiet_hours")),
])
def test_rule_set_selection(journey_rules: str | None, step_rules: str | None,
                            expected: tuple[str, str | None]) -> None:
    settings = f"{{rules: {journey_rules}}}" if journey_rules else ""
    sim = _run(_one(rules=step_rules, settings=settings), {"p1": _person("p1")},
               _policy(SELECTION_RULES, counters=_full_counters()), until="2026-12-01T08:30:00")
    assert _trail(sim)[0] == ("email", "2026-12-01T08:00:00Z", *expected)


@pytest.mark.parametrize(("journey_rules", "step_rules"), [("missing", None), (None, "missing"),
                                                           ("default", "missing")])
def test_a_rule_set_name_that_does_not_exist_applies_no_rules(journey_rules: str | None,
                                                              step_rules: str | None) -> None:
    """SPEC is silent (`jo validate` is where a bad name belongs); the policy applies no rules, not `default`."""
    settings = f"{{rules: {journey_rules}}}" if journey_rules else ""
    sim = _run(_one(rules=step_rules, settings=settings), {"p1": _person("p1")},
               _policy(SELECTION_RULES, counters=_full_counters()))
    assert _message_outcomes(sim) == {"p1": ("sent", None)}


def test_without_any_rule_set_nothing_is_capped() -> None:
    sim = _run(_one(), {"p1": _person("p1")}, _policy({}, counters=_full_counters()))
    assert _message_outcomes(sim) == {"p1": ("sent", None)}


# ---------------------------------------------------------------- capping (§7.6, §12)


TWO_EMAILS = """
steps:
  email: {type: message, channel: email, content: {body: One}, next: pause}
  pause: {type: wait, duration: %s, next: again}
  again: {type: message, channel: email, content: {body: Two}, next: end}
"""

WEEKLY_ONE = {"default": {"capping": [{"channels": ["email"], "max": 1, "per": "P7D"}]}}


@pytest.mark.parametrize(("wait", "expected"), [
    ("PT0S", ("excluded", "capped")),  # the window is closed at `at`: a message at the same instant counts
    ("P3D", ("excluded", "capped")),
    ("P6DT23H59M59S", ("excluded", "capped")),  # one second inside the window
    ("P7D", ("sent", None)),  # exactly `per` after: (at - per, at] leaves the first one out
    ("P8D", ("sent", None)),
])
def test_capping_across_two_message_steps_of_one_journey(wait: str, expected: tuple[str, str | None]) -> None:
    rows = {"p1": _person("p1"), "p2": _person("p2")}
    sim = _run(_journey(TWO_EMAILS % wait), rows, _policy(WEEKLY_ONE), until="2026-12-31T00:00:00")
    # Counted per profile: p2's first message does not cap p1's, and both see the same outcome.
    assert _message_outcomes(sim, "email") == {"p1": ("sent", None), "p2": ("sent", None)}
    assert _message_outcomes(sim, "again") == {"p1": expected, "p2": expected}
    sent = 2 if expected[0] == "sent" else 1
    assert [m["profile"] for m in sim.delivery.messages].count("p1") == sent


def test_a_message_created_after_at_is_outside_the_window() -> None:
    counters = MemoryRuleCounters()
    counters.add("p1", "email", at(T0) + dt.timedelta(seconds=1))
    sim = _run(_one(), {"p1": _person("p1")}, _policy(WEEKLY_ONE, counters=counters))
    assert _message_outcomes(sim) == {"p1": ("sent", None)}


def test_capped_messages_do_not_count() -> None:
    """Sent at day 0, capped at day 3, sent at day 7: the capped one would have capped day 7."""
    text = """
steps:
  email: {type: message, channel: email, content: {body: One}, next: w1}
  w1: {type: wait, duration: P3D, next: second}
  second: {type: message, channel: email, content: {body: Two}, next: w2}
  w2: {type: wait, duration: P4D, next: third}
  third: {type: message, channel: email, content: {body: Three}, next: end}
"""
    sim = _run(_journey(text), {"p1": _person("p1")}, _policy(WEEKLY_ONE))
    assert [(s, t, o, d) for s, t, o, d in _trail(sim) if s in ("email", "second", "third")] == [
        ("email", "2026-12-01T08:00:00Z", "sent", None),
        ("second", "2026-12-04T08:00:00Z", "excluded", "capped"),
        ("third", "2026-12-08T08:00:00Z", "sent", None),
    ]


SMS_THEN_EMAIL = """
steps:
  text: {type: message, channel: sms, content: {body: One}, next: email}
  email: {type: message, channel: email, content: {body: Two}, next: again}
  again: {type: message, channel: sms, content: {body: Three}, next: end}
"""


def test_channels_of_one_cap_are_counted_together() -> None:
    rules = {"default": {"capping": [{"channels": ["email"], "max": 5, "per": "P7D"},
                                     {"channels": ["email", "sms"], "max": 1, "per": "P7D"}]}}
    sim = _run(_journey(SMS_THEN_EMAIL, first="text"), {"p1": _person("p1")}, _policy(rules))
    assert [(s, o, d) for s, _, o, d in _trail(sim)] == [
        ("text", "sent", None), ("email", "excluded", "capped"), ("again", "excluded", "capped")]


def test_a_cap_for_other_channels_is_not_checked() -> None:
    rules = {"default": {"capping": [{"channels": ["sms"], "max": 1, "per": "P7D"}]}}
    sim = _run(_journey(SMS_THEN_EMAIL, first="text"), {"p1": _person("p1")}, _policy(rules))
    assert [(s, o, d) for s, _, o, d in _trail(sim)] == [
        ("text", "sent", None), ("email", "sent", None), ("again", "excluded", "capped")]


def test_capping_counts_across_journeys() -> None:
    first = _one(jid="a")
    later = _journey("steps:\n  pause: {type: wait, duration: PT1H, next: email}\n"
                     "  email: {type: message, channel: email, content: {body: B}, next: end}\n",
                     jid="b", first="pause")
    sim = _run([first, later], {"p1": _person("p1")}, _policy(WEEKLY_ONE))
    assert _trail(sim, journey_id="a")[0][2:] == ("sent", None)
    assert _trail(sim, journey_id="b")[-1][2:] == ("excluded", "capped")


# Journey `a` sends one sms at T0 under the rule set `first`; journey `b` sends an email an hour later under
# `default`, which caps email + sms together at one a week. Only a counted `a` message caps `b`.
CAPPED_BY_A = {"default": {"capping": [{"channels": ["email", "sms"], "max": 1, "per": "P7D"}]},
               "first": {}, "discarding": {"quiet_hours": {"windows": [{"from": "08:00", "to": "10:00"}],
                                                             "timezone": "Europe/Paris", "handling": "discard"}}}


def _fail_step(step: str) -> RenderHook:
    def render(request: MessageRequest, message: dict[str, Any]) -> str | None:
        if request.step.id == step:
            return "'coupon' is undefined"
        message["body"] = "Hello"
        return None

    return render


@pytest.mark.parametrize(("case", "row", "category", "a_rules", "render", "a_outcome", "b_outcome"), [
    ("control: a sent counts", {}, "marketing", "first", None, ("sent", None), ("excluded", "capped")),
    ("no_consent", {"consent": {"email": True, "sms": False}}, "marketing", "first", None,
     ("excluded", "no_consent"), ("sent", None)),
    ("no_address", {"phone": None}, "marketing", "first", None, ("excluded", "no_address"), ("sent", None)),
    ("render_error", {}, "marketing", "first", "a-text", ("excluded", "render_error"), ("sent", None)),
    ("quiet_hours discard", {}, "marketing", "discarding", None, ("excluded", "quiet_hours"), ("sent", None)),
    ("transactional", {}, "transactional", "first", None, ("sent", None), ("sent", None)),
])
def test_what_counts_for_capping(case: str, row: dict[str, Any], category: str, a_rules: str,
                                 render: str | None, a_outcome: tuple[str, str | None],
                                 b_outcome: tuple[str, str | None]) -> None:
    a = _journey(f"steps:\n  a-text: {{type: message, channel: sms, category: {category}, rules: {a_rules}, "
                 "content: {body: A}, next: end}\n", jid="a", first="a-text")
    b = _journey("steps:\n  pause: {type: wait, duration: PT1H, next: b-email}\n"
                 "  b-email: {type: message, channel: email, content: {body: B}, next: end}\n",
                 jid="b", first="pause")
    policy = _policy(CAPPED_BY_A, render=_fail_step(render) if render else None)
    sim = _run([a, b], {"p1": _person("p1", **row)}, policy)
    assert _message_outcomes(sim, "a-text") == {"p1": a_outcome}, case
    assert _message_outcomes(sim, "b-email") == {"p1": b_outcome}, case


def test_transactional_messages_are_not_checked_against_caps() -> None:
    sim = _run(_one(category="transactional"), {"p1": _person("p1")},
               _policy({"default": CAP_ONE_DAY}, counters=_full_counters()))
    assert _message_outcomes(sim) == {"p1": ("sent", None)}


# ---------------------------------------------------------------- quiet hours (§7.6, §6.3, §12)


def test_quiet_hours_in_each_profile_zone_at_one_instant() -> None:
    """12:00Z is 21:00 in Tokyo, 23:00 in Sydney (AEDT), 04:00 in Los Angeles: quiet; 13:00 in Paris: not."""
    zones = {"tokyo": "Asia/Tokyo", "sydney": "Australia/Sydney", "la": "America/Los_Angeles",
             "paris": "Europe/Paris"}
    rows = {pid: _person(pid) for pid in zones}
    policy = _policy({"default": {"quiet_hours": NIGHT}}, zones=zones)
    sim = simulate(_one(), rows, zones=zones, audiences={"all": "true"}, origin="2026-12-01T12:00:00",
                   policy=Guarded(policy))
    sim.run("2026-12-01T12:00:00")
    assert _message_outcomes(sim) == {"tokyo": ("queued", "quiet_hours"), "sydney": ("queued", "quiet_hours"),
                                      "la": ("queued", "quiet_hours"), "paris": ("sent", None)}
    assert sim.waiting() == {"email": ["tokyo", "sydney", "la"]}  # a queued message parks the instance
    assert _sent_at(sim) == {"paris": at("2026-12-01T12:00:00")}

    sim.run("2026-12-03T00:00:00")
    releases = {"la": at("2026-12-01T16:00:00"),  # 08:00 PST, the same day
                "sydney": at("2026-12-01T21:00:00"),  # 08:00 AEDT on Dec 2
                "tokyo": at("2026-12-01T23:00:00")}  # 08:00 JST on Dec 2
    assert _sent_at(sim) == {"paris": at("2026-12-01T12:00:00"), **releases}
    assert [m["profile"] for m in sim.delivery.messages] == ["paris", "la", "sydney", "tokyo"]
    for pid, release in releases.items():
        stamp = release.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert _trail(sim, pid) == [("email", "2026-12-01T12:00:00Z", "queued", "quiet_hours"),
                                    ("email", stamp, "sent", None), ("after", stamp, "end", None)]
    assert sim.waiting() == {}


@pytest.mark.parametrize(("origin", "release"), [
    ("2026-12-01T19:59:59", None),  # 20:59:59 Paris: before the window
    ("2026-12-01T20:00:00", "2026-12-02T07:00:00"),  # 21:00 Paris: `from` is inside
    ("2026-12-02T06:59:59", "2026-12-02T07:00:00"),  # 07:59:59 Paris: inside, released at 08:00
    ("2026-12-02T07:00:00", None),  # 08:00 Paris: `to` is outside
])
def test_quiet_window_is_from_inclusive_to_exclusive(origin: str, release: str | None) -> None:
    zones = {"p1": "Europe/Paris"}
    sim = _run(_one(), {"p1": _person("p1")}, _policy({"default": {"quiet_hours": NIGHT}}, zones=zones),
               zones=zones, origin=origin)
    assert _sent_at(sim) == {"p1": at(release or origin)}
    assert _trail(sim)[0][2] == ("queued" if release else "sent")


@pytest.mark.parametrize(("origin", "release"), [
    ("2026-12-01T10:59:59", None),  # 11:59:59 Paris
    ("2026-12-01T11:00:00", "2026-12-01T13:00:00"),  # 12:00 Paris: inside until 14:00
    ("2026-12-01T12:59:59", "2026-12-01T13:00:00"),
    ("2026-12-01T13:00:00", None),  # 14:00 Paris: `to` is outside
])
def test_a_same_day_window_is_from_inclusive_to_exclusive(origin: str, release: str | None) -> None:
    rules = {"default": {"quiet_hours": {"windows": [{"from": "12:00", "to": "14:00"}], "timezone": "Europe/Paris"}}}
    sim = _run(_one(), {"p1": _person("p1")}, _policy(rules), origin=origin)
    assert _sent_at(sim) == {"p1": at(release or origin)}
    assert _trail(sim)[0][2] == ("queued" if release else "sent")


def test_released_message_is_decided_again_at_the_release_time() -> None:
    """The engine asks the policy twice: queued at 22:00Z, then at the release with `released`."""

    @dataclass
    class Recorder:
        inner: Policy
        seen: list[tuple[dt.datetime, bool, str]] = field(default_factory=list)

        def decide(self, request: MessageRequest) -> Decision:
            decision = self.inner.decide(request)
            self.seen.append((request.at, request.released, decision.outcome))
            return decision

    zones = {"p1": "Europe/Paris"}
    recorder = Recorder(_policy({"default": {"quiet_hours": NIGHT}}, zones=zones))
    sim = simulate(_one(), {"p1": _person("p1")}, zones=zones, audiences={"all": "true"},
                   origin="2026-12-01T22:00:00", policy=Guarded(recorder)).run(HORIZON)
    assert recorder.seen == [(at("2026-12-01T22:00:00"), False, "queued"),
                             (at("2026-12-02T07:00:00"), True, "sent")]
    assert _sent_at(sim) == {"p1": at("2026-12-02T07:00:00")}


def test_steps_after_a_released_message_run_from_the_release_time() -> None:
    text = """
steps:
  email: {type: message, channel: email, content: {body: Hi}, next: pause}
  pause: {type: wait, duration: P1D, next: end}
"""
    zones = {"p1": "Europe/Paris"}
    sim = _run(_journey(text), {"p1": _person("p1")}, _policy({"default": {"quiet_hours": NIGHT}}, zones=zones),
               zones=zones, origin="2026-12-01T22:00:00")
    assert [(s, t, o) for s, t, o, _ in _trail(sim)] == [
        ("email", "2026-12-01T22:00:00Z", "queued"), ("email", "2026-12-02T07:00:00Z", "sent"),
        ("pause", "2026-12-03T07:00:00Z", "next")]


def test_a_profile_without_a_zone_uses_the_project_zone() -> None:
    """§12: never the journey's zone, never unenforced. Project zone Tokyo, journey zone Los Angeles."""
    policy = _policy({"default": {"quiet_hours": NIGHT}}, zones={}, project_zone=TOKYO)
    mail = _one(settings="{timezone: America/Los_Angeles, use_profile_timezone: true}")
    sim = _run(mail, {"p1": _person("p1")}, policy, origin="2026-12-01T12:00:00", project_zone=TOKYO)
    # 21:00 in Tokyo: queued until 08:00 JST (23:00Z); Los Angeles would say 16:00Z, Paris would send at once.
    assert _trail(sim)[0] == ("email", "2026-12-01T12:00:00Z", "queued", "quiet_hours")
    assert _sent_at(sim) == {"p1": at("2026-12-01T23:00:00")}


def test_an_iana_zone_in_the_rule_set_overrides_the_profile_zone() -> None:
    zones = {"tokyo": "Asia/Tokyo", "paris": "Europe/Paris"}
    rules = {"default": {"quiet_hours": {**NIGHT, "timezone": "America/New_York"}}}
    sim = _run(_one(), {pid: _person(pid) for pid in zones}, _policy(rules, zones=zones), zones=zones,
               origin="2026-12-01T12:00:00")
    # 07:00 in New York: both are queued until 08:00 EST (13:00Z), whatever their own local time says.
    assert _message_outcomes(sim) == {"tokyo": ("sent", None), "paris": ("sent", None)}
    assert _sent_at(sim) == {"tokyo": at("2026-12-01T13:00:00"), "paris": at("2026-12-01T13:00:00")}
    assert all(_trail(sim, pid)[0][2] == "queued" for pid in zones)


@pytest.mark.parametrize(("origin", "release"), [
    ("2026-12-04T22:00:00", "2026-12-05T07:00:00"),  # Friday 23:00 Paris: the Friday window
    ("2026-12-05T06:00:00", "2026-12-05T07:00:00"),  # Saturday 07:00 Paris: still the Friday window
    ("2026-12-05T22:00:00", None),  # Saturday 23:00 Paris: a Saturday window does not exist
    ("2026-12-04T06:00:00", None),  # Friday 07:00 Paris: Thursday's window does not exist
])
def test_days_name_the_start_day_of_an_overnight_window(origin: str, release: str | None) -> None:
    rules = {"default": {"quiet_hours": {"windows": [{"from": "21:00", "to": "08:00", "days": ["fri"]}],
                                         "timezone": "Europe/Paris"}}}
    sim = _run(_one(), {"p1": _person("p1")}, _policy(rules), origin=origin)
    assert _trail(sim)[0][2] == ("queued" if release else "sent")
    assert _sent_at(sim) == {"p1": at(release or origin)}


def test_handling_discard_excludes_and_the_instance_exits() -> None:
    rules = {"default": {"quiet_hours": {**NIGHT, "handling": "discard"}}}
    zones = {"p1": "Europe/Paris", "p2": "Europe/Paris"}
    rows = {"p1": _person("p1"), "p2": _person("p2", email=None)}
    sim = _run(_one(), rows, _policy(rules, zones=zones), zones=zones, origin="2026-12-01T22:00:00")
    assert _trail(sim) == [("email", "2026-12-01T22:00:00Z", "excluded", "quiet_hours")]
    assert sim.delivery.messages == []
    # p2 fails on its address before quiet hours are looked at: it continues on `next`.
    assert sim.ends() == {"quiet_hours": ["p1"], "after": ["p2"]}
    assert sim.waiting() == {}


def test_release_checks_capping_again_two_journeys_released_together() -> None:
    """Both queued at 22:00Z; both released at 08:00 Paris; `max: 1`: the first by entry order is sent."""
    rules = {"default": {"capping": [{"channels": ["email"], "max": 1, "per": "P7D"}], "quiet_hours": NIGHT}}
    zones = {"p1": "Europe/Paris"}
    sim = _run([_one(jid="a"), _one(jid="b")], {"p1": _person("p1")}, _policy(rules, zones=zones), zones=zones,
               origin="2026-12-01T22:00:00")
    assert _trail(sim, journey_id="a") == [("email", "2026-12-01T22:00:00Z", "queued", "quiet_hours"),
                                           ("email", "2026-12-02T07:00:00Z", "sent", None),
                                           ("after", "2026-12-02T07:00:00Z", "end", None)]
    assert _trail(sim, journey_id="b") == [("email", "2026-12-01T22:00:00Z", "queued", "quiet_hours"),
                                           ("email", "2026-12-02T07:00:00Z", "excluded", "capped"),
                                           ("after", "2026-12-02T07:00:00Z", "end", None)]
    assert [(m["id"], m["at"]) for m in sim.delivery.messages] == [("a", at("2026-12-02T07:00:00"))]


def test_a_queued_message_does_not_count_until_released() -> None:
    """Journey `b`'s rule set has the same cap but no quiet hours: its 23:00 message is sent; then `a`'s
    release at 08:00 is capped by it."""
    cap = [{"channels": ["email"], "max": 1, "per": "P7D"}]
    rules = {"default": {"capping": cap, "quiet_hours": NIGHT}, "daytime": {"capping": cap}}
    b = _journey("steps:\n  pause: {type: wait, duration: PT1H, next: email}\n"
                 "  email: {type: message, channel: email, rules: daytime, content: {body: B}, next: end}\n",
                 jid="b", first="pause")
    zones = {"p1": "Europe/Paris"}
    sim = _run([_one(jid="a"), b], {"p1": _person("p1")}, _policy(rules, zones=zones), zones=zones,
               origin="2026-12-01T22:00:00")
    assert _trail(sim, journey_id="b")[1] == ("email", "2026-12-01T23:00:00Z", "sent", None)
    assert _trail(sim, journey_id="a")[:2] == [("email", "2026-12-01T22:00:00Z", "queued", "quiet_hours"),
                                               ("email", "2026-12-02T07:00:00Z", "excluded", "capped")]


def test_release_checks_consent_again() -> None:
    """Another journey withdraws the email consent (update-profile) while the message is queued."""
    optout = _journey("steps:\n  pause: {type: wait, duration: PT1H, next: optout}\n"
                      "  optout: {type: update-profile, set: {'consent.email': 'false'}, next: end}\n",
                      jid="optout", first="pause")
    zones = {"p1": "Europe/Paris"}
    sim = _run([_one(jid="a"), optout], {"p1": _person("p1")},
               _policy({"default": {"quiet_hours": NIGHT}}, zones=zones), zones=zones, origin="2026-12-01T22:00:00")
    assert _trail(sim, journey_id="a") == [("email", "2026-12-01T22:00:00Z", "queued", "quiet_hours"),
                                           ("email", "2026-12-02T07:00:00Z", "excluded", "no_consent"),
                                           ("after", "2026-12-02T07:00:00Z", "end", None)]
    assert sim.delivery.messages == []


def test_a_chain_of_windows_holds_the_message_until_the_last_one_ends() -> None:
    """Promotions-like: 20:00-09:00 every day and 09:00-20:00 on Sundays. Saturday 22:00 Paris: the Saturday
    night window ends Sunday 09:00, the Sunday window holds it to 20:00, the Sunday night window to Monday 09:00."""
    rules = {"default": {"quiet_hours": {"windows": [{"from": "20:00", "to": "09:00"},
                                                     {"from": "09:00", "to": "20:00", "days": ["sun"]}],
                                         "timezone": "profile"}}}
    zones = {"p1": "Europe/Paris"}
    policy = _policy(rules, zones=zones)
    sim = simulate(_one(), {"p1": _person("p1")}, zones=zones, audiences={"all": "true"},
                   origin="2026-12-05T21:00:00", policy=Guarded(policy))
    for moment in ("2026-12-06T08:00:00", "2026-12-06T12:00:00", "2026-12-06T19:00:00", "2026-12-07T07:59:59"):
        sim.run(moment)
        assert sim.waiting() == {"email": ["p1"]}, moment
        assert sim.delivery.messages == [], moment
    sim.run("2026-12-10T00:00:00")
    trail = _trail(sim)
    assert trail[0] == ("email", "2026-12-05T21:00:00Z", "queued", "quiet_hours")
    assert [item for item in trail if item[2] != "queued"] == [("email", "2026-12-07T08:00:00Z", "sent", None),
                                                               ("after", "2026-12-07T08:00:00Z", "end", None)]
    assert _sent_at(sim) == {"p1": at("2026-12-07T08:00:00")}  # Monday 09:00 Paris


@pytest.mark.parametrize("origin", ["2026-03-28T22:00:00",  # Saturday 23:00 CET
                                    "2026-03-29T00:30:00"])  # Sunday 01:30 CET, just before the gap
def test_a_release_inside_a_dst_gap_happens_at_the_next_valid_instant(origin: str) -> None:
    """Paris springs forward on 2026-03-29 (02:00 CET -> 03:00 CEST): 02:30 does not exist; 03:00 CEST is 01:00Z."""
    rules = {"default": {"quiet_hours": {"windows": [{"from": "22:00", "to": "02:30"}], "timezone": "profile"}}}
    zones = {"p1": "Europe/Paris"}
    sim = _run(_one(), {"p1": _person("p1")}, _policy(rules, zones=zones), zones=zones, origin=origin,
               until="2026-03-31T00:00:00")
    start = at(origin).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _trail(sim) == [("email", start, "queued", "quiet_hours"),
                           ("email", "2026-03-29T01:00:00Z", "sent", None),
                           ("after", "2026-03-29T01:00:00Z", "end", None)]
    assert _sent_at(sim) == {"p1": at("2026-03-29T01:00:00")}


def test_transactional_messages_ignore_quiet_hours() -> None:
    zones = {"p1": "Europe/Paris"}
    sim = _run(_one(category="transactional"), {"p1": _person("p1")},
               _policy({"default": {"quiet_hours": {**NIGHT, "handling": "discard"}}}, zones=zones), zones=zones,
               origin="2026-12-01T22:00:00")
    assert _trail(sim)[0] == ("email", "2026-12-01T22:00:00Z", "sent", None)
    assert _sent_at(sim) == {"p1": at("2026-12-01T22:00:00")}


def test_rules_of_jo_yaml_read_days_and_defaults() -> None:
    """`channels_of` and `rule_sets_of` read the jo.yaml shape: days default to every day, timezone to `profile`,
    handling to `queue`."""
    config = {"channels": CHANNELS, "rules": {"default": {"quiet_hours": {"windows": [{"from": "21:00",
                                                                                        "to": "08:00"}]}}}}
    quiet = rule_sets_of(config)["default"].quiet_hours
    assert quiet is not None
    assert quiet.zone is None and quiet.handling == "queue"
    assert [sorted(w.days) for w in quiet.windows] == [list(range(7))]
    assert channels_of(config)["push"].consent is None


# ---------------------------------------------------------------- the message object (§7.4, §7.5)


def _greeting(request: MessageRequest, message: dict[str, Any]) -> str | None:
    data = request.instance.data or {}
    message["subject"] = f"Welcome {data.get('first_name')}"
    message["body"] = "<p>Hello</p>"
    return None


@pytest.mark.parametrize("status", ["would_send", "pending"])
def test_the_message_object_keys_order_and_values(status: str) -> None:
    text = "steps:\n  welcome-email: {type: message, channel: email, content: {body: x}, next: end}\n"
    mail = _journey(text, jid="welcome", first="welcome-email", version=3)
    sim = _run(mail, {"p1": _person("p1")}, _policy(render=_greeting, status=status))
    [message] = sim.delivery.messages
    assert list(message) == ["key", "kind", "id", "version", "step", "profile", "channel", "to", "subject", "body",
                             "at", "status"]
    assert dict(message) == {"key": "journey:welcome:p1:1:welcome-email", "kind": "journey", "id": "welcome",
                             "version": 3, "step": "welcome-email", "profile": "p1", "channel": "email",
                             "to": "p1@example.org", "subject": "Welcome P1", "body": "<p>Hello</p>",
                             "at": at(T0), "status": status}


def test_the_message_object_without_content_fields_and_in_a_dry_run_version() -> None:
    sim = _run(_one("sms"), {"p1": _person("p1")}, _policy())
    [message] = sim.delivery.messages
    assert list(message) == ["key", "kind", "id", "version", "step", "profile", "channel", "to", "at", "status"]
    assert message["version"] is None
    assert message["to"] == "+33600000000"
    assert message["status"] == "would_send"


def test_the_key_counts_entries_and_percent_encodes_colons() -> None:
    text = """
id: welcome
entry: {type: event, event: signup, next: email}
settings: {reentrance: {allowed: true, wait: PT0S}}
steps:
  email: {type: message, channel: email, content: {body: x}, next: end}
"""
    rows = {"a:b": _person("a:b", email="ab@example.org")}
    sim = simulate(journey(text), rows, policy=Guarded(_policy()))
    sim.push(event("signup", "2026-12-01T09:00:00", "a:b"), event("signup", "2026-12-02T09:00:00", "a:b", line=2))
    sim.run(HORIZON)
    assert [(m["key"], m["at"]) for m in sim.delivery.messages] == [
        ("journey:welcome:a%3Ab:1:email", at("2026-12-01T09:00:00")),
        ("journey:welcome:a%3Ab:2:email", at("2026-12-02T09:00:00"))]


def test_a_queued_message_is_rendered_and_stamped_at_its_release() -> None:
    calls: list[dt.datetime] = []

    def render(request: MessageRequest, message: dict[str, Any]) -> str | None:
        calls.append(request.at)
        message["body"] = "Hi"
        return None

    zones = {"p1": "Europe/Paris"}
    sim = _run(_one(), {"p1": _person("p1")}, _policy({"default": {"quiet_hours": NIGHT}}, zones=zones,
                                                      render=render), zones=zones, origin="2026-12-01T22:00:00")
    assert calls == [at("2026-12-02T07:00:00")]  # quiet hours come before the render
    [message] = sim.delivery.messages
    assert message["at"] == at("2026-12-02T07:00:00")
    assert message["key"] == "journey:j:p1:1:email"


# ---------------------------------------------------------------- render hook (§7.5)


RENDERED = """
steps:
  email: {type: message, channel: email, content: {body: x}, next: after%s}
  after: {type: end}
  fallback: {type: end}
"""


@pytest.mark.parametrize(("on_error", "end"), [(", on_error: fallback", "fallback"), ("", "after")])
def test_a_render_error_excludes_and_continues_on_on_error_else_next(on_error: str, end: str) -> None:
    sim = _run(_journey(RENDERED % on_error), {"p1": _person("p1")}, _policy(render=_fail_step("email")))
    assert _trail(sim) == [("email", "2026-12-01T08:00:00Z", "excluded", "render_error"),
                           (end, "2026-12-01T08:00:00Z", "end", None)]
    assert sim.delivery.messages == []
    assert sim.ends() == {end: ["p1"]}


def test_other_exclusions_ignore_on_error() -> None:
    """Only a render error takes `on_error`; excluded profiles continue on `next`."""
    rows = {"p1": _person("p1", consent={"email": False}), "p2": _person("p2", email=None)}
    sim = _run(_journey(RENDERED % ", on_error: fallback"), rows, _policy())
    assert sim.ends() == {"after": ["p1", "p2"]}


def test_a_message_that_fails_to_render_is_not_counted_for_capping() -> None:
    text = """
steps:
  broken: {type: message, channel: email, content: {body: x}, next: email}
  email: {type: message, channel: email, content: {body: y}, next: end}
"""
    sim = _run(_journey(text, first="broken"), {"p1": _person("p1")},
               _policy(WEEKLY_ONE, render=_fail_step("broken")))
    assert [(s, o, d) for s, _, o, d in _trail(sim)] == [("broken", "excluded", "render_error"),
                                                         ("email", "sent", None)]


@settings(deadline=None)  # hypothesis' 200 ms deadline would time a loaded machine, not jo
@given(journey=st.text(min_size=1, max_size=8), step=st.text(min_size=1, max_size=8),
       profile=st.text(min_size=1, max_size=8), entry=st.integers(min_value=1, max_value=10**6))
def test_a_steps_key_maker_gives_the_message_key(journey: str, step: str, profile: str, entry: int) -> None:
    assert journey_message_keys(journey, step)(profile, entry) == journey_message_key(journey, profile, entry, step)
