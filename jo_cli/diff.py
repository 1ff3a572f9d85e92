"""`jo diff FILE` as a library: what publishing a file would change, per step and field (SPEC §7.2)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Change = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class FieldChange:
    path: str  # `steps.welcome-email.content.subject`, `settings`, `entry.where`
    change: Change
    old: Any = None
    new: Any = None


@dataclass
class Diff:
    id: str
    kind: str
    version: int | None  # the latest version compared with; None when never published
    steps: dict[str, Change] = field(default_factory=dict)  # step or activity id -> what happened to it
    fields: list[FieldChange] = field(default_factory=list)
    files: dict[str, Change] = field(default_factory=dict)  # referenced file -> what happened to it

    @property
    def equal(self) -> bool:
        return not (self.steps or self.fields or self.files)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "version": self.version, "equal": self.equal,
            "steps": dict(self.steps),
            "fields": [{"path": f.path, "change": f.change, "old": f.old, "new": f.new} for f in self.fields],
            "files": dict(sorted(self.files.items())),
        }


def diff_versions(ident: str, kind: str, version: int | None, old: Mapping[str, Any] | None,
                  new: Mapping[str, Any], old_files: Mapping[str, bytes], new_files: Mapping[str, bytes]) -> Diff:
    """The difference from the published document `old` (None: never published) to the working tree's."""
    result = Diff(ident, kind, version)
    nodes = "steps" if kind == "journey" else "activities"
    old = old or {}
    old_nodes, new_nodes = old.get(nodes) or {}, new.get(nodes) or {}
    for name in new_nodes:
        if name not in old_nodes:
            result.steps[name] = "added"
        elif old_nodes[name] != new_nodes[name]:
            result.steps[name] = "changed"
            _fields(f"{nodes}.{name}", old_nodes[name], new_nodes[name], result.fields)
    for name in old_nodes:
        if name not in new_nodes:
            result.steps[name] = "removed"
    for key in dict.fromkeys([*new, *old]):
        if key != nodes:
            _fields(key, old.get(key, _ABSENT), new.get(key, _ABSENT), result.fields)
    for path in sorted({*old_files, *new_files}):
        if path not in old_files:
            result.files[path] = "added"
        elif path not in new_files:
            result.files[path] = "removed"
        elif _digest(old_files[path]) != _digest(new_files[path]):
            result.files[path] = "changed"
    return result


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Any = _Absent()


def _fields(path: str, old: Any, new: Any, found: list[FieldChange]) -> None:
    """Field-level changes below `path`: mappings are walked, anything else compared whole."""
    if old == new:
        return
    if old is _ABSENT:
        found.append(FieldChange(path, "added", None, new))
    elif new is _ABSENT:
        found.append(FieldChange(path, "removed", old, None))
    elif isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in dict.fromkeys([*new, *old]):
            _fields(f"{path}.{key}", old.get(key, _ABSENT), new.get(key, _ABSENT), found)
    else:
        found.append(FieldChange(path, "changed", old, new))


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
