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


def start_instances(store: SqliteStore, rows: Sequence[InstanceRow], names: Mapping[tuple[str, int], Names]) -> None:
    """Insert new instances with their first steps, in key order (inside `store.write()`)."""
    # The instances of one fire mostly share their first steps: each history list is packed once.
    packed: dict[tuple[int, dt.datetime], bytes] = {}
    times: dict[dt.datetime | None, int | None] = {None: None}  # and each instant converted once
    store.executemany(
        "INSERT INTO instances (journey, profile, entry, version, seq, entered_at, step, wake_at, wake_kind, "
        "ended_at, end_code, history) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (_values(row, names[row.journey, row.version], packed, times)
         for row in sorted(rows, key=lambda r: (r.journey, r.profile, r.entry))))


def _values(row: InstanceRow, names: Names, packed: dict[tuple[int, dt.datetime], bytes],
            times: dict[dt.datetime | None, int | None]) -> tuple[object, ...]:
    codes = names.codes
    key = (id(row.history), row.entered_at)
    history = packed.get(key)
    if history is None:
        history = packed[key] = encode_history(row.history, names, row.entered_at)
    entered, wake, ended = row.entered_at, row.wake_at, row.ended_at
    if entered not in times:
        times[entered] = seconds(entered)
    if wake not in times:
        times[wake] = seconds(wake)  # type: ignore[arg-type]
    if ended not in times:
        times[ended] = seconds(ended)  # type: ignore[arg-type]
    return (row.journey, row.profile, row.entry, row.version, row.seq, times[entered],
            None if row.step is None else codes[row.step], times[wake],
            None if row.wake_kind is None else _WAKE_CODES[row.wake_kind], times[ended],
            None if row.end is None else codes[row.end], history)


def instances_of(store: SqliteStore, journey: str, version: int | None = None) -> Iterator[InstanceRow]:
    """Every instance of a journey (of one version), decoded, in key order."""
    where, params = ("journey = ?", (journey,)) if version is None else ("journey = ? AND version = ?",
                                                                          (journey, version))
    cache: dict[int, Names] = {}
    for (profile, entry, number, seq, entered, step, wake, kind, ended, end, history) in store.execute(
            "SELECT profile, entry, version, seq, entered_at, step, wake_at, wake_kind, ended_at, end_code, history "
            f"FROM instances WHERE {where} ORDER BY journey, profile, entry", params):
        names = cache.get(number) or cache.setdefault(number, Names.of(store, journey, number))
        entered_at = instant(entered) or dt.datetime.min
        yield InstanceRow(journey, profile, entry, number, seq, entered_at,
                          None if step is None else names.names[step], instant(wake),
                          None if kind is None else WAKE_KINDS[kind], instant(ended),
                          None if end is None else names.names[end],
                          list(decode_history(bytes(history), names, entered_at)))


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
