"""JO7xx: schedules, time zones and entry windows (SPEC §4, §6.1, §7.3, §7.6, §9.2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from jo_cli.durations import parse_duration
from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath
from jo_cli.rules.base import RuleContext, rule
from jo_cli.schedule import load_zone, not_before, parse_datetime, smallest_fire_gap, validate_cron, validate_timezone

MIN_CAMPAIGN_INTERVAL = dt.timedelta(minutes=15)
# Fires are sampled from a fixed date, never the clock, so a finding does not come and go with the day.
SAMPLE_START = dt.datetime(2026, 1, 5)
SAMPLE_PERIOD = dt.timedelta(days=2)


@rule("JO701", "cron", "error")
def check_cron(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A schedule's `cron` is not a valid five-field cron expression, or can never fire.

    Crons are checked in croniter's strict mode, which refuses a day that
    never occurs in the months given (`0 0 31 2 *`). Fields: minute hour
    day-of-month month day-of-week; the aliases `@hourly`, `@daily`,
    `@weekly`, `@monthly` and `@yearly` are accepted. Random and hashed
    values (`R`, `H`) are not: every host must fire at the same times.

    Fails:
        kind: journey
        id: welcome
        entry: {type: audience, audience: subscribers, schedule: {cron: "0 0 31 2 *"}, next: end}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: audience, audience: subscribers, schedule: {cron: "0 9 * * MON-FRI"}, next: end}
        steps: {}
    """
    for path, schedule in _schedules(doc, context):
        cron = schedule.get("cron")
        if isinstance(cron, str):
            problem = validate_cron(cron)
            if problem is not None:
                yield check_cron.finding(doc, doc.locate((*path, "cron")), problem,
                                         hint="`0 9 * * MON-FRI` fires at 09:00 on weekdays")


@rule("JO702", "timezone", "error")
def check_timezones(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A time zone is not an IANA zone name.

    Applies to jo.yaml's `timezone` and quiet-hours `timezone` (besides
    `profile`), a journey's `settings.timezone`, and every schedule's
    `timezone`. Names are case-sensitive (`Europe/Paris`); the host's
    `localtime` is refused because it differs between machines.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {timezone: Europe/Pariss}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {timezone: Europe/Paris}
        steps: {}
    """
    for path in _zone_paths(doc, context):
        value = _get(doc.data, path)
        if isinstance(value, str):
            problem = validate_timezone(value)
            if problem is not None:
                yield check_timezones.finding(doc, doc.locate(path), problem)


@rule("JO703", "schedule-window", "error")
def check_schedule_window(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A schedule's `start` is not before its `until`: it can never fire.

    A datetime without offset is read in the schedule's zone (its own
    `timezone`, else the journey's). When that is the project's zone, which
    one file does not show, only a window empty in every zone is reported.

    Fails:
        kind: journey
        id: welcome
        entry:
          type: audience
          audience: subscribers
          schedule: {cron: "0 9 * * *", start: 2026-12-01T00:00:00Z, until: 2026-11-01T00:00:00Z}
          next: end
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry:
          type: audience
          audience: subscribers
          schedule: {cron: "0 9 * * *", start: 2026-11-01T00:00:00Z, until: 2026-12-01T00:00:00Z}
          next: end
        steps: {}
    """
    for path, schedule in _schedules(doc, context):
        start, until = parse_datetime(schedule.get("start")), parse_datetime(schedule.get("until"))
        if start is not None and until is not None and not_before(start, until, _schedule_zone(doc, schedule)):
            yield check_schedule_window.finding(
                doc, doc.locate((*path, "until")),
                f"schedule `until` ({schedule['until']}) is not after its `start` ({schedule['start']}); "
                "it would never fire")


