"""`jo report ID`: what a published journey's instances did, with §7.1's counts and a funnel (SPEC §7.7)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from jo_cli.cli.publish import Format, FormatOption, ProjectOption, StoreOption, open_project_store


def report_command(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="A journey id.", show_default=False)],
    version: Annotated[int | None, typer.Option("--version", min=1, help="One version (default: all of them).",
                                                show_default=False)] = None,
    store: StoreOption = None,
    output_format: FormatOption = Format.text,
    project_dir: ProjectOption = None,
) -> None:
    """Counts per step and outcome of a journey's instances in the run store, as a funnel or JSON."""
    from jo_cli.engine.project import ProjectInputs
    from jo_cli.report import funnel_lines, journey_report

    opened, root = open_project_store(ctx, project_dir, store, readonly=True)
    zone = ProjectInputs.load(root).zone
    with opened:
        report = journey_report(opened, ident, version=version, zone=zone)
    if output_format is Format.json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo("\n".join(funnel_lines(report)))



