"""JO501-JO509: names a journey or campaign uses must exist in the project (SPEC §4, §5.2, §5.3, §6.4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath
from jo_cli.project_index import ProjectIndex
from jo_cli.rules.base import Rule, RuleContext, rule
from jo_cli.suggest import did_you_mean

CHANNEL_ACTIVITIES = ("email", "sms", "push")
PROJECT = """
    kind: project
    name: shop
    timezone: Europe/Paris
    profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}
    channels:
      email: {address: email}
    actions:
      crm-task: {url: "https://crm.example/api/tasks"}
    rules:
      default: {capping: [{channels: [email], max: 3, per: P7D}]}
"""
CONTEXT = {
    "jo.yaml": PROJECT,
    "audiences/gold.yaml": "kind: audience\nid: gold\nwhere: profile.tier == \"gold\"",
    "events/signed_up.yaml": (
        "kind: event\nid: signed_up\nkey: id\nschema: {type: object, properties: {id: {type: string}}}"
    ),
    "events/sale_started.yaml": "kind: event\nid: sale_started\nschema: {type: object, properties: {}}",
    "journeys/follow-up.yaml": (
        "kind: journey\nid: follow-up\nentry: {type: event, event: signed_up, next: end}\nsteps: {}"
    ),
}


def entries_and_steps(doc: Document) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """The entry and every step of a journey, each with its JSON path."""
    data = doc.data if isinstance(doc.data, dict) else {}
    if isinstance(data.get("entry"), dict):
        yield ("entry",), data["entry"]
    steps = data.get("steps")
    for step_id, step in (steps or {}).items() if isinstance(steps, dict) else ():
        if isinstance(step, dict):
            yield ("steps", step_id), step


def activities(doc: Document) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    data = doc.data if isinstance(doc.data, dict) else {}
    found = data.get("activities")
    for activity_id, activity in (found or {}).items() if isinstance(found, dict) else ():
        if isinstance(activity, dict):
            yield ("activities", activity_id), activity


def _unknown(this: Rule, doc: Document, path: JsonPath, what: str, name: str, known: set[str],
             where: str) -> Finding:
    hint = f"declared {what}s: {', '.join(sorted(known))}" if known else f"the project declares no {what}"
    return this.finding(doc, doc.locate(path), f"unknown {what} `{name}`{did_you_mean(name, known)}",
                        hint=f"{hint} ({where})")


def _project(context: RuleContext, kinds: tuple[str, ...]) -> ProjectIndex | None:
    return context.project if context.kind in kinds and context.project is not None else None


@rule("JO501", "unknown-audience", "error", example_context=CONTEXT)
def check_audiences(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """An entry names an audience that no file in audiences/ (or campaign save-audience) defines.

    Audience, audience-qualification and business-event entries read an
    audience by id (AJO: the audience must exist before the journey is published).

    Fails:
        kind: journey
        id: welcome
        entry: {type: audience, audience: glod, next: end}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: audience, audience: gold, next: end}
        steps: {}
    """
    project = _project(context, ("journey",))
    if project is None:
        return
    for path, node in entries_and_steps(doc):
        name = node.get("audience")
        if isinstance(name, str) and name not in project.audiences:
            yield _unknown(check_audiences, doc, (*path, "audience"), "audience", name, project.audiences,
                           "audiences/*.yaml")


@rule("JO502", "unknown-event", "error", example_context=CONTEXT)
def check_events(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """An entry or wait-event step names an event that no file in events/ defines.

    Events are declared once with their payload schema (`kind: event`) so
    that `event.*` fields can be checked and incoming lines validated.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_in, next: end}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        steps: {}
    """
    project = _project(context, ("journey",))
    if project is None:
        return
    events = project.ids("event")
    for path, node in entries_and_steps(doc):
        name = node.get("event")
        if isinstance(name, str) and node.get("type") in ("event", "business-event", "wait-event") \
                and name not in events:
            yield _unknown(check_events, doc, (*path, "event"), "event", name, set(events), "events/*.yaml")


@rule("JO503", "event-identity", "error", example_context=CONTEXT)
def check_event_identity(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A business-event entry needs an event without `key`; event entries and wait-event steps need one with `key`.

    AJO: a unitary event carries the profile's identity; a business event
    does not (the journey reads its audience instead).

    Fails:
        kind: journey
        id: flash-sale
        entry: {type: business-event, event: signed_up, audience: gold, next: end}
        steps: {}
    Passes:
        kind: journey
        id: flash-sale
        entry: {type: business-event, event: sale_started, audience: gold, next: end}
        steps: {}
    """
    project = _project(context, ("journey",))
    if project is None:
        return
    events = project.ids("event")
    for path, node in entries_and_steps(doc):
        name = node.get("event")
        if not isinstance(name, str) or name not in events or not isinstance(events[name].doc.data, dict):
            continue
        keyed = "key" in events[name].doc.data
        if node.get("type") == "business-event" and keyed:
            yield check_event_identity.finding(doc, doc.locate((*path, "event")),
                                               f"`{name}` has a `key`, so it is a unitary event, not a business event",
                                               hint="use `type: event`, or drop `key` from the event")
        elif node.get("type") in ("event", "wait-event") and not keyed:
            yield check_event_identity.finding(doc, doc.locate((*path, "event")),
                                               f"`{name}` has no `key`: it is a business event and names no profile",
                                               hint="give the event a `key`, or use a business-event entry")


