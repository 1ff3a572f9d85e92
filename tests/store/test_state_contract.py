"""One contract for the engine's state port (SPEC §7.4, STYLE habit 9): the copying MemoryStore and the SQLite
store give the same reads after the same commits, and an engine gives the same decisions over either, also
when its run is cut into passes with a new engine and a reopened store file between them."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jo_cli.data.events import Event
from jo_cli.engine.memory import Collected, FixedClock, MemoryProfiles, MemoryStore, ScheduleFires, memory_engine
from jo_cli.engine.model import Journey
from jo_cli.engine.ports import (
    EARLY_WAKES,
    LATE_WAKES,
    Changes,
    Discard,
    EventResult,
    FireRecord,
    Instance,
    WakeKind,
)
from jo_cli.store import SqliteStore, open_store
from jo_cli.store.instances import VOCABULARY, instances_of
from jo_cli.store.state import SqliteStateStore, discard_counts
from jo_cli.store.versions import NewVersion, insert_version, names_of
from tests.engine.helpers import PARIS, journey
from tests.engine.strategies import ORIGIN, scenarios

T0 = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
STEPS = ("a", "b", "c")
JOURNEYS = ("j", "k")
PROFILES = ("p1", "p2", "p3", "p4")
KINDS: tuple[WakeKind, ...] = ("wake", "release", "timeout", "expire")
EXAMPLES = int(os.environ.get("JO_STATE_EXAMPLES", "300"))


def publish(store: SqliteStore, journey_id: str, names: list[str]) -> int:
    with store.write():
        return insert_version(store, NewVersion(journey_id, "journey", "x", {}, {}, names_of([*names, *VOCABULARY])),
                              at=T0, by="test")


def sqlite_state(path: Path) -> SqliteStateStore:
    store = open_store(path, create=True)
    for journey_id in JOURNEYS:
        publish(store, journey_id, list(STEPS))
    return SqliteStateStore(store)


@pytest.fixture(params=["memory", "sqlite"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore(copying=True)
    else:
        sqlite = sqlite_state(tmp_path / "store.db")
        yield sqlite
        sqlite.store.close()


def push(state: Any, events: list[Event]) -> None:
    if isinstance(state, MemoryStore):
        state.push(events)
    else:
        state.push(events, at=T0)


def started(state: Any, profile: str, *, journey_id: str = "j", entry: int = 1, at: dt.datetime = T0,
            event: dict[str, Any] | None = None) -> Instance:
    return Instance(seq=state.new_seq(), journey=journey_id, version=1, profile=profile, entry=entry, entered_at=at,
                    event=event)


def park(instance: Instance, step: str, at: dt.datetime, kind: WakeKind) -> Instance:
    instance.step, instance.reached_at, instance.wake_at, instance.wake_kind = step, T0, at, kind
    return instance


def commit(state: Any, *starts: Instance, saves: tuple[Instance, ...] = (), **fields: Any) -> Changes:
    changes = state.changes()
    for instance in starts:
        changes.start(instance)
    for instance in saves:
        changes.save(instance)
    for name, value in fields.items():
        setattr(changes, name, value)
    state.commit(changes)
    return changes


def states(found: dict[str, Any]) -> dict[str, Any]:
    return {p: (n, at, None if i is None else i.state()) for p, (n, at, i) in found.items()}


# ---------------------------------------------------------------- examples


def test_nothing_shows_before_its_commit_and_a_committed_object_is_the_callers(state: Any) -> None:
    instance = park(started(state, "p1", event={"cart": [1, {"sku": "x"}]}), "a", T0 + dt.timedelta(hours=1), "wake")
    changes = state.changes()
    changes.start(instance)
    assert state.entry_states("j", ["p1"]) == {} and state.next_wake() is None
    state.commit(changes)
    kept = copy.deepcopy(instance.state())
    instance.step, instance.wake_at = "b", None
    assert instance.event is not None
    instance.event["cart"][1]["sku"] = "y"  # the store kept what was committed, not this object
    (entry, entered, active), = state.entry_states("j", ["p1", "p2"]).values()
    assert (entry, entered) == (1, T0) and active is not None and active.state() == kept
    assert [i.state() for i in state.active_in("j")] == [kept] and state.active_in("k") == []
    active.step = "c"
    assert state.active_in("j")[0].step == "a"


def test_an_ended_instance_is_history_not_active(state: Any) -> None:
    first = started(state, "p1")
    commit(state, first)
    first.end, first.ended_at = "end", T0 + dt.timedelta(minutes=5)
    commit(state, saves=(first,))
    assert state.entry_states("j", ["p1"]) == {"p1": (1, T0, None)}
    second = started(state, "p1", entry=2, at=T0 + dt.timedelta(days=1))
    commit(state, second)
    assert states(state.entry_states("j", ["p1"])) == {"p1": (2, T0 + dt.timedelta(days=1), second.state())}
    assert state.entry_states("k", ["p1"]) == {}


def test_wakeups_are_due_by_time_then_sequence_and_a_read_takes_nothing(state: Any) -> None:
    late, early, other, timeout = (started(state, p) for p in ("p1", "p2", "p3", "p4"))
    hour = dt.timedelta(hours=1)
    commit(state, park(late, "a", T0 + 2 * hour, "wake"), park(early, "a", T0 + hour, "release"),
           park(other, "b", T0 + hour, "wake"), park(timeout, "c", T0 + hour, "timeout"))
    assert state.next_wake() == T0 + hour
    due = [i.profile for i in state.wakeups(T0 + 2 * hour, EARLY_WAKES)]
    assert due == ["p2", "p3", "p1"] == [i.profile for i in state.wakeups(T0 + 2 * hour, EARLY_WAKES)]
    assert [i.profile for i in state.wakeups(T0 + hour, EARLY_WAKES)] == ["p2", "p3"]
    assert [i.profile for i in state.wakeups(T0 + hour, LATE_WAKES)] == ["p4"]
    early.wake_at = early.wake_kind = None
    early.end, early.ended_at = "end", T0 + hour
    park(other, "c", T0 + 3 * hour, "wake")
    commit(state, saves=(early, other))
    assert [i.profile for i in state.wakeups(T0 + 3 * hour, EARLY_WAKES)] == ["p1", "p3"]


def test_overlays_counters_fires_and_members(state: Any) -> None:
    written = {"tier": ("gold", None), "seen": (dt.date(2026, 12, 1), [1, 2.5, "x"]),
               "when": (T0, dt.timedelta(days=1))}
    commit(state, overlays={"p1": written}, counters={"profile-cap:j:1:a": 3},
           fires=[FireRecord("j", 1, T0), FireRecord("j", 1, T0 + dt.timedelta(days=1), "skipped", "superseded"),
                  FireRecord("j", 1, T0 + dt.timedelta(days=2), "claimed", position=7, last="p2", entered=5),
                  FireRecord("k", 1, T0 + dt.timedelta(days=2), "failed", "data/x.csv: no such file")],
           members={"fire:j": frozenset({"p1", "p2"}), "qualification:k": frozenset()})
    assert state.overlays(["p1", "p2"]) == {"p1": written}
    commit(state, overlays={"p1": {"tier": ("silver", "gold")}})
    assert state.overlays(["p1"])["p1"]["tier"] == ("silver", "gold")
    assert state.overlays(["p1"])["p1"]["seen"] == written["seen"]
    assert state.counters(["profile-cap:j:1:a", "other"]) == {"profile-cap:j:1:a": 3}
    assert state.last_fires(["j", "k"]) == {"j": T0 + dt.timedelta(days=1)}  # claimed and failed fires stay due
    assert state.fire_progress("j", T0 + dt.timedelta(days=2)) == FireRecord(
        "j", 1, T0 + dt.timedelta(days=2), "claimed", position=7, last="p2", entered=5)
    assert state.fire_progress("k", T0 + dt.timedelta(days=2)).reason == "data/x.csv: no such file"
    assert state.fire_progress("k", T0) is None
    assert state.members("fire:j") == {"p1", "p2"}
    assert state.members("qualification:k") == frozenset()  # an empty snapshot is not none
    assert state.members("fire:k") is None


def test_events_are_queued_by_time_then_push_order_until_done(state: Any) -> None:
    hour = dt.timedelta(hours=1)
    push(state, [Event(1, None, "buy", T0 + hour, {"total": 5, "on": T0}, "p1"),
                 Event(2, None, "buy", T0, {}, "p2"), Event(3, None, "sale", T0, {}, None)])
    assert state.next_event_time() == T0
    due = state.events_at(T0 + hour)
    assert [(q.seq, q.event.name, q.event.profile) for q in due] == [(2, "buy", "p2"), (3, "sale", None),
                                                                     (1, "buy", "p1")]
    assert due[2].event.payload == {"total": 5, "on": T0}
    # Results before the event is done (a pass cut short): a rerun reads them with the event; a rematch rewrites one.
    commit(state, event_results=[EventResult(2, "buy", "j", "discarded", "where_false"),
                                 EventResult(3, "sale", None, "discarded", "no_journey")])
    assert [dict(q.results) for q in state.events_at(T0)] == [{"j": "where_false"}, {"": "no_journey"}]
    commit(state, event_results=[EventResult(2, "buy", "j", "consumed")])
    assert [dict(q.results) for q in state.events_at(T0)] == [{"j": None}, {"": "no_journey"}]
    commit(state, events_done=[2, 3])
    assert [q.seq for q in state.events_at(T0 + hour)] == [1] and state.next_event_time() == T0 + hour
    assert state.events_at(T0 + hour)[0].results == {}


def test_a_time_with_a_fraction_of_a_second_is_refused_not_rounded(state: Any) -> None:
    instance = park(started(state, "p1"), "a", T0 + dt.timedelta(seconds=1.5), "wake")
    with pytest.raises(ValueError, match="to the second"):
        commit(state, instance)
    assert state.entry_states("j", ["p1"]) == {} and state.next_wake() is None  # all or nothing


def test_discards_are_counted_by_reason(tmp_path: Path) -> None:
    sqlite = sqlite_state(tmp_path / "store.db")
    commit(sqlite, discards=[Discard("j", 1, p, "already_in_journey", T0) for p in ("p1", "p2")])
    commit(sqlite, discards=[Discard("j", 1, "p3", "already_in_journey", T0)])
    assert discard_counts(sqlite.store) == {("j", 1, "already_in_journey"): 3}


# ---------------------------------------------------------------- the same reads after the same commits

_op = st.tuples(st.sampled_from(["start", "park", "end", "overlay", "counter", "fire", "members"]),
                st.sampled_from(JOURNEYS), st.sampled_from(PROFILES), st.integers(0, 6), st.sampled_from(KINDS))


def _apply(state: Any, live: dict[tuple[str, str], Instance], ops: list[tuple[Any, ...]], clock: int) -> None:
    """One commit of `ops` (live: the caller's view of each active instance, changed in place as the engine
    changes its own)."""
    changes = state.changes()
    for kind, journey_id, profile, number, wake_kind in ops:
        at = T0 + dt.timedelta(hours=clock + number)
        instance = live.get((journey_id, profile))
        if kind == "start" and instance is None:
            found = state.entry_states(journey_id, [profile]).get(profile)
            entry = changes.entry_state(journey_id, profile) or found
            instance = live[journey_id, profile] = Instance(
                seq=state.new_seq(), journey=journey_id, version=1, profile=profile,
                entry=(entry[0] if entry else 0) + 1, entered_at=T0 + dt.timedelta(hours=clock), event={"n": number})
            changes.start(instance)
        elif kind == "park" and instance is not None:
            changes.save(park(instance, STEPS[number % 3], at, wake_kind))
            instance.messages = {**instance.messages, "a": f"key{number}"}
        elif kind == "end" and instance is not None:
            instance.end, instance.ended_at, instance.wake_at, instance.wake_kind = "end", at, None, None
            changes.save(instance)
            del live[journey_id, profile]
        elif kind == "overlay":
            changes.write_overlay(profile, {f"f{number % 2}": (number, None)})
        elif kind == "counter":
            changes.counters[f"profile-cap:{journey_id}:1:a"] = number
        elif kind == "fire":
            changes.fires.append(FireRecord(journey_id, 1, at, "claimed" if number % 2 else "done",
                                            position=number, last=profile))
        elif kind == "members":
            changes.members[f"fire:{journey_id}"] = frozenset(PROFILES[:number % 5])
    state.commit(changes)


def _reads(state: Any, clock: int) -> tuple[Any, ...]:
    at = T0 + dt.timedelta(hours=clock)
    return (tuple(states(state.entry_states(j, list(PROFILES))) for j in JOURNEYS),
            tuple(tuple(i.state() for i in state.active_in(j)) for j in JOURNEYS), state.next_wake(),
            tuple(tuple(i.state() for i in state.wakeups(at, kinds)) for kinds in (EARLY_WAKES, LATE_WAKES, KINDS)),
            state.overlays(list(PROFILES)), state.counters([f"profile-cap:{j}:1:a" for j in JOURNEYS]),
            state.last_fires(list(JOURNEYS)), tuple(state.members(f"fire:{j}") for j in JOURNEYS),
            tuple(state.fire_progress(j, T0 + dt.timedelta(hours=clock + n)) for j in JOURNEYS for n in range(7)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_op, max_size=6), min_size=1, max_size=8))
def test_both_stores_read_the_same_after_the_same_commits(tmp_path_factory: pytest.TempPathFactory,
                                                          commits: list[list[tuple[Any, ...]]]) -> None:
    memory = MemoryStore(copying=True)
    sqlite = sqlite_state(tmp_path_factory.mktemp("contract") / "store.db")
    try:
        live: tuple[dict[tuple[str, str], Instance], dict[tuple[str, str], Instance]] = ({}, {})
        for clock, ops in enumerate(commits):
            for store, objects in ((memory, live[0]), (sqlite, live[1])):
                _apply(store, objects, ops, clock)
            assert _reads(memory, clock + 3) == _reads(sqlite, clock + 3)
    finally:
        sqlite.store.close()


# ---------------------------------------------------------------- an engine over either store

JOURNEY = """
id: shop
entry: {type: audience, audience: everyone, next: check}
steps:
  check:
    type: condition
    paths: [{name: keen, when: 'profile.score > 50', next: cap}]
    otherwise: pause
  cap: {type: profile-cap, cap: 40, next: tag, over_cap: pause}
  tag: {type: update-profile, set: {tier: '"gold"'}, next: pause}
  pause: {type: wait, duration: P1D, next: mail}
  mail: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: buy}
  buy: {type: wait-event, event: purchase, timeout: P2D, next: thanks, timeout_next: gold}
  gold:
    type: condition
    paths: [{name: gold, when: 'profile.tier == "gold"', next: thanks}]
    otherwise: done
  thanks: {type: end}
  done: {type: end}
