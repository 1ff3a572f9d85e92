"""Message templates read statically: syntax, and the names and fields they read (SPEC §7.5, §10.3).

Templates are Jinja2 run in its sandbox. Here they are only parsed, never
compiled or rendered: a scan walks the syntax tree for the context names a
template reads (`profile.consent.email`, `event["total"]`) and keeps the
names the template binds itself (`{% for %}`, `{% set %}`, macros) out of
them. jinja2 is imported inside the functions, so commands that never read
a template do not pay for it at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jo_cli.suggest import did_you_mean

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment

# Larger template files are not read (an email body that size would be clipped by mail clients anyway).
MAX_TEMPLATE_BYTES = 1024 * 1024
# Methods of the mappings a render passes in, as a template may call them (`profile.get("tier")`).
MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})
# Names Jinja itself provides inside templates besides its globals.
_ALWAYS_BOUND = frozenset({"self"})
# Tags that load another template: the sandbox has no loader, so they can never render (SPEC §7.5).
LOADING_TAGS = ("include", "extends", "import", "from")
_LOADING_TAG = re.compile(r"\{%[-+]?\s*(" + "|".join(LOADING_TAGS) + r")\b")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # Jinja's own line breaks


@dataclass(frozen=True, slots=True)
class TemplateError:
    """Why a template cannot be loaded: a syntax error, an unknown filter or test, an unreadable file."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Reference:
    """A context name a template reads, with the constant attributes or keys that follow it."""

    root: str
    parts: tuple[str, ...]
    line: int
    # The last part is called (`profile.get(...)`): it may be a method of the value rather than a field.
    called: bool = False


@dataclass(frozen=True, slots=True)
class LoadingTag:
    """An `{% include %}`, `{% extends %}`, `{% import %}` or `{% from %}`: where it starts in the source."""

    tag: str
    line: int
    col: int
    end_line: int  # at the end of its keyword
    end_col: int
    offset: int  # of its `{%` in the template's text
    end: int


@dataclass(frozen=True, slots=True)
class TemplateScan:
    error: TemplateError | None
    references: tuple[Reference, ...] = ()
    loading_tags: tuple[LoadingTag, ...] = ()


def environment(*, html: bool) -> SandboxedEnvironment:
    """The sandboxed environment templates are parsed with (HTML email bodies autoescape)."""
    return _environment(html)


@lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=html, undefined=StrictUndefined)


def has_template_syntax(source: str) -> bool:
    """Whether Jinja would see anything but plain text (no line statements are configured)."""
    return "{{" in source or "{%" in source or "{#" in source


@lru_cache(maxsize=4096)
def scan_source(source: str, *, html: bool = False) -> TemplateScan:
    """Parse `source` and list what it reads; never raises."""
    if not has_template_syntax(source):
        return TemplateScan(None)
    from jinja2 import TemplateSyntaxError

    env = _environment(html)
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateScan(TemplateError(exc.lineno or 1, exc.message or "syntax error"))
    except RecursionError:
        return TemplateScan(TemplateError(1, "expressions nested too deeply"))
    scanner = _Scanner(set(env.filters), set(env.tests), set(env.globals) | _ALWAYS_BOUND)
    try:
        scanner.visit(tree, set())
    except RecursionError:
        return TemplateScan(TemplateError(1, "expressions nested too deeply"))
    return TemplateScan(scanner.error, tuple(scanner.references), _loading_tags(source, tree))


