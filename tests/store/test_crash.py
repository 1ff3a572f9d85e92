"""kill -9 at every SQL statement of a publish and of a migration: the old state or the new, never a half (§7.4).

The child is a fork of the test process (no interpreter start per crash) with a
trace callback on every store connection that SIGKILLs the process when the
Nth statement starts; N sweeps until a child finishes untouched.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import jo_cli.store.sqlite as sqlite_store
from jo_cli.publish import Candidate, candidates, publish, validate_for_publish
from jo_cli.store import SCHEMA_VERSION, open_store
from jo_cli.store.sqlite import APPLICATION_ID
from tests.conftest import copy_demo

NOW = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC)


def _killed_at(statement: int, work: Callable[[], None]) -> bool:
    """Run `work` in a forked child killed when its `statement`th SQL statement starts; True if it was killed."""
    pid = os.fork()
    if pid == 0:  # the child
        try:
            connect = sqlite_store._connect
            seen = [0]

            def counting(*args: object, **kwargs: object) -> sqlite3.Connection:
                connection = connect(*args, **kwargs)  # type: ignore[arg-type]

                def trace(_sql: str) -> None:
                    seen[0] += 1
                    if seen[0] == statement:
                        os.kill(os.getpid(), signal.SIGKILL)

                connection.set_trace_callback(trace)
                return connection

            sqlite_store._connect = counting  # type: ignore[assignment]
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            work()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _versions(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return connection.execute("SELECT id, version FROM versions ORDER BY id, version").fetchall()
    finally:
        connection.close()


def _candidates(project: Path) -> list[Candidate]:
    validation = validate_for_publish(project, [], cwd=project)
    assert not validation.result().errors and validation.index is not None
    return candidates(validation.index, None, shown={})


def test_kill_9_at_every_statement_of_a_publish(tmp_path: Path) -> None:
    """The first publish (the store created too) and a publish of one changed file, killed at each statement:
    afterwards the store holds every version of the invocation or none, and a rerun ends where one run ends."""
    project = copy_demo(tmp_path)
    first = _candidates(project)
    path = project / "journeys" / "birthday.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("tags: [loyalty, birthday]", "tags: [x]"))
    second = _candidates(project)
    store = tmp_path / "runs" / "store.db"
    prepared = tmp_path / "v1.db"

    def publish_all(found: list[Candidate], now: dt.datetime) -> None:
        with open_store(store, create=True) as opened:
            publish(opened, found, invalid=set(), at=now, by="test", check=False)

    publish_all(first, NOW)
    shutil.copy(store, prepared)
    ids = sorted(c.new.id for c in first)
    states = {"none": [], "v1": [(i, 1) for i in ids], "v2": sorted([*((i, 1) for i in ids), ("birthday", 2)])}
    crashes = 0
    for start, found, end in (("none", first, "v1"), ("v1", second, "v2")):
        statement = 1
        while True:
            shutil.rmtree(store.parent, ignore_errors=True)
            if start == "v1":
                store.parent.mkdir()
                shutil.copy(prepared, store)
            killed = _killed_at(statement, lambda found=found: publish_all(found, LATER))
            assert _versions(store) in (states[start], states[end]), statement
            if store.parent.exists():  # a killed creation leaves no half-built file behind the lock
                assert not [p for p in store.parent.iterdir() if p.name.endswith(".new")] or not store.exists()
            if not killed:
                assert _versions(store) == states[end]
                break
            crashes += 1
            publish_all(found, LATER)  # the rerun ends where one uninterrupted run ends
            assert _versions(store) == states[end], statement
            statement += 1
    assert crashes > 20


def test_kill_9_at_every_statement_of_a_migration(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    crashes, statement = 0, 1
    while True:
        for leftover in tmp_path.iterdir():
            leftover.unlink()
        connection = sqlite3.connect(path)  # a store at schema version 0
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.commit()
        connection.close()
        killed = _killed_at(statement, lambda: open_store(path).close())
        connection = sqlite3.connect(path)
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = connection.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                    "AND name NOT LIKE 'sqlite_%'").fetchone()[0]
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        connection.close()
        assert (version, tables == 0) in ((0, True), (SCHEMA_VERSION, False)), (statement, version, tables)
        backups = [p.name for p in tmp_path.iterdir() if ".bak" in p.name and not p.name.startswith(".")]
        for name in backups:  # a backup, when there is one, is whole
            check = sqlite3.connect(tmp_path / name)
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            check.close()
        if not killed:
            break
        crashes += 1
        with open_store(path) as store:  # the rerun completes the migration
            assert store.one("PRAGMA user_version") == (SCHEMA_VERSION,)
        statement += 1
    assert crashes > 5
