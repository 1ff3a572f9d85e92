"""`jo dry-run` says why (SPEC §7.1, issue 12): error texts and render errors in `paths` and `reasons`, quiet-hours
delays, and a rejected list that says how many it leaves out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, copy_demo

NOW = "2026-12-01T08:00:00Z"
ERROR_TEXT = "bought: toInteger cannot convert `{}`"
RENDER_ERROR = "render_error: body_file templates/welcome-holiday.html:{}: division by zero"


def _run(run_jo: Any, project: Path, journey: str, *options: str) -> Any:
    ran = run_jo("jo", "dry-run", f"journeys/{journey}.yaml", "--now", NOW, *options, cwd=project)
    assert ran.code == 0, ran.err
    return ran


def _json(run_jo: Any, project: Path, journey: str, *options: str) -> dict[str, Any]:
    return json.loads(_run(run_jo, project, journey, "--format", "json", *options).out)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with welcome-series failing twice: first-order's condition cannot evaluate (every instance
    ends `error`, each with its first name in the text) and the holiday email's template divides by zero."""
    project = copy_demo(tmp_path_factory.mktemp("why"))
    journey = project / "journeys" / "welcome-series.yaml"
    text = journey.read_text(encoding="utf-8")
    old = "when: profile.last_purchase_at is not null, next: converted"
    assert old in text
    journey.write_text(text.replace(old, "when: toInteger(profile.first_name) > 0, next: converted"),
                       encoding="utf-8")
    template = project / "templates" / "welcome-holiday.html"
    template.write_text(template.read_text(encoding="utf-8") + "{{ 1 / 0 }}\n", encoding="utf-8")
    return project


def _template_line(project: Path) -> int:
    return (project / "templates" / "welcome-holiday.html").read_text(encoding="utf-8").count("\n")


def test_an_error_and_a_render_error_carry_their_text_in_paths(run_jo, broken: Path) -> None:  # type: ignore[no-untyped-def]
    report = _json(run_jo, broken, "welcome-series", "--show", "1000")
    render_error = RENDER_ERROR.format(_template_line(broken))
    names = {}
    for path in report["paths"]:
        for taken in path["steps"]:
            assert len(taken) in (3, 4)
            if taken[2] in ("next", "end", "opted-in", "otherwise", "gift-season", "sent"):
                assert len(taken) == 3, taken  # a detail only when there is one
        errors = [taken for taken in path["steps"] if taken[2] == "error"]
        if path["status"] == "ended" and path["end"] == "error":
            [error] = errors
            assert error[0] == "first-order" and error[3].startswith("bought: toInteger cannot convert `")
            names[path["profile"]] = error[3]
        excluded = [taken for taken in path["steps"] if taken[2] == "excluded"]
        assert all(taken[3] == render_error for taken in excluded)  # the reason, with the render's own text
        queued = [taken for taken in path["steps"] if taken[2] == "queued"]
        assert all(taken[3] == "quiet_hours" for taken in queued)
    assert len(names) == report["ended"]["error"] == report["steps"]["first-order"]["errors"] > 0
    assert report["steps"]["welcome-holiday"]["excluded"] == {"render_error": 15}  # --show 1000: all rendered


def test_reasons_count_everyone_sorted_and_by_step(run_jo, broken: Path) -> None:  # type: ignore[no-untyped-def]
    shown = _json(run_jo, broken, "welcome-series", "--show", "1000")
    hidden = _json(run_jo, broken, "welcome-series", "--show", "0", "--render-all")
    assert list(shown)[list(shown).index("waiting") + 1] == "reasons"  # right after the reason maps it explains
    reasons = hidden["reasons"]
    assert reasons == shown["reasons"]  # everyone, not the profiles shown
    assert list(reasons) == ["errors", "on_error", "excluded"]
    errors = reasons["errors"]["first-order"]
    assert list(errors) == sorted(errors)
    assert sum(errors.values()) == hidden["steps"]["first-order"]["errors"]
    assert errors[ERROR_TEXT.format("Harry")] == 2  # two Harrys
    assert reasons["excluded"] == {"welcome-holiday": {RENDER_ERROR.format(_template_line(broken)): 15}}
    assert reasons["on_error"] == {}
    # Not rendered, not seen (§7.1): with --show 0 and no --render-all, no render error is counted.
    assert _json(run_jo, broken, "welcome-series", "--show", "0")["reasons"]["excluded"] == {}


