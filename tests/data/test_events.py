"""The events reader (SPEC §5.3): envelope rules, typed payloads, located rejects, file-level errors, fuzzing."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jo_cli.data.events import (
    MAX_LINE_BYTES,
    Event,
    EventCounts,
    EventReject,
    counted,
    read_events,
)
from jo_cli.errors import JoError
from jo_cli.loader import load_yaml
from tests.conftest import FIXTURES, REPO, check_golden

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
DEMO = REPO / "events" / "events.jsonl"
SHOWN = "ev.jsonl"


@cache
def demo_events() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((REPO / "events").glob("*.yaml")):
        loaded = load_yaml(str(path), path.read_bytes())
        assert loaded.document is not None, loaded.findings
        found[loaded.document.data["id"]] = loaded.document.data
    return found


EXTRA: dict[str, dict[str, Any]] = {
    # A business event (no `key`) with every typed format.
    "visit": {"id": "visit", "schema": {"type": "object", "properties": {
        "day": {"type": "string", "format": "date"},
        "when": {"type": "string", "format": "date-time"},
        "stay": {"type": "string", "format": "duration"},
        "score": {"type": "number"},
        "stamps": {"type": "array", "items": {"type": "string", "format": "date-time"}},
        "nested": {"type": "object", "properties": {"on": {"type": "string", "format": "date"}}},
    }}},
    # A keyed event whose schema does not constrain its key field.
    "loose": {"id": "loose", "key": "who", "schema": {"type": "object"}},
    "dotted": {"id": "dotted", "key": "user.id", "schema": {"type": "object"}},
}


def all_events() -> dict[str, dict[str, Any]]:
    return {**demo_events(), **EXTRA}


def read(source: Any, *, zone: ZoneInfo = PARIS) -> list[Event | EventReject]:
    return list(read_events(source, shown=SHOWN, events=all_events(), zone=zone))


def line(event: str = "order_placed", *, at: Any = "2026-12-01T10:00:00Z", **fields: Any) -> str:
    payload = fields.pop("payload", {"customer_id": "p1", "order_id": "o1"})
    return json.dumps({"event": event, "at": at, "payload": payload, **fields})


def rejects(items: Iterable[Event | EventReject]) -> list[str]:
    return [str(item) for item in items if isinstance(item, EventReject)]


# ---------------------------------------------------------------- rejects, one per rule

ORDER = {"customer_id": "p1", "order_id": "o1"}
REJECTS = [
    ('{"event": "order_placed",', "not JSON: Expecting property name enclosed in double quotes (column 26)"),
    ('{"event": "x"} trailing', "not JSON: Extra data (column 16)"),
    ('{"a": 1, "a": 2}', "not JSON: repeated key `a` in an object"),
    ('{"event": "order_placed", "at": NaN}', "not JSON: `NaN` is not a JSON number"),
    ("[1, 2]", 'an event is a JSON object {"event", "at", "payload"}, not an array'),
    ('"order_placed"', 'an event is a JSON object {"event", "at", "payload"}, not a string'),
    (json.dumps({"evnt": "order_placed"}),
     "unknown key `evnt` in the event; did you mean `event`? (an event has `id`, `event`, `at`, `payload`)"),
    (json.dumps({"at": "2026-12-01T10:00:00Z", "payload": {}}), "missing `event` (the event's name)"),
    (json.dumps({"event": 3}), "`event` must be a non-empty string, not a number"),
    (json.dumps({"event": ""}), "`event` must be a non-empty string, not an empty string"),
    (line("order_placd"), "unknown event `order_placd`; did you mean `order_placed`?"),
    (line("zzz"), "unknown event `zzz`"),
    (line(id=7), "`id` must be a non-empty string, not a number"),
    (line(id=""), "`id` must be a non-empty string, not an empty string"),
    (json.dumps({"event": "order_placed", "payload": ORDER}),
     "missing `at` (when the event happened, a date-time like 2026-12-01T10:00:00Z)"),
    (line(at=1764583200), "`at` must be a date-time like 2026-12-01T10:00:00Z, not a number"),
    (line(at="2026-12-01"), "`at`: `2026-12-01` is not a date-time like 2026-12-01T10:00:00Z"),
    (line(at="2026-13-01T10:00:00Z"), "`at`: `2026-13-01T10:00:00Z` is not a date-time like 2026-12-01T10:00:00Z"),
    (line(at="0001-01-01T00:00:00+01:00"),
     "`at`: `0001-01-01T00:00:00+01:00` is out of range (jo's times run 0001-01-05 to 9999-12-27)"),
    (line(at="9999-12-31T23:59:59Z"),  # a "never" placeholder of exports
     "`at`: `9999-12-31T23:59:59Z` is out of range (jo's times run 0001-01-05 to 9999-12-27)"),
    (line(at="0001-01-01T00:00:00Z"), "`at`: `0001-01-01T00:00:00Z` is out of range (jo's times run 0001-01-05 to "
                                      "9999-12-27)"),
    (line(at="9999-12-31T23:00:00"),  # a wall time in Paris with no UTC instant
     "`at`: `9999-12-31T23:00:00` is out of range (jo's times run 0001-01-05 to 9999-12-27)"),
    ('{"event": "order_placed", "at": 1e999}', "not JSON: `1e999` is too large a number (not finite)"),
    ('{"event": "visit", "at": "2026-12-01T10:00:00Z", "payload": {"customer_id": "p1", "score": -1E400}}',
     "not JSON: `-1E400` is too large a number (not finite)"),
    (json.dumps({"event": "order_placed", "at": "2026-12-01T10:00:00Z"}),
     "missing `payload` (an object; `{}` when the event has no fields)"),
    (line(payload=[1]), "`payload` must be an object, not an array"),
    (line(payload={"customer_id": "p1"}),
     "payload: 'order_id' is a required property (schema of event `order_placed`)"),
    (line(payload={**ORDER, "total": "12"}),
     "payload.total: '12' is not of type 'number' (schema of event `order_placed`)"),
    (line(payload={**ORDER, "placed_at": "yesterday"}),
     "payload.placed_at: 'yesterday' is not a 'date-time' (schema of event `order_placed`)"),
    (line("cart_abandoned", payload={"customer_id": "p1", "cart_id": "c", "items": [{"quantity": 1}]}),
     "payload.items.0: 'product_id' is a required property (schema of event `cart_abandoned`)"),
    (line("loose", payload={}), "payload has no `who` (the profile identity of event `loose`)"),
    (line("loose", payload={"who": 5}), "payload.who must be a non-empty string (the profile identity), not a number"),
    (line("dotted", payload={"user": {"id": ""}}),
     "payload.user.id must be a non-empty string (the profile identity), not an empty string"),
    (line("message_opened", payload={}),
     "payload: 'profile' is a required property (schema of event `message_opened`)"),
    (line("message_clicked", payload={"profile": 4}),
     "payload.profile: 4 is not of type 'string' (schema of event `message_clicked`)"),
    (line("message_clicked", payload={"profile": "p1", "key": None}),
     "payload.key: None is not of type 'string' (schema of event `message_clicked`)"),
    (line("visit", payload={"stay": "P1M"}), "payload.stay: 'P1M' is not a 'duration' (schema of event `visit`)"),
    (line("visit", payload={"day": "2026-02-30"}),
     "payload.day: '2026-02-30' is not a 'date' (schema of event `visit`)"),
    (line("visit", payload={"score": 10**400}), "payload.score: 1000000000000000000000000000000000000000000000000000…"),
    ("[" * 100_000, "not JSON: nested too deeply"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTS, ids=[r for _, r in REJECTS])
def test_each_reject_is_located_and_the_read_goes_on(text: str, reason: str) -> None:
    good = line()
    items = read([good, "", text, "   ", good])
    assert [item.line for item in items] == [1, 3, 5]
    assert isinstance(items[0], Event) and isinstance(items[2], Event)
    reject = items[1]
    assert isinstance(reject, EventReject)
    assert (reject.file, reject.line) == (SHOWN, 3)
    assert reject.reason.startswith(reason.rstrip("…")) if reason.endswith("…") else reject.reason == reason
    assert str(reject) == f"{SHOWN}:3: {reject.reason}"


def test_reasons_never_quote_a_huge_value() -> None:
    [reject] = read([line("x" * 10_000)])
    assert isinstance(reject, EventReject) and len(reject.reason) < 300


# ---------------------------------------------------------------- accepted events


def test_an_event_carries_its_line_id_name_instant_profile_and_payload() -> None:
    [event] = read(["", line(id="ev-1", at="2026-12-01T10:00:00+01:00")])
    assert event == Event(2, "ev-1", "order_placed", dt.datetime(2026, 12, 1, 9, tzinfo=UTC), ORDER, "p1")
    assert event.at.tzinfo is UTC


def test_an_event_is_placed_at_the_start_of_its_second() -> None:
    """jo's timeline ticks in whole seconds (§0): milliseconds in `at` (common in exports) are dropped, and the
    payload's own date-times keep theirs."""
    [event] = read([line(at="2026-12-01T10:00:00.999Z", payload={**ORDER, "placed_at": "2026-12-01T10:00:00.5Z"})])
    assert isinstance(event, Event)
    assert event.at == dt.datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert event.payload["placed_at"].microsecond == 500_000


