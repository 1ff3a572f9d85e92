"""Reading events from JSON Lines (SPEC §5.3): the envelope, typed payloads, located rejects.

Each non-blank line is one event `{"id"?, "event", "at", "payload"}`. A line
that cannot be an event (bad JSON, an unknown name, a payload failing its
event's schema, ...) becomes an `EventReject` with its 1-based line number;
the reader goes on. A file that is not UTF-8 text (invalid bytes, a NUL byte)
stops the read with `JoError` (exit 2). Lines are read with a bound, so an
over-long line costs at most `MAX_LINE_BYTES` of memory and is rejected.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, AnyStr, NoReturn, cast
from zoneinfo import ZoneInfo

from jsonschema import Draft7Validator, SchemaError
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.exceptions import Unresolvable

from jo_cli import durations
from jo_cli.errors import JoError
from jo_cli.expr.runtime import EvalError, parse_date, parse_datetime
from jo_cli.schema.formats import format_checker
from jo_cli.suggest import did_you_mean

MAX_LINE_BYTES = 1024 * 1024
ENVELOPE_KEYS = ("id", "event", "at", "payload")
REACTION_EVENTS = ("message_opened", "message_clicked")
# Built-in reactions (§5.3): `key` names the message; a dry-run may leave it out.
REACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"profile": {"type": "string", "minLength": 1}, "key": {"type": "string", "minLength": 1}},
    "required": ["profile"],
}
_BOM = "\ufeff"
_SHOWN_CHARS = 60  # longest user text quoted in a reason
_REASON_CHARS = 300


@dataclass(frozen=True, slots=True)
class Event:
    """One accepted event: `at` is aware UTC; the payload's date, date-time and duration fields are typed."""

    line: int
    id: str | None
    name: str
    at: dt.datetime
    payload: dict[str, Any]
    profile: str | None  # the identity in the event's `key` field, or a reaction's `profile`; None: business event


@dataclass(frozen=True, slots=True)
class EventReject:
    """A line that is not an acceptable event, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(slots=True)
class EventCounts:
    """What a read saw: every non-blank line is read, then accepted, rejected, or a duplicate (an event whose
    `id` an earlier accepted event of the read has)."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0

    def add(self, item: Event | EventReject) -> None:
        self.read += 1
        if isinstance(item, Event):
            self.accepted += 1
        else:
            self.rejected += 1


def counted(items: Iterable[Event | EventReject], counts: EventCounts) -> Iterator[Event | EventReject]:
    """Pass `items` through, adding each to `counts`; an event repeating the `id` of an earlier event is
    counted as a duplicate and left out, as `jo events push` ignores it (§5.3): it is taken once."""
    seen: set[str] = set()
    for item in items:
        if isinstance(item, Event) and item.id is not None:
            if item.id in seen:
                counts.read += 1
                counts.duplicates += 1
                continue
            seen.add(item.id)
        counts.add(item)
        yield item


Source = Iterable[str] | str | os.PathLike[str] | IO[bytes]


def read_events(
    source: Source, *, shown: str, events: Mapping[str, dict[str, Any]], zone: ZoneInfo
) -> Iterator[Event | EventReject]:
    """Events and rejects of `source`, in line order, streaming.

    `source` is a path (`str` or path-like), a binary stream (stdin's buffer),
    or an iterable of text lines. `shown` names it in rejects and errors.
    `events` maps each declared event id to its document's data (`id`, `key`,
    `schema`). A date-time without an offset (in `at` or in the payload) is a
    wall time in `zone`.
    """
    reader = _EventReader(shown, events, zone)
    for number, text in _lines(source, shown):
        if text is None:
            yield EventReject(shown, number, f"line is longer than {MAX_LINE_BYTES:,} bytes")
        elif text.strip():
            yield reader.read(number, text)


# ---------------------------------------------------------------- lines


