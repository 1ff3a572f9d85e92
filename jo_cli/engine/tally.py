"""Counts per journey and step (SPEC §7.1) from the journal and the instances.

A step's `entered` is every visit: each step event that settles a visit
(an outcome, an unrouted error, an exit while parked) plus the instances
parked on it now. A message queued by quiet hours writes a `queued` event
and later settles as `sent` or `excluded`, so `queued` events are not visits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
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


def count_journey(journey: Journey, *, steps: Iterable[StepEvent], instances: Iterable[Instance],
                  discards: Iterable[Discard] = ()) -> JourneyCounts:
    """The counts of journey id `journey.id` (every version), with `journey`'s steps and outcomes."""
    counts = JourneyCounts()
    for step_id, step in journey.steps.items():  # file order
        counts.steps[step_id] = StepCounts(paths={} if step.type == "message" else dict.fromkeys(step.outcomes, 0))
    for event in steps:
        if event.journey != journey.id or event.outcome == "queued":
            continue
        step_counts = counts.steps.setdefault(event.step, StepCounts())
        step_counts.entered += 1
        if event.exited:
            _add(step_counts.exited, event.outcome)
        elif event.outcome == "error":
            step_counts.errors += 1
        elif event.outcome == "sent":
            step_counts.sent += 1
        elif event.outcome == "excluded":
            _add(step_counts.excluded, event.detail or "excluded")
        elif event.outcome != "end":
            _add(step_counts.paths, event.outcome)
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
            step_counts = counts.steps.setdefault(instance.step, StepCounts())
            step_counts.entered += 1
            step_counts.waiting += 1
            if instance.wake_kind == "release":
                step_counts.queued += 1
    counts.ended = dict(sorted(ended.items()))
    counts.waiting = dict(sorted(waiting.items()))
    counts.discarded = dict(sorted(Counter(d.reason for d in discards if d.journey == journey.id).items()))
    for step_counts in counts.steps.values():
        step_counts.excluded = dict(sorted(step_counts.excluded.items()))
    return counts


def _add(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1
