"""`jo publish` and `jo diff` as a library: a project's journeys and campaigns frozen into versions (SPEC §7.2).

A version freezes the parsed document and every file it references: its
templates (as bytes), the audiences and events it names (as their parsed
documents); `jo.yaml` and data stay live. The decision for every file and
the writes happen in one store transaction, so a publish of many files is
all or nothing, and racing publishers (`BEGIN IMMEDIATE` serialises them)
make exactly one version per content: the second finds the first's hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jo_cli.engine.fields import named_audiences
from jo_cli.findings import CheckResult
from jo_cli.project import escapes, project_yaml_files
from jo_cli.project_index import ProjectIndex
from jo_cli.store import SqliteStore
from jo_cli.store.instances import VOCABULARY
from jo_cli.store.versions import (
    NewVersion,
    Version,
    canonical_json,
    content_hash,
    insert_version,
    latest_version,
    names_of,
    version_document,
)
from jo_cli.validate import Validation, validate_files

Result = Literal["published", "unchanged", "would_publish", "refused", "invalid"]
PUBLISHED_KINDS = ("journey", "campaign")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One journey or campaign file as it would be frozen."""

    path: Path
    shown: str
    new: NewVersion


@dataclass(frozen=True, slots=True)
class Outcome:
    id: str
    kind: str
    version: int | None
    result: Result
    path: str
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "version": self.version, "result": self.result}


@dataclass
class PublishReport:
    outcomes: list[Outcome] = field(default_factory=list)
    validation: CheckResult | None = None  # the findings, when validation failed
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(o.result in ("invalid", "refused") for o in self.outcomes) or bool(
            self.validation and self.validation.errors)


def validate_for_publish(root: Path, paths: Sequence[Path], *, cwd: Path) -> Validation:
    """The whole project checked as `jo validate` checks it, and the named files with it."""
    return validate_files([*project_yaml_files(root), *paths], cwd=cwd, project_root=root)


def candidates(index: ProjectIndex, paths: Sequence[Path] | None, *, shown: Mapping[Path, str]) -> list[Candidate]:
    """The journeys and campaigns to publish (`paths`, else all of the project's), frozen, by id."""
    wanted = None if paths is None else {p.resolve() for p in paths}
    found = []
    for kind in PUBLISHED_KINDS:
        for ident, item in index.ids(kind).items():
            if wanted is not None and item.path not in wanted:
                continue
            files = dict(referenced_files(index, kind, item.doc.data))
            document = item.doc.data
            new = NewVersion(id=ident, kind=kind, hash=content_hash(document, files), document=document,
                             files=files, names=names_of([*_names(document, kind), *VOCABULARY]))
            found.append(Candidate(item.path, shown.get(item.path, item.path.as_posix()), new))
    return sorted(found, key=lambda c: c.new.id)


def publish(store: SqliteStore | None, found: Sequence[Candidate], *, invalid: set[str], at: dt.datetime,
            by: str, check: bool) -> list[Outcome]:
    """Decide every candidate against the id's latest version, then write all of them or none.

    `store` None: no store yet (everything would be version 1). `invalid`: ids whose files have errors.
    """
    if store is None:
        return [_decide(c, None, None, invalid=invalid, check=True) for c in found]
    if check or store.readonly:
        return [_decide(c, latest_version(store, c.new.id), _previous_document(store, c.new.id),
                        invalid=invalid, check=True) for c in found]
    with store.write():
        outcomes = [_decide(c, latest_version(store, c.new.id), _previous_document(store, c.new.id),
                            invalid=invalid, check=check) for c in found]
        if any(o.result in ("invalid", "refused") for o in outcomes):
            return [_not_published(o) for o in outcomes]
        for candidate, outcome in zip(found, outcomes, strict=True):
            if outcome.result == "published":
                insert_version(store, candidate.new, at=at, by=by)
    return outcomes


