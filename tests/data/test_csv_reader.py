from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jo_cli.data.csv_reader import Reject, Row, TableReader, count_rejects, read_table
from jo_cli.errors import JoError
from tests.conftest import FIXTURES, REPO, check_golden

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string", "pattern": "^p[0-9]+$"},
        "n": {"type": "integer"},
        "x": {"type": "number"},
        "ok": {"type": "boolean"},
        "d": {"type": "string", "format": "date"},
        "t": {"type": "string", "format": "date-time"},
        "wait": {"type": "string", "format": "duration"},
        "tier": {"type": "string", "enum": ["gold", "silver"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "nums": {"type": "array", "items": {"type": "integer"}},
        "mail": {"type": "string", "format": "email"},
        "tz": {"type": "string"},
        "consent": {"type": "object", "properties": {"email": {"type": "boolean"}, "sms": {"type": "boolean"}}},
    },
}


def read(tmp_path: Path, content: str | bytes, schema: Any = SCHEMA, **options: Any) -> list[Row | Reject]:
    path = tmp_path / "p.csv"
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    options.setdefault("identity", "id")
    options.setdefault("zone", PARIS)
    return list(read_table(path, schema, shown="p.csv", **options))


def rejects(items: list[Row | Reject]) -> list[str]:
    return [str(item) for item in items if isinstance(item, Reject)]


def abort(tmp_path: Path, content: str | bytes, **options: Any) -> str:
    with pytest.raises(JoError) as info:
        read(tmp_path, content, **options)
    assert info.value.exit_code == 2
    return info.value.message


def test_types_nested_and_nulls(tmp_path: Path) -> None:
    text = ('id,n,x,ok,d,t,wait,tier,tags,consent.email,consent.sms\n'
            'p1,-3,2.5,TRUE,2026-02-28,2026-12-01T09:00:00,PT1H30M,gold,"[""a"", ""b""]",true,\n'
            'p2,,,,,,,,,,\n')
    first, second = read(tmp_path, text)
    assert first == Row(2, {"id": "p1", "n": -3, "x": 2.5, "ok": True, "d": dt.date(2026, 2, 28),
                            "t": dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC), "wait": dt.timedelta(hours=1.5),
                            "tier": "gold", "tags": ["a", "b"], "consent": {"email": True, "sms": None}})
    assert isinstance(second, Row)
    assert second.values == {"id": "p2", "n": None, "x": None, "ok": None, "d": None, "t": None, "wait": None,
                             "tier": None, "tags": None, "consent": {"email": None, "sms": None}}


def test_datetimes_offsets_zones_and_dst(tmp_path: Path) -> None:
    text = ("id,tz,t\n"
            "p1,Asia/Tokyo,2026-12-01T09:00:00\n"        # wall time in the row's zone
            "p2,,2026-12-01T09:00:00+02:00\n"            # an offset wins over any zone
            "p3,Mars/Olympus,2026-12-01T09:00\n"         # invalid zone: project zone, warning
            "p4,Europe/Paris,2026-03-29T02:30:00\n"      # DST gap: the end of the gap
            "p5,Europe/Paris,2026-10-25T02:30:00\n"      # fold: the earlier instant
            "p6,,2026-12-01 09:00:00.5z\n")
    path = tmp_path / "p.csv"
    path.write_text(text)
    reader = TableReader(path, SCHEMA, shown="p.csv", identity="id", zone=PARIS, zone_field="tz")
    values = [item.values["t"] for item in reader if isinstance(item, Row)]
    assert values == [dt.datetime(2026, 12, 1, 0, 0, tzinfo=UTC), dt.datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
                      dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC), dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                      dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                      dt.datetime(2026, 12, 1, 9, 0, 0, 500000, tzinfo=UTC)]
    assert reader.invalid_zones == 1
    assert [str(w) for w in reader.warnings] == [
        "p.csv:4: tz: invalid zone `Mars/Olympus`: read in the project zone Europe/Paris"]
    assert (reader.read, reader.accepted, reader.rejected) == (6, 6, 0)


