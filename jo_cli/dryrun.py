"""`jo dry-run` as a library: one journey over sample profiles and events, nothing written or sent (SPEC §7.1).

The engine runs on the in-memory store with a virtual clock from `now` to
the horizon; messages go through the real message policy (consent, capping
over this dry-run's messages, quiet hours, rules) and are rendered only for
the profiles shown (`--show N`, the first N to enter) unless every message
is to be rendered. The result is the JSON contract of §7.1 as plain values.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jo_cli import durations, schedule
from jo_cli.assembly import TemplateRender, fire_time, message_policy, shape_message
from jo_cli.data.csv_reader import Reject, count_rejects, invalid_zone
from jo_cli.data.events import Event, EventCounts, counted
from jo_cli.engine.files import WorkingTree
from jo_cli.engine.memory import (
    FixedClock,
    MemoryProfiles,
    MemoryRuleCounters,
    MemoryStore,
    SingleFire,
    memory_engine,
)
from jo_cli.engine.model import Journey
from jo_cli.engine.policy import Policy
from jo_cli.engine.ports import Decision, Instance, MessageRequest, StepEvent, StepGroup
from jo_cli.engine.project import ProjectInputs
from jo_cli.engine.tally import JourneyCounts, count_journey, count_reasons
from jo_cli.errors import JoError
from jo_cli.expr.runtime import format_datetime
from jo_cli.report import steps_json

DEFAULT_HORIZON = dt.timedelta(days=91)
KEPT_REJECTS = 1000  # rejected rows listed in the output; all are counted
_NEEDS_STORE = {
    "audience-qualification": "an audience-qualification entry compares membership with the previous evaluation",
    "business-event": "a business-event entry reads the members recorded in the run store",
}


@dataclass(frozen=True)
class DryRunOptions:
    profiles: Path | None = None
    events: Path | None = None
    now: dt.datetime | None = None
    until: dt.datetime | None = None
    duration: dt.timedelta | None = None  # --for
    show: int = 20
    render_all: bool = False
    max_rejected: int | None = None
    store: str | None = None


class ShowingStore(MemoryStore):
    """The dry-run's store: step events counted for everyone, kept for the first `show` profiles to enter."""

    def __init__(self, show: int) -> None:
        super().__init__(keep_steps=False)
        self.show = show
        self.shown: dict[str, int] = {}  # profile -> its place among the shown

    def start(self, instance: Instance) -> None:
        super().start(instance)  # a sharing store's: as the instance enters, before its wave runs and sends
        shown = self.shown
        if len(shown) < self.show and instance.profile not in shown:
            shown[instance.profile] = len(shown)

    def record_steps(self, journey: str, version: int | None, at: dt.datetime, processed_at: dt.datetime,
                     groups: Sequence[StepGroup]) -> None:
        super().record_steps(journey, version, at, processed_at, groups)  # counts only (keep_steps is False)
        shown = self.shown
        if shown:
            self.steps.extend(StepEvent(journey, version, i.profile, i.entry, step, at, outcome, detail, exited,
                                        processed_at)
                              for step, outcome, detail, exited, instances in groups
                              for i in instances if i.profile in shown)


def _open_read_only(location: str) -> Any:
    """The run store named by --store or JO_STORE, read-only: never created, never migrated, never written."""
    from jo_cli.store import open_store
    from jo_cli.store.state import SqliteStateStore

    return SqliteStateStore(open_store(Path(location).expanduser(), readonly=True))


