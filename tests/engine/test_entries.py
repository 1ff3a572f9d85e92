"""Entry types and entry rules (SPEC §6.2): who enters, when, and every discard reason in order."""

from __future__ import annotations

from jo_cli.engine.memory import SingleFire
from tests.engine.helpers import Sim, at, event, journey, new_store, simulate

DAILY = '{cron: "0 9 * * *", timezone: Europe/Paris}'  # 08:00Z in December
BEFORE_FIRST_FIRE = "2026-12-01T00:00:00"  # origin: the first daily fire is 2026-12-01T08:00Z


def _entries(sim: Sim, journey_id: str = "j") -> list[tuple[str, int]]:
    """(profile, entry number) of every instance, in entry order."""
    return [(i.profile, i.entry) for i in sim.store.instances if i.journey == journey_id]


def _discards(sim: Sim, journey_id: str = "j") -> list[tuple[str, str, str]]:
    return [(d.profile, d.reason, d.at.strftime("%Y-%m-%dT%H:%M:%SZ")) for d in sim.store.discards
            if d.journey == journey_id]


def _event_journey(settings: str = "", steps: str = "done: {type: end}", where: str = "") -> str:
    where_field = f", where: '{where}'" if where else ""
    return f"""
entry: {{type: event, event: signup{where_field}, next: first}}
settings: {{{settings}}}
steps:
  first: {{type: wait, duration: PT1M, next: done}}
  {steps}
"""


PARKING = "done: {type: wait, duration: P1D, next: end}"  # keeps the instance active for a day


# ---------------------------------------------------------------- audience


def test_audience_fire_enters_members_in_source_row_order() -> None:
    j = journey("entry: {type: audience, audience: vip, next: done}\nsteps:\n  done: {type: end}")
    rows = {"p3": {"id": "p3"}, "p1": {"id": "p1"}, "p2": {"id": "p2"}, "p4": {"id": "p4"}}
    sim = simulate(j, rows, audiences={"vip": ["p1", "p2", "p3"]}).run("2026-12-02T00:00:00")
    assert _entries(sim) == [("p3", 1), ("p1", 1), ("p2", 1)]
    assert [e.profile for e in sim.step_events()] == ["p3", "p1", "p2"]
    assert {e.at.isoformat() for e in sim.step_events()} == {"2026-12-01T08:00:00+00:00"}


def test_an_audience_where_reads_the_time_in_each_profile_zone() -> None:
    """12:00Z on Tuesday 1 December is already Wednesday in Kiritimati (UTC+14), still Tuesday in Los Angeles
    and in the project zone (Paris) of a profile without one."""
    j = journey("entry: {type: audience, audience: wednesday, next: done}\nsteps:\n  done: {type: end}")
    rows = {name: {"id": name} for name in ("p1", "p2", "p3")}
    sim = simulate(j, rows, zones={"p1": "Pacific/Kiritimati", "p2": "America/Los_Angeles"},
                   audiences={"wednesday": "dayOfWeek(now()) == 3"}, origin="2026-12-01T12:00:00")
    assert _entries(sim.run("2026-12-02T00:00:00")) == [("p1", 1)]


def test_audience_without_schedule_fires_once() -> None:
    j = journey("entry: {type: audience, audience: all, next: done}\nsteps:\n  done: {type: end}")
    sim = simulate(j, audiences={"all": "true"}).run("2026-12-01T08:00:00").run("2026-12-20T00:00:00")
    assert _entries(sim) == [("p1", 1)]
    assert sim.store.fires == [("j", sim.store.instances[0].entered_at)]


def test_a_dry_run_single_fire_fires_a_scheduled_audience_once() -> None:
    j = journey(f"entry: {{type: audience, audience: all, schedule: {DAILY}, next: done}}\n"
                "steps:\n  done: {type: end}")
    sim = simulate(j, audiences={"all": "true"}, fires=SingleFire(at("2026-12-01T08:00:00")))
    sim.run("2026-12-01T09:00:00").run("2026-12-05T00:00:00")
    assert _entries(sim) == [("p1", 1)]
    assert sim.store.instances[0].entered_at == at("2026-12-01T08:00:00")


def _daily(incremental: bool = False, force: bool = False, steps: str = "done: {type: end}") -> str:
    return f"""
entry: {{type: audience, audience: gold, schedule: {DAILY}, incremental: {str(incremental).lower()},
         force_reentrance: {str(force).lower()}, next: done}}
steps:
  {steps}
"""