def _loading_tags(source: str, tree: nodes.Template) -> tuple[LoadingTag, ...]:
    """Every tag that loads another template, located at its `{%` (Jinja's nodes carry only a line)."""
    from jinja2 import nodes

    kinds = {nodes.Include: "include", nodes.Extends: "extends", nodes.Import: "import", nodes.FromImport: "from"}
    found = list(tree.find_all(tuple(kinds)))
    if not found:
        return ()
    starts = [0, *(m.end() for m in _NEWLINE.finditer(source))]

    def line_of(offset: int) -> int:
        return sum(1 for start in starts if start <= offset)

    def col_of(offset: int) -> int:
        return offset - starts[line_of(offset) - 1] + 1

    # Each node takes the first unused `{% tag` whose keyword is on the node's line (a tag may span lines).
    candidates = [(m, line_of(m.start(1))) for m in _LOADING_TAG.finditer(source)]
    used: set[int] = set()
    tags: list[LoadingTag] = []
    for node in found:
        tag = kinds[type(node)]
        match = next((m for m, line in candidates if line == node.lineno and m.group(1) == tag
                      and m.start() not in used), None)
        if match is None:  # not written as `{% tag`: the start of its line
            offset = starts[min(node.lineno, len(starts)) - 1]
            end = offset + 1
        else:
            used.add(match.start())
            offset, end = match.start(), match.end()
        tags.append(LoadingTag(tag, line_of(offset), col_of(offset), line_of(end), col_of(end), offset, end))
    return tuple(sorted(tags, key=lambda t: t.offset))


_FILE_SCANS: dict[tuple[Path, int, int, bool], TemplateScan] = {}


def scan_file(path: Path, *, html: bool) -> TemplateScan | None:
    """`scan_source` of a template file, cached per (file, mtime, size); None when it cannot be read."""
    try:
        stat = path.stat()
        key = (path.resolve(), stat.st_mtime_ns, stat.st_size, html)
        if key in _FILE_SCANS:
            return _FILE_SCANS[key]
        if stat.st_size > MAX_TEMPLATE_BYTES:
            scan = TemplateScan(TemplateError(1, f"the file is {stat.st_size:,} bytes; jo reads templates up to "
                                                 f"{MAX_TEMPLATE_BYTES:,} bytes"))
        else:
            try:
                scan = scan_source(path.read_bytes().decode("utf-8-sig"), html=html)
            except UnicodeDecodeError as exc:
                scan = TemplateScan(TemplateError(1, f"the file is not UTF-8 (byte {exc.start + 1})"))
    except OSError:
        return None
    _FILE_SCANS[key] = scan
    return scan