class _FromStore:
    """`jo dry-run --store`: the dry-run's own store, over what a run store says of the journey's id.

    The entry history (entries so far, the last one's time; an instance still active in the store makes a
    new entry `already_in_journey`), update-profile's overlay, the counters of profile-cap and the membership
    snapshots of audience qualification come from the run store; everything the dry-run does stays in
    memory and wins over it. The store's own waiting instances are not run on (run-batch does that): they
    stand in for "already in the journey" only, parked nowhere, so no event or wake-up moves them; with
    `exits_active` (a fire with forced re-entrance exits them first) they count as entries that ended.
    """

    def __init__(self, memory: ShowingStore, state: Any, *, exits_active: bool = False) -> None:
        self.memory = memory
        self.state = state
        self.exits_active = exits_active

    def __getattr__(self, name: str) -> Any:
        return getattr(self.memory, name)

    def entry_states(self, journey: str, profiles: Sequence[str]) -> dict[str, Any]:
        states = {profile: (entries, last, None if active is None or self.exits_active else _standing_in(active))
                  for profile, (entries, last, active) in self.state.entry_states(journey, profiles).items()}
        states.update(self.memory.entry_states(journey, profiles))
        return states

    def overlays(self, profiles: Sequence[str]) -> dict[str, Any]:
        merged = {profile: dict(fields) for profile, fields in self.state.overlays(profiles).items()}
        for profile, fields in self.memory.overlays(profiles).items():
            merged.setdefault(profile, {}).update(fields)
        return merged

    def counters(self, names: Sequence[str]) -> dict[str, int]:
        return {**self.state.counters(names), **self.memory.counters(names)}

    def members(self, key: str) -> frozenset[str] | None:
        mine = self.memory.members(key)
        return mine if mine is not None else self.state.members(key)


def _standing_in(active: Instance) -> Instance:
    """A run store's active instance as a dry-run sees it: in the journey, at no step it could move from."""
    return Instance(seq=0, journey=active.journey, version=active.version, profile=active.profile,
                    entry=active.entry, entered_at=active.entered_at)


class _SentFromStore(MemoryRuleCounters):
    """Capping windows that start with the messages the run store says were sent (its `sends`)."""

    def __init__(self, store: Any) -> None:
        super().__init__()
        self.store = store

    def count(self, profile: str, channels: frozenset[str], *, after: dt.datetime, until: dt.datetime) -> int:
        from jo_cli.store.sends import count_sends

        return super().count(profile, channels, after=after, until=until) + count_sends(
            self.store, profile, channels, after=after, until=until)


@dataclass
class ShownMessages:
    """Delivery in a dry-run: messages of the shown profiles are kept; all are counted."""

    shown: Mapping[str, int]
    messages: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def submit(self, message: Mapping[str, Any]) -> None:
        self.count += 1
        if message["profile"] in self.shown:
            self.messages.append(dict(message))


class WatchedPolicy:
    """The project's message policy, watched for what the report says beyond the counts (§7.1): the text of
    each render error (counted for everyone, kept for the shown profiles' paths) and the messages quiet hours
    held and then released (counted for everyone; for the shown profiles, when each would have been sent)."""

    def __init__(self, policy: Policy, shown: Mapping[str, int]) -> None:
        self.policy = policy
        self.shown = shown
        self.render_errors: dict[str, Counter[str]] = {}  # step -> "render_error: <text>" -> messages
        self.render_error_of: dict[tuple[str, int, str], str] = {}  # (profile, entry, step) -> that text
        self.delayed: Counter[str] = Counter()  # step -> messages released after quiet hours
        self.queued_at: dict[str, dt.datetime] = {}  # message key -> when quiet hours first held it

    def prepare(self, profiles: Iterable[str], at: dt.datetime) -> None:
        self.policy.prepare(profiles, at)

    def decide(self, request: MessageRequest) -> Decision:
        decision = self.policy.decide(request)
        if decision.outcome == "queued":
            # held again at its release (back-to-back windows): the first time stays
            if not request.released and request.instance.profile in self.shown:
                self.queued_at[request.key] = request.at
            return decision
        if request.released:
            self.delayed[request.step.id] += 1
        if decision.reason == "render_error":
            instance = request.instance
            text = f"render_error: {(decision.message or {}).get('error') or 'the render failed'}"
            self.render_errors.setdefault(request.step.id, Counter())[text] += 1
            if instance.profile in self.shown:
                self.render_error_of[instance.profile, instance.entry, request.step.id] = text
        return decision


