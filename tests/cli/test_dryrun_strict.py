"""`jo dry-run` is as strict and as safe as `jo validate` (issue 12; SPEC §0, §7.1, §10.2).

A dry-run checks the project first and runs only on one `jo validate` passes; no command reads a file
outside the project that a project file names, whichever code path opens it; the CLI resolves paths, formats
and a closed stdout the same way in every command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jo_cli.engine.project import ProjectInputs
from jo_cli.errors import JoError
from tests.conftest import REPO, copy_demo

NOW = "2026-12-01T08:00:00Z"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_demo(tmp_path)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# The cases tried on the landed code: each crashed (exit 3) or ran with wrong results.
BROKEN_PROJECT = [
    ("jo.yaml", '{from: "21:00", to: "08:00"}', '{from: "25:00", to: "08:00"}', "JO205"),
    ("jo.yaml", "max: 3, per: P7D", "max: lots, per: P7D", "JO203"),
    ("jo.yaml", "max: 3, per: P7D", "max: -1, per: P7D", "JO205"),
    ("jo.yaml", "handling: queue", "handling: bounce", "JO204"),
    ("jo.yaml", "channels: [email, sms], max: 3", "channels: [fax], max: 3", "JO204"),
    ("jo.yaml", "address: email", "address: nosuch", "JO514"),
    ("jo.yaml", "source: data/profiles.csv", "source: ../../etc/passwd", "JO505"),
    ("audiences/new-subscribers.yaml", "where: ", "where: profile.nope == 1 or ", "JO402"),
    ("journeys/birthday.yaml", "kind: journey", "kind: journey\ncolour: blue", "JO201"),  # not the journey run
]


@pytest.mark.parametrize(("file", "old", "new", "code"), BROKEN_PROJECT)
def test_a_dry_run_refuses_what_validate_refuses_with_the_same_findings(  # type: ignore[no-untyped-def]
        run_jo, project: Path, file: str, old: str, new: str, code: str) -> None:
    _edit(project / file, old, new)
    validated = run_jo("jo", "validate", "--format", "json", cwd=project)
    assert validated.code == 1
    ran = run_jo("jo", "dry-run", "journeys/welcome-series.yaml", "--now", NOW, "--format", "json", cwd=project)
    assert ran.code == 1, ran.err
    assert ran.out == validated.out  # the same findings, as `jo validate` prints them
    assert code in {f["code"] for f in json.loads(ran.out)["findings"]}
    text = run_jo("jo", "dry-run", "journeys/welcome-series.yaml", "--now", NOW, cwd=project)
    assert text.code == 1 and code in text.out
    assert "root:x" not in text.out + text.err + ran.out + ran.err


def test_a_symlinked_profile_file_is_refused_before_it_is_read(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    outside = project.parent / "secret.csv"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (project / "data" / "profiles.csv").unlink()
    (project / "data" / "profiles.csv").symlink_to(outside)
    ran = run_jo("jo", "dry-run", "journeys/welcome-series.yaml", "--now", NOW, cwd=project)
    assert ran.code == 1 and "JO505" in ran.out and "symbolic link" in ran.out
    assert "root:x" not in ran.out + ran.err
    # Below the CLI too: the reader refuses it where the file would be opened.
    inputs = ProjectInputs.load(project)
    with pytest.raises(JoError, match=r"profiles\.source: `data/profiles\.csv` leads outside the project"):
        inputs.read_profiles()


@pytest.mark.parametrize("source", ["../../etc/passwd", "/etc/passwd", "data/link.csv"])
def test_no_code_path_opens_a_project_named_file_outside_the_project(project: Path, source: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Containment is checked where files are opened, not only by the lint rule: the engine's inputs are built
    straight from the project here, with no validation before."""
    (project / "data" / "link.csv").symlink_to("/etc/passwd")
    _edit(project / "jo.yaml", "source: data/profiles.csv", f"source: {source}")
    _edit(project / "audiences" / "new-subscribers.yaml", "where: ", f"source: {source}\nxwhere: ")
    opened: list[str] = []
    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(str(self)) or real_open(self, *a, **k))
    inputs = ProjectInputs.load(project)
    with pytest.raises(JoError, match=r"jo.yaml: profiles.source: .* jo reads only files inside the project"):
        inputs.read_profiles()
    with pytest.raises(JoError, match=r"audiences/new-subscribers.yaml: source: "):
        inputs.audience_definitions()
    assert not [path for path in opened if "passwd" in path or "link.csv" in path]


