"""The columnar path of `TableReader`: polars parses a large CSV and checks its common cells at once (§11).

It gives exactly what the Python path gives, by construction rather than by a second implementation of
the rules:

- `read` takes the file only when polars and the csv module must agree on its records: UTF-8 without NUL
  bytes, `\\n` or `\\r\\n` line ends, one physical line per record, the cells written back with minimal
  quoting giving the file byte for byte (so no malformed quoting, blank line or short record), no cell near
  the field size limit. Otherwise it returns None and the Python path reads the file (and says what is
  wrong with it).
- A cell is "fast" when it has the common spelling of its type (`12`, `4.5`, `true`, `2026-12-01`,
  `2026-12-01T09:00:00Z`, `["a", "b"]`, an enum's value): a strict subset of what the cell converters
  accept, for which polars' value equals theirs. Every other non-empty cell goes through the column's
  converter; a row with a cell that fails is read again, whole, by the Python path (`_convert`), which
  names its first failing cell.
- Rows are assembled in source order through the same steps as the Python path: date-times in the row's
  zone, the kept values, the identity's first row.
"""

from __future__ import annotations

import array
import bisect
import functools
import io
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from jo_cli.data.cells import CellError, kind_of, naive_datetime, to_datetime
from jo_cli.data.csv_reader import Row, place

if TYPE_CHECKING:
    from jo_cli.data.csv_reader import Reject, TableReader, _Plan
    from jo_cli.data.csv_reader import _Column as ReaderColumn

_INTEGER = r"^[+-]?[0-9]{1,18}$"
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The spellings `naive_datetime` reads with `fromisoformat` (a valid date checked apart): 16, 19 or 20 characters.
_DATETIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9][Zz]?)?$"
_JSON_SPACE = r"[ \t\n\r]*"
_JSON_STRING = r'"[^"\\\x00-\x1f]*"'
_STRING_ARRAY = (rf"^\[{_JSON_SPACE}({_JSON_STRING}({_JSON_SPACE},{_JSON_SPACE}{_JSON_STRING})*)?{_JSON_SPACE}\]$")
_BOOLEANS = ["true", "false", "True", "False", "TRUE", "FALSE"]
WRITTEN = 1 << 16  # rows written back at a time by the `_canonical` check
SLICE = 1 << 12  # rows made into Python values at a time: few enough that the collector finds them young


