"""Reporters for `jo validate`: one class per format, all fed the same result (SPEC §10.1)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import groupby
from typing import Any, ClassVar

from jo_cli import __version__
from jo_cli.findings import CheckResult, Finding
from jo_cli.rules import RULES


class Reporter:
    name: ClassVar[str]

    def __init__(self, sources: Mapping[str, str] | None = None) -> None:
        self.sources = sources or {}

    def render(self, result: CheckResult) -> str:
        raise NotImplementedError


class ConciseReporter(Reporter):
    """`path:line:col: CODE severity message`, one line each: for editors and problem matchers."""

    name = "concise"

    def render(self, result: CheckResult) -> str:
        return "".join(
            f"{f.path}:{f.line}:{f.col}: {f.code} {f.severity} {f.message}\n" for f in result.findings
        )


class TextReporter(Reporter):
    """Findings grouped per file with the offending line and a caret, then a summary."""

    name = "text"

    def render(self, result: CheckResult) -> str:
        out: list[str] = []
        for path, findings in groupby(result.findings, key=lambda f: f.path):
            out.append(path)
            lines = self.sources.get(path, "").splitlines()
            for f in findings:
                out.append(f"  {f.line}:{f.col}  {f.severity:<7}  {f.code}  {f.message}")
                out.extend(_snippet(f, lines))
                if f.hint:
                    out.append(f"      = hint: {f.hint}")
            out.append("")
        out.append(_summary(result))
        return "\n".join(out) + "\n"


class JsonReporter(Reporter):
    name = "json"

    def render(self, result: CheckResult) -> str:
        document = {
            "version": 1,
            "status": "fail" if result.errors else "pass",
            "files_checked": result.files_checked,
            "files_skipped": result.files_skipped,
            "errors": result.errors,
            "warnings": result.warnings,
            "findings": [_as_json(f) for f in result.findings],
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: annotations on the pull request's lines."""

    name = "github"

    def render(self, result: CheckResult) -> str:
        out = []
        for f in result.findings:
            props = [f"file={_gh_property(f.path)}", f"line={f.line}", f"col={f.col}"]
            if f.end_line is not None and f.end_col is not None:
                props += [f"endLine={f.end_line}", f"endColumn={f.end_col}"]
            props.append(f"title={_gh_property(f'{f.code} {_rule_name(f.code)}')}")
            message = f.message + (f" (hint: {f.hint})" if f.hint else "")
            out.append(f"::{f.severity} {','.join(props)}::{_gh_message(message)}\n")
        return "".join(out)


class SarifReporter(Reporter):
    """SARIF 2.1.0, for GitHub code scanning and other SARIF viewers."""

    name = "sarif"

    def render(self, result: CheckResult) -> str:
        codes = sorted({f.code for f in result.findings})
        rules = [
            {"id": code, "name": RULES[code].name, "shortDescription": {"text": RULES[code].summary},
             "fullDescription": {"text": RULES[code].doc},
             "defaultConfiguration": {"level": RULES[code].severity}}
            for code in codes
        ]
        results = [
            {
                "ruleId": f.code,
                "ruleIndex": codes.index(f.code),
                "level": f.severity,
                "message": {"text": f.message + (f" (hint: {f.hint})" if f.hint else "")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path},
                    "region": _sarif_region(f),
                }}],
            }
            for f in result.findings
        ]
        log = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "jo", "version": __version__, "rules": rules}},
                "results": results,
            }],
        }
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


REPORTERS: dict[str, type[Reporter]] = {
    r.name: r for r in (TextReporter, ConciseReporter, JsonReporter, GithubReporter, SarifReporter)
}


def _snippet(f: Finding, lines: list[str]) -> list[str]:
    if not 0 < f.line <= len(lines):
        return []
    source = lines[f.line - 1].expandtabs(1)
    width = 1
    if f.end_line == f.line and f.end_col is not None and f.end_col > f.col:
        width = f.end_col - f.col
    number = str(f.line)
    return [f"    {number} | {source}", f"    {' ' * len(number)} | {' ' * (f.col - 1)}{'^' * width}"]


def _summary(result: CheckResult) -> str:
    checked = f"{result.files_checked} file{'s' if result.files_checked != 1 else ''} checked"
    if not result.findings:
        return f"{checked}: no problems found."
    files = len({f.path for f in result.findings})
    parts = [_plural(result.errors, "error"), _plural(result.warnings, "warning")]
    found = " and ".join(p for p in parts if p)
    return f"Found {found} in {_plural(files, 'file')} ({checked})."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}" if n else ""


def _as_json(f: Finding) -> dict[str, Any]:
    return {"path": f.path, "line": f.line, "column": f.col, "end_line": f.end_line, "end_column": f.end_col,
            "code": f.code, "severity": f.severity, "message": f.message, "hint": f.hint}


def _sarif_region(f: Finding) -> dict[str, int]:
    region = {"startLine": f.line, "startColumn": f.col}
    if f.end_line is not None and f.end_col is not None:
        region |= {"endLine": f.end_line, "endColumn": f.end_col}
    return region


def _rule_name(code: str) -> str:
    return RULES[code].name if code in RULES else ""


def _gh_message(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_message(text).replace(":", "%3A").replace(",", "%2C")
