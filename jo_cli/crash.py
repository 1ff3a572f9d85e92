"""Named crash points for the crash sweep (SPEC §7.4, §11): `JO_CRASH_AT=NAME[:N]` kills the process with
SIGKILL the Nth time (default the first) it passes point NAME, as `kill -9` would at that instruction.

Points: `commit.before` (a unit of work is about to be written), `commit.inside` (written, not committed),
`commit.after` (committed), `run.start` (the runs row is written), `run.end` (before the summary is recorded),
`export.inside` (before each message `jo outbox export` writes) and `ack.inside` (`jo outbox ack`'s update
made, not committed). When the variable
is unset (always, outside the crash tests) a point costs one comparison.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("JO_CRASH_AT") or None
_name, _, _count = (_TARGET or "").partition(":")
_left = int(_count) if _count.isdigit() else 1


def arm(name: str, count: int = 1) -> None:
    """Set the point to die at from inside the process (a forked test child), as `JO_CRASH_AT=NAME:COUNT` does."""
    global _TARGET, _name, _left
    _TARGET, _name, _left = f"{name}:{count}", name, count


def point(name: str) -> None:
    """Die here if this is the point (and the time) `JO_CRASH_AT` names."""
    global _left
    if _TARGET is None or name != _name:
        return
    _left -= 1
    if _left <= 0:
        os.kill(os.getpid(), signal.SIGKILL)
