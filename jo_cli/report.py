"""`jo report ID` as a library: what the instances of a published journey did, counted as §7.1 counts (§7.7).

The counts come from the store's instances and their packed step history,
through the same tally as a dry-run's, so a report and a dry-run of the same
run read alike: `profiles.entered`, `steps` (per step in file order:
`entered`, `errors`, and `paths` with every outcome or, for messages,
`sent`, `queued`, `delayed`, `excluded`), `ended` and `waiting`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli.engine.model import Journey, compile_journey
from jo_cli.engine.tally import JourneyCounts, count_journey
from jo_cli.errors import JoError
from jo_cli.store import SqliteStore
from jo_cli.store.instances import instances_of
from jo_cli.store.versions import latest_version, version_document, versions_of


def journey_report(store: SqliteStore, journey_id: str, *, version: int | None, zone: ZoneInfo) -> dict[str, Any]:
    """The §7.1-shaped counts of `journey_id`'s instances: of one version, or of every version (counted on the
    latest version's steps) when `version` is None."""
    known = versions_of(store, journey_id)
    if not known:
        raise JoError(f"{journey_id}: never published in {store.path}")
    if version is not None and version not in {v.version for v in known}:
        raise JoError(f"{journey_id}: no version {version} (versions: {', '.join(str(v.version) for v in known)})")
    latest = latest_version(store, journey_id)
    assert latest is not None
    if latest.kind != "journey":
        raise JoError(f"{journey_id} is a campaign: campaign reports come with campaign runs")
    number = version or latest.version
    document = version_document(store, journey_id, number)
    assert document is not None
    journey = compile_journey(document, version=number, project_zone=zone)
    rows = list(instances_of(store, journey_id, version))
    step_counts = Counter((journey_id, record.step, record.outcome, record.detail, record.exited)
                          for row in rows for record in row.history)
    counts = count_journey(journey, instances=rows, step_counts=step_counts)  # type: ignore[arg-type]
    delayed: Counter[str] = Counter({step_id: 0 for step_id, step in journey.steps.items() if step.type == "message"})
    for row in rows:  # a message quiet hours held, then sent or excluded at its release (as a dry-run counts)
        held: set[str] = set()
        for record in row.history:
            if record.outcome == "queued":
                held.add(record.step)
            elif record.step in held and not record.exited:
                held.discard(record.step)
                delayed[record.step] += 1
    return {
        "kind": "journey", "id": journey_id, "version": version,
        "versions": [{"version": v.version, "status": v.status, "active": v.active, "entered": v.entered}
                     for v in known],
        "profiles": {"entered": counts.entered, "discarded": _discarded(store, journey_id, version)},
        "steps": steps_json(journey, counts, delayed=delayed),
        "ended": _nonzero(counts.ended),
        "waiting": _nonzero(counts.waiting),
    }


def _discarded(store: SqliteStore, journey_id: str, version: int | None) -> dict[str, int]:
    """Entries the rules refused (§6.2), by reason: of one version, or of all."""
    from jo_cli.store.state import discard_counts

    found: Counter[str] = Counter()
    for (journey, number, reason), count in discard_counts(store).items():
        if journey == journey_id and version in (None, number):
            found[reason] += count
    return dict(sorted(found.items()))


def steps_json(journey: Journey, counts: JourneyCounts, *, delayed: Mapping[str, int] | None = None
               ) -> dict[str, Any]:
    """§7.1's `steps`: every step in file order; messages with sent, queued, excluded (and, given `delayed`,
    the dry-run's count of messages quiet hours held and released, after `queued`); others every outcome."""
    steps: dict[str, Any] = {}
    for step_id, step in journey.steps.items():
        at_step = counts.steps[step_id]
        if step.type == "message":
            steps[step_id] = {"entered": at_step.entered, "errors": at_step.errors, "sent": at_step.sent,
                              "queued": at_step.queued}
            if delayed is not None:  # released after quiet hours, and so also sent or excluded: not an outcome
                steps[step_id]["delayed"] = delayed[step_id]
            steps[step_id]["excluded"] = _nonzero(at_step.excluded)
        else:
            steps[step_id] = {"entered": at_step.entered, "errors": at_step.errors, "paths": dict(at_step.paths)}
    return steps


def funnel_lines(report: Mapping[str, Any]) -> list[str]:
    """The report as a funnel: each step's entries as a share of the journey's, then where it sent them."""
    entered = report["profiles"]["entered"]
    which = f"v{report['version']}" if report["version"] is not None else "all versions"
    lines = [f"jo report {report['id']} ({which}): {entered:,} entered"]
    width = max((len(step) for step in report["steps"]), default=4)
    for step_id, counts in report["steps"].items():
        share = counts["entered"] / entered if entered else 0.0
        bar = "#" * round(share * 20)
        if "paths" in counts:
            outcomes = ", ".join(f"{name} {number:,}" for name, number in counts["paths"].items())
        else:
            excluded = ", ".join(f"{name} {number:,}" for name, number in counts["excluded"].items())
            outcomes = f"sent {counts['sent']:,}" + (f", queued {counts['queued']:,}" if counts["queued"] else "") \
                + (f", excluded {excluded}" if excluded else "")
        errors = f", errors {counts['errors']:,}" if counts["errors"] else ""
        lines.append(f"  {step_id:<{width}}  {counts['entered']:>9,}  {share:6.1%}  {bar:<20}  {outcomes}{errors}")
    if report["ended"]:
        lines.append("ended: " + ", ".join(f"{reason} {number:,}" for reason, number in report["ended"].items()))
    if report["waiting"]:
        lines.append("waiting: " + ", ".join(f"{step} {number:,}" for step, number in report["waiting"].items()))
    return lines


def _nonzero(counts: Mapping[str, int]) -> dict[str, int]:
    return {key: value for key, value in sorted(counts.items()) if value}
