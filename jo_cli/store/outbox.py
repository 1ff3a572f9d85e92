"""The outbox (SPEC §7.4, §7.5): one row per message, created in the transaction of the state change that
made it, UNIQUE by its key, exported and acknowledged by `seq`.

A message row is created exactly once whatever crashes or reruns: the key is
a pure function of where it comes from, and a second insert of a key does
nothing. `seq` is monotonic and never reused (AUTOINCREMENT), so an exporter
that remembers the last `seq` it handed on (`--after`) and acknowledges
through it never skips nor repeats a message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import canonical_json, seconds

STATUSES = ("pending", "sent", "failed", "dead", "cancelled")
# The message object's keys in §7.5's order; the export adds `status` and `seq`.
MESSAGE_KEYS = ("key", "kind", "id", "version", "step", "profile", "channel", "to", "subject", "title", "body",
                "text", "at")


def add_messages(store: SqliteStore, messages: Iterable[Mapping[str, Any]], *, created_at: dt.datetime) -> int:
    """Insert messages (§7.5 objects, `at` formatted) as pending, inside the caller's `store.write()`; a key
    already there is left as it is. Returns how many rows were created."""
    before = store.connection.total_changes
    store.executemany(
        "INSERT INTO outbox (key, kind, id, version, step, profile, channel, message, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        ((m["key"], m["kind"], m["id"], m.get("version"), m["step"], m["profile"], m["channel"],
          canonical_json({k: m[k] for k in MESSAGE_KEYS if k in m}), seconds(created_at)) for m in messages))
    return store.connection.total_changes - before


def export(store: SqliteStore, *, channels: Collection[str], status: str | None = "pending",
           after: int = 0) -> Iterator[dict[str, Any]]:
    """The message objects of `channels` with `status` (None: every status) and `seq` after `after`, in seq
    order, each with its `status` and `seq`."""
    if not channels:
        return
    marks = ", ".join("?" * len(channels))
    where = f"seq > ? AND channel IN ({marks})" + (" AND status = ?" if status is not None else "")
    params: list[Any] = [after, *sorted(channels)] + ([status] if status is not None else [])
    for seq, message, state in store.execute(f"SELECT seq, message, status FROM outbox WHERE {where} ORDER BY seq",
                                             params):
        found = json.loads(message)
        yield {**{k: found[k] for k in MESSAGE_KEYS if k in found}, "status": state, "seq": seq}


def acknowledge(store: SqliteStore, *, channels: Collection[str], through: int, at: dt.datetime) -> int:
    """Mark the pending messages of `channels` with `seq` at or before `through` sent (inside `store.write()`);
    how many were marked."""
    if not channels:
        return 0
    marks = ", ".join("?" * len(channels))
    cursor = store.execute(f"UPDATE outbox SET status = 'sent', done_at = ? WHERE status = 'pending' AND seq <= ? "
                           f"AND channel IN ({marks})", (seconds(at), through, *sorted(channels)))
    return int(cursor.rowcount)


def last_seq(store: SqliteStore) -> int:
    row = store.one("SELECT coalesce(max(seq), 0) FROM outbox")
    return int(row[0]) if row else 0