def _two_fires(text: str) -> Sim:
    """Fire 1 (p1, p2 gold), then p3 turns gold, then fire 2 a day later."""
    rows = {"p1": {"id": "p1", "tier": "gold"}, "p2": {"id": "p2", "tier": "gold"}, "p3": {"id": "p3", "tier": "x"}}
    sim = simulate(journey(text), rows, audiences={"gold": 'profile.tier == "gold"'}, origin=BEFORE_FIRST_FIRE)
    sim.run("2026-12-01T12:00:00")
    sim.profiles.rows["p3"]["tier"] = "gold"
    return sim.run("2026-12-02T12:00:00")


def test_full_read_takes_every_member_at_each_fire() -> None:
    sim = _two_fires(_daily())
    assert _entries(sim) == [("p1", 1), ("p2", 1), ("p1", 2), ("p2", 2), ("p3", 1)]
    assert sim.discards() == []


def test_incremental_read_takes_only_new_members_and_discards_nobody() -> None:
    sim = _two_fires(_daily(incremental=True))
    assert _entries(sim) == [("p1", 1), ("p2", 1), ("p3", 1)]
    assert sim.store.instances[-1].entered_at.isoformat() == "2026-12-02T08:00:00+00:00"
    assert sim.discards() == []


def test_incremental_read_takes_again_a_member_who_left_and_came_back() -> None:
    rows = {"p1": {"id": "p1", "tier": "gold"}}
    sim = simulate(journey(_daily(incremental=True)), rows, audiences={"gold": 'profile.tier == "gold"'},
                   origin=BEFORE_FIRST_FIRE)
    sim.run("2026-12-01T12:00:00")
    sim.profiles.rows["p1"]["tier"] = "x"
    sim.run("2026-12-02T12:00:00")
    sim.profiles.rows["p1"]["tier"] = "gold"
    sim.run("2026-12-03T12:00:00")
    assert [(p, n, i.entered_at.day) for (p, n), i in zip(_entries(sim), sim.store.instances, strict=True)] == [
        ("p1", 1, 1), ("p1", 2, 3)]


def test_full_read_discards_members_still_active() -> None:
    sim = _two_fires(_daily(steps="done: {type: wait, duration: P3D, next: end}"))
    assert _discards(sim) == [("p1", "already_in_journey", "2026-12-02T08:00:00Z"),
                              ("p2", "already_in_journey", "2026-12-02T08:00:00Z")]
    assert _entries(sim) == [("p1", 1), ("p2", 1), ("p3", 1)]


def test_force_reentrance_exits_active_instances_before_members_enter() -> None:
    sim = _two_fires(_daily(force=True, steps="done: {type: wait, duration: P3D, next: end}"))
    assert sim.discards() == []
    assert _entries(sim) == [("p1", 1), ("p2", 1), ("p1", 2), ("p2", 2), ("p3", 1)]
    second = [(e.profile, e.step, e.outcome, e.exited) for e in sim.step_events()
              if e.at.isoformat() == "2026-12-02T08:00:00+00:00"]
    assert second == [("p1", "done", "forced_reentrance", True), ("p2", "done", "forced_reentrance", True)]
    assert sim.ends() == {"forced_reentrance": ["p1", "p2"]}
    assert [i.entered_at.isoformat() for i in sim.store.instances[2:]] == ["2026-12-02T08:00:00+00:00"] * 3


def test_force_reentrance_exits_instances_that_left_the_audience() -> None:
    rows = {"p1": {"id": "p1", "tier": "gold"}}
    text = _daily(force=True, steps="done: {type: wait, duration: P3D, next: end}")
    sim = simulate(journey(text), rows, audiences={"gold": 'profile.tier == "gold"'}, origin=BEFORE_FIRST_FIRE)
    sim.run("2026-12-01T12:00:00")
    sim.profiles.rows["p1"]["tier"] = "silver"
    sim.run("2026-12-02T12:00:00")
    assert sim.ends() == {"forced_reentrance": ["p1"]}
    assert sim.waiting() == {}


# ---------------------------------------------------------------- event


