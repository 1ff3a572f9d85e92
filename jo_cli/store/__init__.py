"""The run store: the only package with SQL (STYLE habit 4). Callers use its typed functions.

`open_store` picks the backend from the location (a file path: SQLite; a
PostgreSQL URL comes later, SPEC §13) and hands back a store whose
`execute`/`write()` are the dialect seam the typed functions run through.
"""

from __future__ import annotations

from pathlib import Path

from jo_cli.errors import JoError
from jo_cli.store.sqlite import SCHEMA_VERSION, SqliteStore, open_sqlite

DEFAULT_LOCATION = ".jo/store.db"

__all__ = ["DEFAULT_LOCATION", "SCHEMA_VERSION", "SqliteStore", "open_store", "store_location"]


def store_location(root: Path, *, option: str | None, environment: str | None, configured: object) -> Path:
    """Where the store is (SPEC §0): `--store` beats `JO_STORE` beats `jo.yaml`'s `store` beats `.jo/store.db`;
    a relative `jo.yaml` value is relative to the project root, a command-line or environment one to the
    working directory (the caller makes those absolute)."""
    for given in (option, environment):
        if given:
            return _file_location(given, Path.cwd())
    if isinstance(configured, str) and configured:
        return _file_location(configured, root)
    return root / DEFAULT_LOCATION


def _file_location(text: str, base: Path) -> Path:
    if "://" in text:
        raise JoError(f"store {text!r}: only SQLite store files are supported in this version of jo "
                      "(PostgreSQL comes later)")
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def open_store(path: Path, *, create: bool = False, readonly: bool = False) -> SqliteStore:
    """The store at `path` (see `sqlite.open_sqlite`)."""
    return open_sqlite(path, create=create, readonly=readonly)
