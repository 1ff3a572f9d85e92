"""Hypothesis strategies for profile CSVs: random schemas, nasty cells, whole files as bytes.

`tables()` draws a schema from a catalogue of column kinds, rows of mostly valid but often nasty cells
written with `csv.writer`, and the reader's arguments (`keep`, `zone_field`, `identity`,
`field_size_limit`). `raw_files()` draws CSV text token by token (quotes, line endings, NUL, BOM, bad
UTF-8, blank lines, ragged rows) under a header taken from the full catalogue schema. `quoted_files()` pieces
cells together from quotes, commas and line breaks, well formed or not.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

# --- the catalogue: column name -> (schema, kind of cell values) -----------------------------------------

PATTERNS = ["^p[0-9]+$", "^\\d+$", "\\w", "^[a-z ]*$", "(?i)^ab", "^.{2,5}$", "é", "^\\S+$", "\\bx\\b",
            "^[[:alpha:]]+$", "\\pL"]
TIERS = ["gold", "silver", "Gold", "gold "]
CATALOGUE: dict[str, tuple[dict[str, Any], str]] = {
    "name": ({"type": "string"}, "string"),
    "note": ({}, "string"),
    "tier": ({"type": "string", "enum": TIERS}, "enum"),
    "birth": ({"type": "string", "format": "date"}, "date"),
    "seen_at": ({"type": "string", "format": "date-time"}, "datetime"),
    "signup_at": ({"type": ["string", "null"], "format": "date-time"}, "datetime"),
    "mail": ({"type": "string", "format": "email"}, "email"),
    "code": ({"type": "string", "pattern": "^p[0-9]+$"}, "pattern"),  # the pattern is drawn per table
    "wait": ({"type": "string", "format": "duration"}, "duration"),
    "orders": ({"type": "integer"}, "integer"),
    "level": ({"type": ["integer", "null"], "enum": [1, 2, 3]}, "level"),
    "spend": ({"type": "number"}, "number"),
    "vip": ({"type": "boolean"}, "boolean"),
    "tags": ({"type": "array", "items": {"type": "string"}}, "tags"),
    "extra": ({"type": "array"}, "array"),
    "scores": ({"type": "array", "items": {"type": "number"}}, "numbers"),
    "counts": ({"type": "array", "items": {"type": "integer"}}, "integers"),
    "visits": ({"type": "array", "items": {"type": "string", "format": "date-time"}}, "datetimes"),
    "consent.email": ({"type": "boolean"}, "boolean"),
    "consent.sms": ({"type": "boolean"}, "boolean"),
    "address.city": ({"type": "string"}, "string"),
    "address.geo.lat": ({"type": "number"}, "number"),
}
ZONE_FIELD = "timezone"
IDENTITY_SCHEMAS: list[dict[str, Any]] = [{"type": "string"}, {"type": "string", "pattern": "^p[0-9]+$"},
                                          {"type": "integer"}, {"type": "number"}, {"type": "string", "format": "date"}]


def build_schema(columns: dict[str, dict[str, Any]], required: list[str] | None = None) -> dict[str, Any]:
    """An object schema whose properties are `columns`, dotted names nested as objects."""
    root: dict[str, Any] = {"type": "object", "properties": {}}
    if required is not None:
        root["required"] = required
    for name, schema in columns.items():
        node = root
        *parents, leaf = name.split(".")
        for part in parents:
            node = node["properties"].setdefault(part, {"type": "object", "properties": {}})
        node["properties"][leaf] = schema
    return root


FULL_SCHEMA = build_schema({"id": {"type": "string"}, ZONE_FIELD: {"type": "string"},
                            **{name: schema for name, (schema, _) in CATALOGUE.items()}}, ["id"])

# --- cells ----------------------------------------------------------------------------------------------

# Look-alikes, spelled as escapes: Arabic-Indic digits (isdigit() but not ASCII), fullwidth letters.
ARABIC_123 = "\u0661\u0662\u0663"
ARABIC_DATE = "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661"
FULLWIDTH_AB = "\uff41\uff42"

VALID_ZONES = ["Europe/Paris", "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
               "America/St_Johns", "Africa/Casablanca", "America/Mexico_City", "Asia/Tehran", "Africa/Cairo",
               "America/Nuuk", "Europe/Kyiv", "Europe/Kiev", "America/Ciudad_Juarez", "Pacific/Kanton", "Etc/GMT+5",
               "EST5EDT", "EST", "GMT", "Zulu", "localtime", "posixrules", "Factory", "Asia/Kathmandu",
               "America/Sao_Paulo", "Antarctica/Troll", "US/Pacific", "right/UTC", "posix/Europe/Paris"]
INVALID_ZONES = ["Mars/Olympus", "europe/paris", "utc", " Europe/Paris", "Europe/Paris ", "../etc", "+02:00",
                 "Etc/GMT+15", "/etc/localtime", "Europe//Paris", "Europe/Paris/", "é"]
ZONES = st.one_of(st.sampled_from(VALID_ZONES), st.sampled_from(VALID_ZONES), st.sampled_from(INVALID_ZONES),
                  st.just(""))

NASTY_COMMON = ["", " ", "  ", "\t", "null", "NULL", "NA", "N/A", "None", "nan", "-", "\"", "a,b", "é", "\u00a0",
                "line\nbreak", "cr\rin", "crlf\r\nin", "\u2028"]
INTEGERS_NASTY = ["+1", "-0", "+0", "007", " 1", "1 ", "1234567890123456789", "9223372036854775807",
                  "9223372036854775808", "-9223372036854775809", "12345678901234567890123", "1.0", "1.", ".5",
                  "1e5", "1e999", "1_000", ARABIC_123, "²", "0x10", "+", "--1", "inf", "½", "1,000"]
NUMBERS_NASTY = ["1e999", "-1e999", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "infinity", "iNF", "1_000",
                 ".5", "5.", "+.5", "-.5e-3", "1e5", "1E5", "+1", "-0", "-0.0", " 1", "1 ", ARABIC_123,
                 ARABIC_123 + ".\u0665", "1,5",
                 "0x1p3", "1e-400", "4.9e-324", "2.2250738585072011e-308", "1.7976931348623157e308", "1.8e308",
                 "12345678901234567890123", "9007199254740993", "0.30000000000000004",
                 "1.00000000000000011102230246251565404236316680908203125", "00.5", "1e", "e5", "\u00a01", "1\u2003",
                 "1__0", "1.5f", "1d", "0b1"]
BOOLEANS_NASTY = ["TRUE", "True", "tRuE", "FALSE", "False", "fAlSe", " true", "true ", "1", "0", "yes", "t", "f",
                  "\uff54\uff52\uff55\uff45", "tru\u0435", "T"]
DATES_NASTY = ["0000-01-01", "0001-01-01", "9999-12-31", "2026-02-30", "2023-02-29", "2024-02-29", "2026-1-01",
               "2026-01-1", "2026/01/01", "20260101", " 2026-01-01", "2026-01-01 ", "2026-13-01", "2026-00-10",
               "2026-12-00", "1582-10-10", "+2026-01-01", "2026-01-01T00:00", ARABIC_DATE, "2026-W01-1",
               "2026-001"]
DATETIMES_NASTY = ["2026-12-01T09:00:00Z", "2026-12-01T09:00:00z", "2026-12-01T09:00", "2026-12-01 09:00:00",
                   "2026-12-01t09:00:00", "2026-12-01T24:00:00", "2026-12-01T23:59:60", "2026-12-01T09:00:00.5",
                   "2026-12-01T09:00:00.123456789", "2026-12-01T09:00:00.1234565", "2026-12-01T09:00:00+02:00",
                   "2026-12-01T09:00:00-05:30", "2026-12-01T09:00:00+14:00", "2026-12-01T09:00:00+24:00",
                   "2026-12-01T09:00:00+02", "2026-12-01T09:00:00+0200", "2026-12-01T09:00Z",
                   "2026-12-01T09:00+01:00", "2026-12-01T9:00", "2026-12-01", "2026-12-01X09:00:00",
                   "2026-12-01T09:00:00.", "2026-12-01T09:00:00,5", "2026-12-01T09:00:00 Z", " 2026-12-01T09:00",
                   "2026-12-01T09:00 ", "2026-02-30T09:00", ARABIC_DATE + "T09:00",
                   # DST gaps and folds: Paris, New York, Lord Howe (30 min), far past and far future
                   "2026-03-29T02:30:00", "2026-03-29T02:00:00", "2026-03-29T02:59:59.999999", "2026-10-25T02:30:00",
                   "2026-03-08T02:30:00", "2026-11-01T01:30:00", "2026-10-04T02:15:00", "2026-04-05T01:45:00",
                   "1900-01-01T00:00:00", "1911-03-11T00:00:00", "2040-07-01T12:00:00", "2100-03-28T02:30:00",
                   "2023-03-26T02:30:00", "2024-04-26T00:30:00", "2022-10-30T01:30:00"]
EMAILS_VALID = ["ada@example.org", "b.c@d.ef", "x+y@z.io", "é@ü.de", "a@b.c"]
EMAILS_NASTY = ["ada at example", "@x.y", "a@b", "a@@b.c", "a b@c.d", "ada@example.org ", " ada@example.org",
                "a\x1f@b.c", "a@b.c\x1c", "a\x85@b.c", "a\u3000@b.c", "a\u2028@b.c", "a\u200b@b.c", "a@b.c\n"]
PATTERN_CELLS = ["p1", "p007", "P1", "p", ARABIC_123, "123", "12a", "ab", "AB", "Ab c", "x", "x y", "axb", "x_y", "é",
                 "ǅ", "ß", "Ⅻ", " ", "a\nb", "abc\n", "\u00a0", "p1\n", FULLWIDTH_AB, "x\u200by"]
DURATIONS_VALID = ["PT1H", "P3D", "P1DT12H", "PT30M", "PT0S", "P1W"]
DURATIONS_NASTY = ["P1M", "P1Y", "PT", "P", "1H", "pt1h", "P1.5D", "-PT1H", "PT1.5H", "PT1H ", "P1DT"]
ARRAYS_NASTY = ["[]", "[1,]", "[\"a\",]", "[", "]", "[[[[[[", "[" * 2000 + "]" * 2000, "[null]", "[true]", "[1.0]",
                "[-0]", "[-0.0]", "[NaN]", "[Infinity]", "[-Infinity]", "[1e999]", "[10000000000000000000000]",
                " [1]", "[1] ", "[\"a\\\"b\"]", "[\"\\u00e9\", \"\\ud800\"]", "[[\"x\"], [1, [2]]]",
                "[{\"a\": 1, \"a\": 2}]", "{\"a\": 1}", "\"x\"", "1", "a;b", "['a']", "[\"2026-12-01T09:00\"]",
                "[\"2026-03-29T02:30:00\", \"2026-12-01T09:00:00+02:00\", null]", "[\"2026-12-01\"]", "[1, \"1\"]",
                "[true, false]", "[1e5, 2.5, -3]", "[\"a\\nb\", \"c,d\"]", "[\"x\"]\n"]

IDENTITIES = ["p1", "p2", "p3", "p10", "p01", "", " p1", "p1 ", "P1", "é", "1", "+1", "01", "-0", "0", "1.0", "x",
              "2026-01-01", "2026-1-01"]


def _json_text(values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return st.builds(lambda items, ascii_only: json.dumps(items, ensure_ascii=ascii_only),
                     st.lists(values, max_size=4), st.booleans())


@st.composite
def _datetime_text(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)))
    separator = draw(st.sampled_from(["T", "T", " ", "t"]))
    style = draw(st.sampled_from(["minutes", "seconds", "fraction"]))
    text = moment.strftime(f"%Y-%m-%d{separator}%H:%M")
    if style != "minutes":
        text += moment.strftime(":%S")
    if style == "fraction":
        text += "." + f"{moment.microsecond:06d}"[:draw(st.integers(1, 6))]
    return text + draw(st.sampled_from(["", "", "Z", "z", "+02:00", "-05:30", "+00:00"]))


_SHORT_TEXT = st.text(alphabet="abcxyz é,\"'-_.;", max_size=8)
VALID: dict[str, st.SearchStrategy[str]] = {
    "string": st.one_of(_SHORT_TEXT, st.sampled_from(["007", "1e5", "true", "0", "-", "Ada Lovelace"])),
    "enum": st.sampled_from(TIERS),
    "date": st.dates().map(dt.date.isoformat),
    "datetime": _datetime_text(),
    "email": st.sampled_from(EMAILS_VALID),
    "pattern": st.sampled_from(PATTERN_CELLS),
    "duration": st.sampled_from(DURATIONS_VALID),
    "integer": st.integers(-10**12, 10**12).map(str),
    "level": st.sampled_from(["1", "2", "3"]),
    "number": st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr),
                        st.integers(-10**9, 10**9).map(str),
                        st.floats(-1e6, 1e6).map(lambda value: f"{value:.2f}")),
    "boolean": st.sampled_from(["true", "false", "true", "false", "TRUE", "False"]),
    "tags": _json_text(st.text(alphabet="ab é,\"\\\n", max_size=4)),
    "array": _json_text(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(),
                                               st.floats(allow_nan=False, allow_infinity=False),
                                               st.text(alphabet="ab,\"", max_size=3)),
                                     lambda inner: st.lists(inner, max_size=2), max_leaves=4)),
    "numbers": _json_text(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))),
    "integers": _json_text(st.integers()),
    "datetimes": _json_text(_datetime_text()),
    "zone": ZONES,
}
NASTY: dict[str, list[str]] = {
    "string": ["\"quoted\"", "a\nb", "  padded  ", "x" * 70],
    "enum": ["GOLD", "bronze", " gold", "gold  "],
    "date": DATES_NASTY,
    "datetime": DATETIMES_NASTY,
    "email": EMAILS_NASTY,
    "pattern": PATTERN_CELLS,
    "duration": DURATIONS_NASTY,
    "integer": INTEGERS_NASTY,
    "level": ["4", "0", "1.0", "+1", "01", "true", "-1"],
    "number": NUMBERS_NASTY,
    "boolean": BOOLEANS_NASTY,
    "tags": ARRAYS_NASTY,
    "array": ARRAYS_NASTY,
    "numbers": ARRAYS_NASTY,
    "integers": ARRAYS_NASTY,
    "datetimes": ARRAYS_NASTY,
    "zone": INVALID_ZONES,
}


def cells(kind: str, nasty_percent: int, *, one_line: bool = False) -> st.SearchStrategy[str]:
    """One cell of a column of `kind`: valid, or (about `nasty_percent` % of the time) from the nasty lists;
    `one_line`: no line breaks, so that the record stays on one physical line."""
    if kind == "identity":
        return st.sampled_from(IDENTITIES)
    nasty = st.sampled_from([cell for cell in NASTY[kind] + NASTY_COMMON
                             if not (one_line and ("\n" in cell or "\r" in cell))])
    return st.integers(0, 99).flatmap(lambda roll: nasty if roll < nasty_percent else VALID[kind])


# --- whole files ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A CSV file's bytes, its schema and the reader's options (identity, zone_field, keep, field_size_limit)."""

    content: bytes
    schema: dict[str, Any] = field(repr=False)  # long: the tests print it apart
    options: dict[str, Any] = field(default_factory=dict)


