"""Audiences over profile rows (SPEC §5.2): an uploaded list of identities, or a compiled `where`."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jo_cli.data.cells import show
from jo_cli.data.csv_reader import Reject, Row, records
from jo_cli.errors import JoError
from jo_cli.expr.compile import EvalFailure
from jo_cli.expr.runtime import EvalContext

_KEPT_FAILURES = 100


def read_uploaded_audience(path: Path, *, shown: str, known: Container[str] | None = None,
                           field_size_limit: int = 65536) -> tuple[set[str], list[Reject]]:
    """The identities of a one-column CSV with a header, and its rejected rows, located as profile rows are
    (§5.1): another cell count, an empty identity, an identity an earlier row gave (the first row wins; a
    rejected row claims none) and, given the `known` identities of the profile source, one naming no
    profile. Blank lines are skipped. File-level problems: JoError."""
    stream = records(path, shown=shown, field_size_limit=field_size_limit)
    header = next(stream, None)
    if header is None:
        raise JoError(f"{shown}:1: the file is empty: a header row naming the identity column is required")
    line, names = header
    if len(names) != 1 or not names[0]:
        raise JoError(f"{shown}:{line}: an uploaded audience has one named column of identities, "
                      f"not {len(names)}")
    column = names[0]
    first_lines: dict[str, int] = {}
    rejects: list[Reject] = []
    for line, record in stream:
        if len(record) != 1:
            rejects.append(Reject(shown, line, None, f"{len(record)} cells instead of 1"))
            continue
        identity = record[0]
        if not identity:
            rejects.append(Reject(shown, line, column, "empty identity"))
        elif identity in first_lines:
            rejects.append(Reject(shown, line, column, f"repeats the identity {show(identity)} of line "
                                                       f"{first_lines[identity]} (the first row wins)"))
        elif known is not None and identity not in known:
            rejects.append(Reject(shown, line, column, f"{show(identity)} names no profile (no accepted row of "
                                                       "the profile source has this identity)"))
        else:
            first_lines[identity] = line
    return set(first_lines), rejects


@dataclass
class WhereTally:
    """What evaluating a `where` over rows found: members, rows whose evaluation failed (not members)."""

    evaluated: int = 0
    members: int = 0
    failures: int = 0
    first_failures: list[tuple[int, str]] = field(default_factory=list)  # (line, message), at most 100


def where_members(rows: Iterable[Row | Reject], where: Callable[..., Any],
                  ctx: EvalContext | Callable[[Row], EvalContext], *,
                  tally: WhereTally | None = None) -> Iterator[Row]:
    """The rows for which the compiled `where` (`compile_expr(parse(text))`) is exactly True, in order.

    Rejects are passed over; an evaluation failure makes no member and is counted in `tally`.
    """
    tally = tally if tally is not None else WhereTally()
    context_of = (lambda row: ctx) if isinstance(ctx, EvalContext) else ctx
    for row in rows:
        if not isinstance(row, Row):
            continue
        tally.evaluated += 1
        result = where(row.values, None, context_of(row))
        if result is True:
            tally.members += 1
            yield row
        elif isinstance(result, EvalFailure):
            tally.failures += 1
            if len(tally.first_failures) < _KEPT_FAILURES:
                tally.first_failures.append((row.line, result.message))
