"""`jo run-batch` as a library: one pass of the engine over the run store, up to `now` (SPEC §7.3, §7.4).

The pass resolves the published versions once (the live version of each id
takes new entries; older versions with active instances run on), reads the
profile source and the project's audiences, decides the due fires of every
audience journey (`fires.py`: catch-up, lateness, skips, recorded first),
and runs the same engine as a dry-run over the SQLite state store, in chunks
of profiles. Each chunk is one transaction holding its instances, their step
history, the outbox rows of the messages they created, the capping counts,
the entry and discard counts and the fire's progress: a pass killed at any
instruction is resumed by the next one, which repeats and loses nothing.

The caller holds the run lock and writes the `runs` row; this module
returns the §7.3 summary (without `run` and `locked`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jo_cli import fires as planner
from jo_cli import schedule
from jo_cli.assembly import TemplateRender, message_policy
from jo_cli.data.csv_reader import count_rejects
from jo_cli.engine.engine import Engine
from jo_cli.engine.files import FrozenFiles
from jo_cli.engine.memory import Audiences, DryRunActions, FixedClock, MemoryProfiles
from jo_cli.engine.model import Journey, compile_journey
from jo_cli.engine.ports import AudienceFailure, Changes, Discard, FireRecord, Ports
from jo_cli.engine.project import ProjectInputs
from jo_cli.errors import JoError
from jo_cli.expr.runtime import format_datetime
from jo_cli.store import SqliteStore
from jo_cli.store.runs import open_fires
from jo_cli.store.sends import StoreRuleCounters
from jo_cli.store.state import SqliteStateStore
from jo_cli.store.versions import Version, known_ids, version_document, version_files, versions_of

CHUNK = 5_000  # profiles per unit of work (one transaction) of a fire or a wake-up


@dataclass(frozen=True)
class RunOptions:
    now: dt.datetime
    only: frozenset[str] = frozenset()
    profiles: Path | None = None  # the profile source (default: jo.yaml's profiles.source)
    max_rejected: int | None = None
    chunk: int = CHUNK


@dataclass
class Tally:
    """What the pass's commits did, counted as each one lands (the §7.3 summary)."""

    entered: int = 0
    discarded: Counter[str] = field(default_factory=Counter)
    ended: Counter[str] = field(default_factory=Counter)
    created: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    events: dict[tuple[int, str], tuple[str, str | None]] = field(default_factory=dict)
    fires: dict[tuple[str, dt.datetime], FireRecord] = field(default_factory=dict)

    def add(self, changes: Changes) -> None:
        self.entered += len(changes.started)
        self.discarded.update(discard.reason for discard in changes.discards)
        self.ended.update(instance.end for instance in changes.instances.values() if instance.end is not None)
        self.created += len(changes.messages)
        for _, _, _, _, groups in changes.steps:
            for _, outcome, detail, exited, instances in groups:
                if outcome == "excluded" and not exited:
                    self.excluded[detail or "excluded"] += len(instances)
        for result in changes.event_results:
            self.events[result.event, result.journey or ""] = (result.result, result.reason)
        for record in changes.fires:
            if record.status != "claimed":
                self.fires[record.journey, record.at] = record


class CountingStore:
    """The SQLite state store, every commit counted in a `Tally` once it is in (and `progress` told)."""

    def __init__(self, state: SqliteStateStore, tally: Tally,
                 progress: Callable[[Tally], None] | None = None) -> None:
        self.state = state
        self.tally = tally
        self.progress = progress

    def __getattr__(self, name: str) -> Any:
        return getattr(self.state, name)

    def commit(self, changes: Changes) -> None:
        self.state.commit(changes)
        self.tally.add(changes)
        if self.progress is not None:
            self.progress(self.tally)


class _Committed:
    """Delivery in run-batch: the outbox row committed with the state is the message; channels deliver from
    the outbox (`jo outbox export` today; SMTP and webhooks with the delivery issue)."""

    def submit(self, message: Mapping[str, Any]) -> None:
        pass


class _NotLive:
    """Jumps to an id with no live version (closed, stopped, or never published): the profile does not enter,
    and the target records the discard `no_live_version` (§12: a jump's failures are discards in the target),
    in the origin's unit of work. An id never published is filed under version 0."""

    def __init__(self, store: SqliteStore, changes: Callable[[], Changes]) -> None:
        self.store = store
        self.changes = changes
        self._latest: dict[str, int] = {}

    def jump(self, journey: str, profile: str, payload: Mapping[str, Any], *, at: dt.datetime, origin: str) -> None:
        version = self._latest.get(journey)
        if version is None:
            versions = versions_of(self.store, journey)
            version = self._latest[journey] = versions[-1].version if versions else 0
        self.changes().discards.append(Discard(journey, version, profile, "no_live_version", at))


