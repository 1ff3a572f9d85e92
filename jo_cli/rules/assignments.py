"""JO412-JO414: values a step writes into a schema: a jump's `params`, an update-profile's `set` (SPEC §6.4).

A jump's `params` are the payload of the event the target journey's entry
listens to, typed against that event's schema; the jump fills the event's
`key` field itself (it enters the same profile), so that field never needs
a param. An update-profile's `set` writes profile fields (dotted paths) of
the profile data schema. Each value is an expression (or a YAML constant)
whose type must fit the field's: an integer fits a decimal, and `null` fits
any field that is not required.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jo_cli.expr.checker import Scope, check
from jo_cli.expr.parser import ExprSyntaxError, parse
from jo_cli.expr.types import BOOLEAN, DECIMAL, INTEGER, NULL, Type, accepts, from_schema
from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath
from jo_cli.project_index import PROFILES, ProjectIndex
from jo_cli.rules.base import RuleContext, declare, rule
from jo_cli.rules.expressions import journey_scope
from jo_cli.rules.references import entries_and_steps
from jo_cli.rules.references_data import DATA_CONTEXT
from jo_cli.suggest import did_you_mean

ASSIGN_CONTEXT = {
    **DATA_CONTEXT,
    "events/order_placed.yaml": (
        "kind: event\nid: order_placed\nkey: customer_id\n"
        "schema: {type: object, properties: {customer_id: {type: string}, total: {type: number}, "
        "coupon: {type: string}}, required: [customer_id, total]}"
    ),
    "journeys/checkout.yaml": (
        "kind: journey\nid: checkout\nentry: {type: event, event: order_placed, next: end}\nsteps: {}"
    ),
}
# How a value of one type becomes another (§8 conversion functions), for the hint.
_CONVERSIONS = {"string": "toString", "integer": "toInteger", "decimal": "toDecimal", "boolean": "toBool",
                "datetime": "toDateTime", "date": "toDateOnly", "duration": "toDuration"}


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one step's values go: a schema, what messages call it, and the fields the step fills itself."""

    schema: dict[str, Any]
    label: str  # "the payload of `order_placed` (the entry event of journey `checkout`)"
    filled: frozenset[str] = frozenset()
    # The event's key (an identity the jump fills itself), for JO414's hint.
    key: str | None = None


@dataclass(frozen=True, slots=True)
class _Issue:
    code: str
    path: JsonPath
    key: bool  # at the field's name rather than its value
    message: str
    hint: str | None = None


