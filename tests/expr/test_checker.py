"""Type checker: one test per rule of SPEC §8, with exact codes, offsets and result types; a golden of messages."""

from __future__ import annotations

import pytest

from jo_cli.expr.checker import JOURNEY_FIELDS, Scope, check
from jo_cli.expr.parser import parse
from jo_cli.expr.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    STRING,
    Type,
    list_of,
    object_of,
)
from jo_cli.rules.expressions import Role, check_text
from tests.conftest import FIXTURES, check_golden

CONSENT = object_of({"email": BOOLEAN, "sms": BOOLEAN})
PROFILE = object_of({
    "first_name": STRING, "tier": STRING, "age": INTEGER, "score": DECIMAL, "vip": BOOLEAN, "birthday": DATE,
    "signed_up_at": DATETIME, "cooldown": DURATION, "tags": list_of(STRING), "consent": CONSENT,
})
EVENT = object_of({"total": DECIMAL, "sku": STRING, "at": DATETIME})
SCOPE = Scope(roots={"profile": PROFILE, "event": EVENT, "journey": JOURNEY_FIELDS, "actions": ANY},
              audiences=frozenset({"gold", "silver"}))
NO_EVENT = "this journey has no event entry and no wait-event step"
AUDIENCE_JOURNEY = Scope(roots={"profile": PROFILE, "journey": JOURNEY_FIELDS, "actions": ANY},
                         no_event_reason=NO_EVENT)
CUSTOMER = object_of({"id": STRING, "tier": STRING, "age": INTEGER})
PURCHASE = object_of({"total": DECIMAL, "sku": STRING, "qty": INTEGER, "at": DATETIME})
STORE = object_of({"name": STRING})
CAMPAIGN = Scope(row=CUSTOMER, links={"purchases": PURCHASE, "store": STORE}, to_one={"store": STORE})

Found = tuple[str, int, int]


def at(text: str, fragment: str, occurrence: int = 1) -> tuple[int, int]:
    """The offsets of the `occurrence`-th `fragment` in `text` (what an issue should point at)."""
    start = -1
    for _ in range(occurrence):
        start = text.index(fragment, start + 1)
    return start, start + len(fragment)


def run(text: str, scope: Scope = SCOPE) -> tuple[Type, list[Found], list[str]]:
    """The result type, (code, start, end) of each issue, and the messages."""
    found, issues = check(parse(text), scope)
    return found, [(i.code, i.start, i.end) for i in issues], [i.message for i in issues]


def whole(code: str, text: str) -> Found:
    return (code, 0, len(text))


def part(code: str, text: str, fragment: str, occurrence: int = 1) -> Found:
    return (code, *at(text, fragment, occurrence))


def assert_clean(text: str, expected: Type, scope: Scope = SCOPE) -> None:
    found, issues, messages = run(text, scope)
    assert issues == [], messages
    assert found == expected


# --- ordering ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("profile.age < profile.score", BOOLEAN),
    ("profile.age >= 2.5", BOOLEAN),
    ("3 > profile.score", BOOLEAN),
    ('profile.first_name <= "m"', BOOLEAN),
    ('profile.birthday < date("2026-12-01")', BOOLEAN),
    ("profile.signed_up_at > now()", BOOLEAN),
    ('profile.cooldown > duration("PT1H")', BOOLEAN),
    ("profile.tier > null", BOOLEAN),
    ("actions.step.value < 3", BOOLEAN),
])
def test_ordering_of_one_type_or_of_numbers(text: str, expected: Type) -> None:
    assert_clean(text, expected)


@pytest.mark.parametrize(("text", "message"), [
    ("profile.first_name < 3", "cannot order string and integer with `<`"),
    ("profile.birthday < profile.signed_up_at", "cannot order date and datetime with `<`"),
    ('profile.signed_up_at >= "2026-12-01"', "cannot order datetime and string with `>=`"),
    ("profile.vip < true", "cannot order boolean and boolean with `<`"),
    ("profile.tags > profile.tags", "cannot order list<string> and list<string> with `>`"),
    ("profile.cooldown <= 3600", "cannot order duration and integer with `<=`"),
])
def test_ordering_across_types_is_jo405(text: str, message: str) -> None:
    found, issues, messages = run(text)
    assert issues == [whole("JO405", text)]
    assert messages == [message]
    assert found == ANY


