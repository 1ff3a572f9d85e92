from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jo_cli.data.audiences import WhereTally, read_uploaded_audience, where_members
from jo_cli.data.csv_reader import Reject, Row, TableReader
from jo_cli.errors import JoError
from jo_cli.expr.compile import compile_expr
from jo_cli.expr.parser import parse
from jo_cli.expr.runtime import EvalContext
from tests.conftest import REPO, copy_demo

PARIS = ZoneInfo("Europe/Paris")


def upload(tmp_path: Path, content: str | bytes, known: set[str] | None = None) -> tuple[set[str], list[str]]:
    path = tmp_path / "vip.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    members, rejects = read_uploaded_audience(path, shown="vip.csv", known=known)
    return members, [str(reject) for reject in rejects]


def test_uploaded_list(tmp_path: Path) -> None:
    members, rejects = upload(tmp_path, "\ufeffid\r\np001\r\n\r\np002\r\np001\r\n\"\"\r\np3,p4\r\n")
    assert members == {"p001", "p002"}
    assert rejects == ["vip.csv:5: id: repeats the identity `p001` of line 2 (the first row wins)",
                       "vip.csv:6: id: empty identity", "vip.csv:7: 2 cells instead of 1"]


def test_uploaded_rows_are_rejected_like_profile_rows(tmp_path: Path) -> None:
    """§5.1's rules for profile rows: wrong width, empty identity, a repeat (a rejected row claims no identity),
    and, given the profile source's identities, a row naming no profile; blank lines are not rows."""
    content = "id\np1\n\nghost\np2\nghost\n,\n\"\"\np1\np2,x\n"
    members, rejects = upload(tmp_path, content, known={"p1", "p2"})
    assert members == {"p1", "p2"}
    assert rejects == [
        "vip.csv:4: id: `ghost` names no profile (no accepted row of the profile source has this identity)",
        "vip.csv:6: id: `ghost` names no profile (no accepted row of the profile source has this identity)",
        "vip.csv:7: 2 cells instead of 1",
        "vip.csv:8: id: empty identity",
        "vip.csv:9: id: repeats the identity `p1` of line 2 (the first row wins)",
        "vip.csv:10: 2 cells instead of 1",
    ]
    assert upload(tmp_path, content)[0] == {"p1", "p2", "ghost"}  # without the identities: members all the same


def test_project_inputs_pass_uploaded_rejects_on(tmp_path: Path) -> None:
    """The caller hands the profile identities over and hears of every rejected row, by audience."""
    from jo_cli.engine.project import ProjectInputs

    root = copy_demo(tmp_path)
    (root / "data" / "vip.csv").write_text("id\np001\np001\nghost\n", encoding="utf-8")
    (root / "audiences" / "vip.yaml").write_text("kind: audience\nid: vip\nsource: data/vip.csv\n", encoding="utf-8")
    heard: list[tuple[str, str]] = []
    definitions = ProjectInputs.load(root).audience_definitions(
        known={"p001", "p002"}, on_reject=lambda name, reject: heard.append((name, str(reject))))
    assert definitions["vip"] == frozenset({"p001"})
    assert heard == [("vip", "data/vip.csv:3: id: repeats the identity `p001` of line 2 (the first row wins)"),
                     ("vip", "data/vip.csv:4: id: `ghost` names no profile (no accepted row of the profile source "
                             "has this identity)")]
    assert ProjectInputs.load(root).audience_definitions()["vip"] == frozenset({"p001", "ghost"})


@pytest.mark.parametrize(("content", "message"), [
    ("", "vip.csv:1: the file is empty: a header row naming the identity column is required"),
    ("id,name\np1,x\n", "vip.csv:1: an uploaded audience has one named column of identities, not 2"),
    ("\n", "vip.csv:1: the file is empty: a header row naming the identity column is required"),
    ("id\n\"p1\n", "vip.csv:2: unterminated quote: the quoted cell that starts here never ends"),
    (b"id\np1\n\xff\n", "vip.csv:3: not UTF-8 (byte 0xff at column 1); save the file as UTF-8"),
])
def test_uploaded_list_aborts(tmp_path: Path, content: str | bytes, message: str) -> None:
    with pytest.raises(JoError) as info:
        upload(tmp_path, content)
    assert info.value.message == message


def test_where_members_over_demo_profiles() -> None:
    schema = json.loads((REPO / "data/profiles.schema.json").read_text())
    rows = TableReader(REPO / "data/profiles.csv", schema, shown="profiles.csv", identity="id", zone=PARIS,
                       zone_field="timezone")
    where = compile_expr(parse('profile.tier == "gold" and profile.consent.email'))
    ctx = EvalContext(now=dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC), zone=PARIS)
    tally = WhereTally()
    members = list(where_members(rows, where, ctx, tally=tally))
    assert members and all(m.values["tier"] == "gold" and m.values["consent"]["email"] is True for m in members)
    assert tally.evaluated == rows.accepted == 376
    assert tally.members == len(members) and tally.failures == 0


def test_where_failures_are_counted_not_members() -> None:
    where = compile_expr(parse('toInteger(profile.code) > 1'))
    rows: list[Row | Reject] = [Row(2, {"code": "5"}), Row(3, {"code": "x"}), Reject("f", 4, None, "r"),
                                Row(5, {"code": None})]
    tally = WhereTally()
    ctx = EvalContext(now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), zone=PARIS)
    found = list(where_members(rows, where, lambda row: ctx, tally=tally))
    assert [row.line for row in found] == [2]
    assert tally.evaluated == 3 and tally.members == 1 and tally.failures >= 1
    assert tally.first_failures[0][0] == 3