@pytest.mark.parametrize(("column", "cell", "reason"), [
    ("n", "1.5", "`1.5` is not an integer"),
    ("n", "1_000", "`1_000` is not an integer"),
    ("x", "12O.50", "`12O.50` is not a number"),
    ("x", "nan", "`nan` is not a number"),
    ("x", " 1", "` 1` is not a number"),
    ("ok", "yes", "`yes` is not a boolean (true or false)"),
    ("d", "1987-02-30", "`1987-02-30` is not a date like 2026-12-01"),
    ("d", "20260101", "`20260101` is not a date like 2026-12-01"),
    ("t", "2026-12-01", "`2026-12-01` is not a date-time like 2026-12-01T09:00:00Z (the offset may be left out)"),
    ("t", "2026-12-01X09:00:00", "`2026-12-01X09:00:00` is not a date-time like 2026-12-01T09:00:00Z "
                                 "(the offset may be left out)"),
    ("wait", "P1M", "`P1M` is not an ISO 8601 duration like P3D, PT2H or P1DT12H (no years or months)"),
    ("tier", "bronze", "`bronze` is not one of gold, silver"),
    ("id", "q1", "`q1` does not match the pattern `^p[0-9]+$`"),
    ("tags", "a;b", '`a;b` is not a JSON array like ["a", "b"]'),
    ("tags", "[1]", '`[1]` has `1`, not a string'),
    ("nums", "[true]", '`[true]` has `true`, not an integer'),
    ("nums", "[1e999]", '`[1e999]` has 1e999, not a number jo can compute with'),
    ("tags", "[NaN]", '`[NaN]` has NaN, not a number jo can compute with'),
    ("tags", '["a", -Infinity]', '`["a", -Infinity]` has -Infinity, not a number jo can compute with'),
    ("tags", "[" * 5000, '`' + "[" * 59 + '…` is not a JSON array like ["a", "b"]'),
    ("mail", "ada at example", "`ada at example` is not an email address like ada@example.org"),
    ("consent.email", "1", "`1` is not a boolean (true or false)"),
])
def test_bad_cells_reject_the_row(tmp_path: Path, column: str, cell: str, reason: str) -> None:
    other = "id" if column != "id" else "n"
    value = "p1" if other == "id" else "1"
    quoted = '"' + cell.replace('"', '""') + '"'
    items = read(tmp_path, f"{other},{column}\n{value},{quoted}\n")
    assert rejects(items) == [f"p.csv:2: {column}: {reason}"]


def test_ragged_duplicates_and_quoted_newlines_keep_lines(tmp_path: Path) -> None:
    text = ('id,n,tags\n'
            'p1,1,"[""multi"",\n""line""]"\n'   # lines 2-3
            'p2,2\n'                             # line 4: short
            '\n'                                 # line 5: blank, skipped
            'p3,3,[],extra\n'                    # line 6: long
            'p1,4,[]\n'                          # line 7: repeats p1 of line 2
            '"p4\n\n",5,[]\n'                    # lines 8-10 (id fails its pattern)
            'p5,6,[]\n'                          # line 11
            ',7,[]\n')                           # line 12: empty identity
    items = read(tmp_path, text)
    assert rejects(items) == [
        "p.csv:4: 2 cells instead of 3",
        "p.csv:6: 4 cells instead of 3",
        "p.csv:7: id: repeats the identity `p1` of line 2 (the first row wins)",
        "p.csv:8: id: `p4\\n\\n` does not match the pattern `^p[0-9]+$`",
        "p.csv:12: id: empty identity",
    ]
    assert [item.line for item in items if isinstance(item, Row)] == [2, 11]


def test_rejected_row_does_not_claim_its_identity(tmp_path: Path) -> None:
    items = read(tmp_path, "id,n\np1,x\np1,2\n")
    assert rejects(items) == ["p.csv:2: n: `x` is not an integer"]
    assert [item.values for item in items if isinstance(item, Row)] == [{"id": "p1", "n": 2}]


