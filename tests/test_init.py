"""`jo init`: the skeleton of SPEC §3, clean under `jo validate`, never overwriting anything."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from jo_cli.errors import JoError
from jo_cli.init import init_project, project_files
from jo_cli.schema.bundled import SCHEMA_NAMES, schema_text

MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)\n")
EXPECTED = [
    "jo.yaml", "journeys/welcome.yaml", "audiences/email-subscribers.yaml", "events/signed_up.yaml",
    "templates/welcome.html", "data/profiles.csv", "data/profiles.schema.json",
    *(f"schemas/{name}.schema.json" for name in SCHEMA_NAMES), ".gitignore", ".pre-commit-config.yaml",
]


def relative(paths: list[Path], root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]


def test_init_writes_the_skeleton(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    written = init_project(root, name="shop")
    assert relative(written, root) == EXPECTED
    assert all(path.is_file() for path in written)
    for name in SCHEMA_NAMES:
        assert (root / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8") == schema_text(name)
    assert ".jo/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert yaml.safe_load((root / "jo.yaml").read_text(encoding="utf-8"))["name"] == "shop"


def test_the_project_validates_clean(tmp_path: Path, run_jo: Any) -> None:
    init_project(tmp_path, name="shop")
    ran = run_jo("jo", "validate", cwd=tmp_path)
    assert ran.code == 0, ran.out + ran.err
    assert "no problems found" in ran.out + ran.err
    strict = run_jo("jo", "validate", "--strict", "--format", "concise", cwd=tmp_path)
    assert (strict.code, strict.out) == (0, "")


def test_jo_init_command(tmp_path: Path, run_jo: Any) -> None:
    ran = run_jo("jo", "init", "My Shop", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert ran.out == ""
    root = tmp_path / "My Shop"
    for path in EXPECTED:
        assert f"wrote {path}\n" in ran.err
    assert "cd 'My Shop' && jo validate" in ran.err
    assert yaml.safe_load((root / "jo.yaml").read_text(encoding="utf-8"))["name"] == "my-shop"
    assert run_jo("jo", "validate", cwd=root).code == 0


def test_jo_init_defaults_to_the_current_directory(tmp_path: Path, run_jo: Any) -> None:
    root = tmp_path / "acme_EU"
    root.mkdir()
    ran = run_jo("jo", "init", "--name", "acme", cwd=root)
    assert ran.code == 0, ran.err
    assert "next: jo validate" in ran.err
    assert yaml.safe_load((root / "jo.yaml").read_text(encoding="utf-8"))["name"] == "acme"
    assert run_jo("jo", "init", cwd=root).code == 2  # now a project: refused


def test_default_name_is_a_slug(tmp_path: Path, run_jo: Any) -> None:
    root = tmp_path / "Acme Shop (EU)"
    root.mkdir()
    assert run_jo("jo", "init", cwd=root).code == 0
    assert yaml.safe_load((root / "jo.yaml").read_text(encoding="utf-8"))["name"] == "acme-shop-eu"


@pytest.mark.parametrize("project_file", ["jo.yaml", "jo.yml"])
def test_refuses_an_existing_project(tmp_path: Path, run_jo: Any, project_file: str) -> None:
    (tmp_path / project_file).write_text("kind: project\n", encoding="utf-8")
    ran = run_jo("jo", "init", str(tmp_path), cwd=tmp_path)
    assert ran.code == 2
    assert "already exists" in ran.err and "Traceback" not in ran.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [project_file]
    with pytest.raises(JoError) as raised:
        init_project(tmp_path, name="x")
    assert raised.value.exit_code == 2


def test_refuses_a_file_as_directory(tmp_path: Path, run_jo: Any) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    ran = run_jo("jo", "init", "file", cwd=tmp_path)
    assert ran.code == 2 and "Traceback" not in ran.err


def test_never_overwrites_a_file(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "welcome.html").write_text("<p>mine</p>\n", encoding="utf-8")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("node_modules/", encoding="utf-8")
    written = relative(init_project(tmp_path, name="shop"), tmp_path)
    assert "templates/welcome.html" not in written and ".pre-commit-config.yaml" not in written
    assert (tmp_path / "templates" / "welcome.html").read_text(encoding="utf-8") == "<p>mine</p>\n"
    assert (tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8") == "repos: []\n"
    # An existing .gitignore keeps its lines and gains `.jo/`, once.
    assert ".gitignore" in written
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()[0] == "node_modules/"
    assert ".jo/" in (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_an_existing_gitignore_with_the_store_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("/.jo\n", encoding="utf-8")
    written = relative(init_project(tmp_path, name="shop"), tmp_path)
    assert ".gitignore" not in written
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "/.jo\n"


def test_modelines_point_at_schemas_that_exist(tmp_path: Path) -> None:
    init_project(tmp_path, name="shop")
    yaml_files = [p for p in tmp_path.rglob("*.yaml") if p.name != ".pre-commit-config.yaml"]
    assert len(yaml_files) == 4
    for path in yaml_files:
        match = MODELINE.match(path.read_text(encoding="utf-8"))
        assert match is not None, path
        target = (path.parent / match.group(1)).resolve()
        assert target.is_file(), (path, target)
        assert target.parent == (tmp_path / "schemas").resolve()
        kind = yaml.safe_load(path.read_text(encoding="utf-8"))["kind"]
        assert target.name == f"{kind}.schema.json"


def test_pre_commit_config_is_valid_for_pre_commit(tmp_path: Path) -> None:
    from pre_commit.clientlib import load_config  # type: ignore[import-untyped]

    init_project(tmp_path, name="shop")
    config = load_config(str(tmp_path / ".pre-commit-config.yaml"))
    [repo] = config["repos"]
    [hook] = repo["hooks"]
    assert repo["repo"] == "local"
    assert (hook["entry"], hook["pass_filenames"], hook["require_serial"]) == ("jo validate", False, True)
    for path in ("jo.yaml", "journeys/welcome.yaml", "templates/welcome.html", "data/profiles.csv"):
        assert re.search(hook["files"], path), path
    assert "# - repo: https://" in (tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8")


def test_sample_profiles_fit_their_schema(tmp_path: Path) -> None:
    init_project(tmp_path, name="shop")
    schema = json.loads((tmp_path / "data" / "profiles.schema.json").read_text(encoding="utf-8"))
    with (tmp_path / "data" / "profiles.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 5
    for column in rows[0]:
        head, _, rest = column.partition(".")
        assert head in schema["properties"]
        if rest:
            assert rest in schema["properties"][head]["properties"]
    assert all(row[name] for row in rows for name in schema["required"])
    assert len({row["id"] for row in rows}) == len(rows)


@pytest.mark.parametrize("name", ["true", "a: b", "null", "12", "Acme «EU»", "#1"])
def test_any_name_is_written_as_a_yaml_string(tmp_path: Path, run_jo: Any, name: str) -> None:
    init_project(tmp_path, name=name)
    assert yaml.safe_load((tmp_path / "jo.yaml").read_text(encoding="utf-8"))["name"] == name
    assert run_jo("jo", "validate", cwd=tmp_path).code == 0


def test_an_empty_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JoError):
        init_project(tmp_path, name=" ")
    assert not any(tmp_path.iterdir())


def test_project_files_are_the_ones_written() -> None:
    assert list(project_files("shop")) == EXPECTED
