"""JO6xx limits at their exact positions, on both sides of each AJO number."""

from __future__ import annotations

import pytest

from tests.rules.helpers import assert_findings, findings

HEAD = "kind: journey\nid: welcome\nentry: {type: event, event: signed_up, next: a}\n"
CAMPAIGN = "campaigns/example.yaml"


def chain(count: int) -> str:
    """A journey of `count` one-hour waits in a row (line 4 + i holds step i)."""
    lines = [f"  s{i}: {{type: wait, duration: PT1H, next: {f's{i + 1}' if i < count else 'end'}}}"
             for i in range(1, count + 1)]
    return HEAD.replace("next: a", "next: s1") + "steps:\n" + "\n".join(lines) + "\n"


def test_jo601_fifty_steps_pass() -> None:
    assert_findings(chain(50))


def test_jo601_fifty_one_steps_point_at_the_51st() -> None:
    assert_findings(chain(51), ("JO601", 55, 3))


def test_jo601_message_gives_count_and_limit() -> None:
    from jo_cli.loader import load_yaml
    from jo_cli.rules import run_document_rules

    doc = load_yaml("j.yaml", chain(60).encode()).document
    assert doc is not None
    [finding] = [f for f in run_document_rules(doc, kind="journey", expected_kind="journey") if f.code == "JO601"]
    assert "60 steps" in finding.message and "at most 50" in finding.message


def test_jo601_counts_end_steps() -> None:
    source = chain(50).replace("next: end}", "next: done}") + "  done: {type: end}\n"
    assert_findings(source, ("JO601", 55, 3))


@pytest.mark.parametrize(("duration", "expected"), [
    ("P90D", []),
    ("PT2160H", []),
    ("P12W", []),
    ("P90DT1S", [("JO602", 5, 29)]),
    ("P13W", [("JO602", 5, 29)]),
])
def test_jo602_wait_at_most_p90d(duration: str, expected: list[tuple[str, int, int]]) -> None:
    assert_findings(HEAD + f"steps:\n  a: {{type: wait, duration: {duration}, next: end}}\n", *expected)


def test_jo602_message_spells_out_weeks() -> None:
    from jo_cli.loader import load_yaml
    from jo_cli.rules import run_document_rules

    doc = load_yaml("j.yaml", (HEAD + "steps:\n  a: {type: wait, duration: P13W, next: end}\n").encode()).document
    assert doc is not None
    [finding] = [f for f in run_document_rules(doc, kind="journey", expected_kind="journey") if f.code == "JO602"]
    assert finding.message == "wait `duration` is P13W (P91D); AJO allows at most P90D"


def test_jo602_block_style_points_at_the_value() -> None:
    source = HEAD + "steps:\n  a:\n    type: wait\n    duration: P91D\n    next: end\n"
    assert_findings(source, ("JO602", 7, 15))


def test_jo602_ignores_until_waits_and_bad_durations() -> None:
    assert_findings(HEAD + "steps:\n  a: {type: wait, until: 'now()', next: end}\n")
    # A malformed duration is the schema's finding (JO205), not a second one here.
    assert_findings(HEAD + "steps:\n  a: {type: wait, duration: P1Y, next: end}\n", ("JO205", 5, 29))


@pytest.mark.parametrize(("timeout", "expected"), [
    ("P90D", []),
    ("P90DT1S", [("JO603", 5, 55)]),
])
def test_jo603_wait_event_timeout(timeout: str, expected: list[tuple[str, int, int]]) -> None:
    source = HEAD + f"steps:\n  a: {{type: wait-event, event: order_placed, timeout: {timeout}, next: end}}\n"
    assert_findings(source, *expected)


REACTION = (
    "kind: journey\nid: welcome\nentry: {type: event, event: signed_up, next: hello}\n"
    "steps:\n"
    "  hello: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: opened}\n"
    "  opened:\n"
    "    type: reaction\n"
    "    to: hello\n"
    "    on: opened\n"
    "    timeout: {timeout}\n"
    "    next: end\n"
)


