"""`jo dry-run --store` (issue 13, SPEC §7.1): the entry history, overlays, counters and capping windows of a
run store, read-only: the file is never created, migrated or written."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from jo_cli.engine.ports import Instance
from jo_cli.store import open_store
from jo_cli.store.state import SqliteStateStore
from tests.conftest import copy_demo

NOW = "2026-12-01T08:00:00Z"
ARGS = ("jo", "dry-run", "journeys/welcome-series.yaml", "--now", NOW, "--format", "json")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_demo(tmp_path)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_entries_follow_the_history_the_store_holds(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store_path = tmp_path / "run.db"
    assert run_jo("jo", "publish", "--store", str(store_path), cwd=project).code == 0
    fresh = json.loads(run_jo(*ARGS, cwd=project).out)
    entered = [path["profile"] for path in fresh["paths"]]
    assert len(entered) >= 3 and fresh["profiles"]["discarded"] == {}
    active, ended = entered[0], entered[1]
    # What run-batch would have left: one profile still in the journey, one that went through it last week.
    with open_store(store_path) as store:
        state = SqliteStateStore(store)
        week_ago = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)
        waiting = Instance(seq=state.new_seq(), journey="welcome-series", version=1, profile=active, entry=1,
                           entered_at=week_ago)
        waiting.step, waiting.reached_at = "wait-3d", week_ago
        waiting.wake_at, waiting.wake_kind = dt.datetime(2026, 12, 4, 8, tzinfo=dt.UTC), "wake"
        done = Instance(seq=state.new_seq(), journey="welcome-series", version=1, profile=ended, entry=1,
                        entered_at=week_ago)
        done.end, done.ended_at = "end", week_ago
        changes = state.changes()
        changes.start(waiting)
        changes.start(done)
        state.commit(changes)
    before = _digest(store_path)
    ran = run_jo(*ARGS, "--store", str(store_path), cwd=project)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert report["profiles"]["discarded"] == {"already_in_journey": 1, "reentrance_not_allowed": 1}
    assert report["profiles"]["entered"] == fresh["profiles"]["entered"] - 2
    assert active not in [path["profile"] for path in report["paths"]]
    assert _digest(store_path) == before  # read-only: not a byte written


def test_a_store_is_never_created_nor_migrated_by_a_dry_run(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "none.db"
    ran = run_jo(*ARGS, "--store", str(missing), cwd=project)
    assert ran.code == 2 and "no run store there" in ran.err and not missing.exists()
    newer = tmp_path / "newer.db"
    assert run_jo("jo", "publish", "--store", str(newer), cwd=project).code == 0
    with sqlite3.connect(newer) as connection:
        connection.execute("PRAGMA user_version = 999")
    before = _digest(newer)
    ran = run_jo(*ARGS, "--store", str(newer), cwd=project)
    assert ran.code == 2 and "newer" in ran.err and _digest(newer) == before


def test_entries_that_compare_with_a_previous_evaluation_need_a_store(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    ran = run_jo("jo", "dry-run", "journeys/gold-welcome.yaml", "--now", NOW, cwd=project)
    assert ran.code == 2 and "needs a read-only run store (--store or JO_STORE)" in ran.err


def test_audience_qualification_compares_with_the_stores_snapshot(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store_path = tmp_path / "run.db"
    assert run_jo("jo", "publish", "--store", str(store_path), cwd=project).code == 0
    args = ("jo", "dry-run", "journeys/gold-welcome.yaml", "--now", NOW, "--store", str(store_path),
            "--format", "json")
    first = run_jo(*args, cwd=project)
    assert first.code == 0 and json.loads(first.out)["profiles"]["entered"] == 0
    assert "no earlier evaluation of `gold-members` for gold-welcome" in first.err
    # A snapshot from an earlier pass without two of today's gold members: those two qualify now.
    with (project / "data" / "profiles.csv").open(encoding="utf-8") as handle:
        gold = [row["id"] for row in csv.DictReader(handle)
                if row["tier"] == "gold" and row.get("consent.email", "") != "false"]
    assert len(gold) > 2
    with open_store(store_path) as store:
        state = SqliteStateStore(store)
        changes = state.changes()
        changes.members["qualification:gold-welcome"] = frozenset(gold[2:])
        state.commit(changes)
    ran = run_jo(*args, cwd=project)
    assert ran.code == 0 and "no earlier evaluation" not in ran.err
    report = json.loads(ran.out)
    assert report["profiles"]["entered"] == 2
    assert sorted(path["profile"] for path in report["paths"]) == sorted(gold[:2])


def test_capping_windows_start_with_what_the_store_says_was_sent(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store_path = tmp_path / "run.db"
    assert run_jo("jo", "publish", "--store", str(store_path), cwd=project).code == 0
    fresh = json.loads(run_jo(*ARGS, cwd=project).out)
    profile = sorted(_first_day(fresh["messages"]))[0]
    # Three emails in the last week (the demo's default rule set: at most 3 email or sms per P7D), as
    # run-batch records them with its outbox rows.
    with sqlite3.connect(store_path) as connection:
        for day in (26, 27, 28):
            at = int(dt.datetime(2026, 11, day, 9, tzinfo=dt.UTC).timestamp())
            connection.execute("INSERT INTO sends VALUES (?, 'email', ?, ?)", (profile, at, f"k{day}"))
    report = json.loads(run_jo(*ARGS, "--store", str(store_path), cwd=project).out)
    assert profile in _first_day(fresh["messages"]) and profile not in _first_day(report["messages"])
    assert _capped(report) == _capped(fresh) + 1  # a later email, past the window, goes out again



def test_update_profile_writes_in_the_store_are_read(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store_path = tmp_path / "run.db"
    assert run_jo("jo", "publish", "--store", str(store_path), cwd=project).code == 0
    fresh = json.loads(run_jo(*ARGS, cwd=project).out)
    [message] = [m for m in fresh["messages"] if m["profile"] == sorted(_first_day(fresh["messages"]))[0]][:1]
    # An update-profile step of another journey emptied this profile's email; the source still has the old one.
    with open_store(store_path) as store:
        state = SqliteStateStore(store)
        changes = state.changes()
        changes.write_overlay(message["profile"], {"email": ("", message["to"])})
        state.commit(changes)
    report = json.loads(run_jo(*ARGS, "--store", str(store_path), cwd=project).out)
    mine = [m for m in fresh["messages"] if m["profile"] == message["profile"]]
    assert not [m for m in report["messages"] if m["profile"] == message["profile"]]
    assert sum(c.get("excluded", {}).get("no_address", 0) for c in report["steps"].values()) == len(mine)


def test_forced_reentrance_exits_the_stores_instance_first(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    journey = project / "journeys" / "welcome-series.yaml"
    text = journey.read_text(encoding="utf-8").replace("reentrance: {allowed: false}", "reentrance: {allowed: true}")
    journey.write_text(text.replace("  incremental: true\n", "  incremental: true\n  force_reentrance: true\n"),
                       encoding="utf-8")
    store_path = tmp_path / "run.db"
    assert run_jo("jo", "publish", "--store", str(store_path), cwd=project).code == 0
    fresh = json.loads(run_jo(*ARGS, cwd=project).out)
    profile = fresh["paths"][0]["profile"]
    week_ago = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)
    with open_store(store_path) as store:
        state = SqliteStateStore(store)
        waiting = Instance(seq=state.new_seq(), journey="welcome-series", version=1, profile=profile, entry=1,
                           entered_at=week_ago)
        waiting.step, waiting.reached_at = "wait-3d", week_ago
        waiting.wake_at, waiting.wake_kind = dt.datetime(2026, 12, 4, 8, tzinfo=dt.UTC), "wake"
        changes = state.changes()
        changes.start(waiting)
        state.commit(changes)
    report = json.loads(run_jo(*ARGS, "--store", str(store_path), cwd=project).out)
    assert report["profiles"]["discarded"] == {}
    assert report["profiles"]["entered"] == fresh["profiles"]["entered"]
    assert profile in [path["profile"] for path in report["paths"]]

def _first_day(messages: list[dict[str, str]]) -> set[str]:
    """Who gets an email on the demo's first fire day."""
    return {m["profile"] for m in messages if m["channel"] == "email" and m["at"].startswith("2026-12-01")}


def _capped(report: dict[str, Any]) -> int:
    return sum(counts.get("excluded", {}).get("capped", 0) for counts in report["steps"].values())
