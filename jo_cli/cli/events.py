"""`jo events push FILE|-`: queue events in the run store for `jo run-batch` (SPEC §5.3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from jo_cli.cli.publish import Format, FormatOption, ProjectOption, StoreOption

app = typer.Typer(no_args_is_help=True, help="Events in the run store.")


@app.command("push")
def push_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FILE|-", help="JSON Lines of events; - reads standard input.",
                                          show_default=False)],
    store: StoreOption = None,
    output_format: FormatOption = Format.text,
    project_dir: ProjectOption = None,
) -> None:
    """Queue events for run-batch: each line checked as a dry-run checks it; a repeated `id` is queued once."""
    import datetime as dt

    from jo_cli.cli.publish import open_project_store, validated_project
    from jo_cli.data.events import Event, EventCounts, EventReject, counted
    from jo_cli.engine.project import ProjectInputs
    from jo_cli.errors import JoError
    from jo_cli.store.state import SqliteStateStore

    cwd = Path.cwd()
    opened, root = open_project_store(ctx, project_dir, store)
    with opened:
        # The events are typed by the project's declarations: only a project `jo validate` passes reads them.
        index = validated_project(root, cwd)
        if index is None:
            raise typer.Exit(1)
        inputs = ProjectInputs(index)
        if source == "-":
            lines, shown = sys.stdin.buffer, "<stdin>"
        else:
            path = Path(source) if Path(source).is_absolute() else cwd / source
            if not path.is_file():
                raise JoError(f"{source}: no such file")
            lines, shown = path, source
        counts = EventCounts()
        events: list[Event] = []
        rejects: list[EventReject] = []
        for item in counted(inputs.read_events(lines, shown=shown), counts):
            if isinstance(item, Event):
                events.append(item)
            else:
                rejects.append(item)
        # One transaction for the whole file: a push that fails or is killed queues nothing, and pushing the
        # same file again queues each event with an `id` once.
        queued = SqliteStateStore(opened).push(events, at=dt.datetime.now(dt.UTC).replace(microsecond=0))
    duplicates = counts.duplicates + len(events) - queued
    for reject in rejects:
        typer.echo(str(reject), err=True)
    if output_format is Format.json:
        typer.echo(json.dumps({"read": counts.read, "queued": queued, "duplicates": duplicates,
                               "rejected": counts.rejected}, indent=2))
    else:
        typer.echo(f"{counts.read:,} read: {queued:,} queued, {duplicates:,} duplicates, {counts.rejected:,} rejected")
    raise typer.Exit(1 if rejects else 0)
