"""The texts behind errors and exclusions (SPEC §7.1 `reasons`): by step in file order, texts sorted, bounded."""

from __future__ import annotations

from jo_cli.engine.tally import REASON_TEXTS, bounded, count_reasons
from tests.engine.helpers import journey

STEPS = """
entry: {type: event, event: order_placed, next: b}
steps:
  b: {type: condition, paths: [{name: yes, when: "true", next: a}], otherwise: a, on_error: a}
  a: {type: condition, paths: [{name: yes, when: "true", next: end}], otherwise: end}
"""


def test_bounded_keeps_the_most_frequent_texts_and_counts_the_rest_together() -> None:
    texts = {f"text {n:02d}": 1 for n in range(30)} | {"often": 5, "zero": 0}
    kept = bounded(texts)
    assert len(kept) == REASON_TEXTS + 1
    assert kept["often"] == 5 and "zero" not in kept
    assert kept["(11 other texts)"] == 11  # 31 texts with a count: the 20 most frequent (ties by text), then 11
    assert "text 18" in kept and "text 19" not in kept
    assert list(kept) == sorted(kept)
    assert sum(kept.values()) == sum(texts.values())
    assert bounded({"a": 2, "b": 1, "c": 1}, keep=2) == {"(1 other text)": 1, "a": 2, "b": 1}
    assert bounded({"a": 1}, keep=2) == {"a": 1}


def test_count_reasons_by_kind_step_order_and_text() -> None:
    compiled = journey(STEPS)
    counts = {
        ("j", "a", "error", "x: boom", False): 2,
        ("j", "a", "error", "x: bang", False): 1,
        ("j", "b", "error", "y: boom", False): 1,
        ("j", "b", "on_error", "z: oops", False): 4,
        ("j", "a", "error", None, True): 7,  # an exit while parked: not an error text
        ("j", "a", "next", None, False): 9,
        ("other", "a", "error", "not this journey", False): 1,
    }
    reasons = count_reasons(compiled, step_counts=counts, excluded={"a": {"render_error: body: no": 3}})
    assert reasons == {
        "errors": {"b": {"y: boom": 1}, "a": {"x: bang": 1, "x: boom": 2}},  # file order: b before a
        "on_error": {"b": {"z: oops": 4}},
        "excluded": {"a": {"render_error: body: no": 3}},
    }
    assert list(reasons["errors"]) == ["b", "a"]
    assert count_reasons(compiled, step_counts={}) == {"errors": {}, "on_error": {}, "excluded": {}}
