"""Validating a document against a bundled schema; each error becomes one located finding."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from jsonschema import Draft7Validator, ValidationError, validators
from jsonschema._keywords import allOf as _standard_all_of
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7

from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath, Span, dotted
from jo_cli.schema.bundled import SCHEMA_NAMES, load_schema, schema_file_name
from jo_cli.schema.formats import FORMAT_HELP, format_checker
from jo_cli.schema.patterns import pattern_findings
from jo_cli.suggest import closest

YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF"})
PATTERN_HELP = {
    "^[a-z0-9][a-z0-9-]{0,62}$": "lowercase letters, digits and `-`, starting with a letter or digit, "
                                 "at most 63 characters",
    "^[a-z0-9][a-z0-9_-]{0,62}$": "lowercase letters, digits, `-` and `_`, starting with a letter or digit, "
                                  "at most 63 characters",
    "^[A-Za-z0-9_]{1,30}$": "letters, digits and `_`, at most 30 characters (AJO's rule for event ids)",
    "^[A-Za-z_][A-Za-z0-9_]*$": "letters, digits and `_`, not starting with a digit",
    "^[A-Za-z_][A-Za-z0-9_]{0,62}$": "letters, digits and `_`, not starting with a digit, at most 63 characters",
    "^([01][0-9]|2[0-3]):[0-5][0-9]$": "a time of day as HH:MM, like 08:00 or 21:30",
}
# When several errors land on one node, the first kind in this order is the one reported.
_PRECEDENCE = ("type", "required", "additionalProperties", "const", "enum")


def _refuse_remote(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # jo never fetches a schema (SPEC §10.2)


@cache
def _registry() -> Registry[Any]:
    resources = [
        (schema_file_name(name), Resource.from_contents(load_schema(name), default_specification=DRAFT7))
        for name in SCHEMA_NAMES
    ]
    return Registry(retrieve=_refuse_remote).with_resources(resources)  # type: ignore[call-arg]


def _dispatch_table(all_of: list[Any]) -> tuple[str, dict[str, Any]] | None:
    """`allOf` of `if {key: const} then {...}` branches, as (key, {value: then}); else None."""
    key, table = None, {}
    for branch in all_of:
        if not isinstance(branch, dict) or set(branch) != {"if", "then"}:
            return None
        condition = branch["if"]
        if set(condition) - {"type", "properties", "required"} or condition.get("type", "object") != "object":
            return None
        properties = condition.get("properties", {})
        if len(properties) != 1 or condition.get("required") != list(properties):
            return None
        [(name, test)] = properties.items()
        if set(test) != {"const"} or not isinstance(test["const"], str) or key not in (None, name):
            return None
        key, table[test["const"]] = name, branch["then"]
    return (key, table) if key is not None else None


# id(allOf list) -> (that list, its dispatch table). The schemas are cached for the
# process, so their lists live as long as this; the identity check guards reuse of ids.
_DISPATCH: dict[int, tuple[list[Any], tuple[str, dict[str, Any]] | None]] = {}


def _dispatching_all_of(validator: Any, all_of: list[Any], instance: Any, schema: Any) -> Iterator[ValidationError]:
    """`allOf` that goes straight to the one `then` whose `if` matches the `type` discriminator.

    Equivalent to draft-07's `allOf` + `if/then` for that shape (the other
    branches' `if` is false, so they add nothing), but evaluates one branch
    instead of testing every `if`: the schema stays editor-friendly, and a
    step costs one subschema rather than fourteen.
    """
    cached = _DISPATCH.get(id(all_of))
    if cached is None or cached[0] is not all_of:
        cached = _DISPATCH[id(all_of)] = (all_of, _dispatch_table(all_of))
    dispatch = cached[1]
    if dispatch is None:
        yield from _standard_all_of(validator, all_of, instance, schema)
        return
    key, table = dispatch
    if isinstance(instance, dict) and isinstance(instance.get(key), str) and instance[key] in table:
        yield from validator.descend(instance, table[instance[key]], schema_path=instance[key])


_JoValidator = validators.extend(Draft7Validator, {"allOf": _dispatching_all_of})


@cache
def validator_for(name: str) -> Draft7Validator:
    validator: Draft7Validator = _JoValidator(load_schema(name), registry=_registry(),
                                              format_checker=format_checker())
    return validator


def check_document(doc: Document, schema_name: str) -> list[Finding]:
    """Every schema violation of `doc`, one finding per offending node."""
    errors = list(validator_for(schema_name).iter_errors(doc.data))
    found = [finding for error in _most_precise(errors) for finding in _findings(doc, error)]
    return found + pattern_findings(doc, schema_name)


def _most_precise(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    by_path: dict[JsonPath, list[ValidationError]] = {}
    for error in errors:
        by_path.setdefault(tuple(error.absolute_path), []).append(error)
    for group in by_path.values():
        ranked = sorted(group, key=_rank)
        best = _rank(ranked[0])
        # One precise message per node: a wrong type says all there is to say.
        yield from (e for e in ranked if _rank(e) == best or e.validator in ("required", "additionalProperties"))


def _rank(error: ValidationError) -> int:
    keyword = str(error.validator)
    return _PRECEDENCE.index(keyword) if keyword in _PRECEDENCE else len(_PRECEDENCE)


def _findings(doc: Document, error: ValidationError) -> Iterator[Finding]:
    path = tuple(error.absolute_path)
    where = _dotted(path)
    keyword = str(error.validator)
    if "propertyNames" in error.schema_path:
        name = str(error.instance)
        yield _at(doc, doc.locate((*path, name), key=True), "JO205", f"{where}{_explain_value(error)}")
    elif keyword == "additionalProperties":
        yield from _unknown_keys(doc, path, where, error)
    elif keyword == "required":
        missing = _missing_key(error)
        if _misspelt(missing, error):
            return  # the unknown-key finding on the misspelt key already suggests it
        yield _at(doc, doc.locate(path, key=True), "JO202", f"{where}missing required key `{missing}`")
    elif keyword == "type":
        yield _type_finding(doc, path, where, error)
    elif keyword in ("enum", "const"):
        yield _choice_finding(doc, path, where, error)
    elif keyword == "not" and isinstance(error.validator_value, dict) and "required" in error.validator_value:
        keys = list(error.validator_value["required"])
        shown = " and ".join(f"`{k}`" for k in keys)
        yield _at(doc, doc.locate((*path, keys[-1]), key=True), "JO205",
                  f"{where}{shown} exclude each other; give only one")
    elif keyword in ("oneOf", "anyOf", "not"):
        yield _at(doc, doc.locate(path, key=True), "JO205", f"{where}{_combinator_message(error)}")
    else:
        yield _at(doc, doc.locate(path), "JO205", f"{where}{_explain_value(error)}")


def _unknown_keys(doc: Document, path: JsonPath, where: str, error: ValidationError) -> Iterator[Finding]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = sorted(schema.get("properties", {}))
    instance = error.instance if isinstance(error.instance, dict) else {}
    for key in instance:
        if key in allowed:
            continue
        hint = closest(key, allowed)
        allowed_text = ", ".join(f"`{a}`" for a in allowed) if allowed else "none"
        yield _at(doc, doc.locate((*path, key), key=True), "JO201",
                  f"{where}unknown key `{key}`" + (f"; did you mean `{hint}`?" if hint else ""),
                  hint=f"allowed keys: {allowed_text}")


def _type_finding(doc: Document, path: JsonPath, where: str, error: ValidationError) -> Finding:
    expected = error.validator_value
    names = expected if isinstance(expected, list) else [expected]
    wanted = " or ".join(_article(str(n)) for n in names)
    value = error.instance
    hint = None
    if isinstance(value, str) and value in YAML11_BOOLEANS and "boolean" in names:
        hint = "jo reads YAML 1.2: only `true` and `false` are booleans"
    return _at(doc, doc.locate(path), "JO203", f"{where}expected {wanted}, got {_describe(value)}", hint=hint)


def _choice_finding(doc: Document, path: JsonPath, where: str, error: ValidationError) -> Finding:
    choices = [error.validator_value] if error.validator == "const" else list(error.validator_value)
    value = error.instance
    shown = ", ".join(f"`{c}`" for c in choices)
    message = f"{where}{_describe(value)} is not " + (f"one of {shown}" if len(choices) > 1 else shown)
    hint = closest(str(value), [str(c) for c in choices]) if isinstance(value, str) else None
    if hint:
        message += f"; did you mean `{hint}`?"
    return _at(doc, doc.locate(path), "JO204", message)


def _combinator_message(error: ValidationError) -> str:
    branches = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    required = [b.get("required") for b in branches if isinstance(b, dict)]
    if required and all(r for r in required):
        keys = " or ".join(f"`{r[0]}`" for r in required if r)
        return f"give exactly one of {keys}"
    return str(error.message)


def _explain_value(error: ValidationError) -> str:
    keyword = str(error.validator)
    value = error.instance
    if keyword == "format":
        return f"{_describe(value)} is not {FORMAT_HELP.get(str(error.validator_value), error.validator_value)}"
    if keyword == "pattern":
        help_text = PATTERN_HELP.get(str(error.validator_value))
        if help_text:
            return f"{_describe(value)} is not valid: use {help_text}"
        return f"{_describe(value)} does not match `{error.validator_value}`"
    if keyword in ("maxProperties", "maxItems"):
        return f"has {len(value)} entries; at most {error.validator_value} allowed"
    if keyword in ("minProperties", "minItems"):
        return f"has {len(value)} entries; at least {error.validator_value} needed"
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bound = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[keyword]
        return f"{_describe(value)} must be {bound} {error.validator_value}"
    if keyword == "minLength":
        return "must not be empty" if error.validator_value == 1 else str(error.message)
    if keyword == "uniqueItems":
        return "has repeated entries"
    return str(error.message)


def _missing_key(error: ValidationError) -> str:
    instance = error.instance if isinstance(error.instance, dict) else {}
    for key in error.validator_value:
        if key not in instance:
            return str(key)
    return str(error.validator_value[0])


def _misspelt(missing: str, error: ValidationError) -> bool:
    instance = error.instance if isinstance(error.instance, dict) else {}
    allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    return any(closest(key, [missing]) for key in instance if key not in allowed)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean `{str(value).lower()}`"
    if isinstance(value, int | float):
        return f"the number `{value}`"
    if isinstance(value, str):
        return f"`{value}`" if len(value) <= 60 else f"`{value[:57]}...`"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _article(type_name: str) -> str:
    return {"object": "a mapping", "array": "a list", "integer": "an integer", "null": "null"}.get(
        type_name, f"a {type_name}"
    )


def _dotted(path: JsonPath) -> str:
    """The message prefix naming the node: "`steps.wait-3d`: ", or nothing at the top level."""
    return f"`{dotted(path)}`: " if path else ""


def _at(doc: Document, span: Span, code: str, message: str, *, hint: str | None = None) -> Finding:
    return Finding(path=doc.path, line=span.line, col=span.col, code=code, severity="error",
                   message=message, hint=hint, end_line=span.end_line, end_col=span.end_col)
