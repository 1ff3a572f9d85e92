"""JO460-JO463: message templates at exact positions, in a scratch project (SPEC §6.4, §7.5, §9.1, §10.3)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jo_cli.rules.templates import TEMPLATE_CONTEXT
from jo_cli.templates import scan_source, unknown_field
from jo_cli.validate import validate_files, validate_project

ORDER_PLACED = """\
kind: event
id: order_placed
key: id
schema:
  type: object
  properties:
    id: {type: string}
    total: {type: number}
    items: {type: array, items: {type: object, properties: {sku: {type: string}}}}
"""


@pytest.fixture
def project(tmp_path: Path):
    """The rules' example project plus a second event; `check(path)` lints one file, `messages(path)` too."""
    for relative, text in {**TEMPLATE_CONTEXT, "events/order_placed.yaml": ORDER_PLACED}.items():
        write(tmp_path, relative, text)

    class Project:
        root = tmp_path

        def write(self, relative: str, text: str) -> Path:
            return write(tmp_path, relative, text)

        def findings(self, relative: str) -> list[tuple[str, int, int, str]]:
            validation = validate_files([tmp_path / relative], cwd=tmp_path, project_root=tmp_path)
            return sorted((f.code, f.line, f.col, f.message) for f in validation.findings if f.path == relative)

        def check(self, relative: str) -> list[tuple[str, int, int]]:
            return [(code, line, col) for code, line, col, _ in self.findings(relative)]

    return Project()


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def journey(content: str, *, entry: str = "{type: event, event: cart_abandoned, next: hello}",
            channel: str = "email", extra: str = "") -> str:
    """A journey whose step `hello` (line 5) has `content` starting on line 8."""
    return (f"kind: journey\nid: a\nentry: {entry}\nsteps:\n  hello:\n    type: message\n    channel: {channel}\n"
            f"    content: {content}\n    next: {'more' if extra else 'end'}\n{extra}")


def test_the_scratch_project_is_clean(project) -> None:
    assert validate_project(project.root, cwd=project.root).findings == []


def test_jo460_inline_syntax_error_points_at_the_value(project) -> None:
    project.write("journeys/a.yaml", journey('{subject: "Hi {{ profile.first_name }", body: Hello}'))
    assert project.check("journeys/a.yaml") == [("JO460", 8, 24)]
    project.write("journeys/a.yaml", journey('{subject: "Hi {{ profile.first_name }}", body: Hello}'))
    assert project.check("journeys/a.yaml") == []


def test_jo460_literal_block_points_at_the_template_line(project) -> None:
    project.write("journeys/a.yaml", journey("\n      subject: Hi\n      body: |\n        <p>Hi</p>\n"
                                             "        <p>{{ profile.first_name }</p>"))
    # `body: |` is line 10; the template's line 2 is line 12, at the block's indentation.
    assert project.check("journeys/a.yaml") == [("JO460", 12, 9)]


def test_jo460_body_file_names_the_template_line(project) -> None:
    project.write("templates/broken.html", "<p>\n  Hi\n  {% if profile.first_name %}{{ profile.first_name }</p>\n")
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/broken.html}"))
    [(code, line, col, message)] = project.findings("journeys/a.yaml")
    assert (code, line, col) == ("JO460", 8, 39)
    assert message.startswith("templates/broken.html:3: template error: ")


def test_jo460_unknown_filter_and_unreadable_file(project) -> None:
    project.write("journeys/a.yaml", journey('{subject: "{{ profile.first_name|uper }}", body: Hi}'))
    [(code, line, col, message)] = project.findings("journeys/a.yaml")
    assert (code, line, col) == ("JO460", 8, 24) and message.endswith("did you mean `upper`?")
    (project.root / "templates" / "latin1.html").write_bytes("<p>Caf\xe9</p>".encode("latin-1"))
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/latin1.html}"))
    assert project.check("journeys/a.yaml") == [("JO460", 8, 39)]


def test_jo460_missing_or_escaping_body_file_is_left_to_jo504_jo505(project) -> None:
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/nope.html}"))
    assert project.check("journeys/a.yaml") == [("JO504", 8, 39)]
    (project.root.parent / "outside.html").write_text("{{ x }")
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: ../outside.html}"))
    assert project.check("journeys/a.yaml") == [("JO505", 8, 39)]


