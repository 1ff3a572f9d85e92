"""The one error type for expected failures (SPEC §0 exit codes)."""

from __future__ import annotations


class JoError(Exception):
    """A user-facing failure: printed as one line, never with a traceback.

    `exit_code` follows SPEC §0: 1 the command ran and found problems,
    2 usage, configuration or store errors.
    """

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