def test_a_datetime_without_offset_is_read_in_the_zone() -> None:
    text = line(at="2026-07-01T10:00:00", payload={**ORDER, "placed_at": "2026-12-01 10:00"})
    [paris] = read([text])
    [tokyo] = read([text], zone=ZoneInfo("Asia/Tokyo"))
    assert isinstance(paris, Event) and isinstance(tokyo, Event)
    assert paris.at == dt.datetime(2026, 7, 1, 8, tzinfo=UTC)  # CEST, +02:00
    assert paris.payload["placed_at"] == dt.datetime(2026, 12, 1, 9, tzinfo=UTC)  # CET, +01:00
    assert tokyo.at == dt.datetime(2026, 7, 1, 1, tzinfo=UTC)


def test_payload_fields_are_typed_by_the_event_schema() -> None:
    payload = {"day": "2026-12-01", "when": "2026-12-01T10:00:00Z", "stay": "PT90M", "score": 3, "other": "P1D",
               "stamps": ["2026-12-01T00:00:00"], "nested": {"on": "2026-01-02", "x": "2026-01-02"}}
    [event] = read([line("visit", payload=payload)])
    assert isinstance(event, Event)
    assert event.profile is None  # a business event
    assert event.payload == {
        "day": dt.date(2026, 12, 1), "when": dt.datetime(2026, 12, 1, 10, tzinfo=UTC),
        "stay": dt.timedelta(minutes=90), "score": 3.0, "other": "P1D",
        "stamps": [dt.datetime(2026, 11, 30, 23, tzinfo=UTC)], "nested": {"on": dt.date(2026, 1, 2), "x": "2026-01-02"},
    }
    assert isinstance(event.payload["score"], float)


