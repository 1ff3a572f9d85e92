"""JO401-JO411: every expression parses and type-checks against the project's schemas (SPEC §8, §10.3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from typing import Literal as TypingLiteral

from jo_cli.expr.checker import JOURNEY_FIELDS, Scope, check
from jo_cli.expr.parser import ExprSyntaxError, parse
from jo_cli.expr.types import ANY, BOOLEAN, DATETIME, INTEGER, Type, accepts, from_schema, object_of
from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath
from jo_cli.project_index import PROFILES, ProjectIndex
from jo_cli.rules.base import RuleContext, declare, rule
from jo_cli.rules.references import entries_and_steps
from jo_cli.rules.references_data import DATA_CONTEXT, activities_with_table
from jo_cli.rules.scalars import locate_in_value

Role = TypingLiteral["condition", "datetime", "value"]
EXPR_CONTEXT = {**DATA_CONTEXT}


def expressions(doc: Document, kind: str | None) -> Iterator[tuple[JsonPath, Any, Role]]:
    """Every expression of a journey or audience with its JSON path and what it must produce."""
    data = doc.data if isinstance(doc.data, dict) else {}
    if kind == "audience" and "where" in data:
        yield ("where",), data["where"], "condition"
    if kind != "journey":
        return
    settings = data.get("settings")
    if isinstance(settings, dict) and "exit_when" in settings:
        yield ("settings", "exit_when"), settings["exit_when"], "condition"
    for path, node in entries_and_steps(doc):
        if "where" in node:
            yield (*path, "where"), node["where"], "condition"
        if node.get("type") == "wait" and "until" in node:
            yield (*path, "until"), node["until"], "datetime"
        for index, branch in enumerate(node.get("paths") or [] if isinstance(node.get("paths"), list) else []):
            if isinstance(branch, dict) and "when" in branch:
                yield (*path, "paths", index, "when"), branch["when"], "condition"
        for field in ("params", "set"):
            values = node.get(field)
            for name, value in (values or {}).items() if isinstance(values, dict) else ():
                yield (*path, field, name), value, "value"


def journey_scope(doc: Document, project: ProjectIndex, *, event: str | None = None) -> Scope:
    """profile, event (the entry's and every wait-event's payload, or one event), journey, actions."""
    roots: dict[str, Type] = {"profile": table_type(project, PROFILES), "journey": JOURNEY_FIELDS,
                              "actions": ANY}
    names = [event] if event else [n.get("event") for _, n in entries_and_steps(doc)
                                   if n.get("type") in ("event", "business-event", "wait-event")]
    payloads = [_event_type(project, name) for name in names if isinstance(name, str)]
    if any(p is None for p in payloads):
        roots["event"] = ANY  # an unknown event is JO502's finding; its fields cannot be checked
    elif payloads:
        fields: dict[str, Type] = {}
        for payload in payloads:
            fields.update(payload.fields if payload else ())
        roots["event"] = object_of(fields)
    reason = None if payloads else "this journey has no event entry and no wait-event step"
    return Scope(roots=roots, no_event_reason=reason, audiences=frozenset(project.audiences))


def campaign_expressions(doc: Document, project: ProjectIndex) -> Iterator[tuple[JsonPath, Any, Role, Scope]]:
    """Every expression of a campaign, in the scope of the table its activity reads (SPEC §9.1)."""
    seen: set[JsonPath] = set()
    for path, node, table in activities_with_table(doc, project):
        if path in seen:
            continue
        seen.add(path)
        if node.get("type") == "build-audience":
            table = str(node.get("dimension"))
        scope = table_scope(project, table)
        if "where" in node:
            yield (*path, "where"), node["where"], "condition", scope
        for index, subset in enumerate(node.get("subsets") or [] if isinstance(node.get("subsets"), list) else []):
            if isinstance(subset, dict) and "where" in subset:
                yield (*path, "subsets", index, "where"), subset["where"], "condition", scope
        added = node.get("add")
        for name, value in (added or {}).items() if isinstance(added, dict) else ():
            yield (*path, "add", name), value, "value", scope
        if node.get("type") == "test":
            counted = Scope(row=object_of({"count": INTEGER}))
            for index, branch in enumerate(node.get("paths") or [] if isinstance(node.get("paths"), list) else []):
                if isinstance(branch, dict) and "when" in branch:
                    yield (*path, "paths", index, "when"), branch["when"], "condition", counted


def table_scope(project: ProjectIndex, table: str) -> Scope:
    """A campaign row of `table`: its columns by name, its links for exists/count/sum/avg/min/max."""
    links = project.links.get(table, {})
    rows = {name: table_type(project, link.target) for name, link in links.items()}
    to_one = {name: rows[name] for name, link in links.items() if link.cardinality != "one-to-many"}
    return Scope(row=table_type(project, table), links=rows, to_one=to_one,
                 audiences=frozenset(project.audiences))


def table_type(project: ProjectIndex, table: str) -> Type:
    """The row type of `profiles` or an entity, built once per run."""
    key = f"type:{table}"
    if key not in project.memo:
        project.memo[key] = from_schema(project.data_schema(table))
    found: Type = project.memo[key]
    return found


def _event_type(project: ProjectIndex, name: str) -> Type | None:
    item = project.ids("event").get(name)
    data = item.doc.data if item is not None and isinstance(item.doc.data, dict) else None
    return from_schema(data.get("schema")) if data is not None else None


def check_text(text: Any, scope: Scope, role: Role) -> list[tuple[str, str, int, int]]:
    """(code, message, start, end) of everything wrong with one expression."""
    if isinstance(text, bool) or text is None or not isinstance(text, str):
        return []  # a YAML literal is a constant; the schema checks its type
    try:
        tree = parse(text)
    except ExprSyntaxError as exc:
        return [("JO401", f"syntax error: {exc.message}", exc.start, exc.end)]
    found, issues = check(tree, scope)
    problems = [(i.code, i.message, i.start, i.end) for i in issues]
    if role == "condition" and not accepts(BOOLEAN, found):
        problems.append(("JO406", f"a condition must be a boolean, not {found}", 0, len(text)))
    elif role == "datetime" and not accepts(DATETIME, found):
        problems.append(("JO407", f"`until` must give a datetime, not {found}", 0, len(text)))
    return problems


@rule("JO401", "expression-syntax", "error", example_context=EXPR_CONTEXT)
def check_expressions(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """An expression does not parse (an unclosed parenthesis, a stray operator, `AND` in capitals, ...).

    Operators are lowercase (`and`, `or`, `not`), strings are quoted, and
    `if` needs its parentheses: `if (c) then (a) else (b)` (AJO's syntax).

    Fails:
        kind: audience
        id: gold
        where: profile.email is not null and (profile.consent.email
    Passes:
        kind: audience
        id: gold
        where: profile.email is not null and (profile.consent.email)
    """
    project = context.project
    if project is None or context.kind not in ("journey", "audience", "campaign"):
        return
    for path, text, role, scope in _scoped_expressions(doc, context.kind, project):
        span = doc.locate(path)
        for code, message, start, end in check_text(text, scope, role):
            rule_ = EXPRESSION_RULES.get(code, check_expressions)
            yield rule_.finding(doc, locate_in_value(doc, span, text, start, end), message)


def _scoped_expressions(doc: Document, kind: str, project: ProjectIndex) -> Iterator[
        tuple[JsonPath, Any, Role, Scope]]:
    if kind == "campaign":
        yield from campaign_expressions(doc, project)
        return
    if kind == "audience":
        scope = Scope(roots={"profile": table_type(project, PROFILES)},
                      audiences=frozenset(project.audiences))
    else:
        scope = journey_scope(doc, project)
    for path, text, role in expressions(doc, kind):
        local = scope
        if kind == "journey" and path[-1] == "where" and path[0] == "steps":
            node = doc.data["steps"][path[1]] if isinstance(doc.data, dict) else {}
            local = journey_scope(doc, project, event=node.get("event"))
        yield path, text, role, local


def _declare(code: str, name: str, doc: str, *, path: str = "audiences/example.yaml") -> Any:
    return declare(code, name, "error", doc, example_path=path, example_context=EXPR_CONTEXT)


EXPRESSION_RULES = {
    "JO402": _declare("JO402", "unknown-field", """
        An expression reads a field the schema does not have (with "did you mean").

        Fields come from data/profiles.schema.json (`profile.*`), the event's
        payload schema (`event.*`) and `journey.id|version|step|entered_at`.

        Fails:
            kind: audience
            id: gold
            where: profile.emial is not null
        Passes:
            kind: audience
            id: gold
            where: profile.email is not null
    """),
    "JO403": _declare("JO403", "unknown-function", """
        An expression calls a function jo does not have (names are AJO's, case-sensitive).

        Fails:
            kind: audience
            id: gold
            where: startsWith(profile.email, "ada")
        Passes:
            kind: audience
            id: gold
            where: startWith(profile.email, "ada")
    """),
    "JO404": _declare("JO404", "function-arguments", """
        A function gets the wrong number or types of arguments.

        Fails:
            kind: audience
            id: gold
            where: contain(profile.email)
        Passes:
            kind: audience
            id: gold
            where: contain(profile.email, "@acme")
    """),
    "JO405": _declare("JO405", "type-mismatch", """
        An operator gets values it cannot combine: ordering a string against a number, text arithmetic, ...

        Ordering compares numbers with numbers (integers and decimals mix) or
        two values of one type (strings, dates, datetimes, durations).

        Fails:
            kind: audience
            id: gold
            where: profile.email > 5
        Passes:
            kind: audience
            id: gold
            where: profile.email > "m"
    """),
    "JO406": _declare("JO406", "not-a-condition", """
        A condition (`when`, `where`, `exit_when`, an operand of `and`/`or`/`not`) is not a boolean.

        A null condition counts as false at run time, but a text or a number is
        a mistake: compare it with something.

        Fails:
            kind: audience
            id: gold
            where: profile.email
        Passes:
            kind: audience
            id: gold
            where: profile.email is not null
    """),
    "JO407": _declare("JO407", "until-not-datetime", """
        A wait's `until` does not give a datetime.

        Fails:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: pause}
            steps:
              pause: {type: wait, until: 'profile.email', next: end}
        Passes:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: pause}
            steps:
              pause: {type: wait, until: 'now() + duration("P3D")', next: end}
    """, path="journeys/example.yaml"),
    "JO408": _declare("JO408", "constant-argument", """
        An argument that must be a string constant is not one, or is not valid (a time zone, a date literal).

        Time zones of `updateTimeZone`, `nowWithDelta` units, audience names (which
        must exist) and the `date`/`datetime`/`duration` literals are written as
        constants; a regular expression written as a constant may not use
        backreferences (RE2).

        Fails:
            kind: audience
            id: gold
            where: inAudience(profile.email)
        Passes:
            kind: audience
            id: gold
            where: inAudience("gold")
    """),
    "JO409": _declare("JO409", "inexact-duration", """
        A duration uses years or months, which have no fixed length.

        Durations are exact in jo and AJO (P1D is 24 hours); write days.

        Fails:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: pause}
            steps:
              pause: {type: wait, until: 'now() + duration("P1M")', next: end}
        Passes:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: pause}
            steps:
              pause: {type: wait, until: 'now() + duration("P30D")', next: end}
    """, path="journeys/example.yaml"),
    "JO411": _declare("JO411", "no-event", """
        An expression reads `event` in a journey where no event ever arrives.

        `event.*` exists after an event or business-event entry and after a
        wait-event step; an audience journey has none.

        Fails:
            kind: journey
            id: welcome
            entry: {type: audience, audience: gold, next: check}
            steps:
              check:
                type: condition
                paths: [{name: big, when: event.total > 100, next: end}]
                otherwise: end
        Passes:
            kind: journey
            id: welcome
            entry: {type: audience, audience: gold, next: check}
            steps:
              check:
                type: condition
                paths: [{name: gold, when: profile.email is not null, next: end}]
                otherwise: end
    """, path="journeys/example.yaml"),
}