def test_event_entry_enters_the_events_profile_only_when_where_holds() -> None:
    j = journey(_event_journey(where='event.plan == "pro"'))
    sim = simulate(j, {"p1": {"id": "p1"}, "p2": {"id": "p2"}})
    sim.push(event("signup", "2026-12-01T10:00:00", "p1", plan="free"),
             event("signup", "2026-12-01T10:00:00", "p2", plan="pro"))
    sim.run("2026-12-02T00:00:00")
    assert _entries(sim) == [("p2", 1)]
    assert sim.discards() == []
    results = {r.event: (r.journey, r.result, r.reason) for r in sim.store.event_results}
    assert results == {1: ("j", "discarded", "where_false"), 2: ("j", "consumed", None)}


def test_event_entry_makes_the_payload_readable() -> None:
    text = """
entry: {type: event, event: signup, next: plan}
steps:
  plan:
    type: condition
    paths: [{name: pro, when: 'event.plan == "pro"', next: end}]
    otherwise: end
"""
    sim = simulate(journey(text)).push(event("signup", "2026-12-01T10:00:00", plan="pro")).run("2026-12-02T00:00:00")
    assert sim.steps("p1") == [("plan", "2026-12-01T10:00:00Z", "pro")]


# ---------------------------------------------------------------- audience qualification


def _qualification(on: str) -> str:
    return f"""
entry: {{type: audience-qualification, audience: gold, "on": {on}, next: done}}
steps:
  done: {{type: end}}
"""


def test_audience_qualification_first_evaluation_only_records() -> None:
    rows = {"p1": {"id": "p1", "tier": "gold"}, "p2": {"id": "p2", "tier": "x"}}
    sim = simulate(journey(_qualification("enter")), rows, audiences={"gold": 'profile.tier == "gold"'})
    sim.run("2026-12-01T09:00:00").run("2026-12-01T10:00:00")
    assert _entries(sim) == []
    assert sim.discards() == []


def test_audience_qualification_enter_takes_new_members_at_the_pass_now() -> None:
    store = new_store()
    audiences = {"gold": 'profile.tier == "gold"'}
    first = {"p1": {"id": "p1", "tier": "gold"}, "p2": {"id": "p2", "tier": "x"}}
    simulate(journey(_qualification("enter")), first, audiences=audiences, store=store).run("2026-12-01T09:00:00")
    second = {pid: {"id": pid, "tier": "gold"} for pid in ("p1", "p2", "p3")}
    sim = simulate(journey(_qualification("enter")), second, audiences=audiences, store=store)
    sim.run("2026-12-01T10:00:00")
    assert _entries(sim) == [("p2", 1), ("p3", 1)]
    assert [i.entered_at.isoformat() for i in store.instances] == ["2026-12-01T10:00:00+00:00"] * 2


def test_audience_qualification_exit_takes_profiles_that_left() -> None:
    rows = {"p1": {"id": "p1", "tier": "gold"}, "p2": {"id": "p2", "tier": "gold"}, "p3": {"id": "p3", "tier": "x"}}
    sim = simulate(journey(_qualification("exit")), rows, audiences={"gold": 'profile.tier == "gold"'})
    sim.run("2026-12-01T09:00:00")
    sim.profiles.rows["p2"]["tier"] = "silver"
    sim.profiles.rows["p3"]["tier"] = "gold"
    sim.run("2026-12-01T10:00:00")
    assert _entries(sim) == [("p2", 1)]
    assert sim.store.instances[0].entered_at.isoformat() == "2026-12-01T10:00:00+00:00"


def test_audience_qualification_sees_an_update_profile_of_another_journey() -> None:
    writer = journey("""
id: writer
entry: {type: event, event: upgrade, next: set}
steps:
  set: {type: update-profile, set: {tier: '"gold"'}, next: end}
""")
    watcher = journey(_qualification("enter"))
    rows = {"p1": {"id": "p1", "tier": "x"}}
    sim = simulate([writer, watcher], rows, audiences={"gold": 'profile.tier == "gold"'})
    sim.run("2026-12-01T09:00:00")
    sim.push(event("upgrade", "2026-12-01T09:30:00")).run("2026-12-01T10:00:00")
    assert _entries(sim) == [("p1", 1)]
    assert sim.store.instances[-1].entered_at.isoformat() == "2026-12-01T10:00:00+00:00"


# ---------------------------------------------------------------- business event