def test_a_data_schema_outside_the_project_is_never_read(project: Path) -> None:
    (project.parent / "evil.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    _edit(project / "jo.yaml", "schema: data/profiles.schema.json", "schema: ../evil.schema.json")
    inputs = ProjectInputs.load(project)
    assert inputs.index.data_schema("profiles") is None
    with pytest.raises(JoError, match=r"profiles\.schema: `\.\./evil\.schema\.json` climbs out"):
        inputs.read_profiles()


def test_paths_the_operator_gives_may_be_anywhere(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()
    shutil.copy(project / "data" / "profiles.csv", elsewhere / "profiles.csv")
    shutil.copy(project / "events" / "events.jsonl", elsewhere / "events.jsonl")
    ran = run_jo("jo", "dry-run", "journeys/abandoned-cart.yaml", "--profiles", str(elsewhere / "profiles.csv"),
                 "--events", str(elsewhere / "events.jsonl"), "--format", "json", cwd=project)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["profiles"]["read"] > 0


def test_a_campaign_is_not_a_journey_to_dry_run_yet(run_jo) -> None:  # type: ignore[no-untyped-def]
    for given in ("campaigns/winter-sale.yaml", "winter-sale"):
        ran = run_jo("jo", "dry-run", given, cwd=REPO)
        assert ran.code == 2
        assert "is an orchestrated campaign: campaign dry-runs come with campaign runs" in ran.err


@pytest.mark.parametrize("where", ["global", "local"])
def test_dash_c_resolves_the_journey_path_as_in_every_command(run_jo, tmp_path: Path, where: str) -> None:  # type: ignore[no-untyped-def]
    """`-C DIR` reads a relative path from DIR, before or after the command, with `-o` as in validate."""
    args = ["-C", str(REPO), "dry-run"] if where == "global" else ["dry-run", "-C", str(REPO)]
    ran = run_jo("jo", *args, "journeys/welcome-series.yaml", "--now", NOW, "-o", "json", "--show", "0",
                 cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["id"] == "welcome-series"
    graph = run_jo("jo", *(a.replace("dry-run", "graph") for a in args), "journeys/welcome-series.yaml", cwd=tmp_path)
    assert graph.code == 0 and graph.out.startswith("flowchart")
    checked = run_jo("jo", *(a.replace("dry-run", "validate") for a in args), "journeys/welcome-series.yaml",
                     "-o", "concise", cwd=tmp_path)
    assert checked.code == 0, checked.out + checked.err


def test_dash_c_still_reads_paths_given_from_the_repository_root(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """pre-commit passes file names from the repository's root: with -C a subfolder, they still resolve."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "journeys", repo / "shop" / "journeys")
    for name in ("jo.yaml",):
        shutil.copy(REPO / name, repo / "shop" / name)
    for folder in ("audiences", "events", "templates", "data"):
        shutil.copytree(REPO / folder, repo / "shop" / folder)
    ran = run_jo("jo", "validate", "-C", "shop", "shop/journeys/birthday.yaml", "-o", "concise", cwd=repo)
    assert ran.code == 0, ran.out + ran.err


def test_validate_outside_any_project_says_cross_file_checks_were_skipped(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(REPO / "journeys" / "birthday.yaml", tmp_path / "birthday.yaml")
    ran = run_jo("jo", "validate", "birthday.yaml", cwd=tmp_path)
    assert ran.code == 0
    assert "note: cross-file checks" in ran.err and "no jo.yaml above them" in ran.err
    inside = run_jo("jo", "validate", "journeys/birthday.yaml", cwd=REPO)
    assert "cross-file" not in inside.err


@pytest.mark.parametrize("args", [
    ["dry-run", "journeys/welcome-series.yaml", "--now", NOW, "--show", "400"],
    ["dry-run", "journeys/welcome-series.yaml", "--now", NOW, "--show", "400", "--format", "json"],
    ["validate", "--format", "json"],
    ["explain", "JO101"],
])
def test_a_closed_stdout_ends_quietly(args: list[str]) -> None:
    """`jo ... | head`: no traceback, no "internal error", exit 1 (as click does for its own output)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "jo_cli", *args], stdout=write, stderr=subprocess.PIPE,
                              cwd=REPO, timeout=120, check=False, env={**os.environ, "NO_COLOR": "1"})
    finally:
        os.close(write)
    stderr = proc.stderr.decode()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr and "Exception ignored" not in stderr
    assert not re.sub(r"warning: .*\n", "", stderr)


def test_an_uploaded_audience_rows_rejects_are_shown_with_the_others(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    """An uploaded list the journey reads: a repeated identity and one no profile has are rejected rows
    (file:line), counted under `audiences.rejected`; the members that remain enter."""
    (project / "data" / "uploads").mkdir()
    (project / "data" / "uploads" / "vip.csv").write_text("id\np001\np002\np001\nghost\n", encoding="utf-8")
    _edit(project / "audiences" / "new-subscribers.yaml",
          "where: inLastDays(profile.signup_at, 7) and not profile.unsubscribed", "source: data/uploads/vip.csv")
    ran = run_jo("jo", "dry-run", "journeys/welcome-series.yaml", "--now", NOW, "--format", "json", cwd=project)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert report["audiences"] == {"rejected": 2}
    uploaded = [row for row in report["rejected_rows"] if row["file"] == "data/uploads/vip.csv"]
    assert [row["line"] for row in uploaded] == [4, 5]
    assert "line 2" in uploaded[0]["reason"] and "ghost" in uploaded[1]["reason"]
    assert report["profiles"]["entered"] == 2
    text = run_jo("jo", "dry-run", "journeys/welcome-series.yaml", "--now", NOW, cwd=project)
    assert "2 uploaded audience rows rejected" in text.out
