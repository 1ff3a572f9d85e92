"""JO1xx: YAML and parsing. The loader (`jo_cli.loader`) emits these codes."""

from __future__ import annotations

from jo_cli.rules.base import declare

declare("JO101", "yaml-syntax", "error", """
    The file is not valid YAML (or JSON, for data schemas).

    The message says what the parser expected and where. Tabs cannot indent
    YAML; flow lists and mappings must be closed.

    Fails:
        kind: journey
        id: welcome
        tags: [onboarding, email
    Passes:
        kind: journey
        id: welcome
        tags: [onboarding, email]
""")

declare("JO102", "duplicate-key", "error", """
    A mapping repeats a key; YAML would silently keep only one of them.

    The finding points at the second occurrence and names the line of the
    first. Step ids are mapping keys, so two steps with one id are caught here.

    Fails:
        steps:
          wait-3d: {type: wait, duration: P3D, next: end}
          wait-3d: {type: wait, duration: P1D, next: end}
    Passes:
        steps:
          wait-3d: {type: wait, duration: P3D, next: wait-1d}
          wait-1d: {type: wait, duration: P1D, next: end}
""")

declare("JO103", "encoding", "error", """
    The file is not UTF-8 text, or holds a control character such as NUL.

    jo reads UTF-8 only (a byte-order mark is fine); UTF-16 files, Latin-1
    bytes and control characters are refused with their position.

    Fails:
        kind: journey
        id: "welcome\\0"
    Passes:
        kind: journey
        id: welcome
""")

declare("JO104", "no-anchors", "error", """
    Anchors (`&name`) and aliases (`*name`) are not allowed in jo files.

    Aliases let a few hundred bytes expand into gigabytes (the "billion
    laughs" bomb) and make a file hard to read in review; repeat the value.

    Fails:
        settings: &defaults {timezone: Europe/Paris}
    Passes:
        settings: {timezone: Europe/Paris}
""")

declare("JO105", "no-tags", "error", """
    Explicit YAML tags (`!!python/object`, `!!binary`, `!include`, ...) are not allowed.

    jo files are plain data; `!!str` is the one tag accepted. Write values
    plainly, or quote them to make them strings.

    Fails:
        kind: journey
        id: !!binary d2VsY29tZQ==
    Passes:
        kind: journey
        id: welcome
""")

declare("JO106", "yaml-limits", "error", """
    The file exceeds a safety limit: 1 MiB, 64 levels of nesting or 100,000 nodes.

    The limits keep a hostile or broken file from hanging or crashing the
    parser; no real journey comes near them.

    Fails:
        kind: journey
        id: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
          [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
    Passes:
        kind: journey
        id: welcome
""")

declare("JO107", "one-document", "error", """
    A jo file holds exactly one YAML document; a second `---` starts another.

    Put each journey, campaign, audience or event in a file of its own.

    Fails:
        kind: audience
        id: gold
        where: profile.tier == "gold"
        ---
        kind: audience
        id: silver
        where: profile.tier == "silver"
    Passes:
        kind: audience
        id: gold
        where: profile.tier == "gold"
""")

declare("JO108", "plain-keys", "error", """
    A mapping key must be a plain word, not a list or a mapping (`? [a, b]`).

    Keys name fields, steps and paths; jo reads them as the text written,
    so `on:` and `2024:` stay the strings "on" and "2024".

    Fails:
        steps:
          ? [a, b]
          : {type: end}
    Passes:
        steps:
          done: {type: end}
""")
