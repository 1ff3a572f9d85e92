"""`jo dry-run JOURNEY`: who would get what, when, and why, on sample profiles (SPEC §7.1)."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from jo_cli.project_index import ProjectIndex


class Format(StrEnum):
    text = "text"
    json = "json"


def dry_run_command(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey file (or its id).", show_default=False)],
    profiles: Annotated[Path | None, typer.Option("--profiles", help="Profile CSV (default: profiles.source).",
                                                  dir_okay=False, show_default=False)] = None,
    events: Annotated[Path | None, typer.Option("--events", help="Events as JSON Lines, consumed at their `at`.",
                                                dir_okay=False, show_default=False)] = None,
    now: Annotated[str | None, typer.Option("--now", help="Start of the virtual clock, ISO 8601 (default: "
                                            "the earliest event for an event entry, else now).",
                                            show_default=False)] = None,
    until: Annotated[str | None, typer.Option("--until", help="Horizon, ISO 8601 (default: --now + P91D).",
                                              show_default=False)] = None,
    duration: Annotated[str | None, typer.Option("--for", help="Horizon as a duration after --now, e.g. P30D.",
                                                 show_default=False)] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="Messages and paths of the first N profiles to "
                                      "enter (0: none).")] = 20,
    render_all: Annotated[bool, typer.Option("--render-all", help="Render every message, so render errors "
                                             "count (default: only the messages shown).")] = False,
    max_rejected: Annotated[int | None, typer.Option("--max-rejected", min=0, help="Stop before running when "
                                                     "more profile rows are rejected.", show_default=False)] = None,
    store: Annotated[str | None, typer.Option("--store", help="A run store to read (never written): entry "
                                              "history, update-profile writes, capping and qualification "
                                              "snapshots (default: JO_STORE).", show_default=False)] = None,
    output_format: Annotated[Format, typer.Option("--format", "-o", help="text (a tree with counts) or json (§7.1).")]
    = Format.text,
    project_dir: Annotated[Path | None, typer.Option("-C", "--project-dir", help="Project root, as the global -C.",
                                                     file_okay=False, show_default=False)] = None,
) -> None:
    """Simulate a journey on sample profiles and events: counts per step, paths, the messages, rendered."""
    from jo_cli.cli.progress import StatusLine
    from jo_cli.dryrun import DryRunOptions, dry_run, parse_for, parse_when
    from jo_cli.engine.project import ProjectInputs
    from jo_cli.errors import JoError

    cwd = Path.cwd()
    if until is not None and duration is not None:
        raise JoError("--until and --for both give the horizon: use one of them")
    root, path = _locate(journey, project_dir or (ctx.obj or {}).get("project_dir"), cwd)
    inputs = ProjectInputs(_validated(root, path, cwd, output_format))  # the project as validation read it
    _refuse_campaign(inputs, path, journey)
    options = DryRunOptions(
        profiles=_absolute(profiles, cwd), events=_absolute(events, cwd),
        now=parse_when(now, option="--now", zone=inputs.zone) if now else None,
        until=parse_when(until, option="--until", zone=inputs.zone) if until else None,
        duration=parse_for(duration) if duration else None, show=show, render_all=render_all,
        max_rejected=max_rejected, store=store or os.environ.get("JO_STORE") or None)
    wall_now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # A dry-run builds millions of small objects and frees them only at exit: the cyclic collector would
    # rescan them over and over (a third of the run on 1M profiles) and find nothing to free.
    gc.disable()
    try:
        with StatusLine("reading profiles") as status:
            result = dry_run(inputs, inputs.journey_id_of(path), options, wall_now=wall_now,
                             progress=(lambda rows: status.show(f"reading profiles: {rows:,} rows"))
                             if status.active else None)
    finally:
        # What the run built stays until exit: frozen, the collector never walks it (re-enabling the collector
        # alone costs a full collection of millions of objects at the next allocation, 0.7 s on 1M profiles).
        gc.freeze()
        gc.enable()
    from jo_cli.cli.app import KEEP_UNTIL_EXIT

    KEEP_UNTIL_EXIT.append(result)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if output_format is Format.json:
        typer.echo(json.dumps(result.report, indent=2, ensure_ascii=False))
    else:
        from jo_cli.cli.render.dryrun_view import render_text

        render_text(result.journey, result.report)


def _locate(journey: str, project_dir: Path | None, cwd: Path) -> tuple[Path, Path]:
    """(project root, journey file) from a path or an id."""
    from jo_cli.errors import JoError
    from jo_cli.project import command_line_path, find_project_file

    candidate = command_line_path(Path(journey), cwd=cwd, project_dir=project_dir)
    base = None if project_dir is None else project_dir if project_dir.is_absolute() else cwd / project_dir
    if candidate.is_file():
        found = base and base / "jo.yaml"
        found = found if found and found.is_file() else find_project_file(candidate.resolve().parent)
        if found is None:
            raise JoError(f"{journey}: no jo.yaml above it; pass -C DIR")
        return found.parent.resolve(), candidate.resolve()
    found = (base / "jo.yaml") if base else find_project_file(cwd)
    if found is None or not found.is_file():
        raise JoError(f"{journey}: no such file, and no jo.yaml in {base or cwd} or its parents to look it up by id")
    from jo_cli.engine.project import ProjectInputs

    index = ProjectInputs.load(found.parent.resolve()).index
    item = index.ids("journey").get(journey) or index.ids("campaign").get(journey)
    if item is None:
        raise JoError(f"{journey}: no such journey file or journey id in {found.parent}")
    return found.parent.resolve(), item.path


def _validated(root: Path, path: Path, cwd: Path, output_format: Format) -> ProjectIndex:
    """The project checked as `jo validate` checks it (SPEC §7.1: a dry-run runs only on a valid project),
    the journey file with it wherever it lives: its errors printed as `jo validate` prints them (exit 1),
    else the project index it was checked against."""
    from jo_cli.cli.render.findings import REPORTERS
    from jo_cli.project import project_yaml_files
    from jo_cli.validate import validate_files

    validation = validate_files([*project_yaml_files(root), path], cwd=cwd, project_root=root)
    result = validation.result()
    if not result.errors and validation.index is not None:
        return validation.index
    name = "json" if output_format is Format.json else "text"
    typer.echo(REPORTERS[name](validation.sources).render(result), nl=False)
    raise typer.Exit(1)


def _refuse_campaign(inputs: Any, path: Path, given: str) -> None:
    from jo_cli.errors import JoError

    if any(item.path == path for item in inputs.index.ids("campaign").values()):
        raise JoError(f"{given} is an orchestrated campaign: campaign dry-runs come with campaign runs (SPEC §9.2); "
                      "`jo validate` checks it today")


def _absolute(path: Path | None, cwd: Path) -> Path | None:
    return None if path is None else path if path.is_absolute() else cwd / path
