"""Text for `jo explain`."""

from __future__ import annotations

from collections.abc import Iterable

from jo_cli.rules import Rule


def render_rule(rule: Rule) -> str:
    body = rule.doc.split("\n", 1)[1].strip() if "\n" in rule.doc else ""
    prose = body.split("\nFails:")[0].strip()
    parts = [f"{rule.code} {rule.name} ({rule.severity})", "", rule.summary]
    if prose:
        parts += ["", prose]
    for label in ("Fails", "Passes"):
        example = rule.example(label)
        parts += ["", f"{label} ({rule.example_path}):", *(f"    {line}" for line in example.splitlines())]
    return "\n".join(parts) + "\n"


def render_rule_list(rules: Iterable[Rule]) -> str:
    ordered = sorted(rules, key=lambda r: r.code)
    return "".join(f"{r.code}  {r.severity:<7}  {r.name:<16}  {r.summary}\n" for r in ordered)
