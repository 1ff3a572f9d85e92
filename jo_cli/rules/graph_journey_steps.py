"""JO310-JO315: rules about single journey steps from SPEC §6.5: split percents, reserved names, jumps."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from jo_cli.findings import Finding
from jo_cli.graph import END
from jo_cli.loader import Document
from jo_cli.rules.base import RuleContext, rule

# §7.1: instances exit with these reasons; `ended` counts them beside the End steps, so no step may take one.
RESERVED_STEP_IDS = (END, "no_path", "exit_when", "timeout", "journey_ended", "forced_reentrance", "stopped",
                     "quiet_hours", "unknown_profile", "error")
# §6.4: outcome names every step may report beside its paths.
RESERVED_OUTCOMES = ("next", "otherwise", "no_path", "timeout", "over_cap", "on_error")
# AJO: a journey containing a Jump cannot start with Read audience or Audience qualification.
NO_JUMP_ENTRIES = ("audience", "audience-qualification")


def _journey(doc: Document, context: RuleContext) -> dict[str, Any] | None:
    return doc.data if context.kind == "journey" and isinstance(doc.data, dict) else None


def _splits(data: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    steps = data.get("steps")
    for step_id, step in (steps.items() if isinstance(steps, dict) else ()):
        if isinstance(step, dict) and step.get("type") == "split" and isinstance(step.get("paths"), list):
            yield step_id, step["paths"]


def _percent(path: Any) -> float | int | None:
    """A percent the schema accepts (a number above 0, at most 100), else None: the schema reports it."""
    value = path.get("percent") if isinstance(path, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value if 0 < value <= 100 else None


def _decimals(value: float | int) -> int:
    # str() of a float is its shortest round-trip spelling: 33.33 stays "33.33", not 33.3299999...
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@rule("JO310", "split-percent-decimals", "error")
def check_split_percent_decimals(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A split percent has more than two decimals.

    jo splits in basis points (0.01 %): a profile's bucket is compared with
    the cumulative basis points of the paths (§6.4), so `33.333` cannot be
    honoured. Round to two decimals and keep the sum at exactly 100.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: ab}
        steps:
          ab:
            type: split
            paths:
              - {name: a, percent: 33.333, next: end}
              - {name: b, percent: 66.667, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: ab}
        steps:
          ab:
            type: split
            paths:
              - {name: a, percent: 33.33, next: end}
              - {name: b, percent: 66.67, next: end}
    """
    data = _journey(doc, context)
    for step_id, paths in _splits(data) if data is not None else ():
        for i, path in enumerate(paths):
            percent = _percent(path)
            if percent is not None and _decimals(percent) > 2:
                yield check_split_percent_decimals.finding(
                    doc, doc.locate(("steps", step_id, "paths", i, "percent")),
                    f"`steps.{step_id}.paths[{i}].percent`: `{percent}` has {_decimals(percent)} decimals; "
                    "a split percent has at most two", hint="splits work in basis points (0.01 %): round it")


def _basis_points(value: int) -> str:
    whole, cents = divmod(abs(value), 100)
    return ("-" if value < 0 else "") + (f"{whole}.{cents:02d}".rstrip("0").rstrip(".") if cents else str(whole))


@rule("JO311", "split-percent-sum", "error")
def check_split_percent_sum(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A split's percents do not add up to exactly 100.

    Every profile takes exactly one path of a split, so its paths share 100 %
    between them, counted in basis points: 33.33 + 33.33 + 33.33 is 99.99 and
    is refused; write 33.34 for one of them.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: ab}
        steps:
          ab:
            type: split
            paths:
              - {name: a, percent: 50, next: end}
              - {name: b, percent: 40, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: ab}
        steps:
          ab:
            type: split
            paths:
              - {name: a, percent: 50, next: end}
              - {name: b, percent: 50, next: end}
    """
    data = _journey(doc, context)
    for step_id, paths in _splits(data) if data is not None else ():
        percents = [_percent(path) for path in paths]
        if not percents or any(p is None or _decimals(p) > 2 for p in percents):
            continue  # the schema or JO310 reports the odd one; a sum would only repeat it
        total = sum(round(p * 100) for p in percents if p is not None)
        if total != 10000:
            gap = _basis_points(abs(10000 - total))
            fix = f"add {gap} to a path" if total < 10000 else f"take {gap} off a path"
            yield check_split_percent_sum.finding(
                doc, doc.locate(("steps", step_id, "paths"), key=True),
                f"`steps.{step_id}.paths`: the percents sum to {_basis_points(total)}, not 100; {fix}")


@rule("JO312", "reserved-step-id", "error")
def check_reserved_step_id(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A step id is `end` or an exit reason.

    `end` always means the implicit End step, and dry-run and reports count
    exits by reason (`no_path`, `exit_when`, `timeout`, `journey_ended`,
    `forced_reentrance`, `stopped`, `quiet_hours`, `unknown_profile`,
    `error`) beside the End steps, so none of these can be a step id.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: timeout}
        steps:
          timeout: {type: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: timed-out}
        steps:
          timed-out: {type: end}
    """
    data = _journey(doc, context)
    steps = data.get("steps") if data is not None else None
    for step_id in steps if isinstance(steps, dict) else ():
        if step_id in RESERVED_STEP_IDS:
            what = "the implicit End step" if step_id == END else "an exit reason"
            yield check_reserved_step_id.finding(
                doc, doc.locate(("steps", step_id), key=True),
                f"`steps.{step_id}`: `{step_id}` is reserved ({what}); rename the step",
                hint="a declared End step can take any other id, e.g. `done: {type: end}`")