def test_an_error_that_takes_on_error_is_listed_under_on_error(run_jo, broken: Path) -> None:  # type: ignore[no-untyped-def]
    journey = broken / "journeys" / "welcome-series.yaml"
    text = journey.read_text(encoding="utf-8")
    otherwise = "    otherwise: first-order-email\n"
    routed = text.replace(otherwise, otherwise + "    on_error: nudged\n")
    assert routed != text
    journey.write_text(routed, encoding="utf-8")
    try:
        report = _json(run_jo, broken, "welcome-series", "--show", "3")
    finally:
        journey.write_text(text, encoding="utf-8")
    assert report["reasons"]["errors"] == {} and "error" not in report["ended"]
    on_error = report["reasons"]["on_error"]["first-order"]
    assert sum(on_error.values()) == report["steps"]["first-order"]["paths"]["on_error"] > 0
    assert next(t for p in report["paths"] for t in p["steps"] if t[2] == "on_error")[3].startswith("bought: ")


def test_the_text_view_says_why(run_jo, broken: Path) -> None:  # type: ignore[no-untyped-def]
    out = _run(run_jo, broken, "welcome-series", "--show", "3", "--render-all").out
    lines = out.splitlines()
    start = lines.index("why:")
    why = lines[start + 1: lines.index("", start)]
    assert why[0].split() == ["first-order", "error", "2:", *ERROR_TEXT.format("Harry").split()]  # most frequent
    assert len([line for line in why if " error " in line]) == 6  # five texts, then the rest together
    assert why[5].split()[:3] == ["first-order", "error", "8:"] and why[5].endswith("... with other texts")
    assert why[6].split() == ["welcome-holiday", "excluded", "15:",
                              *RENDER_ERROR.format(_template_line(broken)).split()]
    assert "why:" not in _run(run_jo, REPO, "welcome-series").out  # nothing to explain, no block


# ---------------------------------------------------------------- quiet hours


def test_messages_released_after_quiet_hours_say_when_they_were_held(run_jo) -> None:  # type: ignore[no-untyped-def]
    report = _json(run_jo, REPO, "welcome-series", "--show", "1000")
    step = report["steps"]["welcome-holiday"]
    assert list(step) == ["entered", "errors", "sent", "queued", "delayed", "excluded"]
    held = [m for m in report["messages"] if "queued_at" in m]
    assert held and step["delayed"] == len([m for m in held if m["step"] == "welcome-holiday"])
    assert all(m["queued_at"] < m["at"] for m in held)
    for message in held:
        assert list(message)[list(message).index("at") + 1] == "queued_at"  # beside `at`, before `status`
        [path] = [p for p in report["paths"] if p["profile"] == message["profile"]]
        taken = [t for t in path["steps"] if t[0] == message["step"]]
        assert taken == [[message["step"], message["queued_at"], "queued", "quiet_hours"],
                         [message["step"], message["at"], "sent"]]
    not_held = [m for m in report["messages"] if "queued_at" not in m]
    assert not_held and all(list(m)[-2:] == ["at", "status"] for m in not_held)
    # `delayed` is not an outcome: entered = sent + excluded + errors + still queued (all settled here).
    assert step["entered"] == step["sent"] + sum(step["excluded"].values()) + step["errors"] + step["queued"]
    everyone = _json(run_jo, REPO, "welcome-series", "--show", "0")
    assert everyone["steps"] == report["steps"]  # counted for everyone


def test_the_text_view_shows_quiet_hours_delays(run_jo) -> None:  # type: ignore[no-untyped-def]
    report = _json(run_jo, REPO, "welcome-series", "--show", "5")
    out = _run(run_jo, REPO, "welcome-series", "--show", "5").out
    delayed = report["steps"]["welcome-holiday"]["delayed"]
    assert f"welcome-holiday [message email] entered 15, sent 15, delayed by quiet hours {delayed}" in out
    [held] = [m for m in report["messages"] if "queued_at" in m]
    [line] = [line for line in out.splitlines() if line.startswith(f"  {held['at']}  {held['profile']}  ")]
    assert line.endswith(f" (held by quiet hours from {held['queued_at'][11:16]}Z)")


# ---------------------------------------------------------------- rejected rows


def test_the_rejected_list_says_how_many_it_leaves_out(run_jo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = copy_demo(tmp_path)
    profiles = project / "data" / "profiles.csv"
    lines = profiles.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = [lines[1].replace("p001,", f"x{n},", 1).replace(",202.00,", ",lots,", 1) for n in range(12)]
    profiles.write_text("".join(lines + bad), encoding="utf-8")
    out = _run(run_jo, project, "welcome-series").out.splitlines()
    report = _json(run_jo, project, "welcome-series")
    rejected = report["profiles"]["rejected"] + report["events"]["rejected"]
    assert rejected == 17 == len(report["rejected_rows"])
    start = out.index(f"rejected ({rejected}):")
    listed = out[start + 1:]
    assert len(listed) == 11 and listed[-1] == "  ... and 7 more"
    demo = _run(run_jo, REPO, "welcome-series").out.splitlines()  # five rejected, all listed: no "more"
    assert demo[demo.index("rejected (5):") + 1:][-1].startswith("  data/profiles.csv:261: ")