def test_jo460_body_file_is_read_again_when_it_changes(project) -> None:
    template = project.write("templates/t.html", "<p>{{ profile.first_name }}</p>")
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/t.html}"))
    assert project.check("journeys/a.yaml") == []
    template.write_text("<p>{{ profile.first_name }</p>", encoding="utf-8")
    os.utime(template, ns=(template.stat().st_atime_ns, template.stat().st_mtime_ns + 1_000_000_000))
    assert project.check("journeys/a.yaml") == [("JO460", 8, 39)]


def test_jo461_typo_in_a_profile_field_suggests_the_field(project) -> None:
    project.write("journeys/a.yaml", journey('{subject: "Hi {{ profile.frist_name }}", body: Hello}'))
    [(code, line, col, message)] = project.findings("journeys/a.yaml")
    assert (code, line, col) == ("JO461", 8, 24)
    assert message == ("`profile.frist_name`: the profile schema has no field `frist_name`; "
                       "did you mean `first_name`?")


def test_jo461_nested_profile_fields(project) -> None:
    for good in ("profile.consent.email", "profile.consent", "profile['consent']['email']",
                 "profile.first_name.upper()", "profile.get('tier')", "profile.consent.get('sms')"):
        project.write("journeys/a.yaml", journey(f'{{subject: "{{{{ {good} }}}}", body: Hello}}'))
        assert project.check("journeys/a.yaml") == [], good
    project.write("journeys/a.yaml", journey('{subject: "{{ profile.consent.emial }}", body: Hello}'))
    [(code, line, col, message)] = project.findings("journeys/a.yaml")
    assert (code, line, col) == ("JO461", 8, 24) and message.endswith("did you mean `consent.email`?")


def test_jo461_body_file_field_names_the_template_line(project) -> None:
    project.write("templates/t.html", "<p>\n{{ profile.first_name }}\n{{ profile.tier }}\n</p>\n")
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/t.html}"))
    [(code, line, col, message)] = project.findings("journeys/a.yaml")
    assert (code, line, col) == ("JO461", 8, 39)
    assert message.startswith("templates/t.html:3: `profile.tier`")


def test_loops_sets_macros_and_jinja_globals_are_bound(project) -> None:
    body = ("{% for item in profile.tags %}{{ loop.index }} {{ item }}{% endfor %}"
            "{% set x = 1 %}{{ x }}{% set ns = namespace(n=0) %}{% set ns.n = 2 %}{{ ns.n }}"
            "{% macro hi(name) %}Hi {{ name }}{{ caller() }}{% endmacro %}"
            "{% call hi(profile.first_name) %}!{% endcall %}"
            "{% for a, b in [(1, 2)] %}{{ a + b }}{% endfor %}{{ range(3)|list }}")
    project.write("templates/t.html", body)
    project.write("journeys/a.yaml", journey("{subject: Hi, body_file: templates/t.html}"))
    assert project.check("journeys/a.yaml") == []
    project.write("templates/t.html", "{% for item in profile.tags %}{% endfor %}{{ item }}{{ loop.index }}")
    assert project.check("journeys/a.yaml") == [("JO462", 8, 39)] * 2


def test_jo461_and_jo463_event_fields(project) -> None:
    cart = journey('{subject: "{{ event.cart_total }} EUR", body: Hello}')
    project.write("journeys/a.yaml", cart)
    assert project.check("journeys/a.yaml") == []
    project.write("journeys/a.yaml", cart.replace("cart_total", "cart_totl"))
    [(code, line, col, message)] = project.findings("journeys/a.yaml")
    assert (code, line, col) == ("JO461", 8, 24) and message.endswith("did you mean `cart_total`?")
    project.write("journeys/a.yaml", journey('{subject: "{{ event.cart_total }} EUR", body: Hello}',
                                             entry="{type: audience, audience: gold, next: hello}"))
    assert project.check("journeys/a.yaml") == [("JO463", 8, 24)]


def test_a_wait_event_payload_field_is_accepted_after_it(project) -> None:
    after = ("  more:\n    type: wait-event\n    event: order_placed\n    timeout: P3D\n    next: thanks\n"
             "  thanks:\n    type: message\n    channel: email\n"
             "    content: {{subject: \"{{{{ event.{field} }}}}\", body: Thanks}}\n    next: end\n")
    entry = "{type: audience, audience: gold, next: hello}"
    project.write("journeys/a.yaml", journey("{subject: Hi, body: Hello}", entry=entry,
                                             extra=after.format(field="items[0].sku")))
    assert project.check("journeys/a.yaml") == []
    project.write("journeys/a.yaml", journey("{subject: Hi, body: Hello}", entry=entry,
                                             extra=after.format(field="totl")))
    assert project.check("journeys/a.yaml") == [("JO461", 18, 24)]


