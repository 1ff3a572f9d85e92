"""Capping counts over a real store (SPEC §7.6): `StoreRuleCounters` counts what the store holds plus the unit's
own sends, and counts the same after `prefetch` read a batch of profiles at once."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from jo_cli.engine.ports import Changes
from jo_cli.store import open_store
from jo_cli.store.sends import StoreRuleCounters
from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import seconds

NOW = dt.datetime(2026, 12, 8, 8, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SENT = {  # profile -> (channel, days before NOW) of its stored sends
    "p1": [("email", 0.5), ("email", 3), ("sms", 2), ("email", 6.5), ("email", 7.5)],
    "p2": [("sms", 1), ("email", 10)],
    "p3": [("email", 1)],
}
PROFILES = ["p1", "p2", "p3", "p4"]
CHANNELS = [frozenset({"email"}), frozenset({"sms"}), frozenset({"email", "sms"})]
WINDOWS = [dt.timedelta(hours=12), DAY, 3 * DAY, 7 * DAY, 8 * DAY, 30 * DAY]


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    opened = open_store(tmp_path / "run.db", create=True)
    with opened.write() as writing:
        writing.executemany("INSERT INTO sends (profile, channel, at, key) VALUES (?, ?, ?, ?)",
                            [(profile, channel, seconds(NOW - days * DAY), f"{profile}:{number}")
                             for profile, sends in SENT.items() for number, (channel, days) in enumerate(sends)])
    return opened


def _counts(counters: StoreRuleCounters) -> dict[tuple[str, frozenset[str], dt.timedelta], int]:
    return {(profile, channels, window): counters.count(profile, channels, after=NOW - window, until=NOW)
            for profile, channels, window in itertools.product(PROFILES, CHANNELS, WINDOWS)}


def test_prefetched_counts_equal_the_store_s_in_every_window(store: SqliteStore) -> None:
    unit = Changes()
    plain = _counts(StoreRuleCounters(store, lambda: unit))
    assert plain[("p1", frozenset({"email"}), 7 * DAY)] == 3 and plain[("p1", CHANNELS[2], 8 * DAY)] == 5
    ahead = StoreRuleCounters(store, lambda: unit)
    ahead.prefetch(["p1", "p2", "p3", "p4", "p1"], after=NOW - 7 * DAY)  # longer windows are read from the store
    queries = []
    store.connection.set_trace_callback(queries.append)
    assert _counts(ahead) == plain
    store.connection.set_trace_callback(None)
    # Windows within the prefetched 7 days cost no query; the 8- and 30-day ones one each.
    assert len(queries) == len(PROFILES) * len(CHANNELS) * 2


def test_the_unit_s_own_sends_count_and_a_new_unit_reads_the_store_again(store: SqliteStore) -> None:
    unit = Changes()
    counters = StoreRuleCounters(store, lambda: unit)
    counters.prefetch(["p1", "p4"], after=NOW - 7 * DAY)
    counters.add("p4", "email", NOW - DAY, "p4:new")
    assert counters.count("p4", frozenset({"email"}), after=NOW - 7 * DAY, until=NOW) == 1
    assert unit.sends == [("p4", "email", NOW - DAY, "p4:new")]
    with store.write() as writing:  # the unit committed: its sends are the store's now
        writing.execute("INSERT INTO sends (profile, channel, at, key) VALUES ('p4', 'email', ?, 'p4:new')",
                        (seconds(NOW - DAY),))
    unit = Changes()
    assert counters.count("p4", frozenset({"email"}), after=NOW - 7 * DAY, until=NOW) == 1  # not twice
    counters.prefetch(["p4"], after=NOW - 7 * DAY)
    assert counters.count("p4", frozenset({"email"}), after=NOW - 7 * DAY, until=NOW) == 1
