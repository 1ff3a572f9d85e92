from __future__ import annotations

import tempfile
from pathlib import Path

from jo_cli.validate import validate_files


def findings(source: str | bytes, *, path: str = "journeys/example.yaml") -> list[tuple[str, int, int]]:
    """(code, line, col) of every finding for `source` saved at `path` in a scratch project."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(source if isinstance(source, bytes) else source.encode("utf-8"))
        validation = validate_files([file], cwd=Path(tmp), project_root=None)
        return sorted((f.code, f.line, f.col) for f in validation.findings)


def assert_findings(source: str | bytes, *expected: tuple[str, int, int], path: str = "journeys/example.yaml") -> None:
    """yamllint's idiom: exactly these (code, line, col) findings, in any order."""
    assert findings(source, path=path) == sorted(expected)
