"""`jo events push FILE|-` (SPEC §5.3): events checked as a dry-run checks them, queued in the run store in one
transaction; a repeated `id` is queued once, in one push or across pushes."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import copy_demo
from tests.store.test_crash import _killed_at

EVENTS = "events/events.jsonl"  # the demo's: 29 lines, one of them an unknown event (line 14)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_demo(tmp_path)


@pytest.fixture
def store(run_jo, project: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "run.db"
    assert run_jo("jo", "publish", "--store", str(path), cwd=project).code == 0
    return path


def _queued(store: Path) -> list[tuple[str | None, str]]:
    with sqlite3.connect(store) as connection:
        return connection.execute("SELECT event_id, name FROM events ORDER BY seq").fetchall()


def test_a_push_queues_each_event_once_and_says_what_it_left_out(run_jo, project: Path, store: Path) -> None:  # type: ignore[no-untyped-def]
    ran = run_jo("jo", "events", "push", EVENTS, "--store", str(store), "-o", "json", cwd=project)
    assert ran.code == 1  # a line was rejected; the others are queued
    assert json.loads(ran.out) == {"read": 29, "queued": 28, "duplicates": 0, "rejected": 1}
    assert ran.err == ("events/events.jsonl:14: unknown event `cart_abandonned`; did you mean "
                       "`cart_abandoned`?\n")
    assert len(_queued(store)) == 28
    again = run_jo("jo", "events", "push", EVENTS, "--store", str(store), cwd=project)
    assert again.out == "29 read: 0 queued, 28 duplicates, 1 rejected\n"
    assert len(_queued(store)) == 28  # a retried push never enters twice


def test_standard_input_and_repeats_inside_one_push(run_jo, project: Path, store: Path,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    line = '{"id": "o-1", "event": "order_placed", "at": "2026-12-01T10:00:00.250Z", "payload": ' \
           '{"customer_id": "p001", "order_id": "o-1", "total": 10}}\n'
    unnamed = line.replace('"id": "o-1", ', "")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((line * 2 + unnamed * 2).encode())))
    ran = run_jo("jo", "events", "push", "-", "--store", str(store), "-o", "json", cwd=project)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out) == {"read": 4, "queued": 3, "duplicates": 1, "rejected": 0}
    assert _queued(store) == [("o-1", "order_placed"), (None, "order_placed"), (None, "order_placed")]


def test_an_invalid_project_or_a_missing_store_queues_nothing(run_jo, project: Path, store: Path,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    absent = run_jo("jo", "events", "push", "nope.jsonl", "--store", str(store), cwd=project)
    assert absent.code == 2 and "nope.jsonl: no such file" in absent.err
    declaration = project / "events" / "order_placed.yaml"
    declaration.write_text(declaration.read_text().replace("kind: event", "kind: event\ncolour: blue"))
    ran = run_jo("jo", "events", "push", EVENTS, "--store", str(store), cwd=project)
    assert ran.code == 1 and "JO201" in ran.err and _queued(store) == []
    missing = run_jo("jo", "events", "push", EVENTS, "--store", str(tmp_path / "none.db"), cwd=project)
    assert missing.code == 2 and "no run store there" in missing.err


def test_kill_9_at_any_statement_of_a_push_queues_all_or_nothing(project: Path, store: Path,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from jo_cli.cli.app import run

    def push() -> None:
        run(["events", "push", EVENTS, "--store", str(store)])

    monkeypatch.chdir(project)
    statement = 1
    while _killed_at(statement, push):
        assert len(_queued(store)) in (0, 28), statement
        statement += 1
    assert statement > 3 and len(_queued(store)) == 28
