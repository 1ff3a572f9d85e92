"""What the engine reads and writes, as plain records and the interfaces that hold them.

The engine never prints, never reads the wall clock, never touches a file:
a dry-run gives it the in-memory implementations of `memory.py`; run-batch
gives it the SQLite store, real delivery and the wall clock. Nothing here
knows which.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from jo_cli.data.events import Event

StepGroup = tuple[str, str, "str | None", bool, "list[Instance]"]
WakeKind = Literal["wake", "release", "timeout", "expire"]
# Wake-ups processed before the events left over at their time, and those after (§6.3's order at one time).
EARLY_WAKES: tuple[WakeKind, ...] = ("wake", "release")
LATE_WAKES: tuple[WakeKind, ...] = ("timeout", "expire")
KINDS_IN_ORDER: tuple[WakeKind, ...] = (*EARLY_WAKES, *LATE_WAKES)


_NOTHING: dict[str, Any] = {}  # never written to: see Instance.actions


class Instance:
    """One profile's way through one version of a journey (§6.3).

    `step` is where it is parked (or runs); `wake_at`/`wake_kind` say when and
    why it resumes. `data` and `zone` are the profile as the current run reads
    it, from the profile source `read_from`; a store does not keep them.
    """

    __slots__ = ("actions", "data", "end", "ended_at", "entered_at", "entry", "event", "journey", "messages",
                 "profile", "reached_at", "read_from", "seq", "step", "version", "wake_at", "wake_kind", "zone")

    def __init__(self, *, seq: int, journey: str, version: int | None, profile: str, entry: int,
                 entered_at: dt.datetime, event: dict[str, Any] | None = None) -> None:
        self.seq = seq
        self.journey = journey
        self.version = version
        self.profile = profile
        self.entry = entry
        self.entered_at = entered_at
        self.step: str | None = None
        self.reached_at: dt.datetime | None = None
        self.wake_at: dt.datetime | None = None
        self.wake_kind: WakeKind | None = None
        self.event = event
        # Copied on write (most instances never call an action): a million empty dicts are 64 MB.
        self.actions: dict[str, Any] = _NOTHING
        self.messages: dict[str, str] = _NOTHING  # message step -> the key of the message it created
        self.end: str | None = None  # the End step reached or the exit reason, once ended
        self.ended_at: dt.datetime | None = None
        self.data: dict[str, Any] | None = None
        self.zone: ZoneInfo | None = None
        self.read_from: object = None

    @property
    def active(self) -> bool:
        return self.end is None

    def state(self) -> tuple[Any, ...]:
        """Everything a store keeps, for comparing runs."""
        return (self.seq, self.journey, self.version, self.profile, self.entry, self.entered_at, self.step,
                self.reached_at, self.wake_at, self.wake_kind, self.event, self.actions, self.messages, self.end,
                self.ended_at)

    def copy(self) -> Instance:
        """What a store keeps, in a new object that shares nothing mutable (`data` and `zone` are left out)."""
        twin = Instance(seq=self.seq, journey=self.journey, version=self.version, profile=self.profile,
                        entry=self.entry, entered_at=self.entered_at, event=copy.deepcopy(self.event))
        twin.step, twin.reached_at, twin.wake_at, twin.wake_kind = self.step, self.reached_at, self.wake_at, \
            self.wake_kind
        twin.actions = copy.deepcopy(self.actions) if self.actions else _NOTHING
        twin.messages = dict(self.messages) if self.messages else _NOTHING
        twin.end, twin.ended_at = self.end, self.ended_at
        return twin

    def __repr__(self) -> str:
        where = f"ended {self.end}" if self.end else f"at {self.step}"
        return f"<Instance {self.journey}@{self.version} {self.profile}#{self.entry} {where}>"


@dataclass(slots=True)
class StepEvent:
    """A step taken (§6.3): its outcome, or with `exited` the exit reason of an instance parked on it."""

    journey: str
    version: int | None
    profile: str
    entry: int
    step: str
    at: dt.datetime  # logical time
    outcome: str
    detail: str | None = None  # error text, or the exclusion reason of a message
    exited: bool = False
    processed_at: dt.datetime | None = None  # wall-clock time of the run that took it


@dataclass(frozen=True, slots=True)
class Discard:
    """An entry refused by §6.2's rules."""

    journey: str
    version: int | None
    profile: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class EventResult:
    """What one journey did with one event (§5.3): `consumed`, or `discarded` with a reason."""

    event: int  # the queued event's sequence number
    name: str
    journey: str | None  # None: no journey listens to it
    result: Literal["consumed", "discarded"]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """An event not yet done. `results`: what journeys did with it already in a pass that was cut short (journey
    id, "" for no journey -> None when it consumed it, else the reason it was left over): a rerun goes on from
    there rather than offering it twice."""

    seq: int  # push order
    event: Event
    results: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class FireRecord:
    """A fire's state as a unit of work leaves it (§7.3): `claimed` with the members entered so far (`position`
    of the audience read, the last one's identity), `done`, `failed` (with why) or `skipped` (with why)."""

    journey: str
    version: int | None
    at: dt.datetime  # scheduled for
    status: Literal["claimed", "done", "failed", "skipped"] = "done"
    reason: str | None = None
    position: int = 0
    last: str | None = None
    entered: int = 0


