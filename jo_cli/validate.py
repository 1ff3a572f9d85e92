"""`jo validate` as a library: paths in, findings out (SPEC §10)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jo_cli.errors import JoError
from jo_cli.findings import CheckResult, Finding, sorted_findings
from jo_cli.loader import MAX_BYTES, Document, load_yaml
from jo_cli.project import (
    find_project_file,
    folder_kind,
    is_data_schema_path,
    is_project_file,
    project_file_in,
    project_yaml_files,
    walk_yaml,
)
from jo_cli.project_index import ProjectIndex
from jo_cli.rules import run_document_rules
from jo_cli.schema.bundled import KINDS
from jo_cli.schema.check import check_document

_KIND_LINE = re.compile(rb"^kind:[ \t]*[\"']?(" + "|".join(KINDS).encode() + rb")\b", re.MULTILINE)


@dataclass(slots=True)
class Validation:
    """What one validate call saw: findings, counts, and the texts for snippets."""

    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    skipped: int = 0
    sources: dict[str, str] = field(default_factory=dict)
    index: ProjectIndex | None = None  # the project the files were checked against, when there was one
    notes: list[str] = field(default_factory=list)  # what the user should know about the check itself

    def result(self) -> CheckResult:
        return CheckResult(findings=sorted_findings(self.findings), files_checked=self.checked,
                           files_skipped=self.skipped)


def validate_project(root: Path, *, cwd: Path) -> Validation:
    """Every file of the project at `root`: jo.yaml, the kind folders, the data schemas."""
    return validate_files(project_yaml_files(root), cwd=cwd, project_root=root)


def index_project(root: Path) -> ProjectIndex:
    """The project's declarations without checking them (the engine's view; run `jo validate` first)."""
    return _index(root, [], set())


def validate_paths(paths: Sequence[Path], *, cwd: Path) -> Validation:
    """Files and directories as given on the command line."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(walk_yaml(path))
        elif path.is_file():
            files.append(path)
        else:
            raise JoError(f"{display_path(path, cwd)}: no such file or directory")
    # The project is the one the files live in (a monorepo may hold several, or none above cwd);
    # files from more than one project get no cross-file checks.
    roots = {found.parent for found in (find_project_file(f.resolve().parent) for f in files) if found}
    validation = validate_files(files, cwd=cwd, project_root=roots.pop() if len(roots) == 1 else None)
    if validation.checked and validation.index is None:
        where = "no jo.yaml above them" if not roots else f"they belong to {len(roots)} projects"
        validation.notes.append(f"cross-file checks (names of audiences, events, channels, fields, templates) "
                                f"were skipped: {where}; pass files of one project, or -C DIR")
    return validation


def validate_files(files: Iterable[Path], *, cwd: Path, project_root: Path | None) -> Validation:
    """Check `files`; with a project, references resolve against all of its files."""
    validation = Validation()
    seen: set[Path] = set()
    documents: list[_Loaded] = []
    for path in files:
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        if path.suffix == ".json":
            if is_data_schema_path(path):
                _check_data_schema(validation, path, cwd)
            else:
                validation.skipped += 1
            continue
        loaded = _load_yaml(validation, path, cwd)
        if loaded is not None:
            documents.append(loaded)
    project = validation.index = _index(project_root, documents, seen) if project_root is not None else None
    for item in documents:
        validation.findings.extend(run_document_rules(item.doc, kind=item.kind, expected_kind=item.expected,
                                                      project=project))
        if item.kind in KINDS:
            validation.findings.extend(check_document(item.doc, item.kind))
        if is_project_file(item.path) and project_root is not None:
            for schema_path in _referenced_data_schemas(item.doc, item.path.parent):
                if schema_path.resolve() not in seen and schema_path.is_file():
                    seen.add(schema_path.resolve())
                    _check_data_schema(validation, schema_path, cwd)
    return validation


@dataclass(frozen=True, slots=True)
class _Loaded:
    path: Path
    doc: Document
    kind: str | None
    expected: str | None


def _load_yaml(validation: Validation, path: Path, cwd: Path) -> _Loaded | None:
    shown = display_path(path, cwd)
    raw = _read(path)
    loaded = load_yaml(shown, raw)
    doc = loaded.document
    kind = _kind_of(doc.data) if doc is not None else _kind_in_text(raw)
    expected = "project" if is_project_file(path) else folder_kind(path)
    if kind not in KINDS and expected is None:
        validation.skipped += 1  # not a jo file: someone else's YAML (SPEC §10.1)
        return None
    validation.checked += 1
    validation.findings.extend(loaded.findings)
    if doc is None:
        validation.sources[shown] = raw.decode("utf-8", errors="replace")
        return None
    validation.sources[shown] = doc.text
    return _Loaded(path, doc, kind, expected)


def _index(root: Path, documents: list[_Loaded], checked: set[Path]) -> ProjectIndex:
    """The project's declarations: the documents being checked, plus its other files, read quietly."""
    items = list(documents)
    for path in project_yaml_files(root):
        if path.resolve() not in checked:
            doc = load_yaml(display_path(path, root), _read(path)).document
            if doc is not None:
                items.append(_Loaded(path, doc, _kind_of(doc.data), None))
    project_file = project_file_in(root).resolve()
    config = next((i.doc.data for i in items if i.path.resolve() == project_file and isinstance(i.doc.data, dict)), {})
    index = ProjectIndex(root=root, config=config)
    for item in items:
        if item.kind in KINDS:
            index.add(item.kind, item.path.resolve(), item.doc)
    return index


def _check_data_schema(validation: Validation, path: Path, cwd: Path) -> None:
    """A profile or entity schema must keep to jo's subset of JSON Schema (SPEC §5.1)."""
    shown = display_path(path, cwd)
    validation.checked += 1
    raw = _read(path)
    try:
        if len(raw) <= MAX_BYTES:  # the loader reports a larger file
            json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass  # the loader reports the encoding with its position
    except json.JSONDecodeError as exc:
        validation.findings.append(Finding(shown, exc.lineno, exc.colno, "JO101", "error",
                                           f"JSON syntax error: {exc.msg}"))
        validation.sources[shown] = raw.decode("utf-8", errors="replace")
        return
    except (RecursionError, ValueError):
        pass  # too deep or too long a number: the loader reports its limit, located
    # Valid JSON is YAML 1.2 once its whitespace tabs (never inside strings) are spaces.
    loaded = load_yaml(shown, raw.replace(b"\t", b" "))
    validation.findings.extend(loaded.findings)
    if loaded.document is not None:
        validation.sources[shown] = loaded.document.text
        validation.findings.extend(check_document(loaded.document, "data"))


def _referenced_data_schemas(doc: Document, root: Path) -> list[Path]:
    data = doc.data if isinstance(doc.data, dict) else {}
    refs: list[Any] = [data.get("profiles", {}).get("schema") if isinstance(data.get("profiles"), dict) else None]
    entities = data.get("entities")
    if isinstance(entities, dict):
        refs.extend(e.get("schema") for e in entities.values() if isinstance(e, dict))
    return [root / ref for ref in refs if isinstance(ref, str) and ref]


def _kind_in_text(raw: bytes) -> str | None:
    """The kind of a file that did not parse, when a top-level `kind:` line names one."""
    match = _KIND_LINE.search(raw)
    return match.group(1).decode() if match else None


def _kind_of(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("kind"), str):
        return str(data["kind"])
    return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise JoError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def display_path(path: Path, cwd: Path) -> str:
    """Paths as a user would type them: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
