""""Did you mean" suggestions for names a user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The known name closest to `word`, when one is close enough to be a typo."""
    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """"; did you mean `x`?" for a close name, else nothing: append it to a message."""
    match = closest(word, choices)
    return f"; did you mean `{match}`?" if match else ""
