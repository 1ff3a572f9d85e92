"""The engine's key tests run twice: over the dry-run's sharing MemoryStore and over its copying mode.

The copying store keeps only what a commit hands it, as a database does, so the same results from both
show that the engine hands over every change it makes rather than relying on the store holding its objects.
"""

from __future__ import annotations

import pytest

from tests.engine import helpers

BOTH_STORES = {"test_invariants", "test_steps", "test_entries", "test_timeline"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "copying" in metafunc.fixturenames:
        both = metafunc.module.__name__.rpartition(".")[2] in BOTH_STORES
        metafunc.parametrize("copying", [False, True] if both else [False], ids=["sharing", "copying"][:1 + both])


@pytest.fixture(autouse=True)
def _store_mode(copying: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helpers, "COPYING", copying)
