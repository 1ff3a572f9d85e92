"""Every code's documented examples are executable: the failing one yields the code, the passing one does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from jo_cli.rules import RULES
from jo_cli.validate import validate_files


def findings_for(tmp_path: Path, relative: str, text: str) -> list[tuple[str, int, int]]:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    validation = validate_files([path], cwd=tmp_path, project_root=None)
    return [(f.code, f.line, f.col) for f in validation.findings]


@pytest.mark.parametrize("code", sorted(RULES))
def test_failing_example_yields_its_code(code: str, tmp_path: Path) -> None:
    rule = RULES[code]
    codes = [c for c, _, _ in findings_for(tmp_path, rule.example_path, rule.example("Fails"))]
    assert code in codes


@pytest.mark.parametrize("code", sorted(RULES))
def test_passing_example_does_not(code: str, tmp_path: Path) -> None:
    rule = RULES[code]
    codes = [c for c, _, _ in findings_for(tmp_path, rule.example_path, rule.example("Passes"))]
    assert code not in codes


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_is_documented(code: str) -> None:
    rule = RULES[code]
    assert rule.code.startswith("JO") and len(rule.code) == 5
    assert rule.severity in ("error", "warning")
    assert rule.summary and rule.summary[0].isupper()
    assert rule.example("Fails") != rule.example("Passes")
