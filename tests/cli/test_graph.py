"""`jo graph`: goldens for every demo in both formats, escaping, missing targets, exit codes (SPEC §7.7)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from jo_cli.draw import FORMATS, Format, draw, read_drawing, render
from jo_cli.errors import JoError
from jo_cli.loader import load_yaml
from tests.conftest import FIXTURES, REPO, check_golden

GOLDEN = FIXTURES / "graph"
EXTENSIONS: dict[Format, str] = {"mermaid": "mmd", "dot": "dot"}
DEMOS = sorted([*(REPO / "journeys").glob("*.yaml"), *(REPO / "campaigns").glob("*.yaml")])

DANGLING = """\
kind: journey
id: dangling
entry: {type: event, event: signed_up, next: hello}
steps:
  hello: {type: message, channel: sms, content: {body: Hi}, next: nowhere}
"""


def drawn(text: str, output_format: Format = "mermaid") -> str:
    loaded = load_yaml("doc.yaml", text.encode())
    assert loaded.document is not None, loaded.findings
    return render(draw(loaded.document.data, shown="doc.yaml"), output_format)


def journey(steps: str, entry: str = "{type: event, event: e, next: a}") -> str:
    return f"kind: journey\nid: j\nentry: {entry}\nsteps:\n{steps}"


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize("demo", DEMOS, ids=lambda p: p.stem)
def test_demo_golden(demo: Path, output_format: Format, run_jo, update_goldens: bool) -> None:
    ran = run_jo("jo", "graph", demo.relative_to(REPO).as_posix(), "--format", output_format, cwd=REPO)
    assert (ran.code, ran.err) == (0, "")
    check_golden(GOLDEN / f"{demo.stem}.{EXTENSIONS[output_format]}", ran.out, update_goldens)


def test_every_golden_has_its_demo() -> None:
    expected = {f"{demo.stem}.{ext}" for demo in DEMOS for ext in EXTENSIONS.values()}
    assert {path.name for path in GOLDEN.iterdir()} == expected


def test_mermaid_is_the_default(run_jo) -> None:
    ran = run_jo("jo", "graph", "journeys/welcome-series.yaml", cwd=REPO)
    assert ran.code == 0
    assert ran.out == (GOLDEN / "welcome-series.mmd").read_text(encoding="utf-8")


_MERMAID_NODE = re.compile(r'^    ([A-Za-z0-9_]+)(\["|\(\[")([^"]*)("\]|"\]\))$')
_MERMAID_EDGE = re.compile(r'^    ([A-Za-z0-9_]+) -->(\|"[^"]*"\|)? ([A-Za-z0-9_]+)$')


@pytest.mark.parametrize("demo", DEMOS, ids=lambda p: p.stem)
def test_mermaid_goldens_declare_every_node_they_link(demo: Path) -> None:
    lines = (GOLDEN / f"{demo.stem}.mmd").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "flowchart TD"
    declared = [m.group(1) for line in lines if (m := _MERMAID_NODE.match(line))]
    edges = [m.groups() for line in lines if (m := _MERMAID_EDGE.match(line))]
    assert len(declared) + len(edges) == len(lines) - 1  # nothing else in a valid demo
    assert len(set(declared)) == len(declared)
    assert {e[0] for e in edges} | {e[2] for e in edges} <= set(declared)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("demo", DEMOS, ids=lambda p: p.stem)
def test_dot_goldens_render_with_graphviz(demo: Path) -> None:
    source = (GOLDEN / f"{demo.stem}.dot").read_text(encoding="utf-8")
    done = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")


def test_outcome_names_label_every_step_edge() -> None:
    out = drawn(journey(
        "  a: {type: wait-event, event: e, timeout: P1D, next: b, timeout_next: c}\n"
        "  b: {type: split, paths: [{name: x, percent: 33.33, next: c}, {name: y, percent: 66.67, next: d}]}\n"
        "  c: {type: profile-cap, cap: 5, next: d, over_cap: e}\n"
        "  d: {type: action, action: crm, next: e, on_error: end}\n"
        "  e: {type: time-condition, paths: [{name: open, days: [mon], from: '09:00', to: '18:00', next: end}],"
        " otherwise: end}\n"
    ))
    assert out.splitlines()[8:] == [
        "    entry --> s_a",
        '    s_a -->|"next"| s_b',
        '    s_a -->|"timeout"| s_c',
        '    s_b -->|"x 33.33%"| s_c',
        '    s_b -->|"y 66.67%"| s_d',
        '    s_c -->|"next"| s_d',
        '    s_c -->|"over_cap"| s_e',
        '    s_d -->|"next"| s_e',
        '    s_d -->|"on_error"| exit',
        '    s_e -->|"open"| exit',
        '    s_e -->|"otherwise"| exit',
    ]
    assert '    s_a["a<br/>wait-event: e (P1D)"]' in out
    assert '    s_c["c<br/>profile-cap: 5"]' in out
    assert '    exit(["end"])' in out


@pytest.mark.parametrize(
    ("entry", "label"),
    [
        ("{type: audience, audience: new-subscribers, next: a}", "audience: new-subscribers"),
        ("{type: event, event: cart_abandoned, next: a}", "event: cart_abandoned"),
        ("{type: audience-qualification, audience: gold, on: exit, next: a}",
         "audience-qualification: gold (on: exit)"),
        ("{type: business-event, event: restock, audience: vip, next: a}",
         "business-event: restock (audience: vip)"),
    ],
)
def test_entry_node_names_its_type_and_source(entry: str, label: str) -> None:
    out = drawn(journey("  a: {type: end}\n", entry=entry))
    assert out.splitlines()[1] == f'    entry(["{label}"])'
    assert '    s_a(["a<br/>end"])' in out
    assert "exit([" not in out  # the implicit End is drawn only when a transition names it


def test_labels_escape_what_mermaid_and_dot_would_read() -> None:
    # An end step's label is free text: quotes, HTML, entity look-alikes and backslashes can all occur.
    text = journey("  a: {type: end, label: 'Said \"no\" <b>to</b> #1; & `x` C:\\dir\\ \\N'}\n")
    mermaid = drawn(text)
    assert '    s_a(["a<br/>end: Said #quot;no#quot; #lt;b#gt;to#lt;/b#gt; #35;1; #amp; #96;x#96; C:\\dir\\ \\N"])' \
        in mermaid
    dot = drawn(text, "dot")
    assert '  "a" [label="a\\nend: Said \\"no\\" <b>to</b> #1; & `x` C:\\\\dir\\\\ \\\\N", shape=oval];' in dot


def test_a_label_on_several_lines_stays_on_one() -> None:
    out = drawn(journey('  a: {type: end, label: "two\\nlines\\tand a tab"}\n'))
    assert '    s_a(["a<br/>end: two lines and a tab"])' in out


def test_ids_that_mermaid_or_dot_cannot_take_are_replaced_and_kept_apart() -> None:
    # Step ids outside the schema's pattern still draw: Mermaid ids become [A-Za-z0-9_] and never clash.
    text = journey(
        '  "a b\\"c": {type: wait, duration: P1D, next: a-b}\n'
        "  a-b: {type: wait, duration: P1D, next: a_b}\n"
        '  a_b: {type: wait, duration: P1D, next: "x\\\\"}\n'
        "  entry: {type: wait, duration: P1D, next: class}\n"
        "  class: {type: end}\n"
        "  a_b_c: {type: wait, duration: P1D}\n",
        entry='{type: event, event: e, next: "a b\\"c"}',
    )
    mermaid = drawn(text)
    assert mermaid.splitlines()[1:7] == [
        '    entry(["event: e"])',
        '    s_a_b_c["a b#quot;c<br/>wait: P1D"]',
        '    s_a_b["a-b<br/>wait: P1D"]',
        '    s_a_b_2["a_b<br/>wait: P1D"]',
        '    s_entry["entry<br/>wait: P1D"]',
        '    s_class(["class<br/>end"])',
    ]
    assert '    s_a_b_2 -->|"next"| m_x_' in mermaid
    dot = drawn(text, "dot")
    assert '  "entry_2" [label="event: e", shape=oval];' in dot  # the step named `entry` keeps its name
    assert '  "a_b_c_2" [label="a b\\"c\\nwait: P1D"];' in dot  # the valid id `a_b_c` keeps its name
    assert '  "a_b_c" [label="a_b_c\\nwait: P1D"];' in dot
    assert '  "a_b" [label="a_b\\nwait: P1D"];' in dot
    assert '  "entry_2" -> "a_b_c_2";' in dot
    assert '  "x_" [label="x\\\\\\nmissing step", style=dashed];' in dot


def test_a_step_named_end_is_the_implicit_end() -> None:
    out = drawn(journey("  a: {type: wait, duration: P1D, next: end}\n  end: {type: wait, duration: P1D, next: a}\n"))
    assert out.splitlines()[1:] == [
        '    entry(["event: e"])',
        '    s_a["a<br/>wait: P1D"]',
        '    exit(["end"])',
        "    entry --> s_a",
        '    s_a -->|"next"| exit',
    ]


def test_campaign_outputs_are_named_like_dry_run_counts() -> None:
    out = drawn(
        "kind: campaign\nid: c\nactivities:\n"
        "  all: {type: build-audience, dimension: profiles, where: 'true', next: both}\n"
        "  both: {type: fork, next: [big, top]}\n"
        "  big: {type: test, paths: [{name: many, when: count > 10, next: done}], otherwise: end}\n"
        "  top: {type: split, subsets: [{name: vip, limit: 2, next: done}], complement_next: done}\n"
        "  done: {type: end}\n"
    )
    assert out == (
        "flowchart TD\n"
        '    s_all["all<br/>build-audience: profiles"]\n'
        '    s_both["both<br/>fork"]\n'
        '    s_big["big<br/>test"]\n'
        '    s_top["top<br/>split"]\n'
        '    s_done(["done<br/>end"])\n'
        '    m_end["end<br/>missing activity"]\n'  # a campaign has no implicit End
        '    s_all -->|"next"| s_both\n'
        '    s_both -->|"next"| s_big\n'
        '    s_both -->|"next"| s_top\n'
        '    s_big -->|"many"| s_done\n'
        '    s_big -->|"otherwise"| m_end\n'
        '    s_top -->|"vip"| s_done\n'
        '    s_top -->|"complement"| s_done\n'
        "    classDef missing stroke-dasharray: 5 5\n"
        "    class m_end missing\n"
    )


def test_dangling_next_draws_a_missing_node(run_jo, tmp_path: Path) -> None:
    (tmp_path / "dangling.yaml").write_text(DANGLING)
    ran = run_jo("jo", "graph", "dangling.yaml", cwd=tmp_path)
    assert (ran.code, ran.err) == (0, "")
    assert ran.out == (
        "flowchart TD\n"
        '    entry(["event: signed_up"])\n'
        '    s_hello["hello<br/>message: sms"]\n'
        '    m_nowhere["nowhere<br/>missing step"]\n'
        "    entry --> s_hello\n"
        '    s_hello -->|"next"| m_nowhere\n'
        "    classDef missing stroke-dasharray: 5 5\n"
        "    class m_nowhere missing\n"
    )
    dot = run_jo("jo", "graph", "dangling.yaml", "-o", "dot", cwd=tmp_path)
    assert dot.out == (
        'digraph "dangling" {\n'
        "  rankdir=TB;\n"
        "  node [shape=box];\n"
        '  "entry" [label="event: signed_up", shape=oval];\n'
        '  "hello" [label="hello\\nmessage: sms"];\n'
        '  "nowhere" [label="nowhere\\nmissing step", style=dashed];\n'
        '  "entry" -> "hello";\n'
        '  "hello" -> "nowhere" [label="next"];\n'
        "}\n"
    )


def test_a_document_that_fails_its_schema_still_draws(run_jo, tmp_path: Path) -> None:
    (tmp_path / "odd.yaml").write_text("kind: journey\nsteps:\n  a: {type: wiat, next: b}\n  b: 5\n  c: [x]\n")
    ran = run_jo("jo", "graph", "odd.yaml", cwd=tmp_path)
    assert (ran.code, ran.out) == (0, (
        "flowchart TD\n"
        '    s_a["a<br/>wiat"]\n'
        '    s_b["b"]\n'
        '    s_c["c"]\n'
        '    s_a -->|"next"| s_b\n'
    ))
    assert run_jo("jo", "graph", "odd.yaml", "-o", "dot", cwd=tmp_path).out.startswith('digraph "journey" {\n')


def test_project_dir_resolves_the_file(run_jo, tmp_path: Path) -> None:
    golden = (GOLDEN / "birthday.mmd").read_text(encoding="utf-8")
    assert run_jo("jo", "graph", "-C", str(REPO), "journeys/birthday.yaml", cwd=tmp_path).out == golden
    assert run_jo("jo", "-C", str(REPO), "graph", "journeys/birthday.yaml", cwd=tmp_path).out == golden
    assert run_jo("jo", "graph", str(REPO / "journeys" / "birthday.yaml"), "-C", "elsewhere", cwd=tmp_path).out \
        == golden


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.yaml", None, "jo: error: missing.yaml: no such file or directory\n"),
        ("audience.yaml", "kind: audience\nid: gold\nwhere: tier == 'gold'\n",
         "jo: error: audience.yaml: not a journey or campaign (its kind is `audience`); "
         "jo graph draws `kind: journey` and `kind: campaign`\n"),
        ("ci.yml", "on: push\njobs: {}\n",
         "jo: error: ci.yml: not a journey or campaign (it has no `kind`); "
         "jo graph draws `kind: journey` and `kind: campaign`\n"),
        ("list.yaml", "- kind: journey\n",
         "jo: error: list.yaml: not a journey or campaign (it has no `kind`); "
         "jo graph draws `kind: journey` and `kind: campaign`\n"),
        ("broken.yaml", "kind: journey\nsteps: {a: [}\n",
         "jo: error: broken.yaml:2:13: YAML syntax error: "),
        ("alias.yaml", "kind: journey\na: &x 1\n",
         "jo: error: alias.yaml:2:4: anchor `&x` is not allowed: jo files use no anchors or aliases "
         "(`jo validate alias.yaml` says more)\n"),
    ],
)
def test_exit_2_when_the_file_cannot_be_drawn(name: str, content: str | None, message: str, run_jo,
                                              tmp_path: Path) -> None:
    if content is not None:
        (tmp_path / name).write_text(content)
    ran = run_jo("jo", "graph", name, cwd=tmp_path)
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.startswith(message)
    assert ran.err.count("\n") == 1


def test_exit_2_on_a_directory(run_jo) -> None:
    ran = run_jo("jo", "graph", "journeys", cwd=REPO)
    assert (ran.code, ran.err) == (2, "jo: error: journeys: is a directory; name a journey or campaign file\n")


def test_exit_2_on_an_unknown_format_naming_the_choices(run_jo) -> None:
    ran = run_jo("jo", "graph", "journeys/birthday.yaml", "--format", "svg", cwd=REPO)
    assert (ran.code, ran.out) == (2, "")
    assert "'svg' is not one of 'mermaid', 'dot'" in ran.err
    assert "Traceback" not in ran.err


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("**/*.yaml")), ids=lambda p: p.relative_to(FIXTURES).as_posix()
)
def test_any_fixture_draws_or_is_refused_in_one_line(path: Path) -> None:
    try:
        drawing = read_drawing(path, shown=path.name)
    except JoError as exc:
        assert "\n" not in exc.message and exc.exit_code == 2
        return
    for output_format in FORMATS:
        assert render(drawing, output_format).endswith("\n")
