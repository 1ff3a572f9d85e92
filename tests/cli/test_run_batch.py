"""`jo run-batch` from the command line (SPEC §7.3): the demo over several passes, the §7.3 JSON, exit codes,
the run lock, fires (catch-up, clock moved back, republishing), a bad uploaded audience, `--only`, and the
same decisions as a dry-run."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jo_cli.store import open_store
from jo_cli.store.instances import instances_of
from jo_cli.store.lock import run_lock
from tests.cli.run_batch_helpers import PASSES, PUBLISHED, published_demo
from tests.conftest import REPO, check_golden, copy_demo

GOLDEN = REPO / "tests" / "fixtures" / "run-batch"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_demo(tmp_path)


@pytest.fixture
def store(project: Path, tmp_path: Path) -> Path:
    path = tmp_path / "run.db"
    published_demo(project, path)
    return path


def _pass(run_jo: Any, project: Path, store: Path, now: str, *extra: str) -> Any:
    return run_jo("jo", "run-batch", "--store", str(store), "--now", now, *extra, cwd=project)


def _rows(store: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store) as connection:
        return connection.execute(sql, params).fetchall()


def test_the_demo_over_four_passes_prints_the_summary_of_each(run_jo, project: Path, store: Path,  # type: ignore[no-untyped-def]
                                                               update_goldens: bool) -> None:
    summaries = []
    for now in PASSES:
        ran = _pass(run_jo, project, store, now, "--format", "json")
        assert ran.code == 0, ran.err
        summaries.append(json.loads(ran.out))
    check_golden(GOLDEN / "demo-passes.json", json.dumps(summaries, indent=2, ensure_ascii=False) + "\n",
                 update_goldens)
    first = summaries[0]
    assert list(first) == ["run", "now", "locked", "profiles", "fires", "skipped_fires", "entered", "discarded",
                           "events", "woken", "ended", "outbox"]  # §7.3's keys, in its order
    assert [s["run"] for s in summaries] == [1, 2, 3, 4]
    created = sum(s["outbox"]["created"] for s in summaries)
    assert created == len(_rows(store, "SELECT key FROM outbox")) > 50  # one row per message, each created once
    again = _pass(run_jo, project, store, PASSES[-1], "--format", "json")
    repeat = json.loads(again.out)
    assert (repeat["fires"], repeat["entered"], repeat["woken"], repeat["outbox"]["created"]) == ([], 0, 0, 0)
    assert [row[0] for row in _rows(store, "SELECT status FROM runs ORDER BY id")] == ["done"] * 5
    stored = json.loads(_rows(store, "SELECT summary FROM runs WHERE id = 1")[0][0])
    assert stored == first  # the runs row keeps the summary


def test_silent_on_success_unless_verbose(run_jo, project: Path, store: Path) -> None:  # type: ignore[no-untyped-def]
    quiet = _pass(run_jo, project, store, PASSES[0])
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")
    told = _pass(run_jo, project, store, PASSES[1], "-v")
    assert told.code == 0 and told.out == ""
    assert told.err.startswith("run 2 at 2026-12-01T12:00:00Z: 0 fires, 0 skipped; 5 entered")


def test_a_held_lock_skips_the_pass_or_fails_with_75(run_jo, project: Path, store: Path) -> None:  # type: ignore[no-untyped-def]
    with run_lock(store) as taken:
        assert taken
        skipped = _pass(run_jo, project, store, PASSES[0])
        assert skipped.code == 0 and "holds the run lock" in skipped.err and skipped.out == ""
        assert _pass(run_jo, project, store, PASSES[0], "--fail-if-locked").code == 75
        as_json = _pass(run_jo, project, store, PASSES[0], "--format", "json")
        assert json.loads(as_json.out) == {"locked": True}
        started = time.monotonic()
        waited = _pass(run_jo, project, store, PASSES[0], "--wait", "0.3", "--fail-if-locked")
        assert waited.code == 75 and time.monotonic() - started >= 0.3
    assert _rows(store, "SELECT count(*) FROM runs") == [(0,)]  # nothing ran while the lock was held
    assert _pass(run_jo, project, store, PASSES[0], "--wait", "5").code == 0


@pytest.mark.parametrize("workers", [2, 8])
def test_of_several_passes_started_together_exactly_one_runs(project: Path, store: Path, tmp_path: Path,
                                                             workers: int) -> None:
    """Mautic's overlapping crons sent one email up to six times (peers §4): here the others skip."""
    profiles = tmp_path / "many.csv"
    with (project / "data" / "profiles.csv").open(encoding="utf-8") as source:
        header, *rows = source.read().splitlines()
    with profiles.open("w", encoding="utf-8") as out:  # enough profiles that the one pass outlasts the others' starts
        out.write(header + "\n")
        for copy in range(60):
            for row in rows:
                ident, rest = row.split(",", 1)
                out.write(f"p{copy:02}{ident[1:]},{rest}\n")
    command = [sys.executable, "-m", "jo_cli", "run-batch", "--store", str(store), "--now", PASSES[0],
               "--profiles", str(profiles), "--fail-if-locked", "--format", "json"]
    children = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(workers)]
    results = [(child.returncode, *child.communicate(timeout=300)) for child in children]
    results = [(child.returncode, out, err) for child, (_, out, err) in zip(children, results, strict=True)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [75] * (workers - 1), results
    assert _rows(store, "SELECT count(*), min(status) FROM runs") == [(1, "done")]
    ran = next(json.loads(out) for code, out, _ in results if code == 0)
    assert ran["entered"] > 1000


def test_fires_catch_up_and_a_clock_moved_back_never_refires(run_jo, project: Path, store: Path) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(_pass(run_jo, project, store, "2026-12-09T09:00:00Z", "--format", "json").out)
    welcome = [f for f in first["fires"] if f["id"] == "welcome-series"]
    assert [f["scheduled_for"] for f in welcome] == ["2026-12-09T08:00:00Z"]  # catch_up latest: the newest only
    superseded = [f["scheduled_for"] for f in first["skipped_fires"] if f["id"] == "welcome-series"]
    assert superseded[0] == "2026-11-30T08:00:00Z" and len(superseded) == 9
    assert {f["reason"] for f in first["skipped_fires"] if f["id"] == "welcome-series"} == {"superseded"}
    back = json.loads(_pass(run_jo, project, store, "2026-12-05T09:00:00Z", "--format", "json").out)
    assert back["fires"] == [] and back["skipped_fires"] == []
    fires = _rows(store, "SELECT count(*) FROM fires WHERE id = 'welcome-series'")
    assert fires == [(10,)]


def test_republishing_between_a_fire_time_and_the_pass_neither_loses_nor_repeats_it(run_jo, project: Path,  # type: ignore[no-untyped-def]
                                                                                     store: Path) -> None:
    assert _pass(run_jo, project, store, "2026-12-01T07:00:00Z").code == 0
    journey = project / "journeys" / "welcome-series.yaml"
    journey.write_text(journey.read_text().replace("name: Welcome series", "name: Welcome series (v2)"))
    published = run_jo("jo", "publish", "--store", str(store), "--now", "2026-12-01T08:05:00Z", cwd=project)
    assert published.code == 0 and "welcome-series v2" in published.out
    after = json.loads(_pass(run_jo, project, store, "2026-12-01T08:10:00Z", "--format", "json").out)
    assert [(f["id"], f["version"], f["scheduled_for"]) for f in after["fires"] if f["id"] == "welcome-series"] == \
        [("welcome-series", 2, "2026-12-01T08:00:00Z")]  # the 09:00 Paris fire, by the version live at the pass
    again = json.loads(_pass(run_jo, project, store, "2026-12-01T08:30:00Z", "--format", "json").out)
    assert [f for f in again["fires"] if f["id"] == "welcome-series"] == []


def test_a_bad_uploaded_audience_fails_only_its_fire_and_is_retried(run_jo, project: Path, store: Path,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    (project / "data" / "vip.csv").write_text("id\np001\np002\n", encoding="utf-8")
    (project / "audiences" / "vip.yaml").write_text("kind: audience\nid: vip\nsource: data/vip.csv\n")
    (project / "journeys" / "vip.yaml").write_text(
        "kind: journey\nid: vip\nentry: {type: audience, audience: vip, next: hello}\nsteps:\n"
        "  hello: {type: message, channel: push, content: {title: Hi, body: VIP}, next: end}\n")
    assert run_jo("jo", "publish", "--store", str(store), "--now", PUBLISHED, cwd=project).code == 0
    (project / "data" / "vip.csv").write_text("", encoding="utf-8")  # broken after publication
    ran = _pass(run_jo, project, store, PASSES[0], "--format", "json")
    assert ran.code == 1
    summary = json.loads(ran.out)
    results = {f["id"]: f["result"] for f in summary["fires"]}
    assert results == {"vip": "failed", "birthday": "processed", "welcome-series": "processed",
                       "re-engagement": "processed"}
    assert "fire vip at 2026-12-01T08:00:00Z failed: data/vip.csv:1: the file is empty" in ran.err
    (project / "data" / "vip.csv").write_text("id\np001\np002\n", encoding="utf-8")
    retried = json.loads(_pass(run_jo, project, store, PASSES[1], "--format", "json").out)
    assert [(f["id"], f["scheduled_for"], f["result"]) for f in retried["fires"]] == \
        [("vip", "2026-12-01T08:00:00Z", "processed")]  # the failed fire is due again, at its own time
    assert retried["entered"] >= 2


def test_only_runs_the_named_ids_and_leaves_the_others_events_queued(run_jo, project: Path, store: Path) -> None:  # type: ignore[no-untyped-def]
    ran = json.loads(_pass(run_jo, project, store, PASSES[1], "--only", "abandoned-cart", "--format", "json").out)
    assert {f["id"] for f in ran["fires"]} == set()
    queued = _rows(store, "SELECT name, count(*) FROM events WHERE done = 0 AND at <= 1796126400 GROUP BY name")
    assert dict(queued).get("order_placed", 0) > 0 and "cart_abandoned" not in dict(queued)
    full = json.loads(_pass(run_jo, project, store, PASSES[1], "--format", "json").out)
    assert full["events"]["consumed"] > 0
    assert _rows(store, "SELECT count(*) FROM events WHERE done = 0 AND at <= 1796126400") == [(0,)]


def test_only_still_enters_the_journeys_its_journeys_jump_to(run_jo, project: Path, store: Path,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    """§6.4: a jump enters its target at the origin's time, whatever the pass runs: `--only abandoned-cart`
    enters concierge-callback for the big carts as a full pass does (its own callback_requested events stay
    queued for its own pass: p090's)."""
    full = tmp_path / "full.db"
    published_demo(project, full)
    assert _pass(run_jo, project, full, PASSES[2]).code == 0
    assert _pass(run_jo, project, store, PASSES[2], "--only", "abandoned-cart").code == 0

    def entered(path: Path) -> list[tuple[str, dt.datetime, list[str]]]:
        with contextlib.closing(open_store(path, readonly=True)) as opened:
            return [(row.profile, row.entered_at, [record.step for record in row.history])
                    for row in instances_of(opened, "concierge-callback")]

    by_jump = [row for row in entered(full) if row[0] != "p090"]
    assert len(by_jump) == 3 and entered(store) == by_jump
    assert _rows(store, "SELECT count(*) FROM events WHERE name = 'callback_requested' AND done = 0") == [(3,)]


def test_a_jump_to_a_closed_journey_is_a_discard_in_it(run_jo, project: Path, store: Path) -> None:  # type: ignore[no-untyped-def]
    """§12: a jump's failures are discards in the target; one with no live version enters nobody."""
    assert run_jo("jo", "close", "concierge-callback", "--store", str(store), cwd=project).code == 0
    ran = _pass(run_jo, project, store, PASSES[2], "--format", "json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["discarded"].get("no_live_version") == 3  # the three big carts
    assert _rows(store, "SELECT journey, version, count FROM discards WHERE reason = 'no_live_version'") == [
        ("concierge-callback", 1, 3)]
    with contextlib.closing(open_store(store, readonly=True)) as opened:
        assert list(instances_of(opened, "concierge-callback")) == []  # nor does its own event (closed)


def test_bad_input_exits_2_and_runs_nothing(run_jo, project: Path, store: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = _pass(run_jo, project, store, PASSES[0], "--profiles", str(tmp_path / "none.csv"))
    assert missing.code == 2 and "no such profile source" in missing.err
    bad = tmp_path / "bad.csv"
    bad.write_text("nope\nx\n", encoding="utf-8")
    header = _pass(run_jo, project, store, PASSES[0], "--profiles", str(bad))
    assert header.code == 2 and "bad.csv" in header.err and "Traceback" not in header.err
    absent = _pass(run_jo, project, tmp_path / "absent.db", PASSES[0])
    assert absent.code == 2 and "no run store there" in absent.err
    assert _pass(run_jo, project, store, PASSES[0], "--deliver-for", "soon").code == 2
    journey = project / "journeys" / "birthday.yaml"
    journey.write_text(journey.read_text().replace("type: audience", "type: audiense", 1))
    broken = _pass(run_jo, project, store, PASSES[0])
    assert broken.code == 2 and "nothing was run" in broken.err
    assert _rows(store, "SELECT count(*) FROM instance_rows") == [(0,)]
    assert [row[0] for row in _rows(store, "SELECT status FROM runs")] in ([], ["failed"])


@pytest.mark.parametrize("chunk", ["1", "7", "5000"])
def test_run_batch_decides_as_a_dry_run_does(run_jo, project: Path, tmp_path: Path, chunk: str) -> None:  # type: ignore[no-untyped-def]
    """§6.3: the same engine. One journey published alone (capping counts its own messages, as a dry-run's do),
    its events pushed, passes at the dry-run's --now and horizon: the same messages and counts, any chunk."""
    dry = run_jo("jo", "dry-run", "journeys/post-purchase.yaml", "--events", "events/events.jsonl", "--render-all",
                 "--show", "1000", "--format", "json", cwd=project)
    assert dry.code == 0, dry.err
    expected = json.loads(dry.out)
    store = tmp_path / "alone.db"
    assert run_jo("jo", "publish", "journeys/post-purchase.yaml", "--store", str(store), "--now",
                  "2026-11-01T00:00:00Z", cwd=project).code == 0
    run_jo("jo", "events", "push", "events/events.jsonl", "--store", str(store), cwd=project)
    for now in (expected["now"], "2026-12-03T00:00:00Z", expected["horizon"]):
        assert _pass(run_jo, project, store, now, "--chunk", chunk).code == 0
    keys = [row[0] for row in _rows(store, "SELECT key FROM outbox ORDER BY key")]
    assert keys == sorted(m["key"] for m in expected["messages"]) != []
    bodies = {m["key"]: m for m in expected["messages"]}
    for key, message in _rows(store, "SELECT key, message FROM outbox"):
        stored = json.loads(message)
        assert stored["version"] == 1 and bodies[key]["version"] is None  # a dry-run's journey is unpublished
        assert {k: v for k, v in stored.items() if k not in ("status", "version")} == \
            {k: v for k, v in bodies[key].items() if k not in ("status", "queued_at", "version")}
    report = json.loads(run_jo("jo", "report", "post-purchase", "--store", str(store), "-o", "json",
                               cwd=project).out)
    assert report["steps"] == expected["steps"]
    assert (report["ended"], report["waiting"]) == (expected["ended"], expected["waiting"])


def test_a_version_closed_during_a_pass_takes_no_more_entries(run_jo, project: Path, store: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """§7.3: each chunk re-reads close (and stop): a fire's later chunks do not enter once `jo close` ran."""
    from jo_cli.store.state import SqliteStateStore

    (project / "audiences" / "everyone.yaml").write_text("kind: audience\nid: everyone\nwhere: 'true'\n")
    (project / "journeys" / "everyone.yaml").write_text(
        "kind: journey\nid: everyone\nentry: {type: audience, audience: everyone, next: pause}\nsteps:\n"
        "  pause: {type: wait, duration: P1D, next: end}\n")
    assert run_jo("jo", "publish", "--store", str(store), "--now", PUBLISHED, cwd=project).code == 0
    commit = SqliteStateStore.commit

    def closing_after_the_first_chunk(self: SqliteStateStore, changes: Any) -> None:
        commit(self, changes)
        if any(r.journey == "everyone" and r.status == "claimed" for r in changes.fires):
            closed = run_jo("jo", "close", "everyone", "--store", str(store), "--now", PASSES[0], cwd=project)
            assert closed.code == 0, closed.err

    monkeypatch.setattr(SqliteStateStore, "commit", closing_after_the_first_chunk)
    ran = _pass(run_jo, project, store, PASSES[0], "--only", "everyone", "--chunk", "40", "--format", "json")
    summary = json.loads(ran.out)  # (the nested `jo close` took its own output)
    assert summary["entered"] == 40 and summary["fires"][0]["result"] == "processed"
    assert _rows(store, "SELECT count(*) FROM instances WHERE journey = 'everyone'") == [(40,)]


def test_a_fire_cut_short_is_finished_by_a_later_pass_even_when_a_newer_fire_is_due(run_jo, project: Path,  # type: ignore[no-untyped-def]
                                                                                     store: Path) -> None:
    """A crash mid-fire, then the next pass after the next cron time: the claimed fire is resumed and finished
    (never recorded `superseded` with half its members in), then the newer fire runs."""
    from tests.cli.run_batch_helpers import killed_pass

    (project / "audiences" / "everyone.yaml").write_text("kind: audience\nid: everyone\nwhere: 'true'\n")
    (project / "journeys" / "everyone.yaml").write_text(
        "kind: journey\nid: everyone\nentry: {type: audience, audience: everyone, schedule: {cron: '0 9 * * *'}, "
        "next: pause}\nsettings: {reentrance: {allowed: false}}\nsteps:\n"
        "  pause: {type: wait, duration: PT1H, next: end}\n")
    assert run_jo("jo", "publish", "--store", str(store), "--now", PUBLISHED, cwd=project).code == 0
    # Killed after its second commit: the skips, then the fire's first chunk of 40.
    assert killed_pass(project, store, PASSES[0], "commit.after", 2, "--only", "everyone")
    assert _rows(store, "SELECT status, members, entered FROM fires WHERE id = 'everyone' ORDER BY scheduled_at") \
        == [("skipped", 0, 0), ("claimed", 40, 40)]
    later = json.loads(_pass(run_jo, project, store, "2026-12-02T08:30:00Z", "--only", "everyone",
                             "--format", "json").out)
    assert [(f["scheduled_for"], f["result"]) for f in later["fires"]] == [
        ("2026-12-01T08:00:00Z", "processed"), ("2026-12-02T08:00:00Z", "processed")]
    assert later["entered"] == 381 - 5 - 40  # the rest of the first fire; nobody enters twice
    assert later["discarded"] == {"reentrance_not_allowed": 376}
