"""SPEC §11: expression evaluation within 1.5x of a hand-written Python lambda, measured in the same run.

    python bench/bench_expr.py [--rows 1000000] [--repeat 5]

The condition is the issue's typical one,
`profile.tier == "gold" and profile.total_spend > 500 and profile.consent.email`,
compiled once from its text; the floor is a lambda written by hand with the
same null rules (a null spend or consent is false), over the same typed rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from zoneinfo import ZoneInfo

from jo_cli.expr.compile import compile_expr
from jo_cli.expr.parser import parse
from jo_cli.expr.runtime import EvalContext

CONDITION = 'profile.tier == "gold" and profile.total_spend > 500 and profile.consent.email'


def rows(count: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    tiers = ["bronze", "silver", "gold", "platinum", None]
    return [
        {
            "id": f"p{i}",
            "tier": rng.choice(tiers),
            "total_spend": None if rng.random() < 0.05 else round(rng.uniform(0, 2000), 2),
            "consent": {"email": rng.choice([True, False, None])},
        }
        for i in range(count)
    ]


def hand_written(profile: dict[str, object], event: object, ctx: object) -> bool:
    """The floor: the same condition and null rules, written by hand with the compiled function's call shape."""
    spend = profile.get("total_spend")
    consent = profile.get("consent") or {}
    return (profile.get("tier") == "gold" and spend is not None and spend > 500  # type: ignore[operator]
            and consent.get("email") is True)  # type: ignore[union-attr]


def timed(function, data, ctx) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    hits = sum(1 for row in data if function(row, None, ctx) is True)
    return time.perf_counter() - start, hits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = rows(args.rows)
    ctx = EvalContext(now=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC), zone=ZoneInfo("Europe/Paris"))
    compiled = compile_expr(parse(CONDITION), numeric_refs=frozenset({("profile", "total_spend")}))

    floors, ours = [], []
    for _ in range(args.repeat):  # interleaved rounds, so drift hits both alike
        seconds, expected = timed(hand_written, data, ctx)
        floors.append(seconds)
        seconds, hits = timed(compiled, data, ctx)
        ours.append(seconds)
        if hits != expected:
            sys.exit(f"compiled expression disagrees with the hand-written lambda: {hits} != {expected}")
    floor_s, ours_s = statistics.median(floors), statistics.median(ours)
    print(f"{args.rows:,} rows: compiled {ours_s:.3f} s, hand-written {floor_s:.3f} s, "
          f"ratio {ours_s / floor_s:.2f}x (bar 1.5x); {ours_s / args.rows * 1e9:.0f} ns/row")
    sys.exit(0 if ours_s / floor_s <= 1.5 else 1)


if __name__ == "__main__":
    main()
