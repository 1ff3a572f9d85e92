"""SPEC §11: `jo run-batch` entering N profiles through entry -> condition -> wait, against the floor.

    python bench/bench_runbatch.py [--rows 1000000] [--repeat 3] [--chunk 5000] [--shape park|send]

A temporary project holds bench_csv's 15-column profile file and schema, an
audience of everyone, and a journey read once (an audience entry without a
schedule: it fires at the first pass) whose members go through a condition
to a P3D wait, so that every profile is parked (no wake-up is due). Each
trial publishes into a fresh store and then times one `jo run-batch` as cron
runs it, in a fresh process: start-up, validation, reading and typing the
CSV, the fire in chunks of --chunk profiles (one transaction each, with the
instances, their history and the fire's progress), the `runs` row.

The floor, in this process and interleaved with the trials: bench_csv's
csv.reader + dict + conversions of the same file, plus `executemany` of N
six-column rows (reference/perf.md §4's row) into a fresh WAL store file in
one transaction with synchronous=FULL. Printed: seconds (medians), the ratio
(bar: 3x), rows written per profile, bytes per profile in the store file, and
the pass's peak RSS (bar: 1 GB at 1M; 2 GB at 5M).

`--shape send` is the costlier pass no bar names yet: every profile goes
through a message step (consent, capping and quiet hours of a rule set, the
subject and HTML body rendered from templates, one outbox row and one
capping row each) before the wait. The floor is the same.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_csv import SCHEMA, floor, generate  # the script's folder is on sys.path
from bench_store import floor as store_floor

PROJECT = {
    "kind": "project", "name": "bench", "timezone": "Europe/Paris",
    "profiles": {"source": "data/profiles.csv", "schema": "data/profiles.schema.json", "identity": "id",
                 "timezone_field": "timezone"},
    "channels": {"email": {"address": "email", "consent": "consent.email"}},
}
AUDIENCE = {"kind": "audience", "id": "everyone", "where": "true"}
JOURNEY = {
    "kind": "journey", "id": "bench",
    "entry": {"type": "audience", "audience": "everyone", "next": "spenders"},
    "steps": {
        "spenders": {"type": "condition", "otherwise": "settle", "paths": [
            {"name": "big", "when": 'profile.total_spend > 500 and profile.tier != "bronze"', "next": "settle"}]},
        "settle": {"type": "wait", "duration": "P3D", "next": "done"},
        "done": {"type": "end"},
    },
}
SEND_JOURNEY = {
    "kind": "journey", "id": "bench",
    "entry": {"type": "audience", "audience": "everyone", "next": "mail"},
    "steps": {
        "mail": {"type": "message", "channel": "email", "next": "settle",
                 "content": {"subject": "Hi {{ profile.first_name }}",
                             "body": "<p>Hi {{ profile.first_name }}, your tier is {{ profile.tier }}.</p>"}},
        "settle": {"type": "wait", "duration": "P3D", "next": "done"},
        "done": {"type": "end"},
    },
}
SEND_RULES = {"default": {"capping": [{"channels": ["email"], "max": 3, "per": "P7D"}],
                          "quiet_hours": {"windows": [{"from": "21:00", "to": "08:00"}], "timezone": "profile",
                                          "handling": "queue"}}}
NOW = "2026-12-01T08:00:00Z"


def make_project(root: Path, rows: int, *, send: bool = False) -> None:
    for folder in ("data", "journeys", "audiences"):
        (root / folder).mkdir(parents=True)
    generate(root / "data" / "profiles.csv", rows)
    (root / "data" / "profiles.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (root / "jo.yaml").write_text(json.dumps({**PROJECT, "rules": SEND_RULES} if send else PROJECT),
                                  encoding="utf-8")
    (root / "audiences" / "everyone.yaml").write_text(json.dumps(AUDIENCE), encoding="utf-8")
    (root / "journeys" / "bench.yaml").write_text(json.dumps(SEND_JOURNEY if send else JOURNEY), encoding="utf-8")


def insert_floor(path: Path, rows: int) -> float:
    """bench_store's floor: `executemany` of `rows` six-column rows in one transaction, WAL + FULL."""
    return store_floor(path, [(f"p{i:08d}", "bench", 1, "settle", "waiting", "2026-12-01T08:00:00Z")
                              for i in range(rows)])


def jo(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run([sys.executable, "-m", "jo_cli", *args], cwd=root, capture_output=True, text=True,
                         check=False)
    if ran.returncode != 0:
        raise SystemExit(f"jo {' '.join(args)} failed ({ran.returncode}): {ran.stderr}")
    return ran


def run_batch(root: Path, store: Path, chunk: int) -> tuple[float, dict[str, object]]:
    """(seconds, the §7.3 JSON) of one pass in a fresh process, on a store the journey was just published to."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    jo(root, "publish", "--store", str(store), "--now", "2026-11-30T08:00:00Z")
    start = time.perf_counter()
    ran = jo(root, "run-batch", "--store", str(store), "--now", NOW, "--chunk", str(chunk), "--format", "json")
    return time.perf_counter() - start, json.loads(ran.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--shape", choices=["park", "send"], default="park",
                        help="park: entry -> condition -> wait (the bar's); send: a rendered message before the wait")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "project"
        make_project(root, args.rows, send=args.shape == "send")
        store = Path(temp) / "run.db"
        floors: list[float] = []
        runs: list[float] = []
        summary: dict[str, object] = {}
        for trial in range(args.repeat):
            start = time.perf_counter()
            assert floor(root / "data" / "profiles.csv") == args.rows
            reading = time.perf_counter() - start
            floors.append(reading + insert_floor(Path(temp) / f"floor-{trial}.db", args.rows))
            seconds, summary = run_batch(root, store, args.chunk)
            runs.append(seconds)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child, in MB
        with sqlite3.connect(store) as connection:
            tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                             "AND name NOT LIKE 'sqlite_%'")]
            written = {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
        size = store.stat().st_size + (Path(f"{store}-wal").stat().st_size if Path(f"{store}-wal").exists() else 0)
        base, ours = statistics.median(floors), statistics.median(runs)
        run_rows = sum(count for name, count in written.items() if name not in ("versions", "version_files",
                                                                                  "version_names", "frozen_files"))
        steps = "entry -> message -> wait P3D" if args.shape == "send" else "entry -> condition -> wait P3D"
        print(f"{args.rows:,} profiles (15 columns), {steps}, chunks of {args.chunk:,}, "
              f"median of {args.repeat}; entered {summary['entered']:,}; outbox {summary['outbox']}")
        print(f"floor (csv.reader + conversions, then executemany of {args.rows:,} rows): {base:.2f} s")
        print(f"jo run-batch (whole process):                                  {ours:.2f} s")
        print(f"ratio: {ours / base:.2f}x (SPEC §11 bar: 3x)")
        print(f"rows written per profile: {run_rows / args.rows:.3f} "
              f"({', '.join(f'{n} {c:,}' for n, c in sorted(written.items()) if c)})")
        print(f"store bytes per profile: {size / args.rows:.0f}")
        print(f"peak RSS of jo run-batch: {peak:,.0f} MB (bar: 1,024 MB at 1M, 2,048 MB at 5M)")


if __name__ == "__main__":
    main()
