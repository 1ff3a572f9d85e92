"""Message rendering (SPEC §6.4 message content, §7.5 rendering, §8 toString)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pytest

from jo_cli import templates
from jo_cli.engine.render import Rendered, Renderer, RenderFailure

PARIS = ZoneInfo("Europe/Paris")


def _scope(**profile: Any) -> dict[str, Any]:
    base = {"id": "p1", "first_name": "Ada", "tier": "gold", "nickname": None, "consent": None,
            "tags": ["new", "vip"], "score": 3.0}
    return {"profile": {**base, **profile}, "event": {"total": 42.5}, "journey": {"id": "welcome", "version": 2},
            "actions": {"crm": None}}


def _render(content: dict[str, str], channel: str = "email", *, root: Path | None = None,
            renderer: Renderer | None = None, **profile: Any) -> Rendered | RenderFailure:
    renderer = renderer or Renderer(root or Path("."))
    return renderer.render(content, channel=channel, scope=_scope(**profile))


def _ok(content: dict[str, str], channel: str = "email", **options: Any) -> Rendered:
    result = _render(content, channel, **options)
    assert isinstance(result, Rendered), result
    return result


def _fails(content: dict[str, str], channel: str = "email", **options: Any) -> RenderFailure:
    result = _render(content, channel, **options)
    assert isinstance(result, RenderFailure), result
    return result


def _subject(template: str, **profile: Any) -> str:
    subject = _ok({"subject": template, "body": "b"}, **profile).subject
    assert subject is not None
    return subject


# ---------------------------------------------------------------- fields per channel


def test_email_renders_subject_body_and_text() -> None:
    result = _ok({"subject": "Hi {{ profile.first_name }}", "body": "<p>{{ profile.tier }}</p>",
                  "text": "{{ profile.tier }}"})
    assert result == Rendered(subject="Hi Ada", body="<p>gold</p>", text="gold")
    assert result.fields() == {"subject": "Hi Ada", "body": "<p>gold</p>", "text": "gold"}


def test_email_text_is_optional() -> None:
    result = _ok({"subject": "s", "body": "b"})
    assert result.text is None
    assert result.fields() == {"subject": "s", "body": "b"}


def test_sms_has_a_body_only() -> None:
    assert _ok({"body": "Hi {{ profile.first_name }}", "subject": "ignored"}, "sms") == Rendered(body="Hi Ada")


def test_push_has_a_title_and_a_body() -> None:
    result = _ok({"title": "{{ profile.first_name }}", "body": "{{ profile.tier }}", "text": "ignored"}, "push")
    assert result == Rendered(title="Ada", body="gold")


def test_an_unknown_channel_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="fax"):
        _render({"body": "b"}, "fax")


# ---------------------------------------------------------------- body_file


def test_body_file_is_read_relative_to_the_root_and_cached(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    page = tmp_path / "templates" / "welcome.html"
    page.write_text("<h1>Welcome {{ profile.first_name }}</h1>", encoding="utf-8")
    renderer = Renderer(tmp_path)
    content = {"subject": "s", "body_file": "templates/welcome.html"}
    assert _ok(content, renderer=renderer).body == "<h1>Welcome Ada</h1>"
    page.write_text("changed", encoding="utf-8")  # read once: later messages of the run use the first read
    assert _ok(content, renderer=renderer, first_name="Bob").body == "<h1>Welcome Bob</h1>"


def test_body_file_errors_name_the_file_and_its_line(tmp_path: Path) -> None:
    lines = ["<p>line</p>"] * 11 + ["<p>{{ profile.first_name.frist }}</p>"]
    (tmp_path / "welcome.html").write_text("\n".join(lines), encoding="utf-8")
    failure = _fails({"subject": "s", "body_file": "welcome.html"}, root=tmp_path)
    assert failure == RenderFailure("body_file", "body_file welcome.html:12: 'str object' has no attribute 'frist'")


def test_a_missing_body_file_is_a_failure(tmp_path: Path) -> None:
    failure = _fails({"subject": "s", "body_file": "templates/nope.html"}, root=tmp_path)
    assert failure.field == "body_file"
    assert failure.message.startswith("body_file templates/nope.html: cannot read it")


def test_a_body_file_outside_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (tmp_path / "project").mkdir()
    failure = _fails({"subject": "s", "body_file": "../secret.txt"}, root=tmp_path / "project")
    assert failure.message == "body_file ../secret.txt: the path leads outside the project directory"


def test_a_body_file_that_is_not_utf8_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "latin.html").write_bytes("café".encode("latin-1"))
    failure = _fails({"subject": "s", "body_file": "latin.html"}, root=tmp_path)
    assert failure.message == "body_file latin.html: the file is not UTF-8 (byte 4)"


def test_a_body_file_over_the_validate_limit_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "big.html").write_bytes(b"x" * (templates.MAX_TEMPLATE_BYTES + 1))
    failure = _fails({"subject": "s", "body_file": "big.html"}, root=tmp_path)
    assert "jo reads templates up to 1,048,576 bytes" in failure.message


# ---------------------------------------------------------------- autoescape


def test_html_email_bodies_are_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<b>{{ profile.first_name }}</b>", encoding="utf-8")
    name = "<script>&"
    assert _ok({"subject": "s", "body": "<b>{{ profile.first_name }}</b>"}, first_name=name).body == (
        "<b>&lt;script&gt;&amp;</b>")
    assert _ok({"subject": "s", "body_file": "page.html"}, root=tmp_path, first_name=name).body == (
        "<b>&lt;script&gt;&amp;</b>")
    assert _ok({"subject": "s", "body": "{{ profile.first_name|safe }}"}, first_name=name).body == name


def test_subject_text_sms_and_push_are_not_escaped() -> None:
    name = "<Ada & co>"
    email = _ok({"subject": "{{ profile.first_name }}", "body": "b", "text": "{{ profile.first_name }}"},
                first_name=name)
    assert (email.subject, email.text) == (name, name)
    assert _ok({"body": "{{ profile.first_name }}"}, "sms", first_name=name).body == name
    push = _ok({"title": "{{ profile.first_name }}", "body": "{{ profile.first_name }}"}, "push", first_name=name)
    assert (push.title, push.body) == (name, name)


# ---------------------------------------------------------------- values print as toString


@pytest.mark.parametrize(("value", "printed"), [
    (True, "true"),
    (False, "false"),
    (3.0, "3"),
    (2.5, "2.5"),
    (None, ""),
    (dt.datetime(2026, 12, 1, 10, 0, tzinfo=PARIS), "2026-12-01T09:00:00Z"),
    (dt.date(2026, 12, 1), "2026-12-01"),
    (dt.timedelta(hours=1, minutes=30), "PT1H30M"),
    (["a", 1, True], '["a", 1, true]'),
])
def test_values_print_as_tostring(value: Any, printed: str) -> None:
    assert _subject("{{ profile.value }}", value=value) == printed
    assert _subject("[{{ '' ~ profile.value }}]", value=value) == f"[{printed}]"  # `~` prints the same way
    assert _subject("{{ profile.value|string }}", value=value) == printed  # Jinja's |string is str(): None, True


@pytest.mark.parametrize(("template", "printed"), [
    ("{{ none }}", ""),
    ("{{ [1, none, true, 2.0] }}", "[1, null, true, 2]"),
    ("{{ {'a': none, 'b': [false]} }}", '{"a": null, "b": [false]}'),
    ("{{ (1, 'x') }}", '[1, "x"]'),
    ("{{ none|string }}|{{ true|string }}|{{ [none]|string }}", "|true|[null]"),
    ("{{ [1, none, true, 2.5, 3.0]|join(',') }}", "1,,true,2.5,3"),  # each item as `{{ }}` prints it
    ("{{ [{'a': true}, {'a': none}]|join('/', attribute='a') }}", "true/"),
    ("{{ none|upper }}|{{ true|upper }}|{{ none|trim }}|{{ 3.0|replace('3', 'three') }}", "|TRUE||three"),
    ("{{ none|e }}|{{ false|title }}|{{ profile.tags|join }}", "|False|newvip"),
])
def test_literals_filters_and_joins_print_as_tostring(template: str, printed: str) -> None:
    assert _subject(template) == printed


@pytest.mark.parametrize(("template", "message"), [
    ("{{ profile.first_name.upper }}", "subject: a function or method (`upper`) cannot be printed: call it"),
    ("{{ profile.get }}", "a function or method (`get`) cannot be printed"),
    ("{{ range }}", "a function or method (`safe_range`) cannot be printed"),
    ("{% macro m() %}x{% endmacro %}{{ m }}", "a function or method (`m`) cannot be printed"),
    ("{{ [1, profile.first_name.lower] }}", "a function or method (`lower`) cannot be printed"),  # inside a list
    ("{{ {'a': {'b': dict}} }}", "a function or method (`dict`) cannot be printed"),
    ("{{ 'Hi ' ~ profile.first_name.upper }}", "a function or method (`upper`) cannot be printed"),
    ("{{ profile.first_name.upper|string }}", "a function or method (`upper`) cannot be printed"),
    ("{{ [profile.first_name.upper]|join }}", "a function or method (`upper`) cannot be printed"),
    ("{{ profile.tags|map('upper') }}", "a generator cannot be printed: add `|list` to print its items"),
    ("{{ profile.tags|reverse }}", "cannot be printed: add `|list` to print its items"),
    ("{% set ns = namespace(a=1) %}{{ ns }}", "a `Namespace` object cannot be printed"),
])
def test_what_tostring_has_no_text_for_is_a_render_error(template: str, message: str) -> None:
    failure = _fails({"subject": template, "body": "b"})
    assert message in failure.message
    assert " at 0x" not in failure.message and "<" not in failure.message


def test_what_has_text_once_called_or_listed_prints() -> None:
    assert _subject("{{ profile.first_name.upper() }} {{ profile.tags|map('upper')|list }}") == 'ADA ["NEW", "VIP"]'


# ---------------------------------------------------------------- names and fields


def test_an_undefined_top_level_name_is_an_error_with_its_line() -> None:
    failure = _fails({"subject": "s", "body": "<p>Hi</p>\n<p>{{ profil.first_name }}</p>"})
    assert failure == RenderFailure("body", "body line 2: 'profil' is undefined")
    assert _fails({"subject": "{{ row.id }}", "body": "b"}).message == "subject: 'row' is undefined"


def test_a_missing_key_of_a_mapping_renders_empty() -> None:
    # Decision: a field absent from the data (an optional CSV column) reads as null, as in expressions.
    assert _subject("[{{ profile.loyalty_id }}]") == "[]"
    assert _subject("[{{ profile['loyalty_id'] }}]") == "[]"
    assert _subject("{{ profile.loyalty_id|default('none') }}") == "none"
    assert _subject("{{ profile.loyalty_id is defined }}") == "false"
    assert _subject("{% if not profile.loyalty_id %}no{% endif %}") == "no"
    assert _subject("[{% for x in profile.loyalty_ids %}{{ x }}{% endfor %}]") == "[]"


def test_fields_of_null_and_items_past_the_end_render_empty() -> None:
    assert _subject("[{{ profile.consent.email }}|{{ actions.crm.id }}|{{ profile.tags[5] }}]") == "[||]"
    assert _subject("{{ profile.consent.email|default('yes') }}") == "yes"
    assert _subject("[{% for x in profile.nickname %}{{ x }}{% endfor %}]") == "[]"


def test_a_present_null_is_a_value_for_default() -> None:
    assert _subject("[{{ profile.nickname }}]") == "[]"
    assert _subject("[{{ profile.nickname|default('x') }}]") == "[]"
    assert _subject("{{ profile.nickname|default('x', true) }}") == "x"


def test_using_a_missing_field_is_an_error_naming_it() -> None:
    failure = _fails({"subject": "s", "body": "a\n{{ profile.loyalty_points + 1 }}"})
    assert failure.message == "body line 2: 'dict object' has no attribute 'loyalty_points'"
    assert _fails({"subject": "{{ profile.nickname.upper() }}", "body": "b"}).message == (
        "subject: 'None' has no attribute 'upper'")
    assert _fails({"subject": "{{ actions.crm() }}", "body": "b"}).message == (
        "subject: null is not callable (a missing or null field?)")


def test_an_attribute_a_value_lacks_is_an_error() -> None:
    assert _fails({"subject": "{{ profile.first_name.frist }}", "body": "b"}).message == (
        "subject: 'str object' has no attribute 'frist'")


def test_mapping_methods_work() -> None:
    # templates.MAPPING_METHODS: what jo validate lets a template call on profile and event.
    assert _subject("{{ profile.get('tier') }} {{ profile.get('nope', 'd') }} {{ event.keys()|list }}") == (
        'gold d ["total"]')
    assert _subject("{% for k, v in event.items() %}{{ k }}={{ v }}{% endfor %}") == "total=42.5"


# ---------------------------------------------------------------- the sandbox


@pytest.mark.parametrize("template", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ profile.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
])
def test_the_sandbox_refuses_internals(template: str) -> None:
    assert "unsafe" in _fails({"subject": template, "body": "b"}).message


def test_templates_cannot_change_the_values_they_read() -> None:
    scope = _scope()
    failure = Renderer(Path(".")).render({"subject": "{{ profile.tags.append('x') }}{{ profile.update(a=1) }}",
                                          "body": "b"}, channel="email", scope=scope)
    assert isinstance(failure, RenderFailure)
    assert "unsafe" in failure.message
    assert scope["profile"]["tags"] == ["new", "vip"]


def test_the_environment_matches_the_one_jo_validate_parses_with() -> None:
    renderer = Renderer(Path("."))
    _ok({"subject": "s", "body": "b"}, renderer=renderer)
    for html in (False, True):
        static = templates.environment(html=html)
        ours = renderer._environments[html]
        assert set(ours.filters) == set(static.filters)
        assert set(ours.tests) == set(static.tests)
        assert set(ours.globals) == set(static.globals)
        assert ours.autoescape == static.autoescape


# ---------------------------------------------------------------- budgets


# A budget exists to stop a hang: these tests show the hang stopped, with the budget's own error, well within
# ten times the budget (a loaded machine is slow, never ten times slower over a fraction of a second). How fast a
# render is belongs to bench/ (SPEC §11), not to a timed unit test.
_GENEROUS = 10


def _timed(template: str, renderer: Renderer | None = None) -> tuple[RenderFailure, float]:
    start = time.perf_counter()
    result = _render({"subject": "s", "body": template}, renderer=renderer)
    elapsed = time.perf_counter() - start
    assert isinstance(result, RenderFailure), result
    return result, elapsed


def test_the_cpu_budget_stops_an_endless_loop() -> None:
    renderer = Renderer(Path("."), cpu_seconds=0.2)
    loops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    failure, elapsed = _timed(loops, renderer)
    assert failure.message == "body: the render took more than 0.2 s"
    assert elapsed < _GENEROUS * 0.2
    assert _ok({"subject": "s", "body": "fine"}, renderer=renderer).body == "fine"  # the next render starts afresh


def test_the_cpu_budget_stops_exponential_macro_recursion() -> None:
    renderer = Renderer(Path("."), cpu_seconds=0.2)
    macro = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    failure, elapsed = _timed(macro, renderer)
    assert "took more than 0.2 s" in failure.message
    assert elapsed < _GENEROUS * 0.2


def test_sandbox_range_is_capped() -> None:
    failure, elapsed = _timed("{% for i in range(10**9) %}x{% endfor %}")
    assert "Range too big" in failure.message  # refused at once: a long loop would end in the CPU budget's error
    assert elapsed < _GENEROUS * 0.5  # the default CPU budget


def test_the_output_budget() -> None:
    renderer = Renderer(Path("."), max_output=1000)
    failure, elapsed = _timed("{% for i in range(100000) %}0123456789{% endfor %}", renderer)
    assert failure.message == "body: the output is more than 1,000 characters"
    assert elapsed < _GENEROUS * 0.5
    assert _ok({"subject": "s", "body": "x" * 1000}, renderer=renderer).body == "x" * 1000


@pytest.mark.parametrize(("template", "message"), [
    ("{{ 'x' * 10**9 }}", "`*` would make a value of 1,000,000,000 characters"),
    ("{{ [0] * 10**9 }}", "`*` would make a value of 1,000,000,000 characters"),
    ("{{ 2 ** 1000000000 }}", "`**` would make a number of about 1,000,000,000 bits"),
    ("{{ '%.1000000000f' % 1.5 }}", "`%` would make a value"),
    ("{{ '%*d' % (10**9, 1) }}", "`%` would make a value"),
    ("{{ '{:>1000000000}'.format(1) }}", "`format` would make a value"),
    ("{{ 'x'.ljust(10**9) }}", "`ljust` would make a value"),
    ("{{ 'x'|center(10**9) }}", "`center` would make a value"),
    ("{{ ('x\n' * 100000)|indent(10000) }}", "`indent` would make a value"),
    ("{{ ('x' * 100000)|replace('', 'yy') }}", "`replace` would make a value"),
    ("{{ range(100000)|join('x' * 100000) }}", "`join` would make a value"),
    ("{{ [1]|batch(10**9, 0)|list }}", "`batch` would make a value"),
    ("{{ [1, 2]|slice(10**9)|list }}", "`slice` would make a value"),
    ("{{ '%01000000000d'|format(1) }}", "`%` would make a value"),
    ("{{ ('x ' * 100000)|wordwrap(1, wrapstring='<br>' * 1000) }}", "`wordwrap` would make a value"),
    ("{{ ('a.io ' * 50000)|urlize(target='x' * 1000) }}", "`urlize` would make a value"),
    ("{{ [[[[1]]]]|tojson(indent=10**9) }}", "`tojson` would make a value"),
    ("{{ lipsum(10**9) }}", "`lipsum` would make a value"),
    # Doubling in a loop: each step is checked, so no value gets past the limit.
    ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "`~` would make a value of 524,288 characters"),
    ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
     "`+` would make a value of 524,288 characters"),
    # A shared nested list is small in memory and exponentially long in print.
    ("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
     "printing this value would make a value"),
    ("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}"
     "{{ ns.l|string }}", "the `string` filter would make a value"),
    # Output a macro builds and throws away.
    ("{% macro m() %}{% for i in range(100000) %}{{ 'y' * 100000 }}{% endfor %}{% endmacro %}{% set x = m() %}",
     "the template produced more than 2,097,152 characters"),
])
def test_huge_values_are_refused_before_they_are_built(template: str, message: str) -> None:
    failure, elapsed = _timed(template)
    assert message in failure.message  # the size error, not the CPU budget's (or a MemoryError): nothing was built
    assert elapsed < _GENEROUS * 0.5


# ---------------------------------------------------------------- compiling once


def test_each_distinct_source_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    original = jinja2.Environment.parse

    def counting(self: jinja2.Environment, source: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(source)
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "parse", counting)
    renderer = Renderer(Path("."))
    content = {"subject": "Hi {{ profile.first_name }}", "body": "<p>{{ profile.tier }}</p>"}
    for name in ("Ada", "Bob", "Cy"):
        assert _ok(content, renderer=renderer, first_name=name).subject == f"Hi {name}"
    assert parsed == ["Hi {{ profile.first_name }}", "<p>{{ profile.tier }}</p>"]
    _ok({"subject": "Hi {{ profile.first_name }}", "body": "other"}, renderer=renderer)
    assert parsed[2:] == ["other"]
    broken = {"subject": "{{ oops", "body": "b"}
    assert _render(broken, renderer=renderer) == _render(broken, renderer=renderer)
    assert parsed[3:] == ["{{ oops"]  # a template that does not compile is not compiled again


def test_jinja2_is_imported_lazily() -> None:
    code = "import sys, jo_cli.engine.render as r; r.Renderer(__import__('pathlib').Path('.')); " \
           "print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---------------------------------------------------------------- errors are values


@pytest.mark.parametrize(("content", "expected"), [
    ({"subject": "Hi {{ profile.first_name }", "body": "b"}, RenderFailure("subject", "subject: unexpected '}'")),
    ({"subject": "s", "body": "a\nb\n{% if %}"}, RenderFailure("body", "body line 3: Expected an expression, got "
                                                                        "'end of statement block'")),
    ({"subject": "{{ profile.first_name|shout }}", "body": "b"}, RenderFailure("subject",
                                                                               "subject: No filter named 'shout'.")),
    ({"subject": "{{ 1 / 0 }}", "body": "b"}, RenderFailure("subject", "subject: division by zero")),
    ({"subject": "{{ profile.tier + 1 }}", "body": "b"},
     RenderFailure("subject", 'subject: can only concatenate str (not "int") to str')),
    ({"subject": "s", "text": "{% include 'other.txt' %}", "body": "b"},
     RenderFailure("text", "text: no loader for this environment specified")),
    ({"subject": "{{ range(10000)|batch(1)|sum(start=[]) }}", "body": "b"},
     RenderFailure("subject", "subject: the `sum` filter adds numbers only (`start` must be a number)")),
    ({"subject": "s", "body": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"},
     RenderFailure("body", "body: macros or loops nested too deeply")),
])
def test_errors_are_render_failures(content: dict[str, str], expected: RenderFailure) -> None:
    assert _render(content) == expected


def test_the_first_failing_field_is_reported() -> None:
    failure = _fails({"subject": "{{ 1 / 0 }}", "body": "{{ nope }}"})
    assert failure.field == "subject"
