"""JO504-JO505: files a document names exist, inside the project (SPEC §4, §10.2)."""

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


def _project(context: RuleContext) -> ProjectIndex | None:
    return context.project


@rule("JO504", "missing-file", "error", example_context=FILE_CONTEXT)
def check_files_exist(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A template, data file or schema that a document names does not exist.

    Paths are relative to the project root (the folder holding jo.yaml).

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
        if escapes(project.root, name) is None and not (project.root / name).is_file():
            folder = (project.root / name).parent
            suffix = PurePosixPath(name).suffix
            siblings = sorted(p.name for p in folder.iterdir() if p.suffix == suffix) if folder.is_dir() else []
            close = closest(PurePosixPath(name).name, siblings)
            suggestion = f"; did you mean `{PurePosixPath(name).parent / close}`?" if close else ""
            yield check_files_exist.finding(doc, doc.locate(path), f"`{name}` does not exist{suggestion}",
                                            hint="paths are relative to the folder holding jo.yaml")


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
