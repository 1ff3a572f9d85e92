"""JO2xx at their exact positions, and the schema model of SPEC §4-§6, §9.1, §5.1."""

from __future__ import annotations

from tests.rules.helpers import assert_findings, findings

HEAD = "kind: journey\nid: welcome\nentry: {type: event, event: signed_up, next: a}\n"
# HEAD with no steps of its own: the entry leads straight to the end.
BARE = HEAD.replace("next: a}", "next: end}")


def test_jo201_unknown_key_points_at_the_key() -> None:
    assert_findings(HEAD + "steps:\n  a:\n    type: wait\n    duraton: P3D\n    next: end\n", ("JO201", 7, 5))


def test_jo201_misspelt_required_key_is_one_finding() -> None:
    source = HEAD + "steps:\n  a: {type: message, chanel: sms, content: {body: hi}}\n"
    assert_findings(source, ("JO201", 5, 22))


def test_jo201_top_level() -> None:
    assert_findings(BARE + "steps: {}\nowner: me\n", ("JO201", 5, 1))


def test_jo202_missing_key_points_at_the_object() -> None:
    assert_findings("kind: journey\nid: welcome\nsteps: {}\n", ("JO202", 1, 1))
    assert_findings(HEAD + "steps:\n  a: {type: condition}\n", ("JO202", 5, 3))


def test_jo203_wrong_type() -> None:
    assert_findings(BARE + "steps: []\n", ("JO203", 4, 8))
    assert_findings(BARE + "steps: {}\ntags: onboarding\n", ("JO203", 5, 7))


def test_jo203_yaml11_boolean_gets_a_hint() -> None:
    from jo_cli.loader import load_yaml
    from jo_cli.schema.check import check_document

    doc = load_yaml("j.yaml", (HEAD + "settings: {use_profile_timezone: yes}\nsteps: {}\n").encode()).document
    assert doc is not None
    [finding] = check_document(doc, "journey")
    assert finding.code == "JO203"
    assert "only `true` and `false`" in (finding.hint or "")


def test_jo204_unknown_step_type_suggests() -> None:
    from jo_cli.loader import load_yaml
    from jo_cli.schema.check import check_document

    doc = load_yaml("j.yaml", (HEAD + "steps:\n  a: {type: wiat}\n").encode()).document
    assert doc is not None
    [finding] = check_document(doc, "journey")
    assert (finding.code, finding.line, finding.col) == ("JO204", 5, 13)
    assert "did you mean `wait`?" in finding.message


def test_jo204_unknown_step_type_is_a_single_finding() -> None:
    # if/then dispatch: an unknown type does not also report every type's missing keys.
    assert_findings(HEAD + "steps:\n  a: {type: fax, next: end, number: 5}\n", ("JO204", 5, 13))


def test_jo205_formats_and_patterns() -> None:
    assert_findings(HEAD + "steps:\n  a: {type: wait, duration: P1M, next: end}\n", ("JO205", 5, 29))
    assert_findings(BARE + "settings: {start: 2026-13-01T00:00:00Z}\nsteps: {}\n", ("JO205", 4, 19))
    assert_findings(BARE.replace("id: welcome", "id: Welcome") + "steps: {}\n", ("JO205", 2, 5))


def test_jo205_step_id_pattern_points_at_the_key() -> None:
    source = HEAD.replace("next: a}", "next: Bad Id}") + "steps:\n  Bad Id: {type: end}\n"
    assert_findings(source, ("JO205", 5, 3))


def test_date_time_without_offset_is_accepted() -> None:
    assert_findings(HEAD + "settings: {start: 2026-12-01T09:00:00}\nsteps:\n  a: {type: end}\n")


def test_every_step_type_is_dispatched() -> None:
    from jo_cli.schema.bundled import load_schema

    step_types = load_schema("journey")["definitions"]
    assert step_types  # the test below walks the same list through the validator
    for step_type in ("condition", "split", "time-condition", "date-condition", "profile-cap", "wait",
                      "wait-event", "reaction", "message", "action", "update-profile", "jump", "end"):
        codes = [c for c, _, _ in findings(HEAD + f"steps:\n  a: {{type: {step_type}, bogus: 1}}\n")]
        assert "JO201" in codes, step_type