@dataclass(frozen=True)
class DryRun:
    journey: Journey
    report: dict[str, Any]  # §7.1's JSON object, datetimes formatted
    state: tuple[Any, ...] = ()  # the store and the profiles, for a caller that would rather not free them
    warnings: tuple[str, ...] = ()  # what was read with a fallback (an invalid zone), for stderr


def dry_run(inputs: ProjectInputs, journey_id: str, options: DryRunOptions, *, wall_now: dt.datetime,
            progress: Callable[[int], None] | None = None) -> DryRun:
    """Run `journey_id` over the options' profiles and events, to the horizon."""
    journey = inputs.journey(journey_id)
    reason = _NEEDS_STORE.get(journey.entry.type)
    if reason is not None and options.store is None:
        raise JoError(f"journey {journey_id}: {reason}: a dry-run of it needs a read-only run store "
                      "(--store or JO_STORE)")
    profiles_path = options.profiles
    if options.max_rejected is not None:
        reader = inputs.read_profiles(profiles_path)
        rejected = count_rejects(reader.path, reader.schema, shown=reader.shown, identity=reader.identity,
                                 zone=reader.zone, zone_field=reader.zone_field, stop_above=options.max_rejected)
        if rejected > options.max_rejected:
            raise JoError(f"{reader.shown}: more than {options.max_rejected} rows are rejected "
                          f"(--max-rejected {options.max_rejected}); nothing was run")
    reader = inputs.read_profiles(profiles_path, keep=inputs.profile_fields(journey_id))
    rejects: list[dict[str, Any]] = []
    profiles = MemoryProfiles.from_rows(_counted(reader, progress), identity=inputs.identity,
                                        zone_field=reader.zone_field, on_reject=_keep(rejects))
    store = ShowingStore(options.show)
    state: Any = store if options.store is None else _FromStore(
        store, _open_read_only(options.store), exits_active=journey.entry.force_reentrance)
    event_counts = EventCounts()
    if options.events is not None:
        shown_events = _as_typed(options.events)
        for item in counted(inputs.read_events(options.events, shown=shown_events), event_counts):
            if isinstance(item, Event):
                store.push([item])
            elif len(rejects) < KEPT_REJECTS:
                rejects.append({"file": item.file, "line": item.line, "reason": item.reason})
    # Whole seconds, as the engine's timeline ticks (`--now` with a fraction, or the wall clock).
    now = (options.now or _first_event(store, journey) or wall_now).replace(microsecond=0)
    if not durations.on_timeline(now):
        raise JoError(f"--now {format_datetime(now)} is out of range: jo simulates {durations.timeline_text()}")
    # Past the timeline's end nothing can run: a later horizon (`--for P99999999D`) stops there.
    horizon = min(options.until or durations.later(now, options.duration or DEFAULT_HORIZON), durations.LATEST)
    if horizon < now:
        raise JoError(f"the horizon {format_datetime(horizon)} is before --now {format_datetime(now)}")
    delivery = ShownMessages(store.shown)
    shown = store.shown
    wanted = None if options.render_all else (lambda request: request.instance.profile in shown)
    tree = WorkingTree(inputs.root)
    renderer = TemplateRender(lambda journey_id, version: tree, wanted=wanted)
    counters = MemoryRuleCounters() if options.store is None else _SentFromStore(state.state.store)
    policy = WatchedPolicy(message_policy(inputs.index.config, counters=counters, project_zone=inputs.zone,
                                          zone_of=profiles.zone, render=renderer, status="would_send", keep=wanted),
                           store.shown)
    audience_rejects = _AudienceRejects(inputs.audiences_read(journey_id), rejects)
    audiences = inputs.audience_definitions(known=profiles.rows, on_reject=audience_rejects)
    engine = memory_engine([journey], profiles=profiles, audiences=audiences, zone=inputs.zone,
                           store=state, clock=FixedClock(wall_now), fires=SingleFire(fire_time(journey, now)),
                           policy=policy, delivery=delivery)
    notes: list[str] = []
    try:
        if isinstance(state, _FromStore) and journey.entry.type == "audience-qualification":
            if state.state.members(f"qualification:{journey.id}") is None:  # the engine's snapshot key
                notes.append(f"the run store has no earlier evaluation of `{journey.entry.audience}` for "
                             f"{journey.id}: this one only records who is in it (AJO), so nobody enters")
            # Membership is evaluated at --now against the store's last snapshot, as a pass at --now would.
            engine.run_until(now, qualify=True)
        engine.run_until(horizon, qualify=False)
    finally:
        if isinstance(state, _FromStore):
            state.state.store.close()
    counts = count_journey(journey, step_counts=store.step_counts, instances=store.instances,
                           discards=store.discards)
    report = _report(journey, counts, store, delivery, policy, profiles, reader, event_counts, rejects,
                     audience_rejects.count, now=now, horizon=horizon,
                     rendered="all" if options.render_all else "shown")
    return DryRun(journey, report, (store, profiles, engine), (*_zone_warnings(reader, profiles), *notes))


