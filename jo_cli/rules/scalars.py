"""Where each character of a YAML scalar's value was written in its file (SPEC §8: "errors carry the column").

An expression or an inline template is the *value* of a scalar: escapes
(`\\"`, `\\u00e9`, `''`), folded line breaks and block indentation all sit
between an offset in the value and a column in the file. This module reads
the scalar's source text again, the way YAML builds the value, and keeps for
each character of the value the source range it came from. The result is
checked against the value the loader built: whenever the two differ (a
style this reading does not follow, such as an explicit indentation
indicator), there is no mapping and callers point at the scalar's start.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from jo_cli.loader import Document, Span

# YAML's line breaks (PyYAML and libyaml alike); `\r\n` is one.
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_BREAK_CHARS = "\r\n\x85\u2028\u2029"
_SIMPLE_ESCAPES = {
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}

# (value character, source start index, source end index)
_Piece = tuple[str, int, int]


@lru_cache(maxsize=16)
def _line_starts(text: str) -> tuple[int, ...]:
    return (0, *(match.end() for match in _BREAK.finditer(text)))


def _index(text: str, line: int, col: int) -> int:
    starts = _line_starts(text)
    return starts[min(line, len(starts)) - 1] + col - 1


def _position(text: str, index: int) -> tuple[int, int]:
    starts = _line_starts(text)
    line = bisect_right(starts, index)
    return line, index - starts[line - 1] + 1


@lru_cache(maxsize=1024)
def _pieces(text: str, start: int, end: int, value: str) -> tuple[tuple[int, int], ...] | None:
    """The source range of each character of `value`, the scalar written at text[start:end]; None if unknown."""
    style = text[start:start + 1]
    try:
        if style == '"':
            pieces = _flow(text, start + 1, end - 1, double=True)
        elif style == "'":
            pieces = _flow(text, start + 1, end - 1, double=False)
        elif style in ("|", ">"):
            pieces = _block(text, start, end, folded=style == ">")
        else:
            pieces = _flow(text, start, end, double=False, plain=True)
    except (IndexError, ValueError):
        return None
    if pieces is None:
        return None
    built = "".join(piece[0] for piece in pieces)
    if built != value and not (style in ("|", ">") and built.rstrip("\n") == value.rstrip("\n")):
        return None
    return tuple((piece[1], piece[2]) for piece in pieces)


def locate_in_value(doc: Document, span: Span, value: str, start: int, end: int | None = None) -> Span:
    """The file span of `value[start:end]`, `value` being the scalar at `span` (its start when unknown)."""
    text = doc.text
    begin = _index(text, span.line, span.col)
    pieces = _pieces(text, begin, _index(text, span.end_line, span.end_col), value)
    end = start + 1 if end is None else end
    if not pieces:
        return span
    first = pieces[start][0] if start < len(pieces) else pieces[-1][1]
    last = pieces[min(end, len(pieces)) - 1][1] if end > 0 else first
    line, col = _position(text, first)
    end_line, end_col = _position(text, max(last, first))
    return Span(line, col, end_line, end_col)


def _flow(text: str, start: int, end: int, *, double: bool, plain: bool = False) -> list[_Piece] | None:
    """A plain, single- or double-quoted scalar's characters: escapes, `''`, and folded line breaks."""
    pieces: list[_Piece] = []
    i = start
    while i < end:
        char = text[i]
        if double and char == "\\":
            following = text[i + 1]
            if following in _SIMPLE_ESCAPES:
                pieces.append((_SIMPLE_ESCAPES[following], i, i + 2))
                i += 2
            elif following in _HEX_ESCAPES:
                width = _HEX_ESCAPES[following]
                pieces.append((chr(int(text[i + 2:i + 2 + width], 16)), i, i + 2 + width))
                i += 2 + width
            elif following in _BREAK_CHARS:
                i = _fold(text, i + 1, end, pieces, escaped=True)
            else:
                return None
        elif not double and not plain and char == "'" and text[i + 1:i + 2] == "'":
            pieces.append(("'", i, i + 2))
            i += 2
        elif char in " \t":
            run = i
            while run < end and text[run] in " \t":
                run += 1
            if run < end and text[run] in _BREAK_CHARS:
                i = _fold(text, run, end, pieces, escaped=False)  # spaces before a line break are dropped
            else:
                pieces.extend((text[k], k, k + 1) for k in range(i, run))
                i = run
        elif char in _BREAK_CHARS:
            i = _fold(text, i, end, pieces, escaped=False)
        else:
            pieces.append((char, i, i + 1))
            i += 1
    return pieces


def _fold(text: str, at: int, end: int, pieces: list[_Piece], *, escaped: bool) -> int:
    """Fold the line break at `at` and the blank lines after it: one space, or one newline per blank line."""
    blanks: list[int] = []
    i = _after_break(text, at)
    while True:
        while i < end and text[i] in " \t":
            i += 1
        if i < end and text[i] in _BREAK_CHARS:
            blanks.append(i)
            i = _after_break(text, i)
        else:
            break
    if blanks:
        pieces.extend(("\n", k, _after_break(text, k)) for k in blanks)
    elif not escaped:
        pieces.append((" ", at, _after_break(text, at)))
    return i


def _after_break(text: str, at: int) -> int:
    return at + 2 if text.startswith("\r\n", at) else at + 1


def _breaks(text: str, at: list[int]) -> list[_Piece]:
    return [("\n", k, _after_break(text, k)) for k in at]


def _block(text: str, start: int, end: int, *, folded: bool) -> list[_Piece] | None:
    """A `|` or `>` block scalar: lines past the detected indentation, joined or folded (no explicit indent)."""
    starts = _line_starts(text)
    header_line = bisect_right(starts, start)
    header_end = _BREAK.search(text, start)
    if header_end is None:
        return []
    if any(c.isdigit() for c in text[start + 1:header_end.start()].split("#")[0]):
        return None  # an explicit indentation indicator counts from the parent's indentation
    lines: list[tuple[int, str]] = []  # (start index, text without its break) of each line after the header
    for number in range(header_line, len(starts)):
        line_start = starts[number]
        if line_start >= max(end, start + 1) and lines:
            break
        found = _BREAK.search(text, line_start)
        lines.append((line_start, text[line_start:found.start() if found else len(text)]))
        if found is None:
            break
    first_content = next((k for k, (_, line) in enumerate(lines) if line.strip(" ")), None)
    if first_content is None:
        return []
    # The first non-blank line sets the indentation (or a longer all-space line before it, as PyYAML reads it).
    head = lines[first_content][1]
    indent = max([len(head) - len(head.lstrip(" ")), *(len(line) for _, line in lines[:first_content])])
    pieces: list[_Piece] = []
    pending: list[int] = []  # breaks of blank lines since the last content line
    previous: tuple[int, bool] | None = None  # (break index, starts with a non-space) of the last content line
    for line_start, line in lines:
        if len(line) <= indent and not line.strip(" "):
            pending.append(line_start + len(line))
            continue
        if len(line) - len(line.lstrip(" ")) < indent:
            break
        body = line[indent:]
        leading = body[:1] not in (" ", "\t")
        if previous is not None:
            break_at, was_leading = previous
            if folded and was_leading and leading:
                pieces.extend(_breaks(text, pending) if pending else [(" ", break_at, _after_break(text, break_at))])
            else:
                pieces.extend(_breaks(text, [break_at, *pending]))
        else:
            pieces.extend(_breaks(text, pending))
        pending = []
        first = line_start + indent
        pieces.extend((char, first + k, first + k + 1) for k, char in enumerate(body))
        previous = (line_start + len(line), leading)
    return pieces
