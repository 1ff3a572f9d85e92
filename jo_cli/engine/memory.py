"""In-memory implementations of the engine's ports: for dry-runs and tests.

The run-batch issue replaces `MemoryStore` with SQLite and the delivery and
action ports with real ones; these keep the same contracts (ports.py).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import itertools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli import durations, schedule
from jo_cli.data.csv_reader import Row
from jo_cli.data.events import Event
from jo_cli.engine.engine import Engine
from jo_cli.engine.model import Journey
from jo_cli.engine.ports import (
    EARLY_WAKES,
    ActionResult,
    Decision,
    Discard,
    EventResult,
    Instance,
    MessageRequest,
    Ports,
    QueuedEvent,
    StepEvent,
    StepGroup,
    WakeKind,
)
from jo_cli.expr.compile import Compiled
from jo_cli.expr.runtime import EvalContext, resolve_local

_NO_OVERLAY: Mapping[str, tuple[Any, Any]] = {}
_SEQ = operator.attrgetter("seq")
_WAKE_AND_SEQ = operator.attrgetter("wake_at", "seq")


class MemoryStore:
    """The whole engine state in dicts and lists; `snapshot()` compares two runs."""

    def __init__(self, *, keep_steps: bool = True) -> None:
        self.instances: list[Instance] = []  # every instance ever started, in entry order
        self.keep_steps = keep_steps  # False: count step events without keeping them (large dry-runs)
        self.steps: list[StepEvent] = []
        self.step_counts: dict[tuple[str, str, str, str | None, bool], int] = {}
        self.discards: list[Discard] = []
        self.event_results: list[EventResult] = []
        self.fires: list[tuple[str, dt.datetime]] = []
        self.counters: dict[str, int] = {}
        self.overlays: dict[str, dict[str, tuple[Any, Any]]] = {}
        self._seq = 0
        # By journey, then profile (no key tuple per profile: a fire enters a million).
        self._active: dict[str, dict[str, Instance]] = {}
        self._history: dict[str, dict[str, tuple[int, dt.datetime]]] = {}
        self._buckets: dict[bool, dict[dt.datetime, list[tuple[int, int, Instance]]]] = {True: {}, False: {}}
        self._times: dict[bool, list[dt.datetime]] = {True: [], False: []}  # heaps of the buckets' times
        self._parkings: dict[int, int] = {}  # instance seq -> the token of its current parking
        self._last_fire: dict[str, dt.datetime] = {}
        self._members: dict[str, frozenset[str]] = {}
        self._events: list[tuple[dt.datetime, int, QueuedEvent]] = []
        self._done: set[int] = set()
        self._first = 0  # events before this index are all done
        self._pushed = 0

    # ------------------------------------------------------------ instances

    def new_seq(self) -> int:
        self._seq += 1
        return self._seq

    def history(self, journey: str, profile: str) -> tuple[int, dt.datetime] | None:
        by_profile = self._history.get(journey)
        return None if by_profile is None else by_profile.get(profile)

    def active(self, journey: str, profile: str) -> Instance | None:
        by_profile = self._active.get(journey)
        return None if by_profile is None else by_profile.get(profile)

    def active_in(self, journey: str) -> list[Instance]:
        return sorted(self._active.get(journey, {}).values(), key=lambda i: i.seq)

    def start(self, instance: Instance) -> None:
        self.instances.append(instance)
        journey = instance.journey
        active = self._active.get(journey)
        if active is None:
            active = self._active[journey] = {}
            self._history[journey] = {}
        active[instance.profile] = instance
        self._history[journey][instance.profile] = (instance.entry, instance.entered_at)

    def save(self, instance: Instance) -> None:
        at, kind = instance.wake_at, instance.wake_kind
        if at is not None and kind is not None:
            # Each parking gets a new token: an entry left behind by an earlier parking is stale even when its
            # time and kind happen to equal the new one's.
            token = self._parkings[instance.seq] = self._parkings.get(instance.seq, 0) + 1
            early = kind in EARLY_WAKES
            bucket = self._buckets[early].get(at)
            if bucket is None:  # wake-ups are kept per time: a wave parks thousands at one instant
                bucket = self._buckets[early][at] = []
                heapq.heappush(self._times[early], at)
            bucket.append((instance.seq, token, instance))

    def finish(self, instance: Instance) -> None:
        active = self._active.get(instance.journey)
        if active is not None:
            active.pop(instance.profile, None)

    def _valid(self, at: dt.datetime, seq: int, token: int, instance: Instance) -> bool:
        """Still parked as this entry says (not moved on, parked again or ended since)."""
        return instance.end is None and instance.wake_at == at and self._parkings.get(seq) == token

    def _earliest(self, early: bool) -> dt.datetime | None:
        """The earliest time with a valid wake-up; buckets of stale entries only are dropped on the way."""
        times, buckets = self._times[early], self._buckets[early]
        while times:
            at = times[0]
            bucket = buckets[at]
            for index, (seq, token, instance) in enumerate(bucket):
                if self._valid(at, seq, token, instance):
                    del bucket[:index]
                    return at
            heapq.heappop(times)
            del buckets[at]
        return None

    def next_wake(self) -> dt.datetime | None:
        firsts = [at for at in (self._earliest(True), self._earliest(False)) if at is not None]
        return min(firsts) if firsts else None

    def wakeups(self, at: dt.datetime, kinds: tuple[WakeKind, ...]) -> list[Instance]:
        due: list[Instance] = []
        classes = {kind in EARLY_WAKES for kind in kinds}
        for early in classes:
            times, buckets = self._times[early], self._buckets[early]
            while times and times[0] <= at:
                when = heapq.heappop(times)
                taken = [instance for seq, token, instance in buckets.pop(when)
                         if self._valid(when, seq, token, instance) and instance.wake_kind in kinds]
                parkings = self._parkings
                for instance in taken:  # taken: no entry left behind is valid for it (tokens never restart)
                    parkings[instance.seq] += 1
                taken.sort(key=_SEQ)
                due.extend(taken)
        if len(classes) > 1:
            due.sort(key=_WAKE_AND_SEQ)  # buckets come in time order, each by entry sequence: merge the two kinds
        return due

    # ------------------------------------------------------------ counters, overlays, fires, members

    def bump(self, counter: str) -> int:
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    def overlay(self, profile: str) -> Mapping[str, tuple[Any, Any]]:
        return self.overlays.get(profile, _NO_OVERLAY)

    def set_overlay(self, profile: str, values: Mapping[str, tuple[Any, Any]]) -> None:
        self.overlays.setdefault(profile, {}).update(values)

    def last_fire(self, journey: str) -> dt.datetime | None:
        return self._last_fire.get(journey)

    def record_fire(self, journey: str, at: dt.datetime) -> None:
        self.fires.append((journey, at))
        self._last_fire[journey] = at

    def members(self, key: str) -> frozenset[str] | None:
        return self._members.get(key)

    def set_members(self, key: str, members: frozenset[str]) -> None:
        self._members[key] = members

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

    def next_event_time(self) -> dt.datetime | None:
        for at, seq, _ in itertools.islice(self._events, self._first, None):
            if seq not in self._done:
                return at
        return None

    def events_at(self, at: dt.datetime) -> list[QueuedEvent]:
        due: list[QueuedEvent] = []
        for when, seq, queued in itertools.islice(self._events, self._first, None):  # by time: stop at a later one
            if when > at:
                break
            if seq not in self._done:
                due.append(queued)
        return due

    def event_done(self, seq: int) -> None:
        self._done.add(seq)
        while self._first < len(self._events) and self._events[self._first][1] in self._done:
            self._first += 1

    @property
    def queued(self) -> list[Event]:
        return [queued.event for _, seq, queued in self._events[self._first:] if seq not in self._done]

    # ------------------------------------------------------------ journal

    def record_steps(self, journey: str, version: int | None, at: dt.datetime, processed_at: dt.datetime,
                     groups: Sequence[StepGroup]) -> None:
        counts = self.step_counts
        for step, outcome, detail, exited, instances in groups:
            key = (journey, step, outcome, detail, exited)
            counts[key] = counts.get(key, 0) + len(instances)
            if self.keep_steps:
                self.steps.extend(StepEvent(journey, version, i.profile, i.entry, step, at, outcome, detail, exited,
                                            processed_at) for i in instances)

    def record_discard(self, discard: Discard) -> None:
        self.discards.append(discard)

    def record_event(self, result: EventResult) -> None:
        self.event_results.append(result)

    def snapshot(self) -> tuple[Any, ...]:
        """Everything this store holds, for comparing two runs."""
        return (tuple(i.state() for i in self.instances), tuple(self.steps), tuple(self.discards),
                tuple(self.event_results), tuple(self.fires), tuple(sorted(self.counters.items())),
                tuple(sorted((p, tuple(sorted(v.items()))) for p, v in self.overlays.items())),
                tuple(sorted(self._members.items())), tuple(self.queued))


KEPT_INVALID_ZONES = 5


class MemoryProfiles:
    """Profiles held in memory, in source row order.

    A profile's zone is `zones[identity]`, or (read from a CSV with a zone field) the zone its row names:
    looked up through the row just read rather than in a second million-entry mapping.
    """

    def __init__(self, rows: Mapping[str, dict[str, Any]], zones: Mapping[str, ZoneInfo] | None = None, *,
                 zone_field: str | None = None) -> None:
        self.rows = dict(rows)
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

    def get(self, identity: str) -> dict[str, Any] | None:
        return self.rows.get(identity)

    def identities(self) -> Iterable[str]:
        return self.rows.keys()

    def zone(self, identity: str) -> ZoneInfo | None:
        if self.zone_field is None:
            return self.zones.get(identity)
        row = self.rows.get(identity)
        name = row.get(self.zone_field) if row is not None else None
        if name is None:
            return None
        return self._named_zone(name)

    def _named_zone(self, name: Any) -> ZoneInfo | None:
        """The zone a row's zone field names (None: no such zone), each name loaded once."""
        if name not in self._named:
            self._named[name] = schedule.load_zone(name) if isinstance(name, str) else None
        return self._named[name]


