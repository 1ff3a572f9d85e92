"""`jo outbox export` and `jo outbox ack` (SPEC §7.5): the messages of outbox channels by seq, each created once."""

from __future__ import annotations

import datetime as dt
import json
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
