"""Which profile fields a journey can read: a dry-run keeps only those in memory (SPEC §11's 2 GB for 1M rows).

Read statically from every expression of the journey (and of the audiences
it reads, through `inAudience` too), the templates of its message steps,
the channels' address and consent fields, the fields `update-profile`
writes, the identity and the time-zone field. Anything that could read a
field this scan cannot name (a template reading `profile` whole or with a
computed key, an audience named by a computed value, a template that does
not parse or cannot be read) keeps every field. Templates are read through
the same `ProjectFiles` as the renderer's, so the fields kept are those of
the templates that will render (a published version's frozen ones).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jo_cli.engine.files import FileProblem, ProjectFiles, WorkingTree, read_text
from jo_cli.expr.ast import Binary, Call, Conditional, Expr, IsNull, ListExpr, Literal, Ref, Unary
from jo_cli.expr.parser import ExprSyntaxError, parse
from jo_cli.templates import MAPPING_METHODS, scan_source


class _Everything(Exception):
    """A read this scan cannot pin to named fields."""


def profile_fields(journey: Mapping[str, Any], *, root: Path, audiences: Mapping[str, Mapping[str, Any]],
                   channels: Mapping[str, Any], always: tuple[str | None, ...],
                   files: ProjectFiles | None = None) -> frozenset[str] | None:
    """Top-level profile fields `journey` (a document's data) can read; None: all of them.

    `body_file` templates are read from `files`, by default the working tree at `root`.
    """
    files = WorkingTree(root) if files is None else files
    fields = {name for name in always if name}
    try:
        _walk_audiences(journey, audiences, fields)
        for step in (journey.get("steps") or {}).values():
            if not isinstance(step, dict):
                continue
            if step.get("type") == "message":
                channel = channels.get(str(step.get("channel"))) or {}
                fields |= {str(channel[k]).split(".")[0] for k in ("address", "consent") if channel.get(k)}
                _templates(step.get("content") or {}, step.get("channel"), files, fields)
            elif step.get("type") == "update-profile":
                fields |= {str(name).split(".")[0] for name in step.get("set") or {}}
    except _Everything:
        return None
    return frozenset(fields)


def named_audiences(journey: Mapping[str, Any], *, audiences: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The audiences a journey reads: its entry's, those `inAudience` names in its expressions, and those
    their own `where`s name in turn (what a published version freezes with it). A computed name reads none."""
    return _walk_audiences(journey, audiences, None)


def _walk_audiences(journey: Mapping[str, Any], audiences: Mapping[str, Mapping[str, Any]],
                    fields: set[str] | None) -> set[str]:
    """The audiences the journey's expressions name, through their own `where`s; with `fields`, the profile
    fields all of them read are added to it (raising _Everything for a read no name pins down)."""
    def read(text: Any) -> list[str]:
        if fields is not None:
            return _read(_parse(text), fields)
        try:
            return _read(_parse(text), set(), audiences_only=True)
        except _Everything:  # a text that does not parse names nothing
            return []

    pending = [str(journey["entry"]["audience"])] if (journey.get("entry") or {}).get("audience") else []
    for text in _expressions(journey):
        pending += read(text)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        where = (audiences.get(name) or {}).get("where")
        if where is not None:
            pending += read(where)
    return seen


def _expressions(journey: Mapping[str, Any]) -> Iterator[str]:
    settings = journey.get("settings") or {}
    if "exit_when" in settings:
        yield str(settings["exit_when"])
    nodes = [journey.get("entry") or {}, *(journey.get("steps") or {}).values()]
    for node in nodes:
        if not isinstance(node, dict):
            continue
        for key in ("where", "until"):
            if key in node:
                yield str(node[key])
        for path in node.get("paths") or ():
            if isinstance(path, dict) and "when" in path:
                yield str(path["when"])
        for key in ("params", "set"):
            yield from (str(value) for value in (node.get(key) or {}).values())


def _parse(text: Any) -> Expr:
    try:
        return parse(str(text))
    except ExprSyntaxError:
        raise _Everything from None


def _read(node: Expr, fields: set[str], *, audiences_only: bool = False) -> list[str]:
    """Add the profile fields `node` reads to `fields`; return the audiences it names (`audiences_only`:
    only those, and a computed name is skipped rather than meaning every field)."""
    audiences: list[str] = []
    stack: list[Expr] = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            if node.parts[0] == "profile" and not audiences_only:
                if len(node.parts) == 1:
                    raise _Everything
                fields.add(node.parts[1])
        elif isinstance(node, Call):
            if node.name == "inAudience":
                argument = node.args[0] if node.args else None
                if isinstance(argument, Literal) and isinstance(argument.value, str):
                    audiences.append(argument.value)
                elif not audiences_only:
                    raise _Everything
            stack.extend(node.args)
        elif isinstance(node, Binary):
            stack += [node.left, node.right]
        elif isinstance(node, Unary | IsNull):
            stack.append(node.operand)
        elif isinstance(node, Conditional):
            stack += [node.condition, node.then, node.otherwise]
        elif isinstance(node, ListExpr):
            stack.extend(node.items)
    return audiences


def _templates(content: Mapping[str, Any], channel: Any, files: ProjectFiles, fields: set[str]) -> None:
    for key, value in content.items():
        html = channel == "email" and key in ("body", "body_file")
        source = read_text(files, str(value)) if key == "body_file" else str(value)
        if isinstance(source, FileProblem):
            raise _Everything  # the renderer cannot read it either: its messages are render errors
        scan = scan_source(source, html=html)
        if scan.error is not None:
            raise _Everything
        for reference in scan.references:
            if reference.root != "profile":
                continue
            if not reference.parts or (reference.called and len(reference.parts) == 1
                                       and reference.parts[0] in MAPPING_METHODS):
                raise _Everything
            fields.add(reference.parts[0])
