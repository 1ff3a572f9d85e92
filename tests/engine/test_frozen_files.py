"""A version renders what it froze (SPEC §7.2): templates through `ProjectFiles`, the working tree or a version's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from jo_cli import templates
from jo_cli.engine.fields import profile_fields
from jo_cli.engine.files import FileProblem, FrozenFiles, ProjectFiles, WorkingTree, read_text
from jo_cli.engine.render import Rendered, Renderer, RenderFailure
from jo_cli.store import open_store
from jo_cli.store.versions import version_document, version_files
from tests.conftest import copy_demo

TEMPLATE = "templates/birthday.html"
SCOPE = {"profile": {"id": "p1", "first_name": "Ada"}, "event": None, "journey": {"id": "birthday", "version": 1},
         "actions": {}}


def _publish(run_jo: Any, tmp_path: Path, body: str | None = None) -> Path:  # body: the journey's new body_file
    project = copy_demo(tmp_path)
    if body is not None:
        journey = project / "journeys" / "birthday.yaml"
        journey.write_text(journey.read_text(encoding="utf-8").replace(f"body_file: {TEMPLATE}", f"body_file: {body}"),
                           encoding="utf-8")
    ran = run_jo("jo", "publish", "--store", str(tmp_path / "store.db"), "--now", "2026-12-01T08:00:00Z", cwd=project)
    assert ran.code == 0, ran.err
    return project


def _version(tmp_path: Path) -> tuple[dict[str, Any], FrozenFiles]:
    """The birthday email's content in version 1, and the files that version froze."""
    with open_store(tmp_path / "store.db", readonly=True) as store:
        document = version_document(store, "birthday", 1)
        files = FrozenFiles(version_files(store, "birthday", 1), "birthday v1")
    assert document is not None
    return document["steps"]["birthday-email"]["content"], files


def _body(files: ProjectFiles | Path, content: dict[str, Any]) -> str:
    result = Renderer(files).render(content, channel="email", scope=SCOPE)
    assert isinstance(result, Rendered) and result.body is not None, result
    return result.body


def test_a_published_version_renders_the_template_it_froze(run_jo: Any, tmp_path: Path) -> None:
    project = _publish(run_jo, tmp_path)
    (project / TEMPLATE).write_text("<p>Changed since, {{ profile.first_name }}</p>", encoding="utf-8")
    content, frozen = _version(tmp_path)
    assert "<h1>Happy birthday, Ada!</h1>" in _body(frozen, content)
    assert _body(project, content) == "<p>Changed since, Ada</p>"
    assert _body(WorkingTree(project), content) == "<p>Changed since, Ada</p>"


def test_the_frozen_path_is_the_one_the_journey_writes(run_jo: Any, tmp_path: Path) -> None:
    project = _publish(run_jo, tmp_path, body="templates/./birthday.html")
    (project / TEMPLATE).write_text("<p>Changed since</p>", encoding="utf-8")
    content, frozen = _version(tmp_path)
    assert content["body_file"] == "templates/./birthday.html"
    assert "<h1>Happy birthday, Ada!</h1>" in _body(frozen, content)


def test_the_fields_a_version_reads_are_those_of_its_frozen_templates(run_jo: Any, tmp_path: Path) -> None:
    project = _publish(run_jo, tmp_path)
    (project / TEMPLATE).write_text("<p>{{ profile.favourite_colour }}</p>", encoding="utf-8")
    _, frozen = _version(tmp_path)
    with open_store(tmp_path / "store.db", readonly=True) as store:
        journey = version_document(store, "birthday", 1)
    assert journey is not None

    working = profile_fields(journey, root=project, audiences={}, channels={}, always=())
    kept = profile_fields(journey, root=project, audiences={}, channels={}, always=(), files=frozen)
    assert working is not None and kept is not None
    assert "favourite_colour" not in kept
    assert working == kept | {"favourite_colour"}


def test_a_path_the_version_did_not_freeze_is_a_render_failure(run_jo: Any, tmp_path: Path) -> None:
    project = _publish(run_jo, tmp_path)
    _, frozen = _version(tmp_path)
    assert (project / "templates" / "welcome.html").is_file()  # in the working tree, frozen with another journey
    result = Renderer(frozen).render({"subject": "s", "body_file": "templates/welcome.html"}, channel="email",
                                     scope=SCOPE)
    assert result == RenderFailure("body_file",
                                   "body_file templates/welcome.html: not among the files birthday v1 froze")


