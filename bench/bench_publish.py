"""`jo publish` of 200 journeys against `jo validate` of the same project, same run (issue 13).

    python bench/bench_publish.py [--journeys 200] [--repeat 3]

A copy of the demo project gets N demo-sized journeys (variants of
welcome-series, ~60 lines, each with its template and audience). Measured,
in process, each best of `--repeat`: the floor (`jo validate` of the
project: a publish validates first), the first publish into a new store (N
versions written, files frozen), and a publish where nothing changed (N
hashes compared). Printed: seconds, the ratio to the floor, and the store's
bytes per version.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from jo_cli.cli.app import run

REPO = Path(__file__).resolve().parents[1]


def make_project(directory: Path, journeys: int) -> Path:
    root = directory / "project"
    for name in ("jo.yaml", "audiences", "events", "templates", "data"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            root.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, root / name)
    (root / "journeys").mkdir()
    template = (REPO / "journeys" / "welcome-series.yaml").read_text(encoding="utf-8")
    for number in range(journeys):
        text = template.replace("id: welcome-series", f"id: welcome-{number:03d}")
        text = text.replace("templates/welcome.html", f"templates/welcome-{number:03d}.html")
        (root / "journeys" / f"welcome-{number:03d}.yaml").write_text(text, encoding="utf-8")
        shutil.copy(REPO / "templates" / "welcome.html", root / "templates" / f"welcome-{number:03d}.html")
    return root


def timed(action: Callable[[], int], *, expect: int = 0) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = action()
    elapsed = time.perf_counter() - start
    if code != expect:
        raise SystemExit(f"unexpected exit {code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    floor, first, again, size = [], [], [], 0
    with tempfile.TemporaryDirectory() as directory:
        root = make_project(Path(directory), args.journeys)
        root_arg = ["-C", str(root)]
        for round_ in range(args.repeat):
            store = Path(directory) / f"store-{round_}.db"
            floor.append(timed(lambda: run([*root_arg, "validate", "-o", "concise"])))
            first.append(timed(lambda store=store: run([*root_arg, "publish", "--store", str(store)])))
            again.append(timed(lambda store=store: run([*root_arg, "publish", "--store", str(store)])))
            size = store.stat().st_size
    best = min(floor)
    print(f"{args.journeys} journeys (demo-sized, each with its template)")
    print(f"  floor: jo validate of the project     {best:7.3f} s")
    print(f"  jo publish, new store ({args.journeys} versions)  {min(first):7.3f} s  {min(first) / best:5.2f}x")
    print(f"  jo publish, nothing changed          {min(again):7.3f} s  {min(again) / best:5.2f}x")
    print(f"  store: {size:,} bytes, {size // args.journeys:,} bytes per version")


if __name__ == "__main__":
    main()
