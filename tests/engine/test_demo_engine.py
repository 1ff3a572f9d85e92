"""Every demo journey through one engine over the demo's profiles and events (SPEC §6, §7.1 counts)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jo_cli.data.events import Event
from jo_cli.engine.memory import (
    FixedClock,
    MemoryProfiles,
    MemoryStore,
    ScheduleFires,
    memory_engine,
)
from jo_cli.engine.model import Journey
from jo_cli.engine.ports import Ports
from jo_cli.engine.project import ProjectInputs
from jo_cli.engine.tally import JourneyCounts, count_journey

REPO = Path(__file__).resolve().parents[2]
ORIGIN = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)  # 09:00 in Paris, the demo's day (jo.yaml)


def run_demo() -> tuple[list[Journey], MemoryStore, Ports]:
    project = ProjectInputs.load(REPO)
    profiles = MemoryProfiles.from_rows(project.read_profiles(), identity=project.identity,
                                        zone_field=project.profiles_section.get("timezone_field"))
    journeys = [project.journey(journey_id) for journey_id in sorted(project.index.ids("journey"))]
    store = MemoryStore()
    store.push(e for e in project.read_events(REPO / "events" / "events.jsonl", shown="events/events.jsonl")
               if isinstance(e, Event))
    engine = memory_engine(journeys, profiles=profiles, audiences=project.audience_definitions(), zone=project.zone,
                           store=store, clock=FixedClock(ORIGIN), fires=ScheduleFires(ORIGIN))
    engine.run_until(ORIGIN + dt.timedelta(days=91))
    ports = engine.ports
    return journeys, store, ports


@pytest.fixture(scope="module")
def demo() -> tuple[list[Journey], MemoryStore, Ports]:
    return run_demo()


def counts(demo: tuple[list[Journey], MemoryStore, Ports], journey_id: str) -> JourneyCounts:
    journeys, store, _ = demo
    journey = next(j for j in journeys if j.id == journey_id)
    return count_journey(journey, step_counts=store.step_counts, instances=store.instances, discards=store.discards)


def test_every_demo_journey_balances(demo: tuple[list[Journey], MemoryStore, Ports]) -> None:
    journeys, _, _ = demo
    for journey in journeys:
        result = counts(demo, journey.id)
        assert result.entered == sum(result.ended.values()) + sum(result.waiting.values()), journey.id
        for step_id, step in result.steps.items():
            outcomes = sum(step.paths.values()) + step.sent + sum(step.excluded.values())
            ended_here = result.ended.get(step_id, 0) if journey.steps[step_id].type == "end" else 0
            assert step.entered == outcomes + step.errors + step.waiting + sum(step.exited.values()) + ended_here, \
                (journey.id, step_id)
            assert step.errors == 0, (journey.id, step_id)


def test_demo_journeys_do_what_their_descriptions_say(demo: tuple[list[Journey], MemoryStore, Ports]) -> None:
    _, store, ports = demo
    cart = counts(demo, "abandoned-cart")
    assert cart.ended == {"back-to-cart": 1, "no-click": 3, "ordered": 2}
    assert cart.discarded == {"reentrance_wait": 1}  # p243's second cart the same day (re-entrance wait P1D)
    # Carts of 250 EUR or more jump to the concierge callback, at the origin's logical time (4 h after the cart).
    jumped = {i.profile: i.entered_at for i in store.instances
              if i.journey == "concierge-callback" and (i.event or {}).get("source") == "abandoned-cart"}
    assert jumped == {"p156": dt.datetime(2026, 12, 1, 12, 40, tzinfo=dt.UTC),
                      "p197": dt.datetime(2026, 12, 1, 15, 2, tzinfo=dt.UTC),
                      "p083": dt.datetime(2026, 12, 1, 22, 25, tzinfo=dt.UTC)}
    # p128 asked for a callback at 10:00; the cart's jump at 14:30 finds them still in that journey.
    assert counts(demo, "concierge-callback").discarded == {"already_in_journey": 1}
    assert ports.jumps.jumps == []  # every jump target ran in this engine
    birthday = counts(demo, "birthday")
    assert birthday.entered == sum(birthday.ended.values()) > 0
    assert counts(demo, "gold-welcome").entered == 0  # the first qualification pass only records members
    assert len(ports.delivery.messages) == sum(s.sent for j in ("abandoned-cart", "birthday", "concierge-callback",
                                                                "post-purchase", "re-engagement", "welcome-series")
                                               for s in counts(demo, j).steps.values())


def test_the_demo_runs_the_same_twice(demo: tuple[list[Journey], MemoryStore, Ports]) -> None:
    _, store, _ = demo
    assert run_demo()[1].snapshot() == store.snapshot()


def test_rule_counters_count_the_sliding_window() -> None:
    from jo_cli.engine.memory import MemoryRuleCounters

    counters = MemoryRuleCounters()
    day = dt.timedelta(days=1)
    for offset, channel in ((0, "email"), (1, "sms"), (2, "email")):
        counters.add("p1", channel, ORIGIN + offset * day)
    email = frozenset({"email"})
    assert counters.count("p1", email, after=ORIGIN - day, until=ORIGIN + 2 * day) == 2
    assert counters.count("p1", email, after=ORIGIN, until=ORIGIN + 2 * day) == 1  # (after, until]
    assert counters.count("p1", frozenset({"email", "sms"}), after=ORIGIN, until=ORIGIN + 2 * day) == 2
    assert counters.count("p2", email, after=ORIGIN - day, until=ORIGIN + 2 * day) == 0
