"""The demo project validates clean, and one deliberate defect in any of its files is caught at its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jo_cli.validate import validate_project
from tests.conftest import REPO

PROJECT_PARTS = ("jo.yaml", "journeys", "campaigns", "audiences", "events", "templates", "data")

# (file, text to find, its replacement, expected code[, text marking the line]): the finding must be on the
# line of the text (or of the marker). Each defect stays inside its file: other files are still clean.
DEFECTS = [
    ("jo.yaml", "identity: id", "identity: user_id", "JO514"),
    ("jo.yaml", "timezone: Europe/Paris", "timezone: Europe/Pariss", "JO702"),
    ("journeys/welcome-series.yaml", "next: wait-3d\n", "next: wait-3days\n", "JO301"),
    ("journeys/welcome-series.yaml", "audience: new-subscribers", "audience: new-subscriber", "JO501"),
    ("journeys/welcome-series.yaml", 'cron: "0 9 * * *"', 'cron: "0 9 31 2 *"', "JO701"),
    ("journeys/abandoned-cart.yaml", "event: order_placed", "event: order_plaed", "JO502"),
    ("journeys/abandoned-cart.yaml", "body_file: templates/cart-reminder.html",
     "body_file: templates/cart-remind.html", "JO504"),
    ("journeys/birthday.yaml", "channel: push", "channel: fax", "JO204"),
    ("journeys/concierge-callback.yaml", 'to: "18:00"', 'to: "18:00", too: "19:00"', "JO201"),
    ("journeys/gold-welcome.yaml", "on: enter", "on: entre", "JO204"),
    ("journeys/post-purchase.yaml", "timeout_next: fallback", "timeout_next: fallbak", "JO301"),
    # A split's sum is reported at its `paths`.
    ("journeys/re-engagement.yaml", "percent: 10,", "percent: 9.5,", "JO311", "    paths:"),
    ("journeys/re-engagement.yaml", "duration: P14D", "duration: P100D", "JO602"),
    ("campaigns/back-in-stock.yaml", "dimension: wishlists", "dimension: wishlist", "JO511"),
    ("campaigns/winter-sale.yaml", "kind: campaign", "kind: campaing", "JO206"),
    ("audiences/gold-members.yaml", "where: profile.tier", "where: [profile.tier]\nwere: profile.tier", "JO203"),
    ("events/order_placed.yaml", "order_id: {type: string}", "order_id: {type: text}", "JO204"),
    ("journeys/welcome-series.yaml", "exit_when: profile.unsubscribed", "exit_when: profile.unsubscribd", "JO402"),
    ("audiences/new-subscribers.yaml", "inLastDays(profile.signup_at, 7)", "inLastDay(profile.signup_at, 7)",
     "JO403"),
    ("campaigns/winter-sale.yaml", 'tier == "platinum"', 'tier > 5', "JO405"),
    ("campaigns/winter-sale.yaml", "inLastDays(purchased_at, 365)", "inLastDays(purchasedat, 365)", "JO402"),
]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part)
        else:
            shutil.copy(source, tmp_path / part)
    return tmp_path


def test_demo_is_clean(demo: Path) -> None:
    validation = validate_project(demo, cwd=demo)
    assert validation.findings == []
    assert validation.checked >= 20


def test_demo_has_what_the_issue_asks_for() -> None:
    assert len(list((REPO / "journeys").glob("*.yaml"))) >= 6
    assert len(list((REPO / "campaigns").glob("*.yaml"))) >= 2
    assert (REPO / "events" / "events.jsonl").is_file()
    rows = (REPO / "data" / "profiles.csv").read_text(encoding="utf-8").count("\n")
    assert rows >= 200
    for table in ("purchases", "products", "wishlists"):
        assert (REPO / "data" / f"{table}.csv").is_file() and (REPO / "data" / f"{table}.schema.json").is_file()


@pytest.mark.parametrize("defect", DEFECTS, ids=[f"{d[0]}:{d[3]}" for d in DEFECTS])
def test_one_defect_is_caught_at_its_line(demo: Path, defect: tuple[str, ...]) -> None:
    file, old, new, code, *marker = defect
    path = demo / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the demo changed: {old!r} is no longer in {file}"
    line = text[: text.index(marker[0] if marker else old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    found = [(f.path, f.code, f.line) for f in validate_project(demo, cwd=demo).findings]
    assert (file, code, line) in found
    assert {f[0] for f in found} == {file}, found