class _PlannedFires:
    """The engine's fire plan: the times this pass decided to process, per journey id (fires.py decided)."""

    def __init__(self, times: Mapping[str, list[dt.datetime]]) -> None:
        self.times = times

    def due(self, journey: Any, *, after: dt.datetime | None, until: dt.datetime) -> list[dt.datetime]:
        return [at for at in self.times.get(journey.id, ()) if at <= until]


class _Book:
    """The project's audiences, where an uploaded list that could not be read fails the fires that read it."""

    def __init__(self, book: Audiences, broken: Mapping[str, str]) -> None:
        self.book = book
        self.broken = broken

    def members(self, name: str, at: dt.datetime) -> Sequence[str]:
        if name in self.broken:
            raise AudienceFailure(self.broken[name])
        return self.book.members(name, at)

    def contains(self, name: str, identity: str, profile: Mapping[str, Any] | None, at: dt.datetime) -> bool:
        return name not in self.broken and self.book.contains(name, identity, profile, at)


@dataclass(frozen=True)
class _Loaded:
    journeys: list[Journey]
    live: dict[str, int]  # id -> its live version
    versions: dict[str, list[Version]]  # id -> every version, oldest first
    documents: dict[tuple[str, int], dict[str, Any]]  # every version's, read once for the pass
    # With --only: the live versions of the other ids its journeys jump to (and those jump to in turn). A jump
    # enters them at the origin's time (§6.4); their own fires, events and wake-ups wait for their passes.
    reachable: list[Journey] = field(default_factory=list)

    def profile_fields(self, store: SqliteStore, inputs: ProjectInputs) -> frozenset[str] | None:
        """The top-level profile fields the versions run can read (their frozen templates included), so that
        the reader keeps only those (None: all)."""
        from jo_cli.engine.fields import profile_fields

        audiences = {name: item.doc.data for name, item in inputs.index.ids("audience").items()}
        zone_field = inputs.profiles_section.get("timezone_field")
        always = (inputs.identity, zone_field if isinstance(zone_field, str) else None)
        fields: set[str] = {name for name in always if name}
        for journey in (*self.journeys, *self.reachable):
            ident, version = journey.id, journey.version
            assert version is not None
            found = profile_fields(self.documents[ident, version], root=inputs.root, audiences=audiences,
                                   channels=inputs.index.section("channels"), always=always,
                                   files=FrozenFiles(version_files(store, ident, version), f"{ident} v{version}"))
            if found is None:
                return None
            fields |= found
        return frozenset(fields)


def _load_versions(store: SqliteStore, inputs: ProjectInputs, only: frozenset[str]) -> _Loaded:
    """The journey versions this pass runs: each id's live one, and older ones with instances still active."""
    journeys: list[Journey] = []
    live: dict[str, int] = {}
    everything: dict[str, list[Version]] = {}
    documents: dict[tuple[str, int], dict[str, Any]] = {}
    for ident in sorted(known_ids(store)):
        if only and ident not in only:
            continue
        versions = versions_of(store, ident)
        if not versions or versions[0].kind != "journey":
            continue  # campaigns run with the campaigns issue
        everything[ident] = versions
        first = versions[0].published_at
        for version in versions:
            document = version_document(store, ident, version.version)
            assert document is not None
            documents[ident, version.version] = document  # the fire planner reads every version's schedule
            if version.status != "live" and version.active == 0:
                continue
            journeys.append(compile_journey(document, version=version.version, project_zone=inputs.zone,
                                            first_published=first, numeric_refs=inputs.numeric_refs))
            if version.status == "live":
                live[ident] = version.version
    reachable = _jump_targets(store, inputs, journeys, only, documents) if only else []
    return _Loaded(journeys, live, everything, documents, reachable)