def test_integers_stay_integers_where_the_schema_says_integer() -> None:
    [event] = read([line("cart_abandoned", payload={"customer_id": "p", "cart_id": "c", "item_count": 2})])
    assert isinstance(event, Event) and event.payload["item_count"] == 2


@pytest.mark.parametrize("name", ["message_opened", "message_clicked"])
def test_reactions_are_built_in_and_their_key_is_optional(name: str) -> None:
    items = read([line(name, payload={"profile": "p9"}), line(name, payload={"profile": "p9", "key": "m-1"})])
    assert [(i.name, i.profile, i.payload) for i in items if isinstance(i, Event)] == [
        (name, "p9", {"profile": "p9"}), (name, "p9", {"profile": "p9", "key": "m-1"})]


def test_keyed_event_profile_may_be_a_dotted_field() -> None:
    [event] = read([line("dotted", payload={"user": {"id": "p4"}})])
    assert isinstance(event, Event) and event.profile == "p4"


def test_an_event_without_id_has_none() -> None:
    [event] = read([line()])
    assert isinstance(event, Event) and event.id is None


# ---------------------------------------------------------------- files and streams


def test_bom_and_crlf_are_accepted_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "ev.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (line() + "\r\n\r\n" + line("nope") + "\r\n" + line()).encode())
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Event", "EventReject", "Event"]
    assert [i.line for i in items] == [1, 3, 4]
    assert rejects(items) == [f"{SHOWN}:3: unknown event `nope`"]
    assert read(str(path)) == items  # a path may be a str