BUSINESS = """
entry: {type: business-event, event: flash_sale, audience: gold, next: which}
steps:
  which:
    type: condition
    paths: [{name: shoes, when: 'event.category == "shoes"', next: hold}]
    otherwise: hold
  hold: {type: wait, duration: P2D, next: again}
  again:
    type: condition
    paths: [{name: shoes, when: 'event.category == "shoes"', next: end}]
    otherwise: end
"""


def test_business_event_enters_audience_members_with_the_event_readable() -> None:
    rows = {"p1": {"id": "p1", "tier": "gold"}, "p2": {"id": "p2", "tier": "x"}, "p3": {"id": "p3", "tier": "gold"}}
    sim = simulate(journey(BUSINESS), rows, audiences={"gold": 'profile.tier == "gold"'})
    sim.push(event("flash_sale", "2026-12-01T10:00:00", None, category="shoes")).run("2026-12-05T00:00:00")
    assert _entries(sim) == [("p1", 1), ("p3", 1)]
    assert sim.steps("p1") == [("which", "2026-12-01T10:00:00Z", "shoes"), ("hold", "2026-12-03T10:00:00Z", "next"),
                               ("again", "2026-12-03T10:00:00Z", "shoes")]


def test_business_event_discards_members_still_active() -> None:
    rows = {"p1": {"id": "p1", "tier": "gold"}, "p2": {"id": "p2", "tier": "x"}}
    sim = simulate(journey(BUSINESS), rows, audiences={"gold": 'profile.tier == "gold"'})
    sim.push(event("flash_sale", "2026-12-01T10:00:00", None, category="shoes"),
             event("flash_sale", "2026-12-02T10:00:00", None, category="bags"),
             event("flash_sale", "2026-12-04T10:00:00", None, category="bags"))
    sim.run("2026-12-08T00:00:00")
    assert _discards(sim) == [("p1", "already_in_journey", "2026-12-02T10:00:00Z")]
    assert _entries(sim) == [("p1", 1), ("p1", 2)]
    assert ("again", "2026-12-03T10:00:00Z", "shoes") in sim.steps("p1")  # the active instance keeps its event
    assert sim.steps("p1")[-1] == ("again", "2026-12-06T10:00:00Z", "otherwise")


# ---------------------------------------------------------------- discard reasons, one at a time


def test_unknown_profile_is_discarded() -> None:
    sim = simulate(journey(_event_journey())).push(event("signup", "2026-12-01T10:00:00", "ghost"))
    sim.run("2026-12-02T00:00:00")
    assert _discards(sim) == [("ghost", "unknown_profile", "2026-12-01T10:00:00Z")]
    assert _entries(sim) == []


def test_outside_window_before_start_and_at_exactly_end() -> None:
    # Without an offset, start and end are wall times in the journey's zone (Paris, UTC+1 in December).
    text = _event_journey(settings='start: "2026-12-02T00:00:00", end: "2026-12-03T00:00:00"')
    rows = {p: {"id": p} for p in ("p1", "p2", "p3", "p4")}
    sim = simulate(journey(text), rows)
    sim.push(event("signup", "2026-12-01T22:59:59", "p1"), event("signup", "2026-12-01T23:00:00", "p2"),
             event("signup", "2026-12-02T22:59:59", "p3"), event("signup", "2026-12-02T23:00:00", "p4"))
    sim.run("2026-12-04T00:00:00")
    assert _discards(sim) == [("p1", "outside_window", "2026-12-01T22:59:59Z"),
                              ("p4", "outside_window", "2026-12-02T23:00:00Z")]
    assert _entries(sim) == [("p2", 1), ("p3", 1)]


def test_a_window_end_with_a_fraction_is_a_whole_time_meaning_the_same() -> None:
    """The timeline ticks in whole seconds: an end at 10:00:00.5 refuses the entry at 10:00:01 and ends the
    waiting instances at 10:00:01 (a time the store keeps), as `at < end` says on whole seconds."""
    text = _event_journey(settings='end: "2026-12-01T10:00:00.500Z"', steps=PARKING)
    rows = {p: {"id": p} for p in ("p1", "p2")}
    sim = simulate(journey(text), rows)
    sim.push(event("signup", "2026-12-01T10:00:00Z", "p1"), event("signup", "2026-12-01T10:00:01Z", "p2"))
    sim.run("2026-12-02T00:00:00")
    assert _entries(sim) == [("p1", 1)]
    assert _discards(sim) == [("p2", "outside_window", "2026-12-01T10:00:01Z")]
    assert all(e.at.microsecond == 0 for e in sim.step_events())
    assert [e.at for e in sim.step_events("p1") if e.exited] == [at("2026-12-01T10:00:01+00:00")]


