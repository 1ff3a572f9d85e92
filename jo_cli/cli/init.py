"""`jo init [DIR] [--name NAME]`: write a new project skeleton (SPEC §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def init_command(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Argument(help="Where to create the project (created if missing; default: -C, else the current "
                       "directory).", file_okay=False, show_default=False),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Project name (default: the directory's name, as a slug).", show_default=False),
    ] = None,
) -> None:
    """Create a project: jo.yaml, an example journey, sample data, schemas, .gitignore and pre-commit config."""
    import shlex

    from jo_cli.init import init_project, project_files

    directory = directory or (ctx.obj or {}).get("project_dir") or Path(".")
    written = init_project(directory, name=name if name is not None else default_name(directory))
    shown = {path.relative_to(directory).as_posix() for path in written}
    for relative in project_files("x"):
        if relative in shown:
            typer.echo(f"  wrote {relative}", err=True)
        else:
            typer.echo(f"  kept  {relative} (it exists)", err=True)
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {shlex.quote(str(directory))} && "
    typer.echo(f"jo: created a project in {directory}; next: {where}jo validate", err=True)


def default_name(directory: Path) -> str:
    """`My Shop` -> `my-shop`: the directory's name as a lowercase slug."""
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", directory.resolve().name.lower()).strip("-")
    return slug or "jo-project"