def _named_paths(data: dict[str, Any]) -> Iterator[tuple[str, int, str]]:
    """(step id, index, name) of every path whose name is text."""
    steps = data.get("steps")
    for step_id, step in (steps.items() if isinstance(steps, dict) else ()):
        paths = step.get("paths") if isinstance(step, dict) else None
        for i, path in enumerate(paths if isinstance(paths, list) else ()):
            if isinstance(path, dict) and isinstance(path.get("name"), str):
                yield step_id, i, path["name"]


@rule("JO313", "reserved-path-name", "error")
def check_reserved_path_name(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A path is named like a reserved outcome.

    Dry-run counts every step's outcomes by name, and `next`, `otherwise`,
    `no_path`, `timeout`, `over_cap` and `on_error` already mean something
    there; a path with one of these names would be counted with them.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: check}
        steps:
          check:
            type: condition
            paths: [{name: otherwise, when: profile.vip, next: end}]
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: check}
        steps:
          check:
            type: condition
            paths: [{name: vip, when: profile.vip, next: end}]
    """
    data = _journey(doc, context)
    for step_id, i, name in _named_paths(data) if data is not None else ():
        if name in RESERVED_OUTCOMES:
            yield check_reserved_path_name.finding(
                doc, doc.locate(("steps", step_id, "paths", i, "name")),
                f"`steps.{step_id}.paths[{i}].name`: `{name}` is a reserved outcome name; rename the path",
                hint=f"reserved: {', '.join(RESERVED_OUTCOMES)}")


@rule("JO314", "duplicate-path-name", "error")
def check_duplicate_path_name(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """Two paths of one step have the same name.

    Dry-run, reports and `uncovered` count a step's paths by name, so two
    paths with one name would be counted as one.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: ab}
        steps:
          ab:
            type: split
            paths:
              - {name: a, percent: 50, next: end}
              - {name: a, percent: 50, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: ab}
        steps:
          ab:
            type: split
            paths:
              - {name: a, percent: 50, next: end}
              - {name: b, percent: 50, next: end}
    """
    data = _journey(doc, context)
    first: dict[tuple[str, str], int] = {}
    for step_id, i, name in _named_paths(data) if data is not None else ():
        if (step_id, name) in first:
            yield check_duplicate_path_name.finding(
                doc, doc.locate(("steps", step_id, "paths", i, "name")),
                f"`steps.{step_id}.paths[{i}].name`: `{name}` is already the name of "
                f"`steps.{step_id}.paths[{first[step_id, name]}]`; rename one of them")
        else:
            first[step_id, name] = i


@rule("JO315", "jump-from-audience", "error")
def check_jump_from_audience(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A journey with an `audience` or `audience-qualification` entry has a `jump` step.

    AJO: a journey that contains a Jump cannot start with Read audience or
    Audience qualification. Send the audience into the target journey by its
    own entry instead, or jump from an event-triggered journey.

    Fails:
        kind: journey
        id: welcome
        entry: {type: audience, audience: new-subscribers, next: onward}
        steps:
          onward: {type: jump, journey: onboarding, next: end}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: onward}
        steps:
          onward: {type: jump, journey: onboarding, next: end}
    """
    data = _journey(doc, context)
    entry = data.get("entry") if data is not None else None
    steps = data.get("steps") if data is not None else None
    if not isinstance(entry, dict) or entry.get("type") not in NO_JUMP_ENTRIES or not isinstance(steps, dict):
        return
    for step_id, step in steps.items():
        if isinstance(step, dict) and step.get("type") == "jump":
            yield check_jump_from_audience.finding(
                doc, doc.locate(("steps", step_id, "type")),
                f"`steps.{step_id}`: a journey with an `{entry['type']}` entry cannot jump (AJO)",
                hint="give the target journey its own entry, or jump from an event-triggered journey")
