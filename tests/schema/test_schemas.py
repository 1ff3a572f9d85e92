"""The bundled schemas: well-formed draft-07, offline, shipped, and the examples they accept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing.exceptions import NoSuchResource, Unresolvable

from jo_cli.loader import load_yaml
from jo_cli.schema import check
from jo_cli.schema.bundled import KINDS, SCHEMA_NAMES, load_schema, schema_dir
from jo_cli.schema.formats import format_checker, is_date, is_date_time, is_duration, is_email
from jo_cli.validate import validate_files
from tests.conftest import FIXTURES, REPO

VALID = sorted((FIXTURES / "schema-examples" / "valid").glob("*"))
BROKEN = sorted((FIXTURES / "broken").rglob("*.yaml"))


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_draft07_with_descriptions(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)
    missing = [path for path, node in _objects(schema) if "properties" in node
               for key, sub in node["properties"].items() if "description" not in sub and "$ref" not in sub]
    assert missing == []


@pytest.mark.parametrize("name", KINDS)
def test_fixed_objects_refuse_unknown_keys(name: str) -> None:
    # A dispatcher (`allOf` of if/then) lists only the discriminator, and the subschemas in an
    # `allOf` refine an object that is closed elsewhere; every other object is closed.
    loose = [path for path, node in _objects(load_schema(name))
             if "properties" in node and "allOf" not in node and "/allOf/" not in path
             and node.get("additionalProperties") is not False]
    assert loose == []


def test_schemas_in_repo_are_the_ones_loaded() -> None:
    assert schema_dir().resolve() in {(REPO / "schemas").resolve(), (Path(check.__file__).parents[1] / "_schemas")}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_examples_are_clean(path: Path, tmp_path: Path) -> None:
    if path.suffix == ".json":  # data schemas are checked where a project keeps them
        (tmp_path / "data").mkdir()
        path = Path(shutil.copy(path, tmp_path / "data" / path.name))
    validation = validate_files([path], cwd=path.parent, project_root=None)
    assert validation.findings == []
    assert validation.checked == 1


def test_demo_project_is_clean(run_jo) -> None:
    ran = run_jo("jo", "validate", "-o", "json", cwd=REPO)
    report = json.loads(ran.out)
    assert ran.code == 0, ran.out
    assert report["findings"] == [] and report["files_checked"] >= 10


def _jo_documents(paths: list[Path]) -> list[Path]:
    documents = []
    for path in paths:
        doc = load_yaml(path.name, path.read_bytes()).document
        if doc is not None and isinstance(doc.data, dict) and doc.data.get("kind") in KINDS:
            documents.append(path)
    return documents


@pytest.mark.parametrize("path", _jo_documents([*VALID, *BROKEN]), ids=lambda p: p.name)
def test_dispatching_validator_agrees_with_plain_draft07(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = load_yaml(path.name, path.read_bytes()).document
    assert doc is not None
    kind = doc.data["kind"]
    fast = check.check_document(doc, kind)
    plain = Draft7Validator(load_schema(kind), registry=check._registry(), format_checker=format_checker())
    monkeypatch.setattr(check, "validator_for", lambda name: plain)
    assert sorted(fast, key=lambda f: f.sort_key) == sorted(check.check_document(doc, kind), key=lambda f: f.sort_key)


def test_remote_refs_are_never_fetched() -> None:
    validator = check._JoValidator({"$ref": "http://127.0.0.1:9/evil.json"}, registry=check._registry())
    with pytest.raises((NoSuchResource, Unresolvable)):
        list(validator.iter_errors({}))


@pytest.mark.parametrize(
    ("checker", "good", "bad"),
    [
        (is_date, ["2026-12-01", "2024-02-29"], ["2026-13-01", "2023-02-29", "20261201", "2026-12-1"]),
        (is_date_time, ["2026-12-01T09:00:00Z", "2026-12-01T09:00:00", "2026-12-01T09:00:00+05:30",
                        "2026-12-01T09:00"], ["2026-12-01", "2026-12-01T25:00:00Z", "tomorrow"]),
        (is_duration, ["P3D", "PT2H", "P1DT12H", "PT30M", "P2W", "PT0.5S"],
         ["P1M", "P1Y", "P", "PT", "3 days", "P1DT"]),
        (is_email, ["ada@example.org"], ["ada", "ada@", "a b@example.org"]),
    ],
)
def test_formats(checker, good: list[str], bad: list[str]) -> None:
    assert all(checker(v) for v in good)
    assert not any(checker(v) for v in bad)


def test_schema_command_prints_and_writes(run_jo, tmp_path: Path) -> None:
    printed = run_jo("jo", "schema", "journey", cwd=tmp_path)
    assert printed.code == 0
    assert json.loads(printed.out) == load_schema("journey")
    written = run_jo("jo", "schema", "--write", "schemas", cwd=tmp_path)
    assert written.code == 0 and written.out == ""
    assert sorted(p.name for p in (tmp_path / "schemas").iterdir()) == sorted(f"{n}.schema.json" for n in SCHEMA_NAMES)
    assert (tmp_path / "schemas" / "event.schema.json").read_text() == (schema_dir() / "event.schema.json").read_text()
    assert run_jo("jo", "schema", cwd=tmp_path).code == 2


def test_wheel_ships_the_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hatchling = pytest.importorskip("hatchling.build", reason="hatchling is the build backend")
    monkeypatch.chdir(REPO)
    wheel = tmp_path / hatchling.build_wheel(str(tmp_path))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    for name in SCHEMA_NAMES:
        assert f"jo_cli/_schemas/{name}.schema.json" in names


def _objects(schema: object, path: str = "#"):
    """Every subschema (not `if` tests, which only select a branch), with its JSON pointer."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for keyword in ("properties", "definitions", "patternProperties"):
        for key, sub in schema.get(keyword, {}).items():
            yield from _objects(sub, f"{path}/{keyword}/{key}")
    for keyword in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(keyword, [])):
            yield from _objects(sub, f"{path}/{keyword}/{i}")
    for keyword in ("items", "then", "else", "not", "additionalProperties"):
        yield from _objects(schema.get(keyword), f"{path}/{keyword}")
