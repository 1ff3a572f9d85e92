"""JO5xx and the cross-file jump rules at exact positions, in a scratch project (SPEC §4, §6.4, §9.1, §10.3)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jo_cli.rules.references_data import DATA_CONTEXT
from jo_cli.validate import validate_files, validate_paths, validate_project


@pytest.fixture
def project(tmp_path: Path):
    """A small valid project; `write(path, text)` adds or replaces a file, `check(path)` lints one."""
    for relative, text in DATA_CONTEXT.items():
        write(tmp_path, relative, text)
    write(tmp_path, "templates/welcome.html", "<p>Hi</p>")

    class Project:
        root = tmp_path

        def write(self, relative: str, text: str) -> Path:
            return write(tmp_path, relative, text)

        def check(self, relative: str) -> list[tuple[str, int, int]]:
            validation = validate_files([tmp_path / relative], cwd=tmp_path, project_root=tmp_path)
            return sorted((f.code, f.line, f.col) for f in validation.findings if f.path == relative)

    return Project()


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


JOURNEY = """\
kind: journey
id: welcome
entry: {type: event, event: signed_up, next: hello}
steps:
  hello:
    type: message
    channel: email
    content: {subject: Hi, body_file: templates/welcome.html}
    next: end
"""


def test_the_scratch_project_is_clean(project) -> None:
    validation = validate_project(project.root, cwd=project.root)
    assert validation.findings == []


def test_jo501_unknown_audience(project) -> None:
    project.write("journeys/a.yaml", "kind: journey\nid: a\nentry: {type: audience, audience: glod, next: end}\n"
                  "steps: {}\n")
    assert project.check("journeys/a.yaml") == [("JO501", 3, 35)]


def test_jo501_saved_audience_counts(project) -> None:
    project.write("campaigns/save.yaml", """\
        kind: campaign
        id: save
        activities:
          all: {type: build-audience, dimension: profiles, where: 'true', next: keep}
          keep: {type: save-audience, audience: everyone}
    """)
    project.write("journeys/a.yaml", "kind: journey\nid: a\nentry: {type: audience, audience: everyone, next: end}\n"
                  "steps: {}\n")
    assert project.check("journeys/a.yaml") == []


def test_jo502_and_jo503_events(project) -> None:
    project.write("journeys/a.yaml", JOURNEY.replace("event: signed_up", "event: sign_up"))
    assert project.check("journeys/a.yaml") == [("JO502", 3, 29)]
    project.write("journeys/a.yaml", JOURNEY.replace("event: signed_up", "event: sale_started"))
    assert project.check("journeys/a.yaml") == [("JO503", 3, 29)]


def test_jo504_missing_template_and_schema(project) -> None:
    project.write("journeys/a.yaml", JOURNEY.replace("templates/welcome.html", "templates/welcom.html"))
    assert project.check("journeys/a.yaml") == [("JO504", 8, 39)]
    (project.root / "data" / "purchases.schema.json").unlink()
    assert project.check("jo.yaml") == [("JO504", 16, 13)]


def test_jo515_missing_data_files_are_warnings(project) -> None:
    (project.root / "data" / "purchases.csv").unlink()
    (project.root / "data" / "profiles.csv").unlink()
    project.write("audiences/vip.yaml", "kind: audience\nid: vip\nsource: data/uploads/vip.csv\n")
    assert project.check("jo.yaml") == [("JO515", 4, 20), ("JO515", 14, 13)]
    assert project.check("audiences/vip.yaml") == [("JO515", 3, 9)]
    result = validate_project(project.root, cwd=project.root).result()
    assert (result.errors, result.warnings) == (0, 3)
    finding = next(f for f in result.findings if f.path == "jo.yaml" and f.line == 4)
    assert finding.severity == "warning"
    assert finding.message == ("`data/profiles.csv` does not exist; it is read only by commands that read rows "
                               "(`jo dry-run`), which stop with exit 2 without it")


def test_jo515_suggests_a_close_name(project) -> None:
    text = (project.root / "jo.yaml").read_text()
    project.write("jo.yaml", text.replace("source: data/purchases.csv", "source: data/purchase.csv"))
    [finding] = [f for f in validate_project(project.root, cwd=project.root).findings if f.code == "JO515"]
    assert "did you mean `data/purchases.csv`?" in finding.message


def test_a_missing_schema_stays_an_error_beside_a_missing_csv(project) -> None:
    (project.root / "data" / "profiles.csv").unlink()
    (project.root / "data" / "profiles.schema.json").unlink()
    result = validate_project(project.root, cwd=project.root).result()
    assert [(f.code, f.severity, f.line) for f in result.findings if f.path == "jo.yaml"] == [
        ("JO515", "warning", 4), ("JO504", "error", 4)]


def test_jo505_paths_that_leave_the_project(project, tmp_path_factory) -> None:
    for bad in ("../secret.html", "/etc/passwd", "templates/../../x.html"):
        project.write("journeys/a.yaml", JOURNEY.replace("templates/welcome.html", bad))
        assert project.check("journeys/a.yaml") == [("JO505", 8, 39)], bad
    outside = tmp_path_factory.mktemp("outside")
    (outside / "t.html").write_text("x")
    (project.root / "templates" / "link.html").symlink_to(outside / "t.html")
    project.write("journeys/a.yaml", JOURNEY.replace("templates/welcome.html", "templates/link.html"))
    assert project.check("journeys/a.yaml") == [("JO505", 8, 39)]
    (project.root / "templates" / "loop.html").symlink_to("loop.html")  # resolve() raises on 3.11: no crash
    project.write("journeys/a.yaml", JOURNEY.replace("templates/welcome.html", "templates/loop.html"))
    assert project.check("journeys/a.yaml") == [("JO505", 8, 39)]


def test_jo506_jo507_jo508_project_names(project) -> None:
    project.write("journeys/a.yaml", """\
        kind: journey
        id: a
        entry: {type: event, event: signed_up, next: hello}
        settings: {rules: strict}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: task}
          task: {type: action, action: crm, next: end}
    """)
    assert project.check("journeys/a.yaml") == [("JO506", 7, 32), ("JO507", 6, 35), ("JO508", 4, 19)]


def test_jo509_jo350_jo351_jumps(project) -> None:
    hop = "kind: journey\nid: {id}\nentry: {{type: event, event: signed_up, next: hop}}\n" \
          "steps:\n  hop: {{type: jump, journey: {target}, next: end}}\n"
    project.write("journeys/a.yaml", hop.format(id="a", target="b"))
    assert project.check("journeys/a.yaml") == [("JO509", 5, 30)]
    project.write("journeys/b.yaml", hop.format(id="b", target="c"))
    project.write("journeys/c.yaml", hop.format(id="c", target="a"))
    assert project.check("journeys/a.yaml") == [("JO351", 5, 30)]
    project.write("journeys/c.yaml", "kind: journey\nid: c\nentry: {type: audience, audience: gold, next: end}\n"
                  "steps: {}\n")
    assert project.check("journeys/b.yaml") == [("JO350", 5, 30)]


def test_jo510_duplicate_ids_across_kinds(project) -> None:
    project.write("journeys/a.yaml", JOURNEY)
    project.write("journeys/b.yaml", JOURNEY)
    project.write("campaigns/c.yaml", "kind: campaign\nid: welcome\nactivities:\n"
                  "  all: {type: build-audience, dimension: profiles, where: 'true', next: done}\n"
                  "  done: {type: end}\n")
    # The first file by path keeps the id; the later ones are flagged.
    assert project.check("campaigns/c.yaml") == []
    assert project.check("journeys/a.yaml") == [("JO510", 2, 5)]
    assert project.check("journeys/b.yaml") == [("JO510", 2, 5)]


def test_jo511_to_jo513_tables_and_links(project) -> None:
    campaign = """\
        kind: campaign
        id: buyers
        activities:
          big: {type: build-audience, dimension: purchases, where: 'total > 100', next: who}
          who: {type: change-dimension, to: buyer, next: mail}
          mail: {type: email, per: purchases, content: {subject: Thanks, body: Thank you}}
    """
    project.write("campaigns/c.yaml", campaign)
    assert project.check("campaigns/c.yaml") == []
    project.write("campaigns/c.yaml", campaign.replace("dimension: purchases", "dimension: purchase"))
    assert project.check("campaigns/c.yaml") == [("JO511", 4, 42)]
    project.write("campaigns/c.yaml", campaign.replace("to: buyer,", "to: profiles,"))
    assert project.check("campaigns/c.yaml") == [("JO512", 5, 37)]
    project.write("campaigns/c.yaml", campaign.replace("per: purchases", "per: purchase"))
    assert project.check("campaigns/c.yaml") == [("JO512", 6, 28)]
    # Without the change of dimension, the email reads purchases rows: `per: buyer` is to-one.
    no_change = campaign.replace("next: who", "next: mail").replace("per: purchases", "per: buyer").replace(
        "          who: {type: change-dimension, to: buyer, next: mail}\n", "")
    project.write("campaigns/c.yaml", no_change)
    assert project.check("campaigns/c.yaml") == [("JO513", 5, 28)]


def test_jo514_fields_named_in_jo_yaml(project) -> None:
    config = (project.root / "jo.yaml").read_text()
    project.write("jo.yaml", config.replace("identity: id", "identity: user_id").replace("address: email",
                                                                                       "address: mail"))
    assert project.check("jo.yaml") == [("JO514", 4, 84), ("JO514", 6, 20)]


def test_references_resolve_when_checking_one_file(project, monkeypatch) -> None:
    project.write("journeys/a.yaml", JOURNEY.replace("event: signed_up", "event: sign_up"))
    validation = validate_paths([project.root / "journeys" / "a.yaml"], cwd=project.root)
    assert [(f.path, f.code) for f in validation.findings] == [("journeys/a.yaml", "JO502")]
    assert validation.checked == 1


def test_no_project_no_reference_findings(tmp_path: Path) -> None:
    path = write(tmp_path, "journeys/a.yaml", JOURNEY.replace("event: signed_up", "event: sign_up"))
    assert validate_files([path], cwd=tmp_path, project_root=None).findings == []


def test_per_profile_is_the_keyword_even_with_a_link_named_profile(project) -> None:
    project.write("campaigns/c.yaml", """\
        kind: campaign
        id: buyers
        activities:
          big: {type: build-audience, dimension: purchases, where: 'total > 100', next: mail}
          mail: {type: email, per: profile, content: {subject: Thanks, body: Thank you}}
    """)
    assert project.check("campaigns/c.yaml") == []


def test_the_project_is_the_one_the_files_live_in(project, tmp_path_factory) -> None:
    # Checking a project's file from elsewhere (pre-commit in a monorepo) still resolves its references.
    project.write("journeys/a.yaml", JOURNEY.replace("event: signed_up", "event: sign_up"))
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    validation = validate_paths([project.root / "journeys" / "a.yaml"], cwd=elsewhere)
    assert [f.code for f in validation.findings] == ["JO502"]
