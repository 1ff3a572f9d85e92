"""`jo publish`, `jo diff`, `jo versions`, `jo close`: the version lifecycle in the run store (SPEC §7.2)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from jo_cli.project_index import ProjectIndex
    from jo_cli.store import SqliteStore


class Format(StrEnum):
    text = "text"
    json = "json"


StoreOption = Annotated[str | None, typer.Option("--store", help="The run store (default: JO_STORE, then "
                                                 "jo.yaml's store, then .jo/store.db).", show_default=False)]
NowOption = Annotated[str | None, typer.Option("--now", help="The time recorded, ISO 8601 (default: now).",
                                               show_default=False)]
FormatOption = Annotated[Format, typer.Option("--format", "-o", help="text, or json for scripts.")]
ProjectOption = Annotated[Path | None, typer.Option("-C", "--project-dir", help="Project root, as the global -C.",
                                                    file_okay=False, show_default=False)]


def publish_command(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(help="Journey or campaign files (default: all of them).",
                                                       show_default=False)] = None,
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 when anything would be "
                                        "published or is invalid (a drift check).")] = False,
    now: NowOption = None,
    store: StoreOption = None,
    output_format: FormatOption = Format.text,
    project_dir: ProjectOption = None,
) -> None:
    """Freeze each changed journey and campaign as a new immutable version; unchanged ones are a no-op."""
    from jo_cli.cli.render.findings import REPORTERS
    from jo_cli.errors import JoError
    from jo_cli.publish import candidates, publish, validate_for_publish
    from jo_cli.validate import display_path

    cwd = Path.cwd()
    root = _project_root(ctx, project_dir, cwd)
    given = _files(ctx, project_dir, paths or [], cwd)
    validation = validate_for_publish(root, given, cwd=cwd)
    result = validation.result()
    index = validation.index
    assert index is not None  # validate_files with a project root always indexes it
    shown = {item.path: display_path(item.path, cwd) for kind in ("journey", "campaign")
             for item in index.ids(kind).values()}
    found = candidates(index, given or None, shown=shown)
    if given and not found:
        raise JoError("none of the files given is a journey or campaign of the project")
    invalid = {c.new.id for c in found if result.errors and _has_errors(result, c.shown)}
    if result.errors and not invalid:
        invalid = {c.new.id for c in found}  # an error elsewhere (jo.yaml, an audience...) stops them all
    at = parse_now(now)
    location = _location(root, store, index.config)
    writes = not check and not result.errors
    opened = _open(location, create=writes, readonly=not writes, missing_ok=not writes)
    try:
        outcomes = publish(opened, found, invalid=invalid, at=at, by=_publisher(), check=check)
    finally:
        if opened is not None:
            opened.close()
    if result.errors and output_format is Format.text:
        typer.echo(REPORTERS["text"](validation.sources).render(result), nl=False, err=True)
    if output_format is Format.json:
        typer.echo(json.dumps([o.as_json() for o in outcomes], indent=2, ensure_ascii=False))
    else:
        for outcome in outcomes:
            version = f" v{outcome.version}" if outcome.version is not None else ""
            why = f": {outcome.reason}" if outcome.reason else ""
            typer.echo(f"{outcome.result:<13} {outcome.id}{version} ({outcome.path}){why}")
    failed = any(o.result in ("invalid", "refused") for o in outcomes) or bool(result.errors)
    drift = check and any(o.result == "would_publish" for o in outcomes)
    raise typer.Exit(1 if failed or drift else 0)


def diff_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A journey or campaign file.", show_default=False)],
    store: StoreOption = None,
    output_format: FormatOption = Format.text,
    project_dir: ProjectOption = None,
) -> None:
    """What publishing FILE would change: steps added, removed and changed per field, and referenced files."""
    from jo_cli.diff import diff_versions
    from jo_cli.errors import JoError
    from jo_cli.publish import candidates
    from jo_cli.store.versions import latest_version, version_document, version_files
    from jo_cli.validate import display_path, index_project

    cwd = Path.cwd()
    root = _project_root(ctx, project_dir, cwd)
    [path] = _files(ctx, project_dir, [file], cwd)
    index = index_project(root)
    found = candidates(index, [path], shown={})
    if not found:
        raise JoError(f"{display_path(path, cwd)}: not a journey or campaign of the project at {root}")
    new = found[0].new
    opened = _open(_location(root, store, index.config), readonly=True, missing_ok=True)
    old_document, old_files, number = None, {}, None
    if opened is not None:
        with opened:
            latest = latest_version(opened, new.id)
            if latest is not None:
                number = latest.version
                old_document = version_document(opened, new.id, latest.version)
                old_files = version_files(opened, new.id, latest.version)
    difference = diff_versions(new.id, new.kind, number, old_document, new.document, old_files, new.files)
    if output_format is Format.json:
        typer.echo(json.dumps(difference.as_json(), indent=2, ensure_ascii=False))
    else:
        _print_diff(difference)
    raise typer.Exit(0 if difference.equal else 1)


def versions_command(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="A journey or campaign id.", show_default=False)],
    store: StoreOption = None,
    output_format: FormatOption = Format.text,
    project_dir: ProjectOption = None,
) -> None:
    """Every published version of an id: status, hash, when, active and entered instances."""
    from jo_cli.errors import JoError
    from jo_cli.store.versions import versions_of

    opened, _ = open_project_store(ctx, project_dir, store, readonly=True)
    with opened:
        found = versions_of(opened, ident)
    if not found:
        raise JoError(f"{ident}: never published in {opened.path}")
    if output_format is Format.json:
        typer.echo(json.dumps([{"version": v.version, "hash": v.hash, "status": v.status,
                                "published_at": _iso(v.published_at), "active": v.active, "entered": v.entered}
                               for v in found], indent=2, ensure_ascii=False))
        return
    typer.echo(f"{'version':>7}  {'status':<8}  {'published_at':<20}  {'active':>7}  {'entered':>8}  hash")
    for v in found:
        typer.echo(f"{v.version:>7}  {v.status:<8}  {_iso(v.published_at):<20}  {v.active:>7}  {v.entered:>8}  "
                   f"{v.hash[:12]}")


def close_command(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(metavar="ID", help="A journey or campaign id.", show_default=False)],
    now: NowOption = None,
    store: StoreOption = None,
    project_dir: ProjectOption = None,
) -> None:
    """Stop new entries into the id's live version; its instances finish in it."""
    from jo_cli.errors import JoError
    from jo_cli.store.versions import close_live, known_ids

    opened, _ = open_project_store(ctx, project_dir, store)
    with opened, opened.write():
        if ident not in known_ids(opened):
            raise JoError(f"{ident}: never published in {opened.path}")
        closed = close_live(opened, ident, at=parse_now(now))
    typer.echo(f"closed {ident} v{closed}" if closed is not None else f"{ident} has no live version: nothing to close")