def read(path: Path, header: list[str], field_size_limit: int) -> pl.DataFrame | None:
    """Every cell of `path` as strings (the header row as names), or None when the Python path must read it."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(header) < 2 or b"\0" in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None
    try:
        frame = pl.read_csv(data, infer_schema=False, has_header=True, truncate_ragged_lines=False,
                            quote_char='"')
    except pl.exceptions.PolarsError:  # polars refuses the file: the Python path reads it and says why
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if frame.columns != header or frame.height + 1 != lines or not _canonical(frame, data):
        return None
    longest = frame.select(pl.all().str.len_chars().max()).row(0)
    if any(size is not None and size >= field_size_limit for size in longest):
        return None
    return frame


def _canonical(frame: pl.DataFrame, data: bytes) -> bool:
    """Whether `frame` written back is `data`: the file is quoted only where needed, so the csv module reads
    the same cells (polars reads some malformed quoting, like `a"b, c"d` or `""a""`, that the csv module
    splits or refuses), and no record is shorter than the header (polars would pad it). Written and
    compared `WRITTEN` rows at a time."""
    ending = "\r\n" if b"\r\n" in data else "\n"
    view = memoryview(data)
    position = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    for start in range(0, max(frame.height, 1), WRITTEN):  # once at least: the header
        written = io.BytesIO()
        frame.slice(start, WRITTEN).write_csv(written, include_header=start == 0, line_terminator=ending,
                                              quote_style="necessary", null_value="")
        chunk = written.getvalue()
        if start + WRITTEN >= frame.height and not data.endswith(b"\n"):
            chunk = chunk[:-len(ending)]
        if view[position:position + len(chunk)] != chunk:
            return False
        position += len(chunk)
    return position == len(data)


def rows(reader: TableReader, plan: _Plan, frame: pl.DataFrame) -> Iterator[Row | Reject]:
    """The items of `frame` in source order, exactly as `reader._convert` gives them record by record.

    The columns are checked and typed at once; Python values are made `SLICE` rows at a time, so a reader
    that streams holds the file's cells and one slice, not a million rows of objects.
    """
    needed = {column.index for column in plan.kept}
    if plan.id_index is not None:
        needed.add(plan.id_index)
    if plan.datetimes and plan.zone_index is not None:
        needed.add(plan.zone_index)
    kept_datetimes = set(plan.datetimes)
    columns = [_Column(column, frame.to_series(column.index), keep=column.index in needed,
                       is_kept_datetime=column.index in kept_datetimes)
               if column.index in needed or column.convert is not None or column.is_datetime else None
               for column in plan.columns]
    repeated = _repeated(plan, columns)
    mostly_failing = False
    for start in range(0, frame.height, SLICE):
        size = min(SLICE, frame.height - start)
        if mostly_failing:  # a file of bad rows (a wrong schema, say): checking cells twice would not pay
            for number, record in enumerate(frame.slice(start, size).rows()):
                yield reader._convert(plan, start + number + 2, _record(record))
            continue
        failing = yield from _slice(reader, plan, frame, columns, start, size, repeated)
        mostly_failing = failing * 2 > size


def _repeated(plan: _Plan, columns: list[_Column | None]) -> set[int] | None:
    """The rows whose identity is empty or shared with another row: only they need `_admit`'s check against
    the identities accepted so far (None: every row does). Known at once from an identity column of
    strings or integers written in their common spelling; any other identity column is checked row by row."""
    if plan.id_index is None:
        return set()
    column = columns[plan.id_index]
    if column is None or column.slow or column.is_datetime:
        return None
    keys = column.cells if column.strings else column.typed
    if keys is None or keys.dtype not in (pl.String, pl.Int64):
        return None
    return set((keys.is_null() | keys.is_duplicated()).arg_true().to_list())


def _slice(reader: TableReader, plan: _Plan, frame: pl.DataFrame, columns: list[_Column | None], start: int,
           size: int, repeated: set[int] | None) -> Generator[Row | Reject, None, int]:
    """The items of rows `start`..`start + size`; returns how many rows `_convert` had to read again."""
    from jo_cli.data.csv_reader import Reject

    suspects: set[int] = set()
    values: list[Any] = [None if column is None else column.values(start, size, suspects) for column in columns]
    failed: dict[int, list[str]] = {}
    if suspects:  # their records, as the csv module gives them, for `_convert` (one gather, not a row each)
        numbers = sorted(suspects)
        records = frame.slice(start, size)[numbers].rows()
        failed = {number: _record(record) for number, record in zip(numbers, records, strict=True)}
    dicts = _dicts([(column.path, values[column.index]) for column in plan.flat]
                   + [(path, values[index]) for index, path in plan.nested], size)
    placed = {column.index: column.path for column in plan.kept}
    datetimes = [(index, placed[index], values[index]) for index in plan.datetimes]
    zones = values[plan.zone_index] if plan.zone_index is not None else None
    identities = values[plan.id_index] if plan.id_index is not None else None
    shown, zone, row_zone, names, admit = reader.shown, reader.zone, reader._row_zone, plan.names, reader._admit
    for number, row in enumerate(dicts):
        line = start + number + 2
        if number in failed:
            yield reader._convert(plan, line, failed[number])
            continue
        reader.read += 1
        if datetimes:
            here = zone if zones is None else row_zone(zones[number], line)
            failure = None
            for index, path, cells in datetimes:
                cell = cells[number]
                if cell is not None:
                    try:
                        place(row, path, to_datetime(cell, here))
                    except CellError as exc:
                        failure = Reject(shown, line, names[index], str(exc))
                        break
            if failure is not None:
                reader.rejected += 1
                yield failure
                continue
        if repeated is not None and start + number not in repeated:  # an identity no other row has
            reader.accepted += 1
            yield Row(line, row)
        else:
            yield admit(plan, line, None if identities is None else identities[number], row)
    return len(failed)


def _record(cells: tuple[str | None, ...]) -> list[str]:
    """A row of the frame as the csv module gives its record (an empty cell is "")."""
    return ["" if cell is None else cell for cell in cells]


def _dicts(kept: list[tuple[tuple[str, ...], list[Any]]], height: int) -> list[dict[str, Any]]:
    """Each row's values from the kept columns (flat ones first, then dotted ones, each in column order):
    the same keys, nesting and order as `_convert` gives."""
    if not kept:
        return [{} for _ in range(height)]
    make = _row_maker(tuple(path for path, _ in kept))
    if make is not None:
        return list(map(make, *[cells for _, cells in kept]))
    rows: list[dict[str, Any]] = [{} for _ in range(height)]
    for path, cells in kept:
        for row, cell in zip(rows, cells, strict=True):
            place(row, path, cell)
    return rows


@functools.lru_cache(maxsize=16)
def _row_maker(paths: tuple[tuple[str, ...], ...]) -> Callable[..., dict[str, Any]] | None:
    """A function of one row's kept cells (in `paths` order) returning its values as one dict display
    (a third of the time of filling dicts key by key); None when two paths collide."""
    tree: dict[str, Any] = {}
    for number, path in enumerate(paths):
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                return None
        if path[-1] in node:
            return None
        node[path[-1]] = number

    def display(node: dict[str, Any]) -> str:
        return "{" + ", ".join(f"{key!r}: {display(value) if isinstance(value, dict) else f'c{value}'}"
                               for key, value in node.items()) + "}"

    arguments = ", ".join(f"c{number}" for number in range(len(paths)))
    # The keys are repr() literals and the arguments plain names: nothing from the file is evaluated.
    made: Callable[..., dict[str, Any]] = eval(f"lambda {arguments}: {display(tree)}", {"__builtins__": {}})
    return made


class _Column:
    """One column checked at once: which cells are fast, their typed values, which need the converter."""

    def __init__(self, column: ReaderColumn, cells: pl.Series, *, keep: bool, is_kept_datetime: bool) -> None:
        fast, typed = _fast(column, cells, keep=keep, is_kept_datetime=is_kept_datetime)
        present = cells.is_not_null() & (cells != "")  # an empty cell is None, as in `_convert`
        self.keep = keep
        self.is_datetime = column.is_datetime
        self.strings = fast is not None and typed is cells  # kept as written: "" still to become None
        # Worked out for the whole column at once (a polars call per slice costs more than the slice's cells).
        self.cells = cells.replace("", None) if keep and self.strings else cells
        slow = present if fast is None else present & ~fast.fill_null(False)
        self.slow = array.array("q", slow.arg_true().to_list())  # the rows whose cell takes the converter
        self.typed = None if not keep or fast is None or self.strings else \
            pl.select(pl.when(fast.fill_null(False)).then(typed)).to_series()
        self.check = _check(column, is_kept_datetime=is_kept_datetime)
        # A kept text column of few distinct values (tiers, zones, countries, names) shares one string per
        # value across the rows instead of one per cell: 50 MB less per such column on 1M profiles.
        self.shared: dict[Any, Any] | None = None
        if keep and self.strings:
            sample = cells.head(SLICE)  # judged on the first rows: a column of ids is not worth a mapping
            self.shared = {} if sample.n_unique() * 4 < len(sample) else None

    def values(self, start: int, size: int, suspects: set[int]) -> list[Any] | None:
        """The values of rows `start`.. (when kept) with every cell checked; failing rows go to `suspects`."""
        result: list[Any] | None = None
        if self.keep:
            if self.typed is not None:
                result = self.typed.slice(start, size).to_list()
            elif self.strings:
                result = self.cells.slice(start, size).to_list()
                if self.shared is not None:
                    share = self.shared.setdefault
                    result = [share(cell, cell) for cell in result]
            else:
                result = [None] * size
        slow = self.slow
        first = bisect.bisect_left(slow, start)
        places = slow[first:bisect.bisect_left(slow, start + size, first)].tolist()
        if places:
            check = self.check
            for place, cell in zip(places, self.cells.gather(places).to_list(), strict=True):
                place -= start
                try:
                    value = check(cell)
                except CellError:
                    suspects.add(place)
                    continue
                if result is not None:
                    result[place] = value
        return result


def _check(column: ReaderColumn, *, is_kept_datetime: bool) -> Callable[[str], Any]:
    """What the Python path does to a cell before the row's zone is known: convert, or check a date-time."""
    convert = column.convert
    if column.is_datetime and not is_kept_datetime:
        def check(cell: str) -> Any:
            value = convert(cell) if convert is not None else cell
            naive_datetime(cell)
            return value

        return check
    return convert if convert is not None else _same


