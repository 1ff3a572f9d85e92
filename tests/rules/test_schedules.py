"""JO7xx schedules, zones and windows at their exact positions."""

from __future__ import annotations

import pytest

from jo_cli.loader import load_yaml
from jo_cli.rules import run_document_rules
from tests.rules.helpers import assert_findings

CAMPAIGN = "campaigns/example.yaml"
ACTIVITIES = (
    "activities:\n"
    "  all: {type: build-audience, dimension: profiles, where: 'true', next: mail}\n"
    "  mail: {type: email, content: {subject: Hi, body: Hello}}\n"
)


def journey(schedule: str, settings: str = "") -> str:
    """An audience journey whose schedule is on line 5 (`  schedule: ` then the flow mapping at col 13)."""
    return (
        "kind: journey\nid: welcome\n"
        "entry:\n  type: audience\n"
        f"  schedule: {schedule}\n"
        "  audience: subscribers\n  next: end\n"
        f"{settings}"
        "steps: {}\n"
    )


def campaign(schedule: str) -> str:
    """A campaign whose schedule is on line 3 (`schedule: ` then the flow mapping at col 11)."""
    return f"kind: campaign\nid: spring-sale\nschedule: {schedule}\n" + ACTIVITIES


def messages(source: str, code: str, *, path: str = "journeys/example.yaml", kind: str = "journey") -> list[str]:
    doc = load_yaml(path, source.encode()).document
    assert doc is not None
    return [f.message for f in run_document_rules(doc, kind=kind, expected_kind=kind) if f.code == code]


# JO701 cron


@pytest.mark.parametrize("cron", ["0 9 * * MON-FRI", "*/15 * * * *", "0 0 29 2 *", "@daily", "0 9 L * *"])
def test_jo701_valid_crons(cron: str) -> None:
    assert_findings(journey(f'{{cron: "{cron}"}}'))


@pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30,31 2 *", "61 * * * *", "0 9 * *", "0 9 * * * 2026",
                                  "R 9 * * *", "@reboot", ""])
def test_jo701_invalid_crons_point_at_the_value(cron: str) -> None:
    assert_findings(journey(f'{{cron: "{cron}"}}'), ("JO701", 5, 20))


def test_jo701_strict_mode_message_names_the_month() -> None:
    [message] = messages(journey('{cron: "0 0 31 2 *"}'), "JO701")
    assert message == "`0 0 31 2 *` never fires: day 31 never occurs in February"


def test_jo701_names_the_bad_field() -> None:
    [message] = messages(journey('{cron: "0 25 * * *"}'), "JO701")
    assert message.startswith("hour field `25` is not valid")


def test_jo701_campaign_schedule() -> None:
    assert_findings(campaign('{cron: "0 0 31 2 *"}'), ("JO701", 3, 18), path=CAMPAIGN)


def test_jo701_leaves_a_non_string_to_the_schema() -> None:
    assert_findings(journey("{cron: 5}"), ("JO203", 5, 20))


# JO702 time zones


def test_jo702_journey_zone_with_suggestion() -> None:
    source = journey('{cron: "0 9 * * *"}', settings="settings: {timezone: Europe/Pariss}\n")
    assert_findings(source, ("JO702", 8, 22))
    assert messages(source, "JO702") == ["`Europe/Pariss` is not an IANA time zone; did you mean `Europe/Paris`?"]


def test_jo702_schedule_zone() -> None:
    assert_findings(journey('{cron: "0 9 * * *", timezone: Paris}'), ("JO702", 5, 43))
    assert messages(journey('{cron: "0 9 * * *", timezone: Paris}'), "JO702")[0].endswith("`Europe/Paris`?")
    assert_findings(campaign('{cron: "0 9 * * *", timezone: "America/New York"}'), ("JO702", 3, 41), path=CAMPAIGN)


@pytest.mark.parametrize("zone", ["localtime", "Europe", "", "europe/paris", "../etc/passwd", "Mars/Olympus"])
def test_jo702_refuses_what_is_not_an_iana_zone(zone: str) -> None:
    assert_findings(journey('{cron: "0 9 * * *"}', settings=f'settings: {{timezone: "{zone}"}}\n'), ("JO702", 8, 22))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_jo702_accepts_iana_zones(zone: str) -> None:
    assert_findings(journey('{cron: "0 9 * * *"}', settings=f"settings: {{timezone: {zone}}}\n"))


