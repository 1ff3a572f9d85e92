"""In-memory implementations of the engine's ports: for dry-runs and tests.

The run-batch issue replaces `MemoryStore` with SQLite and the delivery and
action ports with real ones; these keep the same contracts (ports.py).
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import datetime as dt
import heapq
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from jo_cli import durations, schedule
from jo_cli.data.csv_reader import Row
from jo_cli.data.events import Event
from jo_cli.engine.engine import Engine
from jo_cli.engine.model import Journey
from jo_cli.engine.ports import (
    EARLY_WAKES,
    LATE_WAKES,
    ActionResult,
    Changes,
    Decision,
    Discard,
    EntryState,
    EventResult,
    FireRecord,
    Instance,
    MessageRequest,
    Ports,
    QueuedEvent,
    StateStore,
    StepEvent,
    StepGroup,
    WakeKind,
    whole_seconds,
)
from jo_cli.expr.compile import Compiled
from jo_cli.expr.runtime import EvalContext

_T = TypeVar("_T")
_SEQ = operator.attrgetter("seq")
_WAKE_AND_SEQ = operator.attrgetter("wake_at", "seq")
_NO_BUCKET: tuple[None, bool, list[Any]] = (None, False, [])


def _same(value: _T) -> _T:
    return value


class MemoryStore:
    """The whole engine state in dicts and lists; `snapshot()` compares two runs.

    `copying=False` (a dry-run's speed) keeps the very objects handed over and returns them from reads, so the
    engine's objects and the store's are one: its unit of work (`SharingChanges`) hands instances over as
    they change rather than at commit. `copying=True` copies on commit and on read, as a database does, so
    that a change the engine does not commit is lost (the engine tests run both).
    """

    def __init__(self, *, keep_steps: bool = True, copying: bool = False) -> None:
        self.keep_steps = keep_steps  # False: count step events without keeping them (large dry-runs)
        self.copying = copying
        self._kept: Callable[[Instance], Instance] = Instance.copy if copying else _same
        self._deep: Callable[[Any], Any] = copy.deepcopy if copying else _same
        self._instances: dict[int, Instance] = {}  # seq -> every instance ever started, in entry order
        self.steps: list[StepEvent] = []
        self.step_counts: dict[tuple[str, str, str, str | None, bool], int] = {}
        self.discards: list[Discard] = []
        self._results: dict[tuple[int, str], EventResult] = {}  # (event seq, journey or "") -> the latest
        self._open_results: dict[int, dict[str, str | None]] = {}  # of events not done: journey -> its leftover
        self.fires: list[tuple[str, dt.datetime]] = []  # fires done or skipped, in the order recorded
        self._fire_records: dict[tuple[str, dt.datetime], FireRecord] = {}
        self._counters: dict[str, int] = {}
        self._overlays: dict[str, dict[str, tuple[Any, Any]]] = {}
        self._seq = 0
        # By journey, then profile (no key tuple per profile: a fire enters a million).
        self._active: dict[str, dict[str, Instance]] = {}
        self._history: dict[str, dict[str, tuple[int, dt.datetime]]] = {}
        self._buckets: dict[bool, dict[dt.datetime, list[tuple[int, Instance]]]] = {True: {}, False: {}}
        self._times: dict[bool, list[dt.datetime]] = {True: [], False: []}  # heaps of the buckets' times
        # Parked instance seq -> its bucket entry: an entry left by an earlier parking is stale even when its
        # time and kind equal the new one's. An instance moved on or ended has none.
        self._parked: dict[int, tuple[int, Instance]] = {}
        # The bucket the last parking went to, by its time's identity: valid while that bucket is in the index.
        self._last_bucket: tuple[dt.datetime | None, bool, list[tuple[int, Instance]]] = _NO_BUCKET
        self._members: dict[str, frozenset[str]] = {}
        self._events: list[tuple[dt.datetime, int, QueuedEvent]] = []
        self._done: set[int] = set()
        self._first = 0  # events before this index are all done
        self._pushed = 0

    @property
    def instances(self) -> list[Instance]:
        """Every instance ever started, in entry order, as last committed."""
        return list(self._instances.values())

    # ------------------------------------------------------------ reads

    def changes(self) -> Changes:
        return Changes() if self.copying else SharingChanges(self)

    def new_seq(self) -> int:
        self._seq += 1
        return self._seq

    def entry_states(self, journey: str, profiles: Sequence[str]) -> dict[str, EntryState]:
        history = self._history.get(journey)
        if not history:
            return {}
        active, kept = self._active[journey], self._kept
        states: dict[str, EntryState] = {}
        for profile in profiles:
            entered = history.get(profile)
            if entered is not None:
                instance = active.get(profile)
                states[profile] = (entered[0], entered[1], None if instance is None else kept(instance))
        return states

    def active_in(self, journey: str) -> list[Instance]:
        return sorted(map(self._kept, self._active.get(journey, {}).values()), key=_SEQ)

    def _earliest(self, early: bool) -> dt.datetime | None:
        """The earliest time with a valid wake-up; buckets of stale entries only are dropped on the way."""
        times, buckets = self._times[early], self._buckets[early]
        while times:
            at = times[0]
            bucket = buckets[at]
            parked = self._parked
            for index, entry in enumerate(bucket):
                if parked.get(entry[0]) is entry:  # still parked as this entry says
                    del bucket[:index]
                    return at
            heapq.heappop(times)
            del buckets[at]
            self._last_bucket = _NO_BUCKET
        return None

    def next_wake(self) -> dt.datetime | None:
        firsts = [at for at in (self._earliest(True), self._earliest(False)) if at is not None]
        return min(firsts) if firsts else None

    def wakeups(self, at: dt.datetime, kinds: tuple[WakeKind, ...]) -> list[Instance]:
        due: list[Instance] = []
        classes = {kind in EARLY_WAKES for kind in kinds}
        for early in classes:
            whole = set(kinds) >= set(EARLY_WAKES if early else LATE_WAKES)  # every kind of the class is due
            times, buckets = self._times[early], self._buckets[early]
            kept: list[dt.datetime] = []
            while times and times[0] <= at:
                when = heapq.heappop(times)
                # A read takes nothing: the entries stay until the commit that moves their instances on.
                parked = self._parked
                bucket = [entry for entry in buckets.pop(when) if parked.get(entry[0]) is entry]
                self._last_bucket = _NO_BUCKET
                if bucket:
                    buckets[when] = bucket
                    kept.append(when)
                taken = [instance for _, instance in bucket] if whole else \
                    [instance for _, instance in bucket if instance.wake_kind in kinds]
                taken.sort(key=_SEQ)
                due.extend(taken)
            for when in kept:
                heapq.heappush(times, when)
        if len(classes) > 1:
            due.sort(key=_WAKE_AND_SEQ)  # buckets come in time order, each by entry sequence: merge the two kinds
        return [instance.copy() for instance in due] if self.copying else due

    def overlays(self, profiles: Sequence[str]) -> dict[str, Mapping[str, tuple[Any, Any]]]:
        stored = self._overlays
        if not stored:  # the common case (no update-profile step ran): the hot path of every audience read
            return {}
        deep = self._deep
        return {profile: deep(stored[profile]) for profile in profiles if profile in stored}

    def counters(self, names: Sequence[str]) -> dict[str, int]:
        return {name: self._counters[name] for name in names if name in self._counters}

    def last_fires(self, journeys: Sequence[str]) -> dict[str, dt.datetime]:
        wanted = set(journeys)
        found: dict[str, dt.datetime] = {}
        for (journey, at), record in self._fire_records.items():  # the records as they are now
            if journey in wanted and record.status in ("done", "skipped") and (journey not in found
                                                                                 or at > found[journey]):
                found[journey] = at
        return found

    def fire_progress(self, journey: str, at: dt.datetime) -> FireRecord | None:
        record = self._fire_records.get((journey, at))
        return None if record is None else dataclasses.replace(record)

    def members(self, key: str) -> frozenset[str] | None:
        return self._members.get(key)

    def takes_entries(self, journey: str, version: int | None) -> bool:
        return True  # versions are the engine's own: nobody closes one during a dry-run

    @property
    def event_results(self) -> list[EventResult]:
        """What each journey did with each event, in the order first recorded (a rematch rewrites one)."""
        return list(self._results.values())

    # ------------------------------------------------------------ commits

    def commit(self, changes: Changes) -> None:
        if self.copying:
            _check_seconds(changes)
        for seq, instance in changes.instances.items():
            self._keep(instance, new=seq in changes.started)
        for journey, version, at, processed_at, groups in changes.steps:
            self.record_steps(journey, version, at, processed_at, groups)
        self.discards.extend(changes.discards)
        self._counters.update(changes.counters)
        for profile, values in changes.overlays.items():
            self._overlays.setdefault(profile, {}).update(self._deep(values))
        for record in changes.fires:
            journey, at = record.journey, record.at
            self._fire_records[journey, at] = dataclasses.replace(record)
            if record.status in ("done", "skipped"):
                self.fires.append((journey, at))
        self._members.update(changes.members)
        for result in changes.event_results:
            self._results[result.event, result.journey or ""] = result
            self._open_results.setdefault(result.event, {})[result.journey or ""] = \
                None if result.result == "consumed" else result.reason
        for seq in changes.events_done:
            self._event_done(seq)

    def _keep(self, given: Instance, *, new: bool) -> None:
        instance = self._kept(given)
        self._instances[instance.seq] = instance
        if new:
            self.start(instance)
        elif instance.end is None:
            self._active[instance.journey][instance.profile] = instance  # this commit's copy
        self.moved(instance)

    def start(self, instance: Instance) -> None:
        """A new instance is kept: at its commit, or when sharing as it enters (a subclass may watch who does)."""
        journey = instance.journey
        history = self._history.get(journey)
        if history is None:
            history = self._history[journey] = {}
            self._active[journey] = {}
        history[instance.profile] = (instance.entry, instance.entered_at)
        self._active[journey][instance.profile] = instance

    def moved(self, instance: Instance) -> None:
        """A kept instance parked, moved on or ended: its wake-up entry is replaced, or dropped."""
        seq, at = instance.seq, instance.wake_at
        if instance.end is not None:
            self._active[instance.journey].pop(instance.profile, None)
            self._parked.pop(seq, None)
        elif at is None:
            self._parked.pop(seq, None)
        else:
            entry = self._parked[seq] = (seq, instance)
            early = instance.wake_kind in EARLY_WAKES
            last_at, last_early, bucket = self._last_bucket
            if at is not last_at or early is not last_early:  # a wave parks thousands at one instant
                found = self._buckets[early].get(at)
                if found is None:  # wake-ups are kept per time
                    found = self._buckets[early][at] = []
                    heapq.heappush(self._times[early], at)
                bucket = found
                self._last_bucket = at, early, bucket
            bucket.append(entry)

    def record_steps(self, journey: str, version: int | None, at: dt.datetime, processed_at: dt.datetime,
                     groups: Sequence[StepGroup]) -> None:
        """A wave's step events are kept (or only counted)."""
        counts = self.step_counts
        for step, outcome, detail, exited, instances in groups:
            key = (journey, step, outcome, detail, exited)
            counts[key] = counts.get(key, 0) + len(instances)
            if self.keep_steps:
                self.steps.extend(StepEvent(journey, version, i.profile, i.entry, step, at, outcome, detail, exited,
                                            processed_at) for i in instances)

    # ------------------------------------------------------------ events

    def push(self, events: Iterable[Event]) -> int:
        """Queue events (as `jo events push` does); returns how many."""
        count = 0
        for event in events:
            self._pushed += 1
            count += 1
            item = (event.at, self._pushed, QueuedEvent(self._pushed, event))
            index = bisect.bisect_right(self._events, item[:2], key=lambda queued: queued[:2])
            self._events.insert(index, item)
            self._first = min(self._first, index)  # an event older than those already done
        return count

    def next_event_time(self, after: dt.datetime | None = None) -> dt.datetime | None:
        for at, seq, _ in itertools.islice(self._events, self._first, None):
            if seq not in self._done and (after is None or at > after):
                return at
        return None

    def events_at(self, at: dt.datetime) -> list[QueuedEvent]:
        due: list[QueuedEvent] = []
        for when, seq, queued in itertools.islice(self._events, self._first, None):  # by time: stop at a later one
            if when > at:
                break
            if seq not in self._done:
                due.append(self._with_results(queued))
        return due

    def _with_results(self, queued: QueuedEvent) -> QueuedEvent:
        """The event with what journeys did with it so far (a pass cut short)."""
        found = self._open_results.get(queued.seq)
        return dataclasses.replace(queued, results=dict(found)) if found else queued

    def _event_done(self, seq: int) -> None:
        self._done.add(seq)
        self._open_results.pop(seq, None)
        while self._first < len(self._events) and self._events[self._first][1] in self._done:
            self._first += 1

    @property
    def queued(self) -> list[Event]:
        return [queued.event for _, seq, queued in self._events[self._first:] if seq not in self._done]

    def snapshot(self) -> tuple[Any, ...]:
        """Everything this store holds, for comparing two runs."""
        return (tuple(i.state() for i in self._instances.values()), tuple(self.steps), tuple(self.discards),
                tuple(self.event_results), tuple(self.fires), tuple(sorted(self._counters.items())),
                tuple(sorted((p, tuple(sorted(v.items()))) for p, v in self._overlays.items())),
                tuple(sorted(self._members.items())), tuple(self.queued))


class SharingChanges(Changes):
    """The unit of work of a sharing `MemoryStore`: instances go to the store as they are handed over.

    The store keeps the engine's own objects, so there is nothing to copy at commit and no reason to wait
    for it: `start` and `save` update the store's entry history, active instances and wake-ups at once (a
    fire enters a million: each pays for the store's indexes only), this unit's reads of instances are the
    store's, and `commit` takes the rest (step events, discards, counters, overlays, ...) as it comes.
    """

    __slots__ = ("_store",)

    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self._store = store

    def start(self, instance: Instance) -> None:
        store = self._store
        store._instances[instance.seq] = instance
        store.start(instance)
        if instance.wake_at is not None or instance.end is not None:
            store.moved(instance)

    def save(self, instance: Instance) -> None:
        self._store.moved(instance)

    def entry_state(self, journey: str, profile: str) -> EntryState | None:
        """The store's own (it has every change already): None when the profile never entered `journey`."""
        history = self._store._history.get(journey)
        entered = history.get(profile) if history is not None else None
        if entered is None:
            return None
        return entered[0], entered[1], self._store._active[journey].get(profile)

    def changed_in(self, journey: str) -> Iterable[Instance]:
        return ()  # the store's active instances are already as this unit left them

    def holds(self, store: object) -> bool:
        return store is self._store  # not a store wrapped around it (a dry-run over a run store's history)


def _check_seconds(changes: Changes) -> None:
    """A copying store stands for a database: it refuses what one would, a time with a fraction of a second."""
    for instance in changes.instances.values():
        for at in (instance.entered_at, instance.reached_at, instance.wake_at, instance.ended_at):
            whole_seconds(at)
    for _, _, at, _, _ in changes.steps:
        whole_seconds(at)
    for record in changes.fires:
        whole_seconds(record.at)


KEPT_INVALID_ZONES = 5


class MemoryProfiles:
    """Profiles held in memory, in source row order.

    A profile's zone is `zones[identity]`, or (read from a CSV with a zone field) the zone its row names:
    looked up through the row just read rather than in a second million-entry mapping.
    """

    def __init__(self, rows: Mapping[str, dict[str, Any]], zones: Mapping[str, ZoneInfo] | None = None, *,
                 zone_field: str | None = None) -> None:
        self.rows = dict(rows)
        # The dict's own `get`, not a method around it: the hot path of every entry, wake-up and audience read.
        self.get: Callable[[str], dict[str, Any] | None] = self.rows.get
        self.zones = dict(zones or {})
        self.zone_field = zone_field
        self._named: dict[Any, ZoneInfo | None] = {}  # zone name -> zone (None: invalid)
        self.invalid_zones = 0  # rows naming an invalid zone (their profile has none: the caller's default)
        self.invalid_zone_rows: list[tuple[int, Any]] = []  # the first ones' (line, zone name)

    @classmethod
    def from_rows(cls, rows: Iterable[Row | Any], *, identity: str, zone_field: str | None = None,
                  on_reject: Callable[[Any], None] | None = None) -> MemoryProfiles:
        """From a `TableReader`'s rows; rejects (they are `unknown_profile`) go to `on_reject`."""
        profiles = cls({}, zone_field=zone_field)
        values, named_zone = profiles.rows, profiles._named_zone
        invalid: list[tuple[int, Any]] = []  # (line, zone name) of the first rows naming an invalid zone
        invalid_count = 0
        for row in rows:
            if type(row) is not Row:
                if on_reject is not None:
                    on_reject(row)
                continue
            data = row.values
            key = data[identity]
            key = key if type(key) is str else str(key)
            values[key] = data
            if zone_field:
                name = data.get(zone_field)
                if name is not None and named_zone(name) is None:
                    invalid_count += 1
                    if len(invalid) < KEPT_INVALID_ZONES:
                        invalid.append((row.line, name))
        profiles.invalid_zones, profiles.invalid_zone_rows = invalid_count, invalid
        return profiles

    def identities(self) -> Iterable[str]:
        return self.rows.keys()

    def zone(self, identity: str) -> ZoneInfo | None:
        if self.zone_field is None:
            return self.zones.get(identity)
        row = self.rows.get(identity)
        return None if row is None else self.zone_in(identity, row)

    def zone_in(self, identity: str, row: Mapping[str, Any]) -> ZoneInfo | None:
        if self.zone_field is None:
            return self.zones.get(identity)
        name = row.get(self.zone_field)
        if name is None:
            return None
        try:  # every row's zone name was loaded as it was read (the hot path of every entry and wake-up)
            return self._named[name]
        except KeyError:
            return self._named_zone(name)

    def _named_zone(self, name: Any) -> ZoneInfo | None:
        """The zone a row's zone field names (None: no such zone), each name loaded once."""
        if name not in self._named:
            self._named[name] = schedule.load_zone(name) if isinstance(name, str) else None
        return self._named[name]


class Audiences:
    """Audiences by name: a compiled `where` over one profile, or an uploaded list of identities.

    `views` reads profiles as the engine sees them (the source with the update-profile overlay), in order,
    as (identity, profile) pairs. A `where` is evaluated in the profile's zone, else `zone`.
    """

    def __init__(self, definitions: Mapping[str, Compiled | frozenset[str]], *, profiles: Any,
                 views: Callable[[Iterable[str]], Iterable[tuple[str, dict[str, Any] | None]]],
                 zone: ZoneInfo) -> None:
        self.definitions = dict(definitions)
        self.profiles = profiles
        self.views = views
        self.zone = zone
        self._evaluating: set[tuple[str, str]] = set()

    def members(self, name: str, at: dt.datetime) -> Sequence[str]:
        definition = self.definitions[name]
        identities = self.profiles.identities()
        if isinstance(definition, frozenset):
            return [identity for identity in identities if identity in definition]
        # One context for the whole read, pointed at each profile in turn (the common case: no recursion).
        context = _MemberContext(self, at)
        members: list[str] = []
        for identity, profile in self.views(identities):  # (an audience reading itself: cut by `contains`)
            if profile is None:
                continue
            context.identity, context.profile = identity, profile
            if definition(profile, None, context) is True:
                members.append(identity)
        return members

    def contains(self, name: str, identity: str, profile: Mapping[str, Any] | None, at: dt.datetime) -> bool:
        definition = self.definitions.get(name)
        if definition is None or profile is None:
            return False
        if isinstance(definition, frozenset):
            return identity in definition
        if (name, identity) in self._evaluating:  # an audience defined through itself is not a member
            return False
        self._evaluating.add((name, identity))
        try:
            zone = self.profiles.zone(identity) or self.zone
            ctx = EvalContext(now=at, zone=zone, in_audience=lambda other: self.contains(other, identity, profile, at))
            return definition(profile, None, ctx) is True
        finally:
            self._evaluating.discard((name, identity))


class _MemberContext(EvalContext):
    """The evaluation context of an audience read: `now` fixed, the profile set per row, its zone looked up
    only when an expression reads it (most never do)."""

    def __init__(self, audiences: Audiences, at: dt.datetime) -> None:  # not super().__init__(): see in_audience
        self.now = at
        self._zone_of = audiences.profiles.zone
        self._default = audiences.zone
        self.journey = {}
        self.actions = {}
        self._audiences = audiences
        self.identity = ""
        self.profile: Mapping[str, Any] | None = None

    @property
    def zone(self) -> ZoneInfo:  # type: ignore[override]
        return self._zone_of(self.identity) or self._default

    def in_audience(self, name: str) -> bool:
        return self._audiences.contains(name, self.identity, self.profile, self.now)


@dataclass(frozen=True)
class FixedClock:
    at: dt.datetime

    def wall(self) -> dt.datetime:
        return self.at


@dataclass
class SendAll:
    """The message policy until the messages issue: every message is sent, nothing is rendered."""

    def decide(self, request: MessageRequest) -> Decision:
        message = {"key": request.key, "kind": "journey", "id": request.journey, "version": request.version,
                   "step": request.step.id, "profile": request.instance.profile, "channel": request.step.channel,
                   "at": request.at, "status": "would_send"}
        return Decision("sent", message=message)


@dataclass
class MemoryRuleCounters:
    """Messages created per profile, by time: the capping window of one dry-run."""

    created: dict[str, list[tuple[dt.datetime, str]]] = field(default_factory=dict)

    def count(self, profile: str, channels: frozenset[str], *, after: dt.datetime, until: dt.datetime) -> int:
        created = self.created.get(profile)
        if not created:
            return 0
        return sum(1 for at, channel in created if after < at <= until and channel in channels)

    def add(self, profile: str, channel: str, at: dt.datetime, key: str = "") -> None:
        bisect.insort(self.created.setdefault(profile, []), (at, channel))


@dataclass
class Collected:
    """Delivery into a list (a dry-run's messages)."""

    messages: list[Mapping[str, Any]] = field(default_factory=list)

    def submit(self, message: Mapping[str, Any]) -> None:
        self.messages.append(message)


@dataclass
class DryRunActions:
    """Actions are not called in a dry-run; the response is null (AJO). The calls are kept for the report."""

    calls: list[tuple[str, dict[str, Any], str, dt.datetime]] = field(default_factory=list)

    def call(self, action: str, params: Mapping[str, Any], *, key: str, at: dt.datetime) -> ActionResult:
        self.calls.append((action, dict(params), key, at))
        return ActionResult(ok=True, response=None)


@dataclass
class RecordedJumps:
    """Jumps to journeys outside this run, kept in order."""

    jumps: list[tuple[str, str, dict[str, Any], dt.datetime, str]] = field(default_factory=list)

    def jump(self, journey: str, profile: str, payload: Mapping[str, Any], *, at: dt.datetime, origin: str) -> None:
        self.jumps.append((journey, profile, dict(payload), at, origin))


@dataclass(frozen=True)
class SingleFire:
    """A dry-run's audience read: one fire at `at` (§7.1)."""

    at: dt.datetime

    def due(self, journey: Any, *, after: dt.datetime | None, until: dt.datetime) -> list[dt.datetime]:
        return [self.at] if after is None and self.at <= until else []


@dataclass(frozen=True)
class ScheduleFires:
    """Every fire of each journey's schedule in order (§7.3), from `origin` (the first publication).

    Without a schedule, one fire at `origin`. With one: cron times in the
    schedule's zone (else the journey's), at or after its `start` (else after
    `origin`), up to its `until`. Catch-up and lateness are run-batch's choice.
    """

    origin: dt.datetime

    def due(self, journey: Any, *, after: dt.datetime | None, until: dt.datetime) -> list[dt.datetime]:
        plan = journey.entry.schedule
        if not plan:
            return [self.origin] if after is None and self.origin <= until else []
        zone = (schedule.load_zone(plan["timezone"]) if plan.get("timezone") else None) or journey.zone
        start = schedule.local_instant(plan.get("start"), zone)
        stop = schedule.local_instant(plan.get("until"), zone)
        base = after or (durations.earlier(start, dt.timedelta(microseconds=1)) if start else self.origin)
        fires: list[dt.datetime] = []
        for fire in schedule.cron_fires(plan["cron"], zone, after=base):
            fire = fire.astimezone(dt.UTC)
            if fire > until or (stop is not None and fire > stop):
                break
            fires.append(fire)
        return fires


def memory_engine(journeys: Sequence[Journey], *, profiles: MemoryProfiles,
                  audiences: Mapping[str, Compiled | frozenset[str]], zone: ZoneInfo, store: StateStore,
                  clock: Any, fires: Any, policy: Any = None, delivery: Any = None, actions: Any = None,
                  jumps: Any = None) -> Engine:
    """An engine over in-memory ports: audiences read profiles through the engine's overlay-aware `view`.

    Unnamed ports take the dry-run's answers: send everything, collect messages, call no action, record jumps.
    """
    book = Audiences(audiences, profiles=profiles, views=_source_views(profiles), zone=zone)
    engine = Engine(journeys, Ports(store=store, profiles=profiles, audiences=book, policy=policy or SendAll(),
                                    delivery=delivery or Collected(), actions=actions or DryRunActions(),
                                    jumps=jumps or RecordedJumps(), clock=clock, fires=fires))
    book.views = engine.views  # the engine exists only now: until here nothing reads an audience
    return engine


def _source_views(profiles: MemoryProfiles) -> Callable[[Iterable[str]], Iterator[tuple[str, Any]]]:
    """Profiles as the source holds them (no overlay)."""
    return lambda identities: ((identity, profiles.get(identity)) for identity in identities)
