"""JO464: a template that includes, extends or imports another template is refused at its tag (SPEC §7.5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jo_cli.templates import scan_source
from jo_cli.validate import validate_files, validate_paths, validate_project
from tests.rules.test_templates import CAMPAIGN, journey
from tests.rules.test_templates import project as project  # the scratch-project fixture


@pytest.mark.parametrize(
    ("tag", "col"),
    [
        ('{% include "footer.html" %}', 44),
        ('{%- include "footer.html" ignore missing %}', 44),
        ('{% extends "base.html" %}', 44),
        ('{% import "macros.html" as m %}', 44),
        ('{% from "macros.html" import button %}', 44),
    ],
)
def test_inline_tags_in_a_flow_value(project, tag: str, col: int) -> None:
    project.write("journeys/a.yaml", journey(f"{{subject: Hi, body: '<p>Hi</p>{tag}'}}"))
    assert project.check("journeys/a.yaml") == [("JO464", 8, col)]


def test_inline_tags_in_a_block_scalar_and_a_quoted_subject(project) -> None:
    project.write("journeys/a.yaml", journey(
        '\n      subject: "Hi \\"there\\" {% include \'s.txt\' %}"\n'
        "      body: |\n        <p>Hello</p>\n        {% if profile.first_name %}\n"
        "          <b>{% import 'm.html' as m %}</b>\n        {% endif %}"))
    assert project.check("journeys/a.yaml") == [("JO464", 9, 30), ("JO464", 13, 14)]


def test_a_body_file_is_reported_in_the_template_file(project) -> None:
    project.write("templates/mail.html", "<p>Hi {{ profile.first_name }}</p>\n"
                  "  {% include 'footer.html' %}\n{%\n  extends 'base.html' %}\n")
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/mail.html}"))
    project.write("journeys/b.yaml", journey("{subject: Hi, body_file: templates/mail.html}").replace("id: a", "id: b"))
    validation = validate_project(project.root, cwd=project.root)
    found = sorted((f.path, f.code, f.line, f.col, f.end_line, f.end_col) for f in validation.findings)
    # once, however many journeys send it; the journeys themselves are clean
    assert found == [("templates/mail.html", "JO464", 2, 3, 2, 13), ("templates/mail.html", "JO464", 3, 1, 4, 10)]
    [first, _] = sorted(validation.result().findings, key=lambda f: f.line)
    assert first.message == ("`{% include %}` cannot render: jo renders each template on its own, in a sandbox "
                             "with no other templates to load")
    assert first.severity == "error" and "macro" in (first.hint or "")


def test_the_template_path_is_shown_like_the_journey_path(project, monkeypatch) -> None:
    project.write("templates/mail.html", "{% include 'footer.html' %}")
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/mail.html}"))
    # From the project's parent directory, paths carry the project's folder name.
    monkeypatch.chdir(project.root.parent)
    validation = validate_paths([Path(project.root.name) / "journeys" / "a.yaml"], cwd=project.root.parent)
    assert [(f.path, f.code) for f in validation.findings] == [(f"{project.root.name}/templates/mail.html", "JO464")]
    # Without a project, templates are not read at all.
    assert validate_files([project.root / "journeys" / "a.yaml"], cwd=project.root, project_root=None).findings == []


def test_campaign_content_too(project) -> None:
    project.write("campaigns/sale.yaml", CAMPAIGN.replace("{subject}", "Hi {% include 'x' %}"))
    assert project.check("campaigns/sale.yaml") == [("JO464", 8, 20)]


def test_text_that_only_mentions_the_words_is_fine(project) -> None:
    project.write("journeys/a.yaml", journey(
        "{subject: 'include this: {{ \"{% include %}\" }}', body: '{% raw %}{% include \"x\" %}{% endraw %} from'}"))
    assert project.check("journeys/a.yaml") == []


def test_the_scan_locates_each_tag() -> None:
    scan = scan_source("a\n{% if x %}{%- include 'f' %}{% endif %}\n{% from 'm' import a %}{% import 'q' as q %}")
    assert [(t.tag, t.line, t.col) for t in scan.loading_tags] == [("include", 2, 11), ("from", 3, 1),
                                                                   ("import", 3, 24)]
