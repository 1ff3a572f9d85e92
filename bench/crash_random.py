"""SPEC §11 reliability: 50 random SIGKILLs of `jo run-batch` over 100k profiles, then the stores compared.

    python bench/crash_random.py [--copies 263] [--kills 50] [--seed 1]

The demo project, its profile file repeated --copies times (263: 100,209 profiles) and its events; four
passes (tests/cli/run_batch_helpers.py PASSES) run twice into two stores: uninterrupted, and with --kills
processes SIGKILLed at random moments (each killed pass run again until one finishes, as cron would). The
two stores' logical states (instances with their history, outbox, capping, counters, discards, snapshots,
event results, fire state, what is due) must be equal. Prints the kills, the seconds, and the verdict.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.*

from tests.cli.run_batch_helpers import (
    PASSES,
    logical_state,
    many_profiles,
    published_demo,
    random_kills,
    timed_passes,
)
from tests.conftest import copy_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=263)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        project = copy_demo(directory)
        profiles = directory / "profiles.csv"
        rows = many_profiles(project, profiles, args.copies)
        quiet, killed = directory / "quiet.db", directory / "killed.db"
        for store in (quiet, killed):
            published_demo(project, store)
        durations = timed_passes(project, quiet, profiles, PASSES, ("--chunk", "5000"))
        print(f"{rows:,} profiles, {len(PASSES)} passes uninterrupted: "
              + ", ".join(f"{seconds:.1f} s" for seconds in durations))
        start = time.perf_counter()
        done = random_kills(project, killed, profiles, PASSES, kills=args.kills, seed=args.seed,
                            durations=durations, extra=("--chunk", "5000"))
        print(f"with {args.kills} kill attempts ({done} processes killed before they finished): "
              f"{time.perf_counter() - start:.1f} s")
        same = logical_state(killed) == logical_state(quiet)
        print("final states equal to the uninterrupted run: " + ("yes" if same else "NO"))
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
