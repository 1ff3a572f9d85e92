"""kill -9 anywhere in a run-batch pass, then a rerun: nothing lost, nothing created twice (SPEC §7.4, §11).

Each pass over the demo project (four passes: fires in chunks, the day's events, wake-ups, a week's
catch-up) is killed at every named crash point in turn: before, inside and after each commit of a unit of
work, after the `runs` row is written and before the summary is. The rerun of that pass must leave the store
in the very state an uninterrupted pass left: the same instances with the same history, the same outbox
rows (one per key, in the same `seq` order), the same capping sends, counters, discards, snapshots, event
results and fire state, the same wake-ups due.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.run_batch_helpers import (
    PASSES,
    copy_store,
    killed_pass,
    logical_state,
    pass_args,
    published_demo,
    quiet_run,
)
from tests.conftest import copy_demo

POINTS = ("commit.before", "commit.inside", "commit.after")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo published, then the four passes uninterrupted: the store before each pass, and the state after."""
    directory = tmp_path_factory.mktemp("baseline")
    project = copy_demo(directory)
    store = directory / "run.db"
    published_demo(project, store)
    before: list[Path] = []
    after: list[dict[str, Any]] = []
    for index, now in enumerate(PASSES):
        saved = directory / f"before-{index}.db"
        copy_store(store, saved)
        before.append(saved)
        assert quiet_run(*pass_args(project, store, now)) == 0
        after.append(logical_state(store))
    assert after[-1]["outbox"] and after[-1]["due"]  # the passes made messages and left instances waiting
    return {"project": project, "before": before, "after": after}


def _sweep(baseline: dict[str, Any], index: int, point: str, tmp_path: Path) -> int:
    """Kill pass `index` at each time it reaches `point`, rerun it, compare; how many kills there were."""
    project, now = baseline["project"], PASSES[index]
    trial = tmp_path / "trial.db"
    count = 0
    while True:
        copy_store(baseline["before"][index], trial)
        if not killed_pass(project, trial, now, point, count + 1):
            return count
        count += 1
        assert quiet_run(*pass_args(project, trial, now)) == 0, f"the rerun after {point} #{count} failed"
        assert logical_state(trial) == baseline["after"][index], f"pass {now}: killed at {point} #{count}"


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("index", range(len(PASSES)), ids=PASSES)
def test_a_pass_killed_at_any_commit_then_rerun_ends_as_an_uninterrupted_one(baseline: dict[str, Any], index: int,
                                                                             point: str, tmp_path: Path) -> None:
    assert _sweep(baseline, index, point, tmp_path) >= 10  # every pass commits a dozen units at least


@pytest.mark.parametrize("point", ["run.start", "run.end"])
def test_a_pass_killed_before_its_work_or_its_summary(baseline: dict[str, Any], point: str, tmp_path: Path) -> None:
    for index in range(len(PASSES)):
        assert _sweep(baseline, index, point, tmp_path) == 1


def test_killed_twice_in_a_row(baseline: dict[str, Any], tmp_path: Path) -> None:
    """A rerun killed in its turn (at its third commit), then a third run: still the uninterrupted state."""
    project, now = baseline["project"], PASSES[2]
    trial = tmp_path / "trial.db"
    copy_store(baseline["before"][2], trial)
    assert killed_pass(project, trial, now, "commit.inside", 7)
    assert killed_pass(project, trial, now, "commit.after", 3)
    assert quiet_run(*pass_args(project, trial, now)) == 0
    assert logical_state(trial) == baseline["after"][2]
