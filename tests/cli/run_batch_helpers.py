"""What the run-batch tests share: the demo project published with its events, passes run in-process or in a
forked child killed at a named crash point, and a store's logical state for comparing runs."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jo_cli import crash
from jo_cli.cli.app import run
from jo_cli.durations import LATEST
from jo_cli.engine.ports import KINDS_IN_ORDER
from jo_cli.store import open_store
from jo_cli.store.state import SqliteStateStore

PUBLISHED = "2026-11-30T08:00:00Z"
# Four passes over the demo: the first fires, the events of the first day, the next day's fires with
# wake-ups, then a week later (catch-up, skipped fires, messages after waits and quiet hours).
PASSES = ("2026-12-01T08:00:00Z", "2026-12-01T12:00:00Z", "2026-12-02T09:00:00Z", "2026-12-09T09:00:00Z")
CHUNK = "40"  # profiles per transaction: the demo's fires take several


def quiet_run(*args: str) -> int:
    """`jo ARGS` in this process, its output dropped (the crash tests compare stores, not text)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return run(list(args))


def published_demo(project: Path, store: Path) -> None:
    assert quiet_run("publish", "-C", str(project), "--store", str(store), "--now", PUBLISHED) == 0
    assert quiet_run("events", "push", "-C", str(project), "--store", str(store),
                     str(project / "events" / "events.jsonl")) == 1  # one line of the demo's is rejected


def pass_args(project: Path, store: Path, now: str) -> tuple[str, ...]:
    return ("run-batch", "-C", str(project), "--store", str(store), "--now", now, "--chunk", CHUNK)


def killed_pass(project: Path, store: Path, now: str, point: str, count: int, *extra: str) -> bool:
    """A pass in a forked child SIGKILLed the `count`th time it reaches crash point `point`; True if it was
    killed (False: the pass reached that point fewer times and finished)."""
    pid = os.fork()
    if pid == 0:  # the child: no interpreter start per crash
        code = 99
        try:
            crash.arm(point, count)
            code = quiet_run(*pass_args(project, store, now), *extra)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, f"the pass at {now} exited {os.WEXITSTATUS(status)}"
    return False


def copy_store(source: Path, target: Path) -> None:
    """A store file with its WAL, as a crash leaves them."""
    for suffix in ("", "-wal", "-shm"):
        if target.with_name(target.name + suffix).exists():
            target.with_name(target.name + suffix).unlink()
        if source.with_name(source.name + suffix).exists():
            shutil.copy(source.with_name(source.name + suffix), target.with_name(target.name + suffix))


def logical_state(path: Path) -> dict[str, Any]:
    """Everything a pass decides, as the store keeps it: instances with their history, what is due, the outbox,
    capping, counters, discards, overlays, snapshots, events and their results, fire state. Left out: the
    wall-clock columns and `runs` (a crashed pass leaves a row that says so), and how wake-ups are packed
    into buckets (a rerun packs them per its own commits): what is due at any time is compared instead."""
    tables = {
        "instances": "SELECT j.id, i.profile, i.entry, i.seq, i.version, i.body, i.ended_at FROM instance_rows i "
                     "JOIN journeys j ON j.code = i.journey ORDER BY j.id, i.profile, i.entry",
        "outbox": "SELECT seq, key, kind, id, version, step, profile, channel, message, status FROM outbox "
                  "ORDER BY seq",
        "sends": "SELECT * FROM sends ORDER BY 1, 2, 3, 4",
        "counters": "SELECT * FROM counters ORDER BY name",
        "discards": "SELECT * FROM discards ORDER BY 1, 2, 3",
        "overlay": "SELECT * FROM overlay ORDER BY 1, 2",
        "members": "SELECT * FROM audience_members ORDER BY 1, 2",
        "events": "SELECT seq, done FROM events ORDER BY seq",
        "event_results": "SELECT * FROM event_results ORDER BY 1, 2",
        "fires": "SELECT id, scheduled_at, version, status, reason, members, entered, cursor FROM fires ORDER BY 1, 2",
    }
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        found: dict[str, Any] = {name: connection.execute(sql).fetchall() for name, sql in tables.items()}
    with open_store(path, readonly=True) as store:
        state = SqliteStateStore(store)
        found["due"] = [instance.state() for instance in state.wakeups(LATEST, KINDS_IN_ORDER)]
        found["next_wake"] = state.next_wake()
    return found


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def many_profiles(project: Path, target: Path, copies: int) -> int:
    """The demo's profile file repeated `copies` times with fresh identities (p00001 ...); how many rows."""
    with (project / "data" / "profiles.csv").open(encoding="utf-8") as source:
        header, *rows = source.read().splitlines()
    count = 0
    with target.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        for copy in range(copies):
            for row in rows:
                ident, rest = row.split(",", 1)
                out.write(f"p{copy:03}{ident[1:]},{rest}\n")
                count += 1
    return count


def timed_passes(project: Path, store: Path, profiles: Path, passes: Sequence[str],
                 extra: Sequence[str] = ()) -> list[float]:
    """Run `passes` uninterrupted, each in a fresh process as cron runs it; each one's seconds."""
    seconds = []
    for now in passes:
        start = time.perf_counter()
        finished = subprocess.run([sys.executable, "-m", "jo_cli", *pass_args(project, store, now),
                                   "--profiles", str(profiles), *extra], capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - start)
        assert finished.returncode == 0, finished.stderr
    return seconds


def random_kills(project: Path, store: Path, profiles: Path, passes: Sequence[str], *, kills: int, seed: int,
                 durations: Sequence[float], extra: Sequence[str] = ()) -> int:
    """Run `passes` in fresh processes, SIGKILLing `kills` of them at random moments within each pass's
    uninterrupted `durations` (a killed pass is run again, and maybe killed again, until one finishes); how
    many processes were really killed before they finished."""
    chooser = random.Random(seed)
    weights = list(durations)
    plan = sorted(chooser.choices(range(len(passes)), weights=weights, k=kills))  # more kills in longer passes
    killed = 0
    for index, now in enumerate(passes):
        for _ in range(plan.count(index)):
            child = subprocess.Popen([sys.executable, "-m", "jo_cli", *pass_args(project, store, now),
                                      "--profiles", str(profiles), *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(chooser.uniform(0.3, durations[index]))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                killed += 1
            child.wait()
        finished = subprocess.run([sys.executable, "-m", "jo_cli", *pass_args(project, store, now),
                                   "--profiles", str(profiles), *extra], capture_output=True, text=True, check=False)
        assert finished.returncode == 0, finished.stderr
    return killed
