"""1M instances with their first step history through the engine's state port, against the SQLite floor (§11).

    python bench/bench_store.py [--rows 1000000] [--chunk 10000] [--repeat 3]

Floor: `executemany` of N six-column rows (perf.md §4's row: profile,
journey, version, node, status, entered_at) into a fresh store file in one
transaction, WAL and synchronous=FULL as the store runs. jo: what run-batch
does when N profiles enter a published journey (condition then wait, parked
until P3D): per chunk of --chunk profiles one `Changes` (the new `Instance`s
and the wave's step group) committed by `SqliteStateStore.commit`, one
transaction each, as run-batch commits per chunk of profiles (10,000: perf.md
§4c, 10k-row transactions cost nothing over one in WAL + FULL). The row
objects (floor tuples; Instances, step groups and Changes) are built before
the clock starts in both. Printed: seconds (best of --repeat), the ratio (bar:
2x), rows written per instance and bytes per instance in the file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import time
from pathlib import Path

from jo_cli.engine.ports import Changes, Instance
from jo_cli.store import open_store
from jo_cli.store.instances import VOCABULARY
from jo_cli.store.state import SqliteStateStore
from jo_cli.store.versions import NewVersion, insert_version, names_of

T0 = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)


def floor(path: Path, rows: list[tuple[object, ...]]) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE events (profile_id TEXT, journey_id TEXT, version INT, node TEXT, "
                       "status TEXT, entered_at TEXT)")
    start = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
    connection.execute("COMMIT")
    connection.close()
    return time.perf_counter() - start


def units(rows: int, chunk: int) -> list[Changes]:
    """What the engine hands the store for `rows` profiles entering in chunks: started, checked, parked."""
    wake = T0 + dt.timedelta(days=3)
    found = []
    for first in range(0, rows, chunk):
        changes = Changes()
        entered = []
        for i in range(first, min(first + chunk, rows)):
            instance = Instance(seq=i + 1, journey="bench", version=1, profile=f"p{i:08d}", entry=1, entered_at=T0)
            instance.step, instance.reached_at, instance.wake_at, instance.wake_kind = "park", T0, wake, "wake"
            changes.start(instance)
            entered.append(instance)
        changes.record_steps("bench", 1, T0, T0, [("check", "yes", None, False, entered)])
        found.append(changes)
    return found


def jo(path: Path, work: list[Changes]) -> tuple[float, int]:
    """Seconds to commit `work`, and the rows the commits wrote."""
    with open_store(path, create=True) as store:
        with store.write():
            insert_version(store, NewVersion("bench", "journey", "h", {}, {}, names_of(["check", "park", "yes",
                                                                                        *VOCABULARY])),
                           at=T0, by="bench")
        state = SqliteStateStore(store)
        before = store.connection.total_changes
        start = time.perf_counter()
        for changes in work:
            state.commit(changes)
        seconds = time.perf_counter() - start
        return seconds, store.connection.total_changes - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    iso = T0.isoformat()
    floor_rows = [(f"p{i:08d}", "bench", 1, "park", "waiting", iso) for i in range(args.rows)]
    work = units(args.rows, args.chunk)
    floors, jos, size, written = [], [], 0, 0
    with tempfile.TemporaryDirectory() as directory:
        for round_ in range(args.repeat):
            floors.append(floor(Path(directory) / f"floor-{round_}.db", floor_rows))
            path = Path(directory) / f"store-{round_}.db"
            seconds, written = jo(path, work)
            jos.append(seconds)
            size = path.stat().st_size + sum(p.stat().st_size for p in Path(directory).glob(f"store-{round_}.db-*"))
    commits = -(-args.rows // args.chunk)
    print(f"{args.rows:,} instances entering condition -> wait (parked), WAL + FULL")
    print(f"  floor: executemany of {args.rows:,} six-column rows, one transaction  {min(floors):7.2f} s")
    print(f"  jo: SqliteStateStore.commit, {commits:,} commits of {args.chunk:,}  {min(jos):7.2f} s  "
          f"{min(jos) / min(floors):5.2f}x  (bar 2x)")
    print(f"  rows written per instance: {written / args.rows:.3f}; bytes per instance in the store: "
          f"{size / args.rows:,.0f}")


if __name__ == "__main__":
    main()
