"""`pattern`s in data and event schemas compile with RE2 at lint time, as the readers compile them (SPEC §5.1, §8)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from jo_cli.data.cells import converter
from jo_cli.errors import JoError
from jo_cli.expr.functions_text import regex_problem
from tests.rules.helpers import assert_findings, findings

EVENT = """\
kind: event
id: order_placed
key: customer_id
schema:
  type: object
  properties:
    customer_id: {type: string, pattern: "^c-[0-9]+$"}
    zip: {type: string, pattern: '{pattern}'}
    address:
      type: object
      properties:
        street: {type: string, pattern: "{nested}"}
    tags: {{type: array, items: {{type: string, pattern: '{item}'}}}}
"""


def event(pattern: str = "^[0-9]{5}$", nested: str = "^[A-Z]", item: str = "^[a-z]+$") -> str:
    return EVENT.replace("{pattern}", pattern).replace("{nested}", nested).replace("{item}", item) \
        .replace("{{", "{").replace("}}", "}")


def test_valid_patterns_pass() -> None:
    assert_findings(event(), path="events/order_placed.yaml")


@pytest.mark.parametrize("pattern", ["([0-9]", r"(a)\1", "(?=x)y", "a{2,1}", r"\k<n>"])
def test_a_pattern_re2_refuses_is_jo205_at_the_value(pattern: str) -> None:
    assert_findings(event(pattern), ("JO205", 8, 34), path="events/order_placed.yaml")


def test_nested_properties_and_items() -> None:
    assert_findings(event(nested="(", item="(?!x)"), ("JO205", 12, 41), ("JO205", 13, 56),
                    path="events/order_placed.yaml")


def test_the_message_names_the_field_and_the_reason() -> None:
    from jo_cli.loader import load_yaml
    from jo_cli.schema.check import check_document

    doc = load_yaml("e.yaml", event(r"(a)\1").encode()).document
    assert doc is not None
    [finding] = check_document(doc, "event")
    assert finding.message.startswith("`schema.properties.zip.pattern`: regular expression `(a)\\1` uses the "
                                      "backreference `\\1`")
    assert "RE2" in (finding.hint or "")


DATA = """\
{
  "type": "object",
  "properties": {
    "id": {"type": "string", "pattern": "^[0-9]+$"},
    "consent": {"type": "object", "properties": {
      "code": {"type": "string", "pattern": "%s"}}}
  }
}
"""


def test_data_schemas_nested() -> None:
    assert_findings(DATA % "^ok$", path="data/profiles.schema.json")
    assert_findings(DATA % "(?<=x)", ("JO205", 6, 45), path="data/profiles.schema.json")
    assert_findings(DATA % r"\\\\1", path="data/profiles.schema.json")  # an escaped backslash, then 1
    assert_findings(DATA % r"(a)\\1", ("JO205", 6, 45), path="data/profiles.schema.json")


@pytest.mark.parametrize("pattern", ["^ok$", "(", r"(a)\1", "(?=x)", r"\\1", r"[\d-]", r"\p{L}+", "(?i)ab", "a{1001}"])
def test_lint_and_the_csv_reader_agree(pattern: str) -> None:
    """The reader refuses exactly the patterns lint reports (both go through `regex_problem`)."""
    refused = False
    try:
        converter({"type": "string", "pattern": pattern}, "data/x.csv: column `x`", ZoneInfo("UTC"))
    except JoError:
        refused = True
    assert refused == (regex_problem(pattern) is not None)
    data = json.dumps({"type": "object", "properties": {"x": {"type": "string", "pattern": pattern}}})
    codes = [code for code, _, _ in findings(data, path="data/x.schema.json")]
    assert ("JO205" in codes) == refused

