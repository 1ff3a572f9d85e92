"""Finding the project (`jo.yaml`) and the files that belong to it (SPEC §3, §4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath

from jo_cli.errors import JoError

PROJECT_FILES = ("jo.yaml", "jo.yml")
# Folder name -> the kind its files hold (SPEC §3).
KIND_FOLDERS = {"journeys": "journey", "campaigns": "campaign", "audiences": "audience", "events": "event"}
YAML_SUFFIXES = (".yaml", ".yml")
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv"})


def find_project_file(start: Path) -> Path | None:
    """The nearest `jo.yaml` at or above `start` (dbt and yamllint search the same way)."""
    for directory in (start, *start.parents):
        for name in PROJECT_FILES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def command_line_path(path: Path, *, cwd: Path, project_dir: Path | None) -> Path:
    """A path given on the command line, resolved the same way by every command: relative to the working
    directory, or with `-C DIR` relative to DIR (as `git -C` and `make -C` do) unless it names a file from
    the working directory (pre-commit passes paths from the repository's root)."""
    if path.is_absolute():
        return path
    if project_dir is None:
        return cwd / path
    base = project_dir if project_dir.is_absolute() else cwd / project_dir
    return cwd / path if not (base / path).exists() and (cwd / path).exists() else base / path


def project_file_in(root: Path) -> Path:
    """`jo.yaml` of the project rooted at `root` (from `-C DIR`): it must exist."""
    for name in PROJECT_FILES:
        if (root / name).is_file():
            return root / name
    raise JoError(f"no jo.yaml in {root}; run `jo init` there or pass -C with a project directory")


def project_yaml_files(root: Path) -> list[Path]:
    """jo.yaml and every YAML file under the project's kind folders, in a stable order."""
    files = [project_file_in(root)]
    for folder in KIND_FOLDERS:
        if (root / folder).is_dir():
            files.extend(walk_yaml(root / folder))
    return files


def walk_yaml(directory: Path) -> Iterator[Path]:
    """YAML files below `directory`, sorted, skipping hidden and tool folders."""
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith(".") or entry.name in _SKIPPED_DIRS:
            continue
        if entry.is_dir():
            yield from walk_yaml(entry)
        elif entry.suffix in YAML_SUFFIXES or is_data_schema_path(entry):
            yield entry


def folder_kind(path: Path) -> str | None:
    """The kind a file's folder implies (`journeys/x.yaml` -> journey), if any."""
    for part in reversed(path.parent.parts):
        if part in KIND_FOLDERS:
            return KIND_FOLDERS[part]
    return None


def is_project_file(path: Path) -> bool:
    return path.name in PROJECT_FILES


def is_data_schema_path(path: Path) -> bool:
    return path.name.endswith(".schema.json") and "data" in path.parent.parts


def escapes(root: Path, name: str) -> str | None:
    """Why `name`, a path a project file gives, leaves the project at `root`; None when it stays inside."""
    if "\x00" in name:
        return "holds a NUL character"
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
        return "is an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "climbs out with `..`"
    try:
        (root / name).resolve().relative_to(root.resolve())
    except RuntimeError:  # Python 3.11's resolve() on a symbolic link loop (3.13 raises OSError)
        return "is a symbolic link loop"
    except (ValueError, OSError):
        return "leads outside the project through a symbolic link"
    return None


def inside_project(root: Path, name: str, *, field: str) -> Path:
    """The file a project file names in `field`, checked where it is opened (SPEC §10.2): a path that leaves
    the project is refused before anything reads it, whichever command asks."""
    reason = escapes(root, name)
    if reason is not None:
        raise JoError(f"{field}: `{name}` {reason}: jo reads only files inside the project ({root})")
    return root / name