def test_update_profile_allows_at_most_five_fields() -> None:
    fields = ", ".join(f"f{i}: 1" for i in range(6))
    codes = [c for c, _, _ in findings(HEAD + f"steps:\n  a: {{type: update-profile, set: {{{fields}}}, next: end}}\n")]
    assert codes == ["JO205"]


def test_project_file() -> None:
    project = (
        "kind: project\nname: acme\ntimezone: Europe/Paris\n"
        "profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}\n"
    )
    assert_findings(project, path="jo.yaml")
    assert_findings(project + "channels: {fax: {address: fax}}\n", ("JO205", 5, 12), path="jo.yaml")


def test_audience_needs_exactly_one_of_where_and_source() -> None:
    base = "kind: audience\nid: gold\n"
    assert_findings(base + "where: profile.tier == 'gold'\n", path="audiences/gold.yaml")
    assert_findings(base + "source: data/vip.csv\n", path="audiences/gold.yaml")
    assert [c for c, _, _ in findings(base, path="audiences/gold.yaml")] == ["JO202"]
    both = base + "where: profile.tier == 'gold'\nsource: data/vip.csv\n"
    assert [c for c, _, _ in findings(both, path="audiences/gold.yaml")] == ["JO205"]


def test_event_id_follows_ajo_rule() -> None:
    schema = "schema: {type: object, properties: {customer_id: {type: string}}}\n"
    assert_findings("kind: event\nid: order_placed\nkey: customer_id\n" + schema, path="events/order.yaml")
    assert_findings("kind: event\nid: order-placed\n" + schema, ("JO205", 2, 5), path="events/order.yaml")
    assert_findings("kind: event\nid: order\nschema: {type: object, oneOf: []}\n", ("JO201", 3, 24),
                    path="events/order.yaml")


def test_data_schema_subset() -> None:
    good = '{"type": "object", "properties": {"id": {"type": "string"}, "born": {"type": "string", "format": "date"}}}'
    assert_findings(good, path="data/profiles.schema.json")
    bad = '{"type": "object",\n "properties": {"age": {"type": "integer", "minimum": 0}}}'
    assert_findings(bad, ("JO201", 2, 44), path="data/profiles.schema.json")
    assert_findings('{"type": "object", "properties": {"x": {"format": "uri"}}}', ("JO204", 1, 51),
                    path="data/profiles.schema.json")


def test_data_schema_json_syntax_error_is_located() -> None:
    assert_findings('{"type": "object",\n "properties": }', ("JO101", 2, 16), path="data/profiles.schema.json")


def test_kind_missing_in_a_jo_folder_and_unknown_kind() -> None:
    assert_findings("id: welcome\n", ("JO206", 1, 1))
    assert_findings("kind: jurney\nid: welcome\n", ("JO206", 1, 7))


def test_yaml_outside_jo_folders_without_kind_is_skipped() -> None:
    assert_findings("name: ci\non: push\nduplicate: 1\nduplicate: 2\n", path=".github/workflows/ci.yml")
    assert_findings("kind: Deployment\napiVersion: apps/v1\n", path="k8s/deploy.yaml")


def test_jo207_kind_in_another_folder_is_a_warning() -> None:
    assert_findings("kind: audience\nid: gold\nwhere: 'true'\n", ("JO207", 1, 7), path="journeys/gold.yaml")


def test_data_schema_limits_are_findings_not_crashes() -> None:
    assert [c for c, _, _ in findings("[" * 2000 + "]" * 2000, path="data/x.schema.json")] == ["JO106"]
    assert [c for c, _, _ in findings('{"a": ' + "1" * 5000 + "}", path="data/x.schema.json")] == ["JO106"]
    big = '{"description": "' + "x" * (1024 * 1024) + '"}'
    assert findings(big, path="data/x.schema.json") == [("JO106", 1, 1)]