def _same(cell: str) -> str:
    return cell


def _fast(column: ReaderColumn, cells: pl.Series, *, keep: bool,
          is_kept_datetime: bool) -> tuple[pl.Series | None, pl.Series]:
    """(which cells are fast, their typed values); None: no cell is, the converter reads them all."""
    schema = column.schema if isinstance(column.schema, dict) else {}
    kind, fmt = kind_of(schema), schema.get("format")
    if "pattern" in schema and kind in ("string", None):
        return None, cells
    enum = schema.get("enum")
    if enum is not None and not (isinstance(enum, list) and kind in ("string", None) and fmt is None):
        return None, cells
    if column.is_datetime:
        if is_kept_datetime:
            return _every(cells), cells  # converted with the row's zone as the rows are assembled
        return _valid_date(cells.str.slice(0, 10), cells.str.contains(_DATETIME)), cells
    if column.convert is None:
        return _every(cells), cells
    if isinstance(enum, list):
        return cells.is_in([value for value in enum if isinstance(value, str)]), cells
    if kind == "integer":
        typed = cells.cast(pl.Int64, strict=False)
        return cells.str.contains(_INTEGER) & typed.is_not_null(), typed
    if kind == "number":
        typed = cells.cast(pl.Float64, strict=False)
        return cells.str.contains(_NUMBER) & typed.is_not_null() & typed.is_finite(), typed
    if kind == "boolean":
        return cells.is_in(_BOOLEANS), cells.str.to_lowercase() == "true"
    if kind == "string" and fmt == "date":
        dates = cells.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        return _valid_date(cells, cells.str.contains(_DATE)), dates
    if kind == "array" and not keep and "enum" not in schema:
        items = schema.get("items")
        if items is None or (isinstance(items, dict) and kind_of(items) == "string" and "format" not in items):
            return cells.str.contains(_STRING_ARRAY), cells
    return None, cells


def _every(cells: pl.Series) -> pl.Series:
    return cells.is_null() | cells.is_not_null()


def _valid_date(text: pl.Series, shaped: pl.Series) -> pl.Series:
    """`shaped` where `text` (YYYY-MM-DD) is a date Python accepts too (polars reads year 0)."""
    dates = text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return shaped & dates.is_not_null() & (dates.dt.year() >= 1)