def _lines(source: Source, shown: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text without its end) for each line; None for an over-long line."""
    if isinstance(source, str | os.PathLike):
        try:
            stream = Path(source).open("rb")  # noqa: SIM115  # closed below, when the generator ends
        except OSError as exc:
            raise JoError(f"{shown}: cannot read: {exc.strerror or exc}") from None
        with stream:
            yield from _decoded(_bounded_lines(stream.readline, b"\n"), shown)
    elif isinstance(source, io.TextIOBase):
        yield from _checked(_bounded_lines(source.readline, "\n"), shown)
    elif isinstance(source, io.IOBase):
        yield from _decoded(_bounded_lines(source.readline, b"\n"), shown)
    else:
        yield from _checked(_split(cast("Iterable[str]", source)), shown)


def _bounded_lines(readline: Callable[[int], AnyStr], newline: AnyStr) -> Iterator[AnyStr | None]:
    """Lines read at most `MAX_LINE_BYTES` at a time; None for one longer than that (its rest skipped)."""
    while line := readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES and not line.endswith(newline):
            while (rest := readline(MAX_LINE_BYTES)) and not rest.endswith(newline):
                pass  # the rest of the line is dropped as it is read
            yield None
        else:
            yield line


def _split(lines: Iterable[str]) -> Iterator[str | None]:
    # An item may hold several lines (a file read whole): it is split on \n only, as JSON Lines are.
    for item in lines:
        parts = item.split("\n")
        if len(parts) > 1 and not parts[-1]:
            parts.pop()
        yield from parts


def _decoded(lines: Iterator[bytes | None], shown: str) -> Iterator[tuple[int, str | None]]:
    for number, raw in enumerate(lines, start=1):
        if raw is None:
            yield number, None
            continue
        if number == 1:
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise JoError(f"{shown}:1: the file is UTF-16; jo reads events as UTF-8 (with or without BOM)")
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
            raise JoError(
                f"{shown}:{number}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); save the file as UTF-8"
            ) from None
        yield number, _checked_text(text.removesuffix("\n").removesuffix("\r"), shown, number)


def _checked(lines: Iterator[str | None], shown: str) -> Iterator[tuple[int, str | None]]:
    for number, line in enumerate(lines, start=1):
        if line is None:
            yield number, None
            continue
        if number == 1:
            line = line.removeprefix(_BOM)
        line = line.removesuffix("\n").removesuffix("\r")
        try:
            size = len(line.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise JoError(f"{shown}:{number}: not UTF-8 (a lone surrogate at column {exc.start + 1})") from None
        yield number, None if size > MAX_LINE_BYTES else _checked_text(line, shown, number)


def _checked_text(text: str, shown: str, number: int) -> str:
    if "\0" in text:
        raise JoError(f"{shown}:{number}: NUL byte at column {text.index(chr(0)) + 1}; is this a binary file?")
    return text


# ---------------------------------------------------------------- events


class _Rejected(Exception):
    """This line is rejected for `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject(reason: str) -> NoReturn:
    raise _Rejected(reason)


@dataclass(frozen=True, slots=True)
class _EventType:
    name: str
    key: str | None
    schema: dict[str, Any]
    validator: Draft7Validator


class _EventReader:
    def __init__(self, shown: str, events: Mapping[str, dict[str, Any]], zone: ZoneInfo) -> None:
        self.shown = shown
        self.events = events
        self.zone = zone
        self.types: dict[str, _EventType] = {}
        self.registry: Registry[Any] = Registry()  # no `retrieve`: a `$ref` elsewhere is an error, never a fetch
        self.checker = format_checker()

    def read(self, number: int, text: str) -> Event | EventReject:
        try:
            return self._event(number, text)
        except _Rejected as rejected:
            reason = rejected.reason
            if len(reason) > _REASON_CHARS:
                reason = reason[: _REASON_CHARS - 1] + "…"
            return EventReject(self.shown, number, reason)

    def _event(self, number: int, text: str) -> Event:
        envelope = _parse_json(text)
        if not isinstance(envelope, dict):
            _reject(f"an event is a JSON object {{\"event\", \"at\", \"payload\"}}, not {_json_type(envelope)}")
        for key in envelope:
            if key not in ENVELOPE_KEYS:
                _reject(f"unknown key `{_short(key)}` in the event{did_you_mean(key, ENVELOPE_KEYS)}"
                        f" (an event has {', '.join(f'`{k}`' for k in ENVELOPE_KEYS)})")
        name = envelope.get("event")
        if name is None:
            _reject("missing `event` (the event's name)")
        if not isinstance(name, str) or not name:
            _reject(f"`event` must be a non-empty string, not {_json_type(name)}")
        kind = self._type(name)
        ident = envelope.get("id")
        if "id" in envelope and (not isinstance(ident, str) or not ident):
            _reject(f"`id` must be a non-empty string, not {_json_type(ident)}")
        at = self._at(envelope.get("at"))
        if "payload" not in envelope:
            _reject("missing `payload` (an object; `{}` when the event has no fields)")
        payload = envelope["payload"]
        if not isinstance(payload, dict):
            _reject(f"`payload` must be an object, not {_json_type(payload)}")
        try:
            error = best_match(kind.validator.iter_errors(payload))
        except (Unresolvable, re.error) as exc:
            raise JoError(f"event `{name}`: its schema cannot be used ({exc}); run `jo validate`") from None
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path)
            _reject(f"payload{'.' + where if where else ''}: {error.message} (schema of event `{name}`)")
        profile = _profile(kind, payload)
        typed = _typed(payload, kind.schema, self.zone, "payload")
        return Event(number, ident, name, at, typed, profile)

    def _type(self, name: str) -> _EventType:
        if name in self.types:
            return self.types[name]
        if name in REACTION_EVENTS:
            kind = _EventType(name, "profile", REACTION_SCHEMA, self._validator(name, REACTION_SCHEMA))
        elif name in self.events:
            data = self.events[name]
            schema = data.get("schema")
            schema = schema if isinstance(schema, dict) else {"type": "object"}
            key = data.get("key")
            kind = _EventType(name, key if isinstance(key, str) else None, schema, self._validator(name, schema))
        else:
            _reject(f"unknown event `{_short(name)}`{did_you_mean(name, [*self.events, *REACTION_EVENTS])}")
        self.types[name] = kind
        return kind

    def _validator(self, name: str, schema: dict[str, Any]) -> Draft7Validator:
        try:
            Draft7Validator.check_schema(schema)
        except SchemaError as exc:
            raise JoError(f"event `{name}`: its schema is invalid: {exc.message}; run `jo validate`") from None
        return Draft7Validator(schema, format_checker=self.checker, registry=self.registry)

    def _at(self, value: Any) -> dt.datetime:
        if value is None:
            _reject("missing `at` (when the event happened, a date-time like 2026-12-01T10:00:00Z)")
        if not isinstance(value, str):
            _reject(f"`at` must be a date-time like 2026-12-01T10:00:00Z, not {_json_type(value)}")
        at: dt.datetime | None
        try:
            at = parse_datetime(value, self.zone)
        except OverflowError:
            at = None  # a wall time within a day of the calendar's end
        except (EvalError, ValueError):
            _reject(f"`at`: `{_short(value)}` is not a date-time like 2026-12-01T10:00:00Z")
        if at is None or not durations.on_timeline(at):
            # A "never" placeholder (9999-12-31T23:59:59Z) included: waits and timeouts from it would leave the
            # calendar.
            _reject(f"`at`: `{_short(value)}` is out of range (jo's times run {durations.timeline_text()})")
        # jo's timeline ticks in whole seconds (§0 prints them, the store keeps them): the event is placed at
        # the start of its second, after the events pushed before it in that second.
        return at.replace(microsecond=0)


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        _reject(f"not JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        _reject("not JSON: nested too deeply")
    except ValueError as exc:  # the repeated key, NaN, or an integer too long to read
        _reject(f"not JSON: {exc}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"repeated key `{_short(key)}` in an object")
            seen.add(key)
    return result


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"`{name}` is not a JSON number")


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent; one too large for a float (`1e999`) is refused as `Infinity` is."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"`{_short(text)}` is too large a number (not finite)")
    return value


def _profile(kind: _EventType, payload: dict[str, Any]) -> str | None:
    if kind.key is None:
        return None
    value: Any = payload
    for part in kind.key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        _reject(f"payload has no `{kind.key}` (the profile identity of event `{kind.name}`)")
    if not isinstance(value, str) or not value:
        _reject(f"payload.{kind.key} must be a non-empty string (the profile identity), not {_json_type(value)}")
    return value


def _typed(value: Any, schema: Any, zone: ZoneInfo, where: str) -> Any:
    """`value` (valid against `schema`) with its date, date-time and duration strings converted, and
    integers in `number` fields made decimals, as the CSV reader types cells (§5.1)."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return value
        return {key: _typed(item, properties.get(key), zone, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        items = schema.get("items")
        return [_typed(item, items, zone, f"{where}[{i}]") for i, item in enumerate(value)] if items else value
    if isinstance(value, str):
        return _typed_string(value, schema.get("format"), zone, where)
    if isinstance(value, int) and not isinstance(value, bool) and schema.get("type") == "number":
        try:
            return float(value)
        except OverflowError:
            _reject(f"{where}: {_short(str(value))} is too large for a decimal")
    return value


def _typed_string(value: str, form: Any, zone: ZoneInfo, where: str) -> Any:
    try:
        if form == "date-time":
            return parse_datetime(value, zone)
        if form == "date":
            return parse_date(value)
    except (EvalError, ValueError, OverflowError):
        _reject(f"{where}: `{_short(value)}` is out of range")
    if form == "duration":
        duration = durations.parse_duration(value)
        if duration is None:
            _reject(f"{where}: `{_short(value)}` is too long a duration")
        return duration
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    return "an array" if isinstance(value, list) else "an object"


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
