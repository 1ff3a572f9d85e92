"""Journey and campaign graphs as the JO3xx rules see them (SPEC §6.5, §9.1).

Documents may have failed their schema, so the graphs are built defensively:
a transition is an edge only when its value is a string, and each edge keeps
the JSON path of that string so a finding can point at it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jo_cli.loader import JsonPath, dotted

END = "end"

# Which fields of each journey step type are transitions (§6.4); `paths` means each `paths[].next`.
# An unknown type (already a schema finding) is read with every field, so a typo in `type` does not
# also make the steps after it unreachable.
JOURNEY_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "condition": ("paths", "otherwise", "on_error"),
    "split": ("paths",),
    "time-condition": ("paths", "otherwise"),
    "date-condition": ("paths", "otherwise"),
    "profile-cap": ("next", "over_cap"),
    "wait": ("next",),
    "wait-event": ("next", "timeout_next"),
    "reaction": ("next", "timeout_next"),
    "message": ("next", "on_error"),
    "action": ("next", "on_error"),
    "update-profile": ("next",),
    "jump": ("next",),
    "end": (),
}
_ANY_JOURNEY_TRANSITION = ("next", "otherwise", "on_error", "timeout_next", "over_cap", "paths")
# Campaign transitions (§9.1): `next` (a list for `fork`), `complement_next`, `otherwise`,
# each subset's and each test path's `next`.
_CAMPAIGN_TRANSITIONS = ("next", "complement_next", "otherwise", "subsets", "paths")


@dataclass(frozen=True, slots=True)
class Edge:
    """A transition: `source` (None for the journey's entry) leads to `target`, written at `path`."""

    source: str | None
    target: str
    path: JsonPath

    @property
    def where(self) -> str:
        """The transition as a message names it: `steps.check.paths[0].next`."""
        return dotted(self.path)


@dataclass(frozen=True, slots=True)
class Cycle:
    """A loop found by a depth-first walk: `edge` closes it; `nodes` spells it, first node repeated last."""

    edge: Edge
    nodes: tuple[str, ...]

    @property
    def spelled(self) -> str:
        return " -> ".join(self.nodes)


@dataclass(slots=True)
class Graph:
    """Nodes (ids in file order, with their raw mapping) and every edge, known target or not."""

    nodes: dict[str, Any]
    edges: list[Edge]
    # By node: `leaving` holds every edge written on it, `out` and `inbound` only edges between known nodes.
    leaving: dict[str, list[Edge]] = field(init=False)
    out: dict[str, list[Edge]] = field(init=False)
    inbound: dict[str, list[Edge]] = field(init=False)

    def __post_init__(self) -> None:
        self.leaving = {node: [] for node in self.nodes}
        self.out = {node: [] for node in self.nodes}
        self.inbound = {node: [] for node in self.nodes}
        for edge in self.edges:
            if edge.source in self.leaving:
                self.leaving[edge.source].append(edge)
            if edge.target in self.nodes:
                if edge.source in self.out:
                    self.out[edge.source].append(edge)
                self.inbound[edge.target].append(edge)

    def type_of(self, node: str) -> str | None:
        raw = self.nodes.get(node)
        kind = raw.get("type") if isinstance(raw, dict) else None
        return kind if isinstance(kind, str) else None

    def reachable(self, starts: Iterable[str]) -> set[str]:
        """Every node reachable from `starts` (included), following edges to known nodes."""
        seen = {start for start in starts if start in self.nodes}
        todo = list(seen)
        while todo:
            for edge in self.out[todo.pop()]:
                if edge.target not in seen:
                    seen.add(edge.target)
                    todo.append(edge.target)
        return seen

    def reaching(self, goals: Iterable[str]) -> set[str]:
        """Every node from which some node of `goals` (included) is reachable."""
        seen = {goal for goal in goals if goal in self.nodes}
        todo = list(seen)
        while todo:
            for edge in self.inbound[todo.pop()]:
                if edge.source is not None and edge.source in self.nodes and edge.source not in seen:
                    seen.add(edge.source)
                    todo.append(edge.source)
        return seen

    def depth_first(self, roots: Iterable[str]) -> tuple[list[str], list[Cycle]]:
        """Post-order of the nodes reachable from `roots`, and the cycles closed by back edges.

        Iterative, so a long chain cannot exhaust the interpreter's stack.
        """
        state: dict[str, bool] = {}  # False while on the walk's path, True once finished
        order: list[str] = []
        cycles: list[Cycle] = []
        for root in roots:
            if root not in self.nodes or root in state:
                continue
            state[root] = False
            path = [root]
            stack: list[Iterator[Edge]] = [iter(self.out[root])]
            while stack:
                edge = next(stack[-1], None)
                if edge is None:
                    stack.pop()
                    node = path.pop()
                    state[node] = True
                    order.append(node)
                elif edge.target not in state:
                    state[edge.target] = False
                    path.append(edge.target)
                    stack.append(iter(self.out[edge.target]))
                elif not state[edge.target]:
                    start = path.index(edge.target)
                    cycles.append(Cycle(edge, (*path[start:], edge.target)))
        return order, cycles


def journey_steps(data: Mapping[str, Any]) -> dict[str, Any]:
    """The journey's steps by id, without a step named `end` (that name is always the implicit End)."""
    steps = data.get("steps")
    if not isinstance(steps, dict):
        return {}
    return {step_id: step for step_id, step in steps.items() if step_id != END}


def entry_target(data: Mapping[str, Any]) -> str | None:
    entry = data.get("entry")
    target = entry.get("next") if isinstance(entry, dict) else None
    return target if isinstance(target, str) else None


def journey_graph(data: Mapping[str, Any]) -> Graph:
    """The steps and every transition: the entry's `next`, then each step's, in file order."""
    edges: list[Edge] = []
    target = entry_target(data)
    if target is not None:
        edges.append(Edge(None, target, ("entry", "next")))
    steps = data.get("steps")
    for step_id, step in (steps.items() if isinstance(steps, dict) else ()):
        if isinstance(step, dict):
            kind = step.get("type")
            fields = JOURNEY_TRANSITIONS.get(kind, _ANY_JOURNEY_TRANSITION) if isinstance(kind, str) \
                else _ANY_JOURNEY_TRANSITION
            edges.extend(_edges(("steps", step_id), step, fields))
    return Graph(journey_steps(data), edges)


def campaign_graph(data: Mapping[str, Any]) -> Graph:
    """The activities and every transition, in file order (a fork's `next` is a list)."""
    activities = data.get("activities")
    if not isinstance(activities, dict):
        return Graph({}, [])
    edges: list[Edge] = []
    for activity_id, activity in activities.items():
        if isinstance(activity, dict):
            edges.extend(_edges(("activities", activity_id), activity, _CAMPAIGN_TRANSITIONS, fork=True))
    return Graph(dict(activities), edges)


def _edges(base: JsonPath, node: dict[str, Any], fields: tuple[str, ...], *, fork: bool = False) -> Iterator[Edge]:
    """The transitions of one step or activity, in the order its keys are written.

    `fork`: a list under `next` names several targets (campaigns); in a journey it is a schema error.
    """
    source = str(base[-1])
    for key, value in node.items():
        if key not in fields:
            continue
        if isinstance(value, str):
            yield Edge(source, value, (*base, key))
        elif isinstance(value, list) and key == "next" and fork:
            yield from (Edge(source, item, (*base, key, i)) for i, item in enumerate(value) if isinstance(item, str))
        elif isinstance(value, list) and key in ("paths", "subsets"):
            for i, item in enumerate(value):
                target = item.get("next") if isinstance(item, dict) else None
                if isinstance(target, str):
                    yield Edge(source, target, (*base, key, i, "next"))
