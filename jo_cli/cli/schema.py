"""`jo schema [KIND] [--write DIR]`: jo's JSON Schemas for editors and other tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def schema_command(
    kind: Annotated[
        str | None,
        typer.Argument(help="project, journey, campaign, audience, event or data; omit with --write for all."),
    ] = None,
    write: Annotated[
        Path | None,
        typer.Option("--write", help="Write the schema files into this directory instead of printing.",
                     file_okay=False, show_default=False),
    ] = None,
) -> None:
    """Print a JSON Schema, or write them all (as `jo init` does) for editor completion."""
    from jo_cli.errors import JoError
    from jo_cli.schema.bundled import SCHEMA_NAMES, schema_file_name, schema_text

    names = [kind] if kind else list(SCHEMA_NAMES)
    if write is None:
        if kind is None:
            raise JoError("name a schema to print (" + ", ".join(SCHEMA_NAMES) + ") or pass --write DIR")
        typer.echo(schema_text(kind), nl=False)
        return
    try:
        write.mkdir(parents=True, exist_ok=True)
        for name in names:
            (write / schema_file_name(name)).write_text(schema_text(name), encoding="utf-8")
    except OSError as exc:
        raise JoError(f"cannot write schemas into {write}: {exc.strerror or exc}") from exc
    typer.echo(f"wrote {len(names)} schema{'s' if len(names) != 1 else ''} into {write}", err=True)