def _keep(draw: st.DrawFn, header: list[str], identity: str | None) -> frozenset[str] | None:
    tops = sorted({name.split(".")[0] for name in header})
    if draw(st.booleans()):
        return None
    chosen = set(draw(st.lists(st.sampled_from(tops), unique=True, max_size=len(tops))))
    return frozenset(chosen | ({identity} if identity else set()))


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 12) -> Table:
    """A profile CSV written with csv.writer from a random schema; see the module docstring."""
    names = draw(st.lists(st.sampled_from(sorted(CATALOGUE)), unique=True, min_size=1, max_size=8))
    with_zone = draw(st.booleans())
    header = draw(st.permutations(["id", *names, *([ZONE_FIELD] if with_zone else [])]))
    columns: dict[str, dict[str, Any]] = {"id": draw(st.sampled_from(IDENTITY_SCHEMAS)), ZONE_FIELD: {"type": "string"}}
    for name in names:
        schema = dict(CATALOGUE[name][0])
        if "pattern" in schema:
            schema["pattern"] = draw(st.sampled_from(PATTERNS))
        columns[name] = schema
    required = draw(st.sampled_from([None, ["id"], ["id", names[0].split(".")[0]], ["id", "absent"]]))
    if required == ["id", "absent"]:
        columns["absent"] = {"type": "string"}
    kinds = ["identity" if name == "id" else "zone" if name == ZONE_FIELD else CATALOGUE[name][1]
             for name in header]
    nasty_percent = draw(st.sampled_from([0, 5, 20, 50]))
    one_line = draw(st.integers(0, 3)) > 0  # mostly files the columnar path can take
    rows = draw(st.lists(st.tuples(*[cells(kind, nasty_percent, one_line=one_line) for kind in kinds]).map(list),
                         max_size=max_rows))
    if rows and draw(st.integers(0, 9)) == 0:  # now and then a ragged row
        victim = draw(st.integers(0, len(rows) - 1))
        rows[victim] = rows[victim][:-1] if draw(st.booleans()) else [*rows[victim], "extra"]
    text = io.StringIO(newline="")
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    endings = draw(st.sampled_from([["\n"], ["\r\n"], ["\n", "\r\n"]]))  # the last: mixed, row by row
    for row in [header, *rows]:
        csv.writer(text, lineterminator=draw(st.sampled_from(endings)), quoting=quoting).writerow(row)
    content = text.getvalue()
    ending = draw(st.sampled_from(["keep", "keep", "keep", "strip", "blank"]))
    if ending == "strip":
        content = content.rstrip("\r\n")
    elif ending == "blank":
        content += "\n"
    data = content.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        data = b"\xef\xbb\xbf" + data
    identity = draw(st.sampled_from(["id", "id", "id", None]))
    options: dict[str, Any] = {
        "identity": identity,
        "zone_field": draw(st.sampled_from([ZONE_FIELD, ZONE_FIELD, None])),
        "keep": _keep(draw, header, "id"),
    }
    if draw(st.integers(0, 9)) == 0:
        options["field_size_limit"] = draw(st.sampled_from([8, 30, 100]))
    return Table(data, build_schema(columns, required), options)