def test_already_in_journey() -> None:
    sim = simulate(journey(_event_journey(steps=PARKING)))
    sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2026-12-01T11:00:00"))
    sim.run("2026-12-01T12:00:00")
    assert _discards(sim) == [("p1", "already_in_journey", "2026-12-01T11:00:00Z")]
    assert _entries(sim) == [("p1", 1)]


def test_already_in_journey_counts_every_version() -> None:
    store = new_store()
    old = journey(_event_journey(steps=PARKING), version=1)
    simulate(old, store=store).push(event("signup", "2026-12-01T10:00:00")).run("2026-12-01T10:30:00")
    new = journey(_event_journey(), version=2)
    sim = simulate([old, new], store=store).push(event("signup", "2026-12-01T11:00:00"))
    sim.run("2026-12-01T12:00:00")
    assert [(d.version, d.reason) for d in store.discards] == [(2, "already_in_journey")]
    assert [(i.version, i.end) for i in store.instances] == [(1, None)]


def test_reentrance_not_allowed_is_forever() -> None:
    sim = simulate(journey(_event_journey(settings="reentrance: {allowed: false}")))
    sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2027-09-01T10:00:00"))
    sim.run("2027-09-02T00:00:00")
    assert _discards(sim) == [("p1", "reentrance_not_allowed", "2027-09-01T10:00:00Z")]
    assert _entries(sim) == [("p1", 1)]


def test_reentrance_wait_is_counted_from_the_previous_entry() -> None:
    # The instance lives 50 minutes; the wait of an hour runs from the entry, not from the exit.
    text = _event_journey(settings="reentrance: {allowed: true, wait: PT1H}",
                          steps="done: {type: wait, duration: PT49M, next: end}")
    sim = simulate(journey(text))
    sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2026-12-01T10:59:59"),
             event("signup", "2026-12-01T11:00:00"))
    sim.run("2026-12-02T00:00:00")
    assert sim.store.instances[0].ended_at is not None
    assert sim.store.instances[0].ended_at.isoformat() == "2026-12-01T10:50:00+00:00"
    assert _discards(sim) == [("p1", "reentrance_wait", "2026-12-01T10:59:59Z")]
    assert [(p, n, i.entered_at.isoformat()) for (p, n), i in zip(_entries(sim), sim.store.instances, strict=True)] \
        == [("p1", 1, "2026-12-01T10:00:00+00:00"), ("p1", 2, "2026-12-01T11:00:00+00:00")]


def test_reentrance_wait_defaults_to_five_minutes() -> None:
    sim = simulate(journey("entry: {type: event, event: signup, next: done}\nsteps:\n  done: {type: end}"))
    sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2026-12-01T10:04:59"),
             event("signup", "2026-12-01T10:05:00"))
    sim.run("2026-12-02T00:00:00")
    assert _discards(sim) == [("p1", "reentrance_wait", "2026-12-01T10:04:59Z")]
    assert _entries(sim) == [("p1", 1), ("p1", 2)]


def test_reentrance_allowed_with_no_wait_given_waits_five_minutes() -> None:
    text = "entry: {type: event, event: signup, next: done}\nsettings: {reentrance: {allowed: true}}\n" \
           "steps:\n  done: {type: end}"
    sim = simulate(journey(text))
    sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2026-12-01T10:04:00"))
    sim.run("2026-12-02T00:00:00")
    assert _discards(sim) == [("p1", "reentrance_wait", "2026-12-01T10:04:00Z")]


# ---------------------------------------------------------------- the order of the checks


def test_unknown_profile_is_checked_before_the_window() -> None:
    sim = simulate(journey(_event_journey(settings='start: "2026-12-05T00:00:00Z"')))
    sim.push(event("signup", "2026-12-01T10:00:00", "ghost")).run("2026-12-02T00:00:00")
    assert _discards(sim) == [("ghost", "unknown_profile", "2026-12-01T10:00:00Z")]


