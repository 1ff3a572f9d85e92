"""`jo dry-run` (SPEC §7.1): the JSON contract and the text view of every demo journey, options, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, check_golden

GOLDEN = FIXTURES / "dryrun"
NOW = "2026-12-01T08:00:00Z"  # the demo's day, 09:00 in Paris (jo.yaml)
DEMO = sorted(p.stem for p in (REPO / "journeys").glob("*.yaml"))
NEEDS_STORE = {"gold-welcome"}  # an audience-qualification entry


def dry_run(run_jo, journey: str, *options: str, cwd: Path = REPO):  # type: ignore[no-untyped-def]
    return run_jo("jo", "dry-run", f"journeys/{journey}.yaml", "--now", NOW, "--events", "events/events.jsonl",
                  *options, cwd=cwd)


@pytest.mark.parametrize("journey", [j for j in DEMO if j not in NEEDS_STORE])
def test_demo_journey_json(run_jo, update_goldens: bool, journey: str) -> None:  # type: ignore[no-untyped-def]
    ran = dry_run(run_jo, journey, "--format", "json", "--show", "5")
    assert ran.code == 0, ran.err
    check_golden(GOLDEN / f"{journey}.json", ran.out, update_goldens)


@pytest.mark.parametrize("journey", [j for j in DEMO if j not in NEEDS_STORE])
def test_demo_journey_text(run_jo, update_goldens: bool, journey: str) -> None:  # type: ignore[no-untyped-def]
    ran = dry_run(run_jo, journey, "--show", "5")
    assert ran.code == 0, ran.err
    check_golden(GOLDEN / f"{journey}.txt", ran.out, update_goldens)


def test_json_keys_and_formatting_follow_the_contract(run_jo) -> None:  # type: ignore[no-untyped-def]
    ran = dry_run(run_jo, "welcome-series", "--format", "json")
    report = json.loads(ran.out)
    assert list(report) == ["kind", "id", "version", "now", "horizon", "rendered", "profiles", "events", "audiences",
                            "steps", "ended", "waiting", "reasons", "messages", "paths", "uncovered", "rejected_rows"]
    assert list(report["reasons"]) == ["errors", "on_error", "excluded"]  # issue 12: added after `waiting`
    assert report["audiences"] == {"rejected": 0}  # issue 12: uploaded audience rows left out
    assert ran.out == json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    assert report["now"] == NOW and report["horizon"] == "2027-03-02T08:00:00Z"  # --now + P91D
    assert list(report["profiles"]) == ["read", "rejected", "entered", "discarded"]
    assert list(report["events"]) == ["read", "rejected", "consumed", "discarded"]
    assert list(report["steps"]) == list(_step_ids("welcome-series"))  # file order
    for step in report["steps"].values():
        assert list(step)[:2] == ["entered", "errors"]
    assert list(report["steps"]["welcome-email"]) == ["entered", "errors", "sent", "queued", "delayed", "excluded"]
    message = report["messages"][0]
    assert list(message) == ["key", "kind", "id", "version", "step", "profile", "channel", "to", "subject", "body",
                             "text", "at", "status"]
    assert message["status"] == "would_send" and message["key"].startswith("journey:welcome-series:")
    assert [(m["at"]) for m in report["messages"]] == sorted(m["at"] for m in report["messages"])


def test_counts_balance(run_jo) -> None:  # type: ignore[no-untyped-def]
    for journey in DEMO:
        if journey in NEEDS_STORE:
            continue
        report = json.loads(dry_run(run_jo, journey, "--format", "json", "--show", "0").out)
        assert report["profiles"]["entered"] == sum(report["ended"].values()) + sum(report["waiting"].values())
        for step_id, step in report["steps"].items():
            settled = sum(step.get("paths", {}).values()) + step.get("sent", 0) + sum(step.get("excluded", {}).values())
            parked = report["waiting"].get(step_id, 0)
            if "paths" in step and not step["paths"]:  # an end step
                assert step["entered"] == report["ended"].get(step_id, 0), (journey, step_id)
            else:  # what is left exited while parked here (timeout, journey_ended ...)
                assert step["entered"] >= settled + step["errors"] + parked, (journey, step_id)


def test_reason_maps_list_non_zero_entries_only_and_paths_every_outcome(run_jo) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(dry_run(run_jo, "re-engagement", "--format", "json").out)
    for step in report["steps"].values():
        assert all(step.get("excluded", {}).values())
    assert all(report["ended"].values()) and all(report["waiting"].values())
    assert all(report["profiles"]["discarded"].values()) and all(report["events"]["discarded"].values())
    assert report["uncovered"]
    for name in report["uncovered"]:  # zeros stay in `paths`, and are listed as uncovered
        step, outcome = name.split(".")
        assert report["steps"][step]["paths"][outcome] == 0


def test_show_limits_messages_and_paths_but_not_counts(run_jo) -> None:  # type: ignore[no-untyped-def]
    full = json.loads(dry_run(run_jo, "re-engagement", "--format", "json", "--show", "1000").out)
    none = json.loads(dry_run(run_jo, "re-engagement", "--format", "json", "--show", "0").out)
    two = json.loads(dry_run(run_jo, "re-engagement", "--format", "json", "--show", "2").out)
    assert none["messages"] == [] and none["paths"] == []
    assert none["steps"] == two["steps"] == full["steps"]
    assert len({p["profile"] for p in two["paths"]}) == 2
    assert {p["profile"] for p in two["paths"]} == {p["profile"] for p in full["paths"][:2]}
    assert len(full["messages"]) == sum(s.get("sent", 0) for s in full["steps"].values())


def test_render_all_counts_render_errors(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = _copy_demo(tmp_path)
    template = project / "templates" / "first-order.html"
    template.write_text(template.read_text(encoding="utf-8") + "{{ 1 / 0 }}", encoding="utf-8")
    shown = json.loads(dry_run(run_jo, "welcome-series", "--format", "json", "--show", "0", cwd=project).out)
    assert shown["rendered"] == "shown"
    assert all(not s.get("excluded") for s in shown["steps"].values())
    every = json.loads(dry_run(run_jo, "welcome-series", "--format", "json", "--render-all", cwd=project).out)
    assert every["rendered"] == "all"
    excluded = {k: s["excluded"] for k, s in every["steps"].items() if s.get("excluded")}
    assert excluded and all(set(reasons) == {"render_error"} for reasons in excluded.values())


def test_audience_fire_at_the_latest_cron_time_before_now(run_jo) -> None:  # type: ignore[no-untyped-def]
    # birthday fires at 09:00 Paris; at 12:00 Paris the fire is the one of 09:00 that day
    report = json.loads(run_jo("jo", "dry-run", "journeys/birthday.yaml", "--now", "2026-12-01T11:00:00Z",
                               "--format", "json", "--show", "3", cwd=REPO).out)
    assert report["now"] == "2026-12-01T11:00:00Z"
    assert {p["steps"][0][1] for p in report["paths"]} == {"2026-12-01T08:00:00Z"}


def test_event_entry_starts_at_the_earliest_event_by_default(run_jo) -> None:  # type: ignore[no-untyped-def]
    ran = run_jo("jo", "dry-run", "journeys/abandoned-cart.yaml", "--events", "events/events.jsonl", "--format",
                 "json", cwd=REPO)
    assert json.loads(ran.out)["now"] == "2026-12-01T08:12:00Z"


def test_horizon_options(run_jo) -> None:  # type: ignore[no-untyped-def]
    short = json.loads(dry_run(run_jo, "welcome-series", "--format", "json", "--for", "P1D").out)
    assert short["horizon"] == "2026-12-02T08:00:00Z"
    assert short["waiting"]  # the 3-day wait is not over at the horizon
    until = json.loads(dry_run(run_jo, "welcome-series", "--format", "json", "--until", "2026-12-02T09:00").out)
    assert until["horizon"] == "2026-12-02T08:00:00Z"  # a wall time in the project zone


def test_id_instead_of_a_file(run_jo) -> None:  # type: ignore[no-untyped-def]
    by_id = run_jo("jo", "dry-run", "welcome-series", "--now", NOW, "--format", "json", cwd=REPO)
    by_file = run_jo("jo", "dry-run", "journeys/welcome-series.yaml", "--now", NOW, "--format", "json", cwd=REPO)
    assert by_id.code == 0 and by_id.out == by_file.out


@pytest.mark.parametrize(("args", "message"), [
    (["journeys/nope.yaml"], "no such journey file or journey id"),
    (["journeys/welcome-series.yaml", "--now", "tomorrow"], "--now: 'tomorrow' is not an ISO 8601 date-time"),
    (["journeys/welcome-series.yaml", "--until", "2027-01-01T00:00:00Z", "--for", "P1D"], "use one of them"),
    (["journeys/welcome-series.yaml", "--for", "P1M"], "--for: 'P1M' is not a positive exact"),
    (["journeys/welcome-series.yaml", "--now", NOW, "--until", "2026-11-01T00:00:00Z"], "is before --now"),
    (["journeys/welcome-series.yaml", "--now", NOW, "--max-rejected", "4"], "more than 4 rows are rejected"),
    (["journeys/gold-welcome.yaml", "--now", NOW], "needs a read-only run store (--store or JO_STORE)"),
    (["journeys/gold-welcome.yaml", "--now", NOW, "--store", "/nonexistent/x.db"], "no run store there"),
    (["journeys/welcome-series.yaml", "--profiles", "data/missing.csv"], "data/missing.csv"),
])
def test_usage_and_configuration_errors_exit_2(run_jo, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    ran = run_jo("jo", "dry-run", *args, cwd=REPO)
    assert ran.code == 2, (ran.out, ran.err)
    assert message in ran.err
    assert "Traceback" not in ran.err


def test_max_rejected_at_the_limit_runs(run_jo) -> None:  # type: ignore[no-untyped-def]
    assert dry_run(run_jo, "welcome-series", "--max-rejected", "5", "--format", "json").code == 0


def test_a_journey_with_validation_errors_exits_1(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = _copy_demo(tmp_path)
    path = project / "journeys" / "welcome-series.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")  # JO201
    text = dry_run(run_jo, "welcome-series", cwd=project)
    assert text.code == 1 and "JO20" in text.out
    as_json = dry_run(run_jo, "welcome-series", "--format", "json", cwd=project)
    assert as_json.code == 1 and json.loads(as_json.out)["status"] == "fail"


def test_nothing_is_written(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = _copy_demo(tmp_path)
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    assert dry_run(run_jo, "abandoned-cart", cwd=project).code == 0
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def _copy_demo(tmp_path: Path) -> Path:
    project = tmp_path / "demo"
    for name in ("jo.yaml", "journeys", "campaigns", "audiences", "events", "templates", "data"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name)
        else:
            project.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, project / name)
    return project


def _step_ids(journey: str) -> list[str]:
    from jo_cli.loader import load_yaml

    path = REPO / "journeys" / f"{journey}.yaml"
    doc = load_yaml(str(path), path.read_bytes()).document
    assert doc is not None
    return [step for step in doc.data["steps"] if step != "end"]


def test_as_a_process_the_whole_output_arrives_and_the_exit_code_is_kept() -> None:
    """`jo dry-run` ends its process without freeing its objects (app.KEEP_UNTIL_EXIT): output is flushed first."""
    import subprocess
    import sys

    args = [sys.executable, "-m", "jo_cli", "dry-run", "journeys/re-engagement.yaml", "--now", NOW, "--format", "json"]
    ran = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["id"] == "re-engagement"
    bad = subprocess.run([*args, "--for", "P1M"], cwd=REPO, capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "--for" in bad.stderr


def test_invalid_zones_are_read_in_the_project_zone_with_a_warning(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = _copy_demo(tmp_path)
    profiles = project / "data" / "profiles.csv"
    lines = profiles.read_text(encoding="utf-8").splitlines(keepends=True)
    zone_index = lines[0].split(",").index("timezone")
    for number in range(1, 8):  # seven rows name a zone that does not exist
        cells = lines[number].split(",")
        cells[zone_index] = "Mars/Olympus"
        lines[number] = ",".join(cells)
    profiles.write_text("".join(lines), encoding="utf-8")
    ran = dry_run(run_jo, "welcome-series", "--format", "json", cwd=project)
    assert ran.code == 0
    json.loads(ran.out)  # the JSON on stdout stays whole
    warnings = ran.err.splitlines()
    assert warnings[:5] == [f"warning: data/profiles.csv:{line}: timezone: invalid zone `Mars/Olympus`: read in the "
                            "project zone Europe/Paris" for line in range(2, 7)]
    # ... and the demo's own row 307 (`Mars/Olympus` too)
    assert warnings[5:] == ["warning: data/profiles.csv: 3 more rows with an invalid zone, read in the project "
                            "zone Europe/Paris"]
    demo = dry_run(run_jo, "welcome-series", "--format", "json", cwd=REPO)
    assert demo.err.splitlines() == ["warning: data/profiles.csv:307: timezone: invalid zone `Mars/Olympus`: read "
                                     "in the project zone Europe/Paris"]


def test_what_a_dry_run_froze_is_collectable_again_after_the_next_command(run_jo) -> None:  # type: ignore[no-untyped-def]
    import gc

    assert dry_run(run_jo, "welcome-series", "--format", "json", "--show", "0").code == 0
    assert gc.get_freeze_count() > 0  # the run's objects, out of the collector's way until exit
    assert run_jo("jo", "explain", "JO201").code == 0
    assert gc.get_freeze_count() == 0


def test_the_report_is_the_same_whichever_way_the_profiles_are_read(run_jo, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """bench_dryrun's project (15 columns, the 8-step journey) on 3,000 profiles, with a few bad rows: the
    JSON, rendered messages included, is byte for byte the same through polars and through the csv module."""
    import sys

    from jo_cli.data import columnar, csv_reader

    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from bench_dryrun import make_project  # type: ignore[import-not-found]

    make_project(tmp_path, 3000)
    profiles = tmp_path / "data" / "profiles.csv"
    lines = profiles.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = lines[10].replace(",true,", ",maybe,", 1)  # a bad boolean
    lines[20] = lines[5].replace("Asia/Kolkata", "Mars/Olympus")  # a repeated identity (and a bad zone)
    profiles.write_text("".join(lines), encoding="utf-8")
    taken: list[bool] = []
    read = columnar.read

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        frame = read(*args, **kwargs)
        taken.append(frame is not None)
        return frame

    monkeypatch.setattr(columnar, "read", recording)
    outputs = []
    for threshold in (0, sys.maxsize):
        monkeypatch.setattr(csv_reader, "COLUMNAR_FROM_BYTES", threshold)
        ran = run_jo("jo", "dry-run", "journeys/bench.yaml", "--now", "2026-12-01T08:00:00Z", "--show", "50",
                     "--render-all", "--format", "json", cwd=tmp_path)
        assert ran.code == 0, ran.err
        outputs.append(ran.out)
    assert taken == [True]  # polars read the first run only
    report = json.loads(outputs[0])
    assert report["profiles"]["rejected"] == 2 and len(report["messages"]) > 0
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(("where", "lookups"), [("root", 0), ("journeys folder", 0), ("an id, elsewhere, -C", 1)])
def test_the_run_uses_the_project_validation_read(run_jo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  where: str, lookups: int) -> None:
    """The run uses the project index validation built: `index_project` (a read of every YAML file) is called
    only to find a journey given by id, wherever the command runs from."""
    import jo_cli.engine.project as project

    calls: list[Path] = []
    read = project.index_project
    monkeypatch.setattr(project, "index_project", lambda root: calls.append(root) or read(root))
    if where == "root":
        ran = dry_run(run_jo, "welcome-series", "--format", "json")
    elif where == "journeys folder":
        ran = run_jo("jo", "dry-run", "welcome-series.yaml", "--now", NOW, "--format", "json", cwd=REPO / "journeys")
    else:
        ran = run_jo("jo", "-C", str(REPO), "dry-run", "welcome-series", "--now", NOW, "--format", "json",
                     cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["id"] == "welcome-series"
    assert len(calls) == lookups
