"""`jo outbox export` and `jo outbox ack` (SPEC §7.5): the messages of outbox channels by seq, each created once."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jo_cli.store import open_store
from jo_cli.store.outbox import add_messages
from tests.conftest import copy_demo

AT = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def _message(profile: str, channel: str = "push") -> dict[str, object]:
    return {"key": f"journey:welcome-series:{profile}:1:hello", "kind": "journey", "id": "welcome-series",
            "version": 1, "step": "hello", "profile": profile, "channel": channel, "to": f"apns:{profile}",
            "title": "Hi", "body": "Welcome", "at": "2026-12-01T09:00:00Z"}


@pytest.fixture
def project(run_jo, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    project = copy_demo(tmp_path)
    assert run_jo("jo", "publish", "--store", str(tmp_path / "run.db"), cwd=project).code == 0
    with open_store(tmp_path / "run.db") as store, store.write():
        created = add_messages(store, [_message("p1"), _message("p2", "email"), _message("p3")], created_at=AT)
        assert created == 3
        assert add_messages(store, [_message("p1")], created_at=AT) == 0  # a key is created once
    return project


def test_export_writes_the_outbox_channels_messages_by_seq(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = ("--store", str(tmp_path / "run.db"))
    ran = run_jo("jo", "outbox", "export", *store, cwd=project)
    assert ran.code == 0, ran.err
    lines = [json.loads(line) for line in ran.out.splitlines()]
    assert [(m["profile"], m["seq"], m["status"]) for m in lines] == [("p1", 1, "pending"), ("p3", 3, "pending")]
    assert list(lines[0]) == ["key", "kind", "id", "version", "step", "profile", "channel", "to", "title", "body",
                              "at", "status", "seq"]  # §7.5's order, absent fields omitted, then status and seq
    after = run_jo("jo", "outbox", "export", "--after", "1", *store, cwd=project)
    assert [json.loads(line)["profile"] for line in after.out.splitlines()] == ["p3"]


def test_ack_marks_what_was_handed_on_and_only_that(run_jo, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = ("--store", str(tmp_path / "run.db"))
    ran = run_jo("jo", "outbox", "ack", "--through", "1", *store, cwd=project)
    assert (ran.code, ran.out) == (0, "1 message marked sent (through seq 1)\n")
    pending = run_jo("jo", "outbox", "export", *store, cwd=project)
    assert [json.loads(line)["profile"] for line in pending.out.splitlines()] == ["p3"]
    every = run_jo("jo", "outbox", "export", "--status", "all", *store, cwd=project)
    assert [(json.loads(line)["profile"], json.loads(line)["status"]) for line in every.out.splitlines()] == [
        ("p1", "sent"), ("p3", "pending")]  # the email row is smtp's, never exported nor acknowledged
    again = run_jo("jo", "outbox", "ack", "--through", "3", *store, cwd=project)
    assert again.out == "1 message marked sent (through seq 3)\n"
    beyond = run_jo("jo", "outbox", "ack", "--through", "99", *store, cwd=project)
    assert beyond.code == 2 and "last seq is 3" in beyond.err
    bad = run_jo("jo", "outbox", "export", "--status", "lost", *store, cwd=project)
    assert bad.code == 2 and "--status lost" in bad.err


def _jo_killed_at(point: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`jo ARGS` in a new process SIGKILLed at crash point `point` (`NAME:N`), as kill -9 would; its output
    unbuffered, so what it wrote before the kill reaches the pipe."""
    return subprocess.run([sys.executable, "-m", "jo_cli", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "JO_CRASH_AT": point, "PYTHONUNBUFFERED": "1"})


def test_an_export_killed_midway_then_resumed_after_its_last_line_hands_on_each_message_once(  # type: ignore[no-untyped-def]
        run_jo, project: Path, tmp_path: Path) -> None:
    """A consumer keeps the complete lines of a killed export and asks again `--after` the last seq it kept:
    whatever message the kill came at, together the two exports are the whole outbox, each message once."""
    store = ("--store", str(tmp_path / "run.db"))
    with open_store(tmp_path / "run.db") as opened, opened.write():
        add_messages(opened, [_message(f"q{n}") for n in range(5)], created_at=AT)
    whole = [json.loads(line) for line in run_jo("jo", "outbox", "export", *store, cwd=project).out.splitlines()]
    assert len(whole) == 7
    for kill in range(1, len(whole) + 1):
        killed = _jo_killed_at(f"export.inside:{kill}", "outbox", "export", "-C", str(project), *store)
        assert killed.returncode == -signal.SIGKILL
        kept = [json.loads(line) for line in killed.stdout.split("\n")[:-1]]  # a line cut short is not kept
        assert kept == whole[:kill - 1]
        after = kept[-1]["seq"] if kept else 0
        rest = run_jo("jo", "outbox", "export", "--after", str(after), *store, cwd=project)
        assert kept + [json.loads(line) for line in rest.out.splitlines()] == whole, f"killed at message {kill}"


def test_an_ack_killed_before_its_commit_marks_nothing_and_its_rerun_marks_all(  # type: ignore[no-untyped-def]
        run_jo, project: Path, tmp_path: Path) -> None:
    store = ("--store", str(tmp_path / "run.db"))

    def statuses() -> list[str]:
        every = run_jo("jo", "outbox", "export", "--status", "all", *store, cwd=project)
        return [json.loads(line)["status"] for line in every.out.splitlines()]

    killed = _jo_killed_at("ack.inside", "outbox", "ack", "--through", "3", "-C", str(project), *store)
    assert killed.returncode == -signal.SIGKILL and killed.stdout == ""
    assert statuses() == ["pending", "pending"]
    again = run_jo("jo", "outbox", "ack", "--through", "3", *store, cwd=project)
    assert again.out == "2 messages marked sent (through seq 3)\n"
    assert statuses() == ["sent", "sent"]
