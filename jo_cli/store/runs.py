"""Passes of `jo run-batch` (SPEC §7.3 step 5): one `runs` row each, and the fires still open.

A pass writes its row as it starts (`running`) and its summary as it ends
(`done`). A row left `running` belongs to a pass that died: the next pass,
holding the run lock, marks it `failed` before writing its own (nothing
else is lost with it: every unit of work committed on its own).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import instant, seconds


def start_run(store: SqliteStore, *, now: dt.datetime, at: dt.datetime) -> int:
    """A new `runs` row for this pass (call holding the run lock); earlier ones still `running` died."""
    with store.write():
        store.execute("UPDATE runs SET status = 'failed', ended_at = ? WHERE status = 'running'", (seconds(at),))
        row = store.one("INSERT INTO runs (started_at, now, status, host, pid) VALUES (?, ?, 'running', ?, ?) "
                        "RETURNING id", (seconds(at), seconds(now), socket.gethostname(), os.getpid()))
    assert row is not None
    return int(row[0])


def finish_run(store: SqliteStore, run: int, summary: Mapping[str, Any], *, at: dt.datetime) -> None:
    with store.write():
        store.execute("UPDATE runs SET status = 'done', ended_at = ?, summary = ? WHERE id = ?",
                      (seconds(at), json.dumps(summary, sort_keys=True, ensure_ascii=False), run))


def fail_run(store: SqliteStore, run: int, *, at: dt.datetime) -> None:
    """The pass stopped on an error (a bad profile source): its row says so."""
    with store.write():
        store.execute("UPDATE runs SET status = 'failed', ended_at = ? WHERE id = ?", (seconds(at), run))


def runs(store: SqliteStore) -> list[dict[str, Any]]:
    """Every pass, oldest first (for reports and tests)."""
    return [{"id": run, "started_at": instant(started), "now": instant(now), "ended_at": instant(ended),
             "status": status, "summary": json.loads(summary) if summary else None}
            for run, started, now, ended, status, summary in store.execute(
                "SELECT id, started_at, now, ended_at, status, summary FROM runs ORDER BY id")]


def open_fires(store: SqliteStore, ids: Sequence[str], status: str) -> dict[str, list[dt.datetime]]:
    """Fires with `status` by id, oldest first: `claimed` ones a pass began and did not finish (it died
    mid-fire: resumed first), `failed` ones (retried)."""
    found: dict[str, list[dt.datetime]] = {}
    for ident, at in store.execute("SELECT id, scheduled_at FROM fires WHERE status = ? ORDER BY id, scheduled_at",
                                   (status,)):
        if ident in ids:
            found.setdefault(ident, []).append(dt.datetime.fromtimestamp(at, dt.UTC))
    return found