# --- arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("profile.age + 1", INTEGER),
    ("profile.age - 1", INTEGER),
    ("profile.age * 2", INTEGER),
    ("profile.age % 3", INTEGER),
    ("profile.age + profile.score", DECIMAL),
    ("profile.age * 2.5", DECIMAL),
    ("profile.score % 2", DECIMAL),
    ("profile.age / 2", DECIMAL),
    ("4 / 2", DECIMAL),
    ("-profile.age", INTEGER),
    ("-profile.score", DECIMAL),
    ('-duration("PT1H")', DURATION),
    ("profile.age + null", ANY),
    ("null / 2", DECIMAL),
    ("profile.first_name + 1", STRING),
    ("1 + profile.first_name", STRING),
    ('"born " + profile.birthday', STRING),
    ("profile.first_name + profile.tags", STRING),
    ('profile.signed_up_at + duration("P1D")', DATETIME),
    ('duration("PT1H") + profile.signed_up_at', DATETIME),
    ('profile.signed_up_at - duration("PT90M")', DATETIME),
    ("profile.signed_up_at - profile.signed_up_at", DURATION),
    ("now() - profile.signed_up_at", DURATION),
    ('profile.birthday + duration("P1D")', DATE),
    ('profile.birthday - duration("P7D")', DATE),
    ("profile.birthday - profile.birthday", DURATION),
    ('profile.cooldown + duration("PT1H")', DURATION),
    ('profile.cooldown - duration("PT1H")', DURATION),
])
def test_arithmetic_types(text: str, expected: Type) -> None:
    assert_clean(text, expected)


@pytest.mark.parametrize(("text", "message"), [
    ("profile.signed_up_at + profile.signed_up_at", "cannot apply `+` to datetime and datetime"),
    ("profile.signed_up_at - profile.birthday", "cannot apply `-` to datetime and date"),
    ("profile.first_name - 1", "cannot apply `-` to string and integer"),
    ('profile.first_name * "2"', "cannot apply `*` to string and string"),
    ("profile.vip * 2", "cannot apply `*` to boolean and integer"),
    ('profile.cooldown * 2', "cannot apply `*` to duration and integer"),
    ('duration("P1D") - profile.signed_up_at', "cannot apply `-` to duration and datetime"),
    ("-profile.first_name", "cannot negate string"),
    ("-profile.vip", "cannot negate boolean"),
])
def test_arithmetic_errors_are_jo405(text: str, message: str) -> None:
    found, issues, messages = run(text)
    assert issues == [whole("JO405", text)]
    assert messages == [message]
    assert found == ANY


# --- and, or, not, if -------------------------------------------------------------------------


def test_and_or_not_of_booleans() -> None:
    assert_clean("profile.vip and profile.consent.email or not profile.consent.sms", BOOLEAN)
    assert_clean("profile.tier == null or not (profile.age > 3)", BOOLEAN)
    assert_clean("not null", BOOLEAN)
    assert_clean("actions.check.ok and true", BOOLEAN)


@pytest.mark.parametrize(("text", "fragment", "message"), [
    ("profile.age and true", "profile.age", "each side of `and` must be a boolean, not integer"),
    ("true or profile.first_name", "profile.first_name", "each side of `or` must be a boolean, not string"),
    ("not profile.score", "profile.score", "the operand of `not` must be a boolean, not decimal"),
    ("not profile.tags", "profile.tags", "the operand of `not` must be a boolean, not list<string>"),
    ("profile.vip and profile.consent", "profile.consent", "each side of `and` must be a boolean, not object"),
])
def test_and_or_not_on_a_non_boolean_is_jo406(text: str, fragment: str, message: str) -> None:
    found, issues, messages = run(text)
    assert issues == [part("JO406", text, fragment)]
    assert messages == [message]
    assert found == BOOLEAN


def test_both_sides_of_and_are_reported() -> None:
    text = "profile.age and profile.first_name"
    found, issues, _ = run(text)
    assert issues == [part("JO406", text, "profile.age"), part("JO406", text, "profile.first_name")]
    assert found == BOOLEAN


