"""Findings: what `jo validate` reports, as plain values (SPEC §10.3)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    severity: Severity
    message: str
    hint: str | None = None
    end_line: int | None = None
    end_col: int | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.col, self.code, self.message)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Every finding of one `jo validate` call, with the files it looked at."""

    findings: tuple[Finding, ...]
    files_checked: int
    files_skipped: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


def sorted_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(set(findings), key=lambda f: f.sort_key))


def promote_warnings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """`--strict`: every warning becomes an error."""
    return tuple(replace(f, severity="error") if f.severity == "warning" else f for f in findings)