@pytest.mark.parametrize(("content", "message"), [
    ("id,nope\n", "p.csv:1: unknown column `nope`: the schema has no such property"),
    ("id,consent.fax\n", "p.csv:1: unknown column `consent.fax`: the schema has no such property"),
    ("id,consent\n", "p.csv:1: column `consent` is an object: give its fields as dotted columns like `consent.field`"),
    ("id,n,n\n", "p.csv:1: duplicate column `n`"),
    ("id,,n\n", "p.csv:1: column 2 of the header has no name"),
    ("n\n1\n", "p.csv:1: missing required column `id`"),
    ("", "p.csv:1: the file is empty: a header row is required"),
    ("\n\n", "p.csv:1: the file is empty: a header row is required"),
    ("id,n\np1,\"2\np2,3\n", "p.csv:2: unterminated quote: the quoted cell that starts here never ends"),
    ('id,n\np1,"2"x\n', 'p.csv:2: malformed CSV (\',\' expected after \'"\')'),
    ("id,n\np1,1\np2,2\x00\n", "p.csv:3: NUL byte in the file; it is binary or not UTF-8"),
    (b"id,n\np1,1\np2,caf\xe9\n", "p.csv:3: not UTF-8 (byte 0xe9 at column 7); save the file as UTF-8"),
    ("id,n\np1,1\n".encode("utf-16"), "p.csv:1: the file is UTF-16 (byte order mark); save it as UTF-8"),
    ("id,n\n".encode("utf-32"), "p.csv:1: the file is UTF-32 (byte order mark); save it as UTF-8"),
    ("id,tags\np1,\"" + "x" * 70000 + "\"\n",
     "p.csv:2: a cell is longer than 65536 characters (the field size limit); an unterminated quote often causes this"),
])
def test_file_level_aborts(tmp_path: Path, content: str | bytes, message: str) -> None:
    assert abort(tmp_path, content) == message


def test_missing_identity_column_and_bad_pattern_abort(tmp_path: Path) -> None:
    assert abort(tmp_path, "n\n1\n", schema={"properties": {"n": {"type": "integer"}}}) == \
        "p.csv:1: missing identity column `id`"
    bad = {"properties": {"id": {"type": "string", "pattern": "(a)\\1"}}}
    assert "backreference" in abort(tmp_path, "id\np1\n", schema=bad)


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    items = read(tmp_path, "\ufeffid,n\r\np1,1\r\np2,2\r\n".encode())
    assert [item.values for item in items if isinstance(item, Row)] == [{"id": "p1", "n": 1}, {"id": "p2", "n": 2}]


def test_field_size_limit_is_explicit_and_restored(tmp_path: Path) -> None:
    import csv

    before = csv.field_size_limit()
    assert abort(tmp_path, "id,tags\np1,\"[]" + " " * 20 + "\"\n", field_size_limit=10).startswith(
        "p.csv:2: a cell is longer than 10 characters")
    assert csv.field_size_limit() == before


def test_count_rejects_stops_early(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,n\n" + "".join(f"p{i},x\n" for i in range(50)))
    assert count_rejects(path, SCHEMA, shown="p.csv", identity="id", zone=PARIS) == 50
    assert count_rejects(path, SCHEMA, shown="p.csv", identity="id", zone=PARIS, stop_above=3) == 4


def test_demo_profiles_rejects_golden(update_goldens: bool) -> None:
    schema = json.loads((REPO / "data/profiles.schema.json").read_text())
    reader = TableReader(REPO / "data/profiles.csv", schema, shown="data/profiles.csv", identity="id",
                         zone=PARIS, zone_field="timezone")
    items = list(reader)
    found = [item for item in items if isinstance(item, Reject)]
    assert [(item.line, item.column) for item in found] == [
        (32, "total_spend"), (98, "birth_date"), (144, "id"), (190, None), (261, "consent.email")]
    assert (reader.read, reader.accepted, reader.rejected) == (381, 376, 5)
    assert [(w.line, w.column) for w in reader.warnings] == [(307, "timezone")]
    text = "".join(f"{item}\n" for item in found + reader.warnings)
    check_golden(FIXTURES / "demo-rejects.expected.txt", text, update_goldens)


# --- fuzzing: only rows, rejects or JoError; every record accounted for ------------------------------

FUZZ_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["id"],
    "properties": {"id": {"type": "string"}, "n": {"type": "integer"}, "t": {"type": "string", "format": "date-time"},
                   "tz": {"type": "string"}, "l": {"type": "array", "items": {"type": "number"}},
                   "c": {"type": "object", "properties": {"b": {"type": "boolean"}}}},
}
CELLS = st.one_of(st.sampled_from(["", "p1", "p2", "1", "-2", "x", "true", "TRUE", "[1, 2.5]", "[", "[[[[[[",
                                   "2026-12-01T09:00", "2026-03-29T02:30:00", "Europe/Paris", "Mars/Olympus",
                                   "../etc", '"', '""', "\r", "\n", "\x00", "\ufeff", "é"]),
                  st.text(max_size=12))
