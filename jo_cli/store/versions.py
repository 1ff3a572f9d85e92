"""Versions of journeys and campaigns in the store (SPEC §7.2): typed reads and writes, the only SQL for them.

Writes take the store inside its `write()` transaction, so a caller can make
several of them one all-or-nothing unit (a publish of many files).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jo_cli.store.sqlite import SqliteStore

Status = Literal["live", "closed", "stopped", "finished"]


@dataclass(frozen=True, slots=True)
class Version:
    id: str
    kind: str
    version: int
    hash: str
    status: Status  # `finished`: closed or stopped with no active instance left
    published_at: dt.datetime
    published_by: str
    closed_at: dt.datetime | None
    active: int = 0
    entered: int = 0


@dataclass(frozen=True, slots=True)
class NewVersion:
    id: str
    kind: str
    hash: str
    document: Mapping[str, Any]
    files: Mapping[str, bytes]  # path in the project -> the content frozen with the version
    names: tuple[str, ...] = ()  # step ids and outcome names, coded by their position


def seconds(at: dt.datetime) -> int:
    return int(at.timestamp())


def instant(value: int | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC)


def latest_version(store: SqliteStore, version_id: str) -> Version | None:
    """The id's newest version, whatever its status."""
    rows = _versions(store, "WHERE v.id = ? ORDER BY v.version DESC LIMIT 1", (version_id,))
    return rows[0] if rows else None


def versions_of(store: SqliteStore, version_id: str) -> list[Version]:
    """Every version of the id, oldest first, with its active and entered instance counts."""
    return _versions(store, "WHERE v.id = ? ORDER BY v.version", (version_id,))


def all_latest(store: SqliteStore) -> list[Version]:
    """The newest version of every id, by id."""
    return _versions(store, "WHERE v.version = (SELECT MAX(version) FROM versions WHERE id = v.id) ORDER BY v.id",
                     ())


def _versions(store: SqliteStore, where: str, params: tuple[Any, ...]) -> list[Version]:
    rows = store.execute(
        "SELECT v.id, v.kind, v.version, v.hash, v.status, v.published_at, v.published_by, v.closed_at, "
        "(SELECT COUNT(*) FROM instances i WHERE i.journey = v.id AND i.version = v.version "
        " AND i.ended_at IS NULL), "
        "(SELECT COUNT(*) FROM instances i WHERE i.journey = v.id AND i.version = v.version) "
        f"FROM versions v {where}", params).fetchall()
    found = []
    for (version_id, kind, number, digest, status, published, by, closed, active, entered) in rows:
        shown: Status = "finished" if status != "live" and active == 0 else status
        found.append(Version(version_id, kind, number, digest, shown, instant(published) or dt.datetime.min,
                             by, instant(closed), active, entered))
    return found


def version_document(store: SqliteStore, version_id: str, version: int) -> dict[str, Any] | None:
    row = store.one("SELECT document FROM versions WHERE id = ? AND version = ?", (version_id, version))
    return None if row is None else dict(json.loads(row[0]))


def version_files(store: SqliteStore, version_id: str, version: int) -> dict[str, bytes]:
    """The files frozen with a version: path -> content."""
    rows = store.execute("SELECT f.path, c.content FROM version_files f JOIN frozen_files c ON c.hash = f.hash "
                         "WHERE f.id = ? AND f.version = ? ORDER BY f.path", (version_id, version)).fetchall()
    return {path: bytes(content) for path, content in rows}


def insert_version(store: SqliteStore, new: NewVersion, *, at: dt.datetime, by: str) -> int:
    """Version N+1 of `new.id`, live; the previous live version closed (its instances finish in it).
    Call inside `store.write()`; returns the new version number."""
    row = store.one("SELECT MAX(version) FROM versions WHERE id = ?", (new.id,))
    number = (row[0] or 0) + 1 if row else 1
    when = seconds(at)
    store.execute("UPDATE versions SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'live'",
                  (when, new.id))
    store.execute("INSERT INTO versions (id, version, kind, hash, document, status, published_at, published_by) "
                  "VALUES (?, ?, ?, ?, ?, 'live', ?, ?)",
                  (new.id, number, new.kind, new.hash, document_json(new.document), when, by))
    digests = {path: hashlib.sha256(content).hexdigest() for path, content in new.files.items()}
    store.executemany("INSERT INTO frozen_files (hash, content) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
                      ((digests[path], content) for path, content in new.files.items()))
    store.executemany("INSERT INTO version_files (id, version, path, hash) VALUES (?, ?, ?, ?)",
                      ((new.id, number, path, digest) for path, digest in sorted(digests.items())))
    store.executemany("INSERT INTO version_names (id, version, code, name) VALUES (?, ?, ?, ?)",
                      ((new.id, number, code, name) for code, name in enumerate(new.names)))
    return number


def close_live(store: SqliteStore, version_id: str, *, at: dt.datetime) -> int | None:
    """Close the id's live version (no new entries; its instances finish). The version closed, or None."""
    row = store.one("UPDATE versions SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'live' "
                    "RETURNING version", (seconds(at), version_id))
    return None if row is None else int(row[0])


def known_ids(store: SqliteStore) -> set[str]:
    return {row[0] for row in store.execute("SELECT DISTINCT id FROM versions")}


def canonical_json(value: Any) -> str:
    """SPEC §7.2's canonical form: sorted keys, separators `,` and `:`, UTF-8 (no ASCII escapes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def document_json(value: Any) -> str:
    """A version's document as stored: canonical_json's separators, but the file's key order (steps in file
    order are what §7.1's counts and `jo report` show, and what the engine breaks ties by); the hash is of the
    canonical form, so reordering keys is no new version."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(document: Any, files: Mapping[str, bytes]) -> str:
    """sha256 of canonical_json({"document": ..., "files": {path: sha256}}) (SPEC §7.2)."""
    digests = {path: hashlib.sha256(content).hexdigest() for path, content in files.items()}
    text = canonical_json({"document": document, "files": digests})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def names_of(values: Iterable[str]) -> tuple[str, ...]:
    """Names in first-seen order, each once (the codes of version_names)."""
    return tuple(dict.fromkeys(values))
