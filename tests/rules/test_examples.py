"""Every code's documented examples are executable: the failing one yields the code, the passing one does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from jo_cli.rules import RULES
from jo_cli.validate import validate_files


def findings_for(tmp_path: Path, code: str, label: str) -> list[str]:
    """Codes found in the rule's example, written into a scratch project with its context files."""
    rule = RULES[code]
    for relative, text in rule.example_context:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    path = tmp_path / rule.example_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rule.example(label), encoding="utf-8")
    project_root = tmp_path if (tmp_path / "jo.yaml").is_file() else None
    validation = validate_files([path], cwd=tmp_path, project_root=project_root)
    return [f.code for f in validation.findings if f.path == rule.example_path]


@pytest.mark.parametrize("code", sorted(RULES))
def test_failing_example_yields_its_code(code: str, tmp_path: Path) -> None:
    assert code in findings_for(tmp_path, code, "Fails")


@pytest.mark.parametrize("code", sorted(RULES))
def test_passing_example_does_not(code: str, tmp_path: Path) -> None:
    assert code not in findings_for(tmp_path, code, "Passes")


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_is_documented(code: str) -> None:
    rule = RULES[code]
    assert rule.code.startswith("JO") and len(rule.code) == 5
    assert rule.severity in ("error", "warning")
    assert rule.summary and rule.summary[0].isupper()
    assert rule.example("Fails") != rule.example("Passes")
