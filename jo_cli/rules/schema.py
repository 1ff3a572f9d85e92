"""JO2xx: schema. `jo_cli.schema.check` emits these codes from the bundled JSON Schemas."""

from __future__ import annotations

from jo_cli.rules.base import declare

declare("JO201", "unknown-key", "error", """
    A key that this kind of object does not have (often a typo).

    Every jo object lists its keys (`additionalProperties: false`); the
    message suggests the closest allowed key and the hint lists them all.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: wait-3d}
        steps:
          wait-3d: {type: wait, duraton: P3D, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: wait-3d}
        steps:
          wait-3d: {type: wait, duration: P3D, next: end}
""")

declare("JO202", "missing-key", "error", """
    A required key is missing, such as a journey's `entry` or a message's `channel`.

    The finding points at the object that lacks it.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, content: {body: Hi}, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello: {type: message, channel: sms, content: {body: Hi}, next: end}
""")

declare("JO203", "wrong-type", "error", """
    A value has the wrong type: a list where a mapping is expected, text for a number, ...

    jo reads YAML 1.2, so only `true` and `false` are booleans: `yes`, `no`,
    `on` and `off` are text, and the hint says so.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings:
          use_profile_timezone: yes
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings:
          use_profile_timezone: true
        steps: {}
""")

declare("JO204", "unknown-choice", "error", """
    A value is not one of the allowed choices (a step `type`, a `channel`, a `kind`, ...).

    The message lists the choices and suggests the closest one.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: wait-3d}
        steps:
          wait-3d: {type: wiat, duration: P3D, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: wait-3d}
        steps:
          wait-3d: {type: wait, duration: P3D, next: end}
""")

declare("JO205", "invalid-value", "error", """
    A value breaks its format, pattern or bounds: a malformed id, duration, date or email.

    Durations are ISO 8601 and exact (`P3D`, `PT12H`; no years or months),
    dates `2026-12-01`, date-times `2026-12-01T09:00:00Z`. A `pattern` in a
    data schema or an event's payload schema must compile with RE2, as the
    readers compile it: no backreferences (`\\1`) and no lookarounds.

    Fails:
        kind: journey
        id: Welcome Series
        entry: {type: event, event: signed_up, next: wait-3d}
        steps:
          wait-3d: {type: wait, duration: 3 days, next: end}
    Passes:
        kind: journey
        id: welcome-series
        entry: {type: event, event: signed_up, next: wait-3d}
        steps:
          wait-3d: {type: wait, duration: P3D, next: end}
""")