PROJECT = (
    "kind: project\nname: acme\ntimezone: {zone}\n"
    "profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}\n"
    "rules:\n"
    "  default:\n"
    "    quiet_hours: {windows: [{from: \"21:00\", to: \"08:00\"}], timezone: {quiet}}\n"
)


def test_jo702_project_and_quiet_hours_zones() -> None:
    def project(zone: str, quiet: str) -> str:
        return PROJECT.replace("{zone}", zone).replace("{quiet}", quiet)

    assert_findings(project("Europe/Paris", "profile"), path="jo.yaml")
    assert_findings(project("Europe/Paris", "Asia/Tokyo"), path="jo.yaml")
    assert_findings(project("Europe/Pari", "Asia/Tokio"),
                    ("JO702", 3, 11), ("JO702", 7, 70), path="jo.yaml")


# JO703 schedule start before until


def test_jo703_until_before_start() -> None:
    source = journey('{cron: "0 9 * * *", start: 2026-12-01T00:00:00Z, until: 2026-11-01T00:00:00Z}')
    assert_findings(source, ("JO703", 5, 69))


def test_jo703_equal_is_an_empty_window() -> None:
    source = journey('{cron: "0 9 * * *", start: 2026-12-01T00:00:00Z, until: 2026-12-01T00:00:00Z}')
    assert_findings(source, ("JO703", 5, 69))


def test_jo703_valid_window() -> None:
    assert_findings(journey('{cron: "0 9 * * *", start: 2026-11-01T00:00:00Z, until: 2026-12-01T00:00:00Z}'))


def test_jo703_naive_datetime_read_in_the_schedule_zone() -> None:
    # 01:00 in Paris (UTC+1 in winter) is 00:00Z: equal, so empty; in New York it is 06:00Z, after until.
    paris = journey('{cron: "0 9 * * *", timezone: Europe/Paris, start: 2026-12-01T01:00:00, '
                    'until: 2026-12-01T00:00:00Z}')
    assert_findings(paris, ("JO703", 5, 92))
    tokyo = journey('{cron: "0 9 * * *", timezone: Asia/Tokyo, start: 2026-12-01T01:00:00, '
                    'until: 2026-12-01T00:00:00Z}')
    assert_findings(tokyo)


def test_jo703_naive_datetime_in_the_journey_zone() -> None:
    source = journey('{cron: "0 9 * * *", start: 2026-12-01T08:00:00, until: 2026-12-01T00:00:00Z}',
                     settings="settings: {timezone: America/New_York}\n")
    assert_findings(source, ("JO703", 5, 68))


def test_jo703_project_zone_unknown_reports_only_a_sure_case() -> None:
    # Without a zone in the file, 01:00 local could be before or after 00:00Z: not reported.
    near = journey('{cron: "0 9 * * *", start: 2026-12-01T01:00:00, until: 2026-12-01T00:00:00Z}')
    assert_findings(near)
    far = journey('{cron: "0 9 * * *", start: 2026-12-03T01:00:00, until: 2026-12-01T00:00:00Z}')
    assert_findings(far, ("JO703", 5, 68))


def test_jo703_campaign_and_bad_values_left_to_the_schema() -> None:
    source = campaign('{cron: "0 9 * * *", start: 2026-12-01T00:00:00Z, until: 2026-11-01T00:00:00Z}')
    assert_findings(source, ("JO703", 3, 67), path=CAMPAIGN)
    assert_findings(journey('{cron: "0 9 * * *", start: soon, until: 2026-11-01T00:00:00Z}'), ("JO205", 5, 40))


# JO704 journey entry window


def settings(start: str, end: str) -> str:
    return ("kind: journey\nid: welcome\nentry: {type: event, event: signed_up, next: end}\n"
            f"settings:\n  start: {start}\n  end: {end}\nsteps: {{}}\n")


def test_jo704_end_before_start() -> None:
    assert_findings(settings("2027-03-01T00:00:00Z", "2026-12-01T00:00:00Z"), ("JO704", 6, 8))
    assert_findings(settings("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z"), ("JO704", 6, 8))


def test_jo704_valid_window_and_offsets() -> None:
    assert_findings(settings("2026-12-01T00:00:00Z", "2027-03-01T00:00:00Z"))
    # Same instant written with different offsets is still an empty window.
    assert_findings(settings("2026-12-01T01:00:00+01:00", "2026-12-01T00:00:00Z"), ("JO704", 6, 8))
    assert_findings(settings("2026-12-01T00:00:00+01:00", "2026-12-01T00:00:00Z"))