def test_the_working_tree_refuses_a_path_climbing_out(tmp_path: Path) -> None:
    (tmp_path / "outside.html").write_text("secret", encoding="utf-8")
    (tmp_path / "project").mkdir()
    tree = WorkingTree(tmp_path / "project")
    for path in ("../outside.html", str(tmp_path / "outside.html")):
        assert tree.read(path) == FileProblem(path, "the path leads outside the project directory")


def test_the_working_tree_refuses_a_symbolic_link_leaving_the_project(tmp_path: Path) -> None:
    (tmp_path / "outside.html").write_text("secret", encoding="utf-8")
    root = tmp_path / "project"
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "link.html").symlink_to(tmp_path / "outside.html")
    (root / "templates" / "inside.html").write_text("mine", encoding="utf-8")
    (root / "templates" / "alias.html").symlink_to(root / "templates" / "inside.html")
    tree = WorkingTree(root)
    assert tree.read("templates/link.html") == FileProblem("templates/link.html",
                                                           "the path leads outside the project directory")
    assert tree.read("templates/alias.html") == b"mine"
    result = Renderer(root).render({"subject": "s", "body_file": "templates/link.html"}, channel="email", scope=SCOPE)
    assert result == RenderFailure("body_file", "body_file templates/link.html: the path leads outside the project "
                                                "directory")


def test_a_symbolic_link_loop_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b.html", tmp_path / "a.html")
    os.symlink(tmp_path / "a.html", tmp_path / "b.html")
    problem = WorkingTree(tmp_path).read("a.html")
    assert isinstance(problem, FileProblem) and problem.path == "a.html"


def test_an_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    tree = WorkingTree(tmp_path)
    assert tree.read("templates/nope.html") == FileProblem("templates/nope.html",
                                                           "cannot read it (No such file or directory)")
    assert tree.read("templates") == FileProblem("templates", "cannot read it (Is a directory)")


@pytest.mark.parametrize("kind", ["working tree", "frozen"])
def test_a_file_over_the_limit_is_a_problem(tmp_path: Path, kind: str) -> None:
    big = b"x" * (templates.MAX_TEMPLATE_BYTES + 1)
    (tmp_path / "big.html").write_bytes(big)
    files = WorkingTree(tmp_path) if kind == "working tree" else FrozenFiles({"big.html": big}, "birthday v1")
    assert files.read("big.html") == FileProblem("big.html", "the file is 1,048,577 bytes; jo reads templates up to "
                                                             "1,048,576 bytes")
    exact = b"x" * templates.MAX_TEMPLATE_BYTES
    (tmp_path / "big.html").write_bytes(exact)
    files = WorkingTree(tmp_path) if kind == "working tree" else FrozenFiles({"big.html": exact}, "birthday v1")
    assert files.read("big.html") == exact


@pytest.mark.parametrize("kind", ["working tree", "frozen"])
def test_bytes_that_are_not_utf8_are_a_problem(tmp_path: Path, kind: str) -> None:
    latin = "<p>café</p>".encode("latin-1")
    (tmp_path / "latin.html").write_bytes(latin)
    files = WorkingTree(tmp_path) if kind == "working tree" else FrozenFiles({"latin.html": latin}, "birthday v1")
    assert files.read("latin.html") == latin  # bytes as they are: decoding is the template reader's
    assert read_text(files, "latin.html") == FileProblem("latin.html", "the file is not UTF-8 (byte 7)")
    result = Renderer(files).render({"subject": "s", "body_file": "latin.html"}, channel="email", scope=SCOPE)
    assert result == RenderFailure("body_file", "body_file latin.html: the file is not UTF-8 (byte 7)")


def test_a_byte_order_mark_is_dropped_from_either(tmp_path: Path) -> None:
    marked = "\ufeff<p>hi</p>".encode()
    (tmp_path / "bom.html").write_bytes(marked)
    assert read_text(WorkingTree(tmp_path), "bom.html") == "<p>hi</p>"
    assert read_text(FrozenFiles({"bom.html": marked}, "birthday v1"), "bom.html") == "<p>hi</p>"
