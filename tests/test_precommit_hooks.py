"""jo's pre-commit hooks (SPEC §10.1): the manifest, its file patterns, and the hooks for real.

The slow tests run the real `pre-commit try-repo` against this checkout, so
pre-commit builds a virtualenv and installs jo from the repository into it.
try-repo includes uncommitted changes to tracked files (through a shadow
repository) but not untracked files until they are staged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from identify.identify import tags_from_filename

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

JO_FILES = ["journeys/a.yaml", "campaigns/b.yml", "jo.yaml", "sub/dir/journeys/a.yaml", "audiences/c.yaml",
            "events/d.yml", "jo.yml"]
DATA_SCHEMAS = ["data/profiles.schema.json"]
OTHER_FILES = ["README.md", ".github/workflows/ci.yml", "docs/x.yaml", ".pre-commit-config.yaml",
               "journeys.yaml", "myjourneys/a.yaml", "notjo.yaml", "jo.yaml.bak"]


def _hooks() -> dict[str, dict[str, object]]:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return {hook["id"]: hook for hook in hooks}


def _selected(hook: dict[str, object], path: str) -> bool:
    """Whether pre-commit hands `path` to `hook`: `files` (re.search), `exclude`, `types`/`types_or`."""
    if not re.search(str(hook.get("files", "")), path) or re.search(str(hook.get("exclude", "^$")), path):
        return False
    tags = tags_from_filename(path) | {"file"}
    types = set(hook.get("types", ["file"]))  # type: ignore[call-overload]
    types_or = set(hook.get("types_or", []))  # type: ignore[call-overload]
    return types <= tags and (not types_or or bool(types_or & tags))


def test_manifest_is_valid_for_pre_commit() -> None:
    assert PRE_COMMIT.is_file(), f"pre-commit is a test dependency; expected it at {PRE_COMMIT}"
    proc = subprocess.run([str(PRE_COMMIT), "validate-manifest", ".pre-commit-hooks.yaml"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_manifest_hooks() -> None:
    hooks = _hooks()
    assert set(hooks) == {"jo-validate", "jo-validate-project"}
    for hook in hooks.values():
        assert hook["entry"] == "jo validate"
        assert hook["language"] == "python"
    per_file, project = hooks["jo-validate"], hooks["jo-validate-project"]
    assert per_file.get("pass_filenames", True) is True
    assert project["pass_filenames"] is False
    assert project["require_serial"] is True


@pytest.mark.parametrize("path", JO_FILES + DATA_SCHEMAS)
def test_per_file_hook_selects_jo_files(path: str) -> None:
    assert _selected(_hooks()["jo-validate"], path)


@pytest.mark.parametrize("path", JO_FILES + DATA_SCHEMAS + ["templates/welcome.html", "data/profiles.csv"])
def test_project_hook_runs_on_project_files(path: str) -> None:
    assert _selected(_hooks()["jo-validate-project"], path)


@pytest.mark.parametrize("path", OTHER_FILES)
def test_hooks_skip_other_files(path: str) -> None:
    for hook in _hooks().values():
        assert not _selected(hook, path), hook["id"]


def test_per_file_hook_skips_non_jo_data() -> None:
    hook = _hooks()["jo-validate"]
    assert not _selected(hook, "data/profiles.csv")
    assert not _selected(hook, "templates/welcome.html")


# --- the hooks for real -----------------------------------------------------------------------

PROJECT_FILES = {
    "jo.yaml": """\
        kind: project
        name: hooks-test
        timezone: Europe/Paris
        profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}
        channels:
          email: {address: email}
        """,
    "data/profiles.csv": """\
        id,email
        p1,ada@example.com
        """,
    "data/profiles.schema.json": """\
        {
          "type": "object",
          "required": ["id", "email"],
          "properties": {
            "id": {"type": "string"},
            "email": {"type": "string", "format": "email"}
          }
        }
        """,
    "audiences/everyone.yaml": """\
        kind: audience
        id: everyone
        where: true
        """,
    "journeys/welcome.yaml": """\
        kind: journey
        id: welcome
        name: Welcome
        entry: {type: audience, audience: everyone, next: pause}
        steps:
          pause:
            type: wait
            duration: P1D
            next: hello
          hello:
            type: message
            channel: email
            content: {subject: Welcome, body: "<p>Hello</p>"}
            next: end
        """,
}

BROKEN_JOURNEY = """\
    kind: journey
    id: broken
    entry: {type: audience, audience: everyone, next: end}
    steps: {}
    colour: blue
    """


def _git(repo: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=60)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update({
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "jo tests", "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "jo tests", "GIT_COMMITTER_EMAIL": "tests@example.com",
        "NO_COLOR": "1",
    })
    return env


def _try_repo(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Both hooks in one try-repo (no hook id: every hook), so the hook environment is built once."""
    return subprocess.run([str(PRE_COMMIT), "try-repo", str(REPO), "--all-files", "--color", "never"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False)


def _result_line(output: str, name: str) -> str:
    """`jo validate....Passed` for the hook named `name`."""
    match = re.search(rf"^{re.escape(name)}\.+(Passed|Failed|\(no files to check\)Skipped)$", output, re.MULTILINE)
    assert match, f"no result line for {name!r} in:\n{output}"
    return match.group(1)


@pytest.mark.slow
def test_hooks_in_a_real_repository(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = _env(tmp_path)
    project = tmp_path / "project"
    for name, text in PROJECT_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(textwrap.dedent(text), encoding="utf-8")
    _git(project, "init", "-q", env=env)
    _git(project, "config", "user.name", "jo tests", env=env)
    _git(project, "config", "user.email", "tests@example.com", env=env)
    _git(project, "config", "commit.gpgsign", "false", env=env)
    _git(project, "add", "-A", env=env)
    _git(project, "commit", "-q", "-m", "a tiny jo project", env=env)

    ran = _try_repo(project, env)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert _result_line(output, "jo validate") == "Passed"
    assert _result_line(output, "jo validate (project)") == "Passed"

    (project / "journeys" / "broken.yaml").write_text(textwrap.dedent(BROKEN_JOURNEY), encoding="utf-8")
    _git(project, "add", "journeys/broken.yaml", env=env)
    ran = _try_repo(project, env)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 1, output
    assert _result_line(output, "jo validate") == "Failed"
    assert _result_line(output, "jo validate (project)") == "Failed"
    for hook_id in ("jo-validate", "jo-validate-project"):
        section = output.split(f"- hook id: {hook_id}\n", 1)[1].split("\njo validate", 1)[0]
        assert "- exit code: 1" in section, section
        assert "journeys/broken.yaml" in section, section
        assert "JO201" in section, section
        assert "colour" in section, section
        assert "welcome.yaml" not in section, section