@dataclass(slots=True)
class MessageRequest:
    """What a message step asks the message policy at its logical time."""

    key: str
    journey: str
    version: int | None
    step: Any  # model.Step
    rules: str | None  # the step's, else the journey's rule set name (None: `default`)
    instance: Instance
    at: dt.datetime
    released: bool = False  # True when quiet hours release a queued message


@dataclass(slots=True)
class Decision:
    """The policy's answer: `sent`, `excluded` (with a reason), `queued` until `release_at`.

    `exit` ends the instance with that reason (quiet hours with `handling: discard`);
    `on_error` routes an excluded message to the step's `on_error` (a render error).
    """

    outcome: Literal["sent", "excluded", "queued"]
    reason: str | None = None
    release_at: dt.datetime | None = None
    exit: str | None = None
    on_error: bool = False
    message: Mapping[str, Any] | None = None


class AudienceFailure(Exception):
    """An audience that cannot be read (an uploaded list whose file is broken): its fire fails, nothing else."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    response: Any = None
    error: str | None = None


class Clock(Protocol):
    def wall(self) -> dt.datetime:
        """The processing time recorded beside each logical time."""


class ProfileSource(Protocol):
    """The profiles as one run reads them. A source does not change under an engine: an instance keeps the
    row it read (`Instance.read_from`) for its next steps; a changed source is a new object."""

    def get(self, identity: str) -> dict[str, Any] | None:
        """The profile's typed values (dotted columns nested), or None when it is not (or no longer) there."""

    def identities(self) -> Iterable[str]:
        """Every accepted profile's identity, in source row order."""

    def zone(self, identity: str) -> ZoneInfo | None:
        """The profile's own time zone, when its timezone field names a valid one."""

    def zone_in(self, identity: str, row: Mapping[str, Any]) -> ZoneInfo | None:
        """`zone(identity)` where `row` is what `get(identity)` just gave (the source is not read again)."""


class AudienceBook(Protocol):
    def members(self, name: str, at: dt.datetime) -> Sequence[str]:
        """The audience's members when read at `at`, in source row order."""

    def contains(self, name: str, identity: str, profile: Mapping[str, Any] | None, at: dt.datetime) -> bool:
        """Whether one profile is a member at `at` (for `inAudience`)."""


class MessagePolicy(Protocol):
    """A policy may also have `prepare(profiles, at)`, called before a message step decides a batch."""

    def decide(self, request: MessageRequest) -> Decision:
        """Consent, address, capping, quiet hours, rendering (§7.5, §7.6)."""


class Delivery(Protocol):
    def submit(self, message: Mapping[str, Any]) -> None:
        """Take a message the policy let through (the outbox row, in run-batch)."""


