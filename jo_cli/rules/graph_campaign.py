"""JO330-JO335: an orchestrated campaign's transitions (SPEC §9.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jo_cli.findings import Finding
from jo_cli.graph import Graph, campaign_graph
from jo_cli.loader import Document
from jo_cli.rules.base import RuleContext, rule
from jo_cli.suggest import did_you_mean

EXAMPLE = "campaigns/example.yaml"
CHANNELS = ("email", "sms", "push")
MERGES = ("combine", "join")  # the activities that receive several inputs
AUDIENCE = "build-audience"
NO_IMPLICIT_END = "; a campaign has no implicit `end`: add an activity `{type: end}`, or leave out an optional `next`"
# §9.1's activity types; any other `type` is already a schema finding.
KNOWN_TYPES = frozenset({AUDIENCE, "combine", "deduplicate", "enrich", "split", "change-dimension", "save-audience",
                         "wait", "fork", "join", "test", *CHANNELS, "end"})

_cache: list[tuple[Document, Graph]] = []


def _campaign(doc: Document, context: RuleContext) -> Graph | None:
    """The campaign's graph, one per document (the cache holds the document alive), or None for other kinds."""
    if context.kind != "campaign" or not isinstance(doc.data, dict):
        return None
    if not _cache or _cache[0][0] is not doc:
        _cache[:] = [(doc, campaign_graph(doc.data))]
    return _cache[0][1]


def _inputs(graph: Graph, activity_id: str) -> list[str]:
    """The activities pointing at `activity_id`, once each, in file order."""
    return list(dict.fromkeys(e.source for e in graph.inbound[activity_id] if e.source is not None))


def _listed(ids: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids)


@rule("JO330", "unknown-activity-target", "error", example_path=EXAMPLE)
def check_unknown_activity_target(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A transition names an activity that does not exist.

    `next` (a list for `fork`), `complement_next`, each subset's and each
    test path's `next`, and `otherwise` name an activity id of this
    campaign. Unlike a journey, a campaign has no implicit `end`: leave out
    the optional `next` of a channel or save-audience activity, or add an
    activity `{type: end}`.

    Fails:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: mial}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    Passes:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    """
    graph = _campaign(doc, context)
    if graph is None:
        return
    for edge in graph.edges:
        if edge.target not in graph.nodes:
            why = NO_IMPLICIT_END if edge.target == "end" else did_you_mean(edge.target, list(graph.nodes))
            yield check_unknown_activity_target.finding(
                doc, doc.locate(edge.path), f"`{edge.where}`: `{edge.target}` is not an activity of this campaign{why}",
                hint="name an activity id of this campaign")


@rule("JO331", "too-few-inputs", "error", example_path=EXAMPLE)
def check_too_few_inputs(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A `combine` or `join` has fewer than two inputs.

    A combine merges, and a join waits for, every activity that points at
    it (AJO: at least two inbound transitions); with one input there is
    nothing to merge. Point a second activity's `next` at it, or remove it.

    Fails:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: everyone}
          everyone: {type: combine, mode: union, next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    Passes:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: everyone}
          gold: {type: build-audience, dimension: profiles, where: 'tier == "gold"', next: everyone}
          everyone: {type: combine, mode: union, next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    """
    graph = _campaign(doc, context)
    if graph is None:
        return
    for activity_id in graph.nodes:
        kind = graph.type_of(activity_id)
        inputs = _inputs(graph, activity_id)
        if kind in MERGES and len(inputs) < 2:
            has = f"only {_listed(inputs)} points at it" if inputs else "no activity points at it"
            yield check_too_few_inputs.finding(
                doc, doc.locate(("activities", activity_id), key=True),
                f"`activities.{activity_id}`: a {kind} needs at least two inputs; {has}",
                hint=f"point the `next` of two or more activities at `{activity_id}`, or remove it")


