"""The journey engine: one timeline of fires, events and wake-ups in logical time (SPEC §6.2, §6.3).

`Engine.run_until(now)` is one pass: it processes everything due at or
before `now`, one logical time T at a time, in §6.3's order at T:

0. journeys whose entry window ends at T: active instances exit (`journey_ended`);
1. events at T (by `at`, then push order): a waiting instance takes it, else an entry;
2. audience fires at T (by journey id; members in source row order);
3. audience-qualification changes (only at the pass's `now`);
4. wake-ups at T other than timeouts (waits, quiet-hours releases), by entry sequence;
5. events at T no journey took yet, matched against instances that reached a wait at T;
6. timeouts at T (wait-event, reaction, the P91D instance lifetime).

Steps 4-6 repeat until nothing moves. All state lives in the store, so a
run stopped at any time and resumed with the same store ends in the same
state as one run to the same horizon.

Every change is collected in `self.changes` (reads look there before the
store) and handed to `store.commit` at the end of each piece of work: one
event's offers, one fire or qualification with its entries, one wave of
wake-ups, a resumed wait, each with the jump entries it made. An instance
taken from the store to run is changed there only when it parks or ends,
so a crash between commits leaves it parked as before, to be woken again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from jo_cli.durations import EARLIEST, LATEST
from jo_cli.engine.model import Journey, Step, field_value
from jo_cli.engine.ports import (
    EARLY_WAKES,
    LATE_WAKES,
    AudienceFailure,
    Discard,
    EntryState,
    EventResult,
    FireRecord,
    Instance,
    Ports,
    QueuedEvent,
)
from jo_cli.engine.steps import Wave
from jo_cli.expr.runtime import EvalContext

_PLACE = operator.attrgetter("journey", "version", "step")
NO_TAKER = ""  # QueuedEvent.results' key for "no journey listens to it"
READ_CHUNK = 1000  # profiles per batch read of entry states and overlays
_Overlay = Mapping[str, tuple[Any, Any]]


class Engine:
    """Runs journeys (several versions per id; the highest given version of an id is live)."""

    def __init__(self, journeys: Sequence[Journey], ports: Ports, *,
                 live: Mapping[str, int | None] | None = None, chunk: int | None = None,
                 hold: frozenset[str] | None = None, jump_targets: Sequence[Journey] = ()) -> None:
        self.ports = ports
        # Live versions of ids this engine does not run that its jumps enter all the same (a pass over some
        # journeys only): a jump is its origin's work, at its time (§6.4).
        self.jump_targets = {journey.id: journey for journey in jump_targets}
        # A pass over some journeys only (`run-batch --only`): events named here (other journeys listen to
        # them) are offered to these journeys but stay queued for the others; events nobody here listens to
        # are left alone. None: every journey is here.
        self.hold = hold
        self.chunk = chunk  # profiles per unit of work of a fire or a wake-up (None: each whole)
        self.woken = 0  # wake-ups processed (run-batch's summary)
        self.versions: dict[tuple[str, int | None], Journey] = {(j.id, j.version): j for j in journeys}
        self.live: dict[str, Journey] = {}
        for journey in sorted(journeys, key=lambda j: (j.id, j.version or 0)):
            self.live[journey.id] = journey
        if live is not None:
            self.live = {jid: self.versions[jid, version] for jid, version in live.items()}
        self.ids = sorted({j.id for j in journeys})
        self.names: dict[str, frozenset[str]] = {jid: frozenset() for jid in self.ids}
        for journey in journeys:  # every version's: instances of an old one still wait for their events
            self.names[journey.id] |= journey.listens_to
        self._jumps: list[tuple[Journey, str, dict[str, Any], dt.datetime]] = []
        self._offered: list[int] = []  # the events offered at the current time
        self._fires: dict[str, list[dt.datetime]] = {}
        self._ends: dict[tuple[str, int | None], dt.datetime] = {}
        self.changes = ports.store.changes()
        # The hot path of every entry and wake-up (ports are fixed for the engine's life).
        self._source = ports.profiles
        self._row = ports.profiles.get
        self._overlays = ports.store.overlays
        self._zone_in = ports.profiles.zone_in
        self._new_seq = ports.store.new_seq

    # ------------------------------------------------------------ the timeline

    def run_until(self, now: dt.datetime, *, qualify: bool = True) -> None:
        """Process every fire, event and wake-up due at or before `now` (one pass).

        Logical times stay on jo's timeline (durations.EARLIEST to LATEST, whole seconds): `now` is brought
        onto it (a fraction dropped), and anything due before its start runs at its start, so that no step
        computes past the calendar's end.
        """
        now = min(max(now, EARLIEST), LATEST).replace(microsecond=0)  # the timeline ticks in whole seconds
        store = self.ports.store
        audience = [j for j in self.live.values() if j.entry.type == "audience"]
        last = store.last_fires([j.id for j in audience])
        self._fires = {j.id: self.ports.fires.due(j, after=last.get(j.id), until=now) for j in audience}
        qualification = qualify and any(j.entry.type == "audience-qualification" for j in self.live.values())
        self._ends = self._window_ends(now)
        held: dt.datetime | None = None  # with `hold`: events up to here stay queued for another pass
        while True:
            times = [t for t in (store.next_event_time(held), store.next_wake(), *self._ends.values(),
                                 *(fires[0] for fires in self._fires.values() if fires)) if t is not None and t <= now]
            if qualification:
                times.append(now)
            if not times:
                return
            at = max(min(times), EARLIEST)
            self._process(at, qualification=qualification and at == now)
            if self.hold is not None:
                held = at
            if at == now:
                qualification = False

    def _window_ends(self, now: dt.datetime) -> dict[tuple[str, int | None], dt.datetime]:
        """Versions whose entry window ends by `now`. Their instances may enter during this pass, so each
        end is a time to visit; visiting one again in a later pass finds nothing to do (no entry after it)."""
        return {key: journey.end for key, journey in self.versions.items()
                if journey.end is not None and journey.end <= now}

    def _process(self, at: dt.datetime, *, qualification: bool) -> None:
        self._end_windows(at)
        leftovers = self._events(at)
        for journey_id in self.ids:
            fires = self._fires.get(journey_id)
            while fires and fires[0] <= at:
                self._fire(self.live[journey_id], fires.pop(0))
        if qualification:
            for journey_id in self.ids:
                journey = self.live.get(journey_id)
                if journey is not None and journey.entry.type == "audience-qualification":
                    self._qualify(journey, at)
        while True:
            moved = self._wake(at, EARLY_WAKES)
            moved |= self._rematch(leftovers, at)
            moved |= self._wake(at, LATE_WAKES)
            if not moved:
                break
        self._close_events()
        self.commit()

    def commit(self) -> None:
        """Hand the changes made since the last commit to the store, as one unit (the messages they created
        with them: the outbox rows), then the messages to delivery."""
        changes = self.changes
        if changes:
            self.ports.store.commit(changes)
            self.changes = self.ports.store.changes()
            submit = self.ports.delivery.submit
            for message in changes.messages:
                submit(message)

    # ------------------------------------------------------------ instances

    def finish(self, instance: Instance, end: str, at: dt.datetime) -> None:
        instance.end = end
        instance.ended_at = at
        instance.wake_at = instance.wake_kind = None
        self.changes.save(instance)

    def exit_parked(self, instance: Instance, reason: str, at: dt.datetime) -> None:
        """An instance parked on a step exits: a step event on that step, then the end."""
        assert instance.step is not None
        self.changes.record_steps(instance.journey, instance.version, at, self.ports.clock.wall(),
                                  [(instance.step, reason, None, True, [instance])])
        self.finish(instance, reason, at)

    def view(self, identity: str) -> dict[str, Any] | None:
        """The profile as steps read it: the source row, with update-profile's overlay where the source
        still holds the value it had when the overlay was written (§6.4)."""
        return self._view(identity, self._overlays((identity,)).get(identity))

    def views(self, identities: Iterable[str]) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """`view` of each profile, in order, the overlays read a chunk at a time (an audience's read)."""
        view = self._view
        for chunk in _chunks(identities, READ_CHUNK):
            overlays = self._overlays(chunk)
            if overlays:
                for identity in chunk:
                    yield identity, view(identity, overlays.get(identity))
            else:  # the common case: no update-profile step wrote to these
                for identity in chunk:
                    yield identity, view(identity, None)

    def _view(self, identity: str, stored: _Overlay | None) -> dict[str, Any] | None:
        """`view` with the overlay the store holds already read (`stored`); this unit's writes go over it."""
        row = self._row(identity)
        return None if row is None else self._over(identity, row, stored)

    def _over(self, identity: str, row: dict[str, Any], stored: _Overlay | None) -> dict[str, Any]:
        """`_view` of the source row `row`."""
        written = self.changes.overlays.get(identity) if self.changes.overlays else None
        overlay = stored if written is None else {**(stored or {}), **written}
        if not overlay:
            return row
        merged = _deep_copy(row)
        for name, (value, source_value) in overlay.items():
            if field_value(row, name) == source_value:
                _set(merged, name, value)
        return merged

    def update_profile(self, instance: Instance, values: Mapping[str, Any]) -> None:
        row = self.ports.profiles.get(instance.profile) or {}
        written = {name: (value, field_value(row, name)) for name, value in values.items()}
        self.changes.write_overlay(instance.profile, written)
        instance.data = self.view(instance.profile)

    def _load(self, instance: Instance, journey: Journey, overlay: _Overlay | None) -> bool:
        """Read the profile for a run of `instance` (`overlay`: the store's); False when it is gone from the
        source."""
        if instance.read_from is self._source and overlay is None and not self.changes.overlays:
            return True  # read from this very source when it entered or last woke, and nothing written over it
        identity = instance.profile
        row = self._row(identity)
        if row is None:
            instance.data = instance.read_from = None
            return False
        instance.data = self._over(identity, row, overlay)
        instance.zone = self._zone_in(identity, row) if journey.use_profile_timezone else None
        instance.read_from = self._source
        return True

    # ------------------------------------------------------------ entries (§6.2)

    def enter(self, journey: Journey, identity: str, at: dt.datetime, event: dict[str, Any] | None,
              stored: EntryState | None, overlay: _Overlay | None, *, in_window: bool) -> Instance | None:
        """Apply the entry rules in order to the profile's entry state (`stored`: the store's, this unit's
        changes go over it; `in_window`: the journey's at `at`); the new instance, or None with the discard
        recorded."""
        state = self.changes.entry_state(journey.id, identity) or stored
        reason = None
        row = self._row(identity)
        if row is None:
            reason = "unknown_profile"
        elif not in_window:
            reason = "outside_window"
        elif state is not None and state[2] is not None:
            reason = "already_in_journey"
        elif state is not None and not journey.reentrance_allowed:
            reason = "reentrance_not_allowed"
        elif state is not None and at - state[1] < journey.reentrance_wait:
            reason = "reentrance_wait"
        if reason is not None:
            self.changes.discards.append(Discard(journey.id, journey.version, identity, reason, at))
            return None
        instance = Instance(seq=self._new_seq(), journey=journey.id, version=journey.version,
                            profile=identity, entry=(state[0] if state else 0) + 1, entered_at=at, event=event)
        self.changes.start(instance)
        assert row is not None
        instance.data = self._over(identity, row, overlay)
        instance.zone = self._zone_in(identity, row) if journey.use_profile_timezone else None
        instance.read_from = self._source
        return instance

    def _entering(self, journey: Journey, identities: Iterable[str], at: dt.datetime,
                  event: dict[str, Any] | None = None) -> Wave:
        """A wave of the profiles that pass the entry rules, their states read a chunk at a time (`entered`:
        how many)."""
        wave = Wave(self, journey, at)
        store, first, in_window = self.ports.store, journey.entry.next, journey.in_window(at)
        for chunk in _chunks(identities, READ_CHUNK):
            states = {} if self.changes.holds(store) else store.entry_states(journey.id, chunk)
            overlays = self._overlays(chunk)
            for identity in chunk:
                instance = self.enter(journey, identity, at, event, states.get(identity), overlays.get(identity),
                                      in_window=in_window)
                if instance is not None:
                    wave.entered += 1
                    wave.add(first, instance)
        return wave

    def _enter_all(self, journey: Journey, identities: Iterable[str], at: dt.datetime,
                   event: dict[str, Any] | None = None) -> int:
        """Enter the profiles that pass the entry rules and run them; how many entered."""
        wave = self._entering(journey, identities, at, event)
        self._run(wave)
        return wave.entered

    def _run(self, wave: Wave) -> None:
        """Run a wave, then the jump entries it made (at the same logical time: first in, first entered)."""
        wave.run()
        while self._jumps:
            target, identity, payload, at = self._jumps.pop(0)
            self._entering(target, [identity], at, payload).run()

    def jump(self, target: str, instance: Instance, payload: dict[str, Any], at: dt.datetime) -> None:
        journey = self.live.get(target) or self.jump_targets.get(target)
        if journey is None:
            self.ports.jumps.jump(target, instance.profile, payload, at=at, origin=instance.journey)
        else:
            self._jumps.append((journey, instance.profile, payload, at))

    def _fire(self, journey: Journey, at: dt.datetime) -> None:
        """One fire of an audience entry, its members entered a chunk at a time (`self.chunk`), each chunk one
        commit with the fire's progress: a fire cut short by a crash is resumed after the last member it
        committed (found again in the audience as read at the rerun), never entered twice."""
        record = self.ports.store.fire_progress(journey.id, at)
        if record is not None and record.status in ("done", "skipped"):
            return  # a pass that died after its commit did it (a failed one is tried again)
        if record is None or record.status != "claimed":
            record = FireRecord(journey.id, journey.version, at, "claimed")
        if not journey.in_window(at):  # a fire outside the entry window is skipped (§7.3), not a discard per member
            self.changes.fires.append(FireRecord(journey.id, journey.version, at, "skipped", "outside_window"))
            self.commit()
            return
        assert journey.entry.audience is not None
        try:
            members = self.ports.audiences.members(journey.entry.audience, at)
        except AudienceFailure as failure:  # a bad uploaded audience fails its fire only; a later pass retries
            self.changes.fires.append(FireRecord(journey.id, journey.version, at, "failed", failure.message))
            self.commit()
            return
        snapshot = None
        if journey.entry.incremental:
            key = f"fire:{journey.id}"
            previous = self.members(key)
            snapshot = frozenset(members)
            if previous is not None:
                members = [identity for identity in members if identity not in previous]
        start = 0
        if record.position:
            start = _resume_at(members, record)
        elif journey.entry.force_reentrance:
            for instance in self.active_in(journey.id):
                self.exit_parked(instance, "forced_reentrance", at)
        size = self.chunk or max(len(members) - start, 1)
        for begin in range(start, len(members), size):
            if begin > start and not self.ports.store.takes_entries(journey.id, journey.version):
                break  # closed (or stopped) since the pass began: the members not entered yet stay out
            chunk = members[begin:begin + size]
            record.entered += self._enter_all(journey, chunk, at)
            record.position, record.last = begin + len(chunk), chunk[-1]
            if begin + size < len(members):
                self.changes.fires.append(dataclasses.replace(record))  # its progress so far
                self.commit()
        record.status = "done"
        self.changes.fires.append(record)
        if snapshot is not None:
            self.changes.members[f"fire:{journey.id}"] = snapshot
        self.commit()

    def active_in(self, journey: str) -> list[Instance]:
        """Every active instance of journey id `journey`, this unit's changes included, by entry sequence."""
        found = {instance.seq: instance for instance in self.ports.store.active_in(journey)}
        for instance in self.changes.changed_in(journey):
            if instance.end is None:
                found[instance.seq] = instance
            else:
                found.pop(instance.seq, None)
        return sorted(found.values(), key=operator.attrgetter("seq"))

    def members(self, key: str) -> frozenset[str] | None:
        written = self.changes.members.get(key)
        return written if written is not None else self.ports.store.members(key)

    def counter(self, name: str) -> int:
        """A counter's value, this unit's bumps included."""
        value = self.changes.counters.get(name)
        return value if value is not None else self.ports.store.counters((name,)).get(name, 0)

    def _qualify(self, journey: Journey, at: dt.datetime) -> None:
        """Entries for profiles whose membership changed since this journey's previous evaluation."""
        assert journey.entry.audience is not None
        members = self.ports.audiences.members(journey.entry.audience, at)
        key = f"qualification:{journey.id}"
        previous = self.members(key)
        self.changes.members[key] = frozenset(members)
        if previous is None:
            self.commit()
            return  # the first evaluation only records the membership (AJO)
        if journey.entry.on == "enter":
            changed = [identity for identity in members if identity not in previous]
        else:
            current = set(members)
            order = {identity: index for index, identity in enumerate(self.ports.profiles.identities())
                     if identity in previous and identity not in current}
            changed = sorted(order, key=order.__getitem__) + sorted(
                identity for identity in previous if identity not in current and identity not in order)
        self._enter_all(journey, changed, at)
        self.commit()

    def _end_windows(self, at: dt.datetime) -> None:
        for key, end in list(self._ends.items()):
            if end <= at:
                del self._ends[key]
                for instance in self.active_in(key[0]):
                    if instance.version == key[1]:
                        self.exit_parked(instance, "journey_ended", at)
        self.commit()

    # ------------------------------------------------------------ wake-ups

    def _wake(self, at: dt.datetime, kinds: tuple[Any, ...]) -> bool:
        """The instances due at `at` with one of `kinds`, a chunk at a time (`self.chunk`), each chunk's waves
        committed: a chunk cut short leaves its instances parked, due again."""
        due = self.ports.store.wakeups(at, kinds)
        self.woken += len(due)
        size = self.chunk or max(len(due), 1)
        for begin in range(0, len(due), size):
            self._wake_chunk(due[begin:begin + size], at)
        return bool(due)

    def _wake_chunk(self, due: list[Instance], at: dt.datetime) -> None:
        overlays = self._overlays([instance.profile for instance in due]) if due else {}
        waves: dict[tuple[str, int | None], Wave] = {}
        for (journey_id, version, step_id), group in itertools.groupby(due, key=_PLACE):  # in order, by runs
            journey = self.versions[journey_id, version]
            step = journey.steps[step_id]
            wave = waves.get((journey_id, version))
            if wave is None:
                wave = waves[journey_id, version] = Wave(self, journey, at)
            onward = None  # the wake-up's "next", looked up once per run of instances
            for instance in group:
                kind = instance.wake_kind
                instance.wake_at = instance.wake_kind = None
                if kind == "expire":
                    self.exit_parked(instance, "timeout", at)
                elif not self._load(instance, journey, overlays.get(instance.profile)):
                    self.exit_parked(instance, "unknown_profile", at)
                elif kind == "release":
                    wave.released.add(instance.seq)
                    wave.add(step.id, instance)
                elif kind == "timeout":
                    wave.take(instance, step, "timeout", step.timeout_next or step.next)
                else:
                    if onward is None:
                        onward = wave.mover(step, "next", step.next)
                    onward(instance)
        for wave in waves.values():
            self._run(wave)
            self.commit()  # a wave with its exits and jump entries (the instances of the next: still parked)
        self.commit()

    # ------------------------------------------------------------ events

    def _events(self, at: dt.datetime) -> list[list[Any]]:
        """Offer each event at `at` to every journey listening; what no journey took is left over.

        Each event's results commit with what its offers did: `consumed`, or `discarded` with the reason it
        was left over (provisional: a rematch at step 5 may still consume it). The event is done only when
        `_close_events` has settled them, so a pass cut short offers it again to the journeys that have no
        result yet and keeps the others' leftovers.
        """
        leftovers: list[list[Any]] = []
        self._offered = []
        for queued in self.ports.store.events_at(at):
            takers = [jid for jid in self.ids if queued.event.name in self.names[jid]]
            if self.hold is not None and not takers:
                continue  # another pass's (--only): neither offered nor done here
            if self.hold is None or queued.event.name not in self.hold:
                self._offered.append(queued.seq)
            done = queued.results
            if not takers:
                if NO_TAKER not in done:
                    self.changes.event_results.append(EventResult(queued.seq, queued.event.name, None, "discarded",
                                                                  "no_journey"))
                leftovers.append([queued, None, "no_journey"])
            for journey_id in takers:
                if journey_id in done:
                    if done[journey_id] is not None:
                        leftovers.append([queued, journey_id, done[journey_id]])
                    continue
                reason = self._offer(journey_id, queued, at)
                if reason is not None:
                    leftovers.append([queued, journey_id, reason])
                    result = EventResult(queued.seq, queued.event.name, journey_id, "discarded", reason)
                else:
                    result = EventResult(queued.seq, queued.event.name, journey_id, "consumed")
                self.changes.event_results.append(result)
            self.commit()  # the event's results with what its offers did
        return leftovers

    def _offer(self, journey_id: str, queued: QueuedEvent, at: dt.datetime) -> str | None:
        """Give one event to one journey: None when taken, else why not (for the leftover)."""
        event = queued.event
        if event.profile is not None and self._resume_on_event(journey_id, queued, at):
            return None
        live = self.live.get(journey_id)
        entry = live.entry if live is not None else None
        if live is None or entry is None or entry.event != event.name:
            return "no_journey"
        if entry.type == "business-event":
            if not live.in_window(at):
                return "outside_window"
            assert entry.audience is not None
            self._enter_all(live, self.ports.audiences.members(entry.audience, at), at, event.payload)
            return None
        if event.profile is None:
            return "no_journey"
        if entry.where is not None:
            profile = self.view(event.profile)
            ctx = EvalContext(now=at, zone=live.zone)
            if entry.where(profile, event.payload, ctx) is not True:
                return "where_false"
        self._enter_all(live, [event.profile], at, event.payload)
        return None

    def _resume_on_event(self, journey_id: str, queued: QueuedEvent, at: dt.datetime,
                         reached: dt.datetime | None = None) -> bool:
        """A profile's instance waiting for this event takes it and goes on."""
        event = queued.event
        assert event.profile is not None
        state = self.changes.entry_state(journey_id, event.profile) \
            or self.ports.store.entry_states(journey_id, (event.profile,)).get(event.profile)
        instance = state[2] if state is not None else None
        if instance is None or instance.step is None or instance.wake_kind not in ("timeout", "expire"):
            return False
        if reached is not None and instance.reached_at != reached:
            return False
        journey = self.versions[instance.journey, instance.version]
        step = journey.steps[instance.step]
        if instance.reached_at is None or event.at < instance.reached_at or not self._matches(step, instance, event):
            return False
        if not self._load(instance, journey, self._overlays((instance.profile,)).get(instance.profile)):
            return False
        if step.type == "wait-event" and step.where is not None:  # `where` reads the arriving event
            context = Wave(self, journey, at).context(step).bind(instance)
            if step.where(instance.data, event.payload, context) is not True:
                return False
        instance.wake_at = instance.wake_kind = None
        if step.type == "wait-event":
            instance.event = event.payload
        wave = Wave(self, journey, at)
        wave.take(instance, step, "next", step.next)
        self._run(wave)
        return True

    @staticmethod
    def _matches(step: Step, instance: Instance, event: Any) -> bool:
        if step.type == "wait-event":
            return bool(event.name == step.event)
        if step.type != "reaction" or event.name != f"message_{step.reaction_on}":
            return False
        sent = instance.messages.get(step.reaction_to or "")
        key = event.payload.get("key")
        return sent is not None and (key is None or key == sent)

    def _rematch(self, leftovers: list[list[Any]], at: dt.datetime) -> bool:
        """§6.3 step 5: events at T nobody took, against instances that reached a wait at T (their `reached_at`
        says so: the store's, so a rerun finds the same ones)."""
        moved = False
        for item in leftovers:
            queued, journey_id, reason = item
            if journey_id is None or queued.event.profile is None or reason is None:
                continue
            if self._resume_on_event(journey_id, queued, at, reached=at):
                item[2] = None
                self.changes.event_results.append(EventResult(queued.seq, queued.event.name, journey_id, "consumed"))
                self.commit()
                moved = True
        return moved

    def _close_events(self) -> None:
        """The events offered at this time are done: each leftover's discard was written with its offer, and
        one a rematch consumed was rewritten then."""
        self.changes.events_done.extend(self._offered)
        self._offered = []


def _resume_at(members: Sequence[str], record: FireRecord) -> int:
    """Where a fire cut short goes on: after the last member it committed, found in the audience as read now
    (members may have come or gone since), else at the position it had reached."""
    if record.position <= len(members) and members[record.position - 1] == record.last:
        return record.position
    try:
        return members.index(record.last or "") + 1
    except ValueError:
        return min(record.position, len(members))


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# ---------------------------------------------------------------- dotted profile fields


def _set(data: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = name.split(".")
    for part in parents:
        child = data.get(part)
        if not isinstance(child, dict):
            child = data[part] = {}
        data = child
    data[last] = value


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in data.items()}
