"""SPEC §11: `jo dry-run --show 0 --format json` of 1M profiles through an 8-step journey, against the floor.

    python bench/bench_dryrun.py [--rows 1000000] [--repeat 3] [--shape some|every]

A temporary project holds bench_csv's 15-column profile file, its schema, an
audience of everyone with email consent not refused, and bench_engine's
8-step journey (condition, split, time-condition in each profile's zone,
wait, condition, message through the default rule set's capping and quiet
hours, wait, end). The command runs as a user runs it, in a fresh process
(start-up, validation, reading, the engine to the horizon, the JSON); the
floor is bench_csv's csv.reader + dict + conversions of the same file, in
this process, interleaved. Bars: at most 3x the floor, peak RSS under 2 GB.

`--shape every` is the costlier shape the run-batch issue names: every
profile enters (an audience of `true`), half of them through two waits
before the time condition; the bar is the same.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_csv import SCHEMA, floor, generate  # the script's folder is on sys.path
from bench_engine import JOURNEY

PROJECT = {
    "kind": "project", "name": "bench", "timezone": "Europe/Paris",
    "profiles": {"source": "data/profiles.csv", "schema": "data/profiles.schema.json", "identity": "id",
                 "timezone_field": "timezone"},
    "channels": {"email": {"address": "email", "consent": "consent.email"}},
    "rules": {"default": {"capping": [{"channels": ["email"], "max": 3, "per": "P7D"}],
                          "quiet_hours": {"windows": [{"from": "21:00", "to": "08:00"}], "timezone": "profile",
                                          "handling": "queue"}}},
}
AUDIENCE = {"kind": "audience", "id": "everyone", "where": "profile.consent.email != false"}
# `--shape every` (the run-batch issue's shape, as a new user tries it): every profile enters, half of them
# wait twice before the time condition, the other half go straight to it; the rest as bench_engine's.
EVERY_AUDIENCE = {"kind": "audience", "id": "everyone", "where": "true"}
EVERY_JOURNEY = {
    "kind": "journey", "id": "bench",
    "entry": {"type": "audience", "audience": "everyone", "next": "ab"},
    "settings": {"use_profile_timezone": True},
    "steps": {
        "ab": {"type": "split", "paths": [{"name": "a", "percent": 50, "next": "first-wait"},
                                          {"name": "b", "percent": 50, "next": "hours"}]},
        "first-wait": {"type": "wait", "duration": "PT12H", "next": "second-wait"},
        "second-wait": {"type": "wait", "duration": "P1D", "next": "hours"},
        "hours": {"type": "time-condition", "otherwise": "consent", "paths": [
            {"name": "day", "days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "20:00",
             "next": "consent"}]},
        "consent": {"type": "condition", "otherwise": "done", "paths": [
            {"name": "yes", "when": "profile.consent.email != false", "next": "mail"}]},
        "mail": {"type": "message", "channel": "email", "next": "settle",
                 "content": {"subject": "Hi {{ profile.first_name }}", "body": "<p>Hi {{ profile.first_name }}</p>"}},
        "settle": {"type": "wait", "duration": "P3D", "next": "done"},
        "done": {"type": "end"},
    },
}


def make_project(root: Path, rows: int, *, every: bool = False) -> None:
    (root / "data").mkdir(parents=True)
    (root / "journeys").mkdir()
    (root / "audiences").mkdir()
    generate(root / "data" / "profiles.csv", rows)
    (root / "data" / "profiles.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (root / "jo.yaml").write_text(json.dumps(PROJECT), encoding="utf-8")
    (root / "audiences" / "everyone.yaml").write_text(json.dumps(EVERY_AUDIENCE if every else AUDIENCE),
                                                      encoding="utf-8")
    (root / "journeys" / "bench.yaml").write_text(json.dumps(EVERY_JOURNEY if every else JOURNEY),
                                                  encoding="utf-8")


def run_dry_run(root: Path) -> tuple[float, float, dict[str, object]]:
    """(seconds, peak RSS in MB, the JSON) of one `jo dry-run` in a fresh process."""
    start = time.perf_counter()
    ran = subprocess.run([sys.executable, "-m", "jo_cli", "dry-run", "journeys/bench.yaml", "--now",
                          "2026-12-01T08:00:00Z", "--show", "0", "--format", "json"],
                         cwd=root, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if ran.returncode != 0:
        raise SystemExit(f"jo dry-run failed ({ran.returncode}): {ran.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far, in MB
    return seconds, peak, json.loads(ran.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", choices=["some", "every"], default="some",
                        help="some: two thirds of the profiles enter (bench_engine's journey); every: all enter "
                             "and half of them wait twice")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        make_project(root, args.rows, every=args.shape == "every")
        floors: list[float] = []
        runs: list[float] = []
        peak = 0.0
        report: dict[str, object] = {}
        for _ in range(args.repeat):
            start = time.perf_counter()
            assert floor(root / "data" / "profiles.csv") == args.rows
            floors.append(time.perf_counter() - start)
            seconds, peak, report = run_dry_run(root)
            runs.append(seconds)
        base, ours = statistics.median(floors), statistics.median(runs)
        profiles = report["profiles"]
        print(f"{args.rows:,} profiles (15 columns), 8-step journey ({args.shape} enter), median of {args.repeat}; "
              f"entered "
              f"{profiles['entered']:,}")  # type: ignore[index]
        print(f"floor (csv.reader + dict + conversions): {base:.2f} s")
        print(f"jo dry-run --show 0 --format json:       {ours:.2f} s (whole process)")
        print(f"ratio: {ours / base:.2f}x (SPEC §11 bar: 3x)")
        print(f"peak RSS of jo dry-run: {peak:,.0f} MB (bar: 2,048 MB)")


if __name__ == "__main__":
    main()