@rule("JO332", "channel-without-audience", "error", example_path=EXAMPLE)
def check_channel_without_audience(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A channel activity (`email`, `sms`, `push`) has no `build-audience` upstream.

    A channel activity sends to the rows that reach it, and rows come from a
    `build-audience` through a chain of transitions (AJO: a channel activity
    needs an upstream targeting activity). Without one it would send nothing.

    Fails:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: vip-mail}
          vip-mail: {type: email, content: {subject: For you, body: Hi}}
          rest-mail: {type: email, content: {subject: Spring sale, body: Hi}}
    Passes:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: top}
          top:
            type: split
            subsets: [{name: vip, where: total_spend > 1000, next: vip-mail}]
            complement_next: rest-mail
          vip-mail: {type: email, content: {subject: For you, body: Hi}}
          rest-mail: {type: email, content: {subject: Spring sale, body: Hi}}
    """
    graph = _campaign(doc, context)
    if graph is None:
        return
    fed = _fed(graph)
    for activity_id in graph.nodes:
        if graph.type_of(activity_id) in CHANNELS and activity_id not in fed:
            yield check_channel_without_audience.finding(
                doc, doc.locate(("activities", activity_id), key=True),
                f"`activities.{activity_id}`: no `build-audience` leads to this {graph.type_of(activity_id)} "
                "activity, so it has no one to send to",
                hint=f"point the `next` of an activity fed by a build-audience at `{activity_id}`")


def _sources(graph: Graph) -> list[str]:
    """Where rows come from: the build-audiences, and (so that a typo in one `type` is one finding, not one per
    activity after it) any activity whose type is missing or unknown."""
    return [a for a in graph.nodes if graph.type_of(a) == AUDIENCE or graph.type_of(a) not in KNOWN_TYPES]


def _fed(graph: Graph) -> set[str]:
    """The activities rows reach: every source and all that follows one."""
    return graph.reachable(_sources(graph))


@rule("JO333", "campaign-cycle", "error", example_path=EXAMPLE)
def check_campaign_cycle(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """The activities form a loop.

    A campaign run moves its work tables forward once, from each
    build-audience to the ends; to repeat it, give the campaign a
    `schedule`. The finding points at the transition that closes the loop.

    Fails:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: check}
          check:
            type: test
            paths: [{name: few, when: count < 10, next: pause}]
            otherwise: mail
          pause: {type: wait, duration: P1D, next: check}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    Passes:
        kind: campaign
        id: spring-sale
        schedule: {cron: "0 8 * * MON"}
        activities:
          buyers: {type: build-audience, dimension: profiles, next: check}
          check:
            type: test
            paths: [{name: few, when: count < 10, next: stop}]
            otherwise: mail
          stop: {type: end}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    """
    graph = _campaign(doc, context)
    if graph is None:
        return
    audiences = [a for a in graph.nodes if graph.type_of(a) == AUDIENCE]
    _, cycles = graph.depth_first([*audiences, *graph.nodes])
    for cycle in cycles:
        yield check_campaign_cycle.finding(
            doc, doc.locate(cycle.edge.path), f"`{cycle.edge.where}`: this transition closes a loop: {cycle.spelled}",
            hint="a campaign run cannot loop: repeat it with a `schedule`")


@rule("JO334", "unfed-activity", "error", example_path=EXAMPLE)
def check_unfed_activity(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """An activity that no `build-audience` leads to.

    Rows enter a campaign at its build-audience activities; an activity no
    chain of transitions connects to one never receives a work table and
    never runs, which is almost always a forgotten or misspelt transition
    (AJO does not publish a canvas with a disconnected activity). Flow
    activities placed before a build-audience (such as a first `wait`) are
    fine; channel activities are JO332's.

    Fails:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
          saved: {type: save-audience, audience: spring-buyers}
    Passes:
        kind: campaign
        id: spring-sale
        activities:
          buyers: {type: build-audience, dimension: profiles, next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hi}, next: saved}
          saved: {type: save-audience, audience: spring-buyers}
    """
    graph = _campaign(doc, context)
    if graph is None:
        return
    fed = _fed(graph)
    leading = graph.reaching(_sources(graph))
    for activity_id in graph.nodes:
        if activity_id in fed or activity_id in leading or _reported_elsewhere(graph, activity_id):
            continue
        yield check_unfed_activity.finding(
            doc, doc.locate(("activities", activity_id), key=True),
            f"`activities.{activity_id}`: no `build-audience` leads to this activity, so it never runs",
            hint=f"point the `next` of an activity fed by a build-audience at `{activity_id}`, or remove it")


def _reported_elsewhere(graph: Graph, activity_id: str) -> bool:
    """Channel activities (JO332) and merges without any input (JO331) have their own finding."""
    kind = graph.type_of(activity_id)
    return kind in CHANNELS or (kind in MERGES and not _inputs(graph, activity_id))


@rule("JO335", "primary-not-input", "error", example_path=EXAMPLE)
def check_primary_not_input(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A `combine` or `join` names a `primary` that does not point at it.

    `primary` picks one of the activity's inputs: the set the others are
    removed from (exclusion), or the rows that continue (join). It must be
    an activity whose `next` leads to this one.

    Fails:
        kind: campaign
        id: spring-sale
        activities:
          everyone: {type: build-audience, dimension: profiles, next: not-gold}
          gold: {type: build-audience, dimension: profiles, where: 'tier == "gold"', next: not-gold}
          not-gold: {type: combine, mode: exclusion, primary: everybody, next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    Passes:
        kind: campaign
        id: spring-sale
        activities:
          everyone: {type: build-audience, dimension: profiles, next: not-gold}
          gold: {type: build-audience, dimension: profiles, where: 'tier == "gold"', next: not-gold}
          not-gold: {type: combine, mode: exclusion, primary: everyone, next: mail}
          mail: {type: email, content: {subject: Spring sale, body: Hi}}
    """
    graph = _campaign(doc, context)
    if graph is None:
        return
    for activity_id, activity in graph.nodes.items():
        primary = _primary(activity)
        inputs = _inputs(graph, activity_id)
        if graph.type_of(activity_id) in MERGES and primary is not None and primary not in inputs:
            theirs = f"its inputs are {_listed(inputs)}" if inputs else "nothing points at it"
            yield check_primary_not_input.finding(
                doc, doc.locate(("activities", activity_id, "primary")),
                f"`activities.{activity_id}.primary`: `{primary}` does not point at `{activity_id}` ({theirs})"
                f"{did_you_mean(primary, inputs)}",
                hint="`primary` names one of the activities whose `next` leads here")


def _primary(activity: Any) -> str | None:
    primary = activity.get("primary") if isinstance(activity, dict) else None
    return primary if isinstance(primary, str) else None
