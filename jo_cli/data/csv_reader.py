"""Profile and entity CSVs read into typed rows (SPEC §5.1; reference/reliability.md §2.7, §3.3).

A file is read once, as a stream: header problems, encodings other than
UTF-8, NUL bytes, an unterminated quote or an over-long cell abort with
`JoError` (the rest of the file cannot be trusted); a record whose cells do not
convert, whose cell count is wrong or that repeats an identity becomes a
`Reject` value naming its first physical line, and reading goes on.

Files of `COLUMNAR_FROM_BYTES` and more are parsed and checked column by
column through polars (`columnar.py`) when it can read them exactly as the
csv module does; the items, counts and warnings are the same either way.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli.data.cells import CellError, Converter, converter, kind_of, naive_datetime, show, to_datetime
from jo_cli.errors import JoError

UTC = dt.UTC
_WIDE_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
              b"\xfe\xff": "UTF-16"}
_BOOLEANS = {"true": True, "false": False}
_ZONE_CACHE_SIZE = 4096
_KEPT_WARNINGS = 1000
COLUMNAR_FROM_BYTES = 4 << 20  # below this, importing polars costs more than it saves


@dataclass(frozen=True, slots=True)
class Reject:
    """A record left out (or, in `TableReader.warnings`, accepted with a warning): where and why."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: "
        return where + (f"{self.column}: {self.reason}" if self.column is not None else self.reason)


@dataclass(frozen=True, slots=True)
class Row:
    """An accepted record: its first physical line and its typed values (dotted columns nested)."""

    line: int
    values: dict[str, Any]


def invalid_zone(shown: str, line: int, column: str | None, name: Any, zone: ZoneInfo) -> Reject:
    """The warning of a row whose zone field names no zone: it is read in the project `zone` (§5.1)."""
    return Reject(shown, line, column, f"invalid zone {show(str(name))}: read in the project zone {zone.key}")


