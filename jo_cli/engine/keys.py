"""Message and action keys (SPEC §7.4): pure functions of what the message is."""

from __future__ import annotations


def key_part(value: object) -> str:
    """One component, with `%` and `:` percent-encoded so that the parts split back unambiguously."""
    return str(value).replace("%", "%25").replace(":", "%3A")


def journey_message_key(journey: str, profile: str, entry: int, step: str) -> str:
    """`journey:ID:PROFILE:ENTRY:STEP`; entry numbers per (journey, profile) never restart."""
    return ":".join(("journey", *(key_part(part) for part in (journey, profile, entry, step))))
