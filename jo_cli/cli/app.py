"""The `jo` command: typer app, global options and the one error handler (SPEC §0).

Command modules import the library inside their functions, so `jo --help`
pays only for typer and rich.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated

import typer

from jo_cli import __version__
from jo_cli.cli import dryrun, events, explain, graph, init, outbox, publish, report, runbatch, schema, validate
from jo_cli.errors import JoError

app = typer.Typer(
    name="jo",
    help="Journey orchestration as code: validate, simulate, publish and run customer journeys kept in git.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jo {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    project_dir: Annotated[
        Path | None,
        typer.Option("-C", "--project-dir", help="Project root (default: the nearest parent holding jo.yaml).",
                     file_okay=False, show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print jo's version and exit.")
    ] = False,
) -> None:
    """Global options shared by every command."""
    ctx.obj = {"project_dir": project_dir}


app.command("validate")(validate.validate_command)
app.command("explain")(explain.explain_command)
app.command("schema")(schema.schema_command)
app.command("init")(init.init_command)
app.command("dry-run")(dryrun.dry_run_command)
app.command("graph")(graph.graph_command)
app.command("publish")(publish.publish_command)
app.command("diff")(publish.diff_command)
app.command("versions")(publish.versions_command)
app.command("close")(publish.close_command)
app.command("report")(report.report_command)
app.command("run-batch")(runbatch.run_batch_command)
app.add_typer(events.app, name="events")
app.add_typer(outbox.app, name="outbox")


# Large results a command leaves for the process to drop at exit (a dry-run's millions of objects): freeing
# them one by one would add a second to the run, so `main` then ends the process without tearing down.
KEEP_UNTIL_EXIT: list[object] = []


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the app and maps every failure to SPEC §0's exit codes."""
    code = run(argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = _closed_stdout()
    except OSError:
        code = code or 1
    if KEEP_UNTIL_EXIT:
        os._exit(code)
    sys.exit(code)


def _closed_stdout() -> int:
    """The reader of stdout went away (`jo ... | head`): stop quietly with exit 1, as click does for the output
    it writes itself, and keep the interpreter's final flush from reporting it (Python's advice for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a file descriptor (tests capture it)
    return 1


def run(argv: list[str] | None = None) -> int:
    KEEP_UNTIL_EXIT.clear()  # one command per process; in tests, run after run
    if gc.get_freeze_count():  # in tests: what the previous command froze goes back to the collector
        gc.unfreeze()
    try:
        app(args=argv, prog_name="jo", standalone_mode=True)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except JoError as exc:
        print(f"jo: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return _closed_stdout()
    except KeyboardInterrupt:
        print("jo: interrupted", file=sys.stderr)
        return 130
    except Exception:
        log = _write_crash_log(argv)
        print(f"jo: internal error: this is a bug in jo; details are in {log}", file=sys.stderr)
        return 3
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _write_crash_log(argv: list[str] | None) -> Path:
    """A log with versions and the traceback, ready to paste into an issue (as pre-commit does)."""
    text = "\n".join([
        f"# jo {__version__} crashed at {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"command: jo {' '.join(argv if argv is not None else sys.argv[1:])}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        "",
        traceback.format_exc(),
    ])
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    for directory in (Path(state) / "jo", Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / "jo-crash.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(no writable log directory)")