class Audiences:
    """Audiences by name: a compiled `where` over one profile, or an uploaded list of identities.

    `view` reads a profile as the engine sees it (the source with the update-profile overlay).
    A `where` is evaluated in the profile's zone, else `zone`.
    """

    def __init__(self, definitions: Mapping[str, Compiled | frozenset[str]], *, profiles: Any,
                 view: Callable[[str], dict[str, Any] | None], zone: ZoneInfo) -> None:
        self.definitions = dict(definitions)
        self.profiles = profiles
        self.view = view
        self.zone = zone
        self._evaluating: set[tuple[str, str]] = set()

    def members(self, name: str, at: dt.datetime) -> Sequence[str]:
        definition = self.definitions[name]
        identities = self.profiles.identities()
        if isinstance(definition, frozenset):
            return [identity for identity in identities if identity in definition]
        # One context for the whole read, pointed at each profile in turn (the common case: no recursion).
        context = _MemberContext(self, at)
        zone_of, view, default = self.profiles.zone, self.view, self.zone
        members: list[str] = []
        for identity in identities:  # (an audience reading itself is cut by `contains` one level down)
            profile = view(identity)
            if profile is None:
                continue
            context.identity, context.profile = identity, profile
            context.zone = zone_of(identity) or default
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
    """The evaluation context of an audience read: `now` fixed, the profile and its zone set per row."""

    def __init__(self, audiences: Audiences, at: dt.datetime) -> None:  # not super().__init__(): see in_audience
        self.now = at
        self.zone = audiences.zone
        self.journey = {}
        self.actions = {}
        self._audiences = audiences
        self.identity = ""
        self.profile: Mapping[str, Any] | None = None

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

    def add(self, profile: str, channel: str, at: dt.datetime) -> None:
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
        start = _local(plan.get("start"), zone)
        stop = _local(plan.get("until"), zone)
        base = after or (durations.earlier(start, dt.timedelta(microseconds=1)) if start else self.origin)
        fires: list[dt.datetime] = []
        for fire in schedule.cron_fires(plan["cron"], zone, after=base):
            fire = fire.astimezone(dt.UTC)
            if fire > until or (stop is not None and fire > stop):
                break
            fires.append(fire)
        return fires


