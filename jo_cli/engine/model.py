"""A journey document compiled for the engine: typed steps, compiled expressions, the step order.

The engine runs only documents that `jo validate` accepts, so compilation
trusts the schema and the graph rules (one entry, every `next` exists, no
cycle); anything it still cannot use is a `JoError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jo_cli import durations, schedule
from jo_cli.errors import JoError
from jo_cli.expr.compile import Compiled, compile_expr
from jo_cli.expr.parser import ExprSyntaxError, parse
from jo_cli.graph import END, journey_graph

INSTANCE_LIFETIME = dt.timedelta(days=91)  # §6.1: an instance lives at most P91D after it entered
DEFAULT_REENTRANCE_WAIT = dt.timedelta(minutes=5)  # AJO's default
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EntryType = Literal["audience", "event", "audience-qualification", "business-event"]


@dataclass(frozen=True, slots=True)
class Path:
    """One way out of a branching step: its name, its target, and what selects it."""

    name: str
    next: str
    when: Compiled | None = None  # condition
    basis_points: int = 0  # split: cumulative, out of 10,000
    days: frozenset[int] = frozenset(range(7))  # time-condition: weekday numbers, Monday = 0
    start: dt.time | None = None  # time-condition `from`
    stop: dt.time | None = None  # time-condition `to`
    first_day: dt.date | None = None  # date-condition `from`
    last_day: dt.date | None = None  # date-condition `to`


@dataclass(frozen=True, slots=True)
class Step:
    """One step of §6.4; fields a type does not use keep their defaults."""

    id: str
    type: str
    next: str | None = None
    paths: tuple[Path, ...] = ()
    otherwise: str | None = None
    on_error: str | None = None
    over_cap: str | None = None
    cap: int = 1000
    duration: dt.timedelta | None = None
    until: Compiled | None = None
    event: str | None = None
    where: Compiled | None = None
    timeout: dt.timedelta | None = None
    timeout_next: str | None = None
    reaction_to: str | None = None
    reaction_on: str | None = None
    channel: str | None = None
    content: Mapping[str, str] = field(default_factory=dict)
    rules: str | None = None
    category: str = "marketing"
    action: str | None = None
    params: Mapping[str, Compiled] = field(default_factory=dict)
    label: str | None = None

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Every outcome this step can count, in file order (§7.1: zeros included)."""
        if self.type in ("condition", "split", "time-condition", "date-condition"):
            names = tuple(path.name for path in self.paths)
            if self.type != "split":
                names += ("otherwise",) if self.otherwise else ("no_path",)
            return names + (("on_error",) if self.on_error else ())
        if self.type == "profile-cap":
            return ("next", "over_cap")
        if self.type in ("wait-event", "reaction"):
            return ("next", "timeout")
        if self.type in ("message", "end"):
            return ()
        return ("next", "on_error") if self.on_error else ("next",)


@dataclass(frozen=True, slots=True)
class Entry:
    type: EntryType
    next: str
    audience: str | None = None
    event: str | None = None
    where: Compiled | None = None
    schedule: Mapping[str, Any] | None = None
    incremental: bool = False
    force_reentrance: bool = False
    on: Literal["enter", "exit"] = "enter"


