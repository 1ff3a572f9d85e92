"""`pattern`s of data and event payload schemas compile with RE2, as the readers will (SPEC §5.1, §8).

The CSV reader refuses a file whose schema has an unusable pattern (exit 2)
through `regex_problem`; this check uses that same function, so `jo
validate` passes exactly the patterns a run can compile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jo_cli.expr.functions_text import regex_problem
from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath, dotted

HINT = "patterns are RE2 (linear time): no backreferences (`\\1`) or lookarounds (`(?=...)`)"


def pattern_findings(doc: Document, schema_name: str) -> list[Finding]:
    """JO205 at every `pattern` RE2 refuses, in a data schema or an event's `schema:` (nested fields too)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    if schema_name == "data":
        return list(_walk(doc, data, ()))
    if schema_name == "event" and isinstance(data.get("schema"), dict):
        return list(_walk(doc, data["schema"], ("schema",)))
    return []


def _walk(doc: Document, schema: dict[str, Any], path: JsonPath) -> Iterator[Finding]:
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        problem = regex_problem(pattern)
        if problem is not None:
            span = doc.locate((*path, "pattern"))
            yield Finding(path=doc.path, line=span.line, col=span.col, code="JO205", severity="error",
                          message=f"`{dotted((*path, 'pattern'))}`: {problem}", hint=HINT,
                          end_line=span.end_line, end_col=span.end_col)
    properties = schema.get("properties")
    for name, sub in properties.items() if isinstance(properties, dict) else ():
        if isinstance(sub, dict):
            yield from _walk(doc, sub, (*path, "properties", name))
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _walk(doc, items, (*path, "items"))
