"""Instances with their packed step history, and `jo report` counting them (SPEC §7.1 keys, §7.7)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jo_cli.store import open_store
from jo_cli.store.instances import (
    VOCABULARY,
    InstanceRow,
    Names,
    StepRecord,
    decode_history,
    encode_history,
    instances_of,
    start_instances,
)
from tests.conftest import copy_demo

T0 = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
NAMES = Names(["check", "mail", "wait-3d", "opted-in", *VOCABULARY])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES.names), st.sampled_from(NAMES.names),
                          st.one_of(st.none(), st.sampled_from(NAMES.names)), st.booleans(),
                          st.integers(0, 200 * 86_400)), max_size=20))
def test_a_history_decodes_to_what_was_encoded(steps: list[tuple[str, str, str | None, bool, int]]) -> None:
    records, at = [], T0
    for step, outcome, detail, exited, later in steps:
        at += dt.timedelta(seconds=later)
        records.append(StepRecord(step, outcome, at, detail, exited))
    data = encode_history(records, NAMES, T0)
    assert list(decode_history(data, NAMES, T0)) == records
    assert len(data) <= 8 * len(records)  # a few bytes a step


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(KeyError, match="not a step, path or outcome"):
        encode_history([StepRecord("nope", "next", T0)], NAMES, T0)


@pytest.fixture
def published(tmp_path: Path, run_jo) -> Path:  # type: ignore[no-untyped-def]
    root = copy_demo(tmp_path)
    assert run_jo("jo", "publish", "--now", "2026-12-01T00:00:00Z", cwd=root).code == 0
    return root


def _rows() -> list[InstanceRow]:
    later = T0 + dt.timedelta(days=3)
    sent = [StepRecord("check-reachable", "opted-in", T0), StepRecord("season", "gift-season", T0),
            StepRecord("welcome-holiday", "sent", T0), StepRecord("wait-3d", "next", later)]
    return [
        InstanceRow("welcome-series", "p1", 1, 1, 1, T0, end="converted",
                    history=[*sent, StepRecord("first-order", "bought", later)], ended_at=later),
        InstanceRow("welcome-series", "p2", 1, 1, 2, T0, step="wait-3d", wake_at=later, wake_kind="wake",
                    history=sent[:3]),
        InstanceRow("welcome-series", "p3", 1, 1, 3, T0, end="no-email", ended_at=T0,
                    history=[StepRecord("check-reachable", "otherwise", T0)]),
        InstanceRow("welcome-series", "p0", 1, 1, 4, T0, end="end", ended_at=T0,
                    history=[StepRecord("check-reachable", "opted-in", T0), StepRecord("season", "otherwise", T0),
                             StepRecord("welcome-email", "excluded", T0, detail="no_consent")]),
    ]


def test_instances_are_kept_with_their_history(published: Path) -> None:
    with open_store(published / ".jo" / "store.db") as store:
        names = {("welcome-series", 1): Names.of(store, "welcome-series", 1)}
        with store.write():
            start_instances(store, _rows(), names)
        found = list(instances_of(store, "welcome-series"))
    assert [row.profile for row in found] == ["p0", "p1", "p2", "p3"]  # key order
    assert {row.profile: row for row in found}["p2"] == next(r for r in _rows() if r.profile == "p2")


def test_report_counts_as_a_dry_run_counts(published: Path, run_jo) -> None:  # type: ignore[no-untyped-def]
    with open_store(published / ".jo" / "store.db") as store:
        names = {("welcome-series", 1): Names.of(store, "welcome-series", 1)}
        with store.write():
            start_instances(store, _rows(), names)
    ran = run_jo("jo", "report", "welcome-series", "-o", "json", cwd=published)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert list(report) == ["kind", "id", "version", "versions", "profiles", "steps", "ended", "waiting"]
    assert report["profiles"] == {"entered": 4, "discarded": {}}
    assert report["steps"]["check-reachable"] == {"entered": 4, "errors": 0,
                                                  "paths": {"opted-in": 3, "otherwise": 1}}
    assert report["steps"]["welcome-holiday"] == {"entered": 2, "errors": 0, "sent": 2, "queued": 0, "delayed": 0,
                                                  "excluded": {}}
    assert report["steps"]["welcome-email"]["excluded"] == {"no_consent": 1}
    assert report["steps"]["wait-3d"] == {"entered": 2, "errors": 0, "paths": {"next": 1}}  # one still parked
    assert report["ended"] == {"converted": 1, "end": 1, "no-email": 1}
    assert report["waiting"] == {"wait-3d": 1}
    text = run_jo("jo", "report", "welcome-series", cwd=published)
    assert text.out.startswith("jo report welcome-series (all versions): 4 entered")
    assert "check-reachable" in text.out and "opted-in 3, otherwise 1" in text.out


def test_report_errors(published: Path, run_jo) -> None:  # type: ignore[no-untyped-def]
    assert "never published" in run_jo("jo", "report", "nope", cwd=published).err
    assert "no version 7" in run_jo("jo", "report", "welcome-series", "--version", "7", cwd=published).err
    assert "campaign reports come with" in run_jo("jo", "report", "winter-sale", cwd=published).err
    empty = run_jo("jo", "report", "birthday", "-o", "json", cwd=published)
    assert empty.code == 0 and json.loads(empty.out)["profiles"] == {"entered": 0, "discarded": {}}
