"""The nesting pre-scan: libyaml never sees a text deeper than jo reads, whatever its release (SPEC §10.2)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jo_cli import loader
from jo_cli.loader import MAX_DEPTH, load_yaml
from jo_cli.nesting import deepest_offset


def _true_depth(text: str) -> int:
    """The depth of the deepest node, as the composer counts it (the root is 1), from PyYAML's own parser."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.BaseLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            deepest = max(deepest, depth + 1)
    return deepest


# Scalars that look like YAML structure: brackets, quotes, comments, keys, block indicators.
_TRICKY = st.text(alphabet="[]{}'\"#:,-?|> \nab\\", max_size=12)
_VALUES: Any = st.recursive(
    st.one_of(_TRICKY, st.integers(), st.none(), st.booleans()),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(_TRICKY, children, max_size=3)),
    max_leaves=30,
)
_STYLES = st.sampled_from([None, "'", '"', "|", ">"])


@settings(max_examples=int(os.environ.get("JO_NESTING_EXAMPLES", "1500")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(value=_VALUES, flow=st.sampled_from([None, True, False]), style=_STYLES, limit=st.integers(2, 8),
       indent=st.integers(2, 6), width=st.sampled_from([8, 80]))
def test_the_scan_never_underestimates(value: Any, flow: bool | None, style: str | None, limit: int,
                                       indent: int, width: int) -> None:
    """Whatever PyYAML writes (every style, scalars full of brackets and quotes), a text whose nesting passes
    `limit` is flagged: the scan may say "perhaps" of a shallow text, never "no" of a deep one."""
    text = yaml.safe_dump(value, default_flow_style=flow, default_style=style, indent=indent, width=width,
                          allow_unicode=True)
    if _true_depth(text) > limit:
        assert deepest_offset(text, limit) is not None, text


@pytest.mark.parametrize("text", [
    "a: [1, [2, [3]]]\n",
    "a: 'it''s [not ['\nb: \"[[[\\\" [\"\n",
    "a: |\n  [[[[[[[[[[\n  {{{{{{{{\nb: 1\n",
    "# [[[[[[[[[[[[\na: b # {{{{{{{{{{{{\n",
    "a: x[y\nb: {c: d}\n",
])
def test_shallow_texts_pass_the_scan(text: str) -> None:
    assert deepest_offset(text, 5) is None


def _deep_documents() -> list[str]:
    return [
        "[" * 200_000,
        "[" * 2_000 + "]" * 2_000,
        "{a: " * 50_000 + "x" + "}" * 50_000,
        "- " * 200_000 + "x\n",
        "".join(" " * i + "k:\n" for i in range(100)),
        "kind: journey\nsteps:\n  a: " + "[" * 1_500 + "]" * 1_500 + "\n",
        json.dumps({"a": [[[[1]]]]}).replace("[", "[" * 300).replace("]", "]" * 300),
    ]


@pytest.mark.parametrize("text", _deep_documents())
def test_a_deep_document_never_reaches_libyaml(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """JO106 at the first node past the limit, found by the pure-Python parser; the C parser is never asked."""

    def refuse(_text: str) -> None:
        raise AssertionError("libyaml was given a text deeper than jo reads")

    monkeypatch.setattr(loader, "_PARSER", refuse)
    result = load_yaml("x.yaml", text.encode())
    assert result.document is None
    assert [f.code for f in result.findings] == ["JO106"]
    assert "nesting deeper than 64" in result.findings[0].message


def test_the_position_is_the_node_past_the_limit() -> None:
    finding = load_yaml("x.yaml", b"[" * 200_000).findings[0]
    assert (finding.line, finding.col) == (1, MAX_DEPTH + 1)
    text = "".join(" " * i + "k:\n" for i in range(100))
    finding = load_yaml("x.yaml", text.encode()).findings[0]
    assert (finding.line, finding.col) == (MAX_DEPTH + 1, MAX_DEPTH + 1)  # the 64th key's value: the 65th node


def test_a_libyaml_that_refuses_nesting_itself_still_gives_jo106(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the scan miss a deep text, libyaml's own refusal (PyYAML 6.0.4) is not taken for a syntax error."""
    monkeypatch.setattr(loader, "deepest_offset", lambda _text, _limit: None)
    result = load_yaml("x.yaml", b"[" * 5_000 + b"]" * 5_000)
    assert [f.code for f in result.findings] == ["JO106"]


def test_a_flagged_shallow_text_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the scan overestimates, the document is read all the same, by the pure-Python parser."""
    monkeypatch.setattr(loader, "deepest_offset", lambda _text, _limit: 0)
    text = "a: 1\nb: [x, {c: d}]\n" + "z: " + "y" * 10_000 + "\n"
    result = load_yaml("x.yaml", text.encode())
    assert result.findings == []
    assert result.document is not None and result.document.data["b"] == ["x", {"c": "d"}]
