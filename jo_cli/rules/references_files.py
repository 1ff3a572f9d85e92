"""JO504-JO505, JO515: files a document names exist, inside the project (SPEC §4, §10.2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath
from jo_cli.project import escapes
from jo_cli.project_index import ProjectIndex
from jo_cli.rules.base import RuleContext, rule
from jo_cli.rules.references import CONTEXT, activities, entries_and_steps
from jo_cli.suggest import closest

FILE_CONTEXT = {**CONTEXT, "templates/welcome.html": "<p>Welcome {{ profile.first_name }}</p>"}


def referenced_files(doc: Document, kind: str | None) -> Iterator[tuple[JsonPath, str]]:
    """Every file path a document names, with the JSON path of the name."""
    data = doc.data if isinstance(doc.data, dict) else {}
    if kind in ("journey", "campaign"):
        nodes = entries_and_steps(doc) if kind == "journey" else activities(doc)
        for path, node in nodes:
            content = node.get("content")
            if isinstance(content, dict) and isinstance(content.get("body_file"), str):
                yield (*path, "content", "body_file"), content["body_file"]
    elif kind == "audience" and isinstance(data.get("source"), str):
        yield ("source",), data["source"]
    elif kind == "project":
        profiles = data.get("profiles")
        for field in ("source", "schema"):
            if isinstance(profiles, dict) and isinstance(profiles.get(field), str):
                yield ("profiles", field), profiles[field]
        entities = data.get("entities")
        for name, entity in (entities or {}).items() if isinstance(entities, dict) else ():
            for field in ("source", "schema"):
                if isinstance(entity, dict) and isinstance(entity.get(field), str):
                    yield ("entities", name, field), entity[field]


def is_data_source(path: JsonPath) -> bool:
    """A CSV of rows (`profiles.source`, `entities.*.source`, an audience's uploaded list), not a template or schema.

    Projects keep these out of git (they hold personal data): only the commands that read rows open them.
    """
    return bool(path) and path[-1] == "source"


def shown_path(project: ProjectIndex, doc: Document, name: str) -> str:
    """A file the document names, as findings name files: like the document's own path (relative to where jo runs).

    For findings inside that file (a template's tag), next to the document's own findings.
    """
    file = project.root / name
    indexed = next((item.path for items in project.documents.values() for item in items if item.doc is doc), None)
    shown = PurePosixPath(doc.path)
    if indexed is None or shown.is_absolute() or len(shown.parts) > len(indexed.parts):
        return file.as_posix()
    cwd = indexed.parents[len(shown.parts) - 1]
    resolved = file.resolve()
    return resolved.relative_to(cwd).as_posix() if resolved.is_relative_to(cwd) else file.as_posix()


def _project(context: RuleContext) -> ProjectIndex | None:
    return context.project


def _missing(project: ProjectIndex, name: str) -> str | None:
    """`did you mean` for a file inside the project that does not exist; None when it exists (or is outside)."""
    if escapes(project.root, name) is not None or (project.root / name).is_file():
        return None
    folder = (project.root / name).parent
    suffix = PurePosixPath(name).suffix
    siblings = sorted(p.name for p in folder.iterdir() if p.suffix == suffix) if folder.is_dir() else []
    close = closest(PurePosixPath(name).name, siblings)
    return f"; did you mean `{PurePosixPath(name).parent / close}`?" if close else ""


@rule("JO504", "missing-file", "error", example_context=FILE_CONTEXT)
def check_files_exist(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A template or data schema that a document names does not exist.

    Paths are relative to the project root (the folder holding jo.yaml). A
    missing CSV of rows is JO515, a warning: the schema that types it is
    still required here.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body_file: templates/welcom.html}, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body_file: templates/welcome.html}, next: end}
    """
    project = _project(context)
    if project is None:
        return
    for path, name in referenced_files(doc, context.kind):
        suggestion = None if is_data_source(path) else _missing(project, name)
        if suggestion is not None:
            yield check_files_exist.finding(doc, doc.locate(path), f"`{name}` does not exist{suggestion}",
                                            hint="paths are relative to the folder holding jo.yaml")


@rule("JO515", "missing-data-file", "warning", example_path="jo.yaml", example_context={
    **CONTEXT, "data/profiles.schema.json": '{"type": "object", "properties": {"id": {"type": "string"}}}',
    "data/profiles.csv": "id\n"})
def check_data_files_exist(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A CSV of rows that jo.yaml or an audience names (`profiles.source`, `entities.*.source`, `source:`) is absent.

    A warning, not an error: projects keep profile and entity exports out
    of git (they hold personal data), so `jo validate` in CI passes without
    them. Only the commands that read rows (`jo dry-run`) open the file, and
    they stop with exit 2 while it is missing. The schema beside it is still
    required (JO504) and checked.

    Fails:
        kind: project
        name: shop
        timezone: Europe/Paris
        profiles: {source: data/profile.csv, schema: data/profiles.schema.json, identity: id}
    Passes:
        kind: project
        name: shop
        timezone: Europe/Paris
        profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}
    """
    project = _project(context)
    if project is None:
        return
    for path, name in referenced_files(doc, context.kind):
        suggestion = _missing(project, name) if is_data_source(path) else None
        if suggestion is not None:
            yield check_data_files_exist.finding(
                doc, doc.locate(path),
                f"`{name}` does not exist{suggestion}; it is read only by commands that read rows (`jo dry-run`), "
                "which stop with exit 2 without it",
                hint="fine in CI when the data is kept out of git; paths are relative to the folder holding jo.yaml")


@rule("JO505", "path-outside-project", "error", example_context=FILE_CONTEXT)
def check_files_inside(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A file path leaves the project: absolute, `..`, or through a symbolic link.

    A published version freezes the files it names; files outside the
    project would make a version depend on the machine that published it.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body_file: ../secrets.html}, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body_file: templates/welcome.html}, next: end}
    """
    project = _project(context)
    if project is None:
        return
    for path, name in referenced_files(doc, context.kind):
        reason = escapes(project.root, name)
        if reason is not None:
            yield check_files_inside.finding(doc, doc.locate(path), f"`{name}` {reason}",
                                             hint="keep templates and data inside the project")