@pytest.mark.parametrize(("timeout", "expected"), [
    ("PT40S", []),
    ("P90D", []),
    ("PT39S", [("JO604", 10, 14)]),
    ("PT0S", [("JO604", 10, 14)]),
    ("P90DT1S", [("JO604", 10, 14)]),
])
def test_jo604_reaction_timeout_between_pt40s_and_p90d(timeout: str, expected: list[tuple[str, int, int]]) -> None:
    assert_findings(REACTION.replace("{timeout}", timeout), *expected)


@pytest.mark.parametrize(("wait", "expected"), [
    ("P90D", []),
    ("P90DT1S", [("JO605", 4, 46)]),
])
def test_jo605_reentrance_wait(wait: str, expected: list[tuple[str, int, int]]) -> None:
    source = HEAD + f"settings: {{reentrance: {{allowed: true, wait: {wait}}}}}\nsteps:\n  a: {{type: end}}\n"
    assert_findings(source, *expected)


def test_update_profile_and_quiet_hours_limits_are_the_schemas() -> None:
    # No JO6xx duplicates JO205 for what the JSON Schema already bounds.
    fields = ", ".join(f"f{i}: 1" for i in range(6))
    codes = [c for c, _, _ in findings(HEAD + f"steps:\n  a: {{type: update-profile, set: {{{fields}}}, next: end}}\n")]
    assert codes == ["JO205"]
    windows = ", ".join('{from: "21:00", to: "08:00"}' for _ in range(6))
    project = (
        "kind: project\nname: acme\ntimezone: Europe/Paris\n"
        "profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}\n"
        f"rules:\n  default:\n    quiet_hours: {{windows: [{windows}]}}\n"
    )
    assert [c for c, _, _ in findings(project, path="jo.yaml")] == ["JO205"]


def activities(count: int, *, channel: str = "email") -> str:
    """A campaign: one audience forked to `count` - 2 channel activities (line 5 + i holds activity i)."""
    names = [f"m{i}" for i in range(1, count - 1)]
    lines = [
        "  all: {type: build-audience, dimension: profiles, where: 'true', next: fan-out}",
        f"  fan-out: {{type: fork, next: [{', '.join(names)}]}}",
        *(f"  {name}: {{type: {channel}, content: {{subject: Hi, body: Hello}}}}" for name in names),
    ]
    return "kind: campaign\nid: spring-sale\nactivities:\n" + "\n".join(lines) + "\n"


def test_jo606_jo607_limits_of_a_small_campaign_pass() -> None:
    assert_findings(activities(12), path=CAMPAIGN)


def test_jo607_eleven_channel_activities() -> None:
    # all, fan-out, then m1..m11: m11 is on line 4 + 2 + 11.
    assert_findings(activities(13), ("JO607", 16, 3), path=CAMPAIGN)


def test_jo607_counts_sms_and_push_but_not_flow_activities() -> None:
    source = activities(12).replace("m10: {type: email, content: {subject: Hi, body: Hello}}",
                                    "m10: {type: sms, content: {body: Hello}}")
    source += "  m11: {type: push, content: {title: Hi, body: Hello}}\n"
    source = source.replace("m9, m10]", "m9, m10, m11]")
    assert_findings(source, ("JO607", 16, 3), path=CAMPAIGN)


def test_jo606_five_hundred_activities_pass_and_501_fail() -> None:
    def campaign(count: int) -> str:
        lines = [f"  a{i}: {{type: build-audience, dimension: profiles, where: 'true', next: done}}"
                 for i in range(1, count)]
        return "kind: campaign\nid: big\nactivities:\n" + "\n".join(lines) + "\n  done: {type: end}\n"

    assert_findings(campaign(500), path=CAMPAIGN)
    assert_findings(campaign(501), ("JO606", 504, 3), path=CAMPAIGN)


def test_limits_ignore_other_kinds_and_broken_documents() -> None:
    assert_findings("kind: journey\nid: welcome\nentry: {type: event, event: e, next: end}\nsteps: [1, 2]\n",
                    ("JO203", 4, 8))
    assert_findings("kind: campaign\nid: c\nactivities: 5\n", ("JO203", 3, 13), path=CAMPAIGN)