_TOKENS = [",", ",", ",", ",", '"', '"', "\n", "\n", "\n", "\r", "\r\n", "\r\n", " ", "a", "b", "p1", "p2", "1",
           "-2", "2.5", "é", "true", "x", "2026-12-01T09:00", "Europe/Paris", "Mars/Olympus", "[1]", '["a"]', "[",
           '""', "\t", "\u2028"]
_RARE_TOKENS = ["\x00", "\ufeff"]
_BAD_BYTES = [b"\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe9", b"\xf4\x90\x80\x80", b"\x80"]
_RAW_COLUMNS = ["id", ZONE_FIELD, "orders", "spend", "vip", "seen_at", "tags", "consent.email", "name", "birth"]


@st.composite
def raw_files(draw: st.DrawFn) -> Table:
    """CSV bytes drawn token by token: mostly rows of the header's width, often not; see the module docstring."""
    header = draw(st.lists(st.sampled_from(_RAW_COLUMNS), unique=True, min_size=1, max_size=6))
    if "id" not in header and draw(st.integers(0, 9)) > 0:
        header.insert(draw(st.integers(0, len(header))), "id")
    quote_header = draw(st.integers(0, 4)) == 0
    lines = [",".join(f'"{name}"' if quote_header else name for name in header)]
    token = st.one_of(*[st.sampled_from(_TOKENS)] * 20, st.sampled_from(_RARE_TOKENS))
    cell = st.lists(token, max_size=3).map("".join)
    for _ in range(draw(st.integers(0, 8))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, 0, -1, 1, -len(header)]))
        lines.append(",".join(draw(st.lists(cell, min_size=max(width, 0), max_size=max(width, 0)))))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    text = ""
    for line in lines:
        text += line + (draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"])) if ending == "mixed" else ending)
    if draw(st.booleans()):
        text = text[:-1]
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 3)) == 0:
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 14)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(_BAD_BYTES)) + data[at:]
    options: dict[str, Any] = {"identity": "id", "zone_field": draw(st.sampled_from([ZONE_FIELD, None])),
                               "keep": None if draw(st.booleans()) else frozenset({"id", "consent", "seen_at"})}
    if draw(st.integers(0, 9)) == 0:
        options["field_size_limit"] = 10
    return Table(data, FULL_SCHEMA, options)


_QUOTE_FRAGMENTS = ["a", "b", '"', '"', '""', '"a"', '"a,b"', ",", " ", "\n", "\r\n", "é", "true", "[1]",
                    "2026-12-01T09:00"]


@st.composite
def quoted_files(draw: st.DrawFn) -> Table:
    """Rows of `id,name,vip,seen_at` whose cells are pieced from quotes, commas and line breaks: well formed
    or not, the quoting cases where two CSV parsers are most likely to disagree."""
    cell = st.lists(st.sampled_from(_QUOTE_FRAGMENTS), max_size=4).map("".join)
    identity = st.sampled_from(["p1", "p2", "", '"p3"', '"p1"', '"p4"'])
    rows = draw(st.lists(st.tuples(identity, cell, cell, cell), max_size=6))
    ending = draw(st.sampled_from(["\n", "\r\n", ""]))
    text = "id,name,vip,seen_at\n" + "\n".join(",".join(row) for row in rows) + ending
    return Table(text.encode(), FULL_SCHEMA, {"identity": "id", "zone_field": ZONE_FIELD})
