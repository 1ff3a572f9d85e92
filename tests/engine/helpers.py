"""Building engines from YAML text, in-memory profiles and events, for the engine tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli.data.events import Event
from jo_cli.engine.engine import Engine
from jo_cli.engine.memory import (
    Collected,
    FixedClock,
    MemoryProfiles,
    MemoryStore,
    RecordedJumps,
    ScheduleFires,
    SendAll,
    memory_engine,
)
from jo_cli.engine.model import Journey, compile_journey
from jo_cli.engine.ports import Decision, MessageRequest, StepEvent
from jo_cli.expr.compile import compile_expr
from jo_cli.expr.parser import parse
from jo_cli.loader import load_yaml

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
# Whether `new_store` copies on commit and read (tests/engine/conftest.py runs the modules in BOTH_STORES twice).
COPYING = False


def new_store(*, keep_steps: bool = True) -> MemoryStore:
    return MemoryStore(keep_steps=keep_steps, copying=COPYING)


def at(text: str) -> dt.datetime:
    """`2026-12-01T09:00` (UTC unless an offset is given)."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def journey(text: str, *, version: int | None = None, zone: ZoneInfo = PARIS, **defaults: Any) -> Journey:
    """Compile a journey written in YAML, read as jo reads it (YAML 1.2: `on:` is a key, `22:00` a string)."""
    loaded = load_yaml("journey.yaml", text.encode())
    assert loaded.document is not None, [str(f) for f in loaded.findings]
    data = loaded.document.data
    data.setdefault("kind", "journey")
    data.setdefault("id", "j")
    return compile_journey(data, version=version, project_zone=zone, **defaults)


def event(name: str, when: str, profile: str | None = "p1", *, line: int = 1, **payload: Any) -> Event:
    if profile is not None and "profile" not in payload and not name.startswith("message_"):
        payload.setdefault("customer_id", profile)
    if name.startswith("message_"):
        payload.setdefault("profile", profile)
    return Event(line=line, id=None, name=name, at=at(when), payload=payload, profile=profile)


@dataclass
class Policy:
    """A scripted message policy: `decide` returns the next scripted decision, else sends."""

    script: dict[tuple[str, str], list[Decision]] = field(default_factory=dict)
    requests: list[MessageRequest] = field(default_factory=list)

    def decide(self, request: MessageRequest) -> Decision:
        self.requests.append(request)
        queue = self.script.get((request.instance.profile, request.step.id))
        if queue:
            return queue.pop(0)
        return SendAll().decide(request)


@dataclass
class Sim:
    engine: Engine
    store: MemoryStore
    profiles: MemoryProfiles
    delivery: Collected
    actions: Any
    jumps: RecordedJumps
    policy: Any

    def run(self, until: str | dt.datetime, **options: Any) -> Sim:
        self.engine.run_until(at(until) if isinstance(until, str) else until, **options)
        return self

    def push(self, *events: Event) -> Sim:
        self.store.push(events)
        return self

    def steps(self, profile: str | None = None) -> list[tuple[str, str, str]]:
        return [(e.step, e.at.strftime("%Y-%m-%dT%H:%M:%SZ"), e.outcome) for e in self.store.steps
                if profile is None or e.profile == profile]

    def step_events(self, profile: str | None = None) -> list[StepEvent]:
        return [e for e in self.store.steps if profile is None or e.profile == profile]

    def ends(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for instance in self.store.instances:
            if instance.end is not None:
                found.setdefault(instance.end, []).append(instance.profile)
        return found

    def discards(self) -> list[tuple[str, str]]:
        return [(d.profile, d.reason) for d in self.store.discards]

    def waiting(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for instance in self.store.instances:
            if instance.end is None:
                found.setdefault(instance.step or "", []).append(instance.profile)
        return found


def simulate(journeys: Journey | Iterable[Journey], profiles: Mapping[str, dict[str, Any]] | None = None, *,
             zones: Mapping[str, str] | None = None, audiences: Mapping[str, str | Iterable[str]] | None = None,
             origin: str = "2026-12-01T08:00:00", policy: Any = None, actions: Any = None,
             project_zone: ZoneInfo = PARIS, store: MemoryStore | None = None, fires: Any = None) -> Sim:
    """An engine over in-memory ports. Audiences are `where` texts or lists of identities."""
    items = [journeys] if isinstance(journeys, Journey) else list(journeys)
    rows = {pid: values for pid, values in (profiles or {"p1": {"id": "p1"}}).items()}
    memory = MemoryProfiles(rows, {pid: ZoneInfo(name) for pid, name in (zones or {}).items()})
    store = store if store is not None else new_store()
    definitions: dict[str, Any] = {}
    for name, definition in (audiences or {}).items():
        definitions[name] = compile_expr(parse(definition)) if isinstance(definition, str) \
            else frozenset(definition)
    delivery, jumps = Collected(), RecordedJumps()
    engine = memory_engine(items, profiles=memory, audiences=definitions, zone=project_zone, store=store,
                           clock=FixedClock(at("2026-12-01T00:00:00")), fires=fires or ScheduleFires(at(origin)),
                           policy=policy or Policy(), delivery=delivery, actions=actions, jumps=jumps)
    ports = engine.ports
    return Sim(engine, store, memory, delivery, ports.actions, jumps, ports.policy)
