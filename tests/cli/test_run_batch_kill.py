"""SIGKILL at random moments of real `jo run-batch` processes over many profiles (SPEC §11 reliability): after
each rerun, the store holds what uninterrupted passes leave. CI kills 8 passes over 11,430 profiles;
`bench/crash_random.py` runs the 50 kills over 100k profiles of §11."""

from __future__ import annotations

from pathlib import Path

from tests.cli.run_batch_helpers import (
    PASSES,
    logical_state,
    many_profiles,
    published_demo,
    random_kills,
    timed_passes,
)
from tests.conftest import copy_demo


def test_passes_killed_at_random_moments_end_as_uninterrupted_ones(tmp_path: Path) -> None:
    project = copy_demo(tmp_path)
    profiles = tmp_path / "profiles.csv"
    assert many_profiles(project, profiles, 30) == 11_430
    quiet, killed = tmp_path / "quiet.db", tmp_path / "killed.db"
    for store in (quiet, killed):
        published_demo(project, store)
    # Chunks of 500: a pass commits dozens of units, so a kill lands between and inside them.
    durations = timed_passes(project, quiet, profiles, PASSES, ("--chunk", "500"))
    assert random_kills(project, killed, profiles, PASSES, kills=8, seed=14, durations=durations,
                        extra=("--chunk", "500")) >= 4
    assert logical_state(killed) == logical_state(quiet)
