"""JO1xx at their exact positions (SPEC §10.2)."""

from __future__ import annotations

import codecs

from tests.rules.helpers import assert_findings

HEAD = "kind: journey\nid: welcome\nentry: {type: event, event: signed_up, next: end}\nsteps: {}\n"


def test_clean_journey_has_no_findings() -> None:
    assert_findings(HEAD)


def test_jo101_unclosed_flow_points_at_the_next_token() -> None:
    assert_findings("kind: journey\ntags: [a, b\nid: x\n", ("JO101", 3, 3))


def test_jo101_tab_indentation() -> None:
    assert_findings("kind: journey\nsettings:\n\ttimezone: UTC\n", ("JO101", 3, 1))


def test_jo102_names_the_first_line() -> None:
    assert_findings(HEAD + "id: again\n", ("JO102", 5, 1))


def test_jo102_duplicate_step_ids() -> None:
    source = HEAD.replace("next: end", "next: a").replace(
        "steps: {}\n", "steps:\n  a: {type: wait, duration: P1D, next: b}\n  b: {type: end}\n  a: {type: end}\n")
    assert_findings(source, ("JO102", 7, 3))


def test_jo102_still_validates_the_rest_of_the_file() -> None:
    source = HEAD.replace("next: end", "next: a").replace(
        "steps: {}\n", "steps:\n  a: {type: wait, duration: P1D, next: b}\n  a: {type: end}\n  b: {type: ned}\n")
    assert_findings(source, ("JO102", 6, 3), ("JO204", 7, 13))


def test_jo103_utf16_is_refused() -> None:
    assert_findings(codecs.BOM_UTF16_LE + HEAD.encode("utf-16-le"), ("JO103", 1, 1))


def test_jo103_latin1_byte_is_located() -> None:
    assert_findings("kind: journey\nname: Caf\xe9\n".encode("latin-1"), ("JO103", 2, 10))


def test_jo103_raw_nul_is_located() -> None:
    assert_findings(b"kind: journey\nname: a\x00b\n", ("JO103", 2, 8))


def test_jo103_utf8_bom_is_accepted() -> None:
    assert_findings(codecs.BOM_UTF8 + HEAD.encode())


def test_jo104_anchor_and_alias() -> None:
    assert_findings(HEAD + "tags: &t [a]\n", ("JO104", 5, 7))
    assert_findings("kind: journey\nsettings: {timezone: *tz}\n", ("JO104", 2, 22))


def test_jo104_billion_laughs_stops_at_the_first_anchor() -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    assert_findings("kind: journey\n" + "\n".join(levels) + "\n", ("JO104", 2, 5))


def test_jo105_tags() -> None:
    assert_findings("kind: journey\nid: !!python/object/apply:os.system [ls]\n", ("JO105", 2, 5))
    assert_findings("kind: journey\nid: !include other.yaml\n", ("JO105", 2, 5))


def test_jo105_str_tag_is_fine() -> None:
    assert_findings(HEAD.replace("id: welcome", "id: !!str welcome"))


def test_jo106_depth() -> None:
    assert_findings("kind: journey\nid: " + "[" * 70 + "]" * 70 + "\n", ("JO106", 2, 68))


def test_jo106_size() -> None:
    assert_findings("kind: journey\nname: " + "x" * (1024 * 1024) + "\n", ("JO106", 1, 1))


def test_jo107_second_document() -> None:
    assert_findings(HEAD + "---\nkind: journey\n", ("JO107", 5, 1))


def test_jo108_complex_key() -> None:
    assert_findings("kind: journey\n? [a, b]\n: c\n", ("JO108", 2, 3))


def test_yaml11_traps_stay_strings() -> None:
    # `no`, `12:30` and dates are text in YAML 1.2, so a string field accepts them.
    assert_findings(HEAD.replace("id: welcome", "id: welcome\nname: no\ndescription: 12:30 2024-01-01"))


def test_jo101_tab_gets_a_hint() -> None:
    from jo_cli.loader import load_yaml

    [finding] = load_yaml("a.yaml", "kind: journey\nname: café\nsettings:\n\ttimezone: UTC\n".encode()).findings
    assert finding.hint == "YAML cannot indent with tabs: use spaces"
