"""JO3xx at their exact positions: journey graphs (SPEC §6.5) and campaign transitions (§9.1)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from jo_cli.cli.render.findings import REPORTERS
from jo_cli.findings import Finding
from jo_cli.loader import load_yaml
from jo_cli.project import walk_yaml
from jo_cli.rules import RULES, RuleContext
from jo_cli.validate import validate_files
from tests.conftest import FIXTURES, check_golden
from tests.rules.helpers import assert_findings

# Step `a` starts on line 5; the entry's `next: a` is at 3:46.
HEAD = "kind: journey\nid: welcome\nentry: {type: event, event: signed_up, next: a}\nsteps:\n"
AUDIENCE_HEAD = HEAD.replace("{type: event, event: signed_up,", "{type: audience, audience: all,")
# Activity lines start on line 4.
CAMPAIGN = "kind: campaign\nid: spring-sale\nactivities:\n"
CAMPAIGN_PATH = "campaigns/example.yaml"
MAIL = "{type: email, content: {subject: Hi, body: Hi}}"


def journey(*steps: str) -> str:
    return HEAD + "".join(f"  {step}\n" for step in steps)


def campaign(*activities: str) -> str:
    return CAMPAIGN + "".join(f"  {activity}\n" for activity in activities)


def assert_campaign(source: str, *expected: tuple[str, int, int]) -> None:
    assert_findings(source, *expected, path=CAMPAIGN_PATH)


def found(source: str, *, path: str = "journeys/example.yaml") -> list[Finding]:
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / path
        file.parent.mkdir(parents=True)
        file.write_text(source, encoding="utf-8")
        return validate_files([file], cwd=Path(tmp), project_root=None).findings


def message(source: str, code: str, *, path: str = "journeys/example.yaml") -> str:
    [finding] = [f for f in found(source, path=path) if f.code == code]
    return finding.message


# --- JO301 unknown-target -------------------------------------------------------------------------


def test_jo301_unknown_next_points_at_the_value() -> None:
    source = journey("a: {type: wait, duration: P1D, next: wiat}", "wait: {type: wait, duration: P1D, next: end}")
    assert_findings(source, ("JO301", 5, 40), ("JO302", 6, 3))
    assert message(source, "JO301") == "`steps.a.next`: `wiat` is not a step of this journey; did you mean `wait`?"


def test_jo301_valid_targets_end_and_otherwise_end() -> None:
    assert_findings(journey(
        "a:",
        "  type: condition",
        "  paths: [{name: vip, when: profile.vip, next: done}]",
        "  otherwise: end",
        "done: {type: end}",
    ))


def test_jo301_every_transition_field() -> None:
    assert_findings(journey(
        "a:",
        "  type: condition",
        "  paths: [{name: vip, when: profile.vip, next: b1}]",  # 7:50
        "  otherwise: b2",                                       # 8:16
        "  on_error: c",
        "c: {type: profile-cap, next: end, over_cap: b3}",      # 10:47
        "b: {type: message, channel: sms, content: {body: Hi}, next: end, on_error: b4}",  # 11:78
    ), ("JO301", 7, 50), ("JO301", 8, 16), ("JO301", 10, 47), ("JO301", 11, 78), ("JO302", 11, 3))


def test_jo301_wait_event_timeout_next() -> None:
    head = "a: {type: wait-event, event: ordered, timeout: PT4H, next: end, timeout_next: "
    assert_findings(journey(head + "remind}", "remind: {type: end}"))
    assert_findings(journey(head + "remnd}", "remind: {type: end}"), ("JO301", 5, 81), ("JO302", 6, 3))


def test_jo301_entry_next_and_no_unreachable_cascade() -> None:
    source = HEAD.replace("next: a}", "next: b}") + "  a: {type: end}\n"
    assert_findings(source, ("JO301", 3, 46))


def test_jo301_ignores_what_the_schema_reports() -> None:
    # A `next` that is not text, or a field the step type does not have, is the schema's finding alone.
    assert_findings(journey("a: {type: wait, duration: P1D, next: 5}"), ("JO203", 5, 40))
    assert_findings(journey("a: {type: wait, duration: P1D, next: end, otherwise: nowhere}"), ("JO201", 5, 45))


# --- JO302 unreachable-step -----------------------------------------------------------------------


def test_jo302_points_at_the_step_id() -> None:
    assert_findings(journey("a: {type: end}", "lost: {type: end}"), ("JO302", 6, 3))


def test_jo302_a_chain_of_unreachable_steps() -> None:
    source = journey("a: {type: end}", "x: {type: wait, duration: P1D, next: y}", "y: {type: end}")
    assert_findings(source, ("JO302", 6, 3), ("JO302", 7, 3))
    messages = [f.message for f in found(source) if f.code == "JO302"]
    assert messages == ["`steps.x`: no profile reaches this step: nothing leads to it",
                        "`steps.y`: no profile reaches this step: only unreachable steps lead to it (`x`)"]


def test_jo302_entry_straight_to_end() -> None:
    assert_findings(HEAD.replace("next: a}", "next: end}") + "  a: {type: end}\n", ("JO302", 5, 3))


def test_jo302_reached_only_through_a_timeout() -> None:
    assert_findings(journey(
        "a: {type: reaction, to: m, on: opened, timeout: P1D, next: end, timeout_next: b}",
        "b: {type: end}",
    ), ("JO305", 5, 27))  # the reaction's `to` is its own problem; `b` is reached


# --- JO303 no-end ---------------------------------------------------------------------------------


def test_jo303_every_step_in_or_into_a_trap() -> None:
    source = journey(
        "a: {type: wait, duration: P1D, next: b}",
        "b: {type: wait, duration: P1D, next: c}",
        "c: {type: wait, duration: P1D, next: b}",
    )
    assert_findings(source, ("JO303", 5, 3), ("JO303", 6, 3), ("JO303", 7, 3), ("JO304", 7, 40))


def test_jo303_a_way_out_through_a_type_end_step() -> None:
    assert_findings(journey(
        "a: {type: wait, duration: P1D, next: b}",
        "b:",
        "  type: condition",
        "  paths: [{name: again, when: profile.vip, next: a}]",
        "  otherwise: done",
        "done: {type: end, label: Done}",
    ), ("JO304", 8, 52))


def test_jo303_dangling_or_missing_transitions_are_not_reported_twice() -> None:
    assert_findings(journey("a: {type: wait, duration: P1D, next: b}", "b: {type: wait, duration: P1D}"),
                    ("JO202", 6, 3))
    assert_findings(journey("a: {type: wait, duration: P1D, next: b}"), ("JO301", 5, 40))


# --- JO304 cycle ----------------------------------------------------------------------------------


def test_jo304_self_loop_through_on_error() -> None:
    source = journey("a: {type: action, action: crm, next: end, on_error: a}")
    assert_findings(source, ("JO304", 5, 55))
    assert message(source, "JO304") == "`steps.a.on_error`: this transition closes a loop: a -> a"


def test_jo304_spells_the_loop_through_paths() -> None:
    source = journey(
        "a: {type: wait, duration: P1D, next: b}",
        "b:",
        "  type: split",
        "  paths: [{name: x, percent: 50, next: c}, {name: y, percent: 50, next: end}]",
        "c: {type: wait, duration: P1D, next: a}",
    )
    assert_findings(source, ("JO304", 9, 40))
    assert message(source, "JO304") == "`steps.c.next`: this transition closes a loop: a -> b -> c -> a"


def test_jo304_a_loop_among_unreachable_steps() -> None:
    assert_findings(journey("a: {type: end}", "x: {type: wait, duration: P1D, next: x}"),
                    ("JO302", 6, 3), ("JO303", 6, 3), ("JO304", 6, 40))


def test_jo304_a_diamond_is_no_loop() -> None:
    assert_findings(journey(
        "a:",
        "  type: condition",
        "  paths: [{name: x, when: profile.vip, next: b}]",
        "  otherwise: c",
        "b: {type: wait, duration: P1D, next: c}",
        "c: {type: end}",
    ))


# --- JO305 reaction-target ------------------------------------------------------------------------

MESSAGE = "m: {type: message, channel: email, content: {subject: Hi, body: Hi}, next: "
REACTION = "r: {type: reaction, to: m, on: opened, timeout: P3D, next: end}"


def test_jo305_directly_after_its_message() -> None:
    assert_findings(HEAD.replace("next: a}", "next: m}") + f"  {MESSAGE}r}}\n  {REACTION}\n")


def test_jo305_a_step_in_between() -> None:
    source = HEAD.replace("next: a}", "next: m}") + (
        f"  {MESSAGE}w}}\n  w: {{type: wait, duration: P1D, next: r}}\n  {REACTION}\n")
    assert_findings(source, ("JO305", 7, 27))
    assert message(source, "JO305") == "`steps.r.to`: `m` is not directly before this reaction; set `steps.m.next: r`"


def test_jo305_to_names_no_message() -> None:
    assert_findings(journey("a: {type: wait, duration: P1D, next: r}", REACTION.replace("to: m", "to: a")),
                    ("JO305", 6, 27))
    source = journey("a: {type: wait, duration: P1D, next: r}", REACTION.replace("to: m", "to: nope"))
    assert_findings(source, ("JO305", 6, 27))


def test_jo305_another_transition_into_the_reaction() -> None:
    source = journey(
        "a:",
        "  type: condition",
        "  paths: [{name: vip, when: profile.vip, next: m}]",
        "  otherwise: r",
        f"{MESSAGE}r}}",
        REACTION,
    )
    assert_findings(source, ("JO305", 8, 16))
    assert message(source, "JO305") == "`steps.a.otherwise`: leads to reaction `r`, which must directly follow `m`"


# --- JO306 waits-over-p91d ------------------------------------------------------------------------


def test_jo306_is_a_warning_at_the_wait_that_crosses() -> None:
    source = journey(
        "a: {type: wait, duration: P45D, next: b}",
        "b: {type: wait-event, event: ordered, timeout: P30D, next: c, timeout_next: c}",
        "c: {type: wait, until: profile.birthday, next: d}",
        "d: {type: reaction, to: m, on: opened, timeout: P20D, next: end}",
    )
    assert_findings(source, ("JO305", 8, 27), ("JO306", 8, 51))
    [warning] = [f for f in found(source) if f.code == "JO306"]
    assert warning.severity == "warning"
    assert warning.message == ("`steps.d.timeout`: the waits on the path `a` (P45D) + `b` (P30D) + `d` (P20D) "
                               "add up to P95D, past the P91D an instance lives; it would exit with `timeout`")


def test_jo306_takes_the_longest_branch() -> None:
    source = journey(
        "a:",
        "  type: condition",
        "  paths: [{name: slow, when: profile.vip, next: long}]",
        "  otherwise: short",
        "long: {type: wait, duration: P80D, next: last}",
        "short: {type: wait, duration: P1D, next: last}",
        "last: {type: wait, duration: P12D, next: end}",
    )
    assert_findings(source, ("JO306", 11, 32))
    assert "`long` (P80D) + `last` (P12D) add up to P92D" in message(source, "JO306")


def test_jo306_exactly_p91d_and_a_single_long_wait() -> None:
    assert_findings(journey("a: {type: wait, duration: P90D, next: b}", "b: {type: wait, duration: PT24H, next: end}"))
    # One wait past P90D is the per-wait limit's finding, not a sum.
    assert "JO306" not in [f.code for f in found(journey("a: {type: wait, duration: P95D, next: end}"))]


# --- JO310 split-percent-decimals, JO311 split-percent-sum ----------------------------------------


def split(*percents: str) -> str:
    paths = ", ".join(f"{{name: p{i}, percent: {p}, next: end}}" for i, p in enumerate(percents))
    return journey("a:", "  type: split", f"  paths: [{paths}]")


def test_jo310_three_decimals_and_no_sum_on_top() -> None:
    source = split("33.333", "66.667")
    assert_findings(source, ("JO310", 7, 33), ("JO310", 7, 73))
    assert message(split("33.333", "66.67"), "JO310").startswith("`steps.a.paths[0].percent`: `33.333` has 3 decimals")


def test_jo310_two_decimals_and_whole_numbers() -> None:
    assert_findings(split("33.33", "33.33", "33.34"))
    assert_findings(split("1e1", "90"))
    assert_findings(split("0.01", "99.99"))


def test_jo311_sum_of_99_99_points_at_paths() -> None:
    source = split("33.33", "33.33", "33.33")
    assert_findings(source, ("JO311", 7, 5))
    assert message(source, "JO311") == "`steps.a.paths`: the percents sum to 99.99, not 100; add 0.01 to a path"


def test_jo311_over_100_and_floats_that_do_not_add_exactly() -> None:
    assert "take 0.5 off a path" in message(split("50.5", "50"), "JO311")
    assert_findings(split("0.1", "0.2", "99.7"))  # 0.1 + 0.2 != 0.3 in floats, but 10 + 20 + 9970 basis points


def test_jo311_leaves_out_of_range_percents_to_the_schema() -> None:
    assert_findings(split("150", "50"), ("JO205", 7, 33))


# --- JO312 reserved-step-id -----------------------------------------------------------------------


def test_jo312_exit_reasons_and_end() -> None:
    source = HEAD.replace("next: a}", "next: no_path}") + "  no_path: {type: wait, duration: P1D, next: end}\n"
    assert_findings(source, ("JO312", 5, 3))
    assert_findings(journey("a: {type: end}", "end: {type: end}"), ("JO312", 6, 3))


def test_jo312_near_misses_are_fine() -> None:
    assert_findings(journey("a: {type: wait, duration: P1D, next: no-path}", "no-path: {type: wait, duration: P1D, "
                            "next: timed_out}", "timed_out: {type: end}"))


# --- JO313 reserved-path-name, JO314 duplicate-path-name ------------------------------------------


def test_jo313_reserved_outcome_names() -> None:
    assert_findings(journey(
        "a:",
        "  type: time-condition",
        "  paths:",
        "    - {name: timeout, from: '09:00', to: '17:00', next: end}",
        "    - {name: office, from: '17:00', to: '09:00', next: end}",
    ), ("JO313", 8, 16))


def test_jo314_second_occurrence_within_one_step_only() -> None:
    source = journey(
        "a:",
        "  type: condition",
        "  paths:",
        "    - {name: vip, when: profile.vip, next: b}",
        "    - {name: vip, when: profile.gold, next: b}",
        "  otherwise: b",
        "b:",
        "  type: condition",
        "  paths: [{name: vip, when: profile.vip, next: end}]",
    )
    assert_findings(source, ("JO314", 9, 16))
    assert message(source, "JO314") == "`steps.a.paths[1].name`: `vip` is already the name of `steps.a.paths[0]`; " \
                                       "rename one of them"


# --- JO315 jump-from-audience ---------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["audience", "audience-qualification"])
def test_jo315_points_at_the_jump_type(entry: str) -> None:
    head = AUDIENCE_HEAD.replace("type: audience,", f"type: {entry},")
    assert_findings(head + "  a: {type: jump, journey: other, next: end}\n", ("JO315", 5, 13))


def test_jo315_event_and_business_event_entries_may_jump() -> None:
    assert_findings(journey("a: {type: jump, journey: other, next: end}"))
    business = HEAD.replace("{type: event, event: signed_up,", "{type: business-event, event: sale, audience: all,")
    assert_findings(business + "  a: {type: jump, journey: other, next: end}\n")


# --- JO330 unknown-activity-target ----------------------------------------------------------------


def test_jo330_next_and_a_fork_list_item() -> None:
    source = campaign(
        "buyers: {type: build-audience, dimension: profiles, next: both}",
        "both: {type: fork, next: [mial, sms]}",
        f"mail: {MAIL}",
        "sms: {type: sms, content: {body: Hi}}",
    )
    assert_campaign(source, ("JO330", 5, 29), ("JO332", 6, 3))
    assert message(source, "JO330", path=CAMPAIGN_PATH) == (
        "`activities.both.next[0]`: `mial` is not an activity of this campaign; did you mean `mail`?")


def test_jo330_every_transition_field_and_no_implicit_end() -> None:
    assert_campaign(campaign(
        "buyers: {type: build-audience, dimension: profiles, next: top}",
        "top:",
        "  type: split",
        "  subsets: [{name: vip, where: total_spend > 1000, next: vpi}]",
        "  complement_next: end",
        "check: {type: test, paths: [{name: big, when: count > 10, next: x}], otherwise: y}",
    ), ("JO330", 7, 60), ("JO330", 8, 22), ("JO330", 9, 67), ("JO330", 9, 83), ("JO334", 9, 3))


# --- JO331 too-few-inputs -------------------------------------------------------------------------


def test_jo331_combine_with_one_input_and_join_with_none() -> None:
    assert_campaign(campaign(
        "buyers: {type: build-audience, dimension: profiles, next: everyone}",
        "everyone: {type: combine, mode: union, next: mail}",
        f"mail: {MAIL}",
        "wait-both: {type: join, next: stop}",
        "stop: {type: end}",
    ), ("JO331", 5, 3), ("JO331", 7, 3), ("JO334", 8, 3))


def test_jo331_two_transitions_from_one_activity_are_one_input() -> None:
    assert_campaign(campaign(
        "buyers: {type: build-audience, dimension: profiles, next: top}",
        "top: {type: split, subsets: [{name: vip, next: both}], complement_next: both}",
        "both: {type: combine, mode: union, next: mail}",
        f"mail: {MAIL}",
    ), ("JO331", 6, 3))


# --- JO332 channel-without-audience ---------------------------------------------------------------


def test_jo332_fed_only_by_a_combine_of_two_audiences() -> None:
    assert_campaign(campaign(
        "buyers: {type: build-audience, dimension: profiles, next: everyone}",
        "gold: {type: build-audience, dimension: profiles, next: everyone}",
        "everyone: {type: combine, mode: union, next: mail}",
        f"mail: {MAIL}",
    ))


def test_jo332_channel_behind_an_unfed_chain() -> None:
    source = campaign(
        "buyers: {type: build-audience, dimension: profiles, next: mail}",
        f"mail: {MAIL}",
        "later: {type: wait, duration: P1D, next: push}",
        "push: {type: push, content: {title: Hi, body: Hi}}",
    )
    assert_campaign(source, ("JO332", 7, 3), ("JO334", 6, 3))
    assert message(source, "JO332", path=CAMPAIGN_PATH) == (
        "`activities.push`: no `build-audience` leads to this push activity, so it has no one to send to")


def test_jo332_jo334_a_misspelt_type_is_one_finding() -> None:
    # An activity of unknown type may be the build-audience it was meant to be: no finding downstream.
    assert_campaign(campaign(
        "buyers: {type: build-audiance, dimension: profiles, next: top}",
        "top: {type: deduplicate, fields: [email], next: mail}",
        f"mail: {MAIL}",
    ), ("JO204", 4, 18))


# --- JO333 campaign-cycle -------------------------------------------------------------------------


def test_jo333_loop_through_a_fork() -> None:
    source = campaign(
        "buyers: {type: build-audience, dimension: profiles, next: both}",
        "both: {type: fork, next: [mail, again]}",
        f"mail: {MAIL}",
        "again: {type: wait, duration: P1D, next: both}",
    )
    assert_campaign(source, ("JO333", 7, 44))
    assert message(source, "JO333", path=CAMPAIGN_PATH).endswith("closes a loop: both -> again -> both")


# --- JO334 unfed-activity -------------------------------------------------------------------------


def test_jo334_a_wait_before_the_audience_is_fine() -> None:
    assert_campaign(campaign(
        "first: {type: wait, duration: PT1H, next: buyers}",
        "buyers: {type: build-audience, dimension: profiles, next: mail}",
        f"mail: {MAIL}",
    ))


def test_jo334_points_at_the_activity_id() -> None:
    assert_campaign(campaign(
        "buyers: {type: build-audience, dimension: profiles, next: mail}",
        f"mail: {MAIL}",
        "stop: {type: end}",
    ), ("JO334", 6, 3))


# --- JO335 primary-not-input ----------------------------------------------------------------------


def test_jo335_join_primary() -> None:
    body = (
        "buyers: {type: build-audience, dimension: profiles, next: both}",
        "both: {type: fork, next: [mail, pause]}",
        "mail: {type: email, content: {subject: Hi, body: Hi}, next: joined}",
        "pause: {type: wait, duration: P1D, next: joined}",
        "joined: {type: join, primary: PRIMARY, next: stop}",
        "stop: {type: end}",
    )
    assert_campaign(campaign(*(line.replace("PRIMARY", "pause") for line in body)))
    source = campaign(*(line.replace("PRIMARY", "both") for line in body))
    assert_campaign(source, ("JO335", 8, 33))
    assert message(source, "JO335", path=CAMPAIGN_PATH) == (
        "`activities.joined.primary`: `both` does not point at `joined` (its inputs are `mail`, `pause`)")


# --- documents that failed their schema -----------------------------------------------------------


@pytest.mark.parametrize("source", [
    "kind: journey\nid: x\nentry: 5\nsteps: [a, b]\n",
    HEAD + "  a: [1, 2]\n",
    HEAD + "  a: {type: [split], paths: 3, next: [b]}\n",
    HEAD + "  a: {type: split, paths: [{name: [x], percent: .nan, next: {a: 1}}, 7, {percent: true}]}\n",
    HEAD + "  a: {type: reaction, to: [m], next: end}\n",
    CAMPAIGN + "  b: {type: build-audience, next: a}\n  a: {type: [fork], next: [1, [2]], primary: {}}\n",
    CAMPAIGN + "  b: {next: a}\n  c: {next: a}\n  a: {type: join, primary: [x], next: {b: 1}}\n",
    "kind: campaign\nid: x\nactivities: [a]\n",
])
def test_schema_errors_get_no_graph_finding(source: str) -> None:
    """What the schema reports (a target that is no text, steps that are no mapping) is not reported again."""
    kind = "campaign" if source.startswith("kind: campaign") else "journey"
    doc = load_yaml("example.yaml", source.encode()).document
    assert doc is not None
    context = RuleContext(kind=kind, expected_kind=kind)
    assert [f for code, rule in RULES.items() if code.startswith("JO3") and rule.check
            for f in rule.check(doc, context)] == []


def test_a_long_chain_does_not_exhaust_the_stack() -> None:
    steps = [f"s{i}: {{type: wait, duration: PT1M, next: s{i + 1}}}" for i in range(3000)]
    source = HEAD.replace("next: a}", "next: s0}") + "".join(f"  {s}\n" for s in steps) + "  s3000: {type: end}\n"
    assert [f.code for f in found(source) if f.code.startswith("JO3")] == []


# --- golden over tests/fixtures/broken-graphs -----------------------------------------------------

BROKEN_GRAPHS = FIXTURES / "broken-graphs"


@pytest.mark.parametrize(("reporter", "suffix"), [("concise", "txt"), ("json", "json")])
def test_broken_graphs_golden(reporter: str, suffix: str, update_goldens: bool) -> None:
    # validate_paths would find the repository's own jo.yaml above the fixture and check references
    # against the demo project; the fixture has no project, so its files are validated as such.
    validation = validate_files(walk_yaml(BROKEN_GRAPHS), cwd=BROKEN_GRAPHS, project_root=None)
    rendered = REPORTERS[reporter](validation.sources).render(validation.result())
    check_golden(FIXTURES / "broken-graphs.expected" / f"{reporter}.{suffix}", rendered, update_goldens)
