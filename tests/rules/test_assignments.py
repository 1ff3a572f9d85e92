"""JO412-JO414: jump params typed against the target event's payload, update-profile `set` against the profile."""

from __future__ import annotations

import json

import pytest

from jo_cli.rules.assignments import ASSIGN_CONTEXT
from jo_cli.validate import validate_files
from tests.rules.test_references import project as project  # the scratch-project fixture

ORDER_PLACED = """\
kind: event
id: order_placed
key: customer_id
schema:
  type: object
  properties:
    customer_id: {type: string}
    total: {type: number}
    count: {type: integer}
    coupon: {type: string}
    gift: {type: boolean}
    at: {type: string, format: date-time}
    address: {type: object, properties: {city: {type: string}}}
  required: [customer_id, total]
"""
CHECKOUT = "kind: journey\nid: checkout\nentry: {type: event, event: order_placed, next: end}\nsteps: {}\n"


def jump(params: str) -> str:
    """A journey whose jump step `hop` is on line 5 (`params:` at column 40, its first value at 56)."""
    return ("kind: journey\nid: a\nentry: {type: event, event: signed_up, next: hop}\nsteps:\n"
            f"  hop: {{type: jump, journey: checkout, params: {params}, next: end}}\n")


@pytest.fixture
def jumps(project):
    project.write("events/order_placed.yaml", ORDER_PLACED)
    project.write("journeys/checkout.yaml", CHECKOUT)
    return project


def messages(project, relative: str) -> list[tuple[str, str, str | None]]:
    validation = validate_files([project.root / relative], cwd=project.root, project_root=project.root)
    return sorted((f.code, f.message, f.hint) for f in validation.findings if f.path == relative)


def test_well_typed_params_pass(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: 10, count: 'length(profile.email)', coupon: profile.tier, "
                                        "gift: profile.consent.email, at: now(), address: 'null'}"))
    assert jumps.check("journeys/a.yaml") == []
    jumps.write("journeys/a.yaml", jump("{total: 'toDecimal(\"1.5\") * 2', coupon: 'null'}"))
    assert jumps.check("journeys/a.yaml") == []


def test_jo412_unknown_param_suggests(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: 1, copon: '\"x\"'}"))
    assert jumps.check("journeys/a.yaml") == [("JO412", 5, 59)]
    [(_, message, hint)] = messages(jumps, "journeys/a.yaml")
    assert message == ("the payload of `order_placed` (the entry event of journey `checkout`) has no field `copon`; "
                       "did you mean `coupon`?")
    assert hint == "fields: address, at, count, coupon, customer_id, gift, total"


def test_jo412_params_name_top_level_fields(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: 1, address.city: '\"Paris\"'}"))
    assert jumps.check("journeys/a.yaml") == [("JO412", 5, 59)]


@pytest.mark.parametrize(
    ("value", "wanted", "given"),
    [
        ("profile.email", "decimal", "string"),
        ("'\"12\"'", "decimal", "string"),
        ("true", "decimal", "boolean"),
        ("'now()'", "decimal", "datetime"),
        ("'[1, 2]'", "decimal", "list<integer>"),
    ],
)
def test_jo413_param_type_mismatch(jumps, value: str, wanted: str, given: str) -> None:
    jumps.write("journeys/a.yaml", jump(f"{{total: {value}}}"))
    assert jumps.check("journeys/a.yaml") == [("JO413", 5, 56)]
    [(_, message, hint)] = messages(jumps, "journeys/a.yaml")
    assert message == (f"`total` is a {wanted} field of the payload of `order_placed` (the entry event of "
                       f"journey `checkout`), but this value gives a {given}")
    assert hint == "convert it: `toDecimal(...)`"


def test_jo413_a_decimal_into_an_integer_and_text_into_a_boolean(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: 1, count: 2.5, gift: profile.tier}"))
    assert jumps.check("journeys/a.yaml") == [("JO413", 5, 66), ("JO413", 5, 77)]


def test_jo413_null_into_a_required_field(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: 'null'}"))
    assert jumps.check("journeys/a.yaml") == [("JO413", 5, 56)]
    assert messages(jumps, "journeys/a.yaml")[0][1] == (
        "`total` is required by the payload of `order_placed` (the entry event of journey `checkout`): "
        "it cannot be null")