@dataclass(frozen=True, slots=True)
class Journey:
    """One version of a journey, ready to run."""

    id: str
    version: int | None
    entry: Entry
    steps: Mapping[str, Step]
    order: tuple[str, ...]  # step ids in topological order (every step after the steps leading to it)
    zone: ZoneInfo
    use_profile_timezone: bool = False
    reentrance_allowed: bool = True
    reentrance_wait: dt.timedelta = DEFAULT_REENTRANCE_WAIT
    start: dt.datetime | None = None  # None: from the id's first publication (or always, in a dry-run)
    end: dt.datetime | None = None
    rules: str | None = None
    exit_when: Compiled | None = None
    name: str | None = None

    position: Mapping[str, int] = field(default_factory=dict)  # each step's place in `order` (filled in)

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", {step_id: index for index, step_id in enumerate(self.order)})

    @property
    def listens_to(self) -> frozenset[str]:
        """Event names this journey takes: its entry's and those its steps wait for."""
        names = {self.entry.event} if self.entry.event else set()
        for step in self.steps.values():
            if step.type == "wait-event" and step.event:
                names.add(step.event)
            elif step.type == "reaction":
                names.add(f"message_{step.reaction_on}")
        return frozenset(names)

    def in_window(self, at: dt.datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


def field_value(data: Mapping[str, Any] | None, name: str) -> Any:
    """A profile field by its dotted name (`consent.email`); null when any part is missing."""
    if "." not in name:
        return data.get(name) if type(data) is dict else None
    return field_at(data, name.split("."))


def field_at(data: Any, path: Sequence[str]) -> Any:
    """A field by its path (the dotted name already split); null when any part is missing."""
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def compile_journey(data: Mapping[str, Any], *, version: int | None, project_zone: ZoneInfo,
                    first_published: dt.datetime | None = None,
                    numeric_refs: frozenset[tuple[str, ...]] = frozenset()) -> Journey:
    """The runnable form of a validated journey document."""
    journey_id = str(data["id"])
    settings = data.get("settings") or {}
    zone = _zone(settings.get("timezone"), project_zone, f"{journey_id}: settings.timezone")
    where = f"journey {journey_id}"

    def expr(text: Any, at: str) -> Compiled:
        try:
            return compile_expr(parse(str(text)), numeric_refs=numeric_refs)
        except ExprSyntaxError as exc:
            raise JoError(f"{where}: {at}: {exc}") from None

    steps = {step_id: _step(step_id, raw, expr) for step_id, raw in data["steps"].items() if step_id != END}
    entry = _entry(data["entry"], expr)
    reentrance = settings.get("reentrance") or {}
    # On a timeline of whole seconds, `at >= 10:00:00.5` is `at >= 10:00:01`, and `at < 10:00:00.5` is
    # `at < 10:00:01`: the window's ends go up to their second, and the window's end stays a whole time.
    start = _second_up(schedule.local_instant(settings.get("start"), zone)) or first_published
    end = _second_up(schedule.local_instant(settings.get("end"), zone))
    return Journey(
        id=journey_id, version=version, entry=entry, steps=steps, order=_order(data, steps), zone=zone,
        use_profile_timezone=bool(settings.get("use_profile_timezone", False)),
        reentrance_allowed=bool(reentrance.get("allowed", True)),
        reentrance_wait=(_duration(reentrance["wait"]) or dt.timedelta(0)) if "wait" in reentrance
        else DEFAULT_REENTRANCE_WAIT,
        start=start, end=end, rules=settings.get("rules"),
        exit_when=expr(settings["exit_when"], "settings.exit_when") if "exit_when" in settings else None,
        name=data.get("name"),
    )


def _zone(name: Any, default: ZoneInfo, where: str) -> ZoneInfo:
    if name is None:
        return default
    zone = schedule.load_zone(str(name))
    if zone is None:
        raise JoError(f"{where}: unknown time zone {name!r}")
    return zone


def _second_up(at: dt.datetime | None) -> dt.datetime | None:
    return None if at is None else durations.second_up(at)


def _duration(text: Any) -> dt.timedelta | None:
    if text is None:
        return None
    value = durations.parse_duration(text)
    if value is None:
        raise JoError(f"{text!r} is not an exact ISO 8601 duration")
    return value


def _entry(raw: Mapping[str, Any], expr: Any) -> Entry:
    return Entry(
        type=raw["type"], next=raw["next"], audience=raw.get("audience"), event=raw.get("event"),
        where=expr(raw["where"], "entry.where") if "where" in raw else None, schedule=raw.get("schedule"),
        incremental=bool(raw.get("incremental", False)), force_reentrance=bool(raw.get("force_reentrance", False)),
        on=raw.get("on", "enter"),
    )


def _step(step_id: str, raw: Mapping[str, Any], expr: Any) -> Step:
    kind = raw["type"]
    at = f"steps.{step_id}"
    common: dict[str, Any] = {"id": step_id, "type": kind, "next": raw.get("next"),
                              "otherwise": raw.get("otherwise"), "on_error": raw.get("on_error")}
    if kind == "condition":
        paths = tuple(Path(p["name"], p["next"], when=expr(p["when"], f"{at}.paths[{i}].when"))
                      for i, p in enumerate(raw["paths"]))
        return Step(**common, paths=paths)
    if kind == "split":
        total = 0
        split_paths = []
        for p in raw["paths"]:
            total += round(float(p["percent"]) * 100)
            split_paths.append(Path(p["name"], p["next"], basis_points=total))
        return Step(**common, paths=tuple(split_paths))
    if kind == "time-condition":
        return Step(**common, paths=tuple(_time_path(p) for p in raw["paths"]))
    if kind == "date-condition":
        return Step(**common, paths=tuple(
            Path(p["name"], p["next"], first_day=_date(p.get("from")), last_day=_date(p.get("to")))
            for p in raw["paths"]))
    if kind == "profile-cap":
        return Step(**common, cap=int(raw.get("cap", 1000)), over_cap=raw["over_cap"])
    if kind == "wait":
        until = expr(raw["until"], f"{at}.until") if "until" in raw else None
        return Step(**common, duration=_duration(raw.get("duration")), until=until)
    if kind == "wait-event":
        where = expr(raw["where"], f"{at}.where") if "where" in raw else None
        return Step(**common, event=raw["event"], where=where, timeout=_duration(raw.get("timeout")),
                    timeout_next=raw.get("timeout_next"))
    if kind == "reaction":
        return Step(**common, reaction_to=raw["to"], reaction_on=raw["on"], timeout=_duration(raw.get("timeout")),
                    timeout_next=raw.get("timeout_next"))
    if kind == "message":
        return Step(**common, channel=raw["channel"], content=dict(raw.get("content") or {}),
                    rules=raw.get("rules"), category=raw.get("category", "marketing"))
    if kind in ("action", "jump"):
        params = {name: expr(value, f"{at}.params.{name}") for name, value in (raw.get("params") or {}).items()}
        return Step(**common, action=raw.get("action") or raw.get("journey"), params=params)
    if kind == "update-profile":
        values = {name: expr(value, f"{at}.set.{name}") for name, value in raw["set"].items()}
        return Step(**common, params=values)
    if kind == "end":
        return Step(**common, label=raw.get("label"))
    raise JoError(f"{at}: unknown step type {kind!r}")


def _time_path(raw: Mapping[str, Any]) -> Path:
    days = frozenset(DAYS.index(day) for day in raw.get("days", DAYS))
    return Path(raw["name"], raw["next"], days=days, start=_clock(raw.get("from")), stop=_clock(raw.get("to")))


def _clock(text: Any) -> dt.time | None:
    return dt.time.fromisoformat(str(text)) if text is not None else None


def _date(text: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text is not None else None


def _order(data: Mapping[str, Any], steps: Mapping[str, Step]) -> tuple[str, ...]:
    """Steps in topological order (Kahn's algorithm, ties in file order); the graph is acyclic (JO303)."""
    graph = journey_graph(data)
    incoming = {step_id: 0 for step_id in steps}
    targets: dict[str, list[str]] = {step_id: [] for step_id in steps}
    for edge in graph.edges:
        if edge.source is not None and edge.source in steps and edge.target in steps:
            targets[edge.source].append(edge.target)
            incoming[edge.target] += 1
    ready = [step_id for step_id in steps if incoming[step_id] == 0]
    order: list[str] = []
    while ready:
        step_id = ready.pop(0)
        order.append(step_id)
        for target in targets[step_id]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    if len(order) != len(steps):
        raise JoError("the journey's steps form a cycle (JO303); run `jo validate`")
    return tuple(order)
