"""Lint rules, one module per family; importing this package registers every code."""

from __future__ import annotations

import importlib
import pkgutil

from jo_cli.findings import Finding
from jo_cli.loader import Document
from jo_cli.project_index import ProjectIndex
from jo_cli.rules.base import RULES, Rule, RuleContext

# Every module of this package but `base` is a rule family; importing it registers its codes.
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")


def run_document_rules(
    doc: Document, *, kind: str | None, expected_kind: str | None, project: ProjectIndex | None = None
) -> list[Finding]:
    """Every per-document check; each must cope with documents that failed their schema."""
    context = RuleContext(kind=kind, expected_kind=expected_kind, project=project)
    return [finding for rule in RULES.values() if rule.check for finding in rule.check(doc, context)]


__all__ = ["RULES", "Rule", "RuleContext", "run_document_rules"]
