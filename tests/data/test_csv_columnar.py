"""The columnar (polars) path of `TableReader` against the Python path: one contract, two readers.

For every file and every argument combination, `columnar=True` must give exactly the items of
`columnar=False` (rows and rejects in source order, the same reject reasons), the same `JoError` message
after the same items, and the same `read`, `accepted`, `rejected`, `invalid_zones` and `warnings`.
Items are also compared by `repr`, since `==` holds between 1, 1.0 and True, between -0.0 and 0.0,
between datetimes in different zones and between dicts in different key orders.

Hypothesis draws the files (`csv_strategies.py`): random schemas of every column kind with mostly valid,
often nasty cells; raw bytes; quote-heavy rows. Deterministic tests check that the fast path is really taken
on realistic files, small and big (so equality is not vacuous), and that each guard falls back to the Python
path. `MALFORMED_QUOTING` and `CRASHING_CELLS` are minimal reproductions of divergences these tests found.

`JO_FUZZ_SCALE=10 pytest tests/data/test_csv_columnar.py` multiplies every example count.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from jo_cli.data.csv_reader import Reject, Row, TableReader
from jo_cli.errors import JoError
from tests.conftest import REPO
from tests.data.csv_strategies import ARABIC_123, FULL_SCHEMA, Table, build_schema, quoted_files, raw_files, tables

SCALE = float(os.environ.get("JO_FUZZ_SCALE", "1") or "1")
PARIS = ZoneInfo("Europe/Paris")


def examples(count: int) -> Any:
    return settings(max_examples=max(1, int(count * SCALE)), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


# --- running both paths ---------------------------------------------------------------------------------


class Outcome(NamedTuple):
    items: list[Row | Reject]
    error: str | None  # the JoError message (or, for anything else raised, `uncaught <type>: <message>`)
    counters: tuple[int, int, int, int]  # read, accepted, rejected, invalid_zones
    warnings: list[Reject]


def outcome(path: Path, schema: Any, columnar: bool | None, **options: Any) -> tuple[Outcome, bool]:
    """What reading `path` gives with `columnar`, and whether the columnar path produced the rows."""
    options.setdefault("identity", "id")
    options.setdefault("zone", PARIS)
    reader = TableReader(path, schema, shown="p.csv", columnar=columnar, **options)
    items: list[Row | Reject] = []
    error = None
    try:
        for item in reader:
            items.append(item)
    except JoError as exc:
        error = exc.message
    except Exception as exc:  # recorded, so a one-sided crash shows in the diff (`same_both_ways` refuses any)
        error = f"uncaught {type(exc).__name__}: {exc}"
    counters = (reader.read, reader.accepted, reader.rejected, reader.invalid_zones)
    return Outcome(items, error, counters, list(reader.warnings)), reader.columnar_used


def assert_same(python: Outcome, fast: Outcome) -> None:
    """Equal items, error, counters and warnings; items equal by `repr` too, which tells 1 from 1.0 and True,
    -0.0 from 0.0, a datetime in UTC from the same instant elsewhere, and one key order from another."""
    if fast.items != python.items or repr(fast.items) != repr(python.items):
        for number, (mine, theirs) in enumerate(zip(python.items, fast.items, strict=False)):
            assert theirs == mine, f"item {number}: python path {mine!r}, columnar path {theirs!r}"
            assert repr(theirs) == repr(mine), (
                f"item {number}: equal by == but not in type, sign, key order or zone: python path {mine!r}, "
                f"columnar path {theirs!r}")
        assert len(fast.items) == len(python.items), (
            f"python path {len(python.items)} items, columnar path {len(fast.items)}; first extra: "
            f"{(python.items + fast.items)[min(len(python.items), len(fast.items))]!r}")
    assert fast.error == python.error
    assert fast.counters == python.counters, "(read, accepted, rejected, invalid_zones)"
    assert fast.warnings == python.warnings


def same_both_ways(path: Path, schema: Any, *, columnar: bool | None = True, **options: Any) -> bool:
    """Asserts that `columnar` reads `path` as `columnar=False` does; True when the columnar path produced
    the rows."""
    python, python_used = outcome(path, schema, False, **options)
    fast, used = outcome(path, schema, columnar, **options)
    assert python_used is False
    assert_same(python, fast)
    # Equal is not enough: a bad file is a JoError or rejects, never a traceback (SPEC §11 reliability).
    assert python.error is None or not python.error.startswith("uncaught"), python.error
    return used


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "p.csv"
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    return path


# --- property tests -------------------------------------------------------------------------------------


def _check_table(tmp_path: Path, table: Table) -> None:
    note(f"content={table.content!r}")
    note(f"schema={table.schema!r}")
    note(f"options={table.options!r}")
    used = same_both_ways(write(tmp_path, table.content), table.schema, **table.options)
    event("columnar path" if used else "fell back to the python path")


@examples(1000)
@given(table=tables())
def test_structured_tables_read_the_same_both_ways(tmp_path: Path, table: Table) -> None:
    _check_table(tmp_path, table)


@examples(600)
@given(table=raw_files())
def test_raw_files_read_the_same_both_ways(tmp_path: Path, table: Table) -> None:
    _check_table(tmp_path, table)


# This test found the divergences of `MALFORMED_QUOTING` below: where the csv module (strict) refuses or splits
# a cell's quoting, polars read a value, and the columnar path yielded rows where the Python path aborts or
# rejects the record.
@examples(600)
@given(table=quoted_files())
def test_quote_heavy_files_read_the_same_both_ways(tmp_path: Path, table: Table) -> None:
    _check_table(tmp_path, table)


# --- the fast path is taken on realistic files ----------------------------------------------------------


@pytest.fixture(scope="module")
def bench_csv() -> Iterator[Any]:
    """bench/bench_csv.py as a module (the bench scripts import each other from their own folder)."""
    folder = str(REPO / "bench")
    sys.path.insert(0, folder)
    try:
        import bench_csv

        yield bench_csv
    finally:
        sys.path.remove(folder)


@pytest.fixture(scope="module")
def bench_file(bench_csv: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "profiles.csv"
    bench_csv.generate(path, 2000)
    return path


@pytest.mark.parametrize("keep", [None, frozenset({"id", "tier", "consent", "signup_at"})])
@pytest.mark.parametrize("zone_field", [None, "timezone"])
def test_bench_file_takes_the_columnar_path(bench_csv: Any, bench_file: Path, keep: frozenset[str] | None,
                                            zone_field: str | None) -> None:
    assert same_both_ways(bench_file, bench_csv.SCHEMA, keep=keep, zone_field=zone_field) is True
    python, _ = outcome(bench_file, bench_csv.SCHEMA, False, keep=keep, zone_field=zone_field)
    assert python.counters == (2000, 2000, 0, 0)  # the equality above is over 2,000 real rows


def test_columnar_false_never_takes_it(bench_csv: Any, bench_file: Path) -> None:
    _, used = outcome(bench_file, bench_csv.SCHEMA, False, zone_field="timezone")
    assert used is False


SMALL_SCHEMA = FULL_SCHEMA
SMALL_HEADER = "id,timezone,orders,spend,vip,seen_at,tags,consent.email,name,birth\n"
SMALL_ROWS = ('p1,Europe/Paris,3,2.5,true,2026-12-01T09:00:00,"[""a"", ""b""]",true,Ada,1990-05-17\n'
              "p2,Asia/Tokyo,0,0.0,FALSE,2026-03-29T02:30:00,[],,Björn,\n"
              "p3,,-7,1e5,false,2026-12-01T09:00:00Z,[],false,,2000-02-29\n"
              "p4,America/New_York,,,,,,,,\n")
SMALL = SMALL_HEADER + SMALL_ROWS


def test_small_valid_file_takes_the_columnar_path_when_asked(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    assert same_both_ways(path, SMALL_SCHEMA, zone_field="timezone") is True
    python, _ = outcome(path, SMALL_SCHEMA, False, zone_field="timezone")
    assert python.counters == (4, 4, 0, 0)


def test_auto_leaves_small_files_to_the_python_path(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    python, _ = outcome(path, SMALL_SCHEMA, False, zone_field="timezone")
    auto, used = outcome(path, SMALL_SCHEMA, None, zone_field="timezone")
    assert used is False
    assert_same(python, auto)


# Each guard: SMALL with one change that the columnar path must not take (it falls back, or the file aborts).
GUARDS = {
    "record over several lines": SMALL_HEADER + 'p9,,1,1,true,,[],true,"two\nlines",\n' + SMALL_ROWS,
    "blank line": SMALL_HEADER + SMALL_ROWS.replace("\np3", "\n\np3"),
    "row with too few cells": SMALL_HEADER + "p9,,1\n" + SMALL_ROWS,
    "carriage returns only": SMALL.replace("\n", "\r"),
    "NUL byte": SMALL + "p9,,1,1,true,,[],true,a\0b,\n",
    "cell over the size limit": SMALL + "p9,,1,1,true,,[],true," + "x" * 70000 + ",\n",
    "polars refuses a quote inside an unquoted cell": SMALL_HEADER + 'p9,,1,1,true,,[],true,a"b,\n' + SMALL_ROWS,
    "malformed quote": SMALL + 'p9,,1,1,true,,[],true,"a"b,\n',
    "unterminated quote": SMALL + 'p9,,1,1,true,,[],true,"open,\n',
    "not UTF-8": SMALL.encode() + b"p9,,1,1,true,,[],true,caf\xe9,\n",
}


@pytest.mark.parametrize("content", GUARDS.values(), ids=GUARDS.keys())
def test_guards_fall_back_to_the_python_path(tmp_path: Path, content: str | bytes) -> None:
    assert same_both_ways(write(tmp_path, content), SMALL_SCHEMA, zone_field="timezone") is False


def test_single_column_file_falls_back(tmp_path: Path) -> None:
    path = write(tmp_path, "id\np1\np2\n\"p3\"\np1\n")
    assert same_both_ways(path, SMALL_SCHEMA) is False


# Files at the edges of CSV: only equality is asserted (whether the columnar path takes them is its choice).
EDGES: dict[str, str | bytes] = {
    "no final newline": SMALL.rstrip("\n"),
    "trailing blank lines": SMALL + "\n\n",
    "CRLF": SMALL.replace("\n", "\r\n"),
    "UTF-8 BOM": "\ufeff" + SMALL,
    "BOM and CRLF, no final newline": "\ufeff" + SMALL.replace("\n", "\r\n").rstrip("\r\n"),
    "quoted header": '"id","timezone","orders"\n"p1","Europe/Paris","1"\n',
    "every cell quoted, empty ones too": '"id","orders","name","vip"\n"p1","","","true"\n"p2","1",""," "\n',
    "whitespace-only cells": "id,name,orders,vip\np1, ,1,true\np2,\t,2,false\n",
    "a lone CR inside a quoted cell": SMALL_HEADER.replace("\n", "\r\n") + 'p1,,1,1,true,,[],true,"a\rb",\r\n',
    "too many cells": SMALL_HEADER + "p9,,1,1,true,,[],true,a,,extra\n" + SMALL_ROWS,
    "header only": SMALL_HEADER,
    "empty file": "",
    "blank lines only": "\n\r\n\n",
    "unknown column": "id,nope\np1,1\n",
    "missing identity column": "orders,name\n1,a\n",
    "duplicate column": "id,orders,orders\np1,1,2\n",
    "column without a name": "id,,orders\np1,1,2\n",
    "object column": "id,consent\np1,true\n",
    "NUL in the header": "id,or\0ders\np1,1\n",
    "UTF-16": "id,orders\np1,1\n".encode("utf-16"),
    "two columns, one empty row of commas": "id,orders\n,\np1,1\n",
    "spaces around quoted cells": 'id,name\np1, "x"\np2,"x" \n',
    "BOM inside a cell": "id,name\np1,\ufeffx\n",
    "line separator inside a cell": "id,name\np1,a\u2028b\np2,c\x85d\n",
    "quoted identity that is empty": 'id,orders\n"",1\np1,2\n',
    "blank lines before the header": "\n\r\n" + SMALL,
    "a line of spaces": SMALL_HEADER + "   \n" + SMALL_ROWS,
    "quotes inside unquoted cells, balanced": 'id,name\np1,a"b"c\np2,a""b\n',
    "quotes inside unquoted cells, across lines": 'id,name\np1,a"b\np2,c"d\n',
    "last record without newline ends in an empty cell": "id,orders\np1,1\np2,",
    "last record is a lone quote pair": 'id,orders\np1,1\n""',
}


@pytest.mark.parametrize("content", EDGES.values(), ids=EDGES.keys())
def test_edge_files_read_the_same_both_ways(tmp_path: Path, content: str | bytes) -> None:
    same_both_ways(write(tmp_path, content), SMALL_SCHEMA, zone_field="timezone")


def test_small_field_size_limit_reads_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    for limit in (5, 10, 20, 40):
        same_both_ways(path, SMALL_SCHEMA, zone_field="timezone", field_size_limit=limit)


# Divergences found by `test_quote_heavy_files_read_the_same_both_ways` (regressions now): quoting that the
# csv module refuses or splits, polars read as one cell, and line and comma counts did not notice. Each file
# is the minimal reproduction of one case; the comments say what each path gave.
BENCH_HEADER = ("id,email,first_name,country,timezone,birth_date,signup_at,tier,total_spend,orders,"
                "last_purchase_at,consent.email,consent.sms,city,tags\n")
MALFORMED_QUOTING = {
    # Python: JoError `p.csv:2: malformed CSV (',' expected after '"')`; columnar: Row(2, {id: p1, name: a})
    "text after a closing quote": "id,name\np1,\"\"a\"\"\n",
    # Python: JoError `p.csv:2: unterminated quote: ...`; columnar: Row(2, {id: p1, name: a})
    "escaped quote, then the end of the file": "id,name\np1,\"a\"\"",
    # Python: Reject(2, None, "16 cells instead of 15"); columnar: a Row whose first_name is the whole
    # `Ada "the, first" Lovelace` (a quoted cell earlier on the line makes polars read the quotes as quoting)
    "quote and comma inside an unquoted cell": BENCH_HEADER + '"p1",ada@example.org,Ada "the, first" Lovelace,'
                                               "FR,Europe/Paris,1990-01-01,2026-01-01T09:00:00,gold,10.5,1,,true,"
                                               "true,Paris,[]\n",
}


@pytest.mark.parametrize("content", MALFORMED_QUOTING.values(), ids=MALFORMED_QUOTING.keys())
def test_malformed_quoting_reads_the_same_both_ways(tmp_path: Path, bench_csv: Any, content: str) -> None:
    schema = bench_csv.SCHEMA if content.startswith(BENCH_HEADER) else build_schema(
        {"id": {"type": "string"}, "name": {"type": "string"}})
    same_both_ways(write(tmp_path, content), schema)


# --- rejects, identities and zones on the fast path -----------------------------------------------------

MANY_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["id"],
    "properties": {
        "id": {"type": "string"}, "tz": {"type": "string"},
        "t": {"type": "string", "format": "date-time"}, "u": {"type": "string", "format": "date-time"},
        "n": {"type": "integer"}, "x": {"type": "number"}, "ok": {"type": "boolean"},
        "d": {"type": "string", "format": "date"}, "tier": {"type": "string", "enum": ["gold", "silver"]},
        "code": {"type": "string", "pattern": "^[a-z]+$"}, "mail": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "consent": {"type": "object", "properties": {"email": {"type": "boolean"}}},
    },
}
MANY_HEADER = "id,tz,t,n,x,ok,d,tier,code,mail,tags,consent.email,u\n"
GOOD = "gold,abc,a@b.io,[],true,2026-12-01T10:00"


def _many_columns_file() -> str:
    rows = [f"p{i},Europe/Paris,2026-12-01T09:00,{i},{i}.5,true,2026-01-01,{GOOD}" for i in range(40)]
    bad = [
        "b1,,nope,1.5,nan,yes,2026-02-30,bronze,ABC,nomail,[1],2,nope",  # everything bad: n fails first
        "b2,,nope,1,nan,yes,2026-02-30,bronze,ABC,nomail,[1],2,nope",   # x first
        "b3,,nope,1,1,yes,2026-02-30,bronze,ABC,nomail,[1],2,nope",     # ok
        "b4,,nope,1,1,true,2026-02-30,bronze,ABC,nomail,[1],2,nope",    # d
        "b5,,nope,1,1,true,2026-01-01,bronze,ABC,nomail,[1],2,nope",    # tier
        "b6,,nope,1,1,true,2026-01-01,gold,ABC,nomail,[1],2,nope",      # code
        "b7,,nope,1,1,true,2026-01-01,gold,abc,nomail,[1],2,nope",      # mail
        "b8,,nope,1,1,true,2026-01-01,gold,abc,a@b.io,[1],2,nope",      # tags
        "b9,,nope,1,1,true,2026-01-01,gold,abc,a@b.io,[],2,nope",       # consent.email
        "b10,,nope,1,1,true,2026-01-01,gold,abc,a@b.io,[],true,nope",   # t, or u when only t is kept (below)
        "b11,,2026-12-01T09:00,1,1,true,2026-01-01,gold,abc,a@b.io,[],true,nope",  # u
        "b12,Mars/Olympus,nope,1,1,true,2026-01-01,gold,abc,a@b.io,[],true,",  # a warning, then t fails
        "b13,Mars/Olympus,nope,x,1,true,2026-01-01,gold,abc,a@b.io,[],true,",  # n fails before the zone is read
        "b14,Mars/Olympus,,1,1,true,2026-01-01,gold,abc,a@b.io,[],true,",  # no date-time, still a warning
    ]
    return MANY_HEADER + "".join(f"{row}\n" for row in rows[:20] + bad + rows[20:])


@pytest.mark.parametrize("keep", [None, frozenset({"id", "n"}), frozenset({"id", "t"}), frozenset({"id", "u"}),
                                  frozenset({"id", "consent"}), frozenset()])
@pytest.mark.parametrize("zone_field", [None, "tz"])
def test_bad_cells_in_many_columns_name_the_first_failing(tmp_path: Path, keep: frozenset[str] | None,
                                                          zone_field: str | None) -> None:
    path = write(tmp_path, _many_columns_file())
    assert same_both_ways(path, MANY_SCHEMA, keep=keep, zone_field=zone_field) is True
    python, _ = outcome(path, MANY_SCHEMA, False, keep=keep, zone_field=zone_field)
    named = [(item.line, item.column) for item in python.items if isinstance(item, Reject)]
    assert named[:11] == [(22, "n"), (23, "x"), (24, "ok"), (25, "d"), (26, "tier"), (27, "code"), (28, "mail"),
                          (29, "tags"), (30, "consent.email"), (31, "u" if keep == frozenset({"id", "t"}) else "t"),
                          (32, "u")]


IDENTITY_FILE = ("id,n,name\n"
                 "p1,x,rejected first\n"     # a rejected row does not claim p1
                 "p1,1,accepted\n"
                 "p1,2,repeats line 3\n"
                 ",3,empty identity\n"
                 '"",4,quoted empty identity\n'
                 "p2,y,rejected\n"
                 "p2,z,rejected again\n"
                 "p2,5,accepted\n"
                 " p2,6,another identity\n"
                 + "".join(f"q{i},{i},filler\n" for i in range(30)) +
                 "q7,7,repeats a filler\n")


@pytest.mark.parametrize("identity", ["id", None])
@pytest.mark.parametrize("keep", [None, frozenset({"id"}), frozenset({"id", "name"})])
def test_rejected_row_does_not_claim_its_identity(tmp_path: Path, identity: str | None,
                                                  keep: frozenset[str] | None) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer"},
                                               "name": {"type": "string"}}}
    path = write(tmp_path, IDENTITY_FILE)
    assert same_both_ways(path, schema, identity=identity, keep=keep) is True
    python, _ = outcome(path, schema, False, identity=identity, keep=keep)
    if identity is not None:
        assert [(item.line, item.column) for item in python.items if isinstance(item, Reject)] == [
            (2, "n"), (4, "id"), (5, "id"), (6, "id"), (7, "n"), (8, "n"), (41, "id")]


@pytest.mark.parametrize("kind", ["integer", "common integer", "number", "date"])
def test_typed_identities_collide_after_conversion(tmp_path: Path, kind: str) -> None:
    # "common integer": every identity in the fast spelling, so repeats are found from the whole column at once
    schema = {"type": "object", "properties": {"id": {"type": kind.split()[-1]} if kind != "date" else
                                               {"type": "string", "format": "date"}, "n": {"type": "integer"}}}
    cells = {"integer": ["1", "+1", "01", "-0", "0", "x", "1"], "common integer": ["1", "+1", "01", "-0", "0", "7"],
             "number": ["1", "1.0", "1e0", "-0", "0.0", "0", "nan"],
             "date": ["2026-01-01", "2026-01-01", "2026-01-02", "2026-1-01", "2026-01-02", "", "2026-01-03"]}[kind]
    rows = [f"{cell},{i}" for i, cell in enumerate(cells)] + [f"{i + 100},{i}" if kind != "date" else
                                                              f"2027-01-{i + 1:02d},{i}" for i in range(20)]
    path = write(tmp_path, "id,n\n" + "\n".join(rows) + "\n")
    assert same_both_ways(path, schema) is True


def test_invalid_zone_warnings_are_counted_and_capped_alike(tmp_path: Path) -> None:
    zones = ["Mars/Olympus", "Europe/Paris", "", "europe/paris", "Asia/Tokyo"]
    rows = "".join(f"p{i % 1400},{zones[i % 5]},2026-03-29T02:{i % 60:02d}:00,{i if i % 97 else 'x'}\n"
                   for i in range(3000))
    path = write(tmp_path, "id,tz,t,n\n" + rows)
    for keep in (None, frozenset({"id"}), frozenset({"id", "t"})):
        assert same_both_ways(path, MANY_SCHEMA, zone_field="tz", keep=keep) is True
    python, _ = outcome(path, MANY_SCHEMA, False, zone_field="tz")
    assert len(python.warnings) == 1000 and python.counters[3] > 1000


def test_dst_gaps_folds_and_far_dates_in_row_zones(tmp_path: Path) -> None:
    zones = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
             "Africa/Casablanca", "America/Mexico_City", "Asia/Tehran", "Africa/Cairo", "America/Nuuk",
             "Europe/Kyiv", "America/Ciudad_Juarez", "Antarctica/Troll", "Etc/GMT+5", "EST5EDT", "localtime",
             "posixrules", "right/UTC", "Factory", "UTC"]
    times = ["2026-03-29T02:30:00", "2026-10-25T02:30:00", "2026-03-08T02:30:00", "2026-11-01T01:30:00",
             "2026-10-04T02:15:00", "2026-04-05T01:45:00", "1900-01-01T00:00:00", "1911-03-11T00:00:00",
             "2040-07-01T12:00:00", "2100-03-28T02:30:00", "2023-03-26T02:30:00", "2024-04-26T00:30:00",
             "2022-10-30T01:30:00", "2026-03-29T02:00:00", "2026-03-29T02:59:59.999999", "2016-12-31T23:59:59"]
    rows = [f"p{i}-{j},{zone},{moment}" for i, zone in enumerate(zones) for j, moment in enumerate(times)]
    path = write(tmp_path, "id,tz,t\n" + "\n".join(rows) + "\n")
    assert same_both_ways(path, MANY_SCHEMA, zone_field="tz") is True
    assert same_both_ways(path, MANY_SCHEMA) is True  # every wall time in the project zone


# Divergences found by this file (regressions now): cells on which the converters raised something other than
# CellError, so that both paths crashed (exit 3), and at different points: the Python path after yielding the
# rows before the record, the columnar path (which runs a column's converter over a slice of rows before it
# yields any) with no items and all counters 0. `int()` of more than 4,300 digits raised ValueError; `float()`
# of a huge JSON integer and a date-time whose UTC instant is out of range raised OverflowError.
CRASHING_CELLS = [
    ("t", "0001-01-01T00:00:00"),            # Paris wall time: year 0 in UTC
    ("t", "0001-01-01T00:00:00+01:00"),
    ("t", "9999-12-31T23:59:59-01:00"),
    ("n", "9" * 5000),
    ("visits", '["0001-01-01T00:00:00"]'),
    ("scores", "[" + "9" * 400 + "]"),     # float() of a 400-digit JSON integer: OverflowError
]


@pytest.mark.parametrize(("column", "cell"), CRASHING_CELLS, ids=["t-year-1", "t-year-1-offset", "t-year-9999",
                                                                  "n-5000-digits", "visits-year-1",
                                                                  "scores-400-digits"])
def test_cells_the_converters_crash_on_read_the_same_both_ways(tmp_path: Path, column: str, cell: str) -> None:
    schema = build_schema({"id": {"type": "string"}, "t": {"type": "string", "format": "date-time"},
                           "n": {"type": "integer"},
                           "visits": {"type": "array", "items": {"type": "string", "format": "date-time"}},
                           "scores": {"type": "array", "items": {"type": "number"}}})
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\n").writerows([["id", column], *[[f"p{i}", ""] for i in range(5)], ["q", cell]])
    assert same_both_ways(write(tmp_path, text.getvalue()), schema) is True


# --- bigger files with nasty cells mixed in -------------------------------------------------------------

_NASTY_BENCH_CELLS = ["", "x", "1e999", "nan", "-0", "+1", ARABIC_123, "1_000", ".5", "5.", "tRuE", "TRUE",
                      "2026-02-30", "2026-1-01", "2026-03-29T02:30:00", "2026-12-01T24:00:00", "2026-12-01 09:00z",
                      "2026-12-01T09:00:00.5+02:00", "Mars/Olympus", "[1,]", '["a",', "[[1]]", "bronze ",
                      "12345678901234567890123", "p00000001", " p00000002"]


@examples(40)
@given(changes=st.lists(st.tuples(st.integers(0, 299), st.integers(0, 14), st.sampled_from(_NASTY_BENCH_CELLS)),
                        max_size=25),
       keep=st.sampled_from([None, frozenset({"id", "tier", "consent"}), frozenset({"id", "signup_at"})]),
       zone_field=st.sampled_from([None, "timezone"]))
def test_bench_rows_with_nasty_cells_read_the_same(tmp_path: Path, bench_csv: Any, bench_file: Path,
                                                   changes: list[tuple[int, int, str]], keep: frozenset[str] | None,
                                                   zone_field: str | None) -> None:
    with bench_file.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))[:301]
    for row, column, cell in changes:
        records[row + 1][column] = cell
    text = io.StringIO(newline="")
    csv.writer(text).writerows(records)
    note(f"changes={changes!r}")
    used = same_both_ways(write(tmp_path, text.getvalue()), bench_csv.SCHEMA, keep=keep, zone_field=zone_field)
    assert used is True


# --- rows made into Python values a slice at a time ------------------------------------------------------


@contextlib.contextmanager
def slices_of(rows: int) -> Iterator[None]:
    """The columnar path's `SLICE` (rows made into Python values at a time) set to `rows`, so that small files
    cross slice boundaries (suspect rows, identities, zones and line numbers on both sides of one)."""
    from jo_cli.data import columnar

    if not hasattr(columnar, "SLICE"):
        pytest.skip("jo_cli/data/columnar.py has no SLICE")
    with mock.patch.object(columnar, "SLICE", rows):
        yield


@pytest.mark.parametrize("rows", [1, 2, 7, 64])
def test_small_slices_read_the_same(tmp_path: Path, rows: int) -> None:
    with slices_of(rows):
        many = write(tmp_path, _many_columns_file())
        for keep in (None, frozenset({"id", "t"})):
            assert same_both_ways(many, MANY_SCHEMA, keep=keep, zone_field="tz") is True
        identities = tmp_path / "identities.csv"
        identities.write_text(IDENTITY_FILE)
        schema = build_schema({"id": {"type": "string"}, "n": {"type": "integer"}, "name": {"type": "string"}})
        assert same_both_ways(identities, schema) is True
        zones = tmp_path / "zones.csv"
        zones.write_text("id,tz,t,n\n" + "".join(f"p{i % 70},{['Mars/Olympus', '', 'Asia/Tokyo'][i % 3]},"
                                                 f"2026-03-29T02:30:00,{i if i % 11 else 'x'}\n" for i in range(150)))
        assert same_both_ways(zones, MANY_SCHEMA, zone_field="tz") is True


@examples(300)
@given(table=tables(), rows=st.sampled_from([1, 2, 3, 5]))
def test_structured_tables_read_the_same_in_small_slices(tmp_path: Path, table: Table, rows: int) -> None:
    with slices_of(rows):
        _check_table(tmp_path, table)


# --- files big enough for the automatic choice (several polars chunks) -----------------------------------

BIG_ROWS = 50_000  # about 8 MB


@pytest.fixture(scope="module")
def big_lines(bench_csv: Any, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("big") / "profiles.csv"
    bench_csv.generate(path, BIG_ROWS)
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _big_variant(tmp_path: Path, lines: list[str], change: str | None) -> Path:
    """The big file with `change` made to seven records spread over it (chunk boundaries fall among them)."""
    lines = list(lines)
    for step in range(1, 8):
        at = step * len(lines) // 8 + step
        cells = lines[at].rstrip("\n").split(",")
        if change == "bad cells":  # values that fail, on a file that stays clean CSV
            cells[9] = ["x", "1e999", ARABIC_123, "+1", "-0", "nan", "tRuE"][step - 1]  # orders
            cells[5] = ["2026-13-01", "", "1990-01-01", "", "", "x", "0000-01-01"][step - 1]  # birth_date
            cells[4] = "Mars/Olympus" if step in (4, 5) else cells[4]  # a warning, and on 5 a reject
            cells[0] = "p00000001" if step == 5 else cells[0]
            lines[at] = ",".join(cells) + "\n"
        elif change == "record over two lines":
            cells[13] = '"City\n2"'
            lines[at] = ",".join(cells) + "\n"
        elif change == "quote inside an unquoted cell":
            cells[13] = 'Ci"ty'
            lines[at] = ",".join(cells) + "\n"
        elif change == "blank line":
            lines[at] = "\n" + lines[at]
        elif change == "too few cells":
            lines[at] = ",".join(cells[:-2]) + "\n"
        elif change == "lone carriage return in a quoted cell":
            cells[13] = '"City\r2"'
            lines[at] = ",".join(cells) + "\n"
    path = tmp_path / "big.csv"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("change", [None, "bad cells"])
def test_big_files_take_the_columnar_path_by_themselves(tmp_path: Path, bench_csv: Any, big_lines: list[str],
                                                         change: str | None) -> None:
    path = _big_variant(tmp_path, big_lines, change)
    assert same_both_ways(path, bench_csv.SCHEMA, columnar=None, zone_field="timezone") is True
    if change is not None:
        python, _ = outcome(path, bench_csv.SCHEMA, False, zone_field="timezone")
        assert python.counters[2:] == (6, 2)


@pytest.mark.parametrize("change", ["record over two lines", "quote inside an unquoted cell", "blank line",
                                    "too few cells", "lone carriage return in a quoted cell"])
def test_big_files_fall_back_alike(tmp_path: Path, bench_csv: Any, big_lines: list[str], change: str) -> None:
    path = _big_variant(tmp_path, big_lines, change)
    assert same_both_ways(path, bench_csv.SCHEMA, columnar=None, zone_field="timezone") is False


# --- the written-back check, a few rows at a time -------------------------------------------------------

WRITTEN_BACK = {
    "clean": "id,name\np1,a\np2,\"b,c\"\np3,\"d\"\"e\"\np4,\n",
    "crlf": "id,name\r\np1,a\r\np2,\"b,c\"\r\np3,x\r\n",
    "bom, no final newline": "\ufeffid,name\np1,a\np2,b\np3,c",
    "header only": "id,name\n",
    "needless quotes in the last chunk": "id,name\np1,a\np2,b\np3,\"c\"\n",
    "malformed quote in a middle chunk": "id,name\np1,a\np2,\"\"b\"\"\np3,c\np4,d\n",
    "short record at the end": "id,name\np1,a\np2,b\np3\n",
    "blank line between chunks": "id,name\np1,a\n\np2,b\n",
}


@pytest.mark.parametrize("rows", [1, 2, 3])
@pytest.mark.parametrize("content", WRITTEN_BACK.values(), ids=WRITTEN_BACK.keys())
def test_the_written_back_check_compares_chunk_by_chunk(tmp_path: Path, rows: int, content: str) -> None:
    """`WRITTEN` (rows written back and compared at a time) set small: the verdict and the items do not
    depend on where the chunks fall."""
    from jo_cli.data import columnar

    schema = build_schema({"id": {"type": "string"}, "name": {"type": "string"}})
    path = write(tmp_path, content)
    whole = same_both_ways(path, schema)
    with mock.patch.object(columnar, "WRITTEN", rows):
        assert same_both_ways(path, schema) is whole
    canonical = not any(word in content for word in ('""b""', '"c"\n', "p3\n", "\n\n"))
    assert whole is canonical


def test_a_kept_text_column_of_few_values_shares_one_string_per_value(tmp_path: Path) -> None:
    schema = build_schema({"id": {"type": "string"}, "tier": {"type": "string"}})
    path = write(tmp_path, "id,tier\n" + "".join(f"p{i},{'gold' if i % 3 else 'silver'}\n" for i in range(300)))
    reader = TableReader(path, schema, shown="p.csv", identity="id", zone=PARIS, columnar=True)
    rows = [item for item in reader if isinstance(item, Row)]
    assert reader.columnar_used and len(rows) == 300
    assert len({id(row.values["tier"]) for row in rows}) == 2  # one "gold" and one "silver" for 300 rows
    assert len({id(row.values["id"]) for row in rows}) == 300


def test_without_polars_the_python_path_reads_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jo_cli.data

    path = write(tmp_path, SMALL)
    monkeypatch.delattr(jo_cli.data, "columnar", raising=False)  # as if never imported
    with mock.patch.dict(sys.modules, {"polars": None, "jo_cli.data.columnar": None}):
        reader = TableReader(path, SMALL_SCHEMA, shown="p.csv", identity="id", zone=PARIS, columnar=True)
        items = list(reader)
    assert reader.columnar_used is False
    assert items == outcome(path, SMALL_SCHEMA, False)[0].items


def test_after_a_slice_of_mostly_bad_rows_the_rest_is_read_record_by_record(tmp_path: Path) -> None:
    """A slice where most rows fail (a wrong schema, say) sends the following slices through `_convert`
    directly; the items are the same, bad or good rows alike."""
    from jo_cli.data import columnar

    schema = build_schema({"id": {"type": "string"}, "n": {"type": "integer"}, "tz": {"type": "string"},
                           "t": {"type": "string", "format": "date-time"}})
    rows = [f"b{i},x{i},Asia/Tokyo,2026-01-01T09:00" for i in range(6)]  # n is never an integer here
    rows += [f"p{i},{i},{'Mars/Olympus' if i % 4 else 'Asia/Tokyo'},2026-03-29T02:30:00" for i in range(12)]
    rows += ["p3,3,Asia/Tokyo,2026-01-01T09:00", ",5,Asia/Tokyo,", "p99,nope,Asia/Tokyo,"]
    path = write(tmp_path, "id,n,tz,t\n" + "\n".join(rows) + "\n")
    calls: list[int] = []
    original = TableReader._convert

    def counting(self: TableReader, plan: Any, line: int, record: list[str]) -> Row | Reject:
        calls.append(line)
        return original(self, plan, line, record)

    with mock.patch.object(columnar, "SLICE", 4), mock.patch.object(TableReader, "_convert", counting):
        assert same_both_ways(path, schema, zone_field="tz") is True
        calls.clear()
        outcome(path, schema, True, zone_field="tz")
    assert calls == list(range(2, 2 + len(rows)))  # the first slice fails whole: every record after it too
