"""Safe YAML with positions (SPEC §10.2).

PyYAML's own loaders are YAML 1.1 (``no`` is false, ``12:30`` is 750, dates
become ``datetime.date``), keep the last of duplicate keys, expand alias bombs
that explode later in jsonschema, and the C composer segfaults on deep
nesting. jo therefore consumes the parser's *event stream* and composes
values itself: the C parser (when PyYAML was built with libyaml) only ever
sees text that passed the pre-scan below (size, encoding, control
characters, nesting: `nesting.py`), and it is driven lazily, so composing
stops at the first node past the depth or node limit before the parser reads
any further.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from jo_cli.findings import Finding
from jo_cli.nesting import deepest_offset

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
# Longer number literals are refused: Python's int() stops at 4,300 digits, and no jo value needs 65.
MAX_NUMBER_CHARS = 64
# Past the place the nesting scan flagged, how much text the pure-Python parser needs to reach it: its scanner
# looks ahead at most 1,024 characters for a possible key.
_LOOKAHEAD = 4096

PathPart = str | int
JsonPath = tuple[PathPart, ...]

_PARSER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_STR_TAG = "tag:yaml.org,2002:str"
# YAML's printable set (PyYAML's Reader uses the same); anything else is refused.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")


@dataclass(frozen=True, slots=True)
class Span:
    """1-based start and end of a node in its file."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(slots=True)
class Document:
    """A parsed file: its data, its text, and where every node stands."""

    path: str
    text: str
    data: Any
    positions: dict[JsonPath, Span] = field(default_factory=dict)
    key_positions: dict[JsonPath, Span] = field(default_factory=dict)

    def locate(self, path: JsonPath, *, key: bool = False) -> Span:
        """The node at `path` (its key with `key=True`), else its nearest ancestor."""
        path = tuple(path)
        if key and path in self.key_positions:
            return self.key_positions[path]
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, Span(1, 1, 1, 1))

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


@dataclass(slots=True)
class LoadResult:
    document: Document | None
    findings: list[Finding]


class _Stop(Exception):
    """Composition cannot go on; the finding is already recorded."""


def load_yaml(path: str, raw: bytes) -> LoadResult:
    """Parse `raw` (the bytes of `path`) into a located document, never raising."""
    findings: list[Finding] = []
    text = _decode(path, raw, findings)
    if text is None:
        return LoadResult(None, findings)
    deep = deepest_offset(text, MAX_DEPTH)
    if deep is not None:
        # libyaml never sees a text that may nest this deep. The pure-Python parser has no limit of its own and
        # is driven lazily: on the text up to a little past that place it stops at the node past the limit.
        # The whole text is parsed only when the scan overestimated.
        prefix, too_deep = _compose(path, text[:deep + _LOOKAHEAD], yaml.BaseLoader)
        return prefix if too_deep else _compose(path, text, yaml.BaseLoader)[0]
    result, too_deep = _compose(path, text, _PARSER)
    if too_deep and _PARSER is not yaml.BaseLoader:
        # A libyaml that refuses nesting itself (PyYAML 6.0.4 does past 1,000 flow levels) where the scan saw
        # none: the pure-Python parser finds the node past jo's limit.
        return _compose(path, text, yaml.BaseLoader)[0]
    return result


def _compose(path: str, text: str, loader: Any) -> tuple[LoadResult, bool]:
    """The document composed from `loader`'s events, and whether nesting stopped it."""
    findings: list[Finding] = []
    doc = Document(path=path, text=text, data=None)
    composer = _Composer(doc, findings)
    try:
        composer.run(yaml.parse(text, Loader=loader))
    except _Stop:
        return LoadResult(None, findings), composer.too_deep
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):
            return LoadResult(None, findings), True
        findings.append(_syntax_finding(path, exc, text))
        return LoadResult(None, findings), False
    except yaml.YAMLError as exc:  # reader errors carry a position only
        findings.append(_finding(path, Span(1, 1, 1, 1), "JO101", f"YAML error: {exc}"))
        return LoadResult(None, findings), False
    return LoadResult(doc, findings), False


def _decode(path: str, raw: bytes, findings: list[Finding]) -> str | None:
    if len(raw) > MAX_BYTES:
        findings.append(
            _finding(path, Span(1, 1, 1, 1), "JO106",
                     f"file is {len(raw):,} bytes; jo reads YAML files up to {MAX_BYTES:,} bytes")
        )
        return None
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if raw.startswith(bom):
            findings.append(_finding(path, Span(1, 1, 1, 1), "JO103",
                                     f"file is {name}; jo reads UTF-8 only", hint="re-save the file as UTF-8"))
            return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        findings.append(_finding(path, Span(line, col, line, col), "JO103",
                                 f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; jo reads UTF-8 only",
                                 hint="re-save the file as UTF-8"))
        return None
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        findings.append(_finding(path, Span(line, col, line, col), "JO103",
                                 f"control character U+{ord(bad.group()):04X} is not allowed in YAML"))
        return None
    return text