def test_in_needs_a_list() -> None:
    assert_clean('profile.tier in ["gold", "silver"]', BOOLEAN)
    assert_clean('"vip" in profile.tags', BOOLEAN)
    assert_clean("profile.age in [1, 2.5]", BOOLEAN)
    assert_clean("profile.age in null", BOOLEAN)
    assert_clean('in(profile.tier, ["gold"])', BOOLEAN)
    for text, fragment, right in [('profile.tier in "gold"', '"gold"', "string"),
                                  ("1 in profile.age", "profile.age", "integer"),
                                  ("profile.tier in profile.consent", "profile.consent", "object")]:
        found, issues, messages = run(text)
        assert issues == [part("JO405", text, fragment)], text
        assert messages == [f"`in` needs a list on its right, not {right}"]
        assert found == BOOLEAN


def test_list_literals_hold_one_type() -> None:
    assert_clean("[1, 2.5]", list_of(DECIMAL))
    assert_clean('["a", null]', list_of(STRING))
    assert_clean("[]", list_of(ANY))
    text = '[1, "a"]'
    found, issues, messages = run(text)
    assert issues == [whole("JO405", text)]
    assert messages == ["a list holds values of one type: integer, string"]
    assert found == ANY


@pytest.mark.parametrize(("text", "expected"), [
    ("if (profile.vip) then (1) else (2)", INTEGER),
    ("if (profile.vip) then (1) else (2.5)", DECIMAL),
    ("if (profile.vip) then (profile.score) else (profile.age)", DECIMAL),
    ('if (profile.vip) then (null) else ("a")', STRING),
    ('if (profile.vip) then (profile.signed_up_at) else (now())', DATETIME),
    ("if (null) then (1) else (2)", INTEGER),
])
def test_if_branches_share_a_type(text: str, expected: Type) -> None:
    assert_clean(text, expected)


@pytest.mark.parametrize(("text", "message"), [
    ('if (profile.vip) then (1) else ("a")', "`then` gives integer but `else` gives string"),
    ("if (profile.vip) then (profile.birthday) else (profile.signed_up_at)",
     "`then` gives date but `else` gives datetime"),
    ("if (profile.vip) then (true) else (0)", "`then` gives boolean but `else` gives integer"),
])
def test_if_branches_of_different_types_are_jo405(text: str, message: str) -> None:
    found, issues, messages = run(text)
    assert issues == [whole("JO405", text)]
    assert messages == [message]
    assert found == ANY


def test_if_condition_must_be_a_boolean() -> None:
    text = "if (profile.age) then (1) else (2)"
    found, issues, messages = run(text)
    assert issues == [part("JO406", text, "profile.age")]
    assert messages == ["the condition of `if` must be a boolean, not integer"]
    assert found == INTEGER


# --- references -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("profile.first_name", STRING),
    ("profile.consent", CONSENT),
    ("profile.consent.email", BOOLEAN),
    ("profile.tags", list_of(STRING)),
    ("event.total", DECIMAL),
    ("journey.id", STRING),
    ("journey.version", INTEGER),
    ("journey.entered_at", DATETIME),
    ("actions.'crm-task'.id", ANY),
    ("actions.'crm-task'.any.depth", ANY),
])
def test_reference_types(text: str, expected: Type) -> None:
    assert_clean(text, expected)


@pytest.mark.parametrize(("text", "message"), [
    ("profile.frist_name", "`profile` has no field `frist_name`; did you mean `first_name`?"),
    ("profile.consent.emial", "`profile.consent` has no field `emial`; did you mean `email`?"),
    ("profile.zzz", "`profile` has no field `zzz`"),
    ("profle.tier", "unknown name `profle`; did you mean `profile`? (names: actions, event, journey, profile)"),
    ("tier", "unknown name `tier` (names: actions, event, journey, profile)"),
    ("journey.verison", "`journey` has no field `verison`; did you mean `version`?"),
    ("profile.age.years", "`profile.age` is integer and has no field `years`"),
    ("profile.tags.first", "`profile.tags` is list<string> and has no field `first`"),
    ("profile.consent.email.at", "`profile.consent.email` is boolean and has no field `at`"),
])
def test_unknown_fields_and_names_are_jo402(text: str, message: str) -> None:
    found, issues, messages = run(text)
    assert issues == [whole("JO402", text)]
    assert messages == [message]
    assert found == ANY