@rule("JO704", "entry-window", "error")
def check_entry_window(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A journey's `settings.start` is not before `settings.end`: nobody could ever enter.

    The entry window is `[start, end)`. A datetime without offset is read in
    the journey's zone; when that is the project's, only a window empty in
    every zone is reported.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {start: 2027-03-01T00:00:00Z, end: 2026-12-01T00:00:00Z}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        settings: {start: 2026-12-01T00:00:00Z, end: 2027-03-01T00:00:00Z}
        steps: {}
    """
    if context.kind != "journey" or not isinstance(doc.data, dict):
        return
    settings = doc.data.get("settings")
    if not isinstance(settings, dict):
        return
    start, end = parse_datetime(settings.get("start")), parse_datetime(settings.get("end"))
    if start is not None and end is not None and not_before(start, end, _journey_zone(doc)):
        yield check_entry_window.finding(
            doc, doc.locate(("settings", "end")),
            f"`end` ({settings['end']}) is not after `start` ({settings['start']}); no profile could ever enter")


@rule("JO705", "campaign-schedule-frequency", "error", example_path="campaigns/example.yaml")
def check_campaign_frequency(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A campaign's schedule fires more often than every 15 minutes.

    AJO runs a recurring orchestrated campaign at most every 15 minutes
    (create-orchestrated-campaign, "Exact numbers" #13). jo finds the
    shortest time between two consecutive fires over two days from the first
    fire after 2026-01-05 00:00 in the schedule's zone (UTC when it is the
    project's); a fixed date, so the answer never depends on today.

    Fails:
        kind: campaign
        id: spring-sale
        schedule: {cron: "*/10 * * * *", timezone: Europe/Paris}
        activities:
          gold: {type: build-audience, dimension: profiles, where: 'tier == "gold"'}
    Passes:
        kind: campaign
        id: spring-sale
        schedule: {cron: "*/15 * * * *", timezone: Europe/Paris}
        activities:
          gold: {type: build-audience, dimension: profiles, where: 'tier == "gold"'}
    """
    if context.kind != "campaign":
        return
    for path, schedule in _schedules(doc, context):
        cron = schedule.get("cron")
        if not isinstance(cron, str) or validate_cron(cron) is not None:
            continue
        zone = _schedule_zone(doc, schedule) or dt.UTC
        try:
            closest = smallest_fire_gap(cron, zone, start=SAMPLE_START.replace(tzinfo=zone), period=SAMPLE_PERIOD,
                                        below=MIN_CAMPAIGN_INTERVAL)
        except Exception:  # croniter gave up on an odd but valid expression: nothing to report here
            continue
        if closest is not None and closest.gap < MIN_CAMPAIGN_INTERVAL:
            minutes = int(closest.gap.total_seconds() // 60)
            local = f"{closest.first:%Y-%m-%d %H:%M} and {closest.second:%H:%M}"
            yield check_campaign_frequency.finding(
                doc, doc.locate((*path, "cron")),
                f"campaign schedule `{cron}` fires {minutes} minute{'s' if minutes != 1 else ''} apart "
                f"({local}); AJO runs a campaign at most every 15 minutes",
                hint="`*/15 * * * *` is the most frequent schedule allowed")


@rule("JO706", "max-lateness", "error")
def check_max_lateness(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A schedule's `max_lateness` is zero: every fire would be too late.

    A fire older than `now - max_lateness` is never processed (`too_late`),
    and run-batch always runs a little after the fire time; leave
    `max_lateness` out to process late fires whatever their age.

    Fails:
        kind: journey
        id: welcome
        entry: {type: audience, audience: subscribers, schedule: {cron: "0 9 * * *", max_lateness: PT0S}, next: end}
        steps: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: audience, audience: subscribers, schedule: {cron: "0 9 * * *", max_lateness: PT2H}, next: end}
        steps: {}
    """
    for path, schedule in _schedules(doc, context):
        value = parse_duration(schedule.get("max_lateness"))
        if value is not None and value <= dt.timedelta(0):
            yield check_max_lateness.finding(
                doc, doc.locate((*path, "max_lateness")),
                f"`max_lateness` is {schedule['max_lateness']}; it must be a positive duration such as PT2H")


def _schedules(doc: Document, context: RuleContext) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """(path, schedule) of the document's schedule: a journey's entry or a campaign's."""
    path: JsonPath
    if context.kind == "journey":
        path = ("entry", "schedule")
    elif context.kind == "campaign":
        path = ("schedule",)
    else:
        return
    schedule = _get(doc.data, path)
    if isinstance(schedule, dict):
        yield path, schedule


def _zone_paths(doc: Document, context: RuleContext) -> Iterator[JsonPath]:
    data = doc.data
    if not isinstance(data, dict):
        return
    if context.kind == "project":
        yield ("timezone",)
        rule_sets = data.get("rules")
        if isinstance(rule_sets, dict):
            for name, rule_set in rule_sets.items():
                quiet = rule_set.get("quiet_hours") if isinstance(rule_set, dict) else None
                if isinstance(quiet, dict) and quiet.get("timezone") != "profile":
                    yield ("rules", name, "quiet_hours", "timezone")
    elif context.kind == "journey":
        yield ("settings", "timezone")
        yield ("entry", "schedule", "timezone")
    elif context.kind == "campaign":
        yield ("schedule", "timezone")


def _schedule_zone(doc: Document, schedule: dict[str, Any]) -> dt.tzinfo | None:
    """The zone a schedule is read in, when this file says (its own, else the journey's); None: the project's."""
    own = schedule.get("timezone")
    if isinstance(own, str):
        return load_zone(own)
    return _journey_zone(doc)


def _journey_zone(doc: Document) -> dt.tzinfo | None:
    zone = _get(doc.data, ("settings", "timezone"))
    return load_zone(zone) if isinstance(zone, str) else None


def _get(data: Any, path: JsonPath) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