RECORDS = st.lists(st.lists(CELLS, min_size=0, max_size=6), max_size=8)


def _fuzz_text(header: list[str], body: list[list[str]], joiner: str) -> str:
    return joiner.join([",".join(header), *[",".join(cells) for cells in body]]) + joiner


@settings(max_examples=3000, deadline=1000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.permutations(["id", "n", "t", "tz", "l", "c.b"]), body=RECORDS,
       joiner=st.sampled_from(["\n", "\r\n"]))
def test_fuzz_rows_rejects_or_joerror(tmp_path: Path, header: list[str], body: list[list[str]], joiner: str) -> None:
    _account(tmp_path, _fuzz_text(list(header), body, joiner).encode("utf-8", "surrogatepass"))


@settings(max_examples=2500, deadline=1000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), header=st.sampled_from([b"id,n,c.b\n", b"\xef\xbb\xbfid,t,tz\n", b"id\n", b""]))
def test_fuzz_bytes(tmp_path: Path, raw: bytes, header: bytes) -> None:
    _account(tmp_path, header + raw)


def _account(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    reader = TableReader(path, FUZZ_SCHEMA, shown="f.csv", identity="id", zone=PARIS, zone_field="tz",
                         field_size_limit=100)
    try:
        items = list(reader)
    except JoError as exc:
        assert exc.exit_code == 2 and exc.message.startswith("f.csv:")
        return
    rows = [item for item in items if isinstance(item, Row)]
    assert reader.read == reader.accepted + reader.rejected == len(items)
    assert len(rows) == reader.accepted
    assert all(item.line >= 2 for item in items)
    assert [item.line for item in items] == sorted({item.line for item in items})
    ids = [row.values["id"] for row in rows]
    assert len(ids) == len(set(ids)) and None not in ids


def test_keep_holds_only_those_fields_but_checks_every_cell(tmp_path: Path) -> None:
    content = ("id,n,t,tier,consent.email,consent.sms\np1,1,2026-12-01T09:00,gold,true,false\n"
               "p2,x,,gold,true,false\np3,3,,gold,,\np4,4,2026-13-01T09:00,gold,,\n")
    rows = read(tmp_path, content, keep=frozenset({"id", "consent"}))
    assert [r.values for r in rows if isinstance(r, Row)] == [
        {"id": "p1", "consent": {"email": True, "sms": False}}, {"id": "p3", "consent": {"email": None, "sms": None}}]
    # `n` and `t` are not kept, yet checked
    assert [(r.line, r.column) for r in rows if isinstance(r, Reject)] == [(3, "n"), (5, "t")]
    only_nested = read(tmp_path, content, keep=frozenset({"consent"}))
    assert next(r.values for r in only_nested if isinstance(r, Row)) == {"consent": {"email": True, "sms": False}}


@pytest.mark.parametrize(("header", "cell", "reason"), [
    ("n", "9" * 5000, "is an integer of 5,000 digits: too long to read"),
    ("t", "0001-01-01T00:00:00", "is outside the date-times jo can place (years 1 to 9999 in UTC)"),
    ("t", "9999-12-31T23:59:59-01:00", "is outside the date-times jo can place (years 1 to 9999 in UTC)"),
    ("x", "1" * 300, None),  # 300 digits are a finite float: read
], ids=["integer-over-4300-digits", "year-1-in-paris", "year-9999-west-of-utc", "number-of-300-digits"])
def test_cells_python_cannot_convert_are_rejects_not_crashes(tmp_path: Path, header: str, cell: str,
                                                             reason: str | None) -> None:
    items = read(tmp_path, f"id,{header}\np1,{cell}\np2,\n")
    assert [item.line for item in items if isinstance(item, Row)] == ([3] if reason else [2, 3])
    if reason:
        assert rejects(items) == [f"p.csv:2: {header}: `{cell[:59]}…` {reason}" if len(cell) > 60
                                  else f"p.csv:2: {header}: `{cell}` {reason}"]


def test_a_json_integer_too_large_for_a_number_list_is_a_reject(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"},
                                               "scores": {"type": "array", "items": {"type": "number"}}}}
    items = read(tmp_path, 'id,scores\np1,"[' + "9" * 400 + ']"\n', schema)
    assert len(rejects(items)) == 1 and "a number too large to read" in rejects(items)[0]
