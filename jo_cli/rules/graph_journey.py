"""JO301-JO306: a journey's transitions and the paths they make (SPEC §6.1, §6.4, §6.5).

Per-step rules of §6.5 are in `graph_journey_steps`; cross-file jump checks are JO5xx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from jo_cli.durations import format_duration, parse_duration
from jo_cli.findings import Finding
from jo_cli.graph import END, Graph, entry_target, journey_graph
from jo_cli.loader import Document, JsonPath
from jo_cli.rules.base import RuleContext, rule
from jo_cli.suggest import did_you_mean

INSTANCE_LIFETIME = dt.timedelta(days=91)
# §6.4: the step field each waiting step waits for.
WAIT_FIELDS = {"wait": "duration", "wait-event": "timeout", "reaction": "timeout"}
TARGET_HINT = "name a step id of this journey, or `end` (the implicit End step)"

_cache: list[tuple[Document, Graph]] = []


def _journey(doc: Document, context: RuleContext) -> dict[str, Any] | None:
    return doc.data if context.kind == "journey" and isinstance(doc.data, dict) else None


def _graph(doc: Document, data: dict[str, Any]) -> Graph:
    """One graph per document, shared by the rules of this family (the cache holds the document alive)."""
    if not _cache or _cache[0][0] is not doc:
        _cache[:] = [(doc, journey_graph(data))]
    return _cache[0][1]


@rule("JO301", "unknown-target", "error")
def check_unknown_target(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A transition names a step that does not exist.

    `entry.next`, every step's `next`, `otherwise`, `on_error`,
    `timeout_next`, `over_cap` and each path's `next` name a step id of this
    journey, or `end` (the implicit End step). AJO does not publish a journey
    with a dangling connection.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: wiat-3d}
          wait-3d: {type: wait, duration: P3D, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: wait-3d}
          wait-3d: {type: wait, duration: P3D, next: end}
    """
    data = _journey(doc, context)
    if data is None:
        return
    graph = _graph(doc, data)
    known = [*graph.nodes, END]
    for edge in graph.edges:
        if edge.target not in known:
            yield check_unknown_target.finding(
                doc, doc.locate(edge.path),
                f"`{edge.where}`: `{edge.target}` is not a step of this journey{did_you_mean(edge.target, known)}",
                hint=TARGET_HINT)


@rule("JO302", "unreachable-step", "error")
def check_unreachable_step(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A step that no path from the entry reaches.

    Every step must be reachable from `entry.next`; AJO refuses to publish a
    journey with a disconnected activity. Point a `next` (or a path) at the
    step, or delete it.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: end}
    """
    data = _journey(doc, context)
    start = entry_target(data) if data is not None else None
    if data is None or start is None:
        return
    graph = _graph(doc, data)
    if start not in graph.nodes and start != END:
        return  # JO301 reports the entry; every step would follow from it
    reached = graph.reachable([start])
    for step_id in graph.nodes:
        if step_id in reached:
            continue
        sources = sorted({f"`{e.source}`" for e in graph.inbound[step_id] if e.source is not None})
        why = f"only unreachable steps lead to it ({', '.join(sources)})" if sources else "nothing leads to it"
        yield check_unreachable_step.finding(
            doc, doc.locate(("steps", step_id), key=True), f"`steps.{step_id}`: no profile reaches this step: {why}",
            hint="point a `next` or a path at it from a reachable step, or delete it")


@rule("JO303", "no-end", "error")
def check_no_end(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A step from which no path reaches an End.

    Every path must end: at `end` (the implicit End step) or at a `type: end`
    step. A step whose every path loops back never lets its profiles finish;
    give the loop a way out (`otherwise: end`, `next: end`).

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: pause}
          pause: {type: wait, duration: P1D, next: hello}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: pause}
          pause: {type: wait, duration: P1D, next: done}
          done: {type: end}
    """
    data = _journey(doc, context)
    if data is None:
        return
    graph = _graph(doc, data)
    # A dangling or missing transition is JO301's or the schema's; count it as an end rather than report twice.
    ends = [step_id for step_id, leaving in graph.leaving.items()
            if graph.type_of(step_id) == "end" or not leaving or any(e.target not in graph.nodes for e in leaving)]
    can_end = graph.reaching(ends)
    for step_id in graph.nodes:
        if step_id not in can_end:
            yield check_no_end.finding(
                doc, doc.locate(("steps", step_id), key=True),
                f"`steps.{step_id}`: no path from this step reaches an End; every path loops back",
                hint="give the loop a way out, e.g. `otherwise: end` or `next: end`")


