"""`jo validate` end to end: goldens per format, paths, exit codes 0/1/2/3 (SPEC §0, §10.1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, check_golden

BROKEN = FIXTURES / "broken"
GOLDEN = FIXTURES / "broken.expected"
FORMATS = {"text": "txt", "concise": "txt", "json": "json", "github": "txt", "sarif": "json"}

VALID_JOURNEY = """\
kind: journey
id: welcome
entry: {type: event, event: signed_up, next: hello}
steps:
  hello: {type: message, channel: sms, content: {body: Hi}, next: end}
"""


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_broken_project_golden(fmt: str, run_jo, update_goldens: bool) -> None:
    ran = run_jo("jo", "validate", "--format", fmt, cwd=BROKEN)
    assert ran.code == 1
    assert ran.err == ""
    check_golden(GOLDEN / f"{fmt}.{FORMATS[fmt]}", ran.out, update_goldens)


def test_every_format_reports_the_same_findings(run_jo) -> None:
    concise = run_jo("jo", "validate", "-o", "concise", cwd=BROKEN).out.splitlines()
    as_json = json.loads(run_jo("jo", "validate", "-o", "json", cwd=BROKEN).out)
    sarif = json.loads(run_jo("jo", "validate", "-o", "sarif", cwd=BROKEN).out)
    github = run_jo("jo", "validate", "-o", "github", cwd=BROKEN).out.splitlines()
    keys = [line.split(" ", 2)[:2] for line in concise]
    assert [[f"{f['path']}:{f['line']}:{f['column']}:", f["code"]] for f in as_json["findings"]] == keys
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [k[1] for k in keys]
    assert len(github) == len(concise)
    assert as_json["errors"] + as_json["warnings"] == len(concise)


def test_sarif_is_2_1_0_with_rule_metadata(run_jo) -> None:
    sarif = json.loads(run_jo("jo", "validate", "-o", "sarif", cwd=BROKEN).out)
    assert sarif["version"] == "2.1.0"
    driver = sarif["runs"][0]["tool"]["driver"]
    rule_ids = [r["id"] for r in driver["rules"]]
    for result in sarif["runs"][0]["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_github_escapes_workflow_command_syntax() -> None:
    from jo_cli.cli.render.findings import GithubReporter
    from jo_cli.findings import CheckResult, Finding

    finding = Finding("a,b:c.yaml", 2, 3, "JO201", "error", "50% off\nnext line")
    out = GithubReporter().render(CheckResult((finding,), 1))
    assert out == "::error file=a%2Cb%3Ac.yaml,line=2,col=3,title=JO201 unknown-key::50%25 off%0Anext line\n"


def test_auto_format_is_github_under_github_actions(run_jo, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKFLOW", "ci")
    assert run_jo("jo", "validate", cwd=BROKEN).out.startswith("::error file=audiences/gold.yaml,line=3")
    monkeypatch.delenv("GITHUB_WORKFLOW")
    assert run_jo("jo", "validate", cwd=BROKEN).out.startswith("audiences/gold.yaml\n")


def test_exit_0_on_clean_files(run_jo, tmp_path: Path) -> None:
    (tmp_path / "journeys").mkdir()
    (tmp_path / "journeys" / "welcome.yaml").write_text(VALID_JOURNEY)
    ran = run_jo("jo", "validate", "journeys", cwd=tmp_path)
    assert (ran.code, ran.out) == (0, "1 file checked: no problems found.\n")
    assert ran.err.startswith("note: cross-file checks")  # no jo.yaml above the folder


def test_warnings_pass_unless_strict(run_jo) -> None:
    misfiled = str(BROKEN / "events" / "misfiled.yaml")
    ran = run_jo("jo", "validate", "-o", "concise", misfiled, cwd=BROKEN)
    assert ran.code == 0
    assert ran.out == (
        "events/misfiled.yaml:1:7: JO207 warning `kind: audience` in the event folder (expected `kind: event`)\n"
    )
    strict = run_jo("jo", "validate", "-o", "concise", "--strict", misfiled, cwd=BROKEN)
    assert strict.code == 1
    assert " JO207 error " in strict.out


def test_directory_and_file_arguments(run_jo) -> None:
    ran = run_jo("jo", "validate", "-o", "concise", "journeys/welcome.yaml", "audiences", cwd=BROKEN)
    paths = {line.split(":")[0] for line in ran.out.splitlines()}
    assert paths == {"journeys/welcome.yaml", "audiences/gold.yaml"}


def test_non_jo_yaml_is_skipped(run_jo, tmp_path: Path) -> None:
    (tmp_path / "ci.yml").write_text("on: push\njobs: {}\n")
    ran = run_jo("jo", "validate", "-o", "json", "ci.yml", cwd=tmp_path)
    report = json.loads(ran.out)
    assert (ran.code, report["files_checked"], report["files_skipped"]) == (0, 0, 1)


def test_project_dir_option(run_jo, tmp_path: Path) -> None:
    ran = run_jo("jo", "-C", str(BROKEN), "validate", "-o", "concise", cwd=tmp_path)
    assert ran.code == 1
    assert run_jo("jo", "validate", "-C", str(BROKEN), "-o", "concise", cwd=tmp_path).out == ran.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "missing.yaml"], "jo: error: missing.yaml: no such file or directory"),
        (["validate"], "jo: error: no jo.yaml in"),
        (["-C", "nowhere", "validate"], "jo: error: no jo.yaml in nowhere"),
        (["explain", "JO999"], "jo: error: unknown code `JO999`"),
        (["schema", "jurney"], "jo: error: unknown schema `jurney`"),
    ],
)
def test_exit_2_on_usage_and_configuration_errors(args: list[str], message: str, run_jo, tmp_path: Path) -> None:
    ran = run_jo("jo", *args, cwd=tmp_path)
    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith(message)
    assert "Traceback" not in ran.err


def test_exit_2_on_a_bad_option(run_jo, tmp_path: Path) -> None:
    ran = run_jo("jo", "validate", "--format", "xml", cwd=tmp_path)
    assert ran.code == 2
    assert "xml" in ran.err and "Traceback" not in ran.err


def test_unreadable_file_is_exit_2(run_jo, tmp_path: Path) -> None:
    (tmp_path / "journeys").mkdir()
    target = tmp_path / "journeys" / "x.yaml"
    target.symlink_to(tmp_path / "journeys")  # a "file" that cannot be read as one
    ran = run_jo("jo", "validate", "journeys/x.yaml", cwd=tmp_path)
    assert ran.code == 2


def test_exit_3_on_internal_error_with_a_log(run_jo, tmp_path: Path, monkeypatch) -> None:
    import jo_cli.validate

    def explode(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(jo_cli.validate, "validate_files", explode)
    (tmp_path / "a.yaml").write_text("kind: journey\n")
    ran = run_jo("jo", "validate", "a.yaml", cwd=tmp_path)
    assert ran.code == 3
    assert "Traceback" not in ran.err
    log = Path(ran.err.strip().rsplit(" ", 1)[-1])
    assert log.is_file()
    text = log.read_text()
    assert "ZeroDivisionError: a bug" in text and "command: jo validate a.yaml" in text


def test_version_and_module_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "jo_cli", "--version"], capture_output=True, text=True, check=True)
    from jo_cli import __version__

    assert out.stdout == f"jo {__version__}\n"


def test_real_process_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "journeys").mkdir()
    (tmp_path / "journeys" / "ok.yaml").write_text(VALID_JOURNEY)
    run = [sys.executable, "-m", "jo_cli", "validate"]
    assert subprocess.run([*run, "journeys"], cwd=tmp_path, capture_output=True).returncode == 0
    assert subprocess.run([*run, str(BROKEN / "journeys")], cwd=tmp_path, capture_output=True).returncode == 1
    missing = subprocess.run([*run, "nope.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr == "jo: error: nope.yaml: no such file or directory\n"


def test_help_lists_every_command(run_jo) -> None:
    ran = run_jo("jo", "--help", cwd=REPO)
    assert ran.code == 0
    for command in ("validate", "explain", "schema"):
        assert command in ran.out
