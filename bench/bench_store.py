"""1M instances with their first step history through the store's functions, against the SQLite floor (§11).

    python bench/bench_store.py [--rows 1000000] [--repeat 3]

Floor: `executemany` of N six-column rows (perf.md §4's row: profile,
journey, version, node, status, entered_at) into a fresh store file in one
transaction, WAL and synchronous=FULL as the store runs. jo: the same N
profiles entering a published journey (condition then wait, parked until
P3D) as `InstanceRow`s written by `start_instances` in one `write()`
transaction: keys in order, history packed. Row objects are built before the
clock starts in both. Printed: seconds (best of --repeat), the ratio (bar:
2x), rows written per instance and bytes per instance in the file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import time
from pathlib import Path

from jo_cli.store import open_store
from jo_cli.store.instances import VOCABULARY, InstanceRow, Names, StepRecord, start_instances
from jo_cli.store.sqlite import APPLICATION_ID

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


def jo(path: Path, rows: list[InstanceRow]) -> float:
    with open_store(path, create=True) as store:
        names = Names(["check", "park", "yes", *VOCABULARY])
        with store.write():
            store.execute("INSERT INTO versions (id, version, kind, hash, document, status, published_at, "
                          "published_by) VALUES ('bench', 1, 'journey', 'h', '{}', 'live', 0, 'bench')")
            store.executemany("INSERT INTO version_names VALUES ('bench', 1, ?, ?)", enumerate(names.names))
        start = time.perf_counter()
        with store.write():
            start_instances(store, rows, {("bench", 1): names})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    assert APPLICATION_ID
    wake = T0 + dt.timedelta(days=3)
    iso = T0.isoformat()
    floor_rows = [(f"p{i:08d}", "bench", 1, "park", "waiting", iso) for i in range(args.rows)]
    history = [StepRecord("check", "yes", T0)]
    jo_rows = [InstanceRow("bench", f"p{i:08d}", 1, 1, i, T0, step="park", wake_at=wake, wake_kind="wake",
                           history=history) for i in range(args.rows)]
    floors, jos, size = [], [], 0
    with tempfile.TemporaryDirectory() as directory:
        for round_ in range(args.repeat):
            floors.append(floor(Path(directory) / f"floor-{round_}.db", floor_rows))
            path = Path(directory) / f"store-{round_}.db"
            jos.append(jo(path, jo_rows))
            size = path.stat().st_size + sum(p.stat().st_size for p in Path(directory).glob(f"store-{round_}.db-*"))
    print(f"{args.rows:,} instances entering condition -> wait (parked), one transaction, WAL + FULL")
    print(f"  floor: executemany of {args.rows:,} six-column rows  {min(floors):7.2f} s")
    print(f"  jo: start_instances (keys in order, history packed)  {min(jos):7.2f} s  {min(jos) / min(floors):5.2f}x"
          "  (bar 2x)")
    print(f"  rows written per instance: 1; bytes per instance in the store: {size / args.rows:,.0f}")


if __name__ == "__main__":
    main()
