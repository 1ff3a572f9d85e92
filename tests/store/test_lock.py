"""The run lock (SPEC §7.3): of several passes started together exactly one proceeds; a killed holder's lock
is released by the kernel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from jo_cli.store.lock import lock_path, run_lock

HOLD = """
import sys, time
from pathlib import Path
from jo_cli.store.lock import run_lock
with run_lock(Path(sys.argv[1]), wait=float(sys.argv[2])) as taken:
    print("taken" if taken else "held", flush=True)
    if taken:
        time.sleep(float(sys.argv[3]))
"""


def _start(store: Path, *, wait: float = 0.0, hold: float = 1.0) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", HOLD, str(store), str(wait), str(hold)],
                            stdout=subprocess.PIPE, text=True)


def test_of_eight_passes_started_together_exactly_one_proceeds(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    processes = [_start(store, hold=2.0) for _ in range(8)]
    answers = sorted(p.communicate(timeout=60)[0].strip() for p in processes)
    assert answers == ["held"] * 7 + ["taken"]
    assert lock_path(store).exists()  # kept: never deleted


def test_a_waiting_pass_takes_the_lock_when_the_holder_ends(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    holder = _start(store, hold=1.0)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "taken"
    with run_lock(store) as taken:
        assert not taken
    waiter = _start(store, wait=30.0, hold=0.0)
    assert waiter.communicate(timeout=60)[0].strip() == "taken"
    holder.communicate(timeout=60)


def test_kill_9_of_the_holder_releases_the_lock(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    holder = _start(store, hold=600.0)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "taken"
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=60)
    started = time.monotonic()
    with run_lock(store, wait=10.0) as taken:
        assert taken and time.monotonic() - started < 10.0
