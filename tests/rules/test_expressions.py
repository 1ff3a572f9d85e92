"""JO4xx in YAML: every expression field is checked, at the exact column, in the right scope (SPEC §8, §10.3)."""

from __future__ import annotations

import pytest

from jo_cli.rules.references_data import DATA_CONTEXT
from tests.rules.test_references import project as project  # the scratch-project fixture

JOURNEY = """\
kind: journey
id: welcome
entry: {type: event, event: signed_up, next: check}
settings:
  exit_when: profile.emial == "x"
steps:
  check:
    type: condition
    paths:
      - {name: gold, when: 'profile.tier == "gold" and profile.emial', next: end}
      - name: typed
        when: "profile.tier > 5"
        next: end
    otherwise: end
"""


def test_positions_inside_plain_and_quoted_scalars(project) -> None:
    project.write("journeys/a.yaml", JOURNEY)
    assert project.check("journeys/a.yaml") == [("JO402", 5, 14), ("JO402", 10, 56), ("JO405", 12, 16)]


def test_messages_suggest_the_fix(project) -> None:
    project.write("journeys/a.yaml", JOURNEY)
    from jo_cli.validate import validate_files

    validation = validate_files([project.root / "journeys/a.yaml"], cwd=project.root, project_root=project.root)
    messages = sorted(f.message for f in validation.findings)
    assert "`profile` has no field `emial`; did you mean `email`?" in messages
    assert "cannot order string and integer with `>`" in messages


@pytest.mark.parametrize(
    ("where", "code", "col"),
    [
        ("profile.email is not null and (profile.tier", "JO401", 51),
        ("profile.email", "JO406", 8),
        ("startsWith(profile.email, 'a')", "JO403", 8),
        ("contain(profile.email)", "JO404", 8),
        ("updateTimeZone(now(), profile.timezone) is not null", "JO408", 30),
        ("now() + duration('P1M') > now()", "JO409", 25),
        ("inAudience('glod')", "JO408", 19),
        ("matchRegExp(profile.email, '(a)\\\\1')", "JO408", 35),
    ],
)
def test_audience_where(project, where: str, code: str, col: int) -> None:
    project.write("audiences/a.yaml", f"kind: audience\nid: a\nwhere: {where}\n")
    assert project.check("audiences/a.yaml") == [(code, 3, col)]


def test_until_must_be_a_datetime_and_event_needs_an_event(project) -> None:
    project.write("journeys/a.yaml", """\
        kind: journey
        id: a
        entry: {type: audience, audience: gold, next: pause}
        steps:
          pause: {type: wait, until: profile.email, next: check}
          check:
            type: condition
            paths: [{name: big, when: event.total > 5, next: end}]
            otherwise: end
    """)
    assert project.check("journeys/a.yaml") == [("JO407", 5, 30), ("JO411", 8, 31)]


def test_wait_event_where_reads_its_own_event(project) -> None:
    project.write("journeys/a.yaml", """\
        kind: journey
        id: a
        entry: {type: audience, audience: gold, next: wait}
        steps:
          wait: {type: wait-event, event: signed_up, where: event.id is not null, next: end}
    """)
    assert project.check("journeys/a.yaml") == []


def test_params_and_set_values_are_checked(project) -> None:
    project.write("journeys/a.yaml", """\
        kind: journey
        id: a
        entry: {type: event, event: signed_up, next: task}
        steps:
          task: {type: action, action: crm-task, params: {who: profile.emal, n: 5}, next: mark}
          mark: {type: update-profile, set: {tier: 'lower("GOLD")'}, next: end}
    """)
    assert project.check("journeys/a.yaml") == [("JO402", 5, 56)]


def test_campaign_rows_links_and_aggregates(project) -> None:
    project.write("campaigns/c.yaml", """\
        kind: campaign
        id: c
        activities:
          big: {type: build-audience, dimension: purchases, where: 'total > 100 and buyer.tier == "gold"', next: who}
          who: {type: change-dimension, to: buyer, next: top}
          top:
            type: split
            subsets: [{name: many, where: 'count(purchases, total > 10) >= 2 and exists(purchases, total > 500)',
                       next: done}]
            complement_next: done
          done: {type: end}
    """)
    assert project.check("campaigns/c.yaml") == []
    text = (project.root / "campaigns/c.yaml").read_text()
    project.write("campaigns/c.yaml", text.replace("total > 500", "totl > 500").replace("buyer.tier", "buyer.tierr"))
    assert project.check("campaigns/c.yaml") == [("JO402", 4, 77), ("JO402", 8, 92)]


def test_no_project_no_expression_checks(tmp_path) -> None:
    from jo_cli.validate import validate_files

    (tmp_path / "audiences").mkdir()
    (tmp_path / "audiences" / "a.yaml").write_text("kind: audience\nid: a\nwhere: profile.nope\n")
    assert validate_files([tmp_path / "audiences" / "a.yaml"], cwd=tmp_path, project_root=None).findings == []


def test_the_data_context_has_what_the_examples_read() -> None:
    assert "tier" in DATA_CONTEXT["data/profiles.schema.json"]
