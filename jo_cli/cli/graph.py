"""`jo graph FILE [--format mermaid|dot]`: a journey or campaign as a flowchart (SPEC §7.7)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


def graph_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A journey or campaign YAML file.", show_default=False)],
    output_format: Annotated[
        GraphFormat,
        typer.Option("--format", "-o", help="mermaid (renders in pull requests and Markdown) or dot (Graphviz)."),
    ] = GraphFormat.mermaid,
    project_dir: Annotated[
        Path | None,
        typer.Option("-C", "--project-dir", help="Read FILE relative to this directory, as the global -C.",
                     file_okay=False, show_default=False),
    ] = None,
) -> None:
    """Draw a journey's steps or a campaign's activities, with the outcome names on the edges."""
    from jo_cli.draw import read_drawing, render
    from jo_cli.project import command_line_path
    from jo_cli.validate import display_path

    cwd = Path.cwd()
    path = command_line_path(file, cwd=cwd, project_dir=project_dir or (ctx.obj or {}).get("project_dir"))
    drawing = read_drawing(path, shown=display_path(path, cwd))
    typer.echo(render(drawing, output_format.value), nl=False)
