"""MemoryProfiles read from a profile CSV: rows by identity, zones by the name each row gives."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from jo_cli.data.csv_reader import Reject, Row
from jo_cli.engine.memory import MemoryProfiles


def test_zones_come_from_the_zone_field_of_each_row() -> None:
    rejected: list[object] = []
    bad = Reject("p.csv", 4, "id", "empty identity")
    profiles = MemoryProfiles.from_rows(
        [Row(2, {"id": "a", "tz": "Asia/Tokyo"}), Row(3, {"id": "b", "tz": "Mars/Olympus"}), bad,
         Row(5, {"id": "c", "tz": None}), Row(6, {"id": 7, "tz": "Asia/Tokyo"})],
        identity="id", zone_field="tz", on_reject=rejected.append)
    assert rejected == [bad]
    assert list(profiles.identities()) == ["a", "b", "c", "7"]  # source order; identities as text
    assert profiles.zone("a") == ZoneInfo("Asia/Tokyo")
    assert profiles.zone("7") == ZoneInfo("Asia/Tokyo")
    assert profiles.zone("b") is None  # an invalid zone: the caller's default applies
    assert profiles.zone("c") is None
    assert profiles.zone("nobody") is None
    assert (profiles.invalid_zones, profiles.invalid_zone_rows) == (1, [(3, "Mars/Olympus")])  # for the warning


def test_a_row_that_changes_its_zone_is_read_again() -> None:
    profiles = MemoryProfiles.from_rows([Row(2, {"id": "a", "tz": "Asia/Tokyo"})], identity="id", zone_field="tz")
    profiles.rows["a"]["tz"] = "America/Los_Angeles"
    assert profiles.zone("a") == ZoneInfo("America/Los_Angeles")
    profiles.rows["a"]["tz"] = "Nowhere/Else"
    assert profiles.zone("a") is None


def test_without_a_zone_field_zones_are_given_by_identity() -> None:
    profiles = MemoryProfiles({"a": {"id": "a", "tz": "Asia/Tokyo"}}, {"a": ZoneInfo("Europe/Paris")})
    assert profiles.zone("a") == ZoneInfo("Europe/Paris")
    assert MemoryProfiles.from_rows([Row(2, {"id": "a", "tz": "Asia/Tokyo"})], identity="id").zone("a") is None
