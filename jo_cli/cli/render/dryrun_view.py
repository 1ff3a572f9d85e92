"""The text view of a dry-run: the journey as a tree with counts, discards and exclusions, why (the texts of
errors and render errors), the messages shown, the rejected rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from jo_cli.engine.model import Journey, Step

END = "end"
WHY_TEXTS = 5  # texts shown per step and kind; the JSON's `reasons` lists more
REJECTS_SHOWN = 10
_WHY_KINDS = (("errors", "error"), ("on_error", "on_error"), ("excluded", "excluded"))


def render_text(journey: Journey, report: Mapping[str, Any], console: Console | None = None) -> None:
    if console is None:
        console = Console(highlight=False, soft_wrap=True)
        if not console.is_terminal:  # a file or a pipe: deep trees are not cut at 80 columns
            console = Console(highlight=False, soft_wrap=True, width=max(console.width, 160))
    profiles, events = report["profiles"], report["events"]
    console.print(f"jo dry-run {journey.id}: {report['now']} -> {report['horizon']}")
    read = f"{profiles['read']:,} profiles read ({profiles['rejected']:,} rejected)"
    if events["read"]:
        read += f", {events['read']:,} events read ({events['rejected']:,} rejected, {events['consumed']:,} consumed)"
    if report["audiences"]["rejected"]:
        read += f", {report['audiences']['rejected']:,} uploaded audience rows rejected"
    console.print(read)
    console.print()
    console.print(_tree(journey, report))
    console.print()
    reasons = _reasons(report)
    if reasons:
        console.print("discarded and excluded:")
        width = max(len(where) for where, _, _ in reasons)
        for where, reason, number in reasons:
            console.print(f"  {where:{width}}  {reason}: {number:,}", markup=False)
        console.print()
    why = _why(report.get("reasons", {}))
    if why:
        console.print("why:")
        width = max(len(where) for where, _ in why)
        for where, line in why:
            console.print(f"  {where:{width}}  {line}", markup=False)
        console.print()
    console.print(_summary("ended", report["ended"]) + "   " + _summary("waiting", report["waiting"]))
    if report["uncovered"]:
        console.print("no instance took: " + ", ".join(report["uncovered"]))
    messages = report["messages"]
    if messages:
        console.print()
        console.print(f"messages of the profiles shown ({len(messages)}):")
        for message in messages:
            console.print(_message_line(message), markup=False)
    if report["rejected_rows"]:
        rejected = profiles["rejected"] + events["rejected"] + report["audiences"]["rejected"]
        shown = report["rejected_rows"][:REJECTS_SHOWN]
        console.print()
        console.print(f"rejected ({rejected:,}):")
        for row in shown:
            console.print(f"  {row['file']}:{row['line']}: {row['reason']}", markup=False)
        if rejected > len(shown):
            console.print(f"  ... and {rejected - len(shown):,} more", markup=False)


def _tree(journey: Journey, report: Mapping[str, Any]) -> Tree:
    entry = journey.entry
    source = entry.audience or entry.event or ""
    profiles = report["profiles"]
    root = Tree(Text(f"entry ({entry.type}: {source}) entered {profiles['entered']:,}"
                     + _reasons_inline(profiles["discarded"], "discarded")))
    drawn: set[str] = set()
    _branch(root, journey, report, entry.next, drawn)
    return root


def _branch(parent: Tree, journey: Journey, report: Mapping[str, Any], step_id: str, drawn: set[str]) -> None:
    if step_id == END:
        parent.add(Text("end"))
        return
    if step_id in drawn:
        parent.add(Text(f"{step_id} (see above)"))
        return
    drawn.add(step_id)
    step = journey.steps[step_id]
    counts = report["steps"][step_id]
    node = parent.add(Text(_label(step, counts, report)))
    for outcome, number, target in _outcomes(step, counts):
        if target is None:
            node.add(Text(f"{outcome}: {number:,} (exit)"))
        else:
            child = node.add(Text(f"{outcome}: {number:,}"))
            _branch(child, journey, report, target, drawn)


def _label(step: Step, counts: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    kind = f"{step.type} {step.channel}" if step.type == "message" else step.type
    text = f"{step.id} [{kind}] entered {counts['entered']:,}"
    if counts["errors"]:
        text += f", errors {counts['errors']:,}"
    if step.type == "message":
        text += f", sent {counts['sent']:,}"
        if counts["queued"]:
            text += f", queued {counts['queued']:,}"
        if counts.get("delayed"):
            text += f", delayed by quiet hours {counts['delayed']:,}"
        text += _reasons_inline(counts["excluded"], "excluded")
    waiting = report["waiting"].get(step.id)
    if waiting:
        text += f", waiting {waiting:,}"
    if step.type == "end":
        text += f", ended {report['ended'].get(step.id, 0):,}"
    return text


def _outcomes(step: Step, counts: Mapping[str, Any]) -> list[tuple[str, int, str | None]]:
    """(outcome, count, target step or None for an exit) in file order."""
    if step.type == "message":
        total = counts["sent"] + sum(counts["excluded"].values())
        return [("next", total, step.next or END)]
    targets: dict[str, str | None] = {path.name: path.next for path in step.paths}
    targets.update(otherwise=step.otherwise, no_path=None, on_error=step.on_error, over_cap=step.over_cap,
                   timeout=step.timeout_next or step.next, next=step.next)
    return [(outcome, number, targets.get(outcome)) for outcome, number in counts.get("paths", {}).items()]


def _reasons_inline(reasons: Mapping[str, int], what: str) -> str:
    if not reasons:
        return ""
    return f", {what} " + ", ".join(f"{reason} {number:,}" for reason, number in reasons.items())


def _reasons(report: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(where, reason, count): entry discards, event discards, then each message step's exclusions."""
    rows = [("entry", reason, number) for reason, number in report["profiles"]["discarded"].items()]
    rows += [("events", reason, number) for reason, number in report["events"]["discarded"].items()]
    for step_id, counts in report["steps"].items():
        rows += [(step_id, reason, number) for reason, number in counts.get("excluded", {}).items()]
    return rows