def _local(text: Any, zone: Any) -> dt.datetime | None:
    parsed = schedule.parse_datetime(text) if text is not None else None
    if parsed is None:
        return None
    try:
        return (resolve_local(parsed, zone) if parsed.tzinfo is None else parsed).astimezone(dt.UTC)
    except OverflowError:  # within a day of the calendar's end
        return durations.NEVER if parsed.year > 5000 else durations.ALWAYS


def memory_engine(journeys: Sequence[Journey], *, profiles: MemoryProfiles,
                  audiences: Mapping[str, Compiled | frozenset[str]], zone: ZoneInfo, store: MemoryStore,
                  clock: Any, fires: Any, policy: Any = None, delivery: Any = None, actions: Any = None,
                  jumps: Any = None) -> Engine:
    """An engine over in-memory ports: audiences read profiles through the engine's overlay-aware `view`.

    Unnamed ports take the dry-run's answers: send everything, collect messages, call no action, record jumps.
    """
    book = Audiences(audiences, profiles=profiles, view=profiles.get, zone=zone)
    engine = Engine(journeys, Ports(store=store, profiles=profiles, audiences=book, policy=policy or SendAll(),
                                    delivery=delivery or Collected(), actions=actions or DryRunActions(),
                                    jumps=jumps or RecordedJumps(), clock=clock, fires=fires))
    book.view = engine.view  # the engine exists only now: until here nothing reads an audience
    return engine
