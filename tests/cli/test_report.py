"""`jo report ID` over what an engine wrote through the store's state port (SPEC §7.7): the same counts, under
§7.1's keys, as a dry-run of the same journey on the same data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from jo_cli.dryrun import fire_time
from jo_cli.engine.memory import FixedClock, MemoryProfiles, MemoryRuleCounters, SingleFire, memory_engine
from jo_cli.engine.model import compile_journey
from jo_cli.engine.policy import Policy, channels_of, rule_sets_of
from jo_cli.engine.project import ProjectInputs
from jo_cli.store import open_store
from jo_cli.store.state import SqliteStateStore
from jo_cli.store.versions import version_document
from tests.conftest import copy_demo

NOW = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
HORIZON = NOW + dt.timedelta(days=91)


def test_a_report_counts_what_a_dry_run_of_the_same_data_counts(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = copy_demo(tmp_path)
    store_path = tmp_path / "run.db"
    assert run_jo("jo", "publish", "--store", str(store_path), cwd=project).code == 0
    inputs = ProjectInputs.load(project)
    reader = inputs.read_profiles(None, keep=None)
    profiles = MemoryProfiles.from_rows(reader, identity=inputs.identity, zone_field=reader.zone_field)
    with open_store(store_path) as store:
        document = version_document(store, "welcome-series", 1)
        assert document is not None
        journey = compile_journey(document, version=1, project_zone=inputs.zone)
        policy = Policy(channels=channels_of(inputs.index.config), rule_sets=rule_sets_of(inputs.index.config),
                        counters=MemoryRuleCounters(), project_zone=inputs.zone, zone_of=profiles.zone,
                        status="pending")
        engine = memory_engine([journey], profiles=profiles, audiences=inputs.audience_definitions(),
                               zone=inputs.zone, store=SqliteStateStore(store), clock=FixedClock(NOW),
                               fires=SingleFire(fire_time(journey, NOW)), policy=policy)
        for now in (NOW, NOW + dt.timedelta(days=3, hours=1), HORIZON):  # three passes, as cron would
            engine.run_until(now, qualify=False)
    ran = run_jo("jo", "report", "welcome-series", "--store", str(store_path), "-o", "json", cwd=project)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    dry = json.loads(run_jo("jo", "dry-run", "welcome-series", "--now", "2026-12-01T08:00:00Z", "-o", "json",
                            cwd=project).out)
    assert report["steps"] == dry["steps"]  # `delayed` too: a message quiet hours held, then released
    assert list(report["steps"]) == list(dry["steps"])  # in file order: the version keeps the document's key order
    assert (report["ended"], report["waiting"]) == (dry["ended"], dry["waiting"])
    assert report["profiles"] == {"entered": dry["profiles"]["entered"], "discarded": dry["profiles"]["discarded"]}
    assert report["profiles"]["entered"] > 0
