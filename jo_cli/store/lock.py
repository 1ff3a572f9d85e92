"""The run lock (SPEC §7.3): one `jo run-batch` pass at a time per store.

An OS file lock (`flock`) on `STORE.lock` beside the store file: the kernel
releases it when the process dies, however it dies, so a crashed pass never
leaves a stale lock to clean up by hand (Mautic's overlapping crons sent one
email up to six times, reference/peers.md §4). The lock file is never
deleted: deleting it while another process waits on it would let two hold
"the" lock on two different files. PostgreSQL stores (§13) use an advisory
lock instead, behind this same function.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_POLL = 0.05  # seconds between tries while waiting


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


@contextmanager
def run_lock(store: Path, *, wait: float = 0.0) -> Iterator[bool]:
    """Hold the store's run lock for the block: True when taken, False when another process held it for
    all of `wait` seconds (0: do not wait)."""
    descriptor = os.open(lock_path(store), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(_POLL)
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