def _jump_targets(store: SqliteStore, inputs: ProjectInputs, journeys: list[Journey], only: frozenset[str],
                  documents: dict[tuple[str, int], dict[str, Any]]) -> list[Journey]:
    """The live versions of the ids outside `only` that `journeys` jump to, directly or through each other."""
    found: dict[str, Journey] = {}
    todo = list(journeys)
    while todo:
        for step in todo.pop().steps.values():
            target = step.action if step.type == "jump" else None
            if target is None or target in only or target in found:
                continue
            versions = versions_of(store, target)
            live = next((v for v in versions if v.status == "live" and v.kind == "journey"), None)
            if live is None:
                continue  # no live version: the jump's entry is not made (the pass's other ids are no help)
            document = version_document(store, target, live.version)
            assert document is not None
            documents[target, live.version] = document
            found[target] = compile_journey(document, version=live.version, project_zone=inputs.zone,
                                            first_published=versions[0].published_at,
                                            numeric_refs=inputs.numeric_refs)
            todo.append(found[target])
    return list(found.values())


def _plan_fires(state: SqliteStateStore, loaded: _Loaded, inputs: ProjectInputs,
                now: dt.datetime) -> tuple[dict[str, list[dt.datetime]], list[FireRecord]]:
    """The fires to process per id (a claimed one first: a pass died in it) and the skips to record (§7.3)."""
    by_version = {(j.id, j.version): j for j in loaded.journeys}
    claimed = open_fires(state.store, list(loaded.versions), "claimed")
    failed = open_fires(state.store, list(loaded.versions), "failed")
    times: dict[str, list[dt.datetime]] = {}
    skips: list[FireRecord] = []
    last = state.last_fires(list(loaded.versions))
    for ident, versions in loaded.versions.items():
        number = loaded.live.get(ident)
        journey = by_version.get((ident, number)) if number is not None else None
        newest = versions[-1]
        # The journey's zone: the planner applies a schedule's own `timezone` over it.
        if journey is None:
            document = loaded.documents[ident, newest.version]
            entry = document.get("entry") or {}
            if entry.get("type") != "audience":
                continue
            plan, zone = entry.get("schedule"), _journey_zone(document, inputs)
        else:
            if journey.entry.type != "audience":
                continue
            plan, zone = journey.entry.schedule, journey.zone
        published = [planner.Published(v.published_at, _schedule_of(loaded.documents[ident, v.version]))
                     for v in versions]
        origin = planner.schedule_origin(published, zone=zone)
        window = (journey.start, journey.end) if journey is not None else (None, None)
        due = planner.due_fires(plan or None, zone=zone, origin=origin, last=last.get(ident), now=now,
                                live=journey is not None, window=window)
        if not plan and failed.get(ident):  # the single fire failed: retried at its own time, not at this `now`
            due = [planner.Fire(failed[ident][0], None if journey is not None else "no_live_version")]
        resumed = [at for at in claimed.get(ident, ()) if at <= now]
        times[ident] = resumed + [fire.scheduled_for for fire in due if fire.skip is None
                                  and fire.scheduled_for not in resumed]
        version = journey.version if journey is not None else newest.version
        skips.extend(FireRecord(ident, version, fire.scheduled_for, "skipped", fire.skip)
                     for fire in due if fire.skip is not None and fire.scheduled_for not in resumed)
    return times, skips


