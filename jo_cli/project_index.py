"""Everything a project declares, for the rules that look across files (JO5xx)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jo_cli.loader import MAX_BYTES, Document
from jo_cli.project import escapes

PROFILES = "profiles"
# Cardinality of a link read from its other end.
_INVERSE = {"many-to-one": "one-to-many", "one-to-many": "many-to-one", "one-to-one": "one-to-one"}


@dataclass(frozen=True, slots=True)
class Indexed:
    path: Path
    doc: Document


@dataclass(frozen=True, slots=True)
class Link:
    """A named way from one table to another (`purchases.profile`, or its reverse `profiles.purchases`)."""

    name: str
    source: str
    target: str
    cardinality: str


@dataclass
class ProjectIndex:
    root: Path
    config: dict[str, Any]
    documents: dict[str, list[Indexed]] = field(default_factory=dict)
    _ids: dict[str, dict[str, Indexed]] = field(default_factory=dict, repr=False)
    # What rules derive from the whole project once per run (e.g. the jump graph), by rule.
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def add(self, kind: str, path: Path, doc: Document) -> None:
        self.documents.setdefault(kind, []).append(Indexed(path, doc))
        self._ids.pop(kind, None)

    def ids(self, kind: str) -> dict[str, Indexed]:
        """Documents of `kind` by id; the first file (in path order) wins a repeated id."""
        if kind not in self._ids:
            found: dict[str, Indexed] = {}
            for item in sorted(self.documents.get(kind, []), key=lambda i: i.path):
                ident = item.doc.data.get("id") if isinstance(item.doc.data, dict) else None
                if isinstance(ident, str):
                    found.setdefault(ident, item)
            self._ids[kind] = found
        return self._ids[kind]

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name)
        return value if isinstance(value, dict) else {}

    @cached_property
    def audiences(self) -> set[str]:
        """Audience files plus the audiences campaigns save (usable by `audience:` everywhere, §9.1)."""
        names = set(self.ids("audience"))
        for item in self.documents.get("campaign", []):
            activities = item.doc.data.get("activities") if isinstance(item.doc.data, dict) else None
            for activity in (activities or {}).values() if isinstance(activities, dict) else ():
                if isinstance(activity, dict) and activity.get("type") == "save-audience" \
                        and isinstance(activity.get("audience"), str):
                    names.add(activity["audience"])
        return names

    @cached_property
    def tables(self) -> set[str]:
        return {PROFILES, *self.section("entities")}

    @cached_property
    def links(self) -> dict[str, dict[str, Link]]:
        """Links by source table, forward and reverse (§4: the reverse is named after the entity)."""
        links: dict[str, dict[str, Link]] = {table: {} for table in self.tables}
        for entity, spec in self.section("entities").items():
            declared = spec.get("links") if isinstance(spec, dict) else None
            for name, link in (declared or {}).items() if isinstance(declared, dict) else ():
                if not isinstance(link, dict) or link.get("to") not in self.tables:
                    continue
                cardinality = link.get("cardinality", "many-to-one")
                if cardinality not in _INVERSE:
                    continue
                target = str(link["to"])
                links[entity][name] = Link(name, entity, target, cardinality)
                reverse = str(link["reverse"]) if isinstance(link.get("reverse"), str) else entity
                links[target].setdefault(reverse, Link(reverse, target, entity, _INVERSE[cardinality]))
        return links

    def data_schema(self, table: str) -> dict[str, Any] | None:
        """The parsed data schema of `profiles` or an entity, if it can be read."""
        spec = self.section("profiles") if table == PROFILES else self.section("entities").get(table)
        ref = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(ref, str) or escapes(self.root, ref) is not None:
            return None  # nothing outside the project is read (JO505 names it)
        return _read_json(self.root / ref)

    def table_fields(self, table: str) -> set[str] | None:
        """Dotted field names of a table's schema (`consent.email`), or None when unknown."""
        schema = self.data_schema(table)
        if schema is None:
            return None
        return dotted_fields(schema)


def dotted_fields(schema: dict[str, Any], prefix: str = "") -> set[str]:
    """Every field of a data schema by its dotted name: `consent` and `consent.email`."""
    properties = schema.get("properties")
    names: set[str] = set()
    for name, sub in properties.items() if isinstance(properties, dict) else ():
        names.add(prefix + name)
        if isinstance(sub, dict):
            names |= dotted_fields(sub, f"{prefix}{name}.")
    return names


_JSON_CACHE: dict[tuple[Path, float], dict[str, Any] | None] = {}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        stat = path.stat()
        key = (path.resolve(), stat.st_mtime)
        if key not in _JSON_CACHE:
            data = json.loads(path.read_bytes()) if stat.st_size <= MAX_BYTES else None
            _JSON_CACHE[key] = data if isinstance(data, dict) else None
        return _JSON_CACHE[key]
    except (OSError, ValueError, RecursionError):
        return None
