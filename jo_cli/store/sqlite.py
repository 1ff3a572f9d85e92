"""The run store in one SQLite file: opening, creating, migrating, and write transactions (SPEC §1, §7.4).

Every rule here comes from a failure someone shipped (reference/ecosystem.md §A8,
durable-execution.md §3): a deferred BEGIN that later writes fails at once
with SQLITE_BUSY whatever the busy timeout, so every write starts with
`BEGIN IMMEDIATE`; WAL lets readers run beside the one writer (one host
only); `synchronous=FULL` because a run's commit is a promise that a message
exists; a file is created whole (built beside its final name, then renamed)
or not at all; a store written by a newer jo, or a file that is not a jo
store, is refused before anything writes to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from jo_cli.errors import JoError
from jo_cli.store.migrations import MIGRATIONS

# `PRAGMA application_id` of every jo store: "JoRS" (jo run store), so another program's SQLite file is told apart.
APPLICATION_ID = 0x4A6F5253
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_TIMEOUT_S = 30.0
_SQLITE_HEADER = b"SQLite format 3\x00"


class SqliteStore:
    """One connection to a store file; SQL runs only through `execute`, `executemany` and `write()`."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self.connection = connection
        self.path = path
        self.readonly = readonly

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self.connection.executemany(sql, rows)

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.connection.execute(sql, params).fetchone()
        return row

    @contextlib.contextmanager
    def write(self) -> Iterator[SqliteStore]:
        """One write transaction: BEGIN IMMEDIATE (waits up to the busy timeout for the writer's lock), then
        COMMIT, or ROLLBACK on any exception."""
        if self.readonly:
            raise JoError(f"{self.path}: the store is open read-only here")
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise JoError(f"{self.path}: the store stayed locked for {BUSY_TIMEOUT_S:.0f} s ({exc}); "
                          "another jo is writing to it") from exc
        try:
            yield self
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_sqlite(path: Path, *, create: bool, readonly: bool = False) -> SqliteStore:
    """The store at `path`, checked: created (atomically) when `create` and absent, migrated when older
    (after a backup beside it) unless `readonly`; refused (JoError, exit 2) when it is not a jo store or
    was written by a newer jo."""
    if not path.exists():
        if not create or readonly:
            raise JoError(f"{path}: no run store there (`jo publish` creates it)")
        _create(path)
    version = _checked_version(path)
    if readonly:
        connection = _connect(f"file:{path}?mode=ro", uri=True)
        if version < SCHEMA_VERSION:
            connection.close()
            raise JoError(f"{path}: the store is at schema version {version}, this jo needs {SCHEMA_VERSION}; "
                          "it is opened read-only here and never migrated: run `jo publish` on it first")
        return SqliteStore(connection, path, readonly=True)
    connection = _connect(str(path))
    _configure(connection)
    store = SqliteStore(connection, path, readonly=False)
    if version < SCHEMA_VERSION:
        _migrate(store, version)
    return store


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    # isolation_level=None: no implicit BEGIN; transactions are the store's own (BEGIN IMMEDIATE in write()).
    connection = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None, uri=uri)
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return connection


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA journal_mode = WAL")  # kept in the file; a no-op once set
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")


def _checked_version(path: Path) -> int:
    """The file's schema version, read without writing; refuses what is not a jo store or is newer."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise JoError(f"{path}: cannot read the store: {exc.strerror or exc}") from exc
    if header != _SQLITE_HEADER:
        raise JoError(f"{path}: not a jo run store (not an SQLite database); name another file with --store")
    try:
        connection = _connect(f"file:{path}?mode=ro", uri=True)
        try:
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise JoError(f"{path}: cannot open the store: {exc}") from exc
    if application_id != APPLICATION_ID:
        raise JoError(f"{path}: an SQLite database but not a jo run store (application_id {application_id}); "
                      "name another file with --store")
    if version > SCHEMA_VERSION:
        raise JoError(f"{path}: the store was written by a newer jo (schema version {version}; this jo knows up "
                      f"to {SCHEMA_VERSION}): upgrade jo. The store was not changed.")
    return int(version)


def _create(path: Path) -> None:
    """A new store, whole or not at all: built in a temporary file beside `path`, then renamed onto it under
    a lock, so racing first publishers find one store (pre-commit's store.py does the same)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _creation_lock(path):
        if path.exists():
            return  # another process created it while this one waited
        for stale in path.parent.glob(f".{path.name}.*.new*"):
            stale.unlink()  # a creator killed before its rename (none runs now: this one holds the lock)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
        os.close(descriptor)
        try:
            connection = _connect(temporary)
            try:
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute("PRAGMA journal_mode = WAL")
                store = SqliteStore(connection, Path(temporary), readonly=False)
                _migrate(store, 0, backup=False)
            finally:
                connection.close()
            os.replace(temporary, path)
        finally:
            for leftover in (temporary, f"{temporary}-wal", f"{temporary}-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)


@contextlib.contextmanager
def _creation_lock(path: Path) -> Iterator[None]:
    lock = path.with_name(f".{path.name}.create-lock")
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _migrate(store: SqliteStore, version: int, *, backup: bool = True) -> None:
    """Forward-only: each migration and its `user_version` in one transaction, so a crash leaves the old
    version or the new one; an existing store is copied beside itself first (`store.db.v1.bak`)."""
    if backup:
        target = store.path.with_name(f"{store.path.name}.v{version}.bak")
        if not target.exists():  # written beside, then renamed: a backup is whole or absent
            partial = target.with_name(f".{target.name}.new")
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            store.execute("VACUUM INTO ?", (str(partial),))
            os.replace(partial, target)
    for number in range(version, SCHEMA_VERSION):
        with store.write():
            current = store.one("PRAGMA user_version")
            if current is not None and current[0] > number:
                continue  # another process migrated while this one waited for the lock
            for statement in MIGRATIONS[number]:
                store.execute(statement)
            store.execute(f"PRAGMA user_version = {number + 1}")
