"""The journey engine over many profiles: an 8-step journey against the CSV floor of SPEC §11, same run.

    python bench/bench_engine.py [--rows 200000] [--repeat 3]

Profiles are bench_csv's 15-column file. One audience fire takes everyone
through condition, split, time-condition (profile zones), wait, condition,
message, wait, end, then the clock runs to the horizon. The store is the
in-memory one counting step events without keeping them (a dry-run's
`--show 0`); the message policy sends everything (bench_dryrun.py measures
the real policy, rendering and the CLI). Reported: the floor (csv module
reading and typing the file), jo's reader keeping every field, the engine's
fire and the rest of the run, and (reader + engine) / floor. As in `jo
dry-run`, the cyclic garbage collector is off while jo reads and runs. Peak
RSS of one whole run is taken in a child process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import tempfile
import time
from pathlib import Path

from bench_csv import PROJECT_ZONE, SCHEMA, child_peak_rss, floor, generate  # the script's folder is on sys.path

from jo_cli.data.csv_reader import TableReader
from jo_cli.engine.memory import (
    FixedClock,
    MemoryProfiles,
    MemoryStore,
    SingleFire,
    memory_engine,
)
from jo_cli.engine.model import compile_journey
from jo_cli.expr.compile import compile_expr
from jo_cli.expr.parser import parse

NOW = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
JOURNEY = {
    "kind": "journey", "id": "bench",
    "entry": {"type": "audience", "audience": "everyone", "next": "spenders"},
    "settings": {"use_profile_timezone": True},
    "steps": {
        "spenders": {"type": "condition", "on_error": "end", "otherwise": "ab", "paths": [
            {"name": "big", "when": 'profile.total_spend > 500 and profile.tier != "bronze"', "next": "ab"}]},
        "ab": {"type": "split", "paths": [{"name": "a", "percent": 50, "next": "hours"},
                                          {"name": "b", "percent": 50, "next": "hours"}]},
        "hours": {"type": "time-condition", "otherwise": "later", "paths": [
            {"name": "day", "days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "20:00",
             "next": "consent"}]},
        "later": {"type": "wait", "duration": "PT12H", "next": "consent"},
        "consent": {"type": "condition", "otherwise": "end", "paths": [
            {"name": "yes", "when": "profile.consent.email != false", "next": "mail"}]},
        "mail": {"type": "message", "channel": "email", "next": "settle",
                 "content": {"subject": "Hi {{ profile.first_name }}", "body": "<p>Hi {{ profile.first_name }}</p>"}},
        "settle": {"type": "wait", "duration": "P3D", "next": "done"},
        "done": {"type": "end"},
    },
}


def read_profiles(path: Path) -> MemoryProfiles:
    reader = TableReader(path, SCHEMA, shown=path.name, identity="id", zone=PROJECT_ZONE, zone_field="timezone")
    return MemoryProfiles.from_rows(reader, identity="id", zone_field="timezone")


def run_engine(profiles: MemoryProfiles) -> tuple[float, float, MemoryStore]:
    """Seconds for the fire and for the rest of the run."""
    journey = compile_journey(JOURNEY, version=None, project_zone=PROJECT_ZONE,
                              numeric_refs=frozenset({("profile", "total_spend")}))
    store = MemoryStore(keep_steps=False)
    engine = memory_engine([journey], profiles=profiles, audiences={"everyone": compile_expr(parse("true"))},
                           zone=PROJECT_ZONE, store=store, clock=FixedClock(NOW), fires=SingleFire(NOW))
    start = time.perf_counter()
    engine.run_until(NOW)
    fired = time.perf_counter()
    engine.run_until(NOW + dt.timedelta(days=91))
    return fired - start, time.perf_counter() - fired, store


def peak_rss(path: Path) -> str:
    return child_peak_rss("bench_engine", "import gc; gc.disable(); b.run_engine(b.read_profiles(Path(sys.argv[1])))",
                          path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "profiles.csv"
        generate(path, args.rows)
        timings: dict[str, list[float]] = {"floor": [], "read": [], "fire": [], "rest": []}
        for _ in range(args.repeat):
            start = time.perf_counter()
            assert floor(path) == args.rows
            timings["floor"].append(time.perf_counter() - start)
            gc.disable()
            start = time.perf_counter()
            profiles = read_profiles(path)
            timings["read"].append(time.perf_counter() - start)
            fire, rest, store = run_engine(profiles)
            gc.enable()
            timings["fire"].append(fire)
            timings["rest"].append(rest)
            del profiles, store
        median = {name: statistics.median(values) for name, values in timings.items()}
        total = median["read"] + median["fire"] + median["rest"]
        print(f"{args.rows:,} profiles (15 columns, 12 zones), 8-step journey, median of {args.repeat}")
        for name, label in (("floor", "floor (csv.reader + dict + conversions)"), ("read", "jo reader into memory"),
                            ("fire", "engine, the fire"), ("rest", "engine, to the horizon")):
            print(f"{label:40} {median[name]:.2f} s ({median[name] * 1e6 / args.rows:.1f} us per profile)")
        print(f"ratio (reader + engine) / floor: {total / median['floor']:.2f}x (SPEC §11 bar for dry-run: 3x)")
        print(f"peak RSS of one run (VmHWM, child process): {peak_rss(path)}")


if __name__ == "__main__":
    main()
