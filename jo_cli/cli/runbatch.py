"""`jo run-batch`: one pass of fires, entries, events and wake-ups up to `--now`, for cron (SPEC §7.3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from jo_cli.cli.publish import Format, FormatOption, ProjectOption, StoreOption

EXIT_LOCKED = 75  # EX_TEMPFAIL (sysexits.h): the run lock was held and --fail-if-locked was given


def run_batch_command(
    ctx: typer.Context,
    now: Annotated[str | None, typer.Option("--now", help="Process what is due up to this time, ISO 8601 "
                                            "(default: now).", show_default=False)] = None,
    only: Annotated[list[str] | None, typer.Option("--only", metavar="ID", help="Run only this journey id "
                                                   "(repeatable); other ids' events stay queued.",
                                                   show_default=False)] = None,
    wait: Annotated[float, typer.Option("--wait", min=0, metavar="SECONDS",
                                        help="Wait up to SECONDS for the run lock (default: skip the pass at once "
                                        "when another holds it).")] = 0.0,
    fail_if_locked: Annotated[bool, typer.Option("--fail-if-locked", help="Exit 75 rather than 0 when the run "
                                                 "lock is held.")] = False,
    deliver_for: Annotated[str, typer.Option("--deliver-for", metavar="DURATION",
                                             help="Delivery budget per pass (SMTP and webhooks come with real "
                                             "delivery; outbox channels need none).")] = "PT4M",
    profiles: Annotated[Path | None, typer.Option("--profiles", help="The profile source (default: JO_PROFILES, "
                                                  "then jo.yaml's profiles.source).", dir_okay=False,
                                                  show_default=False)] = None,
    max_rejected: Annotated[int | None, typer.Option("--max-rejected", min=0, metavar="N",
                                                     help="Run nothing when more profile rows are rejected.",
                                                     show_default=False)] = None,
    chunk: Annotated[int, typer.Option("--chunk", min=1, metavar="N",
                                       help="Profiles per transaction of a fire or a wake-up.")] = 5_000,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Print a summary (silent on success "
                                          "otherwise).")] = False,
    store: StoreOption = None,
    output_format: FormatOption = Format.text,
    project_dir: ProjectOption = None,
) -> None:
    """Process everything due up to --now: fires, entries, events, wake-ups; create each message once."""
    import datetime as dt
    import os

    from jo_cli import crash
    from jo_cli.cli.progress import StatusLine
    from jo_cli.cli.publish import open_project_store, parse_now, validated_project
    from jo_cli.durations import parse_duration
    from jo_cli.engine.project import ProjectInputs
    from jo_cli.errors import JoError
    from jo_cli.runbatch import RunOptions, failed_fires, run_pass
    from jo_cli.store.lock import run_lock
    from jo_cli.store.runs import fail_run, finish_run, start_run

    budget = parse_duration(deliver_for)
    if budget is None or budget <= dt.timedelta(0):
        raise JoError(f"--deliver-for: {deliver_for!r} is not a positive exact ISO 8601 duration like PT4M")
    at = parse_now(now)
    wall = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cwd = Path.cwd()
    opened, root = open_project_store(ctx, project_dir, store)
    with opened:
        # The pass reads jo.yaml, the audiences and the profile schema of the working tree: only a project
        # `jo validate` passes (the versions it runs were checked when they were published).
        index = validated_project(root, cwd)
        if index is None:
            raise JoError("the project has errors (above): nothing was run")
        inputs = ProjectInputs(index)
        source = profiles or (Path(os.environ["JO_PROFILES"]) if os.environ.get("JO_PROFILES") else None)
        if source is not None and not source.is_absolute():
            source = cwd / source
        if source is not None and not source.is_file():
            raise JoError(f"{source}: no such profile source")
        options = RunOptions(now=at, only=frozenset(only or ()), profiles=source, max_rejected=max_rejected,
                             chunk=chunk)
        with run_lock(opened.path, wait=wait) as taken:
            if not taken:
                typer.echo(f"jo: another run-batch holds the run lock of {opened.path}: this pass is skipped",
                           err=True)
                if output_format is Format.json:
                    typer.echo(json.dumps({"locked": True}, indent=2))
                raise typer.Exit(EXIT_LOCKED if fail_if_locked else 0)
            run = start_run(opened, now=at, at=wall)
            crash.point("run.start")
            try:
                with StatusLine("run-batch: reading") as status:
                    summary, problems = run_pass(
                        inputs, opened, options, wall_now=wall, run=run,
                        progress=(lambda tally: status.show(f"run-batch: {tally.entered:,} entered, "
                                                            f"{tally.created:,} messages created"))
                        if status.active else None)
            except BaseException:
                fail_run(opened, run, at=wall)
                raise
            crash.point("run.end")
            report = {"run": run, "now": summary["now"], "locked": False,
                      **{k: v for k, v in summary.items() if k != "now"}}
            finish_run(opened, run, report, at=wall)
    for problem in problems:
        typer.echo(f"jo: {problem}", err=True)
    if output_format is Format.json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    elif verbose:
        _print_summary(report)
    raise typer.Exit(1 if failed_fires(summary) else 0)


def _print_summary(report: dict[str, object]) -> None:
    fires = report["fires"]
    skipped = report["skipped_fires"]
    events = report["events"]
    outbox = report["outbox"]
    assert isinstance(fires, list) and isinstance(skipped, list) and isinstance(events, dict)
    assert isinstance(outbox, dict)
    lines = [f"run {report['run']} at {report['now']}: {len(fires)} fires, {len(skipped)} skipped; "
             f"{report['entered']:,} entered, {report['woken']:,} woken; "
             f"{events['consumed']:,} events consumed; {outbox['created']:,} messages created"]
    for fire in fires:
        lines.append(f"  fire {fire['id']} v{fire['version']} {fire['scheduled_for']}: {fire['result']}")
    for fire in skipped:
        lines.append(f"  skipped {fire['id']} {fire['scheduled_for']}: {fire['reason']}")
    for name in ("discarded", "ended"):
        counts = report[name]
        if isinstance(counts, dict) and counts:
            lines.append(f"  {name}: " + ", ".join(f"{key} {value:,}" for key, value in counts.items()))
    excluded = outbox.get("excluded")
    if isinstance(excluded, dict) and excluded:
        lines.append("  excluded: " + ", ".join(f"{key} {value:,}" for key, value in excluded.items()))
    typer.echo("\n".join(lines), err=True)
