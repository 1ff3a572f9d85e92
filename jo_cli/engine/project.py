"""From a project on disk to what the engine runs on: compiled journeys, profiles, audiences, events.

Dry-run and run-batch both start here; only the store, delivery and clock
they add differ. Everything is read as `jo validate` reads it, and a file
that cannot be used is a `JoError` naming it (the caller validates first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli import schedule
from jo_cli.data.audiences import read_uploaded_audience
from jo_cli.data.csv_reader import Reject, TableReader
from jo_cli.data.events import Event, EventReject, read_events
from jo_cli.engine.model import Journey, compile_journey
from jo_cli.errors import JoError
from jo_cli.expr.compile import Compiled, compile_expr
from jo_cli.expr.parser import ExprSyntaxError, parse
from jo_cli.project import inside_project
from jo_cli.project_index import PROFILES, ProjectIndex
from jo_cli.validate import index_project

_NUMBERS = frozenset({"integer", "number"})


@dataclass
class ProjectInputs:
    """One project's declarations, read once: the engine's inputs are built from them on demand."""

    index: ProjectIndex

    @classmethod
    def load(cls, root: Path) -> ProjectInputs:
        return cls(index_project(root))

    @property
    def root(self) -> Path:
        return self.index.root

    @cached_property
    def zone(self) -> ZoneInfo:
        name = self.index.config.get("timezone", "UTC")
        zone = schedule.load_zone(str(name))
        if zone is None:
            raise JoError(f"jo.yaml: timezone: unknown time zone {name!r}")
        return zone

    @property
    def profiles_section(self) -> dict[str, Any]:
        return self.index.section("profiles")

    @property
    def identity(self) -> str:
        return str(self.profiles_section.get("identity", "id"))

    @cached_property
    def numeric_refs(self) -> frozenset[tuple[str, ...]]:
        """Profile fields that hold numbers (or null): comparisons with them compile to plain Python."""
        schema = self.index.data_schema(PROFILES) or {}
        return frozenset(("profile", *path) for path in _number_fields(schema))

    def journey(self, journey_id: str, *, version: int | None = None,
                first_published: dt.datetime | None = None) -> Journey:
        item = self.index.ids("journey").get(journey_id)
        if item is None:
            raise JoError(f"no journey with id {journey_id!r} in {self.root}")
        return compile_journey(item.doc.data, version=version, project_zone=self.zone,
                               first_published=first_published, numeric_refs=self.numeric_refs)

    def journey_id_of(self, path: Path) -> str:
        """The id of the journey in file `path`."""
        for journey_id, item in self.index.ids("journey").items():
            if item.path == path.resolve():
                return journey_id
        raise JoError(f"{path}: not a journey of the project at {self.root}")

    def read_profiles(self, source: Path | None = None, *, shown: str | None = None,
                      keep: frozenset[str] | None = None) -> TableReader:
        """The profile rows (typed, located rejects), streamed: `source` or `profiles.source`; `keep`: the
        top-level fields rows hold (every cell is checked all the same)."""
        section = self.profiles_section
        path = source or inside_project(self.root, str(section.get("source", "")), field="jo.yaml: profiles.source")
        inside_project(self.root, str(section.get("schema", "")), field="jo.yaml: profiles.schema")
        schema = self.index.data_schema(PROFILES)
        if schema is None:
            raise JoError(f"jo.yaml: profiles.schema: cannot read {section.get('schema')!r}")
        zone_field = section.get("timezone_field")
        return TableReader(path, schema, shown=shown or _shown(path, self.root), identity=self.identity,
                           zone=self.zone, zone_field=zone_field if isinstance(zone_field, str) else None,
                           keep=keep)

    def audience_definitions(self, *, known: Container[str] | None = None,
                             on_reject: Callable[[str, Reject], None] | None = None,
                             failures: dict[str, str] | None = None) -> dict[str, Compiled | frozenset[str]]:
        """Every audience file's compiled `where`, or its uploaded list of identities.

        An uploaded list's rejected rows (§5.1's rules; given the profile source's `known` identities, a row
        naming no profile too) go to `on_reject(audience id, reject)`, in file order. An uploaded list that
        cannot be read is an error, or with `failures` given, the error's text filed there under the audience
        id (run-batch fails only the fires that read it, §7.3).
        """
        definitions: dict[str, Compiled | frozenset[str]] = {}
        for name, item in self.index.ids("audience").items():
            data = item.doc.data
            if "where" in data:
                try:
                    definitions[name] = compile_expr(parse(str(data["where"])), numeric_refs=self.numeric_refs)
                except ExprSyntaxError as exc:
                    raise JoError(f"audience {name}: where: {exc}") from None
            elif "source" in data:
                try:
                    path = inside_project(self.root, str(data["source"]),
                                          field=f"{_shown(item.path, self.root)}: source")
                    members, rejects = read_uploaded_audience(path, shown=_shown(path, self.root), known=known)
                except JoError as exc:
                    if failures is None:
                        raise
                    failures[name] = exc.message
                    continue
                definitions[name] = frozenset(members)
                if on_reject is not None:
                    for reject in rejects:
                        on_reject(name, reject)
        return definitions

    def audiences_read(self, journey_id: str) -> set[str]:
        """The audiences the journey reads (its entry's, `inAudience` names, through their `where`s)."""
        from jo_cli.engine.fields import named_audiences

        audiences = {name: item.doc.data for name, item in self.index.ids("audience").items()}
        return named_audiences(self.index.ids("journey")[journey_id].doc.data, audiences=audiences)

    def profile_fields(self, journey_id: str) -> frozenset[str] | None:
        """The top-level profile fields the journey can read (None: all), see `fields.py`."""
        from jo_cli.engine.fields import profile_fields

        audiences = {name: item.doc.data for name, item in self.index.ids("audience").items()}
        zone_field = self.profiles_section.get("timezone_field")
        return profile_fields(self.index.ids("journey")[journey_id].doc.data, root=self.root, audiences=audiences,
                              channels=self.index.section("channels"),
                              always=(self.identity, zone_field if isinstance(zone_field, str) else None))

    def event_declarations(self) -> dict[str, dict[str, Any]]:
        return {name: item.doc.data for name, item in self.index.ids("event").items()}

    def read_events(self, source: Any, *, shown: str) -> Iterator[Event | EventReject]:
        return read_events(source, shown=shown, events=self.event_declarations(), zone=self.zone)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _number_fields(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    properties = schema.get("properties")
    for name, sub in properties.items() if isinstance(properties, dict) else ():
        if isinstance(sub, dict):
            if sub.get("type") in _NUMBERS:
                yield (*prefix, name)
            yield from _number_fields(sub, (*prefix, name))
