"""jo's own JSON Schemas: one copy in `schemas/`, shipped in the wheel (SPEC §2)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jo_cli.errors import JoError

KINDS = ("project", "journey", "campaign", "audience", "event")
# `data` is the §5.1 subset that profile, entity and event data schemas must keep to.
SCHEMA_NAMES = (*KINDS, "data")


def schema_dir() -> Path:
    """Where the schemas are: inside the wheel, or `schemas/` of a source checkout."""
    packaged = resources.files("jo_cli").joinpath("_schemas")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schemas"


def schema_file_name(name: str) -> str:
    return f"{name}.schema.json"


@cache
def load_schema(name: str) -> dict[str, Any]:
    if name not in SCHEMA_NAMES:
        raise JoError(f"unknown schema `{name}`; choose one of {', '.join(SCHEMA_NAMES)}")
    path = schema_dir() / schema_file_name(name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except OSError as exc:
        raise RuntimeError(f"jo's bundled schema {path} cannot be read: {exc}") from exc


def schema_text(name: str) -> str:
    """The schema exactly as shipped, for `jo schema` and `jo schema --write`."""
    load_schema(name)
    return (schema_dir() / schema_file_name(name)).read_text(encoding="utf-8")