@rule("JO304", "cycle", "error")
def check_cycle(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """The steps form a loop.

    A journey is acyclic (AJO and Dittofeed allow no loops). To repeat
    something, end the branch and let the profile enter again: a schedule,
    re-entrance, or a jump to an event-triggered journey. The finding points
    at the transition that closes the loop and spells the loop out.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: pause, on_error: hello}
          pause: {type: wait, duration: P1D, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: pause, on_error: end}
          pause: {type: wait, duration: P1D, next: end}
    """
    data = _journey(doc, context)
    if data is None:
        return
    graph = _graph(doc, data)
    start = entry_target(data)
    _, cycles = graph.depth_first([*([start] if start else []), *graph.nodes])
    for cycle in cycles:
        yield check_cycle.finding(
            doc, doc.locate(cycle.edge.path), f"`{cycle.edge.where}`: this transition closes a loop: {cycle.spelled}",
            hint="journeys cannot loop: end the branch and repeat with a schedule or re-entrance")


@rule("JO305", "reaction-target", "error")
def check_reaction_target(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A reaction's `to` is not the message step directly before it.

    AJO places a reaction immediately after the channel action it reacts to;
    nothing, not even a wait, sits between them. So `to` names a message step
    whose `next` is the reaction, and no other transition leads to the reaction.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body: Hi}, next: pause}
          pause: {type: wait, duration: P1D, next: opened}
          opened: {type: reaction, to: hello, on: opened, timeout: P3D, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body: Hi}, next: opened}
          opened: {type: reaction, to: hello, on: opened, timeout: P3D, next: end}
    """
    data = _journey(doc, context)
    if data is None:
        return
    graph = _graph(doc, data)
    for step_id, step in graph.nodes.items():
        if graph.type_of(step_id) == "reaction" and isinstance(step.get("to"), str):
            for path, message in _reaction_problems(graph, step_id, step["to"]):
                yield check_reaction_target.finding(doc, doc.locate(path), message,
                                                    hint="a reaction directly follows the message it waits on")


def _reaction_problems(graph: Graph, step_id: str, to: str) -> Iterator[tuple[JsonPath, str]]:
    where = f"`steps.{step_id}.to`"
    path = ("steps", step_id, "to")
    kind = graph.type_of(to)
    if to not in graph.nodes:
        messages = [s for s in graph.nodes if graph.type_of(s) == "message"]
        yield path, f"{where}: `{to}` is not a step of this journey{did_you_mean(to, messages)}"
    elif kind != "message":
        yield path, f"{where}: `{to}` is {f'a `{kind}` step' if kind else 'not a message step'}; " \
                    "a reaction waits on a message step"
    elif graph.nodes[to].get("next") != step_id:
        yield path, f"{where}: `{to}` is not directly before this reaction; set `steps.{to}.next: {step_id}`"
    else:
        for edge in graph.inbound[step_id]:
            if edge.path != ("steps", to, "next"):
                yield edge.path, f"`{edge.where}`: leads to reaction `{step_id}`, which must directly follow `{to}`"


def _wait(step: Any) -> tuple[str, dt.timedelta] | None:
    """The field a waiting step waits for and how long; `until` and missing timeouts count nothing."""
    kind = step.get("type") if isinstance(step, dict) else None
    field = WAIT_FIELDS.get(kind) if isinstance(kind, str) else None
    length = parse_duration(step.get(field)) if field is not None else None
    return (field, length) if field is not None and length is not None and length > dt.timedelta(0) else None


@rule("JO306", "waits-over-p91d", "warning")
def check_waits_over_lifetime(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """The waits along one path add up to more than P91D.

    An instance lives at most 91 days after it entered (AJO's global
    timeout), then exits with `timeout` even while it waits. The sum counts
    each `wait` duration and each `wait-event` and `reaction` timeout along
    the longest path from the entry (`until` waits and missing timeouts
    count nothing). The finding points at the wait that goes past P91D.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: first}
        steps:
          first: {type: wait, duration: P60D, next: second}
          second: {type: wait, duration: P40D, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: first}
        steps:
          first: {type: wait, duration: P60D, next: second}
          second: {type: wait, duration: P30D, next: end}
    """
    data = _journey(doc, context)
    start = entry_target(data) if data is not None else None
    if data is None or start is None:
        return
    graph = _graph(doc, data)
    order, cycles = graph.depth_first([start])
    loops = {cycle.edge for cycle in cycles}  # JO304's; leaving them out makes the rest a DAG
    arrive: dict[str, dt.timedelta] = {start: dt.timedelta(0)}
    via: dict[str, str] = {}
    for step_id in reversed(order):  # a topological order of that DAG
        wait = _wait(graph.nodes[step_id])
        leave = arrive[step_id] + (wait[1] if wait else dt.timedelta(0))
        # A single wait past the limit is JO602's (each wait at most P90D); this rule is about sums.
        if wait and dt.timedelta(0) < arrive[step_id] <= INSTANCE_LIFETIME < leave:
            yield check_waits_over_lifetime.finding(
                doc, doc.locate(("steps", step_id, wait[0])),
                f"`steps.{step_id}.{wait[0]}`: the waits on the path {_spell_waits(graph, via, step_id)} add up to "
                f"{format_duration(leave)}, past the P91D an instance lives; it would exit with `timeout`",
                hint="shorten the waits, or move the later steps into a journey of their own")
        for edge in graph.out[step_id]:
            if edge not in loops and leave > arrive.get(edge.target, dt.timedelta(-1)):
                arrive[edge.target] = leave
                via[edge.target] = step_id


def _spell_waits(graph: Graph, via: dict[str, str], last: str) -> str:
    """`first` (P60D) + `second` (P40D): the waiting steps of the longest path to `last`."""
    chain = [last]
    while chain[-1] in via:
        chain.append(via[chain[-1]])
    waits = [(step_id, _wait(graph.nodes[step_id])) for step_id in reversed(chain)]
    return " + ".join(f"`{step_id}` ({format_duration(wait[1])})" for step_id, wait in waits if wait)
