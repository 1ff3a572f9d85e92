from __future__ import annotations

import os
import shutil

# typer and rich read these when imported: set them before jo_cli.cli is imported.
os.environ.update({"NO_COLOR": "1", "COLUMNS": "100", "TERMINAL_WIDTH": "3000", "_TYPER_FORCE_DISABLE_TERMINAL": "1"})
for _var in ("GITHUB_ACTIONS", "GITHUB_WORKFLOW", "FORCE_COLOR", "JO_STORE"):
    os.environ.pop(_var, None)

from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest.register_assert_rewrite("tests.rules.helpers")

from jo_cli.cli.app import run  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


DEMO_PARTS = ("jo.yaml", "journeys", "campaigns", "audiences", "events", "templates", "data")


def copy_demo(directory: Path) -> Path:
    """A copy of the repository's demo project in `directory / "demo"`, for tests that change or publish it."""
    root = directory / "demo"
    root.mkdir(parents=True, exist_ok=True)
    for name in DEMO_PARTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy(source, root / name)
    return root


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files from current output")


@pytest.fixture(autouse=True)
def _hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes into the developer's home: logs and state go to a temporary directory."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.setenv("HOME", str(state))


class YouForgotToChooseAStore(AssertionError):
    """A test opened the run store of the repository's own demo project (its `.jo/store.db`)."""


@pytest.fixture(autouse=True)
def _no_default_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any test that would open a store inside this checkout fails (STYLE habit 7): tests copy the demo into
    a temporary directory or pass --store."""
    import jo_cli.store

    real = jo_cli.store.open_store

    def guarded(path: Path, **options: bool):  # type: ignore[no-untyped-def]
        if Path(path).resolve().is_relative_to(REPO):
            raise YouForgotToChooseAStore(f"a test opened the store {path}: use a copy of the project or --store")
        return real(path, **options)

    monkeypatch.setattr(jo_cli.store, "open_store", guarded)


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def run_jo(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `jo ARGS...` in-process from `cwd`, as a shell would, returning exit code and streams."""

    def _run(*args: str, cwd: Path | None = None) -> Ran:
        assert args[0] == "jo"
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = run(list(args[1:]))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return _run


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare with a golden file; `pytest --update-goldens` rewrites it instead."""
    if update or not path.exists():
        if not update:
            pytest.fail(f"golden file {path} is missing; run pytest --update-goldens and review it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")