def _zone_warnings(reader: Any, profiles: MemoryProfiles) -> tuple[str, ...]:
    """§5.1: a row naming an invalid zone is read in the project zone "with a warning": the first few rows,
    then how many more."""
    lines = [str(invalid_zone(reader.shown, line, reader.zone_field, name, reader.zone))
             for line, name in profiles.invalid_zone_rows]
    more = profiles.invalid_zones - len(lines)
    if more > 0:
        lines.append(f"{reader.shown}: {more:,} more row{'s' if more != 1 else ''} with an invalid zone, read in "
                     f"the project zone {reader.zone.key}")
    return tuple(lines)


def _counted(reader: Any, progress: Callable[[int], None] | None) -> Any:
    """The reader's items, telling `progress` every 10,000 rows (the reader itself when nobody listens)."""
    if progress is None:
        return reader
    return _reporting(reader, progress)


def _reporting(reader: Any, progress: Callable[[int], None]) -> Any:
    for number, item in enumerate(reader, 1):
        yield item
        if number % 10_000 == 0:
            progress(number)


def _keep(rejects: list[dict[str, Any]]) -> Callable[[Reject], None]:
    def keep(reject: Reject) -> None:
        if len(rejects) < KEPT_REJECTS:
            rejects.append({"file": reject.file, "line": reject.line, "reason": _reason(reject)})
    return keep


class _AudienceRejects:
    """The rejected rows of the uploaded audiences the journey reads (repeats, identities no profile has),
    kept with the profile and event rejects; those of audiences it does not read are not its business."""

    def __init__(self, names: set[str], rejects: list[dict[str, Any]]) -> None:
        self.names = names
        self.keep = _keep(rejects)
        self.count = 0

    def __call__(self, audience: str, reject: Reject) -> None:
        if audience in self.names:
            self.count += 1
            self.keep(reject)


def _reason(reject: Reject) -> str:
    return f"{reject.column}: {reject.reason}" if reject.column is not None else reject.reason


def _first_event(store: MemoryStore, journey: Journey) -> dt.datetime | None:
    if journey.entry.type != "event":
        return None
    return store.next_event_time()