def _schedule_of(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    entry = document.get("entry") or {}
    plan = entry.get("schedule")
    return plan if isinstance(plan, dict) else None


def _journey_zone(document: Mapping[str, Any], inputs: ProjectInputs) -> Any:
    """A version's zone as its compiled journey has it: `settings.timezone`, else the project's."""
    name = (document.get("settings") or {}).get("timezone")
    return (schedule.load_zone(str(name)) if name else None) or inputs.zone


def run_pass(inputs: ProjectInputs, store: SqliteStore, options: RunOptions, *, wall_now: dt.datetime,
             run: int | None = None, progress: Callable[[Tally], None] | None = None
             ) -> tuple[dict[str, Any], list[str]]:
    """One pass up to `options.now`: the §7.3 summary (its `run` and `locked` are the caller's) and the
    problems to tell the operator (a failed fire and why)."""
    now = options.now.replace(microsecond=0)
    tally = Tally()
    state = SqliteStateStore(store, run=run, wall=lambda: wall_now)
    loaded = _load_versions(store, inputs, options.only)
    if options.max_rejected is not None:
        reader = inputs.read_profiles(options.profiles)
        rejected = count_rejects(reader.path, reader.schema, shown=reader.shown, identity=reader.identity,
                                 zone=reader.zone, zone_field=reader.zone_field, stop_above=options.max_rejected)
        if rejected > options.max_rejected:
            raise JoError(f"{reader.shown}: more than {options.max_rejected} rows are rejected "
                          f"(--max-rejected {options.max_rejected}); nothing was run")
    reader = inputs.read_profiles(options.profiles, keep=loaded.profile_fields(store, inputs))
    profiles = MemoryProfiles.from_rows(reader, identity=inputs.identity, zone_field=reader.zone_field)
    broken: dict[str, str] = {}
    definitions = inputs.audience_definitions(known=profiles.rows, failures=broken)
    counting = CountingStore(state, tally, progress)
    times, skips = _plan_fires(state, loaded, inputs, now)
    if skips:
        changes = state.changes()
        changes.fires.extend(skips)
        counting.commit(changes)
    frozen: dict[tuple[str, int | None], FrozenFiles] = {}

    def files_of(journey_id: str, version: int | None) -> FrozenFiles:
        found = frozen.get((journey_id, version))
        if found is None:
            assert version is not None
            found = frozen[journey_id, version] = FrozenFiles(version_files(store, journey_id, version),
                                                               f"{journey_id} v{version}")
        return found

    book = Audiences(definitions, profiles=profiles, views=lambda ids: ((i, profiles.get(i)) for i in ids),
                     zone=inputs.zone)
    engine: Engine
    counters = StoreRuleCounters(store, lambda: engine.changes)
    policy = message_policy(inputs.index.config, counters=counters, project_zone=inputs.zone, zone_of=profiles.zone,
                            render=TemplateRender(files_of), status="pending")
    ports = Ports(store=counting, profiles=profiles, audiences=_Book(book, broken), policy=policy,
                  delivery=_Committed(), actions=DryRunActions(), jumps=_NotLive(store, lambda: engine.changes),
                  clock=FixedClock(wall_now),
                  fires=_PlannedFires(times))
    engine = Engine(loaded.journeys, ports, live=loaded.live, chunk=options.chunk,
                    hold=_held_events(store, loaded, options.only), jump_targets=loaded.reachable)
    book.views = engine.views
    engine.run_until(now, qualify=True)
    problems = [f"fire {r.journey} at {format_datetime(r.at)} failed: {r.reason}"
                for r in tally.fires.values() if r.status == "failed"]
    return _summary(tally, reader, engine, now=now), problems


def _held_events(store: SqliteStore, loaded: _Loaded, only: frozenset[str]) -> frozenset[str] | None:
    """With `--only`: the event names this pass must leave queued for the other ids (None: a full pass)."""
    if not only:
        return None
    names: set[str] = set()
    for ident in known_ids(store) - set(loaded.versions):
        for version in versions_of(store, ident):
            document = version_document(store, ident, version.version) or {}
            names |= _listens(document)
    return frozenset(names)


def _listens(document: Mapping[str, Any]) -> set[str]:
    entry = document.get("entry") or {}
    names = {str(entry["event"])} if entry.get("event") else set()
    for step in (document.get("steps") or {}).values():
        if isinstance(step, dict) and step.get("type") == "wait-event" and step.get("event"):
            names.add(str(step["event"]))
        if isinstance(step, dict) and step.get("type") == "reaction":
            names.add(f"message_{step.get('on')}")
    return names


def _summary(tally: Tally, reader: Any, engine: Engine, *, now: dt.datetime) -> dict[str, Any]:
    fires = sorted(tally.fires.values(), key=lambda r: (r.at, r.journey))
    consumed = sum(1 for result, _ in tally.events.values() if result == "consumed")
    event_discards = Counter(reason or "discarded" for result, reason in tally.events.values()
                             if result == "discarded")
    return {
        "now": format_datetime(now),
        "profiles": {"read": reader.read, "rejected": reader.rejected},
        "fires": [{"kind": "journey", "id": r.journey, "version": r.version, "scheduled_for": format_datetime(r.at),
                   "result": "processed" if r.status == "done" else "failed"}
                  for r in fires if r.status in ("done", "failed")],
        "skipped_fires": [{"kind": "journey", "id": r.journey, "scheduled_for": format_datetime(r.at),
                           "reason": r.reason} for r in fires if r.status == "skipped"],
        "entered": tally.entered,
        "discarded": dict(sorted(tally.discarded.items())),
        "events": {"consumed": consumed, "discarded": dict(sorted(event_discards.items()))},
        "woken": engine.woken,
        "ended": dict(sorted(tally.ended.items())),
        "outbox": {"created": tally.created, "sent": 0, "failed": 0, "dead": 0,
                   "excluded": dict(sorted(tally.excluded.items()))},
    }


def failed_fires(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [fire for fire in summary["fires"] if fire["result"] == "failed"]