def test_jo704_two_naive_datetimes_compare_as_wall_times() -> None:
    assert_findings(settings("2026-12-01T09:00:00", "2026-12-01T08:00:00"), ("JO704", 6, 8))
    assert_findings(settings("2026-12-01T08:00:00", "2026-12-01T09:00:00"))


# JO705 campaign frequency


@pytest.mark.parametrize("cron", ["*/15 * * * *", "0,15,30,45 * * * *", "0 9 * * MON", "0 */1 * * *", "@hourly",
                                  "0 0 1 1 *", "45 23 * * *"])
def test_jo705_every_15_minutes_or_less_often_passes(cron: str) -> None:
    assert_findings(campaign(f'{{cron: "{cron}", timezone: Europe/Paris}}'), path=CAMPAIGN)


# "0,50 0,23 * * *": 23:50 then 00:00 the next day, ten minutes apart across midnight.
@pytest.mark.parametrize("cron", ["*/10 * * * *", "* * * * *", "0,14 * * * *", "0-5 9 * * *", "0,5 9 1 * *",
                                  "0,50 0,23 * * *"])
def test_jo705_more_often_fails(cron: str) -> None:
    assert_findings(campaign(f'{{cron: "{cron}", timezone: Europe/Paris}}'), ("JO705", 3, 18), path=CAMPAIGN)


def test_jo705_message_gives_the_gap_and_when() -> None:
    [message] = messages(campaign('{cron: "*/10 * * * *", timezone: America/New_York}'), "JO705",
                         path=CAMPAIGN, kind="campaign")
    assert message == ("campaign schedule `*/10 * * * *` fires 10 minutes apart (2026-01-05 00:10 and 00:20); "
                       "AJO runs a campaign at most every 15 minutes")


def test_jo705_monthly_schedule_is_sampled_on_a_day_it_fires() -> None:
    [message] = messages(campaign('{cron: "0,5 9 1 * *"}'), "JO705", path=CAMPAIGN, kind="campaign")
    assert "5 minutes apart (2026-02-01 09:00 and 09:05)" in message


def test_jo705_in_a_dst_zone_and_without_zone() -> None:
    assert_findings(campaign('{cron: "*/15 * * * *", timezone: America/New_York}'), path=CAMPAIGN)
    assert_findings(campaign('{cron: "*/15 * * * *"}'), path=CAMPAIGN)
    assert_findings(campaign('{cron: "*/5 * * * *"}'), ("JO705", 3, 18), path=CAMPAIGN)


def test_jo705_journeys_may_fire_more_often() -> None:
    assert_findings(journey('{cron: "*/5 * * * *"}'))


def test_jo705_an_invalid_cron_is_jo701_only() -> None:
    assert_findings(campaign('{cron: "*/0 * * * *"}'), ("JO701", 3, 18), path=CAMPAIGN)


def test_jo705_a_bad_zone_is_jo702_and_the_gap_is_still_checked() -> None:
    assert_findings(campaign('{cron: "*/5 * * * *", timezone: Nowhere/Land}'),
                    ("JO702", 3, 43), ("JO705", 3, 18), path=CAMPAIGN)


# JO706 max_lateness


@pytest.mark.parametrize("value", ["PT0S", "P0D", "PT0M", "PT0.0S", "P0W"])
def test_jo706_zero_max_lateness(value: str) -> None:
    assert_findings(journey(f'{{cron: "0 9 * * *", max_lateness: {value}}}'), ("JO706", 5, 47))


@pytest.mark.parametrize("value", ["PT1S", "PT2H", "P1D"])
def test_jo706_positive_max_lateness(value: str) -> None:
    assert_findings(journey(f'{{cron: "0 9 * * *", max_lateness: {value}}}'))


def test_jo706_campaign_and_malformed() -> None:
    assert_findings(campaign('{cron: "0 9 * * *", max_lateness: PT0S}'), ("JO706", 3, 45), path=CAMPAIGN)
    assert_findings(journey('{cron: "0 9 * * *", max_lateness: -PT1H}'), ("JO205", 5, 47))


def test_schedule_rules_survive_broken_documents() -> None:
    assert_findings("kind: journey\nid: welcome\nentry: {type: audience, audience: a, next: end, schedule: 5}\n"
                    "settings: [1]\nsteps: {}\n", ("JO203", 3, 59), ("JO203", 4, 11))
    assert_findings("kind: campaign\nid: c\nschedule: [cron]\n" + ACTIVITIES, ("JO203", 3, 11), path=CAMPAIGN)
    assert_findings("- just\n- a list\n", path=CAMPAIGN.replace("campaigns", "elsewhere"))
