"""`jo outbox export` and `jo outbox ack`: the messages of `outbox` channels, handed on by `seq` (SPEC §7.5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from jo_cli.cli.publish import NowOption, ProjectOption, StoreOption

app = typer.Typer(no_args_is_help=True, help="The messages of outbox channels.")


@app.command("export")
def export_command(
    ctx: typer.Context,
    status: Annotated[str, typer.Option("--status", help="pending, sent, failed, dead, cancelled or all.")]
    = "pending",
    after: Annotated[int, typer.Option("--after", min=0, metavar="SEQ", help="Only messages after this seq.")] = 0,
    store: StoreOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Write the messages of outbox channels as JSON Lines in seq order (each with its status and seq)."""
    from jo_cli import crash
    from jo_cli.cli.publish import open_project_store
    from jo_cli.errors import JoError
    from jo_cli.store.outbox import STATUSES, export

    if status != "all" and status not in STATUSES:
        raise JoError(f"--status {status}: use one of {', '.join(STATUSES)} or all")
    opened, root = open_project_store(ctx, project_dir, store, readonly=True)
    with opened:
        for message in export(opened, channels=_outbox_channels(root), status=None if status == "all" else status,
                              after=after):
            crash.point("export.inside")
            typer.echo(json.dumps(message, ensure_ascii=False))


@app.command("ack")
def ack_command(
    ctx: typer.Context,
    through: Annotated[int, typer.Option("--through", min=1, metavar="SEQ", help="The last seq handed on.",
                                         show_default=False)],
    now: NowOption = None,
    store: StoreOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Mark the pending messages of outbox channels up to and including SEQ as sent."""
    from jo_cli import crash
    from jo_cli.cli.publish import open_project_store, parse_now
    from jo_cli.errors import JoError
    from jo_cli.store.outbox import acknowledge, last_seq

    opened, root = open_project_store(ctx, project_dir, store)
    with opened, opened.write():
        if through > last_seq(opened):
            raise JoError(f"--through {through}: the outbox's last seq is {last_seq(opened)}; acknowledge only "
                          "what an export handed on")
        marked = acknowledge(opened, channels=_outbox_channels(root), through=through, at=parse_now(now))
        crash.point("ack.inside")
    typer.echo(f"{marked:,} message{'s' if marked != 1 else ''} marked sent (through seq {through})")


def _outbox_channels(root: Path) -> set[str]:
    """The channels jo.yaml delivers through the outbox (`delivery: {type: outbox}`)."""
    from jo_cli.cli.publish import project_config

    channels = project_config(root).get("channels")
    if not isinstance(channels, dict):
        return set()
    return {name for name, channel in channels.items()
            if isinstance(channel, dict) and isinstance(channel.get("delivery"), dict)
            and channel["delivery"].get("type") == "outbox"}