def _as_typed(path: Path) -> str:
    """A file named on the command line, as the user would type it (relative to the working directory)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# ---------------------------------------------------------------- the JSON object


def _report(journey: Journey, counts: JourneyCounts, store: ShowingStore, delivery: ShownMessages,
            policy: WatchedPolicy, profiles: MemoryProfiles, reader: Any, event_counts: EventCounts,
            rejects: list[dict[str, Any]], audience_rejects: int, *,
            now: dt.datetime, horizon: dt.datetime, rendered: str) -> dict[str, Any]:
    consumed = sum(1 for r in store.event_results if r.result == "consumed")
    event_discards: dict[str, int] = {}
    for result in store.event_results:
        if result.result == "discarded" and result.reason:
            event_discards[result.reason] = event_discards.get(result.reason, 0) + 1
    steps = steps_json(journey, counts, delayed=policy.delayed)
    sent_to = {message["profile"] for message in delivery.messages}
    rows = {identity: index for index, identity in enumerate(profiles.identities()) if identity in sent_to} \
        if sent_to else {}
    order = {step_id: index for index, step_id in enumerate(journey.steps)}
    messages = sorted(delivery.messages, key=lambda m: (m["at"], rows.get(m["profile"], 0), order.get(m["step"], 0)))
    return {
        "kind": "journey", "id": journey.id, "version": journey.version,
        "now": format_datetime(now), "horizon": format_datetime(horizon), "rendered": rendered,
        "profiles": {"read": reader.read, "rejected": reader.rejected, "entered": counts.entered,
                     "discarded": _nonzero(counts.discarded)},
        "events": {"read": event_counts.read, "rejected": event_counts.rejected, "consumed": consumed,
                   "discarded": _nonzero(event_discards)},
        "audiences": {"rejected": audience_rejects},
        "steps": steps,
        "ended": _nonzero(counts.ended),
        "waiting": _nonzero(counts.waiting),
        "reasons": count_reasons(journey, step_counts=store.step_counts, excluded=policy.render_errors),
        "messages": [shape_message(m, policy.queued_at) for m in messages],
        "paths": _paths(store, policy.render_error_of),
        "uncovered": [f"{step_id}.{outcome}" for step_id, step_counts in steps.items()
                      for outcome, number in step_counts.get("paths", {}).items() if number == 0],
        "rejected_rows": rejects,
    }


def _paths(store: ShowingStore, render_errors: Mapping[tuple[str, int, str], str]) -> list[dict[str, Any]]:
    """The shown instances' steps: [step, at, outcome], and the detail when there is one (an error's text,
    an exclusion's reason, `render_error: <text>`, `quiet_hours` for a message held)."""
    by_instance: dict[tuple[str, int], list[list[str]]] = {}
    for event in store.steps:
        taken = [event.step, format_datetime(event.at), event.outcome]
        detail = event.detail
        if detail == "render_error" and event.outcome == "excluded":
            detail = render_errors.get((event.profile, event.entry, event.step), detail)
        if detail is not None and not event.exited:
            taken.append(detail)
        by_instance.setdefault((event.profile, event.entry), []).append(taken)
    paths: list[dict[str, Any]] = []
    for instance in store.instances:
        if instance.profile not in store.shown:
            continue
        path: dict[str, Any] = {"profile": instance.profile, "entry": instance.entry}
        if instance.end is not None:
            path.update(status="ended", end=instance.end)
        else:
            path.update(status="waiting", step=instance.step)
        path["steps"] = by_instance.get((instance.profile, instance.entry), [])
        paths.append(path)
    return paths


def _nonzero(counts: Mapping[str, int]) -> dict[str, int]:
    return {key: value for key, value in sorted(counts.items()) if value}


def parse_when(text: str, *, option: str, zone: Any) -> dt.datetime:
    """A command-line date-time; without an offset, a wall time in the project zone."""
    from jo_cli.expr.runtime import resolve_local

    parsed = schedule.parse_datetime(text)
    if parsed is None:
        raise JoError(f"{option}: {text!r} is not an ISO 8601 date-time like 2026-12-01T09:00:00Z")
    try:
        return (resolve_local(parsed, zone) if parsed.tzinfo is None else parsed).astimezone(dt.UTC)
    except OverflowError:  # a wall time at the calendar's very end has no instant
        raise JoError(f"{option}: {text!r} is out of range: jo simulates {durations.timeline_text()}") from None


def parse_for(text: str) -> dt.timedelta:
    value = durations.parse_duration(text)
    if value is None or value <= dt.timedelta(0):
        raise JoError(f"--for: {text!r} is not a positive exact ISO 8601 duration like P30D or PT12H")
    return value