class ActionCaller(Protocol):
    def call(self, action: str, params: Mapping[str, Any], *, key: str, at: dt.datetime) -> ActionResult:
        """Make an action's call (§6.4); a dry-run answers ok with a null response, without calling."""


class RuleCounters(Protocol):
    """Messages per profile for capping (§7.6); the message policy reads and writes them, the engine never."""

    def count(self, profile: str, channels: frozenset[str], *, after: dt.datetime, until: dt.datetime) -> int:
        """Messages of `channels` created for `profile` in (`after`, `until`]."""

    def add(self, profile: str, channel: str, at: dt.datetime, key: str) -> None: ...


class JumpSink(Protocol):
    def jump(self, journey: str, profile: str, payload: Mapping[str, Any], *, at: dt.datetime,
             origin: str) -> None:
        """A jump to a journey this engine does not run."""


class FirePlan(Protocol):
    def due(self, journey: Any, *, after: dt.datetime | None, until: dt.datetime) -> list[dt.datetime]:
        """Fire times of an audience journey in (`after`, `until`], oldest first."""


EntryState = tuple[int, dt.datetime, "Instance | None"]  # (entries so far, the last one's time, the active one)
StepBatch = tuple[str, "int | None", dt.datetime, dt.datetime, Sequence[StepGroup]]


def whole_seconds(at: dt.datetime | None) -> None:
    """A store keeps times to the second (an INTEGER of epoch seconds): a time with a fraction is refused
    rather than rounded, since a rounded wake-up or event time would no longer be the one a dry-run computed."""
    if at is not None and at.microsecond:
        raise ValueError(f"{at.isoformat()}: the store keeps times to the second")


class Changes:
    """A unit of work: every change the engine made since its last commit, handed to `StateStore.commit`.

    The engine reads through it (`entry_state`, `overlays`, `counters`, `members`) before asking the store,
    so a wave sees its own uncommitted changes, and the store holds nothing it was not handed: the commit
    points are the engine's, and a store may make each commit one transaction.
    """

    __slots__ = (
        "_latest",
        "counters",
        "discards",
        "event_results",
        "events_done",
        "fires",
        "instances",
        "members",
        "messages",
        "overlays",
        "sends",
        "started",
        "steps",
    )

    def __init__(self) -> None:
        self.instances: dict[int, Instance] = {}  # seq -> every instance started or changed, as it is now
        self.started: set[int] = set()  # of those, the new ones
        self.steps: list[StepBatch] = []  # step events by wave: (journey, version, at, processed_at, groups)
        self.discards: list[Discard] = []
        self.counters: dict[str, int] = {}  # name -> its new value
        self.overlays: dict[str, dict[str, tuple[Any, Any]]] = {}  # profile -> the fields written
        self.fires: list[FireRecord] = []  # the state of each fire this unit worked on (the last one wins)
        self.members: dict[str, frozenset[str]] = {}
        self.event_results: list[EventResult] = []
        self.events_done: list[int] = []
        self.messages: list[Mapping[str, Any]] = []  # the message objects created (the outbox rows)
        self.sends: list[tuple[str, str, dt.datetime, str]] = []  # (profile, channel, at, key): capping counts
        # journey -> profile -> the instance changed last (no key tuple per profile: a fire enters a million).
        self._latest: dict[str, dict[str, Instance]] = {}

    def __bool__(self) -> bool:
        return bool(self.instances or self.steps or self.discards or self.counters or self.overlays or self.fires
                    or self.members or self.event_results or self.events_done or self.messages or self.sends)

    def start(self, instance: Instance) -> None:
        self.started.add(instance.seq)
        self.save(instance)

    def save(self, instance: Instance) -> None:
        """The instance moved, parked or ended: its state at commit is what the store keeps."""
        self.instances[instance.seq] = instance
        latest = self._latest.get(instance.journey)
        if latest is None:
            latest = self._latest[instance.journey] = {}
        latest[instance.profile] = instance

    def entry_state(self, journey: str, profile: str) -> EntryState | None:
        """The profile's entry state in this unit, when it changed an instance of `journey` (else None)."""
        latest = self._latest.get(journey)
        instance = latest.get(profile) if latest is not None else None
        if instance is None:
            return None
        return instance.entry, instance.entered_at, instance if instance.end is None else None

    def changed_in(self, journey: str) -> Iterable[Instance]:
        return (self._latest.get(journey) or {}).values()

    def holds(self, store: object) -> bool:
        """Whether `entry_state` gives `store`'s entry states too (nothing to read from it first)."""
        return False

    def record_steps(self, journey: str, version: int | None, at: dt.datetime, processed_at: dt.datetime,
                     groups: Sequence[StepGroup]) -> None:
        self.steps.append((journey, version, at, processed_at, groups))

    def write_overlay(self, profile: str, values: Mapping[str, tuple[Any, Any]]) -> None:
        self.overlays.setdefault(profile, {}).update(values)


