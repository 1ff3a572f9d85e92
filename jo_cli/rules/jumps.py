"""JO350-JO351: jumps across journeys (SPEC §6.4 `jump`, §6.5; AJO's jump activity)."""

from __future__ import annotations

from collections.abc import Iterator

from jo_cli.findings import Finding
from jo_cli.loader import Document
from jo_cli.project_index import ProjectIndex
from jo_cli.rules.base import RuleContext, rule
from jo_cli.rules.references import CONTEXT, entries_and_steps

JUMP_CONTEXT = {
    **CONTEXT,
    "journeys/nightly.yaml": (
        "kind: journey\nid: nightly\nentry: {type: audience, audience: gold, next: end}\nsteps: {}"
    ),
    "journeys/ping.yaml": (
        "kind: journey\nid: ping\nentry: {type: event, event: signed_up, next: hop}\n"
        "steps:\n  hop: {type: jump, journey: example, next: end}"
    ),
}


def jump_targets(doc: Document) -> Iterator[tuple[str, str]]:
    """(step id, target journey) of every jump step."""
    for path, node in entries_and_steps(doc):
        if node.get("type") == "jump" and isinstance(node.get("journey"), str):
            yield str(path[-1]), str(node["journey"])


def _entry_type(project: ProjectIndex, journey: str) -> str | None:
    target = project.ids("journey").get(journey)
    data = target.doc.data if target is not None and isinstance(target.doc.data, dict) else {}
    entry = data.get("entry")
    return str(entry.get("type")) if isinstance(entry, dict) else None


@rule("JO350", "jump-target-entry", "error", example_context=JUMP_CONTEXT)
def check_jump_target_entry(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A jump targets a journey whose entry is not an event entry.

    AJO: the target of a jump must start with an event; the jump enters the
    profile there at the origin's time, with the step's `params` as payload.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: nightly, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: follow-up, next: end}
    """
    project = context.project
    if context.kind != "journey" or project is None:
        return
    for step_id, journey in jump_targets(doc):
        entry = _entry_type(project, journey)
        if entry is not None and entry != "event":
            yield check_jump_target_entry.finding(
                doc, doc.locate(("steps", step_id, "journey")),
                f"journey `{journey}` starts with a `{entry}` entry; a jump needs an `event` entry")


@rule("JO351", "jump-loop", "error", example_context=JUMP_CONTEXT)
def check_jump_loops(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """Jumps between journeys form a loop (a -> b -> a).

    AJO refuses journeys whose jumps lead back to themselves: a profile
    could circle forever.

    Fails:
        kind: journey
        id: example
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: ping, next: end}
    Passes:
        kind: journey
        id: example
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: follow-up, next: end}
    """
    project = context.project
    if context.kind != "journey" or project is None or not isinstance(doc.data, dict):
        return
    origin = doc.data.get("id")
    if not isinstance(origin, str):
        return
    if "jumps" not in project.memo:
        project.memo["jumps"] = {journey: [target for _, target in jump_targets(item.doc)]
                                 for journey, item in project.ids("journey").items()}
    graph = {**project.memo["jumps"], origin: [target for _, target in jump_targets(doc)]}
    for step_id, target in jump_targets(doc):
        loop = _path_back(graph, target, origin)
        if loop is not None:
            spelled = " -> ".join([origin, *loop])
            yield check_jump_loops.finding(doc, doc.locate(("steps", step_id, "journey")),
                                           f"jumps form a loop: {spelled}")


def _path_back(graph: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """A chain of jumps from `start` back to `goal` (depth-first, each journey once)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, trail = stack.pop()
        if node == goal:
            return trail
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*trail, nxt]) for nxt in graph.get(node, []))
    return None