def test_outside_window_is_checked_before_already_in_journey() -> None:
    store = new_store()
    old = journey(_event_journey(steps=PARKING), version=1)
    simulate(old, store=store).push(event("signup", "2026-12-01T10:00:00")).run("2026-12-01T10:30:00")
    new = journey(_event_journey(settings='start: "2026-12-05T00:00:00Z"'), version=2)
    simulate([old, new], store=store).push(event("signup", "2026-12-01T11:00:00")).run("2026-12-01T12:00:00")
    assert [(d.version, d.reason) for d in store.discards] == [(2, "outside_window")]


def test_outside_window_is_checked_before_reentrance_not_allowed() -> None:
    text = _event_journey(settings='reentrance: {allowed: false}, end: "2026-12-02T00:00:00Z"')
    sim = simulate(journey(text))
    sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2026-12-03T10:00:00"))
    sim.run("2026-12-04T00:00:00")
    assert _discards(sim) == [("p1", "outside_window", "2026-12-03T10:00:00Z")]


def test_already_in_journey_is_checked_before_reentrance_rules() -> None:
    closed = journey(_event_journey(settings="reentrance: {allowed: false}", steps=PARKING), version=1)
    waiting = journey(_event_journey(settings="reentrance: {allowed: true, wait: P2D}", steps=PARKING), version=1)
    for j in (closed, waiting):
        sim = simulate(j)
        sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2026-12-01T11:00:00"))
        sim.run("2026-12-01T12:00:00")
        assert _discards(sim) == [("p1", "already_in_journey", "2026-12-01T11:00:00Z")]


# ---------------------------------------------------------------- entry numbers, the window's end, vanished profiles


def test_entry_numbers_keep_counting_across_discards() -> None:
    text = """
entry: {type: event, event: signup, next: send}
steps:
  send: {type: message, channel: email, content: {subject: s, body: b}, next: end}
"""
    sim = simulate(journey(text))
    sim.push(event("signup", "2026-12-01T10:00:00"), event("signup", "2026-12-01T10:01:00"),
             event("signup", "2026-12-01T11:00:00"), event("signup", "2026-12-09T11:00:00"))
    sim.run("2026-12-10T00:00:00")
    assert _entries(sim) == [("p1", 1), ("p1", 2), ("p1", 3)]
    assert [m["key"] for m in sim.delivery.messages] == [
        "journey:j:p1:1:send", "journey:j:p1:2:send", "journey:j:p1:3:send"]


def test_entry_numbers_continue_in_a_new_version() -> None:
    store = new_store()
    old = journey(_event_journey(), version=1)
    simulate(old, store=store).push(event("signup", "2026-12-01T10:00:00")).run("2026-12-01T11:00:00")
    new = journey(_event_journey(), version=2)
    simulate([old, new], store=store).push(event("signup", "2026-12-02T10:00:00")).run("2026-12-02T11:00:00")
    assert [(i.version, i.entry) for i in store.instances] == [(1, 1), (2, 2)]


def test_settings_end_makes_active_instances_exit_journey_ended() -> None:
    text = _event_journey(settings='end: "2026-12-02T00:00:00Z"', steps=PARKING)
    sim = simulate(journey(text)).push(event("signup", "2026-12-01T10:00:00")).run("2026-12-05T00:00:00")
    assert sim.ends() == {"journey_ended": ["p1"]}
    assert sim.steps("p1") == [("first", "2026-12-01T10:01:00Z", "next"),
                               ("done", "2026-12-02T00:00:00Z", "journey_ended")]


def test_settings_end_makes_instances_of_an_earlier_pass_exit_journey_ended() -> None:
    text = _event_journey(settings='end: "2026-12-02T00:00:00Z"', steps=PARKING)
    sim = simulate(journey(text)).push(event("signup", "2026-12-01T10:00:00")).run("2026-12-01T12:00:00")
    sim.run("2026-12-05T00:00:00")
    assert sim.ends() == {"journey_ended": ["p1"]}
    assert sim.steps("p1") == [("first", "2026-12-01T10:01:00Z", "next"),
                               ("done", "2026-12-02T00:00:00Z", "journey_ended")]
    assert sim.store.instances[0].ended_at is not None
    assert sim.store.instances[0].ended_at.isoformat() == "2026-12-02T00:00:00+00:00"


