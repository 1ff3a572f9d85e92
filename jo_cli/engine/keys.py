"""Message and action keys (SPEC §7.4): pure functions of what the message is."""

from __future__ import annotations

from collections.abc import Callable


def key_part(value: object) -> str:
    """One component, with `%` and `:` percent-encoded so that the parts split back unambiguously."""
    text = str(value)
    if "%" in text or ":" in text:
        return text.replace("%", "%25").replace(":", "%3A")
    return text


def journey_message_key(journey: str, profile: str, entry: int, step: str) -> str:
    """`journey:ID:PROFILE:ENTRY:STEP`; entry numbers per (journey, profile) never restart."""
    return journey_message_keys(journey, step)(profile, entry)


def journey_message_keys(journey: str, step: str) -> Callable[[str, int], str]:
    """The keys of one step's messages and actions: (profile, entry) -> key, the fixed parts encoded once."""
    head, tail = f"journey:{key_part(journey)}:", f":{key_part(step)}"

    def key(profile: str, entry: int) -> str:
        return f"{head}{key_part(profile)}:{entry}{tail}"

    return key
