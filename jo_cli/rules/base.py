"""The one registry of rule codes: what `jo explain` prints and `jo validate` emits (SPEC §10.3)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jo_cli.findings import Finding, Severity
from jo_cli.loader import Document, Span

if TYPE_CHECKING:
    from jo_cli.project_index import ProjectIndex


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a per-document rule may know besides the document itself."""

    kind: str | None
    expected_kind: str | None
    # The project the document belongs to, for checks across files; None outside a project.
    project: ProjectIndex | None = None


DEFAULT_EXAMPLE_PATH = "journeys/example.yaml"

Check = Callable[[Document, RuleContext], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    doc: str
    # None for codes the loader or the schema check emits themselves.
    check: Check | None = None
    # The file the docstring's examples are written as (for the example tests and `jo explain`).
    example_path: str = DEFAULT_EXAMPLE_PATH
    # Other project files the examples need, as (path, text): e.g. jo.yaml and an audience.
    example_context: tuple[tuple[str, str], ...] = ()

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]

    def example(self, label: str) -> str:
        """The dedented `Fails:` or `Passes:` block of the docstring."""
        match = re.search(rf"^{label}:\n((?:(?:    .*)?\n)+)", self.doc + "\n", re.MULTILINE)
        if match is None:
            raise KeyError(f"{self.code} has no {label} example")
        return inspect.cleandoc("\n" + match.group(1)).rstrip() + "\n"

    def finding(self, doc: Document, span: Span, message: str, *, hint: str | None = None) -> Finding:
        return Finding(path=doc.path, line=span.line, col=span.col, code=self.code, severity=self.severity,
                       message=message, hint=hint, end_line=span.end_line, end_col=span.end_col)


RULES: dict[str, Rule] = {}


def declare(code: str, name: str, severity: Severity, doc: str, *, example_path: str | None = None,
            example_context: dict[str, str] | None = None) -> Rule:
    """Register a code that another check emits (the loader, the schema check, the expression check)."""
    context = tuple((path, inspect.cleandoc(text) + "\n") for path, text in (example_context or {}).items())
    rule = Rule(code, name, severity, inspect.cleandoc(doc), example_path=example_path or DEFAULT_EXAMPLE_PATH,
                example_context=context)
    _register(rule)
    return rule


def rule(
    code: str,
    name: str,
    severity: Severity,
    *,
    example_path: str = DEFAULT_EXAMPLE_PATH,
    example_context: dict[str, str] | None = None,
) -> Callable[[Check], Rule]:
    """Register a per-document check; its docstring is the rule's documentation."""

    def wrap(check: Check) -> Rule:
        context = tuple((path, inspect.cleandoc(text) + "\n") for path, text in (example_context or {}).items())
        registered = Rule(code, name, severity, inspect.cleandoc(check.__doc__ or ""), check=check,
                          example_path=example_path, example_context=context)
        _register(registered)
        return registered

    return wrap


def _register(rule: Rule) -> None:
    if rule.code in RULES:
        raise RuntimeError(f"rule code {rule.code} registered twice")
    RULES[rule.code] = rule