def test_unknown_field_inside_a_larger_expression_points_at_the_reference() -> None:
    text = 'profile.age > 3 and profile.frist_name == "Ada"'
    found, issues, _ = run(text)
    assert issues == [part("JO402", text, "profile.frist_name")]
    assert found == BOOLEAN
    text = "profile.frist_name is null"
    found, issues, _ = run(text)
    assert issues == [part("JO402", text, "profile.frist_name")]
    assert found == BOOLEAN


def test_event_without_an_event_is_jo411() -> None:
    text = "event.total > 100"
    found, issues, messages = run(text, AUDIENCE_JOURNEY)
    assert issues == [part("JO411", text, "event.total")]
    assert messages == [f"`event` is not available here: {NO_EVENT}"]
    assert found == BOOLEAN
    # Without a reason, `event` is just an unknown name.
    found, issues, messages = run(text, Scope(roots={"profile": PROFILE}))
    assert issues == [part("JO402", text, "event.total")]
    assert messages == ["unknown name `event` (names: profile)"]
    # With an event root, the reason is not consulted.
    assert_clean(text, BOOLEAN, Scope(roots={"event": EVENT}, no_event_reason=NO_EVENT))


# --- functions --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("lower(profile.first_name)", STRING),
    ("length(profile.first_name)", INTEGER),
    ('startWith(profile.first_name, "A")', BOOLEAN),
    ("round(profile.score)", INTEGER),
    ("abs(profile.age)", INTEGER),
    ("abs(profile.score)", DECIMAL),
    ('concat("a", profile.first_name, "b")', STRING),
    ("concat(profile.tags)", STRING),
    ('split(profile.first_name, ",")', list_of(STRING)),
    ('max(profile.birthday, date("2026-01-01"))', DATE),
    ("min(profile.tags)", STRING),
    ("min([1, 2])", INTEGER),
    ("sum(1, 2.5)", DECIMAL),
    ("sum([1, 2])", INTEGER),
    ("avg(1, 2)", DECIMAL),
    ("count(profile.tags)", INTEGER),
    ("distinct(profile.tags)", list_of(STRING)),
    ("isEmpty(profile.age)", BOOLEAN),
    ("now()", DATETIME),
    ('now("Asia/Tokyo")', DATETIME),
    ('nowWithDelta(-3, "days")', DATETIME),
    ("toInteger(profile.first_name)", INTEGER),
    ("toInteger(profile.age)", INTEGER),
    ("toDateOnly(profile.signed_up_at)", DATE),
    ("dayOfWeek(profile.birthday)", INTEGER),
    ("setDays(profile.birthday, 1)", DATE),
    ("setHours(profile.signed_up_at, 9)", DATETIME),
    ("inLastDays(profile.signed_up_at, 7)", BOOLEAN),
    ("toString(profile.consent)", STRING),
    ("substr(profile.first_name, 1, 3)", STRING),
])
def test_function_result_types(text: str, expected: Type) -> None:
    assert_clean(text, expected)


def test_unknown_function_is_jo403_with_a_suggestion() -> None:
    text = 'startsWith(profile.first_name, "A")'
    found, issues, messages = run(text)
    assert issues == [whole("JO403", text)]
    assert messages == ["unknown function `startsWith`; did you mean `startWith`?"]
    assert found == ANY
    # Its arguments are still checked, each at its own offsets.
    text = 'startsWith(profile.frist_name, "A")'
    found, issues, _ = run(text)
    assert issues == [part("JO402", text, "profile.frist_name"), whole("JO403", text)]
    assert found == ANY


@pytest.mark.parametrize(("text", "message"), [
    ("startWith(profile.first_name)", "`startWith` takes (string, string), not (string)"),
    ("startWith(profile.first_name, 1)", "`startWith` takes (string, string), not (string, integer)"),
    ("round(profile.first_name)", "`round` takes (decimal), not (string)"),
    ("round()", "`round` takes (decimal), not ()"),
    ('contain(profile.tags, "a")', "`contain` takes (string, string), not (list<string>, string)"),
    ("substr(profile.first_name, 1.5)",
     "`substr` takes (string, integer) or (string, integer, integer), not (string, decimal)"),
    ("toInteger(profile.birthday)",
     "`toInteger` takes (string) or (decimal) or (boolean) or (datetime), not (date)"),
    ("concat(1, 2)", "`concat` takes (string, string, ...) or (list<string>), not (integer, integer)"),
    ('now("UTC", "UTC")', "`now` takes () or (string), not (string, string)"),
])
def test_wrong_arity_or_argument_types_are_jo404(text: str, message: str) -> None:
    found, issues, messages = run(text)
    assert issues == [whole("JO404", text)]
    assert messages == [message]
    assert found == ANY


