"""Instances and their step history in the store: one row per instance, its history packed inside it.

The history of an instance is what `jo report` counts and `jo status` shows,
and at 10M instances a row per step would be most of a run's writes
(reference/perf.md §4f, §5: a compact path per state row halves the store).
So each instance row carries its steps as a byte string of unsigned LEB128
varints, one record per step taken: step code, outcome code, flags (1: the
instance exited while parked there; 2: a detail code follows), the detail
code, and the seconds since the previous record (the first: since entry).
Codes index the version's `version_names` (its step ids and path names,
then VOCABULARY), written at publish.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from jo_cli.engine.ports import WakeKind
from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import instant, seconds

# Outcomes, exclusion and exit reasons every version can name (after its own step ids and path names).
VOCABULARY = (
    "next", "otherwise", "timeout", "on_error", "over_cap", "complement", "sent", "queued", "excluded", "error",
    "end", "no_path", "exit_when", "journey_ended", "forced_reentrance", "stopped", "quiet_hours",
    "unknown_profile", "no_consent", "no_address", "capped", "render_error", "suppressed", "duplicate",
)
_EXITED, _DETAIL = 1, 2
WAKE_KINDS: tuple[WakeKind, ...] = ("wake", "release", "timeout", "expire")  # instances.wake_kind codes
_WAKE_CODES = {kind: code for code, kind in enumerate(WAKE_KINDS)}


@dataclass(frozen=True, slots=True)
class StepRecord:
    step: str
    outcome: str
    at: dt.datetime
    detail: str | None = None
    exited: bool = False


@dataclass(slots=True)
class InstanceRow:
    """An instance as the store keeps it."""

    journey: str
    profile: str
    entry: int
    version: int
    seq: int
    entered_at: dt.datetime
    step: str | None = None
    wake_at: dt.datetime | None = None
    wake_kind: WakeKind | None = None  # one of WAKE_KINDS while parked
    ended_at: dt.datetime | None = None
    end: str | None = None
    history: list[StepRecord] = field(default_factory=list)


class Names:
    """A version's codes: name <-> small integer."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.codes = {name: code for code, name in enumerate(self.names)}

    @classmethod
    def of(cls, store: SqliteStore, journey: str, version: int) -> Names:
        rows = store.execute("SELECT name FROM version_names WHERE id = ? AND version = ? ORDER BY code",
                             (journey, version)).fetchall()
        return cls([row[0] for row in rows])

    def code(self, name: str) -> int:
        code = self.codes.get(name)
        if code is None:
            raise KeyError(f"`{name}` is not a step, path or outcome of this version")
        return code


def encode_history(records: Iterable[StepRecord], names: Names, entered_at: dt.datetime) -> bytes:
    out = bytearray()
    previous = seconds(entered_at)
    for record in records:
        detail = names.codes.get(record.detail) if record.detail is not None else None
        flags = (_EXITED if record.exited else 0) | (_DETAIL if detail is not None else 0)
        at = seconds(record.at)
        values = [names.code(record.step), names.code(record.outcome), flags]
        if detail is not None:
            values.append(detail)
        values.append(at - previous)
        previous = at
        for value in values:
            _varint(out, value)
    return bytes(out)


def decode_history(data: bytes, names: Names, entered_at: dt.datetime) -> Iterator[StepRecord]:
    values = _varints(data)
    at = seconds(entered_at)
    for step in values:
        outcome, flags = next(values), next(values)
        detail = names.names[next(values)] if flags & _DETAIL else None
        at += next(values)
        yield StepRecord(names.names[step], names.names[outcome], instant(at) or entered_at, detail,
                         bool(flags & _EXITED))


def last_time(data: bytes, names: Names, entered_at: dt.datetime) -> dt.datetime:
    """The time of a history's last record (`entered_at` when it has none): where a record appended counts from."""
    last = entered_at
    for record in decode_history(data, names, entered_at):
        last = record.at
    return last


def journey_code(store: SqliteStore, journey: str, *, create: bool = False) -> int | None:
    """The small integer that stands for a journey id in `instance_rows` (`journeys`); None when it has none
    and not `create` (inside `store.write()` when `create`)."""
    row = store.one("SELECT code FROM journeys WHERE id = ?", (journey,))
    if row is not None:
        return int(row[0])
    if not create:
        return None
    code = store.execute("INSERT INTO journeys (id) VALUES (?)", (journey,)).lastrowid
    assert code is not None
    return code


def encode_body(entered_at: int, step: int | None, reached_at: int | None, wake_at: int | None,
                wake_kind: int | None, ended_at: int | None, end: int | None, state: bytes, history: bytes) -> bytes:
    """An instance row's `body`: its fields as varints (a missing one 0, a present one its value + 1; the entry
    time as is), the length of `state`, `state` (canonical JSON, UTF-8) and the packed step history."""
    out = bytearray()
    _varint(out, entered_at)
    for value in (step, reached_at, wake_at, wake_kind, ended_at, end):
        _varint(out, 0 if value is None else value + 1)
    _varint(out, len(state))
    out += state
    out += history
    return bytes(out)