class _Composer:
    """Builds plain values from parser events, recording each node's span."""

    def __init__(self, doc: Document, findings: list[Finding]) -> None:
        self.doc = doc
        self.findings = findings
        self.nodes = 0
        self.too_deep = False

    def run(self, events: Iterator[yaml.Event]) -> None:
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self._fail(event, "JO107", "a jo file holds one YAML document; found a second `---`")
                self.doc.data = self._node(next(events), events, (), 1)

    def _node(self, event: yaml.Event, events: Iterator[yaml.Event], path: JsonPath, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self._fail(event, "JO106", f"more than {MAX_NODES:,} YAML nodes")
        if depth > MAX_DEPTH:
            self.too_deep = True
            self._fail(event, "JO106", f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(event, yaml.AliasEvent):
            self._fail(event, "JO104", f"alias `*{event.anchor}` is not allowed: jo files use no anchors or aliases")
        if getattr(event, "anchor", None) is not None:
            self._fail(event, "JO104", f"anchor `&{event.anchor}` is not allowed: jo files use no anchors or aliases")
        tag = getattr(event, "tag", None)
        if isinstance(event, yaml.ScalarEvent):
            if tag is not None and tag != _STR_TAG:
                self._fail(event, "JO105", f"tag `{tag}` is not allowed", hint="write the value plainly or quote it")
            self._check_characters(event)
            self.doc.positions[path] = _span(event.start_mark, event.end_mark)
            if tag is None and event.implicit[0]:
                try:
                    return resolve_plain(event.value)
                except ValueError:
                    self._fail(event, "JO106", f"number literal longer than {MAX_NUMBER_CHARS} characters")
            return event.value
        if tag is not None:
            self._fail(event, "JO105", f"tag `{tag}` is not allowed")
        if isinstance(event, yaml.SequenceStartEvent):
            return self._sequence(event, events, path, depth)
        if isinstance(event, yaml.MappingStartEvent):
            return self._mapping(event, events, path, depth)
        return None  # the parser sends a node event here; nothing else is possible

    def _sequence(self, start: yaml.Event, events: Iterator[yaml.Event], path: JsonPath, depth: int) -> list[Any]:
        items: list[Any] = []
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                self.doc.positions[path] = _span(start.start_mark, event.end_mark)
                return items
            items.append(self._node(event, events, (*path, len(items)), depth + 1))
        raise AssertionError("unterminated sequence")  # the parser raises first

    def _mapping(self, start: yaml.Event, events: Iterator[yaml.Event], path: JsonPath, depth: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for event in events:
            if isinstance(event, yaml.MappingEndEvent):
                self.doc.positions[path] = _span(start.start_mark, event.end_mark)
                return mapping
            key = self._key(event)
            key_span = _span(event.start_mark, event.end_mark)
            value_event = next(events)
            if key in first_line:
                self.findings.append(_finding(
                    self.doc.path, key_span, "JO102",
                    f"duplicate key `{key}` (first defined on line {first_line[key]})",
                    hint="remove or rename one of them: YAML keeps only one",
                ))
                # Compose the repeated value for its own findings, then keep the first.
                self._node(value_event, events, (*path, f"\x00dup:{key}:{key_span.line}"), depth + 1)
                continue
            first_line[key] = key_span.line
            self.doc.key_positions[(*path, key)] = key_span
            mapping[key] = self._node(value_event, events, (*path, key), depth + 1)
        raise AssertionError("unterminated mapping")

    def _key(self, event: yaml.Event) -> str:
        if isinstance(event, yaml.AliasEvent):
            self._fail(event, "JO104", f"alias `*{event.anchor}` is not allowed: jo files use no anchors or aliases")
        if not isinstance(event, yaml.ScalarEvent):
            self._fail(event, "JO108", "a mapping key must be a plain word, not a list or mapping")
        if getattr(event, "anchor", None) is not None:
            self._fail(event, "JO104", f"anchor `&{event.anchor}` is not allowed: jo files use no anchors or aliases")
        if event.tag is not None and event.tag != _STR_TAG:
            self._fail(event, "JO105", f"tag `{event.tag}` is not allowed")
        self._check_characters(event)
        self.nodes += 1
        # Keys are names: `on`, `200` and `2024-01-01` stay the text that was written.
        return str(event.value)

    def _check_characters(self, event: yaml.ScalarEvent) -> None:
        """Escapes such as "\\0" or "\\e" can smuggle in what the pre-scan refused in the raw text."""
        bad = _NON_PRINTABLE.search(event.value)
        if bad is not None:
            self._fail(event, "JO103", f"control character U+{ord(bad.group()):04X} in a value")

    def _fail(self, event: yaml.Event, code: str, message: str, *, hint: str | None = None) -> None:
        self.findings.append(_finding(self.doc.path, _span(event.start_mark, event.end_mark), code, message, hint=hint))
        raise _Stop


def dotted(path: JsonPath) -> str:
    """A JSON path as messages name a node: `steps.check.paths[0].next`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def resolve_plain(text: str) -> Any:
    """A plain scalar under YAML 1.2's core schema: only these become non-strings.

    Raises ValueError for a number literal longer than MAX_NUMBER_CHARS.
    """
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if len(text) > MAX_NUMBER_CHARS and any(p.match(text) for p in (_INT, _OCT, _HEX, _FLOAT)):
        raise ValueError(f"number literal longer than {MAX_NUMBER_CHARS} characters")
    if _INT.match(text):
        return int(text)
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


def _span(start: yaml.Mark, end: yaml.Mark) -> Span:
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _syntax_finding(path: str, exc: yaml.MarkedYAMLError, text: str) -> Finding:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        problem = f"{problem} ({exc.context} on line {exc.context_mark.line + 1})"
    hint = None
    lines = text.splitlines()
    if line <= len(lines) and lines[line - 1][col - 1:col] == "\t":
        hint = "YAML cannot indent with tabs: use spaces"
    return _finding(path, Span(line, col, line, col), "JO101", f"YAML syntax error: {problem}", hint=hint)


def _finding(path: str, span: Span, code: str, message: str, *, hint: str | None = None) -> Finding:
    return Finding(path=path, line=span.line, col=span.col, code=code, severity="error",
                   message=message, hint=hint, end_line=span.end_line, end_col=span.end_col)
