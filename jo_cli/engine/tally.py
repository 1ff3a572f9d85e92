"""Counts per journey and step (SPEC §7.1) from the journal and the instances.

A step's `entered` is every visit: each step event that settles a visit
(an outcome, an unrouted error, an exit while parked) plus the instances
parked on it now. A message queued by quiet hours writes a `queued` event
and later settles as `sent` or `excluded`, so `queued` events are not visits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from jo_cli.engine.model import Journey
from jo_cli.engine.ports import Discard, Instance, StepEvent


@dataclass
class StepCounts:
    entered: int = 0
    errors: int = 0
    paths: dict[str, int] = field(default_factory=dict)  # non-message steps: every outcome, zeros included
    sent: int = 0  # message steps
    queued: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    exited: dict[str, int] = field(default_factory=dict)  # instances that exited while parked here, by reason
    waiting: int = 0


@dataclass
class JourneyCounts:
    entered: int = 0
    discarded: dict[str, int] = field(default_factory=dict)
    steps: dict[str, StepCounts] = field(default_factory=dict)
    ended: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)


StepKey = tuple[str, str, str, "str | None", bool]  # (journey, step, outcome, detail, exited)


def at_stepof(events: Iterable[StepEvent]) -> dict[StepKey, int]:
    """Step events counted as `MemoryStore.step_counts` counts them."""
    counted: Counter[StepKey] = Counter()
    for event in events:
        counted[event.journey, event.step, event.outcome, event.detail, event.exited] += 1
    return dict(counted)


def count_journey(journey: Journey, *, instances: Iterable[Instance], steps: Iterable[StepEvent] | None = None,
                  step_counts: Mapping[StepKey, int] | None = None, discards: Iterable[Discard] = ()) -> JourneyCounts:
    """The counts of journey id `journey.id` (every version), with `journey`'s steps and outcomes.

    The step events come as `steps` or already counted as `step_counts`.
    """
    counts = JourneyCounts()
    for step_id, step in journey.steps.items():  # file order
        counts.steps[step_id] = StepCounts(paths={} if step.type == "message" else dict.fromkeys(step.outcomes, 0))
    counted = step_counts if step_counts is not None else at_stepof(steps or ())
    for (journey_id, step_id, outcome, detail, exited), number in counted.items():
        if journey_id != journey.id or outcome == "queued":
            continue
        at_step = counts.steps.setdefault(step_id, StepCounts())
        at_step.entered += number
        if exited:
            _add(at_step.exited, outcome, number)
        elif outcome == "error":
            at_step.errors += number
        elif outcome == "sent":
            at_step.sent += number
        elif outcome == "excluded":
            _add(at_step.excluded, detail or "excluded", number)
        elif outcome != "end":
            _add(at_step.paths, outcome, number)
    ended: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    for instance in instances:
        if instance.journey != journey.id:
            continue
        counts.entered += 1
        if instance.end is not None:
            ended[instance.end] += 1
        elif instance.step is not None:
            waiting[instance.step] += 1
            parked = counts.steps.setdefault(instance.step, StepCounts())
            parked.entered += 1
            parked.waiting += 1
            if instance.wake_kind == "release":
                parked.queued += 1
    counts.ended = dict(sorted(ended.items()))
    counts.waiting = dict(sorted(waiting.items()))
    counts.discarded = dict(sorted(Counter(d.reason for d in discards if d.journey == journey.id).items()))
    for each in counts.steps.values():
        each.excluded = dict(sorted(each.excluded.items()))
    return counts


def _add(counter: dict[str, int], key: str, number: int = 1) -> None:
    counter[key] = counter.get(key, 0) + number


# ---------------------------------------------------------------- why: the texts behind errors and exclusions

REASON_TEXTS = 20  # distinct texts listed per step; the others are counted together under one key
ReasonMaps = dict[str, dict[str, dict[str, int]]]  # kind -> step -> text -> instances


def count_reasons(journey: Journey, *, step_counts: Mapping[StepKey, int],
                  excluded: Mapping[str, Mapping[str, int]] | None = None, keep: int = REASON_TEXTS) -> ReasonMaps:
    """The texts behind a journey's errors (§7.1 `reasons`): `errors` (unrouted: the instance ended `error`)
    and `on_error` (routed) by the step's error text, and `excluded` as given (`render_error: <text>` by step,
    the texts a step event does not carry). Steps in file order, texts sorted, at most `keep` per step."""
    texts: dict[str, dict[str, Counter[str]]] = {"errors": {}, "on_error": {}}
    for (journey_id, step_id, outcome, detail, exited), number in step_counts.items():
        if journey_id != journey.id or exited or outcome not in ("error", "on_error"):
            continue
        kind = "errors" if outcome == "error" else "on_error"
        texts[kind].setdefault(step_id, Counter())[detail or outcome] += number
    reasons: ReasonMaps = {}
    for kind, by_step in (*texts.items(), ("excluded", excluded or {})):
        reasons[kind] = {step_id: bounded(by_step[step_id], keep) for step_id in journey.steps
                         if step_id in by_step and any(by_step[step_id].values())}
    return reasons


def bounded(texts: Mapping[str, int], keep: int = REASON_TEXTS) -> dict[str, int]:
    """The `keep` most frequent texts (ties by text), and the rest summed under "(N other texts)"; sorted by key."""
    ranked = sorted(((text, number) for text, number in texts.items() if number), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[:keep])
    rest = ranked[keep:]
    if rest:
        kept[f"({len(rest):,} other text{'s' if len(rest) != 1 else ''})"] = sum(number for _, number in rest)
    return dict(sorted(kept.items()))
