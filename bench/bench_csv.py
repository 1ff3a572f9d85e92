"""SPEC §11 floor for reading profiles: jo's typed CSV reader against the csv module, same run, same file.

    python bench/bench_csv.py [--rows 1000000] [--repeat 3]

The file has 15 columns like reference/perf.md §1 (ids, emails, names, zones, dates, datetimes with and
without offset, numbers, tiers, consent.email/consent.sms booleans, JSON-array tags). The floor is
`csv.reader` + a dict per row + the same conversions written by hand (int, float, bool, date and
datetime `fromisoformat`, the row's zone for wall times, `json.loads`). The two run interleaved; the
figure is the median. Peak RSS (VmHWM) of one streaming pass is taken in a fresh child process.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli.data.csv_reader import Reject, TableReader

HEADER = ["id", "email", "first_name", "country", "timezone", "birth_date", "signup_at", "tier", "total_spend",
          "orders", "last_purchase_at", "consent.email", "consent.sms", "city", "tags"]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "tier"],
    "properties": {
        "id": {"type": "string"}, "email": {"type": "string"}, "first_name": {"type": "string"},
        "country": {"type": "string"}, "timezone": {"type": "string"},
        "birth_date": {"type": "string", "format": "date"},
        "signup_at": {"type": "string", "format": "date-time"},
        "tier": {"type": "string", "enum": ["bronze", "silver", "gold", "platinum"]},
        "total_spend": {"type": "number"}, "orders": {"type": "integer"},
        "last_purchase_at": {"type": "string", "format": "date-time"},
        "consent": {"type": "object", "properties": {"email": {"type": "boolean"}, "sms": {"type": "boolean"}}},
        "city": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
    },
}
ZONES = [("FR", "Europe/Paris"), ("DE", "Europe/Berlin"), ("GB", "Europe/London"), ("US", "America/New_York"),
         ("US", "America/Los_Angeles"), ("BR", "America/Sao_Paulo"), ("JP", "Asia/Tokyo"), ("IN", "Asia/Kolkata"),
         ("AU", "Australia/Sydney"), ("ZA", "Africa/Johannesburg"), ("MX", "America/Mexico_City"),
         ("PL", "Europe/Warsaw")]
PROJECT_ZONE = ZoneInfo("Europe/Paris")


def generate(path: Path, rows: int) -> None:
    rng = random.Random(11)
    names = ["Ada", "Björn", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Haruto", "Inès", "Jana"]
    tiers = ["bronze"] * 55 + ["silver"] * 28 + ["gold"] * 13 + ["platinum"] * 4
    tags = ["vip", "high_value", "sale-hunter", "kids", "outdoor"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            country, zone = rng.choice(ZONES)
            name = rng.choice(names)
            signup = dt.datetime(2020, 1, 1) + dt.timedelta(seconds=rng.randrange(180_000_000))
            bought = rng.random() > 0.15
            last = dt.datetime(2022, 1, 1) + dt.timedelta(seconds=rng.randrange(150_000_000))
            writer.writerow([
                f"p{i:08d}", f"{name.lower()}.{i}@example.org", name, country, zone,
                (dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))).isoformat(),
                signup.isoformat(), rng.choice(tiers), f"{rng.uniform(0, 3000):.2f}" if bought else "0.0",
                rng.randrange(40), (last.isoformat() + "Z") if bought and i % 2 else last.isoformat() if bought else "",
                rng.choice(["true", "false", ""]), rng.choice(["true", "false"]), f"City {rng.randrange(5000)}",
                json.dumps(rng.sample(tags, rng.randrange(4))),
            ])


def floor(path: Path) -> int:
    """csv.reader + dict + the same conversions by hand (no validation beyond what Python's parsers do)."""
    zones: dict[str, ZoneInfo] = {}
    booleans = {"true": True, "false": False}
    utc = dt.UTC
    count = 0

    def when(text: str, zone: ZoneInfo) -> dt.datetime | None:
        if not text:
            return None
        value = dt.datetime.fromisoformat(text)
        return value.replace(tzinfo=zone).astimezone(utc) if value.tzinfo is None else value

    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader)
        for record in reader:
            row: dict[str, Any] = dict(zip(header, record, strict=True))
            name = row["timezone"]
            zone = zones.get(name)
            if zone is None:
                zone = zones[name] = ZoneInfo(name)
            row["birth_date"] = dt.date.fromisoformat(row["birth_date"]) if row["birth_date"] else None
            row["signup_at"] = when(row["signup_at"], zone)
            row["last_purchase_at"] = when(row["last_purchase_at"], zone)
            row["total_spend"] = float(row["total_spend"]) if row["total_spend"] else None
            row["orders"] = int(row["orders"]) if row["orders"] else None
            row["consent"] = {"email": booleans.get(row.pop("consent.email")),
                              "sms": booleans.get(row.pop("consent.sms"))}
            row["tags"] = json.loads(row["tags"]) if row["tags"] else None
            count += 1
    return count


def jo(path: Path, columnar: bool | None = None) -> int:
    """Every field of every row; `columnar` None reads a large file through polars, False through the csv module."""
    count = 0
    reader = TableReader(path, SCHEMA, shown=path.name, identity="id", zone=PROJECT_ZONE, zone_field="timezone",
                         columnar=columnar)
    for item in reader:
        if isinstance(item, Reject):
            raise SystemExit(f"unexpected reject: {item}")
        count += 1
    return count


def child_peak_rss(module: str, call: str, path: Path) -> str:
    """VmHWM of a fresh process that imports bench `module` as `b` and runs `call` (`path` is `Path(sys.argv[1])`)."""
    code = (f"import sys; from pathlib import Path; sys.path.insert(0, sys.argv[2]); import {module} as b; {call}; "
            "print(next(l.split(':')[1].strip() for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    folder = str(Path(__file__).resolve().parent)
    return subprocess.run([sys.executable, "-c", code, str(path), folder], capture_output=True, text=True,
                          check=True).stdout.strip()


def peak_rss(path: Path, columnar: bool | None) -> str:
    return child_peak_rss("bench_csv", f"b.jo(Path(sys.argv[1]), columnar={columnar})", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "profiles.csv"
        start = time.perf_counter()
        generate(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows, {size:.1f} MB in {time.perf_counter() - start:.1f} s")
        readers = {"floor": floor, "python": lambda p: jo(p, columnar=False), "auto": jo}
        timings: dict[str, list[float]] = {name: [] for name in readers}
        for _ in range(args.repeat):
            for name, function in readers.items():
                start = time.perf_counter()
                assert function(path) == args.rows
                timings[name].append(time.perf_counter() - start)
        base = statistics.median(timings["floor"])
        print(f"floor (csv.reader + dict + conversions): {base:.2f} s ({args.rows / base / 1e3:,.0f} k rows/s)")
        labels = {"python": "jo TableReader, the csv module path:", "auto": "jo TableReader as run (auto):       "}
        for name, label in labels.items():
            ours = statistics.median(timings[name])
            print(f"{label}    {ours:.2f} s ({args.rows / ours / 1e3:,.0f} k rows/s), {ours / base:.2f}x the floor, "
                  f"peak RSS {peak_rss(path, False if name == 'python' else None)}")
        print("(every field kept; files of 4 MiB and more are read through polars when run as `auto`)")


if __name__ == "__main__":
    main()