def _why(reasons: Mapping[str, Mapping[str, Mapping[str, int]]]) -> list[tuple[str, str]]:
    """(step, "kind count: text"): per step in file order, its error texts, then those that took on_error,
    then its exclusions' texts, the most frequent first; past WHY_TEXTS, how many more."""
    steps: dict[str, None] = {}
    for kind, _ in _WHY_KINDS:
        steps.update(dict.fromkeys(reasons.get(kind, {})))
    rows: list[tuple[str, str]] = []
    for step_id in steps:
        for kind, label in _WHY_KINDS:
            texts = sorted(reasons.get(kind, {}).get(step_id, {}).items(), key=lambda item: (-item[1], item[0]))
            rows += [(step_id, f"{label} {number:,}: {text}") for text, number in texts[:WHY_TEXTS]]
            rest = sum(number for _, number in texts[WHY_TEXTS:])
            if rest:
                rows.append((step_id, f"{label} {rest:,}: ... with other texts"))
    return rows


def _summary(what: str, counts: Mapping[str, int]) -> str:
    if not counts:
        return f"{what}: none"
    return f"{what}: " + ", ".join(f"{key} {number:,}" for key, number in counts.items())


def _message_line(message: Mapping[str, Any]) -> str:
    content = message.get("subject") or message.get("title") or message.get("body") or ""
    first = content.strip().splitlines()[0] if content.strip() else ""
    line = f"  {message['at']}  {message['profile']}  {message['step']} ({message['channel']}) to " \
           f"{message.get('to', '')}: {first}"
    held = message.get("queued_at")
    if held:
        # The time of day when held the same (UTC) day, else the whole time.
        since = held[11:16] + "Z" if held[:10] == message["at"][:10] else held
        line += f" (held by quiet hours from {since})"
    return line
