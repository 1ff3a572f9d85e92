"""The engine's state port (engine/ports.py `StateStore`) over the SQLite store: the only SQL for it.

Each `commit` is one `BEGIN IMMEDIATE` transaction, so a crash keeps a unit
of work whole or not at all. An instance is one `instances` row, its step
events packed into `history` (instances.py); what is not a column (the
event payload, action responses, the keys of messages sent) is one
canonical JSON object in `state`. Values that JSON does not carry (dates,
times, durations: expressions compute them) are tagged objects
`{"$t": kind, "v": text}`, so a value read back equals the one written.

Times are whole epoch seconds, as everywhere in the store: a time with a
fraction of a second is refused (`ports.whole_seconds`), never rounded. The
history keeps a step event's detail only when it is a name (an exclusion
reason): an error's text is not kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from jo_cli.data.events import Event
from jo_cli.engine.ports import Changes, EntryState, Instance, QueuedEvent, WakeKind, whole_seconds
from jo_cli.store.instances import WAKE_KINDS, Names, StepRecord, decode_history, encode_history, last_time
from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import canonical_json, instant, seconds

_CHUNK = 500  # parameters per `IN (...)` list
_COLUMNS = "journey, profile, entry, version, seq, entered_at, step, reached_at, wake_at, wake_kind, ended_at, " \
           "end_code, state"
_WAKE_CODES = {kind: code for code, kind in enumerate(WAKE_KINDS)}
NO_JOURNEY = ""  # event_results.journey of an event no journey listens to
SNAPSHOT = ""  # audience_members.profile of the row saying a snapshot exists (an identity is never empty)


class SqliteStateStore:
    """The engine's state in a store file; a new one over the same file continues where a previous one
    committed (nothing is kept between commits but the names of versions and the next sequence number)."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self._names: dict[tuple[str, int], Names] = {}
        self._seq: int | None = None

    def names(self, journey: str, version: int | None) -> Names:
        """A published version's step and outcome codes (version_names)."""
        if version is None:
            raise ValueError(f"journey {journey}: the store keeps instances of published versions only")
        names = self._names.get((journey, version))
        if names is None:
            names = self._names[journey, version] = Names.of(self.store, journey, version)
        return names

    # ------------------------------------------------------------ reads

    def changes(self) -> Changes:
        return Changes()

    def new_seq(self) -> int:
        if self._seq is None:
            row = self.store.one("SELECT coalesce(max(seq), 0) FROM instances")
            self._seq = int(row[0]) if row else 0
        self._seq += 1
        return self._seq

    def entry_states(self, journey: str, profiles: Sequence[str]) -> dict[str, EntryState]:
        states: dict[str, EntryState] = {}
        for chunk in _chunks(profiles):
            marks = ", ".join("?" * len(chunk))
            # Rows by entry: each profile's latest comes last (pruning keeps it).
            for row in self.store.execute(f"SELECT {_COLUMNS} FROM instances WHERE journey = ? AND profile IN "
                                          f"({marks}) ORDER BY profile, entry", (journey, *chunk)):
                active = self._instance(row) if row[10] is None else None
                states[row[1]] = (row[2], _time(row[5]), active)
        return states

    def active_in(self, journey: str) -> list[Instance]:
        return [self._instance(row) for row in self.store.execute(
            f"SELECT {_COLUMNS} FROM instances WHERE journey = ? AND ended_at IS NULL ORDER BY seq", (journey,))]

    def next_wake(self) -> dt.datetime | None:
        row = self.store.one("SELECT min(wake_at) FROM instances WHERE wake_at IS NOT NULL AND ended_at IS NULL")
        return instant(row[0]) if row else None

    def wakeups(self, at: dt.datetime, kinds: tuple[WakeKind, ...]) -> list[Instance]:
        codes = ", ".join(str(_WAKE_CODES[kind]) for kind in kinds)
        return [self._instance(row) for row in self.store.execute(
            f"SELECT {_COLUMNS} FROM instances WHERE wake_at IS NOT NULL AND ended_at IS NULL AND wake_at <= ? "
            f"AND wake_kind IN ({codes}) ORDER BY wake_at, seq", (seconds(at),))]

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
                    f"SELECT id, max(scheduled_at) FROM fires WHERE status = 'done' AND id IN "
                    f"({', '.join('?' * len(chunk))}) GROUP BY id", chunk):
                found[journey] = _time(at)
        return found

    def members(self, key: str) -> frozenset[str] | None:
        profiles = [row[0] for row in self.store.execute(
            "SELECT profile FROM audience_members WHERE audience = ?", (key,))]
        if not profiles:
            return None
        return frozenset(profile for profile in profiles if profile != SNAPSHOT)

    def next_event_time(self) -> dt.datetime | None:
        row = self.store.one("SELECT min(at) FROM events WHERE done = 0")
        return instant(row[0]) if row else None

    def events_at(self, at: dt.datetime) -> list[QueuedEvent]:
        return [QueuedEvent(seq, Event(line=0, id=event_id, name=name, at=_time(when), payload=loads(payload),
                                       profile=profile))
                for seq, event_id, name, when, profile, payload in self.store.execute(
                    "SELECT seq, event_id, name, at, profile, payload FROM events WHERE done = 0 AND at <= ? "
                    "ORDER BY at, seq", (seconds(at),))]

    def _instance(self, row: Sequence[Any]) -> Instance:
        (journey, profile, entry, version, seq, entered_at, step, reached_at, wake_at, wake_kind, ended_at, end,
         state) = row
        names = self.names(journey, version)
        kept = loads(state) if state is not None else {}
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
        for profile, entry, version, entered_at, history in self.store.execute(
                "SELECT profile, entry, version, entered_at, history FROM instances WHERE journey = ? "
                "ORDER BY profile, entry", (journey,)):
            yield profile, entry, list(decode_history(bytes(history), self.names(journey, version),
                                                      _time(entered_at)))

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
        histories = self._histories(changes)
        with self.store.write() as store:
            self._write_instances(store, changes, histories)
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
            for _, _, at in changes.fires:
                whole_seconds(at)
            store.executemany(
                "INSERT INTO fires (id, scheduled_at, version, status) VALUES (?, ?, ?, 'done') "
                "ON CONFLICT (id, scheduled_at) DO UPDATE SET status = 'done'",
                ((journey, seconds(at), version) for journey, version, at in changes.fires))
            for key, members in changes.members.items():
                store.execute("DELETE FROM audience_members WHERE audience = ?", (key,))
                store.executemany("INSERT INTO audience_members (audience, profile) VALUES (?, ?)",
                                  ((key, profile) for profile in sorted({SNAPSHOT, *members})))
            store.executemany(
                "INSERT INTO event_results (seq, journey, result, reason) VALUES (?, ?, ?, ?)",
                ((r.event, r.journey or NO_JOURNEY, r.result, r.reason) for r in changes.event_results))
            store.executemany("UPDATE events SET done = 1 WHERE seq = ?", ((seq,) for seq in changes.events_done))

    def _histories(self, changes: Changes) -> dict[int, list[StepRecord]]:
        """The step events of this unit, by instance seq, in the order taken."""
        records: dict[int, list[StepRecord]] = {}
        for _, _, at, _, groups in changes.steps:
            whole_seconds(at)
            for step, outcome, detail, exited, instances in groups:
                record = StepRecord(step, outcome, at, detail, exited)
                for instance in instances:
                    records.setdefault(instance.seq, []).append(record)
        return records

    def _write_instances(self, store: SqliteStore, changes: Changes, histories: Mapping[int, list[StepRecord]]) -> None:
        new: list[tuple[Any, ...]] = []
        moved: list[tuple[Any, ...]] = []
        for seq, instance in changes.instances.items():
            for at in (instance.entered_at, instance.reached_at, instance.wake_at, instance.ended_at):
                whole_seconds(at)
            names = self.names(instance.journey, instance.version)
            columns = (None if instance.step is None else names.code(instance.step), _seconds(instance.reached_at),
                       _seconds(instance.wake_at),
                       None if instance.wake_kind is None else _WAKE_CODES[instance.wake_kind],
                       _seconds(instance.ended_at), None if instance.end is None else names.code(instance.end),
                       _state(instance))
            key = (instance.journey, instance.profile, instance.entry)
            records = histories.get(seq, ())
            if seq in changes.started:
                history = encode_history(records, names, instance.entered_at)
                new.append((*key, instance.version, seq, seconds(instance.entered_at), *columns, history))
            else:
                old = self.store.one("SELECT history FROM instances WHERE journey = ? AND profile = ? AND entry = ?",
                                     key)
                previous = bytes(old[0]) if old else b""
                since = last_time(previous, names, instance.entered_at)
                moved.append((*columns, previous + encode_history(records, names, since), *key))
        new.sort(key=lambda row: row[:3])  # in key order (reference/perf.md §4b)
        store.executemany(
            "INSERT INTO instances (journey, profile, entry, version, seq, entered_at, step, reached_at, wake_at, "
            "wake_kind, ended_at, end_code, state, history) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", new)
        store.executemany(
            "UPDATE instances SET step = ?, reached_at = ?, wake_at = ?, wake_kind = ?, ended_at = ?, end_code = ?, "
            "state = ?, history = ? WHERE journey = ? AND profile = ? AND entry = ?", moved)


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


def _seconds(at: dt.datetime | None) -> int | None:
    return None if at is None else seconds(at)


def _time(value: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]