"""
PEOPLE = 300


def _shop() -> Journey:
    return journey(JOURNEY, version=1)


def _engine(store: Any, delivery: Collected) -> Any:
    profiles = MemoryProfiles({f"p{n:03}": {"id": f"p{n:03}", "score": n % 100} for n in range(PEOPLE)})
    return memory_engine([_shop()], profiles=profiles, audiences={"everyone": frozenset(profiles.rows)},
                         zone=PARIS, store=store, clock=FixedClock(T0), fires=ScheduleFires(T0), delivery=delivery)


def _purchases() -> list[Event]:
    return [Event(n, None, "purchase", T0 + dt.timedelta(days=1, hours=n % 30), {"total": n}, f"p{n:03}")
            for n in range(0, PEOPLE, 7)]


def _decisions_of_memory(store: MemoryStore, delivery: Collected) -> tuple[Any, ...]:
    counts = Counter({(step, outcome, exited): n for (_, step, outcome, _, exited), n in store.step_counts.items()})
    final = sorted((i.profile, i.entry, i.seq, i.entered_at, i.step, i.wake_at, i.wake_kind, i.ended_at, i.end)
                   for i in store.instances)
    return +counts, sorted(m["key"] for m in delivery.messages), final


def _decisions_of_sqlite(state: SqliteStateStore, keys: list[str]) -> tuple[Any, ...]:
    counts: Counter[tuple[str, str, bool]] = Counter()
    for _, _, records in state.histories("shop"):
        counts.update((r.step, r.outcome, r.exited) for r in records)
    final = sorted((r.profile, r.entry, r.seq, r.entered_at, r.step, r.wake_at, r.wake_kind, r.ended_at, r.end)
                   for r in instances_of(state.store, "shop"))
    return +counts, sorted(keys), final


@pytest.mark.parametrize("passes", [[T0 + dt.timedelta(days=10)],
                                    [T0, T0 + dt.timedelta(days=1, hours=5), T0 + dt.timedelta(days=2, hours=3),
                                     T0 + dt.timedelta(days=10)]], ids=["one-pass", "four-passes"])
def test_an_engine_decides_the_same_over_sqlite_across_reopened_passes(tmp_path: Path,
                                                                       passes: list[dt.datetime]) -> None:
    memory, memory_delivery = MemoryStore(copying=True), Collected()
    memory.push(_purchases())
    _engine(memory, memory_delivery).run_until(passes[-1])
    path = tmp_path / "store.db"
    store = open_store(path, create=True)
    shop = _shop()
    publish(store, "shop", [*shop.steps, *(o for s in shop.steps.values() for o in s.outcomes)])
    SqliteStateStore(store).push(_purchases(), at=T0)
    store.close()
    keys: list[str] = []
    for now in passes:  # a new engine over a reopened store each pass: all it knows is what was committed
        with open_store(path) as store:
            delivery = Collected()
            _engine(SqliteStateStore(store), delivery).run_until(now)
            keys += [m["key"] for m in delivery.messages]
    with open_store(path) as store:
        state = SqliteStateStore(store)
        assert _decisions_of_sqlite(state, keys) == _decisions_of_memory(memory, memory_delivery)
        everyone = [f"p{n:03}" for n in range(PEOPLE)]
        assert state.overlays(everyone) == memory.overlays(everyone) != {}
        assert discard_counts(store) == {}


def test_a_wakeup_bucket_lists_an_instance_while_its_own_row_says_so(tmp_path: Path) -> None:
    """Moving an instance writes nothing in `wakeups`: a member is due only while its row keeps that wake time
    and kind; parked there again, it is due once; a bucket found without a due member goes at the next commit."""
    sqlite = sqlite_state(tmp_path / "store.db")
    hour = dt.timedelta(hours=1)
    first, second = started(sqlite, "p1"), started(sqlite, "p2")
    commit(sqlite, park(first, "a", T0 + hour, "wake"), park(second, "a", T0 + hour, "wake"))
    commit(sqlite, saves=(park(first, "b", T0 + 2 * hour, "wake"),))
    assert [i.profile for i in sqlite.wakeups(T0 + hour, EARLY_WAKES)] == ["p2"]
    commit(sqlite, saves=(park(first, "a", T0 + hour, "wake"),))  # back in the first bucket's time, a new bucket
    assert [i.profile for i in sqlite.wakeups(T0 + 2 * hour, EARLY_WAKES)] == ["p1", "p2"]
    for instance in (first, second):
        instance.wake_at = instance.wake_kind = None
        instance.end, instance.ended_at = "end", T0 + hour
    commit(sqlite, saves=(first, second))
    assert sqlite.next_wake() is None and sqlite.wakeups(T0 + 3 * hour, EARLY_WAKES) == []
    assert sqlite.store.one("SELECT count(*) FROM wakeups") == (2,)  # the one at 2 hours went with that commit
    commit(sqlite, counters={"c": 1})
    assert sqlite.store.one("SELECT count(*) FROM wakeups") == (0,)
    sqlite.store.close()


# ---------------------------------------------------------------- random journeys, chunked, over SQLite

def _decisions(state: Any, journeys: list[Journey], keys: list[str]) -> tuple[Any, ...]:
    """Step counts, message keys and final instances, read back the way each store keeps them."""
    counts: Counter[tuple[str, str, str, bool]] = Counter()
    final: list[tuple[Any, ...]] = []
    for journey_id in sorted({j.id for j in journeys}):
        if isinstance(state, MemoryStore):
            counts.update((e.journey, e.step, e.outcome, e.exited) for e in state.steps if e.journey == journey_id)
            rows: list[Any] = [i for i in state.instances if i.journey == journey_id]
        else:
            for _, _, records in state.histories(journey_id):
                counts.update((journey_id, r.step, r.outcome, r.exited) for r in records)
            rows = list(instances_of(state.store, journey_id))
        final += sorted((journey_id, r.profile, r.entry, r.seq, r.entered_at, r.step, r.wake_at, r.wake_kind,
                         r.ended_at, r.end) for r in rows)
    return +counts, sorted(keys), final


@settings(max_examples=max(1, EXAMPLES // 3), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(scenario=scenarios(), chunk=st.integers(1, 5), data=st.data())
def test_random_journeys_decide_the_same_over_sqlite_in_chunks(tmp_path_factory: pytest.TempPathFactory,
                                                               scenario: Any, chunk: int, data: st.DataObject) -> None:
    """The run-batch issue's determinism: for random journeys, the engine over the SQLite store, its fires and
    wake-ups in chunks of any size and its run cut into passes (each a new engine over the reopened file),
    reaches the decisions and message keys of one in-memory run in single waves."""
    scenario = dataclasses.replace(scenario, versions=(1,) * len(scenario.documents))
    memory = MemoryStore(copying=True)
    whole = scenario.sim(memory)
    whole.push(*scenario.built_events())
    whole.run(scenario.horizon)
    expected = _decisions(memory, scenario.journeys(), [m["key"] for m in whole.delivery.messages])
    path = tmp_path_factory.mktemp("chunked") / "store.db"
    with open_store(path, create=True) as store:
        for compiled in scenario.journeys():
            publish(store, compiled.id, [*compiled.steps, *(o for s in compiled.steps.values() for o in s.outcomes)])
        SqliteStateStore(store).push(scenario.built_events(), at=T0)
    cuts = sorted(data.draw(st.lists(st.integers(0, 20 * 24), max_size=2), label="hours of the passes"))
    keys: list[str] = []
    for now in [*(ORIGIN + dt.timedelta(hours=h) for h in cuts), scenario.horizon]:
        with open_store(path) as store:
            sim = scenario.sim(SqliteStateStore(store))  # type: ignore[arg-type]
            sim.engine.chunk = chunk
            sim.run(min(max(now, ORIGIN), scenario.horizon))
            keys += [m["key"] for m in sim.delivery.messages]
    with open_store(path) as store:
        assert _decisions(SqliteStateStore(store), scenario.journeys(), keys) == expected
