"""The messages capping counts (SPEC §7.6), as the store keeps them: `sends` rows by profile, channel, time.

Run-batch writes a row with each outbox row (in the same transaction); a
dry-run over a store (`jo dry-run --store`) reads them, so that its capping
windows start with what was really sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import seconds


def count_sends(store: SqliteStore, profile: str, channels: Iterable[str], *, after: dt.datetime,
                until: dt.datetime) -> int:
    """Messages of `channels` created for `profile` in (`after`, `until`]."""
    names = sorted(channels)
    if not names:
        return 0
    marks = ", ".join("?" * len(names))
    row = store.one(f"SELECT count(*) FROM sends WHERE profile = ? AND channel IN ({marks}) AND at > ? AND at <= ?",
                    (profile, *names, seconds(after), seconds(until)))
    return int(row[0]) if row else 0

