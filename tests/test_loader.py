"""The safe loader: YAML 1.2 scalars, positions for every node, both parsers alike (SPEC §10.2)."""

from __future__ import annotations

import math

import pytest
import yaml

from jo_cli import loader
from jo_cli.loader import Span, load_yaml, resolve_plain

C_AVAILABLE = hasattr(yaml, "CBaseLoader")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("False", False), ("TRUE", True),
        ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("NO", "NO"),
        ("null", None), ("~", None), ("", None), ("Null", None),
        ("42", 42), ("-7", -7), ("+3", 3), ("012", 12), ("0o17", 15), ("0x1F", 31), ("0777", 777),
        ("3.5", 3.5), ("1e3", 1000.0), (".5", 0.5), ("-.inf", -math.inf), (".Inf", math.inf),
        ("12:30", "12:30"), ("1:30", "1:30"), ("2024-01-01", "2024-01-01"),
        ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"), ("1_000", "1_000"), ("0b101", "0b101"),
        ("P3D", "P3D"), ("=", "="),
    ],
)
def test_yaml12_core_scalars(text: str, value: object) -> None:
    assert resolve_plain(text) == value
    assert type(resolve_plain(text)) is type(value)


def test_nan() -> None:
    assert math.isnan(resolve_plain(".nan"))


def test_quoted_scalars_stay_strings() -> None:
    doc = load_yaml("a.yaml", b"a: 'true'\nb: \"42\"\nc: |\n  12\n").document
    assert doc is not None
    assert doc.data == {"a": "true", "b": "42", "c": "12\n"}


def test_keys_are_the_text_written() -> None:
    doc = load_yaml("a.yaml", b"on: 1\n200: 2\n2024-01-01: 3\ntrue: 4\n").document
    assert doc is not None
    assert doc.data == {"on": 1, "200": 2, "2024-01-01": 3, "true": 4}


def test_every_node_has_a_position() -> None:
    source = b"kind: journey\nsteps:\n  a:\n    type: wait\n    paths:\n      - {name: x, next: end}\n"
    doc = load_yaml("a.yaml", source).document
    assert doc is not None
    assert doc.positions[("kind",)] == Span(1, 7, 1, 14)
    assert doc.key_positions[("steps", "a")] == Span(3, 3, 3, 4)
    assert doc.positions[("steps", "a", "type")] == Span(4, 11, 4, 15)
    assert doc.positions[("steps", "a", "paths", 0, "next")] == Span(6, 25, 6, 28)
    assert doc.positions[("steps", "a", "paths", 0)].line == 6


def test_locate_falls_back_to_the_nearest_ancestor() -> None:
    doc = load_yaml("a.yaml", b"steps:\n  a: {type: wait}\n").document
    assert doc is not None
    assert doc.locate(("steps", "a", "next")) == doc.positions[("steps", "a")]
    assert doc.locate(("steps", "a"), key=True) == Span(2, 3, 2, 4)
    assert doc.locate(("nowhere",)) == doc.positions[()]


def test_empty_and_comment_only_files() -> None:
    for source in (b"", b"# just a comment\n", b"---\n"):
        result = load_yaml("a.yaml", source)
        assert result.findings == []
        assert result.document is not None and result.document.data is None


def test_windows_line_endings_keep_positions() -> None:
    doc = load_yaml("a.yaml", b"a: 1\r\nb: [x, y]\r\n").document
    assert doc is not None
    assert doc.data == {"a": 1, "b": ["x", "y"]}
    assert doc.positions[("b", 1)] == Span(2, 8, 2, 9)


def test_exactly_the_limits_are_fine() -> None:
    deep = b"a: " + b"[" * (loader.MAX_DEPTH - 1) + b"]" * (loader.MAX_DEPTH - 1) + b"\n"
    assert load_yaml("a.yaml", deep).findings == []
    assert load_yaml("a.yaml", b"a: " + b"x" * (loader.MAX_BYTES - 4) + b"\n").findings == []


def test_node_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_NODES", 10)
    [finding] = load_yaml("a.yaml", b"a: [" + b"1, " * 20 + b"]\n").findings
    assert (finding.code, finding.line) == ("JO106", 1)


CORPUS = [
    b"kind: journey\nsteps: {a: {type: end}}\n",
    b"a: 1\na: 2\n",
    b"a: &x 1\n",
    b"a: !!binary aGk=\n",
    b"a: [1, 2\n",
    b"- a\n- b: [c, {d: e}]\n",
    b"a: |\n  text\n  more\nb: >\n  folded\n",
    b"? a\n: b\n",
    b"a:\n\tb: 1\n",
    b"a: 1\n---\nb: 2\n",
    b"a: " + b"[" * 80 + b"\n",
    b"'unterminated\n",
    b"a: \"bad \\q escape\"\n",
]


@pytest.mark.skipif(not C_AVAILABLE, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("source", CORPUS)
def test_c_and_pure_python_parsers_agree(source: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = load_yaml("a.yaml", source)
    monkeypatch.setattr(loader, "_PARSER", yaml.BaseLoader)
    slow = load_yaml("a.yaml", source)
    assert (fast.document.data if fast.document else None) == (slow.document.data if slow.document else None)
    # libyaml and PyYAML's scanner may place a bad escape one column apart; everything else is exact.
    def located(findings):
        return [(f.code, f.line, None if f.code == "JO101" else f.col) for f in findings]

    assert located(fast.findings) == located(slow.findings)
    if fast.document and slow.document:
        assert fast.document.positions == slow.document.positions


def test_huge_number_literals_are_a_limit_finding() -> None:
    for literal in (b"9" * 4301, b"0x" + b"f" * 3600, b"0o" + b"7" * 4800, b"1" * 65):
        [finding] = load_yaml("a.yaml", b"a: " + literal + b"\n").findings
        assert (finding.code, finding.line, finding.col) == ("JO106", 1, 4)
    assert load_yaml("a.yaml", b"a: " + b"9" * 64 + b"\n").document.data == {"a": int("9" * 64)}
    assert load_yaml("a.yaml", b"a: '" + b"9" * 5000 + b"'\n").findings == []


def test_control_characters_through_escapes_are_refused() -> None:
    for source in (b'a: "\\e[31mred"\n', b'a: "x\\0"\n', b'"k\\0": 1\n'):
        [finding] = load_yaml("a.yaml", source).findings
        assert finding.code == "JO103"
    assert load_yaml("a.yaml", b'a: "tab\\there\\nline"\n').findings == []


def test_alias_as_key_is_jo104() -> None:
    [finding] = load_yaml("a.yaml", b"a: &k x\n*k : y\n").findings
    assert finding.code == "JO104"
