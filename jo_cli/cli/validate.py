"""`jo validate [PATHS...]`: parse options, call the library, render, exit code (SPEC §10.1)."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    auto = "auto"
    text = "text"
    concise = "concise"
    json = "json"
    github = "github"
    sarif = "sarif"


def validate_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or directories to check (default: the whole project).", show_default=False),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", "-o", help="Report format; auto is github under GitHub Actions, else text.")
    ] = Format.auto,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    project_dir: Annotated[
        Path | None,
        typer.Option("-C", "--project-dir", help="Project root, as the global -C (handy in pre-commit args).",
                     file_okay=False, show_default=False),
    ] = None,
) -> None:
    """Lint journeys, campaigns, audiences, events and jo.yaml: file:line:col findings with stable codes."""
    from jo_cli.cli.render.findings import REPORTERS
    from jo_cli.findings import CheckResult, promote_warnings
    from jo_cli.validate import validate_paths, validate_project

    cwd = Path.cwd()
    project_dir = project_dir or (ctx.obj or {}).get("project_dir")
    if paths:
        from jo_cli.project import command_line_path

        validation = validate_paths([command_line_path(p, cwd=cwd, project_dir=project_dir) for p in paths], cwd=cwd)
    else:
        root = project_dir or _nearest_project(cwd)
        validation = validate_project(root, cwd=cwd)
    result = validation.result()
    if strict:
        result = CheckResult(promote_warnings(result.findings), result.files_checked, result.files_skipped)
    for note in validation.notes:
        typer.echo(f"note: {note}", err=True)
    name = _resolve_format(output_format)
    typer.echo(REPORTERS[name](validation.sources).render(result), nl=False)
    raise typer.Exit(1 if result.errors else 0)


def _nearest_project(cwd: Path) -> Path:
    from jo_cli.errors import JoError
    from jo_cli.project import find_project_file

    found = find_project_file(cwd)
    if found is None:
        raise JoError(f"no jo.yaml in {cwd} or its parents; pass files to check, -C DIR, or run `jo init`")
    return found.parent


def _resolve_format(output_format: Format) -> str:
    if output_format is not Format.auto:
        return str(output_format.value)
    # yamllint's rule: both variables are set inside GitHub Actions.
    if os.environ.get("GITHUB_ACTIONS") and os.environ.get("GITHUB_WORKFLOW"):
        return "github"
    return "text"
