"""The messages capping counts (SPEC §7.6), as the store keeps them: `sends` rows by profile, channel, time.

Run-batch writes a row with each outbox row (in the same transaction); a
dry-run over a store (`jo dry-run --store`) reads them, so that its capping
windows start with what was really sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from jo_cli.store.sqlite import SqliteStore
from jo_cli.store.versions import seconds

if TYPE_CHECKING:
    from jo_cli.engine.ports import Changes


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



PREFETCH = 500  # profiles per query of `StoreRuleCounters.prefetch`


class StoreRuleCounters:
    """The message policy's capping counts in run-batch (engine/ports.py `RuleCounters`): the `sends` the store
    holds plus those of the engine's unit of work not yet committed (`unit()`: the engine's current `Changes`),
    which the store writes with the outbox rows of that unit.

    `prefetch` reads the stored sends of a batch of profiles at once (a message step's, before it decides
    them), so that counting them costs no query each; what it read holds for the unit it was read in."""

    def __init__(self, store: SqliteStore, unit: Callable[[], Changes]) -> None:
        self.store = store
        self.unit = unit
        self._seen: Changes | None = None
        self._pending: dict[str, list[tuple[str, dt.datetime]]] = {}  # this unit's, by profile
        self._stored = True  # whether the store may hold sends (checked once per unit)
        self._known: dict[str, list[tuple[str, int]]] = {}  # prefetched in this unit: profile -> (channel, at)
        self._known_after = 0  # the sends prefetched are those after this time (seconds)

    def _current(self) -> Changes:
        unit = self.unit()
        if unit is not self._seen:
            self._seen, self._pending, self._known = unit, {}, {}
            self._stored = self.store.one("SELECT 1 FROM sends LIMIT 1") is not None
        return unit

    def prefetch(self, profiles: Iterable[str], *, after: dt.datetime) -> None:
        """Read the stored sends after `after` of `profiles` now, a few queries for the lot."""
        self._current()
        if not self._stored:
            return
        if self._known and seconds(after) != self._known_after:
            self._known = {}
        self._known_after = seconds(after)
        wanted = [profile for profile in dict.fromkeys(profiles) if profile not in self._known]
        for start in range(0, len(wanted), PREFETCH):
            chunk = wanted[start:start + PREFETCH]
            for profile in chunk:
                self._known[profile] = []
            marks = ", ".join("?" * len(chunk))
            for profile, channel, at in self.store.execute(
                    f"SELECT profile, channel, at FROM sends WHERE profile IN ({marks}) AND at > ?",
                    (*chunk, self._known_after)):
                self._known[profile].append((channel, at))

    def count(self, profile: str, channels: frozenset[str], *, after: dt.datetime, until: dt.datetime) -> int:
        self._current()
        pending = sum(1 for channel, at in self._pending.get(profile, ())
                      if after < at <= until and channel in channels)
        if not self._stored:
            return pending
        known = self._known.get(profile)
        start, stop = seconds(after), seconds(until)
        if known is not None and start >= self._known_after:
            return pending + sum(1 for channel, at in known if start < at <= stop and channel in channels)
        return pending + count_sends(self.store, profile, channels, after=after, until=until)

    def add(self, profile: str, channel: str, at: dt.datetime, key: str) -> None:
        unit = self._current()
        unit.sends.append((profile, channel, at, key))
        self._pending.setdefault(profile, []).append((channel, at))