class StateStore(Protocol):
    """Instances, entry history, counters, overlays, fire state, the event queue and the journal.

    Reads are batch-shaped (one call for a chunk of profiles); every write is a `Changes` handed to `commit`,
    and a read never reflects a change before its commit. What a read returns is the caller's: changing it
    changes nothing in the store. Times are kept to the second: a store may refuse one with a fraction.
    """

    def changes(self) -> Changes:
        """A new, empty unit of work for `commit` (a store may hand out one that watches what goes in)."""
    def new_seq(self) -> int:
        """A fresh instance sequence number (not a write: one handed out but never committed may come again)."""
    def entry_states(self, journey: str, profiles: Sequence[str]) -> dict[str, EntryState]:
        """Of `profiles`, those that entered journey id `journey` before: their state (the others are absent)."""
    def active_in(self, journey: str) -> list[Instance]:
        """Every active instance of journey id `journey` (every version), by entry sequence."""
    def next_wake(self) -> dt.datetime | None:
        """The earliest wake time of a parked instance."""
    def wakeups(self, at: dt.datetime, kinds: tuple[WakeKind, ...]) -> list[Instance]:
        """Active instances due at or before `at` with one of `kinds`, by (wake time, entry sequence)."""
    def overlays(self, profiles: Sequence[str]) -> dict[str, Mapping[str, tuple[Any, Any]]]:
        """Of `profiles`, those with fields written by update-profile: field -> (value, the source's value when
        written)."""
    def counters(self, names: Sequence[str]) -> dict[str, int]:
        """The named counters' values (a counter never bumped is absent)."""
    def last_fires(self, journeys: Sequence[str]) -> dict[str, dt.datetime]:
        """The latest fire time recorded done or skipped for each journey id that has one."""
    def fire_progress(self, journey: str, at: dt.datetime) -> FireRecord | None:
        """The fire of `journey` at `at` as last committed (None: never claimed)."""
    def members(self, key: str) -> frozenset[str] | None:
        """The membership snapshot saved under `key`, None before the first."""
    def takes_entries(self, journey: str, version: int | None) -> bool:
        """Whether the version still takes new entries (`jo close` or `jo stop` since the pass began: no), read
        again before each chunk of a fire."""
    def next_event_time(self, after: dt.datetime | None = None) -> dt.datetime | None:
        """The earliest time of a queued event not yet done (after `after`, when given)."""
    def events_at(self, at: dt.datetime) -> list[QueuedEvent]:
        """Queued events not yet done with `at` at or before `at`, by (at, push order)."""
    def commit(self, changes: Changes) -> None:
        """Keep every change in `changes`, all or nothing."""


@dataclass
class Ports:
    """Everything the engine is given."""

    store: StateStore
    profiles: ProfileSource
    audiences: AudienceBook
    policy: MessagePolicy
    delivery: Delivery
    actions: ActionCaller
    jumps: JumpSink
    clock: Clock
    fires: FirePlan