class _Scanner:
    """Walks a template's tree with the set of names bound at each point."""

    def __init__(self, filters: set[str], tests: set[str], globals_: set[str]) -> None:
        self.filters = filters
        self.tests = tests
        self.globals = globals_
        self.references: list[Reference] = []
        self.error: TemplateError | None = None

    def visit(self, node: nodes.Node, scope: set[str]) -> None:
        from jinja2 import nodes

        if isinstance(node, nodes.Name):
            if node.ctx == "load":
                self._read(node.name, (), node.lineno, scope)
        elif isinstance(node, nodes.Getattr | nodes.Getitem):
            chain = _chain(node)
            if chain is None:
                self._children(node, scope)
            else:
                self._read(chain[0], chain[1], node.lineno, scope)
        elif isinstance(node, nodes.Call):
            self._call(node, scope)
        elif isinstance(node, nodes.Filter | nodes.Test):
            self._filter_or_test(node, scope)
        elif isinstance(node, nodes.For):
            self._for(node, scope)
        elif isinstance(node, nodes.Assign):
            if isinstance(node.target, nodes.NSRef):
                self._read(node.target.name, (), node.lineno, scope)
            self.visit(node.node, scope)
            scope |= _stored(node.target)
        elif isinstance(node, nodes.AssignBlock):
            self._children(node, set(scope))
            scope |= _stored(node.target)
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            self._macro(node, scope)
        elif isinstance(node, nodes.With):
            for value in node.values:
                self.visit(value, scope)
            self._body(node.body, scope | {name for target in node.targets for name in _stored(target)})
        elif isinstance(node, nodes.Block):
            self._body(node.body, scope | {"super"})
        elif isinstance(node, nodes.Import):
            scope.add(node.target)
        elif isinstance(node, nodes.FromImport):
            scope.update(name if isinstance(name, str) else name[1] for name in node.names)
        elif isinstance(node, nodes.Scope | nodes.OverlayScope | nodes.ScopedEvalContextModifier | nodes.FilterBlock):
            self._children(node, set(scope))
        else:
            self._children(node, scope)

    def _children(self, node: nodes.Node, scope: set[str]) -> None:
        for child in node.iter_child_nodes():
            self.visit(child, scope)

    def _body(self, body: list[nodes.Node], scope: set[str]) -> None:
        for child in body:
            self.visit(child, scope)

    def _read(self, root: str, parts: tuple[str, ...], line: int, scope: set[str], *, called: bool = False) -> None:
        if root not in scope and root not in self.globals:
            self.references.append(Reference(root, parts, line, called))

    def _call(self, node: nodes.Call, scope: set[str]) -> None:
        from jinja2 import nodes

        chain = _chain(node.node) if isinstance(node.node, nodes.Getattr | nodes.Getitem) else None
        if chain is not None:
            self._read(chain[0], chain[1], node.lineno, scope, called=True)
        else:
            self.visit(node.node, scope)
        for child in (*node.args, *node.kwargs, node.dyn_args, node.dyn_kwargs):
            if child is not None:
                self.visit(child, scope)

    def _filter_or_test(self, node: nodes.Filter | nodes.Test, scope: set[str]) -> None:
        from jinja2 import nodes

        known, what = (self.filters, "filter") if isinstance(node, nodes.Filter) else (self.tests, "test")
        if node.name not in known and self.error is None:
            self.error = TemplateError(node.lineno, f"no {what} named `{node.name}`{did_you_mean(node.name, known)}")
        self._children(node, scope)

    def _for(self, node: nodes.For, scope: set[str]) -> None:
        self.visit(node.iter, scope)
        inner = scope | _stored(node.target) | {"loop"}
        if node.test is not None:
            self.visit(node.test, set(inner))
        self._body(node.body, set(inner))
        self._body(node.else_, set(scope))

    def _macro(self, node: nodes.Macro | nodes.CallBlock, scope: set[str]) -> None:
        from jinja2 import nodes

        if isinstance(node, nodes.Macro):
            scope.add(node.name)
        else:
            self.visit(node.call, scope)
        for default in node.defaults:
            self.visit(default, scope)
        params = {arg.name for arg in node.args}
        self._body(node.body, scope | params | {"varargs", "kwargs", "caller"})


def _chain(node: nodes.Node) -> tuple[str, tuple[str, ...]] | None:
    """`profile.consent["email"]` as ("profile", ("consent", "email")); None past a computed or numeric key."""
    from jinja2 import nodes

    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            return node.name, tuple(reversed(parts))
        else:
            return None


def _stored(target: nodes.Node) -> set[str]:
    """The names an assignment target binds (`x`, or `a, b` in a for loop)."""
    from jinja2 import nodes

    return {name.name for name in target.find_all(nodes.Name) if name.ctx in ("store", "param")} | (
        {target.name} if isinstance(target, nodes.Name) else set())


def unknown_field(parts: tuple[str, ...], fields: set[str], *, called: bool = False) -> tuple[str, set[str]] | None:
    """The first dotted prefix of `parts` that `fields` lacks, with the known names at its level; None when fine.

    A known field with no sub-fields ends the check: what follows reads its value (`first_name.upper()`).
    """
    if called and parts and parts[-1] in MAPPING_METHODS:
        parts = parts[:-1]
    for depth in range(len(parts)):
        name = ".".join(parts[: depth + 1])
        if name not in fields:
            parent = ".".join(parts[:depth])
            level = {f for f in fields if f.count(".") == depth and (not parent or f.startswith(parent + "."))}
            return name, level
        if not any(f.startswith(name + ".") for f in fields):
            return None
    return None