# --- constant arguments -----------------------------------------------------------------------


def test_zone_argument_must_be_a_constant() -> None:
    text = "updateTimeZone(now(), profile.tier)"
    found, issues, messages = run(text)
    assert issues == [part("JO408", text, "profile.tier")]
    assert messages == ["argument 2 of `updateTimeZone` must be a string constant"]
    assert found == DATETIME


@pytest.mark.parametrize(("text", "literal", "message", "expected"), [
    ('updateTimeZone(now(), "Europe/Pari")', '"Europe/Pari"',
     "`Europe/Pari` is not an IANA time zone; did you mean `Europe/Paris`?", DATETIME),
    ('now("Mars/Base")', '"Mars/Base"',
     "`Mars/Base` is not an IANA time zone (a name like `Europe/Paris` or `UTC`)", DATETIME),
    ('nowWithDelta(1, "days", "tokyo")', '"tokyo"',
     "`tokyo` is not an IANA time zone; did you mean `Asia/Tokyo`?", DATETIME),
    ('nowWithDelta(3, "day")', '"day"',
     "unknown unit `day`; did you mean `days`? (units: years, months, days, hours, minutes, seconds)", DATETIME),
])
def test_invalid_zone_or_unit_constant_is_jo408(text: str, literal: str, message: str, expected: Type) -> None:
    found, issues, messages = run(text)
    assert issues == [part("JO408", text, literal)]
    assert messages == [message]
    assert found == expected


@pytest.mark.parametrize(("text", "literal", "code", "message"), [
    ('duration("P1M")', '"P1M"', "JO409",
     "`P1M` is not an exact ISO 8601 duration (days, hours, minutes, seconds; no years or months)"),
    ('duration("P1Y2D")', '"P1Y2D"', "JO409",
     "`P1Y2D` is not an exact ISO 8601 duration (days, hours, minutes, seconds; no years or months)"),
    ('duration("3 days")', '"3 days"', "JO408",
     "`3 days` is not an exact ISO 8601 duration (days, hours, minutes, seconds; no years or months)"),
    ('date("2026-13-01")', '"2026-13-01"', "JO408", "`2026-13-01` is not a date like 2026-12-01"),
    ('date("2026-02-30")', '"2026-02-30"', "JO408", "`2026-02-30` is not a date like 2026-12-01"),
    ('datetime("2026-12-01")', '"2026-12-01"', "JO408",
     "`2026-12-01` is not a datetime like 2026-12-01T09:00:00Z"),
])
def test_literal_constructors_are_validated(text: str, literal: str, code: str, message: str) -> None:
    found, issues, messages = run(text)
    assert issues == [part(code, text, literal)]
    assert messages == [message]
    assert found == ANY


@pytest.mark.parametrize(("text", "expected"), [
    ('date("2026-12-01")', DATE),
    ('datetime("2026-12-01T09:00:00Z")', DATETIME),
    ('datetime("2026-12-01T09:00:00")', DATETIME),
    ('duration("PT1H30M")', DURATION),
    ('duration("P3D")', DURATION),
])
def test_valid_literal_constructors(text: str, expected: Type) -> None:
    assert_clean(text, expected)


@pytest.mark.parametrize("text", ["date(profile.tier)", "date()", 'datetime("a", "b")', "duration(3600)"])
def test_literal_constructors_take_one_string_constant(text: str) -> None:
    found, issues, messages = run(text)
    assert issues == [whole("JO408", text)]
    name = text.split("(")[0]
    assert messages == [f"`{name}(...)` takes one string constant"]
    assert found == ANY


