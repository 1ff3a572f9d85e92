"""The SQLite run store: creation, checks on open, migrations, write transactions (SPEC §7.4; ecosystem.md §A8)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from jo_cli.errors import JoError
from jo_cli.store import SCHEMA_VERSION, open_store, store_location
from jo_cli.store.sqlite import APPLICATION_ID


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_store_is_created_whole_with_wal_and_its_version(tmp_path: Path) -> None:
    path = tmp_path / ".jo" / "store.db"
    with open_store(path, create=True) as store:
        assert store.one("PRAGMA journal_mode") == ("wal",)
        assert store.one("PRAGMA synchronous") == (2,)  # FULL
        assert store.one("PRAGMA application_id") == (APPLICATION_ID,)
        assert store.one("PRAGMA user_version") == (SCHEMA_VERSION,)
        tables = {row[0] for row in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"versions", "journeys", "instance_rows", "wakeups", "outbox", "fires", "events", "overlay", "sends",
                "action_calls", "runs", "audience_members", "frozen_files", "version_files"} <= tables
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".new")]  # no temporary file left


def test_a_missing_store_is_not_created_unless_asked(tmp_path: Path) -> None:
    with pytest.raises(JoError, match="no run store there"):
        open_store(tmp_path / "store.db")
    with pytest.raises(JoError, match="no run store there"):
        open_store(tmp_path / "store.db", create=True, readonly=True)
    assert not (tmp_path / "store.db").exists()


def test_a_store_written_by_a_newer_jo_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    open_store(path, create=True).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = _digest(path)
    for readonly in (False, True):
        with pytest.raises(JoError, match=r"written by a newer jo .*upgrade jo. The store was not changed") as error:
            open_store(path, readonly=readonly)
        assert error.value.exit_code == 2
    assert _digest(path) == before
    assert not list(tmp_path.glob("*.bak"))


@pytest.mark.parametrize("content", [b"id,email\np1,a@b.c\n", b"", b"SQLite format 2\x00" + b"\x00" * 100])
def test_a_file_that_is_not_a_store_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "profiles.csv"
    path.write_bytes(content)
    with pytest.raises(JoError, match=r"profiles\.csv: not a jo run store"):
        open_store(path)
    assert path.read_bytes() == content


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(JoError, match="an SQLite database but not a jo run store"):
        open_store(path, create=True)
    assert _digest(path) == before


def test_an_older_store_is_backed_up_then_migrated_and_read_only_opens_never_migrate(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    connection = sqlite3.connect(path)  # a store at schema version 0: jo's id, no tables yet
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.commit()
    connection.close()
    with pytest.raises(JoError, match="opened read-only here and never migrated"):
        open_store(path, readonly=True)
    with open_store(path) as store:
        assert store.one("PRAGMA user_version") == (SCHEMA_VERSION,)
    backup = tmp_path / "store.db.v0.bak"
    assert backup.exists()
    check = sqlite3.connect(backup)
    assert check.execute("PRAGMA user_version").fetchone() == (0,)
    check.close()


def test_a_write_is_all_or_nothing(tmp_path: Path) -> None:
    with open_store(tmp_path / "store.db", create=True) as store:
        with pytest.raises(RuntimeError), store.write():
            store.execute("INSERT INTO runs (started_at, now, status, host, pid) VALUES (1, 1, 'running', 'h', 1)")
            raise RuntimeError("boom")
        assert store.one("SELECT COUNT(*) FROM runs") == (0,)
        with store.write():
            store.execute("INSERT INTO runs (started_at, now, status, host, pid) VALUES (1, 1, 'running', 'h', 1)")
        assert store.one("SELECT COUNT(*) FROM runs") == (1,)


def test_a_read_only_store_refuses_writes(tmp_path: Path) -> None:
    open_store(tmp_path / "store.db", create=True).close()
    with open_store(tmp_path / "store.db", readonly=True) as store, pytest.raises(JoError, match="read-only"), \
            store.write():
        pass


def test_a_second_live_version_is_impossible_whatever_a_writer_does(tmp_path: Path) -> None:
    with open_store(tmp_path / "store.db", create=True) as store:
        insert = ("INSERT INTO versions (id, version, kind, hash, document, status, published_at, published_by) "
                  "VALUES ('j', ?, 'journey', 'h', '{}', 'live', 0, 't')")
        store.execute(insert, (1,))
        with pytest.raises(sqlite3.IntegrityError):
            store.execute(insert, (2,))


def test_the_location_follows_option_then_environment_then_jo_yaml_then_the_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "project"
    assert store_location(root, option="a.db", environment="b.db", configured="c.db") == tmp_path / "a.db"
    assert store_location(root, option=None, environment="b.db", configured="c.db") == tmp_path / "b.db"
    assert store_location(root, option=None, environment=None, configured="c.db") == root / "c.db"
    assert store_location(root, option=None, environment="", configured=None) == root / ".jo" / "store.db"
    with pytest.raises(JoError, match="only SQLite store files"):
        store_location(root, option="postgresql://localhost/test", environment=None, configured=None)