def test_a_profile_gone_from_the_source_exits_unknown_profile_when_it_next_runs() -> None:
    store = new_store()
    j = journey(_event_journey(steps=PARKING))
    simulate(j, {"p1": {"id": "p1"}, "p2": {"id": "p2"}}, store=store).push(
        event("signup", "2026-12-01T10:00:00", "p1"), event("signup", "2026-12-01T10:00:00", "p2")).run(
        "2026-12-01T12:00:00")
    sim = simulate(j, {"p2": {"id": "p2"}}, store=store).run("2026-12-01T20:00:00")
    assert sim.waiting() == {"done": ["p1", "p2"]}  # nothing runs before the wake-up
    sim.run("2026-12-03T00:00:00")
    assert sim.ends() == {"unknown_profile": ["p1"], "end": ["p2"]}
    assert sim.steps("p1")[-1] == ("done", "2026-12-02T10:01:00Z", "unknown_profile")


# ---------------------------------------------------------------- jumps


ORIGIN = """
id: origin
entry: {type: audience, audience: all, next: pause}
steps:
  pause: {type: wait, duration: PT2H, next: go}
  go: {type: jump, journey: target, params: {plan: 'profile.plan', customer_id: 'profile.id'}, next: after}
  after: {type: end}
"""
TARGET = """
id: target
entry: {type: event, event: target_in, next: check}
settings: {reentrance: {allowed: false}}
steps:
  check:
    type: condition
    paths: [{name: pro, when: 'event.plan == "pro"', next: end}]
    otherwise: end
"""


def test_jump_enters_the_target_at_the_origins_logical_time() -> None:
    sim = simulate([journey(ORIGIN), journey(TARGET)], {"p1": {"id": "p1", "plan": "pro"}}, audiences={"all": "true"})
    sim.run("2026-12-02T00:00:00")
    assert _entries(sim, "target") == [("p1", 1)]
    assert sim.store.instances[1].entered_at.isoformat() == "2026-12-01T10:00:00+00:00"
    assert [(e.journey, e.step, e.outcome) for e in sim.step_events()] == [
        ("origin", "pause", "next"), ("origin", "go", "next"), ("origin", "after", "end"), ("target", "check", "pro")]
    assert sim.steps("p1")[-1] == ("check", "2026-12-01T10:00:00Z", "pro")
    assert sim.jumps.jumps == []


def test_jump_discards_are_recorded_in_the_target_and_the_origin_continues() -> None:
    rows = {"p1": {"id": "p1", "plan": "pro"}}
    sim = simulate([journey(ORIGIN), journey(TARGET)], rows, audiences={"all": "true"})
    sim.push(event("target_in", "2026-12-01T08:30:00", plan="free")).run("2026-12-02T00:00:00")
    assert _discards(sim, "target") == [("p1", "reentrance_not_allowed", "2026-12-01T10:00:00Z")]
    assert _discards(sim, "origin") == []
    assert sim.ends() == {"end": ["p1"], "after": ["p1"]}
    assert [(e.step, e.outcome) for e in sim.step_events() if e.journey == "origin"] == [
        ("pause", "next"), ("go", "next"), ("after", "end")]


def test_jump_target_window_applies() -> None:
    target = TARGET.replace("settings: {", 'settings: {end: "2026-12-01T09:00:00Z", ')
    sim = simulate([journey(ORIGIN), journey(target)], {"p1": {"id": "p1", "plan": "pro"}}, audiences={"all": "true"})
    sim.run("2026-12-02T00:00:00")
    assert _discards(sim, "target") == [("p1", "outside_window", "2026-12-01T10:00:00Z")]
    assert sim.ends() == {"after": ["p1"]}


def test_jump_to_a_journey_outside_the_engine_is_handed_to_the_jump_sink() -> None:
    sim = simulate(journey(ORIGIN), {"p1": {"id": "p1", "plan": "pro"}}, audiences={"all": "true"})
    sim.run("2026-12-02T00:00:00")
    assert len(sim.jumps.jumps) == 1
    target, profile, payload, when, origin = sim.jumps.jumps[0]
    assert (target, profile, payload, origin) == ("target", "p1", {"plan": "pro", "customer_id": "p1"}, "origin")
    assert when.isoformat() == "2026-12-01T10:00:00+00:00"
    assert sim.ends() == {"after": ["p1"]}
