"""The engine's state port (engine/ports.py `StateStore`) over the SQLite store: the only SQL for it.

Each `commit` is one `BEGIN IMMEDIATE` transaction, so a crash keeps a unit
of work whole or not at all. An instance is one `instance_rows` row: its key,
seq, version and ended_at as columns, the rest one `body` (instances.py):
its fields, its step events packed, and what is not a field (the event
payload, action responses, the keys of messages sent) as one canonical JSON
object. Values that JSON does not carry (dates, times, durations:
expressions compute them) are tagged objects `{"$t": kind, "v": text}`, so
a value read back equals the one written. The instances a commit starts
alike (same steps taken, same fields) share one body built once, so a row
costs a short tuple; the ones it parks are listed in one `wakeups` row per
wake time and kind, and a wake-up read keeps those whose own row still says
so (migrations.py).

Times are whole epoch seconds, as everywhere in the store: a time with a
fraction of a second is refused (`ports.whole_seconds`), never rounded. The
history keeps a step event's detail only when it is a name (an exclusion
reason): an error's text is not kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from jo_cli import crash
from jo_cli.data.events import Event
from jo_cli.engine.ports import Changes, EntryState, FireRecord, Instance, QueuedEvent, WakeKind, whole_seconds
from jo_cli.expr.runtime import format_datetime
from jo_cli.store.instances import (
    WAKE_KINDS,
    Names,
    StepRecord,
    add_wakeups,
    decode_body,
    decode_history,
    encode_body,
    encode_history,
    insert_instances,
    journey_code,
    last_time,
)
from jo_cli.store.outbox import add_messages
from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import canonical_json, instant, seconds

_CHUNK = 500  # parameters per `IN (...)` list
_COLUMNS = "journey, profile, entry, version, seq, body"
_WAKE_CODES = {kind: code for code, kind in enumerate(WAKE_KINDS)}
NO_JOURNEY = ""  # event_results.journey of an event no journey listens to
SNAPSHOT = ""  # audience_members.profile of the row saying a snapshot exists (an identity is never empty)


class SqliteStateStore:
    """The engine's state in a store file; a new one over the same file continues where a previous one
    committed (nothing is kept between commits but the names of versions and the next sequence number)."""

    def __init__(self, store: SqliteStore, *, run: int | None = None,
                 wall: Callable[[], dt.datetime] | None = None) -> None:
        self.store = store
        self.run = run  # the runs row of the pass committing (fires.run)
        self._wall = wall or _epoch  # the processing time written beside what a commit did
        self._names: dict[tuple[str, int], Names] = {}
        self._seq: int | None = None
        self._codes: dict[str, int] = {}  # journey id -> its code (journeys), once committed
        self._ids: dict[int, str] = {}
        self._stale: set[int] = set()  # wakeups buckets a read found without a live member: deleted at commit

    def names(self, journey: str, version: int | None) -> Names:
        """A published version's step and outcome codes (version_names)."""
        if version is None:
            raise ValueError(f"journey {journey}: the store keeps instances of published versions only")
        names = self._names.get((journey, version))
        if names is None:
            names = self._names[journey, version] = Names.of(self.store, journey, version)
        return names

    def _code(self, journey: str) -> int | None:
        code = self._codes.get(journey)
        if code is None:
            code = journey_code(self.store, journey)
            if code is not None:
                self._codes[journey], self._ids[code] = code, journey
        return code

    def _journey(self, code: int) -> str:
        journey = self._ids.get(code)
        if journey is None:
            self._ids.update(self.store.execute("SELECT code, id FROM journeys"))
            journey = self._ids[code]
        return journey

    # ------------------------------------------------------------ reads

    def changes(self) -> Changes:
        return Changes()

    def new_seq(self) -> int:
        if self._seq is None:
            row = self.store.one("SELECT coalesce(max(seq), 0) FROM instance_rows")
            self._seq = int(row[0]) if row else 0
        self._seq += 1
        return self._seq

    def entry_states(self, journey: str, profiles: Sequence[str]) -> dict[str, EntryState]:
        states: dict[str, EntryState] = {}
        code = self._code(journey)
        if code is None:
            return states
        for chunk in _chunks(profiles):
            marks = ", ".join("?" * len(chunk))
            # Rows by entry: each profile's latest comes last (pruning keeps it).
            for row in self.store.execute(f"SELECT {_COLUMNS} FROM instance_rows WHERE journey = ? AND profile IN "
                                          f"({marks}) ORDER BY profile, entry", (code, *chunk)):
                instance = self._instance(row)
                states[instance.profile] = (instance.entry, instance.entered_at,
                                            instance if instance.end is None else None)
        return states

    def active_in(self, journey: str) -> list[Instance]:
        code = self._code(journey)
        if code is None:
            return []
        found = (self._instance(row) for row in self.store.execute(
            f"SELECT {_COLUMNS} FROM instance_rows WHERE journey = ? AND ended_at IS NULL ORDER BY seq", (code,)))
        return [instance for instance in found if instance.end is None]

    def next_wake(self) -> dt.datetime | None:
        for bucket, at, kind, members in self.store.execute(
                "SELECT id, wake_at, kind, members FROM wakeups ORDER BY wake_at, id").fetchall():
            if bucket not in self._stale:
                if self._due(at, kind, json.loads(members), first=True):
                    return instant(at)
                self._stale.add(bucket)
        return None

    def wakeups(self, at: dt.datetime, kinds: tuple[WakeKind, ...]) -> list[Instance]:
        codes = ", ".join(str(_WAKE_CODES[kind]) for kind in kinds)
        found: dict[int, Instance] = {}
        for bucket, when, kind, members in self.store.execute(
                f"SELECT id, wake_at, kind, members FROM wakeups WHERE wake_at <= ? AND kind IN ({codes}) "
                "ORDER BY wake_at, id", (seconds(at),)).fetchall():
            if bucket in self._stale:
                continue
            due = self._due(when, kind, json.loads(members))
            if not due:
                self._stale.add(bucket)
            for instance in due:
                found.setdefault(instance.seq, instance)
        return sorted(found.values(), key=lambda i: (i.wake_at, i.seq))

    def _due(self, at: int, kind: int, members: list[list[Any]], *, first: bool = False) -> list[Instance]:
        """The members of a wake-up bucket still parked there (their own row has its time and kind)."""
        wanted: dict[int, dict[str, set[int]]] = {}
        for code, entry, profiles in members:
            of = wanted.setdefault(code, {})
            for profile in profiles:
                of.setdefault(profile, set()).add(entry)
        due: list[Instance] = []
        wake, wake_kind = instant(at), WAKE_KINDS[kind]
        for code, entries in wanted.items():
            for chunk in _chunks(list(entries)):
                for row in self.store.execute(
                        f"SELECT {_COLUMNS} FROM instance_rows WHERE journey = ? AND profile IN "
                        f"({', '.join('?' * len(chunk))}) AND ended_at IS NULL", (code, *chunk)):
                    if row[2] not in entries[row[1]]:
                        continue
                    instance = self._instance(row)
                    if instance.end is None and instance.wake_at == wake and instance.wake_kind == wake_kind:
                        due.append(instance)
                if first and due:
                    return due
        return due

    def overlays(self, profiles: Sequence[str]) -> dict[str, Mapping[str, tuple[Any, Any]]]:
        found: dict[str, dict[str, tuple[Any, Any]]] = {}
        for chunk in _chunks(profiles):
            for profile, field, value, source in self.store.execute(
                    f"SELECT profile, field, value, source_value FROM overlay WHERE profile IN "
                    f"({', '.join('?' * len(chunk))}) ORDER BY profile, field", chunk):
                found.setdefault(profile, {})[field] = (loads(value), loads(source))
        return dict(found)

    def counters(self, names: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(names):
            found.update(self.store.execute(
                f"SELECT name, value FROM counters WHERE name IN ({', '.join('?' * len(chunk))})", chunk))
        return found

    def last_fires(self, journeys: Sequence[str]) -> dict[str, dt.datetime]:
        found: dict[str, dt.datetime] = {}
        for chunk in _chunks(journeys):
            for journey, at in self.store.execute(
                    f"SELECT id, max(scheduled_at) FROM fires WHERE status IN ('done', 'skipped') AND id IN "
                    f"({', '.join('?' * len(chunk))}) GROUP BY id", chunk):
                found[journey] = _time(at)
        return found

    def fire_progress(self, journey: str, at: dt.datetime) -> FireRecord | None:
        row = self.store.one("SELECT version, status, reason, members, cursor, entered FROM fires WHERE id = ? AND "
                             "scheduled_at = ?", (journey, seconds(at)))
        if row is None:
            return None
        version, status, reason, position, last, entered = row
        return FireRecord(journey, version, at, status, reason, position or 0, last, entered or 0)

    def takes_entries(self, journey: str, version: int | None) -> bool:
        row = self.store.one("SELECT status FROM versions WHERE id = ? AND version = ?", (journey, version))
        return row is not None and row[0] == "live"

    def members(self, key: str) -> frozenset[str] | None:
        profiles = [row[0] for row in self.store.execute(
            "SELECT profile FROM audience_members WHERE audience = ?", (key,))]
        if not profiles:
            return None
        return frozenset(profile for profile in profiles if profile != SNAPSHOT)

    def next_event_time(self, after: dt.datetime | None = None) -> dt.datetime | None:
        row = self.store.one("SELECT min(at) FROM events WHERE done = 0 AND at > ?",
                             (-(2**62) if after is None else seconds(after),))
        return instant(row[0]) if row else None

    def events_at(self, at: dt.datetime) -> list[QueuedEvent]:
        due = [(seq, Event(line=0, id=event_id, name=name, at=_time(when), payload=loads(payload), profile=profile))
               for seq, event_id, name, when, profile, payload in self.store.execute(
                   "SELECT seq, event_id, name, at, profile, payload FROM events WHERE done = 0 AND at <= ? "
                   "ORDER BY at, seq", (seconds(at),))]
        results: dict[int, dict[str, str | None]] = {}
        if due:  # what a pass cut short did with them already
            for seq, journey, result, reason in self.store.execute(
                    "SELECT r.seq, r.journey, r.result, r.reason FROM event_results r JOIN events e ON e.seq = r.seq "
                    "WHERE e.done = 0 AND e.at <= ?", (seconds(at),)):
                results.setdefault(seq, {})[journey] = None if result == "consumed" else reason
        return [QueuedEvent(seq, event, results.get(seq, {})) for seq, event in due]

    def _instance(self, row: Sequence[Any]) -> Instance:
        code, profile, entry, version, seq, body = row
        journey = self._journey(code)
        names = self.names(journey, version)
        entered_at, step, reached_at, wake_at, wake_kind, ended_at, end, state, _ = decode_body(bytes(body))
        kept = loads(state.decode()) if state else {}
        instance = Instance(seq=seq, journey=journey, version=version, profile=profile, entry=entry,
                            entered_at=_time(entered_at), event=kept.get("event"))
        instance.step = None if step is None else names.names[step]
        instance.reached_at, instance.wake_at = instant(reached_at), instant(wake_at)
        instance.wake_kind = None if wake_kind is None else WAKE_KINDS[wake_kind]
        if "actions" in kept:
            instance.actions = kept["actions"]
        if "messages" in kept:
            instance.messages = kept["messages"]
        instance.end, instance.ended_at = (None if end is None else names.names[end]), instant(ended_at)
        return instance

    def histories(self, journey: str) -> Iterator[tuple[str, int, list[StepRecord]]]:
        """(profile, entry, step events) of every instance of a journey id, in key order."""
        code = self._code(journey)
        if code is None:
            return
        for profile, entry, version, body in self.store.execute(
                "SELECT profile, entry, version, body FROM instance_rows WHERE journey = ? ORDER BY profile, entry",
                (code,)):
            entered_at, *_, history = decode_body(bytes(body))
            yield profile, entry, list(decode_history(history, self.names(journey, version), _time(entered_at)))

    # ------------------------------------------------------------ writes

    def push(self, events: Iterable[Event], *, at: dt.datetime) -> int:
        """Queue events (`jo events push`) at wall time `at`; returns how many (a repeated event id: once)."""
        rows = []
        for event in events:
            whole_seconds(event.at)
            rows.append((event.id, event.name, seconds(event.at), event.profile, dumps(event.payload), seconds(at)))
        with self.store.write():
            before = self.store.connection.total_changes
            self.store.executemany("INSERT INTO events (event_id, name, at, profile, payload, queued_at) "
                                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING", rows)
            return self.store.connection.total_changes - before

    def commit(self, changes: Changes) -> None:
        crash.point("commit.before")
        histories = self._histories(changes)
        codes: dict[str, int] = {}
        with self.store.write() as store:
            self._write_instances(store, changes, histories, codes)
            if self._stale:
                store.executemany("DELETE FROM wakeups WHERE id = ?", ((bucket,) for bucket in self._stale))
            store.executemany(
                "INSERT INTO discards (journey, version, reason, count) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (journey, version, reason) DO UPDATE SET count = count + 1",
                ((d.journey, d.version, d.reason) for d in changes.discards))
            store.executemany("INSERT INTO counters (name, value) VALUES (?, ?) "
                              "ON CONFLICT (name) DO UPDATE SET value = excluded.value", changes.counters.items())
            store.executemany(
                "INSERT INTO overlay (profile, field, value, source_value) VALUES (?, ?, ?, ?) ON CONFLICT "
                "(profile, field) DO UPDATE SET value = excluded.value, source_value = excluded.source_value",
                ((profile, field, dumps(value), dumps(source)) for profile, values in changes.overlays.items()
                 for field, (value, source) in values.items()))
            for record in changes.fires:
                whole_seconds(record.at)
            store.executemany(
                "INSERT INTO fires (id, scheduled_at, version, run, status, reason, members, entered, cursor, done_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id, scheduled_at) DO UPDATE SET "
                "version = excluded.version, run = excluded.run, status = excluded.status, reason = excluded.reason, "
                "members = excluded.members, entered = excluded.entered, cursor = excluded.cursor, "
                "done_at = excluded.done_at",
                ((r.journey, seconds(r.at), r.version, self.run, r.status, r.reason, r.position, r.entered, r.last,
                  None if r.status == "claimed" else seconds(self._wall())) for r in changes.fires))
            for key, members in changes.members.items():
                store.execute("DELETE FROM audience_members WHERE audience = ?", (key,))
                store.executemany("INSERT INTO audience_members (audience, profile) VALUES (?, ?)",
                                  ((key, profile) for profile in sorted({SNAPSHOT, *members})))
            store.executemany(
                "INSERT INTO event_results (seq, journey, result, reason) VALUES (?, ?, ?, ?) ON CONFLICT (seq, "
                "journey) DO UPDATE SET result = excluded.result, reason = excluded.reason",
                ((r.event, r.journey or NO_JOURNEY, r.result, r.reason) for r in changes.event_results))
            if changes.messages:
                add_messages(store, (_formatted(m) for m in changes.messages), created_at=self._wall())
            for _, _, at, _ in changes.sends:
                whole_seconds(at)
            store.executemany("INSERT INTO sends (profile, channel, at, key) VALUES (?, ?, ?, ?) ON CONFLICT DO "
                              "NOTHING", ((p, c, seconds(at), k) for p, c, at, k in changes.sends))
            crash.point("commit.inside")
            store.executemany("UPDATE events SET done = 1 WHERE seq = ?", ((seq,) for seq in changes.events_done))
        self._stale.clear()
        for journey, code in codes.items():
            self._codes[journey], self._ids[code] = code, journey
        crash.point("commit.after")

    def _histories(self, changes: Changes) -> dict[int, tuple[StepRecord, ...]]:
        """The step events of this unit, by instance seq, in the order taken: instances that took the same
        steps share one tuple (a wave's instances mostly do), so their history is packed once."""
        records: dict[int, tuple[StepRecord, ...]] = {}
        shared: dict[tuple[int, int], tuple[StepRecord, ...]] = {}
        nothing: tuple[StepRecord, ...] = ()
        for _, _, at, _, groups in changes.steps:
            whole_seconds(at)
            for step, outcome, detail, exited, instances in groups:
                record = StepRecord(step, outcome, at, detail, exited)
                last: tuple[StepRecord, ...] | None = None
                then = nothing
                for instance in instances:
                    before = records.get(instance.seq, nothing)
                    if before is not last:
                        key = (id(before), id(record))
                        then = shared.get(key) or shared.setdefault(key, (*before, record))
                        last = before
                    records[instance.seq] = then
        return records

    def _write_instances(self, store: SqliteStore, changes: Changes, histories: Mapping[int, tuple[StepRecord, ...]],
                         codes: dict[str, int]) -> None:
        """New instances as rows in key order (the body of those alike built once), moved ones rewritten with
        their history appended; each parked one a member of its commit's bucket in `wakeups`."""
        new: list[tuple[Any, ...]] = []
        ended: list[tuple[Any, ...]] = []
        moved: list[tuple[Any, ...]] = []
        # Of the instances alike (same history tuple, fields, entry): one body, and the profiles parked together.
        alike: dict[tuple[Any, ...], tuple[bytes, list[str] | None]] = {}
        wakeups: dict[tuple[int, int], list[list[Any]]] = {}
        started = changes.started
        nothing: tuple[StepRecord, ...] = ()
        for seq, instance in changes.instances.items():
            journey = instance.journey
            code = self._codes.get(journey) or codes.get(journey)
            if code is None:
                code = codes[journey] = journey_code(store, journey, create=True) or 0
            records = histories.get(seq, nothing)
            profile, entry = instance.profile, instance.entry
            if seq in started and instance.event is None and not instance.actions and not instance.messages:
                key = (id(records), journey, entry, instance.version, instance.entered_at, instance.step,
                       instance.reached_at, instance.wake_at, instance.wake_kind, instance.ended_at, instance.end)
                found = alike.get(key)
                if found is None:
                    body = self._body(instance, encode_history(records, self.names(journey, instance.version),
                                                               instance.entered_at))
                    found = alike[key] = (body, self._bucket(wakeups, instance, code))
                body, parked = found
                if parked is not None:
                    parked.append(profile)
                if instance.end is None:
                    new.append((code, profile, entry, seq, instance.version, body))
                else:
                    ended.append((code, profile, entry, seq, instance.version, body, _ended(instance)))
                continue
            if seq in started:
                body = self._body(instance, encode_history(records, self.names(journey, instance.version),
                                                           instance.entered_at))
                row = (code, profile, entry, seq, instance.version, body)
                (new.append(row) if instance.end is None else ended.append((*row, _ended(instance))))
            else:
                moved.append(self._moved(store, code, instance, records))
            parked = self._bucket(wakeups, instance, code)
            if parked is not None:
                parked.append(profile)
        # In key order (reference/perf.md §4b); rows never tie on their key, so the tuples sort without a key.
        new.sort()
        ended.sort()
        insert_instances(store, new, ended, {})
        store.executemany("UPDATE instance_rows SET body = ?, ended_at = ? WHERE journey = ? AND profile = ? AND "
                          "entry = ?", moved)
        add_wakeups(store, wakeups)

    @staticmethod
    def _bucket(wakeups: dict[tuple[int, int], list[list[Any]]], instance: Instance, code: int) -> list[str] | None:
        """The profiles list of the group [journey code, entry, profiles] in the commit's wake-up bucket of a
        parked instance (None when it is not parked)."""
        if instance.end is not None or instance.wake_at is None or instance.wake_kind is None:
            return None
        profiles: list[str] = []
        wakeups.setdefault((seconds(instance.wake_at), _WAKE_CODES[instance.wake_kind]), []).append(
            [code, instance.entry, profiles])
        return profiles

    def _body(self, instance: Instance, history: bytes) -> bytes:
        for at in (instance.entered_at, instance.reached_at, instance.wake_at, instance.ended_at):
            whole_seconds(at)
        names = self.names(instance.journey, instance.version)
        state = _state(instance)
        return encode_body(seconds(instance.entered_at), None if instance.step is None else names.code(instance.step),
                           _seconds(instance.reached_at), _seconds(instance.wake_at),
                           None if instance.wake_kind is None else _WAKE_CODES[instance.wake_kind],
                           _seconds(instance.ended_at), None if instance.end is None else names.code(instance.end),
                           b"" if state is None else state.encode(), history)

    def _moved(self, store: SqliteStore, code: int, instance: Instance,
               records: Sequence[StepRecord]) -> tuple[Any, ...]:
        names = self.names(instance.journey, instance.version)
        key = (code, instance.profile, instance.entry)
        old = store.one("SELECT body FROM instance_rows WHERE journey = ? AND profile = ? AND entry = ?", key)
        previous = decode_body(bytes(old[0]))[8] if old else b""
        since = last_time(previous, names, instance.entered_at)
        body = self._body(instance, previous + encode_history(records, names, since))
        return (body, None if instance.end is None else _ended(instance), *key)


def discard_counts(store: SqliteStore) -> dict[tuple[str, int, str], int]:
    """Entries refused, by (journey, version, reason)."""
    return {(journey, version, reason): count for journey, version, reason, count in store.execute(
        "SELECT journey, version, reason, count FROM discards ORDER BY journey, version, reason")}


# ---------------------------------------------------------------- values as canonical JSON


def dumps(value: Any) -> str:
    return canonical_json(_tagged(value))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text, object_hook=_untagged)


def _tagged(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _tagged(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_tagged(item) for item in value]
    if isinstance(value, dt.datetime):
        return {"$t": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$t": "date", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$t": "duration", "v": value // dt.timedelta(microseconds=1)}
    return value


def _untagged(data: dict[str, Any]) -> Any:
    kind = data.get("$t")
    if kind is None or len(data) != 2 or "v" not in data:
        return data
    if kind == "datetime":
        return dt.datetime.fromisoformat(data["v"])
    if kind == "date":
        return dt.date.fromisoformat(data["v"])
    if kind == "duration":
        return dt.timedelta(microseconds=data["v"])
    return data


def _state(instance: Instance) -> str | None:
    kept: dict[str, Any] = {} if instance.event is None else {"event": instance.event}
    if instance.actions:
        kept["actions"] = instance.actions
    if instance.messages:
        kept["messages"] = instance.messages
    return dumps(kept) if kept else None


def _formatted(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message object as the outbox keeps it: `at` as §0 formats times."""
    at = message.get("at")
    return {**message, "at": format_datetime(at)} if isinstance(at, dt.datetime) else dict(message)


def _epoch() -> dt.datetime:
    """A commit's wall time when the caller gave no clock (tests): the epoch, never the real clock (§0)."""
    return dt.datetime.fromtimestamp(0, dt.UTC)


def _ended(instance: Instance) -> int:
    """instance_rows.ended_at of an ended instance (its entry time if it has no end time)."""
    return seconds(instance.ended_at or instance.entered_at)


def _seconds(at: dt.datetime | None) -> int | None:
    return None if at is None else seconds(at)


def _time(value: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]