def _decide(candidate: Candidate, latest: Version | None, previous: dict[str, Any] | None, *, invalid: set[str],
            check: bool) -> Outcome:
    new = candidate.new
    number = (latest.version + 1) if latest else 1
    if new.id in invalid:
        return Outcome(new.id, new.kind, None, "invalid", candidate.shown, "the file has validation errors")
    if latest is not None and latest.hash == new.hash:
        return Outcome(new.id, new.kind, latest.version, "unchanged", candidate.shown)
    if latest is not None and latest.kind != new.kind:
        return Outcome(new.id, new.kind, latest.version, "refused", candidate.shown,
                       f"`{new.id}` is published as a {latest.kind}; an id keeps its kind")
    reason = refusal(previous, dict(new.document)) if previous is not None else None
    if reason is not None:
        return Outcome(new.id, new.kind, latest.version if latest else None, "refused", candidate.shown, reason)
    return Outcome(new.id, new.kind, number, "would_publish" if check else "published", candidate.shown)


def _not_published(outcome: Outcome) -> Outcome:
    """What a changed file reports when another file stopped the publish: it would have been published."""
    if outcome.result == "published":
        return Outcome(outcome.id, outcome.kind, outcome.version, "would_publish", outcome.path,
                       "not published: another file was invalid or refused")
    return outcome


def _previous_document(store: SqliteStore, ident: str) -> dict[str, Any] | None:
    latest = latest_version(store, ident)
    return None if latest is None else version_document(store, ident, latest.version)


def refusal(previous: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """Why a new version may not replace `previous` (AJO: these never change between versions), or None."""
    if previous.get("kind") != "journey":
        return None
    old_entry, new_entry = previous.get("entry") or {}, new.get("entry") or {}
    if old_entry.get("type") != new_entry.get("type"):
        return (f"the entry type changed from `{old_entry.get('type')}` to `{new_entry.get('type')}`: "
                "publish it under a new id")
    if new_entry.get("type") == "audience-qualification":
        for key in ("audience", "on"):
            if old_entry.get(key) != new_entry.get(key):
                return f"the audience-qualification `{key}` changed: publish it under a new id"
    old_rule = (previous.get("settings") or {}).get("reentrance") or {}
    new_rule = (new.get("settings") or {}).get("reentrance") or {}
    for key in ("allowed", "wait"):
        if old_rule.get(key) != new_rule.get(key):
            return f"the re-entrance rule's `{key}` changed: publish it under a new id"
    return None


def referenced_files(index: ProjectIndex, kind: str, data: Mapping[str, Any]) -> Iterator[tuple[str, bytes]]:
    """What a version freezes besides its document: templates as bytes, audiences and events it names as
    their parsed documents (comments and layout do not make a new version). Paths are the project's."""
    root = index.root
    for name in sorted(_template_paths(kind, data)):
        if escapes(root, name) is None and (root / name).is_file():
            yield name, (root / name).read_bytes()
    audiences = {name: item.doc.data for name, item in index.ids("audience").items()}
    for name in sorted(named_audiences(data, audiences=audiences)):
        item = index.ids("audience").get(name)
        if item is not None:
            yield _project_path(item.path, root), canonical_json(item.doc.data).encode("utf-8")
    for name in sorted(_event_names(data)):
        item = index.ids("event").get(name)
        if item is not None:
            yield _project_path(item.path, root), canonical_json(item.doc.data).encode("utf-8")


def _project_path(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _nodes(kind: str, data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if kind == "journey":
        nodes = [data.get("entry") or {}, *(data.get("steps") or {}).values()]
    else:
        nodes = list((data.get("activities") or {}).values())
    return [node for node in nodes if isinstance(node, Mapping)]


def _template_paths(kind: str, data: Mapping[str, Any]) -> set[str]:
    paths = set()
    for node in _nodes(kind, data):
        content = node.get("content")
        if isinstance(content, Mapping):
            paths |= {str(v) for k, v in content.items() if k.endswith("_file") and isinstance(v, str)}
    return paths


def _event_names(data: Mapping[str, Any]) -> set[str]:
    return {str(node["event"]) for node in _nodes("journey", data) if isinstance(node.get("event"), str)}


def _names(data: Mapping[str, Any], kind: str) -> Iterator[str]:
    """Step (or activity) ids in file order, then the names of their paths (the history's codes)."""
    nodes = data.get("steps" if kind == "journey" else "activities") or {}
    yield from (str(name) for name in nodes)
    for node in nodes.values() if isinstance(nodes, Mapping) else ():
        for path in (node.get("paths") or ()) if isinstance(node, Mapping) else ():
            if isinstance(path, Mapping) and isinstance(path.get("name"), str):
                yield path["name"]