@rule("JO506", "unknown-action", "error", example_context=CONTEXT)
def check_actions(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """An action step names an action that jo.yaml's `actions` does not declare.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: task}
        steps:
          task: {type: action, action: crm-tsak, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: task}
        steps:
          task: {type: action, action: crm-task, next: end}
    """
    project = _project(context, ("journey",))
    if project is None:
        return
    actions = set(project.section("actions"))
    for path, node in entries_and_steps(doc):
        name = node.get("action")
        if node.get("type") == "action" and isinstance(name, str) and name not in actions:
            yield _unknown(check_actions, doc, (*path, "action"), "action", name, actions, "jo.yaml `actions`")


@rule("JO507", "unknown-channel", "error", example_context=CONTEXT)
def check_channels(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A message step or channel activity uses a channel that jo.yaml's `channels` does not configure.

    A channel needs its address field, consent field and delivery in jo.yaml.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: email, content: {subject: Hi, body: Hello}, next: end}
    """
    project = _project(context, ("journey", "campaign"))
    if project is None:
        return
    channels = set(project.section("channels"))
    if context.kind == "journey":
        for path, node in entries_and_steps(doc):
            name = node.get("channel")
            if node.get("type") == "message" and isinstance(name, str) and name not in channels:
                yield _unknown(check_channels, doc, (*path, "channel"), "channel", name, channels, "jo.yaml `channels`")
    else:
        for path, node in activities(doc):
            name = node.get("type")
            if name in CHANNEL_ACTIVITIES and name not in channels:
                yield _unknown(check_channels, doc, (*path, "type"), "channel", str(name), channels,
                               "jo.yaml `channels`")


@rule("JO508", "unknown-rule-set", "error", example_context=CONTEXT)
def check_rule_sets(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A journey, step or activity names a business rule set that jo.yaml's `rules` does not declare.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {rules: defualt}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {rules: default}
        steps: {}
    """
    project = _project(context, ("journey", "campaign"))
    if project is None or not isinstance(doc.data, dict):
        return
    rule_sets = set(project.section("rules"))
    named: list[tuple[JsonPath, Any]] = []
    settings = doc.data.get("settings")
    if isinstance(settings, dict):
        named.append((("settings", "rules"), settings.get("rules")))
    nodes = entries_and_steps(doc) if context.kind == "journey" else activities(doc)
    named.extend(((*path, "rules"), node.get("rules")) for path, node in nodes)
    for path, name in named:
        if isinstance(name, str) and name not in rule_sets:
            yield _unknown(check_rule_sets, doc, path, "rule set", name, rule_sets, "jo.yaml `rules`")


@rule("JO509", "unknown-journey", "error", example_context=CONTEXT)
def check_jump_targets(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A jump step names a journey id that no file in journeys/ defines.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: folow-up, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: follow-up, next: end}
    """
    project = _project(context, ("journey",))
    if project is None:
        return
    journeys = project.ids("journey")
    for path, node in entries_and_steps(doc):
        name = node.get("journey")
        if node.get("type") == "jump" and isinstance(name, str) and name not in journeys:
            yield _unknown(check_jump_targets, doc, (*path, "journey"), "journey", name, set(journeys),
                           "journeys/*.yaml")
