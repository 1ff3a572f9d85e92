"""Findings inside an expression point at the token in the file, through escapes, folds and block indentation."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jo_cli.loader import Span, load_yaml
from jo_cli.rules.scalars import _index, _pieces, locate_in_value
from tests.rules.test_references import project as project  # the scratch-project fixture

AUDIENCE = "kind: audience\nid: a\n"


@pytest.mark.parametrize(
    ("where", "line", "col"),
    [
        # 0        1         2         3         4
        # 1234567890123456789012345678901234567890123456
        ('where: "profile.tier == \\"a\\" and nope"', 3, 35),
        (r'where: "profile.tier == \"\\\\\" and nope"', 3, 38),
        ('where: "profile.tier == \\"caf\\u00e9\\" and nope"', 3, 43),
        ('where: "profile.tier == \\"\\x41\\U0001F600\\" and nope"', 3, 48),
        ("where: 'profile.tier == \"it''s\" and nope'", 3, 37),
        ("where: 'profile.tier == ''a'' and nope'", 3, 35),
        ("where: profile.tier == 'a' and nope", 3, 32),
        ('where: {x: 1}\n', 3, 8),  # not an expression: the schema's finding, no caret to place
    ],
)
def test_one_line_scalars(project, where: str, line: int, col: int) -> None:
    project.write("audiences/a.yaml", AUDIENCE + where + "\n")
    found = project.check("audiences/a.yaml")
    if where.startswith("where: {"):
        assert found == [("JO203", line, col)]
    else:
        assert found == [("JO402", line, col)]


@pytest.mark.parametrize(
    ("where", "line", "col"),
    [
        ("where: >-\n  profile.email is not null\n  and nope(1)\n", 5, 7),
        ("where: >\n    profile.email is not null\n\n    and nope(1)\n", 6, 9),
        ("where: |\n  profile.email is not null\n    and nope(1)\n", 5, 9),
        ("where: |-\n\n  profile.email is not null and\n  (nope(1))\n", 6, 4),
        ("where: profile.email is not null\n  and\n     nope(1)\n", 5, 6),
        ('where: "profile.email is not null\n  and \\\n     nope(1)"\n', 5, 6),
        ("where: 'profile.email is not null\n\n  and nope(1)'\n", 5, 7),
    ],
)
def test_multi_line_scalars_point_at_the_token(project, where: str, line: int, col: int) -> None:
    project.write("audiences/a.yaml", AUDIENCE + where)
    assert project.check("audiences/a.yaml") == [("JO403", line, col)]


def test_a_step_deep_in_a_journey(project) -> None:
    project.write("journeys/a.yaml", """\
        kind: journey
        id: a
        entry: {type: event, event: signed_up, next: check}
        steps:
          check:
            type: condition
            paths:
              - name: folded
                when: >-
                  profile.tier == "gold"
                  and profile.emial is not null
                next: end
              - {name: flow, when: "profile.tier == \\"x\\" and profile.emial", next: end}
            otherwise: end
    """)
    assert project.check("journeys/a.yaml") == [("JO402", 11, 15), ("JO402", 13, 55)]


def test_a_finding_spans_its_token() -> None:
    doc = load_yaml("a.yaml", b'where: "x == \\"a\\" and nope"\n').document
    assert doc is not None
    value = doc.data["where"]
    assert value[value.index("nope"):] == "nope"
    span = locate_in_value(doc, doc.locate(("where",)), value, value.index("nope"), len(value))
    assert span == Span(1, 24, 1, 28)
    # an escape is one character of the value and two of the file
    assert locate_in_value(doc, doc.locate(("where",)), value, 5, 6) == Span(1, 14, 1, 16)


def test_an_explicit_indentation_indicator_points_at_the_scalar(project) -> None:
    project.write("audiences/a.yaml", AUDIENCE + "where: |2\n   profile.email is not null\n   and nope(1)\n")
    assert project.check("audiences/a.yaml") == [("JO403", 3, 8)]


def _decoded(source: str, style: str) -> str:
    """What one piece of scalar source stands for: an escape, a doubled quote, or itself."""
    if source == "''" and style == "'":
        return "'"
    if source.startswith("\\") and style == '"':
        import json

        if source[1] in "xuU":
            return chr(int(source[2:], 16))
        return {"0": "\0", "a": "\x07", "e": "\x1b", "v": "\x0b", " ": " ", "\t": "\t", "N": "\x85", "_": "\xa0",
                "L": "\u2028", "P": "\u2029"}.get(source[1]) or json.loads(f'"{source}"')
    return source


@settings(max_examples=300, deadline=None)
@given(value=st.text(st.sampled_from(list("ab é\"'\\#:-\t\n{}😀")), min_size=1, max_size=40),
       style=st.sampled_from(['"', "'", "|", ">", None]), width=st.integers(8, 40), indent=st.integers(2, 6),
       crlf=st.booleans())
def test_every_character_maps_back_to_its_source(value: str, style: str | None, width: int, indent: int,
                                                  crlf: bool) -> None:
    text = yaml.dump({"k": [{"v": value}]}, default_style=style, width=width, indent=indent, allow_unicode=True,
                     line_break="\r\n" if crlf else "\n")
    doc = load_yaml("a.yaml", text.encode()).document
    assert doc is not None
    assume(doc.data["k"][0]["v"] == value)  # PyYAML's emitter folds some leading-space texts wrongly
    span = doc.locate(("k", 0, "v"))
    begin = _index(doc.text, span.line, span.col)
    pieces = _pieces(doc.text, begin, _index(doc.text, span.end_line, span.end_col), value)
    header = doc.line_text(span.line)[span.col - 1:]
    if pieces is None:
        assert header[:1] in "|>" and any(c.isdigit() for c in header)  # an explicit indentation indicator
        return
    assert len(pieces) >= len(value.rstrip("\n"))
    for char, (start, end) in zip(value, pieces, strict=False):
        source = doc.text[start:end]
        if char not in " \n" or source not in ("\n", "\r\n"):
            assert _decoded(source, header[:1]) == char, (text, char, source)
