"""A one-line status on stderr while a long command runs, only on a terminal (never in pipes, cron mail or CI
logs, SPEC §0): `jo dry-run` reading profiles, `jo run-batch` committing."""

from __future__ import annotations

import os
import sys
from typing import Any


class StatusLine:
    """A rich spinner with a description that `show` replaces; inactive (and free) off a terminal."""

    def __init__(self, first: str) -> None:
        self.first = first
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> StatusLine:
        if sys.stderr.isatty() and not os.environ.get("CI"):
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                      console=Console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.first)
        return self

    @property
    def active(self) -> bool:
        return self._progress is not None

    def show(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