def place(row: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """`value` at a dotted column's `path` in `row`, making the nested mappings on the way."""
    target = row
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _check_start(path: Path, shown: str) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise JoError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None
    for bom, name in _WIDE_BOMS.items():
        if head.startswith(bom):
            raise JoError(f"{shown}:1: the file is {name} (byte order mark); save it as UTF-8")


def _undecodable_line(path: Path) -> tuple[int, str]:
    """The first line of `path` that is not UTF-8, and the offending byte (lines cannot split a character)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                return number, f"byte 0x{line[exc.start]:02x} at column {exc.start + 1}"
    return 1, "an undecodable byte"  # pragma: no cover - the decoder and this scan agree


def records(path: Path, *, shown: str, field_size_limit: int = 65536) -> Generator[tuple[int, list[str]], None, None]:
    """(first physical line, cells) for every non-blank record, header included; JoError for a file that
    cannot be trusted past some point (not UTF-8, NUL byte, unterminated quote, cell over the limit)."""
    _check_start(path, shown)
    previous_limit = csv.field_size_limit(field_size_limit)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:

            def lines() -> Iterator[str]:
                for number, line in enumerate(handle, 1):
                    if "\0" in line:
                        raise JoError(f"{shown}:{number}: NUL byte in the file; it is binary or not UTF-8")
                    yield line

            reader = csv.reader(lines(), strict=True)
            end = 0
            try:
                for record in reader:
                    if record:
                        yield end + 1, record
                    end = reader.line_num
            except UnicodeDecodeError:
                number, what = _undecodable_line(path)
                raise JoError(f"{shown}:{number}: not UTF-8 ({what}); save the file as UTF-8") from None
            except csv.Error as exc:
                raise _csv_failure(shown, end + 1, reader.line_num, str(exc), field_size_limit) from None
    finally:
        csv.field_size_limit(previous_limit)


def _csv_failure(shown: str, start: int, now: int, message: str, limit: int) -> JoError:
    if "field larger than field limit" in message:
        return JoError(f"{shown}:{start}: a cell is longer than {limit} characters (the field size limit); "
                       "an unterminated quote often causes this")
    if "unexpected end of data" in message:
        return JoError(f"{shown}:{start}: unterminated quote: the quoted cell that starts here never ends")
    return JoError(f"{shown}:{now}: malformed CSV ({message})")


# --- the table ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    name: str
    path: tuple[str, ...]
    convert: Converter | None
    is_datetime: bool
    schema: Any


def _column_schema(schema: Any, path: tuple[str, ...]) -> Any:
    """The schema of dotted `path` in `schema`, or None when it names no property."""
    node = schema
    for part in path:
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict) or part not in properties:
            return None
        node = properties[part]
    return node if isinstance(node, dict) else {}


class TableReader:
    """Iterating yields the file's records in source order as `Row` or `Reject` values.

    After (or during) iteration: `read`, `accepted`, `rejected` (read = accepted + rejected),
    `invalid_zones` and `warnings` (the first 1000 rows accepted with the project zone for an invalid one).
    """

    def __init__(self, path: Path, schema: Any, *, shown: str, identity: str | None, zone: ZoneInfo,
                 zone_field: str | None = None, field_size_limit: int = 65536,
                 keep: frozenset[str] | None = None, columnar: bool | None = None) -> None:
        """`keep`: the top-level fields a row's values hold (None: all). Every cell is still checked, so a
        row is rejected for a bad cell in a column nobody reads, exactly as without `keep`.

        `columnar`: read through polars (`columnar.py`): None for files of `COLUMNAR_FROM_BYTES` and more,
        True whenever its guards allow, False never. Both paths give the same items, counts and warnings;
        `columnar_used` says which one did.
        """
        self.keep = keep
        self.columnar = columnar
        self.columnar_used = False
        self.path = path
        self.schema = schema
        self.shown = shown
        self.identity = identity
        self.zone = zone
        self.zone_field = zone_field
        self.field_size_limit = field_size_limit
        self.read = self.accepted = self.rejected = self.invalid_zones = 0
        self.warnings: list[Reject] = []
        self._zones: dict[str, ZoneInfo | None] = {}
        self._first_lines: dict[Any, int] = {}  # while reading: each identity's first line

    def _columns(self, header: list[str], line: int) -> list[_Column]:
        where = f"{self.shown}:{line}"
        columns: list[_Column] = []
        seen: set[str] = set()
        for index, name in enumerate(header):
            if not name:
                raise JoError(f"{where}: column {index + 1} of the header has no name")
            if name in seen:
                raise JoError(f"{where}: duplicate column `{name}`")
            seen.add(name)
            path = tuple(name.split("."))
            column_schema = _column_schema(self.schema, path)
            if column_schema is None or "" in path:
                raise JoError(f"{where}: unknown column `{name}`: the schema has no such property")
            if kind_of(column_schema) == "object":
                raise JoError(f"{where}: column `{name}` is an object: give its fields as dotted columns "
                              f"like `{name}.field`")
            is_datetime = kind_of(column_schema) == "string" and column_schema.get("format") == "date-time"
            convert = converter(column_schema, f"{where}: column `{name}`", self.zone)
            columns.append(_Column(index, name, path, convert, is_datetime, column_schema))
        present = {column.path[0] for column in columns}
        required = self.schema.get("required") if isinstance(self.schema, dict) else None
        for name in required if isinstance(required, list) else []:
            if name not in present:
                raise JoError(f"{where}: missing required column `{name}`")
        if self.identity is not None and self.identity not in seen:
            raise JoError(f"{where}: missing identity column `{self.identity}`")
        return columns

    def _row_zone(self, name: str | None, line: int) -> ZoneInfo:
        if not name:
            return self.zone
        zone = self._zones.get(name, False)
        if zone is False:
            try:
                zone = ZoneInfo(name)
            except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
                zone = None
            if len(self._zones) < _ZONE_CACHE_SIZE:
                self._zones[name] = zone
        if zone is None:
            self.invalid_zones += 1
            if len(self.warnings) < _KEPT_WARNINGS:
                self.warnings.append(invalid_zone(self.shown, line, self.zone_field, name, self.zone))
            return self.zone
        assert isinstance(zone, ZoneInfo)
        return zone

    def __iter__(self) -> Iterator[Row | Reject]:
        self.read = self.accepted = self.rejected = self.invalid_zones = 0
        self.warnings = []
        self.columnar_used = False
        stream = records(self.path, shown=self.shown, field_size_limit=self.field_size_limit)
        first = next(stream, None)
        if first is None:
            raise JoError(f"{self.shown}:1: the file is empty: a header row is required")
        plan = _Plan(self._columns(first[1], first[0]), self.keep, self.zone_field, self.identity)
        self._first_lines = {}
        try:
            columnar = _columnar() if self._wants_columnar() else None
            if columnar is not None:
                table = columnar.read(self.path, first[1], self.field_size_limit)
                if table is not None:
                    stream.close()
                    self.columnar_used = True
                    items = columnar.rows(self, plan, table)
                    del table  # held by the rows' generator alone: freed when the read ends
                    yield from items
                    return
            convert = self._convert
            for line, record in stream:
                yield convert(plan, line, record)
        finally:
            self._first_lines = {}  # a million identities' first lines are not kept past the read

    def _wants_columnar(self) -> bool:
        if self.columnar is not None:
            return self.columnar
        try:
            return self.path.stat().st_size >= COLUMNAR_FROM_BYTES
        except OSError:  # pragma: no cover - the header was just read from it
            return False

    def _convert(self, plan: _Plan, line: int, record: list[str]) -> Row | Reject:
        """One record as the Python path reads it: typed cells, the row's zone, the identity's first row."""
        self.read += 1
        if len(record) != plan.width:
            self.rejected += 1
            return Reject(self.shown, line, None, f"{len(record)} cells instead of {plan.width}")
        cells: list[Any] = [cell or None for cell in record]
        index = -1
        try:
            for index, convert in plan.typed:
                cell = cells[index]
                if cell is not None:
                    cells[index] = convert(cell)
            for index in plan.checked_only:
                cell = cells[index]
                if cell is not None:
                    naive_datetime(cell)
            if plan.datetimes:
                zone = self.zone if plan.zone_index is None else self._row_zone(cells[plan.zone_index], line)
                for index in plan.datetimes:
                    cell = cells[index]
                    if cell is not None:
                        cells[index] = to_datetime(cell, zone)
        except CellError as exc:
            self.rejected += 1
            return Reject(self.shown, line, plan.names[index], str(exc))
        values = dict(zip(plan.flat_names, plan.pick(cells), strict=True))
        for index, path in plan.nested:
            place(values, path, cells[index])
        return self._admit(plan, line, None if plan.id_index is None else cells[plan.id_index], values)

    def _admit(self, plan: _Plan, line: int, key: Any, values: dict[str, Any]) -> Row | Reject:
        """The row, unless its identity is empty or an earlier accepted row has it."""
        if plan.id_index is not None:
            if key is None:
                self.rejected += 1
                return Reject(self.shown, line, plan.names[plan.id_index], "empty identity")
            earlier = self._first_lines.setdefault(key, line)
            if earlier != line:
                self.rejected += 1
                return Reject(self.shown, line, plan.names[plan.id_index], f"repeats the identity "
                              f"{show(str(key))} of line {earlier} (the first row wins)")
        self.accepted += 1
        return Row(line, values)


def _columnar() -> Any:
    """The columnar module, or None where polars cannot be imported (the csv module reads everything then)."""
    try:
        from jo_cli.data import columnar
    except ImportError:
        return None
    return columnar


class _Plan:
    """How the records of one header are read: which cells convert, which are kept and where."""

    def __init__(self, columns: list[_Column], keep: frozenset[str] | None, zone_field: str | None,
                 identity: str | None) -> None:
        self.columns = columns
        self.width = len(columns)
        self.names = [column.name for column in columns]
        self.typed = [(column.index, column.convert) for column in columns if column.convert is not None]
        self.kept = [column for column in columns if keep is None or column.path[0] in keep]
        self.datetimes = [column.index for column in self.kept if column.is_datetime]
        # A date-time nobody reads is only checked: placing it in a zone cannot fail, so it is skipped.
        self.checked_only = [column.index for column in columns if column.is_datetime and column not in self.kept]
        self.flat = [column for column in self.kept if len(column.path) == 1]
        self.nested = [(column.index, column.path) for column in self.kept if len(column.path) > 1]
        self.flat_names = [column.name for column in self.flat]
        pick: Callable[[list[Any]], Any] = itemgetter(*[column.index for column in self.flat]) if self.flat \
            else (lambda cells: ())
        if len(self.flat) == 1:
            single = self.flat[0].index
            pick = lambda cells: (cells[single],)  # noqa: E731
        self.pick = pick
        self.zone_index = self.names.index(zone_field) if zone_field in self.names else None
        self.id_index = self.names.index(identity) if identity is not None else None


def read_table(path: Path, schema: Any, *, shown: str, identity: str | None, zone: ZoneInfo,
               zone_field: str | None = None, field_size_limit: int = 65536,
               keep: frozenset[str] | None = None) -> Iterator[Row | Reject]:
    """The typed rows and rejects of a CSV, streamed in source order (see `TableReader`)."""
    return iter(TableReader(path, schema, shown=shown, identity=identity, zone=zone, zone_field=zone_field,
                            field_size_limit=field_size_limit, keep=keep))


def count_rejects(path: Path, schema: Any, *, shown: str, identity: str | None, zone: ZoneInfo,
                  zone_field: str | None = None, field_size_limit: int = 65536, stop_above: int | None = None) -> int:
    """The first pass of `--max-rejected N`: how many records are rejected (it stops counting past
    `stop_above`, so the answer is then `stop_above + 1`). Aborts exactly as reading does."""
    count = 0
    for item in read_table(path, schema, shown=shown, identity=identity, zone=zone, zone_field=zone_field,
                           field_size_limit=field_size_limit):
        if isinstance(item, Reject):
            count += 1
            if stop_above is not None and count > stop_above:
                break
    return count