def test_jo461_journey_fields_and_actions(project) -> None:
    project.write("journeys/a.yaml", journey(
        '{subject: "{{ journey.id }} {{ journey.entered_at }} {{ actions.crm.status }}", body: Hi}'))
    assert project.check("journeys/a.yaml") == []
    project.write("journeys/a.yaml", journey('{subject: "{{ journey.name }}", body: Hi}'))
    assert project.check("journeys/a.yaml") == [("JO461", 8, 24)]


def test_jo462_unknown_names(project) -> None:
    project.write("journeys/a.yaml", journey('{subject: "Hi {{ first_name }}", body: "{{ profle.id }}"}'))
    assert project.findings("journeys/a.yaml") == [
        ("JO462", 8, 24, "unknown name `first_name` in a template; did you mean `profile.first_name`?"),
        ("JO462", 8, 53, "unknown name `profle` in a template; did you mean `profile`?"),
    ]
    project.write("journeys/a.yaml", journey('{subject: "{{ row.first_name }}", body: Hi}'))
    assert project.check("journeys/a.yaml") == [("JO462", 8, 24)]


def test_sms_and_push_content_is_checked(project) -> None:
    project.write("jo.yaml", TEMPLATE_CONTEXT["jo.yaml"].replace(
        "email: {address: email}", "email: {address: email}\n      sms: {address: id}\n      push: {address: id}"))
    project.write("journeys/a.yaml", journey('{body: "{{ profile.nme }}"}', channel="sms"))
    assert project.check("journeys/a.yaml") == [("JO461", 8, 21)]
    project.write("journeys/a.yaml", journey('{title: "{{ nme }}", body: "{{ profile.id }"}', channel="push"))
    assert project.check("journeys/a.yaml") == [("JO460", 8, 41), ("JO462", 8, 22)]


CAMPAIGN = """\
kind: campaign
id: sale
activities:
  all: {type: build-audience, dimension: profiles, where: 'true', next: mail}
  mail:
    type: email
    content:
      subject: "{subject}"
      body: Hello
"""


def test_campaign_templates_see_row_and_profile(project) -> None:
    project.write("campaigns/sale.yaml", CAMPAIGN.replace("{subject}", "{{ row.anything }} {{ profile.first_name }}"))
    assert project.check("campaigns/sale.yaml") == []
    project.write("campaigns/sale.yaml", CAMPAIGN.replace("{subject}", "{{ event.total }} {{ journey.id }}"))
    assert project.check("campaigns/sale.yaml") == [("JO462", 8, 16), ("JO463", 8, 16)]
    project.write("campaigns/sale.yaml", CAMPAIGN.replace("{subject}", "{{ profile.frist_name }}"))
    assert project.check("campaigns/sale.yaml") == [("JO461", 8, 16)]


def test_documents_that_failed_their_schema_do_not_crash(project) -> None:
    for broken in ("kind: journey\nid: a\nsteps: [1, 2]\n",
                   "kind: journey\nid: a\nsteps:\n  hello: {type: message, content: [1]}\n",
                   "kind: journey\nid: a\nsteps:\n  hello: {type: message, content: {subject: 3, body_file: 4}}\n",
                   "kind: campaign\nid: c\nactivities: {m: {type: email, content: {subject: '{{ x'}}}\n"):
        path = "campaigns/c.yaml" if "campaign" in broken else "journeys/a.yaml"
        project.write(path, broken)
        template_codes = {code for code, *_ in project.check(path) if code.startswith("JO46")}
        assert template_codes == ({"JO460"} if "campaign" in broken else set()), broken


def test_without_a_project_templates_are_not_checked(tmp_path: Path) -> None:
    file = write(tmp_path, "journeys/a.yaml", journey('{subject: "{{ nope }", body: Hi}'))
    validation = validate_files([file], cwd=tmp_path, project_root=None)
    assert not [f for f in validation.findings if f.code.startswith("JO46")]


def test_scan_edge_cases() -> None:
    assert scan_source("plain text, no braces").references == ()
    deep = scan_source("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")
    assert deep.error is not None
    assert unknown_field(("a", "b"), {"a"}) is None  # a leaf: `b` reads its value
    assert unknown_field(("x",), {"a", "b", "b.c"}) == ("x", {"a", "b"})
    assert unknown_field(("b", "d"), {"a", "b", "b.c"}) == ("b.d", {"b.c"})


def test_jinja2_is_not_imported_at_start_up() -> None:
    code = "import sys, jo_cli.rules, jo_cli.cli.app; print('jinja2' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
