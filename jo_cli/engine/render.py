"""Message rendering (SPEC §6.4, §7.5): a message step's content through Jinja2's sandbox.

`Renderer.render` is called once per message with the step's content and the
render scope (`profile`, `event`, `journey`, `actions`, and `row` in
campaigns). Templates are compiled once per distinct source and kept;
`body_file` templates are read once, through the run's `ProjectFiles`
(`files.py`): the working tree for a dry-run, a version's frozen files for
a published version, so a version renders what it froze; either way with
the limits `jo validate` uses (`MAX_TEMPLATE_BYTES`, UTF-8). The
environment has the filters, tests and globals of
`jo_cli.templates.environment` (the static scan of `jo validate`), in
`ImmutableSandboxedEnvironment` so that a template cannot change the
engine's values (`profile.tags.append(...)`).

Decisions:

- Names and fields. An undefined top-level name (`{{ nope }}`, `row` in a
  journey) is an error with its template line (StrictUndefined). A field that
  is absent is lenient instead: a key missing from a mapping
  (`profile.missing_key`, typically an optional CSV column), a field of null
  (`profile.consent.email` when `consent` is null) and an index past the end
  of a list print as "" (null, as §8 reads missing fields), are false,
  iterate as empty, chain, and are replaced by `|default(...)`; doing
  arithmetic with one or calling one is an error naming the field. `jo
  validate` reports fields missing from the schemas statically (JO461). A
  null that is present (`None`) prints as "" too; `|default` replaces it only
  with `default(x, true)`, as in Jinja. A `{% for %}` over null loops zero
  times; calling null is an error. An attribute a non-mapping value lacks
  (`profile.first_name.frist`) is an error.
- Values print as `toString` prints them (`true`, `…Z`, `3` for 3.0, null as
  "", lists and objects as `[1, null, true]`), in `{{ }}`, as operands of `~`,
  through `|string` and `|join` and as the text the text filters (`upper`,
  `trim`, `replace`, ...) read; a value `toString` has no text for is a
  render error, never a Python repr or a memory address: a function or
  method (`{{ profile.name.upper }}`: call it), a generator or other iterable
  (`{{ xs|map('upper') }}`: add `|list`), any other object. A `%` or
  `.format` on a string formats as Python does. HTML email bodies (`body`,
  `body_file` on `email`) are autoescaped, the subject, the text part, SMS and
  push are not.
- Budgets. A message's fields render within `cpu_seconds` together (wall time
  of a single-threaded render, read with `perf_counter`, which costs 50 ns
  where a thread CPU clock is a system call); each field's output is at most
  `max_output` characters. The clock is read per output chunk, per loop
  iteration (every `{% for %}` iterates through a guard added to the syntax
  tree), per call and per filter. Sizes are refused before they are built:
  `*`, `+` and `%` on strings and lists, `**` and `*` on integers
  (`budget._MAX_INT_BITS`), `~`, width and count arguments (`center`, `indent`,
  `replace`, `"{:>N}".format`, `str.ljust`, ...), the weight of lists and
  objects being printed (shared nested lists can be exponentially large).
  Everything printed, including what macros and `{% set %}` blocks build and
  throw away, counts towards `budget._WORK_FACTOR` times `max_output` characters. Jinja's sandbox caps `range` at
  MAX_RANGE (100,000) items.
- A `body_file` read from the working tree must stay inside the project root (symbolic links resolved); one
  read from a version must be among the files it froze.
- Every failure (syntax, undefined name, SecurityError, a Python error, a
  budget, an unreadable `body_file`) is a `RenderFailure` naming the field and
  the template line; compile failures are cached with the template.

jinja2 is imported on first use, not at module import.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import numbers
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jo_cli.engine.budget import (
    Budget,
    OverBudget,
    check_binop,
    check_format,
    check_method,
    check_result,
    guard_filter,
    guard_lipsum,
    guarded_items,
    weigh,
)
from jo_cli.engine.files import FileProblem, ProjectFiles, WorkingTree, read_text
from jo_cli.expr.runtime import to_string

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

Field = Literal["subject", "title", "body", "body_file", "text"]

# The content fields of each channel (§6.4), in render order; `body` may come from `body_file`.
CHANNEL_FIELDS: dict[str, tuple[Field, ...]] = {
    "email": ("subject", "body", "text"), "sms": ("body",), "push": ("title", "body")}
_FILENAME = "<jo template>"  # compiled templates' name, to find their lines in tracebacks
_MESSAGE_CHARS = 300
# Filters that read their input as text (Jinja applies str() to it): they read it as toString prints it.
_TEXT_FILTERS = frozenset({"capitalize", "center", "e", "escape", "forceescape", "indent", "lower", "replace",
                           "striptags", "title", "trim", "truncate", "upper", "urlize", "wordcount", "wordwrap"})
# What toString prints (besides containers of them); anything else in a template has no text (§8).
_PRINTABLE = (str, numbers.Number, dt.date, dt.time, dt.timedelta)


@dataclass(frozen=True, slots=True)
class Rendered:
    """The message object's content fields: only those the channel has, absent ones None."""

    subject: str | None = None
    title: str | None = None
    body: str | None = None
    text: str | None = None

    def fields(self) -> dict[str, str]:
        """The fields that are present, as the message object holds them."""
        values = {"subject": self.subject, "title": self.title, "body": self.body, "text": self.text}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class RenderFailure:
    field: Field
    message: str  # one line, naming the field and, when known, the template line


