"""Expression types (SPEC §8) and how the §5.1 data-schema subset maps onto them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

TypeName = Literal["string", "integer", "decimal", "boolean", "date", "datetime", "duration", "list", "object",
                   "any", "null"]


@dataclass(frozen=True, slots=True)
class Type:
    """A value's type; `item` for lists, `fields` (sorted name/type pairs) for objects."""

    name: TypeName
    item: Type | None = None
    fields: tuple[tuple[str, Type], ...] = ()

    def __str__(self) -> str:
        if self.name == "list":
            return f"list<{self.item}>"
        return self.name

    def field(self, name: str) -> Type | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @property
    def field_names(self) -> list[str]:
        return [key for key, _ in self.fields]

    @property
    def is_numeric(self) -> bool:
        return self.name in ("integer", "decimal")


STRING = Type("string")
INTEGER = Type("integer")
DECIMAL = Type("decimal")
BOOLEAN = Type("boolean")
DATE = Type("date")
DATETIME = Type("datetime")
DURATION = Type("duration")
ANY = Type("any")
NULL = Type("null")


def list_of(item: Type) -> Type:
    return Type("list", item=item)


def object_of(fields: Mapping[str, Type]) -> Type:
    return Type("object", fields=tuple(sorted(fields.items())))


def from_schema(schema: Any) -> Type:
    """The type of values valid for a §5.1 data schema (an unknown shape is `any`)."""
    if not isinstance(schema, dict):
        return ANY
    kind = schema.get("type")
    if kind == "string":
        return {"date": DATE, "date-time": DATETIME, "duration": DURATION}.get(str(schema.get("format")), STRING)
    if kind == "integer":
        return INTEGER
    if kind == "number":
        return DECIMAL
    if kind == "boolean":
        return BOOLEAN
    if kind == "array":
        return list_of(from_schema(schema.get("items")))
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        return object_of({k: from_schema(v) for k, v in (properties or {}).items()} if isinstance(properties, dict)
                         else {})
    return ANY


def accepts(expected: Type, actual: Type) -> bool:
    """Whether a value of type `actual` may stand where `expected` is wanted (null and any fit anywhere)."""
    if expected.name == "any" or actual.name in ("any", "null"):
        return True
    if expected.name == "decimal" and actual.name == "integer":
        return True
    if expected.name == "list" and actual.name == "list":
        return accepts(expected.item or ANY, actual.item or ANY)
    return expected.name == actual.name
