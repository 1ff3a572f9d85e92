"""The files a run reads besides its documents (SPEC §7.2, §10.2): the working tree, or what a version froze.

A dry-run renders the templates as the working tree holds them now; a
published version renders the bytes `jo publish` froze with it, whatever the
working tree holds later. The renderer and the scan of the profile fields a
journey reads get them through `ProjectFiles` only, so neither can reach past
a version to the working tree. A path is the one the journey writes, as
written: `publish.referenced_files` freezes each file under that text once
`project.escapes` lets it in, and `WorkingTree` opens it behind the same
check, so the two answer for the same names. Both refuse a file over
`MAX_TEMPLATE_BYTES` (what `jo validate` reads), so a version renders
exactly as a dry-run of the same bytes did. Neither raises: a file they
cannot give is a `FileProblem` the caller reports (a render error).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from jo_cli.project import escapes
from jo_cli.templates import MAX_TEMPLATE_BYTES


@dataclass(frozen=True, slots=True)
class FileProblem:
    """Why a referenced file cannot be read: its path as the journey writes it, and one line saying why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ProjectFiles(Protocol):
    """Where a run reads the files its journey references (templates)."""

    def read(self, path: str) -> bytes | FileProblem:
        """The content of `path` (relative to the project, as the journey writes it), or why there is none."""
        ...


class WorkingTree:
    """The project's files as they are now: what a dry-run renders."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> bytes | FileProblem:
        """Only inside the root, symbolic links resolved; a file over the limit is not read."""
        if escapes(self.root, path) is not None:
            return FileProblem(path, "the path leads outside the project directory")
        try:
            with (self.root / path).open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                content = handle.read(MAX_TEMPLATE_BYTES + 1) if size <= MAX_TEMPLATE_BYTES else b""
        except OSError as exc:
            return FileProblem(path, f"cannot read it ({exc.strerror or type(exc).__name__})")
        return _within_limit(path, content, max(size, len(content)))  # it may have grown since fstat


class FrozenFiles:
    """The files a published version froze (`store.versions.version_files`): what the version renders.

    `label` names the version in problems ("birthday v3").
    """

    def __init__(self, files: Mapping[str, bytes], label: str) -> None:
        self.files = files
        self.label = label

    def read(self, path: str) -> bytes | FileProblem:
        content = self.files.get(path)
        if content is None:
            return FileProblem(path, f"not among the files {self.label} froze")
        return _within_limit(path, content, len(content))


def read_text(files: ProjectFiles, path: str) -> str | FileProblem:
    """A template's text: UTF-8, a byte-order mark dropped, as `jo validate` reads templates."""
    content = files.read(path)
    if isinstance(content, FileProblem):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return FileProblem(path, f"the file is not UTF-8 (byte {exc.start + 1})")


def _within_limit(path: str, content: bytes, size: int) -> bytes | FileProblem:
    if size > MAX_TEMPLATE_BYTES:
        return FileProblem(path, f"the file is {size:,} bytes; jo reads templates up to {MAX_TEMPLATE_BYTES:,} bytes")
    return content
