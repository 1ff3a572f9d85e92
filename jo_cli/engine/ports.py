"""What the engine reads and writes, as plain records and the interfaces that hold them.

The engine never prints, never reads the wall clock, never touches a file:
a dry-run gives it the in-memory implementations of `memory.py`; run-batch
gives it the SQLite store, real delivery and the wall clock. Nothing here
knows which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from jo_cli.data.events import Event

StepGroup = tuple[str, str, "str | None", bool, "list[Instance]"]
WakeKind = Literal["wake", "release", "timeout", "expire"]
# Wake-ups processed before the events left over at their time, and those after (§6.3's order at one time).
EARLY_WAKES: tuple[WakeKind, ...] = ("wake", "release")
LATE_WAKES: tuple[WakeKind, ...] = ("timeout", "expire")


_NOTHING: dict[str, Any] = {}  # never written to: see Instance.actions


class Instance:
    """One profile's way through one version of a journey (§6.3).

    `step` is where it is parked (or runs); `wake_at`/`wake_kind` say when and
    why it resumes. `data` and `zone` are the profile as the current run reads
    it; a store does not keep them.
    """

    __slots__ = ("actions", "data", "end", "ended_at", "entered_at", "entry", "event", "journey", "messages",
                 "profile", "reached_at", "seq", "step", "version", "wake_at", "wake_kind", "zone")

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

    @property
    def active(self) -> bool:
        return self.end is None

    def state(self) -> tuple[Any, ...]:
        """Everything a store keeps, for comparing runs."""
        return (self.seq, self.journey, self.version, self.profile, self.entry, self.entered_at, self.step,
                self.reached_at, self.wake_at, self.wake_kind, self.event, self.actions, self.messages, self.end,
                self.ended_at)

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
    seq: int  # push order
    event: Event


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


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    response: Any = None
    error: str | None = None


class Clock(Protocol):
    def wall(self) -> dt.datetime:
        """The processing time recorded beside each logical time."""


class ProfileSource(Protocol):
    def get(self, identity: str) -> dict[str, Any] | None:
        """The profile's typed values (dotted columns nested), or None when it is not (or no longer) there."""

    def identities(self) -> Iterable[str]:
        """Every accepted profile's identity, in source row order."""

    def zone(self, identity: str) -> ZoneInfo | None:
        """The profile's own time zone, when its timezone field names a valid one."""


class AudienceBook(Protocol):
    def members(self, name: str, at: dt.datetime) -> Sequence[str]:
        """The audience's members when read at `at`, in source row order."""

    def contains(self, name: str, identity: str, profile: Mapping[str, Any] | None, at: dt.datetime) -> bool:
        """Whether one profile is a member at `at` (for `inAudience`)."""


class MessagePolicy(Protocol):
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

    def add(self, profile: str, channel: str, at: dt.datetime) -> None: ...


class JumpSink(Protocol):
    def jump(self, journey: str, profile: str, payload: Mapping[str, Any], *, at: dt.datetime,
             origin: str) -> None:
        """A jump to a journey this engine does not run."""


class FirePlan(Protocol):
    def due(self, journey: Any, *, after: dt.datetime | None, until: dt.datetime) -> list[dt.datetime]:
        """Fire times of an audience journey in (`after`, `until`], oldest first."""


class StateStore(Protocol):
    """Instances, entry history, counters, overlays, fire state, the event queue and the journal."""

    def new_seq(self) -> int: ...
    def history(self, journey: str, profile: str) -> tuple[int, dt.datetime] | None:
        """(entries so far, the last one's time) for this journey id and profile."""
    def active(self, journey: str, profile: str) -> Instance | None: ...
    def active_in(self, journey: str) -> list[Instance]: ...
    def start(self, instance: Instance) -> None: ...
    def save(self, instance: Instance) -> None: ...
    def finish(self, instance: Instance) -> None: ...
    def next_wake(self) -> dt.datetime | None: ...
    def wakeups(self, at: dt.datetime, kinds: tuple[WakeKind, ...]) -> list[Instance]:
        """Active instances due at or before `at` with one of `kinds`, by (wake time, entry sequence)."""
    def bump(self, counter: str) -> int:
        """Add one to a named counter and return its new value."""
    def overlay(self, profile: str) -> Mapping[str, tuple[Any, Any]]:
        """Fields written by update-profile: field -> (value, the source's value when written)."""
    def set_overlay(self, profile: str, values: Mapping[str, tuple[Any, Any]]) -> None: ...
    def last_fire(self, journey: str) -> dt.datetime | None: ...
    def record_fire(self, journey: str, at: dt.datetime) -> None: ...
    def members(self, key: str) -> frozenset[str] | None: ...
    def set_members(self, key: str, members: frozenset[str]) -> None: ...
    def next_event_time(self) -> dt.datetime | None: ...
    def events_at(self, at: dt.datetime) -> list[QueuedEvent]:
        """Queued events not yet processed with `at` at or before `at`, by (at, push order)."""
    def event_done(self, seq: int) -> None: ...
    def record_steps(self, journey: str, version: int | None, at: dt.datetime, processed_at: dt.datetime,
                     groups: Sequence[StepGroup]) -> None:
        """Step events of one wave: (step, outcome, detail, exited, instances), in the order taken."""
    def record_discard(self, discard: Discard) -> None: ...
    def record_event(self, result: EventResult) -> None: ...


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