@dataclass(frozen=True, slots=True)
class _Broken:
    """A template that cannot be used: unreadable, or failing to compile."""

    line: int | None
    message: str


class Renderer:
    """Renders message content; one per run (the engine is single-threaded).

    `files` is where `body_file` templates come from; a path is the working tree at that project root.
    """

    def __init__(self, files: ProjectFiles | Path, *, cpu_seconds: float = 0.5, max_output: int = 256 * 1024
                 ) -> None:
        self.files = WorkingTree(files) if isinstance(files, Path) else files
        self._budget = Budget(cpu_seconds, max_output)
        self._environments: dict[bool, ImmutableSandboxedEnvironment] = {}
        self._templates: dict[tuple[bool, str], Template | _Broken] = {}
        self._files: dict[str, str | _Broken] = {}

    def render(self, content: Mapping[str, str], *, channel: str, scope: Mapping[str, Any]) -> Rendered | RenderFailure:
        """The channel's fields of `content` rendered with `scope`, or the first failure.

        An unknown channel is a caller error (ValueError): the journey schema allows email, sms and push only.
        """
        names = CHANNEL_FIELDS.get(channel)
        if names is None:
            raise ValueError(f"unknown channel {channel!r}")
        jobs: list[tuple[Field, Field, str | None, str, Template]] = []
        for name in names:
            label: Field = name
            path = None
            if name in content:
                source = content[name]
                if not isinstance(source, str):  # YAML `subject: 2026` is a number
                    source = to_string(source)
            elif name == "body" and "body_file" in content:
                label, path = "body_file", content["body_file"]
                text = self._read(path)
                if isinstance(text, _Broken):
                    return _failure(label, path, "", text)
                source = text
            else:
                continue
            template = self._template(source, html=channel == "email" and name == "body")
            if isinstance(template, _Broken):
                return _failure(label, path, source, template)
            jobs.append((name, label, path, source, template))
        budget = self._budget
        budget.work = 0
        budget.deadline = time.perf_counter() + budget.seconds
        values: dict[str, str] = {}
        try:
            for name, label, path, source, template in jobs:
                try:
                    values[name] = self._stream(template, scope)
                except Exception as exc:  # any template error is the message's render_error
                    return _failure(label, path, source, _Broken(_template_line(exc), _describe(exc)))
        finally:
            budget.deadline = math.inf
        return Rendered(**values)

    def _stream(self, template: Template, scope: Mapping[str, Any]) -> str:
        budget = self._budget
        limit, deadline, clock = budget.limit, budget.deadline, time.perf_counter
        size = 0
        parts: list[str] = []
        for chunk in template.generate(scope):
            size += len(chunk)
            if size > limit:
                raise OverBudget(f"the output is more than {limit:,} characters")
            if clock() > deadline:
                raise OverBudget(f"the render took more than {budget.seconds:g} s")
            parts.append(chunk)
        return "".join(parts)

    def _read(self, relative: str) -> str | _Broken:
        text = self._files.get(relative)
        if text is None:
            read = read_text(self.files, relative)
            text = self._files[relative] = _Broken(None, read.message) if isinstance(read, FileProblem) else read
        return text

    def _template(self, source: str, *, html: bool) -> Template | _Broken:
        key = (html, source)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._compile(source, html)
        return template

    def _compile(self, source: str, html: bool) -> Template | _Broken:
        from jinja2 import TemplateSyntaxError

        environment = self._environments.get(html)
        if environment is None:
            environment = self._environments[html] = _jinja().environment(html, self._budget)
        try:
            tree = environment.parse(source)
            _jinja().guard(tree, environment)
            code = environment.compile(tree, filename=_FILENAME)
            # A plain dict, not make_globals' ChainMap: every render copies the globals, and a ChainMap copies slowly.
            return environment.template_class.from_code(environment, code, dict(environment.globals))
        except TemplateSyntaxError as exc:
            return _Broken(exc.lineno, _one_line(exc.message or "syntax error"))
        except RecursionError:
            return _Broken(1, "expressions nested too deeply")
        except Exception as exc:  # whatever else stops a compile is this template's render_error
            return _Broken(_template_line(exc), _describe(exc))