def open_project_store(ctx: typer.Context, project_dir: Path | None, store: str | None, *,
                       readonly: bool = False) -> tuple[SqliteStore, Path]:
    """The store of the project (`-C`, else the nearest), which must exist; and the project's root."""
    root = _project_root(ctx, project_dir, Path.cwd())
    opened = _open(_location(root, store, project_config(root)), readonly=readonly)
    assert opened is not None
    return opened, root


def validated_project(root: Path, cwd: Path) -> ProjectIndex | None:
    """The project's index when `jo validate` passes it (commands that read its declarations and data need
    that); else None, its errors printed on stderr as `jo validate` prints them."""
    from jo_cli.cli.render.findings import REPORTERS
    from jo_cli.project import project_yaml_files
    from jo_cli.validate import validate_files

    validation = validate_files(project_yaml_files(root), cwd=cwd, project_root=root)
    result = validation.result()
    if result.errors or validation.index is None:
        typer.echo(REPORTERS["text"](validation.sources).render(result), nl=False, err=True)
        return None
    return validation.index


def _files(ctx: typer.Context, project_dir: Path | None, paths: list[Path], cwd: Path) -> list[Path]:
    """Files named on the command line, resolved as every command resolves them; each must exist."""
    from jo_cli.errors import JoError
    from jo_cli.project import command_line_path
    from jo_cli.validate import display_path

    found = [command_line_path(p, cwd=cwd, project_dir=project_dir or (ctx.obj or {}).get("project_dir"))
             for p in paths]
    for path in found:
        if not path.is_file():
            raise JoError(f"{display_path(path, cwd)}: no such file")
    return found


def _project_root(ctx: typer.Context, project_dir: Path | None, cwd: Path) -> Path:
    from jo_cli.errors import JoError
    from jo_cli.project import find_project_file, project_file_in

    given = project_dir or (ctx.obj or {}).get("project_dir")
    if given is not None:
        return project_file_in(given if given.is_absolute() else cwd / given).parent.resolve()
    found = find_project_file(cwd)
    if found is None:
        raise JoError(f"no jo.yaml in {cwd} or its parents; pass -C DIR or run `jo init`")
    return found.parent.resolve()


def project_config(root: Path) -> dict[str, object]:
    """jo.yaml's top-level mapping, read with the safe loader (empty when it does not load)."""
    from jo_cli.loader import load_yaml
    from jo_cli.project import project_file_in

    path = project_file_in(root)
    doc = load_yaml(path.name, path.read_bytes()).document
    return doc.data if doc is not None and isinstance(doc.data, dict) else {}


def _location(root: Path, option: str | None, config: dict[str, object]) -> Path:
    from jo_cli.store import store_location

    return store_location(root, option=option, environment=os.environ.get("JO_STORE"), configured=config.get("store"))


def _open(location: Path, *, create: bool = False, readonly: bool = False,
          missing_ok: bool = False) -> SqliteStore | None:
    from jo_cli.store import open_store

    if missing_ok and not location.exists():
        return None
    return open_store(location, create=create, readonly=readonly)


def parse_now(text: str | None) -> dt.datetime:
    from jo_cli.dryrun import parse_when

    if text is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    return parse_when(text, option="--now", zone=dt.UTC).replace(microsecond=0)


def _publisher() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _has_errors(result: object, shown: str) -> bool:
    return any(f.path == shown and f.severity == "error" for f in getattr(result, "findings", ()))


def _iso(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _print_diff(difference: object) -> None:
    from jo_cli.diff import Diff

    assert isinstance(difference, Diff)
    against = f"v{difference.version}" if difference.version is not None else "nothing published yet"
    typer.echo(f"jo diff {difference.id} (against {against})")
    if difference.equal:
        typer.echo("no changes")
        return
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for name, change in difference.steps.items():
        typer.echo(f"{marks[change]} step {name} ({change})")
    for item in difference.fields:
        if item.change == "changed":
            typer.echo(f"  ~ {item.path}: {json.dumps(item.old, ensure_ascii=False)} -> "
                       f"{json.dumps(item.new, ensure_ascii=False)}")
        elif item.change == "added":
            typer.echo(f"  + {item.path}: {json.dumps(item.new, ensure_ascii=False)}")
        else:
            typer.echo(f"  - {item.path}")
    for path, change in difference.files.items():
        typer.echo(f"{marks[change]} file {path} ({change})")