@pytest.mark.parametrize(("text", "literal", "message", "expected"), [
    ('matchRegExp(profile.first_name, "(a)\\\\1")', '"(a)\\\\1"',
     "regular expression `(a)\\1` uses the backreference `\\1`: RE2 has none (it runs in linear time)", BOOLEAN),
    ('replaceAll(profile.first_name, "(?P<n>a)\\\\k<n>", "")', '"(?P<n>a)\\\\k<n>"',
     "regular expression `(?P<n>a)\\k<n>` uses the backreference `\\k`: RE2 has none (it runs in linear time)",
     STRING),
    ('matchRegExp(profile.first_name, "(")', '"("',
     "invalid regular expression `(`: missing ): (", BOOLEAN),
    ('split(profile.first_name, "[")', '"["',
     "invalid regular expression `[`: missing ]: [", list_of(STRING)),
])
def test_regex_literals_are_checked(text: str, literal: str, message: str, expected: Type) -> None:
    found, issues, messages = run(text)
    assert issues == [part("JO408", text, literal)]
    assert messages == [message]
    assert found == expected


def test_regex_from_a_field_or_replacement_text_is_not_checked() -> None:
    assert_clean("matchRegExp(profile.first_name, profile.tier)", BOOLEAN)
    assert_clean('replace(profile.first_name, "a", "(")', STRING)


def test_in_audience_names_must_exist() -> None:
    text = 'inAudience("gol")'
    found, issues, messages = run(text)
    assert issues == [part("JO408", text, '"gol"')]
    assert messages == ["unknown audience `gol`; did you mean `gold`?"]
    assert found == BOOLEAN
    text = 'inAudience("x")'
    found, issues, messages = run(text)
    assert issues == [part("JO408", text, '"x"')]
    assert messages == ["unknown audience `x` (audiences: gold, silver)"]
    assert found == BOOLEAN
    assert_clean('inAudience("gold") and inAudience("silver")', BOOLEAN)
    # Unknown audiences (None) are not checked; the name must still be a constant.
    assert_clean('inAudience("x")', BOOLEAN, Scope(roots={"profile": PROFILE}))
    text = "inAudience(profile.tier)"
    found, issues, messages = run(text)
    assert issues == [part("JO408", text, "profile.tier")]
    assert messages == ["argument 1 of `inAudience` must be a string constant"]
    assert found == BOOLEAN


# --- campaigns --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("tier", STRING),
    ('tier == "gold" and age > 30', BOOLEAN),
    ("store.name", STRING),
    ("exists(purchases, total > 100)", BOOLEAN),
    ('exists(purchases, sku == "A1" and qty >= 2)', BOOLEAN),
    ("count(purchases)", INTEGER),
    ("count(purchases, qty > 1)", INTEGER),
    ("sum(purchases, total, total > 0)", DECIMAL),
    ("sum(purchases, qty)", INTEGER),
    ("avg(purchases, qty)", DECIMAL),
    ("min(purchases, at)", DATETIME),
    ("max(purchases, sku, qty > 0)", STRING),
    ("count(purchases) > 3 and exists(purchases, total > 100)", BOOLEAN),
])
def test_campaign_row_and_link_aggregates(text: str, expected: Type) -> None:
    assert_clean(text, expected, CAMPAIGN)


@pytest.mark.parametrize(("text", "found_issue", "message", "expected"), [
    ("exists(purchases, totl > 100)", ("JO402", "totl"),
     "a `purchases` row has no field `totl`; did you mean `total`?", BOOLEAN),
    ('tier == "gold" and exists(purchases, sku == 1 and totl > 2)', ("JO402", "totl"),
     "a `purchases` row has no field `totl`; did you mean `total`?", BOOLEAN),
    ('exists(purchases, qty > "a")', ("JO405", 'qty > "a"'), "cannot order integer and string with `>`", BOOLEAN),
    ("count(purchases, qty > 1 and nope)", ("JO402", "nope"), "a `purchases` row has no field `nope`", INTEGER),
    ("sum(purchases, -sku)", ("JO405", "-sku"), "cannot negate string", ANY),
    ("sum(purchases, sku)", ("JO404", "sku"), "`sum` adds numbers, not string", ANY),
])
def test_errors_inside_a_linked_scope_are_at_their_offsets(text: str, found_issue: tuple[str, str], message: str,
                                                           expected: Type) -> None:
    found, issues, messages = run(text, CAMPAIGN)
    code, fragment = found_issue
    assert issues == [part(code, text, fragment)]
    assert messages == [message]
    assert found == expected