def test_an_expression_with_its_own_error_is_not_typed_twice(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: profile.totl, count: 'count(('}"))
    assert [code for code, _, _ in jumps.check("journeys/a.yaml")] == ["JO401", "JO402"]


def test_jo414_a_required_field_without_a_param(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{coupon: profile.tier}"))
    assert jumps.check("journeys/a.yaml") == [("JO414", 5, 40)]
    [(_, message, hint)] = messages(jumps, "journeys/a.yaml")
    assert message == ("the payload of `order_placed` (the entry event of journey `checkout`) requires `total`: "
                       "give it in `params`")
    assert hint == ("params: {total: <expression>}; the jump fills `customer_id` (the event's key) with the "
                    "profile's identity itself")
    # No params at all: the finding is on the target journey's name.
    jumps.write("journeys/a.yaml", jump("{}").replace(", params: {}", ""))
    assert jumps.check("journeys/a.yaml") == [("JO414", 5, 30)]


def test_the_key_is_filled_by_the_jump(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: 0}"))
    assert jumps.check("journeys/a.yaml") == []


def test_other_rules_own_a_bad_target(jumps) -> None:
    for target, code in (("chekout", "JO509"), ("nightly", "JO350")):
        jumps.write("journeys/nightly.yaml", "kind: journey\nid: nightly\nentry: {type: audience, audience: gold, "
                    "next: end}\nsteps: {}\n")
        jumps.write("journeys/a.yaml", jump("{totl: 1}").replace("journey: checkout", f"journey: {target}"))
        assert [c for c, _, _ in jumps.check("journeys/a.yaml")] == [code]
    jumps.write("journeys/checkout.yaml", CHECKOUT.replace("order_placed", "order_plaaced"))
    jumps.write("journeys/a.yaml", jump("{totl: 1}"))
    assert jumps.check("journeys/a.yaml") == []  # the target's own JO502


PROFILE_UPDATE = """\
kind: journey
id: a
entry: {type: event, event: signed_up, next: mark}
steps:
  mark:
    type: update-profile
    set:
      %s
    next: end
"""


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("tier: '\"gold\"'", []),
        ("consent.email: 'profile.tier == \"gold\"'", []),
        ("consent.email: false", []),
        ("tier: 'null'", []),  # not required: null empties it
        ("email: 'lower(profile.email)'", []),
        ("teir: '\"gold\"'", [("JO412", 8, 7)]),
        ("consent.emial: true", [("JO412", 8, 7)]),
        ("tier.level: '\"x\"'", [("JO412", 8, 7)]),
        ("consent.email: profile.tier", [("JO413", 8, 22)]),
        ("tier: 5", [("JO413", 8, 13)]),
        ("consent: true", [("JO413", 8, 16)]),
    ],
)
def test_update_profile_set(project, entry: str, expected: list[tuple[str, int, int]]) -> None:
    project.write("journeys/a.yaml", PROFILE_UPDATE % entry)
    assert project.check("journeys/a.yaml") == expected


def test_set_messages(project) -> None:
    project.write("journeys/a.yaml", PROFILE_UPDATE % "consent.emial: true\n      tier.level: '\"x\"'")
    found = [(code, message) for code, message, _ in messages(project, "journeys/a.yaml")]
    assert found == [("JO412", "`consent` in the profile schema has no field `emial`; did you mean `email`?"),
                     ("JO412", "`tier` is a string field of the profile schema and has no field `level`")]


def test_null_into_a_required_profile_field(project) -> None:
    schema = project.root / "data" / "profiles.schema.json"
    schema.write_text(json.dumps({**json.loads(schema.read_text()), "required": ["id", "email"]}))
    project.write("journeys/a.yaml", PROFILE_UPDATE % "email: 'null'")
    assert project.check("journeys/a.yaml") == [("JO413", 8, 14)]


def test_the_example_context_declares_the_target() -> None:
    assert "journeys/checkout.yaml" in ASSIGN_CONTEXT


def test_messages_say_an_integer(jumps) -> None:
    jumps.write("journeys/a.yaml", jump("{total: 1, count: '\"2\"'}"))
    assert messages(jumps, "journeys/a.yaml")[0][1].startswith("`count` is an integer field of the payload")