def _failure(label: Field, path: str | None, source: str, broken: _Broken) -> RenderFailure:
    line = broken.line
    if path is not None:
        where = f"body_file {path}:{line}" if line else f"body_file {path}"
    else:
        where = f"{label} line {line}" if line and "\n" in source else label
    return RenderFailure(label, f"{where}: {broken.message}")


def _template_line(exc: BaseException) -> int | None:
    """The template line of the innermost template frame (Jinja rewrites tracebacks to template lines)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _describe(exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, RecursionError):
        return "macros or loops nested too deeply"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return _one_line(getattr(exc, "message", None) or str(exc) or type(exc).__name__)


def _unprintable(value: Any) -> str:
    """Why a value has no text to print, and what to write instead."""
    if callable(value):
        name = getattr(value, "__name__", None) or getattr(value, "name", None)
        named = f" (`{name}`)" if isinstance(name, str) and name.isidentifier() else ""
        return f"a function or method{named} cannot be printed: call it to print what it returns"
    kind = type(value).__name__
    if hasattr(value, "__iter__"):
        return f"a {kind} cannot be printed: add `|list` to print its items"
    return f"a `{kind}` object cannot be printed"


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


# --- the environment --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Jinja:
    environment: Callable[[bool, Budget], ImmutableSandboxedEnvironment]
    guard: Callable[[Any, ImmutableSandboxedEnvironment], None]


@functools.cache
def _jinja() -> _Jinja:
    """The sandbox class and the syntax-tree guard, built on first use so that jinja2 loads lazily."""
    from jinja2 import ChainableUndefined, StrictUndefined, Undefined, nodes, pass_eval_context
    from jinja2.filters import make_attrgetter
    from jinja2.runtime import Context, markup_join, str_join
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.visitor import NodeTransformer

    dict_names = frozenset(dir(dict))
    none_names = frozenset(dir(None))
    printable = (*_PRINTABLE, Undefined)

    def printed(value: Any) -> str:
        """`value` as toString prints it; a render error for what has no text (a function, a generator ...)."""
        if value is None or isinstance(value, _PRINTABLE):
            return to_string(value)
        if isinstance(value, list | tuple | dict):
            _check_printable(value)
            return to_string(value)
        if isinstance(value, Undefined):
            return str(value)  # "" for a missing field; StrictUndefined raises for an undefined name
        raise TypeError(_unprintable(value))

    def _check_printable(value: Any) -> None:
        # Called once the value's weight is known to be within the output budget: the walk is bounded.
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list | tuple):
                stack.extend(item)
            elif not (item is None or isinstance(item, printable)):
                raise TypeError(_unprintable(item))

    class Missing(ChainableUndefined):
        """A field a value does not have: prints empty, iterates empty, chains; other uses name it."""

        __slots__ = ()

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"+", "*", "**", "%"})
        jo_budget: Budget

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            check_binop(self.jo_budget, operator, left, right)
            result = self.binop_table[operator](left, right)
            check_result(self.jo_budget, result, f"`{operator}`")
            return result

        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict and attribute not in dict_names:
                try:
                    return obj[attribute]
                except KeyError:
                    return Missing(obj=obj, name=attribute)
            if obj is None and attribute not in none_names:
                return Missing(obj=obj, name=attribute)
            return super().getattr(obj, attribute)

        def getitem(self, obj: Any, argument: Any) -> Any:
            if type(obj) is dict:
                try:
                    return obj[argument]
                except (KeyError, TypeError):
                    if not (isinstance(argument, str) and argument in dict_names):
                        return Missing(obj=obj, name=argument)
            elif obj is None:
                if not (isinstance(argument, str) and argument in none_names):
                    return Missing(obj=obj, name=argument)
            elif type(obj) in (list, tuple) and type(argument) is int:
                try:
                    return obj[argument]
                except IndexError:
                    return Missing(obj=obj, name=argument)  # type: ignore[arg-type]  # Jinja reports "no element N"
            return super().getitem(obj, argument)

        def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
            wrapped = super().wrap_str_format(value)
            if wrapped is None:
                return None
            text, budget, format_map = value.__self__, self.jo_budget, value.__name__ == "format_map"

            def checked(*args: Any, **kwargs: Any) -> str:
                given = args[0] if format_map and len(args) == 1 and isinstance(args[0], Mapping) else kwargs
                check_format(budget, text, () if format_map else args, given)
                return wrapped(*args, **kwargs)

            return checked

        def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            budget = __self.jo_budget
            budget.tick()
            if __obj is None:
                raise TypeError("null is not callable (a missing or null field?)")
            args = check_method(budget, __obj, args)
            result = super().call(__context, __obj, *args, **kwargs)
            check_result(budget, result, "the call")
            return result

    def environment(html: bool, budget: Budget) -> ImmutableSandboxedEnvironment:
        def finalize(value: Any) -> Any:
            if type(value) is not str:
                if isinstance(value, list | tuple | dict):
                    budget.size(weigh(value, budget.limit), "printing this value")
                value = printed(value)
            budget.charge(len(value))
            return value

        def iterate(items: Any, charge: int) -> Iterator[Any]:
            return iter(()) if items is None else guarded_items(budget, iter(items), charge)

        @pass_eval_context
        def concat(eval_ctx: Any, *parts: Any) -> str:
            # `~` prints its operands as `{{ }}` does (toString), not with str(): "Total: " ~ 3.0 is "Total: 3".
            budget.size(sum(weigh(part, budget.limit) for part in parts), "`~`")
            parts = tuple(part if isinstance(part, str) else printed(part) for part in parts)
            joined: str = (markup_join if eval_ctx.autoescape or eval_ctx.volatile else str_join)(parts)
            check_result(budget, joined, "`~`")
            return joined

        sandbox = Sandbox(autoescape=html, undefined=StrictUndefined, finalize=finalize)
        sandbox.jo_budget = budget
        sandbox.jo_iterate = iterate  # type: ignore[attr-defined]
        sandbox.jo_concat = concat  # type: ignore[attr-defined]
        as_text(sandbox)
        for name, function in list(sandbox.filters.items()):
            sandbox.filters[name] = guard_filter(budget, name, function)
        lipsum: Callable[..., Any] = sandbox.globals["lipsum"]  # type: ignore[assignment]
        sandbox.globals["lipsum"] = guard_lipsum(budget, lipsum)
        return sandbox

    def as_text(sandbox: ImmutableSandboxedEnvironment) -> None:
        """`|string`, `|join` and the text filters print their input as `{{ }}` does (Jinja uses str())."""
        filters = sandbox.filters
        for name in _TEXT_FILTERS:
            filters[name] = text_input(filters[name])
        filters["string"] = printed
        join = filters["join"]

        @pass_eval_context
        def joined(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> str:
            if attribute is not None:
                value = map(make_attrgetter(eval_ctx.environment, attribute), value)
            items = [item if isinstance(item, str) else printed(item) for item in value]
            return join(eval_ctx, items, d if isinstance(d, str) else printed(d))  # type: ignore[no-any-return]

        filters["join"] = joined

    def text_input(function: Callable[..., Any]) -> Callable[..., Any]:
        skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

        @functools.wraps(function)  # keeps jinja_pass_arg
        def reading_text(*args: Any, **kwargs: Any) -> Any:
            if len(args) > skip and not isinstance(args[skip], str):
                args = (*args[:skip], printed(args[skip]), *args[skip + 1:])
            return function(*args, **kwargs)

        return reading_text

    def call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
        return nodes.Call(nodes.EnvironmentAttribute(name), args, [], None, None, lineno=lineno)

    def text_length(body: list[nodes.Node]) -> int:
        """Characters of template text in a loop body, not counting nested loops (they charge their own)."""
        total, stack = 0, list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, nodes.TemplateData):
                total += len(node.data)
            elif not isinstance(node, nodes.For | nodes.Macro):
                stack.extend(node.iter_child_nodes())
        return total

    class Guard(NodeTransformer):
        """Loops iterate through `jo_iterate` (clock and work per item); `~` goes through `jo_concat` (sizes)."""

        def visit_For(self, node: nodes.For) -> nodes.Node:
            self.generic_visit(node)
            charge = nodes.Const(text_length(node.body))
            node.iter = call("jo_iterate", [node.iter, charge], node.lineno)  # type: ignore[list-item]
            return node

        def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
            self.generic_visit(node)
            return call("jo_concat", node.nodes, node.lineno)

    def guard(tree: nodes.Template, sandbox: ImmutableSandboxedEnvironment) -> None:
        Guard().visit(tree)
        tree.set_environment(sandbox)

    return _Jinja(environment, guard)