def test_bom_and_crlf_are_accepted_from_text_lines_and_streams() -> None:
    text = "\ufeff" + line() + "\r\n" + line() + "\r\n"
    assert [i.line for i in read([text]) if isinstance(i, Event)] == [1, 2]
    assert [i.line for i in read(io.StringIO(text)) if isinstance(i, Event)] == [1, 2]
    assert [i.line for i in read(io.BytesIO(text.encode())) if isinstance(i, Event)] == [1, 2]
    assert [i.line for i in read(text.splitlines(keepends=True)) if isinstance(i, Event)] == [1, 2]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"event": 1}\n{"e\xe9": 1}\n', "ev.jsonl:2: not UTF-8 (byte 0xe9 at column 4); save the file as UTF-8"),
        (b'{}\n\n{"event": "a\x00"}\n', "ev.jsonl:3: NUL byte at column 13; is this a binary file?"),
        ("{}\n".encode("utf-16"), "ev.jsonl:1: the file is UTF-16; jo reads events as UTF-8 (with or without BOM)"),
    ],
)
def test_a_file_that_is_not_utf8_text_stops_the_read(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "ev.jsonl"
    path.write_bytes(raw)
    with pytest.raises(JoError) as caught:
        read(path)
    assert caught.value.message == message
    assert caught.value.exit_code == 2


def test_nul_and_lone_surrogates_in_text_lines_stop_the_read() -> None:
    with pytest.raises(JoError, match=r"ev.jsonl:2: NUL byte at column 1"):
        read([line(), "\0"])
    with pytest.raises(JoError, match=r"ev.jsonl:1: not UTF-8 \(a lone surrogate at column 3\)"):
        read(['{"\udce9"}'])


def test_a_missing_file_is_an_exit_2_error(tmp_path: Path) -> None:
    with pytest.raises(JoError, match=r"ev.jsonl: cannot read"):
        read(tmp_path / "missing.jsonl")


def test_an_over_long_line_is_rejected_without_being_kept(tmp_path: Path) -> None:
    huge = '{"event": "' + "x" * (3 * MAX_LINE_BYTES) + '"}'
    path = tmp_path / "ev.jsonl"
    path.write_text("\n".join([line(), huge, line()]) + "\n", encoding="utf-8")
    expected = [f"{SHOWN}:2: line is longer than 1,048,576 bytes"]
    for source in (path, io.BytesIO(path.read_bytes()), io.StringIO(path.read_text()), [line(), huge, line()]):
        items = read(source)
        assert [i.line for i in items] == [1, 2, 3]
        assert rejects(items) == expected
    exact = '{"event": "' + "x" * (MAX_LINE_BYTES - 13) + '"}'
    assert len(exact) == MAX_LINE_BYTES  # at the limit: read (and rejected for its content)
    assert rejects(read([exact])) == [f"{SHOWN}:1: unknown event `{'x' * 59}…`"]


def test_an_unusable_event_schema_is_an_exit_2_error() -> None:
    events = {"bad": {"id": "bad", "schema": {"type": "nope"}}}
    with pytest.raises(JoError, match=r"event `bad`: its schema is invalid"):
        list(read_events([line("bad", payload={})], shown=SHOWN, events=events, zone=PARIS))
    remote = {"far": {"id": "far", "schema": {"$ref": "https://example.org/x.json"}}}
    with pytest.raises(JoError, match=r"event `far`: its schema cannot be used"):
        list(read_events([line("far", payload={})], shown=SHOWN, events=remote, zone=PARIS))


# ---------------------------------------------------------------- the demo


def test_the_demo_has_one_reject_line_14() -> None:
    counts = EventCounts()
    items = list(counted(read_events(DEMO, shown="events/events.jsonl", events=demo_events(), zone=PARIS), counts))
    assert rejects(items) == ["events/events.jsonl:14: unknown event `cart_abandonned`; did you mean `cart_abandoned`?"]
    assert (counts.read, counts.accepted, counts.rejected) == (29, 28, 1)
    accepted = [i for i in items if isinstance(i, Event)]
    assert next(i for i in accepted if i.line == 12).profile == "p999"  # an unknown profile is the engine's business


def test_a_repeated_id_is_taken_once_and_counted_as_a_duplicate() -> None:
    """§5.3: `jo events push` ignores a repeated `id`; a dry-run's events file is read the same way."""
    lines = [line(id="e1"), line(id="e2"), line(id="e1", at="2026-12-02T10:00:00Z"), line(), line(),
             line(id="e2", event="zzz"), line(id="e2")]
    counts = EventCounts()
    items = list(counted(read_events(lines, shown=SHOWN, events=all_events(), zone=PARIS), counts))
    assert [(i.line, i.id) if isinstance(i, Event) else (i.line, "rejected") for i in items] == [
        (1, "e1"), (2, "e2"), (4, None), (5, None), (6, "rejected")]  # events without an id are never duplicates
    assert (counts.read, counts.accepted, counts.rejected, counts.duplicates) == (7, 4, 1, 2)


def test_the_demo_golden(update_goldens: bool) -> None:
    items = read_events(DEMO, shown="events/events.jsonl", events=demo_events(), zone=PARIS)
    text = "".join(
        f"{i.line}\t{i.name}\t{i.profile}\t{i.at.isoformat()}\n" for i in items if isinstance(i, Event)
    )
    check_golden(FIXTURES / "demo-events.expected.txt", text, update_goldens)


# ---------------------------------------------------------------- fuzzing

# Only a hang fails here (generous on a loaded 2-core machine); how fast events are read is bench/'s business.
HANG_LIMIT = 10.0
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`common` four times in five (hypothesis merges a repeated branch of `one_of`)."""
    return st.integers(0, 4).flatmap(lambda pick: rare if pick == 4 else common)


NAMES = st.sampled_from([*all_events(), "message_opened", "message_clicked", "nope", ""])
ZONES: st.SearchStrategy[Any] = st.one_of(st.none(), st.timezones())
DATE_TIMES = st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31), timezones=ZONES)
TEXT = st.sampled_from(["p1", "c1", "o1", "sizing", "web", "2026-12-01", "2026-12-01T10:00:00", "PT1H", "P1D",
                        "2026-02-30", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "P99999999999999D"])
VALUES = TEXT | DATE_TIMES.map(dt.datetime.isoformat) | JSON
FIELDS = ["order_id", "cart_id", "topic", "key", "who", "user", "day", "when", "stay", "score", "stamps", "nested",
          "items", "total", "placed_at", "cart_total", "item_count"]
PAYLOADS = st.fixed_dictionaries(
    {"customer_id": TEXT, "profile": TEXT}, optional={"order_id": TEXT, "cart_id": TEXT}
).flatmap(lambda base: st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=4).map(lambda more: {**base, **more}))
ENVELOPES = st.fixed_dictionaries(
    {"event": mostly(NAMES, JSON), "at": mostly(DATE_TIMES.map(dt.datetime.isoformat), VALUES),
     "payload": mostly(PAYLOADS, JSON)},
    optional={"id": mostly(TEXT, JSON)},
)


def demo_lines() -> list[str]:
    return DEMO.read_text(encoding="utf-8").splitlines()


@st.composite
def mutated_demo_line(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(demo_lines()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.sampled_from(['"', "{", "}", "[", "]", ",", ":", "\\", "\\u", "0", "-", "null", " ", "é", "\r",
                                      "\ufeff", "NaN", "1e999", "Z", "+01:00", "T"]) | st.text(max_size=3))
        end = at + draw(st.integers(0, 10))
        text = text[:at] + (piece if edit != "delete" else "") + text[(end if edit != "insert" else at):]
    return text


def check_read(lines: list[str]) -> None:
    started = time.perf_counter()
    counts = EventCounts()
    try:
        for item in counted(read_events(lines, shown=SHOWN, events=all_events(), zone=PARIS), counts):
            assert isinstance(item, Event | EventReject)
            if isinstance(item, Event):
                assert item.at.tzinfo is UTC
    except JoError as exc:
        assert exc.exit_code == 2 and exc.message.startswith(f"{SHOWN}:")
    assert counts.read == counts.accepted + counts.rejected + counts.duplicates
    assert counts.read <= len(lines) + sum(text.count("\n") for text in lines)
    assert time.perf_counter() - started < HANG_LIMIT




def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@fuzz(2500)
@given(st.lists(mostly(ENVELOPES, JSON).map(json.dumps), max_size=5))
def test_fuzz_random_json_lines(lines: list[str]) -> None:
    check_read(lines)


@fuzz(2000)
@given(st.lists(mutated_demo_line(), min_size=1, max_size=4))
def test_fuzz_mutated_demo_lines(lines: list[str]) -> None:
    check_read(lines)


@fuzz(1000)
@given(st.lists(st.text(max_size=40), max_size=5))
def test_fuzz_random_text(lines: list[str]) -> None:
    check_read(lines)