@rule("JO412", "unknown-assigned-field", "error", example_context=ASSIGN_CONTEXT)
def check_assigned_fields(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A jump's `params` or an update-profile's `set` names a field its schema does not have.

    A jump's params are the payload of the target journey's entry event: each
    name is a field of that event's schema. An update-profile's `set` names
    profile fields of the profile data schema, dotted for nested ones
    (`consent.email`).

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: checkout, params: {totl: 10}, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hop}
        steps:
          hop: {type: jump, journey: checkout, params: {total: 10}, next: end}
    """
    project = context.project
    if project is None or context.kind != "journey":
        return
    for issue in _issues(doc, project):
        rule_ = RULES_BY_CODE.get(issue.code, check_assigned_fields)
        yield rule_.finding(doc, doc.locate(issue.path, key=issue.key), issue.message, hint=issue.hint)


def _issues(doc: Document, project: ProjectIndex) -> Iterator[_Issue]:
    scope: Scope | None = None
    for path, step in entries_and_steps(doc):
        kind = step.get("type")
        field = "params" if kind == "jump" else "set" if kind == "update-profile" else None
        if field is None or path[0] != "steps":
            continue
        target = _jump_target(project, step) if kind == "jump" else _profile_target(project)
        if target is None:
            continue  # an unknown journey, event or schema is another rule's finding
        values: dict[str, Any] = step[field] if isinstance(step.get(field), dict) else {}
        scope = scope or journey_scope(doc, project)
        for name, value in values.items():
            yield from _check_value(target, (*path, field, name), str(name), value, scope,
                                    dotted=kind == "update-profile")
        if kind == "jump":
            yield from _missing(target, path, step, values)


def _jump_target(project: ProjectIndex, step: dict[str, Any]) -> _Target | None:
    journey = project.ids("journey").get(str(step.get("journey")))
    data: dict[str, Any] = journey.doc.data if journey is not None and isinstance(journey.doc.data, dict) else {}
    entry: dict[str, Any] = data["entry"] if isinstance(data.get("entry"), dict) else {}
    if entry.get("type") != "event":
        return None  # JO509 (no such journey) or JO350 (not an event entry)
    event = project.ids("event").get(str(entry.get("event")))
    declared: dict[str, Any] = event.doc.data if event is not None and isinstance(event.doc.data, dict) else {}
    schema = declared.get("schema")
    if not isinstance(schema, dict):
        return None  # JO502, or the event's own schema finding
    key = declared.get("key")
    filled = frozenset({key.split(".")[0]}) if isinstance(key, str) and key else frozenset()
    label = f"the payload of `{entry.get('event')}` (the entry event of journey `{step.get('journey')}`)"
    return _Target(schema, label, filled, key if isinstance(key, str) else None)


def _profile_target(project: ProjectIndex) -> _Target | None:
    schema = project.data_schema(PROFILES)
    return _Target(schema, "the profile schema") if schema is not None else None


def _check_value(target: _Target, path: JsonPath, name: str, value: Any, scope: Scope, *,
                 dotted: bool) -> Iterator[_Issue]:
    parts = name.split(".") if dotted else [name]
    schema, required = target.schema, False
    walked: list[str] = []
    for part in parts:
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else None
        if properties is None and (not walked or schema.get("type") == "object"):
            properties = {}  # an object that declares no fields
        if properties is None:
            what = from_schema(schema)
            yield _Issue("JO412", path, True, f"`{'.'.join(walked)}` is {_a(what)} field of {target.label} and has "
                         f"no field `{part}`")
            return
        if part not in properties:
            where = f"`{'.'.join(walked)}` in {target.label}" if walked else target.label
            known = sorted(properties)
            yield _Issue("JO412", path, True, f"{where} has no field `{part}`{did_you_mean(part, known)}",
                         hint=f"fields: {', '.join(known)}" if known else "it declares no fields")
            return
        required = part in (schema.get("required") or [])
        schema = properties[part] if isinstance(properties[part], dict) else {}
        walked.append(part)
    expected = from_schema(schema)
    actual = _value_type(value, scope)
    if actual is None:
        return
    field = f"`{name}`"
    if actual == NULL:
        # `null` empties a field: fine unless the schema requires it (a required profile column, a payload
        # field the event's schema needs).
        if required:
            yield _Issue("JO413", path, False, f"{field} is required by {target.label}: it cannot be null")
        return
    if not accepts(expected, actual):
        convert = _CONVERSIONS.get(expected.name)
        yield _Issue("JO413", path, False,
                     f"{field} is {_a(expected)} field of {target.label}, but this value gives {_a(actual)}",
                     hint=f"convert it: `{convert}(...)`" if convert else None)


def _a(kind: Type) -> str:
    return f"an {kind}" if str(kind)[0] in "aeiou" else f"a {kind}"


def _value_type(value: Any, scope: Scope) -> Type | None:
    """The type of a YAML constant or an expression; None when it does not parse (JO401 says so)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return DECIMAL
    if not isinstance(value, str):
        return None  # the schema check reports a list or a mapping
    try:
        tree = parse(value)
    except ExprSyntaxError:
        return None
    found, _ = check(tree, scope)  # its own errors are JO4xx findings of the expression check
    return found


def _missing(target: _Target, path: JsonPath, step: dict[str, Any], values: dict[str, Any]) -> Iterator[_Issue]:
    required = target.schema.get("required")
    for name in required if isinstance(required, list) else ():
        if isinstance(name, str) and name not in values and name not in target.filled:
            at = (*path, "params") if "params" in step else (*path, "journey")
            filled = f"; the jump fills `{target.key}` (the event's key) with the profile's identity itself" \
                if target.key else ""
            yield _Issue("JO414", at, "params" in step,
                         f"{target.label} requires `{name}`: give it in `params`",
                         hint=f"params: {{{name}: <expression>}}{filled}")


RULES_BY_CODE = {
    "JO413": declare("JO413", "assigned-type", "error", """
        A jump param or an update-profile `set` value does not fit the type of its field.

        The value's type comes from the expression (or YAML constant): a text
        into an integer field, a number into a boolean, ... An integer fits a
        decimal field; `null` fits any field the schema does not require.
        Convert with `toInteger`, `toDecimal`, `toString`, `toBool`, ...

        Fails:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: mark}
            steps:
              mark: {type: update-profile, set: {consent.email: profile.tier}, next: end}
        Passes:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: mark}
            steps:
              mark: {type: update-profile, set: {consent.email: 'profile.tier == "gold"'}, next: end}
    """, example_context=ASSIGN_CONTEXT),
    "JO414": declare("JO414", "missing-jump-param", "error", """
        A jump gives no param for a field the target event's payload requires.

        The target journey's entry reads the payload of its event, which must
        pass that event's schema. The jump fills the event's `key` field with
        the profile's identity itself (it enters the same profile); every other
        required field is a param.

        Fails:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: hop}
            steps:
              hop: {type: jump, journey: checkout, next: end}
        Passes:
            kind: journey
            id: welcome
            entry: {type: event, event: signed_up, next: hop}
            steps:
              hop: {type: jump, journey: checkout, params: {total: 0}, next: end}
    """, example_context=ASSIGN_CONTEXT),
}