Body = tuple[int, "int | None", "int | None", "int | None", "int | None", "int | None", "int | None", bytes, bytes]


def decode_body(data: bytes) -> Body:
    """(entered_at, step, reached_at, wake_at, wake_kind, ended_at, end, state, history) of a `body`."""
    values: list[int] = []
    value = shift = position = 0
    while len(values) < 8:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        values.append(value)
        value = shift = 0
    entered, step, reached, wake, kind, ended, end, length = values
    return (entered, _less(step), _less(reached), _less(wake), _less(kind), _less(ended), _less(end),
            data[position:position + length], data[position + length:])


def _less(value: int) -> int | None:
    return None if value == 0 else value - 1


def insert_instances(store: SqliteStore, rows: Sequence[tuple[object, ...]], ended: Sequence[tuple[object, ...]],
                     wakeups: Mapping[tuple[int, int], list[list[object]]]) -> None:
    """New instance rows, in key order: (journey code, profile, entry, seq, version, body) while active, with
    ended_at after them once ended; and one `wakeups` bucket per (wake time, kind code) of their members
    (groups [journey code, entry, [profile, ...]]). Inside `store.write()`."""
    store.executemany("INSERT INTO instance_rows (journey, profile, entry, seq, version, body) "
                      "VALUES (?, ?, ?, ?, ?, ?)", rows)
    store.executemany("INSERT INTO instance_rows (journey, profile, entry, seq, version, body, ended_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)", ended)
    add_wakeups(store, wakeups)


def add_wakeups(store: SqliteStore, wakeups: Mapping[tuple[int, int], list[list[object]]]) -> None:
    store.executemany("INSERT INTO wakeups (wake_at, kind, members) VALUES (?, ?, ?)",
                      ((at, kind, json.dumps(members, separators=(",", ":"), ensure_ascii=False))
                       for (at, kind), members in sorted(wakeups.items())))


def start_instances(store: SqliteStore, rows: Sequence[InstanceRow], names: Mapping[tuple[str, int], Names]) -> None:
    """Insert new instances with their first steps, in key order (inside `store.write()`)."""
    # The instances of one fire mostly share their first steps: each history list is packed once.
    packed: dict[tuple[object, ...], bytes] = {}
    codes: dict[str, int] = {}
    active: list[tuple[object, ...]] = []
    ended: list[tuple[object, ...]] = []
    wakeups: dict[tuple[int, int], list[list[object]]] = {}
    for row in sorted(rows, key=lambda r: (r.journey, r.profile, r.entry)):
        code = codes.get(row.journey)
        if code is None:
            code = codes[row.journey] = journey_code(store, row.journey, create=True) or 0
        key = (id(row.history), row.version, row.entered_at, row.step, row.wake_at, row.wake_kind, row.ended_at,
               row.end)
        body = packed.get(key)
        if body is None:
            own = names[row.journey, row.version]
            body = packed[key] = encode_body(
                seconds(row.entered_at), None if row.step is None else own.code(row.step), None,
                None if row.wake_at is None else seconds(row.wake_at),
                None if row.wake_kind is None else _WAKE_CODES[row.wake_kind],
                None if row.ended_at is None else seconds(row.ended_at),
                None if row.end is None else own.code(row.end), b"",
                encode_history(row.history, own, row.entered_at))
        values = (code, row.profile, row.entry, row.seq, row.version, body)
        if row.ended_at is not None:
            ended.append((*values, seconds(row.ended_at)))
            continue
        active.append(values)
        if row.wake_at is not None and row.wake_kind is not None:
            wakeups.setdefault((seconds(row.wake_at), _WAKE_CODES[row.wake_kind]), []).append(
                [code, row.entry, [row.profile]])
    insert_instances(store, active, ended, wakeups)


def instances_of(store: SqliteStore, journey: str, version: int | None = None) -> Iterator[InstanceRow]:
    """Every instance of a journey (of one version), decoded, in key order."""
    code = journey_code(store, journey)
    if code is None:
        return
    where, params = ("journey = ?", (code,)) if version is None else ("journey = ? AND version = ?",
                                                                       (code, version))
    cache: dict[int, Names] = {}
    for profile, entry, number, seq, body in store.execute(
            f"SELECT profile, entry, version, seq, body FROM instance_rows WHERE {where} ORDER BY profile, entry",
            params):
        names = cache.get(number) or cache.setdefault(number, Names.of(store, journey, number))
        entered, step, _, wake, kind, ended, end, _, history = decode_body(bytes(body))
        entered_at = instant(entered) or dt.datetime.min
        yield InstanceRow(journey, profile, entry, number, seq, entered_at,
                          None if step is None else names.names[step], instant(wake),
                          None if kind is None else WAKE_KINDS[kind], instant(ended),
                          None if end is None else names.names[end],
                          list(decode_history(history, names, entered_at)))


def _varint(out: bytearray, value: int) -> None:
    if value < 0:
        raise ValueError("history times go forward")
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _varints(data: bytes) -> Iterator[int]:
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        yield value
        value = shift = 0
