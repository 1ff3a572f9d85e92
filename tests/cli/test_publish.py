"""`jo publish`, `jo diff`, `jo versions`, `jo close` (SPEC §7.2) on copies of the demo project."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jo_cli.store import open_store
from jo_cli.store.versions import canonical_json, version_files, versions_of
from tests.conftest import copy_demo

NOW = "2026-12-01T08:00:00Z"
LATER = "2026-12-02T08:00:00Z"
IDS = sorted(["abandoned-cart", "back-in-stock", "birthday", "concierge-callback", "gold-welcome", "post-purchase",
              "re-engagement", "welcome-series", "winter-sale"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_demo(tmp_path)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _publish(run_jo, project: Path, *args: str):  # type: ignore[no-untyped-def]
    ran = run_jo("jo", "publish", "--now", NOW, "--format", "json", *args, cwd=project)
    return ran, (json.loads(ran.out) if ran.out.strip().startswith("[") else None)


def _results(outcomes: list[dict[str, object]]) -> dict[object, tuple[object, object]]:
    return {o["id"]: (o["result"], o["version"]) for o in outcomes}


def test_publish_then_unchanged_then_a_new_version(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    ran, outcomes = _publish(run_jo, project)
    assert ran.code == 0, ran.err
    assert outcomes is not None and [o["id"] for o in outcomes] == IDS
    assert set(_results(outcomes).values()) == {("published", 1)}
    assert list(outcomes[0]) == ["id", "kind", "version", "result"]
    assert (project / ".jo" / "store.db").is_file()
    ran, outcomes = _publish(run_jo, project)
    assert ran.code == 0 and set(_results(outcomes).values()) == {("unchanged", 1)}
    _edit(project / "journeys" / "birthday.yaml", "tags: [loyalty, birthday]", "tags: [loyalty, birthday, changed]")
    ran, outcomes = _publish(run_jo, project)
    assert ran.code == 0
    assert _results(outcomes)["birthday"] == ("published", 2)
    assert {r for i, r in _results(outcomes).items() if i != "birthday"} == {("unchanged", 1)}
    with open_store(project / ".jo" / "store.db", readonly=True) as store:
        assert [(v.version, v.status) for v in versions_of(store, "birthday")] == [(1, "finished"), (2, "live")]


def test_comments_and_layout_are_not_a_new_version(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    _publish(run_jo, project)
    path = project / "journeys" / "birthday.yaml"
    path.write_text("# a comment\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    _edit(project / "audiences" / "birthdays-today.yaml", "kind: audience", "# reworded\nkind: audience")
    _ran, outcomes = _publish(run_jo, project)
    assert set(_results(outcomes).values()) == {("unchanged", 1)}


def test_a_changed_template_or_audience_is_a_new_version_of_the_journeys_using_it(  # type: ignore[no-untyped-def]
        run_jo, project: Path) -> None:
    _publish(run_jo, project)
    (project / "templates" / "birthday.html").write_text("<p>Happy birthday, {{ profile.first_name }}!</p>\n")
    _ran, outcomes = _publish(run_jo, project)
    assert _results(outcomes)["birthday"] == ("published", 2)


def test_the_hash_is_the_specs(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    """sha256 of canonical_json({"document", "files": {path: sha256}}) (SPEC §7.2)."""
    _publish(run_jo, project)
    with open_store(project / ".jo" / "store.db", readonly=True) as store:
        version = versions_of(store, "birthday")[0]
        files = version_files(store, "birthday", 1)
        document = json.loads(store.one("SELECT document FROM versions WHERE id = 'birthday'")[0])
    assert "templates/birthday.html" in files and "audiences/birthdays-today.yaml" in files
    assert files["templates/birthday.html"] == (project / "templates" / "birthday.html").read_bytes()
    digests = {path: hashlib.sha256(content).hexdigest() for path, content in files.items()}
    expected = hashlib.sha256(canonical_json({"document": document, "files": digests}).encode()).hexdigest()
    assert version.hash == expected


def test_a_version_keeps_the_files_it_froze(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    _publish(run_jo, project)
    template = project / "templates" / "birthday.html"
    frozen = template.read_bytes()
    template.write_text("<p>something else entirely</p>\n")
    with open_store(project / ".jo" / "store.db", readonly=True) as store:
        assert version_files(store, "birthday", 1)["templates/birthday.html"] == frozen


def test_an_invalid_file_publishes_nothing(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    _publish(run_jo, project)
    _edit(project / "journeys" / "birthday.yaml", "tags: [loyalty, birthday]", "tags: [loyalty, birthday, changed]")
    _edit(project / "journeys" / "welcome-series.yaml", "kind: journey", "kind: journey\ncolour: blue")
    ran, outcomes = _publish(run_jo, project)
    assert ran.code == 1
    assert _results(outcomes)["welcome-series"] == ("invalid", None)
    assert _results(outcomes)["birthday"] == ("would_publish", 2)  # all or nothing: not published
    with open_store(project / ".jo" / "store.db", readonly=True) as store:
        assert [v.version for v in versions_of(store, "birthday")] == [1]
    text = run_jo("jo", "publish", "--now", NOW, cwd=project)
    assert text.code == 1 and "JO201" in text.err and "invalid       welcome-series" in text.out


def test_an_error_outside_the_journeys_stops_every_file(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    _edit(project / "jo.yaml", "handling: queue", "handling: bounce")
    ran, outcomes = _publish(run_jo, project)
    assert ran.code == 1 and set(_results(outcomes).values()) == {("invalid", None)}
    assert not (project / ".jo" / "store.db").exists()


@pytest.mark.parametrize(("file", "old", "new", "why"), [
    ("journeys/gold-welcome.yaml", "type: audience-qualification, audience: gold-members, on: enter,",
     "type: audience, audience: gold-members,", "entry type changed"),
    ("journeys/gold-welcome.yaml", "on: enter", "on: exit", "audience-qualification `on` changed"),
    ("journeys/welcome-series.yaml", "reentrance: {allowed: false}", "reentrance: {allowed: true}",
     "re-entrance rule's `allowed` changed"),
    ("journeys/concierge-callback.yaml", "wait: P7D", "wait: P8D", "re-entrance rule's `wait` changed"),
])
def test_refused_changes(run_jo, project: Path, file: str, old: str, new: str, why: str) -> None:  # type: ignore[no-untyped-def]
    _publish(run_jo, project)
    _edit(project / file, old, new)
    ran = run_jo("jo", "publish", "--now", LATER, cwd=project)
    assert ran.code == 1, ran.out + ran.err
    assert "refused" in ran.out and why in ran.out


def test_a_closed_journey_stays_closed_through_an_unchanged_publish(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    _publish(run_jo, project)
    closed = run_jo("jo", "close", "welcome-series", "--now", LATER, cwd=project)
    assert closed.code == 0 and "closed welcome-series v1" in closed.out
    _ran, outcomes = _publish(run_jo, project)
    assert _results(outcomes)["welcome-series"] == ("unchanged", 1)
    versions = json.loads(run_jo("jo", "versions", "welcome-series", "-o", "json", cwd=project).out)
    assert [(v["version"], v["status"]) for v in versions] == [(1, "finished")]
    assert list(versions[0]) == ["version", "hash", "status", "published_at", "active", "entered"]
    assert run_jo("jo", "close", "welcome-series", cwd=project).out.startswith("welcome-series has no live version")
    assert run_jo("jo", "close", "nope", cwd=project).code == 2


def test_check_changes_nothing_and_exits_1_on_drift(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    ran, outcomes = _publish(run_jo, project, "--check")
    assert ran.code == 1 and set(_results(outcomes).values()) == {("would_publish", 1)}
    assert not (project / ".jo").exists()
    _publish(run_jo, project)
    assert _publish(run_jo, project, "--check")[0].code == 0


def test_publishing_named_files_only(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    ran, outcomes = _publish(run_jo, project, "journeys/birthday.yaml")
    assert ran.code == 0 and _results(outcomes) == {"birthday": ("published", 1)}
    assert run_jo("jo", "publish", "audiences/gold-members.yaml", cwd=project).code == 2


def test_diff_per_step_field_and_file(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    never = run_jo("jo", "diff", "journeys/birthday.yaml", "-o", "json", cwd=project)
    assert never.code == 1 and json.loads(never.out)["version"] is None
    _publish(run_jo, project)
    same = run_jo("jo", "diff", "journeys/birthday.yaml", cwd=project)
    assert same.code == 0 and "no changes" in same.out
    _edit(project / "journeys" / "welcome-series.yaml", "duration: P3D", "duration: P4D")
    (project / "templates" / "welcome.html").write_text("<p>Hello {{ profile.first_name }}</p>\n")
    ran = run_jo("jo", "diff", "journeys/welcome-series.yaml", "-o", "json", cwd=project)
    assert ran.code == 1
    difference = json.loads(ran.out)
    assert difference["steps"] == {"wait-3d": "changed"}
    assert {"path": "steps.wait-3d.duration", "change": "changed", "old": "P3D", "new": "P4D"} \
        in difference["fields"]
    assert difference["files"] == {"templates/welcome.html": "changed"}
    text = run_jo("jo", "diff", "journeys/welcome-series.yaml", cwd=project)
    assert "~ steps.wait-3d.duration: \"P3D\" -> \"P4D\"" in text.out and "~ file templates/welcome.html" in text.out


def test_versions_of_an_unknown_id_or_without_a_store(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert "no run store there" in run_jo("jo", "versions", "birthday", cwd=project).err
    _publish(run_jo, project)
    ran = run_jo("jo", "versions", "nope", cwd=project)
    assert ran.code == 2 and "never published" in ran.err


def test_the_store_option_and_environment(run_jo, project: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ran, _ = _publish(run_jo, project, "--store", str(tmp_path / "elsewhere.db"))
    assert ran.code == 0 and (tmp_path / "elsewhere.db").is_file() and not (project / ".jo").exists()
    monkeypatch.setenv("JO_STORE", str(tmp_path / "env.db"))
    assert _publish(run_jo, project)[0].code == 0 and (tmp_path / "env.db").is_file()


_RACE = """
import sys
from jo_cli.cli.app import main
main(["publish", "--now", sys.argv[1], "--format", "json"])
"""


@pytest.mark.slow
def test_racing_publishers_make_one_version_per_content(project: Path) -> None:
    """8 processes publish the same files at once, twice over: one version per distinct content."""

    def race(now: str) -> list[list[dict[str, object]]]:
        procs = [subprocess.Popen([sys.executable, "-c", _RACE, now], cwd=project, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(8)]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        return results

    first = race(NOW)
    published = [o for run in first for o in run if o["result"] == "published"]
    assert sorted(o["id"] for o in published) == IDS  # each id published by exactly one process
    _edit(project / "journeys" / "birthday.yaml", "tags: [loyalty, birthday]", "tags: [loyalty, birthday, changed]")
    second = race(LATER)
    assert [o["id"] for run in second for o in run if o["result"] == "published"] == ["birthday"]
    with open_store(project / ".jo" / "store.db", readonly=True) as store:
        counts = dict(store.execute("SELECT id, COUNT(*) FROM versions GROUP BY id").fetchall())
    assert counts == {ident: 2 if ident == "birthday" else 1 for ident in IDS}


def test_audiences_named_by_inaudience_are_frozen_too(run_jo, project: Path) -> None:  # type: ignore[no-untyped-def]
    """Through `inAudience` in a step and through another audience's `where`: both freeze with the journey."""
    _edit(project / "audiences" / "new-subscribers.yaml", "where: ", 'where: not inAudience("lapsed-buyers") and ')
    _edit(project / "journeys" / "welcome-series.yaml", "when: profile.last_purchase_at is not null",
          'when: profile.last_purchase_at is not null or inAudience("gold-members")')
    assert run_jo("jo", "validate", cwd=project).code == 0
    _publish(run_jo, project)
    with open_store(project / ".jo" / "store.db", readonly=True) as store:
        frozen = set(version_files(store, "welcome-series", 1))
    assert {"audiences/new-subscribers.yaml", "audiences/gold-members.yaml", "audiences/lapsed-buyers.yaml"} <= frozen