@pytest.mark.parametrize(("text", "message"), [
    ("exists(purchases)", "`exists(link, condition)` takes a link and a boolean condition"),
    ("exists(purchases, total)", "`exists(link, condition)` takes a link and a boolean condition"),
    ("count(purchases, qty)", "`count(link[, condition])` takes a link and a boolean condition"),
    ("sum(purchases)", "`sum(link, value[, condition])` takes a link, a value and a boolean condition"),
    ("sum(purchases, total, sku)", "`sum(link, value[, condition])` takes a link, a value and a boolean condition"),
])
def test_link_aggregate_arity_is_jo404(text: str, message: str) -> None:
    found, issues, messages = run(text, CAMPAIGN)
    assert issues == [whole("JO404", text)]
    assert messages == [message]
    assert found == ANY


@pytest.mark.parametrize(("text", "message"), [
    ("tir", "the row has no field `tir`; did you mean `tier`?"),
    ("store.nme", "`store` has no field `nme`; did you mean `name`?"),
])
def test_campaign_row_fields(text: str, message: str) -> None:
    found, issues, messages = run(text, CAMPAIGN)
    assert (found, issues, messages) == (ANY, [whole("JO402", text)], [message])


# --- golden: every message, as `jo validate` reports it ---------------------------------------


GOLDEN_CASES: list[tuple[Role, str, Scope]] = [
    ("condition", "profile.email is not null and (profile.consent.email", SCOPE),
    ("condition", "profile.tier == 'gold' AND profile.vip", SCOPE),
    ("condition", "profile.frist_name == \"Ada\"", SCOPE),
    ("condition", "profle.tier == \"gold\"", SCOPE),
    ("condition", "profile.age.years > 3", SCOPE),
    ("condition", "profile.first_name > 3", SCOPE),
    ("condition", "profile.birthday < now()", SCOPE),
    ("condition", "profile.tier", SCOPE),
    ("condition", "profile.age > 3 and profile.tier", SCOPE),
    ("condition", "not profile.score", SCOPE),
    ("condition", "profile.tier in \"gold\"", SCOPE),
    ("value", "if (profile.vip) then (1) else (\"one\")", SCOPE),
    ("value", "[1, \"a\"]", SCOPE),
    ("value", "profile.signed_up_at + profile.signed_up_at", SCOPE),
    ("value", "-profile.first_name", SCOPE),
    ("condition", "startsWith(profile.first_name, \"A\")", SCOPE),
    ("condition", "contain(profile.first_name)", SCOPE),
    ("value", "round(profile.first_name)", SCOPE),
    ("value", "updateTimeZone(now(), profile.tier)", SCOPE),
    ("value", "updateTimeZone(now(), \"Europe/Pari\")", SCOPE),
    ("value", "nowWithDelta(3, \"day\")", SCOPE),
    ("datetime", "now() + duration(\"P1M\")", SCOPE),
    ("datetime", "profile.birthday", SCOPE),
    ("condition", "profile.birthday < date(\"2026-13-01\")", SCOPE),
    ("condition", "matchRegExp(profile.first_name, \"(a)\\\\1\")", SCOPE),
    ("condition", "inAudience(\"golde\")", SCOPE),
    ("condition", "inAudience(\"platinum\")", SCOPE),
    ("condition", "event.total > 100", AUDIENCE_JOURNEY),
    ("condition", "exists(purchases, totl > 100)", CAMPAIGN),
    ("condition", "exists(purchases, tier == \"gold\")", CAMPAIGN),
    ("condition", "purchases > 3", CAMPAIGN),
    ("value", "sum(purchases, sku)", CAMPAIGN),
]


def test_error_messages_golden(update_goldens: bool) -> None:
    lines: list[str] = []
    for role, text, scope in GOLDEN_CASES:
        lines.append(f"[{role}] {text}")
        problems = check_text(text, scope, role)
        assert problems, text  # every case is bad
        lines.extend(f"  {code}: {message} @{start}-{end}" for code, message, start, end in problems)
    check_golden(FIXTURES / "expr-errors.expected.txt", "\n".join(lines) + "\n", update_goldens)
