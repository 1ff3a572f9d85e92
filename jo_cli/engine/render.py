"""Message rendering (SPEC §6.4, §7.5): a message step's content through Jinja2's sandbox.

`Renderer.render` is called once per message with the step's content and the
render scope (`profile`, `event`, `journey`, `actions`, and `row` in
campaigns). Templates are compiled once per distinct source and kept;
`body_file` templates are read once, relative to the project root, with the
limits `jo validate` uses (`MAX_TEMPLATE_BYTES`, UTF-8). The environment has
the filters, tests and globals of `jo_cli.templates.environment` (the static
scan of `jo validate`), in `ImmutableSandboxedEnvironment` so that a template
cannot change the engine's values (`profile.tags.append(...)`).

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
  ""), in `{{ }}` and as operands of `~` alike; HTML email bodies (`body`, `body_file` on `email`) are autoescaped, the
  subject, the text part, SMS and push are not.
- Budgets. A message's fields render within `cpu_seconds` together (wall time
  of a single-threaded render, read with `perf_counter`, which costs 50 ns
  where a thread CPU clock is a system call); each field's output is at most
  `max_output` characters. The clock is read per output chunk, per loop
  iteration (every `{% for %}` iterates through a guard added to the syntax
  tree), per call and per filter. Sizes are refused before they are built:
  `*`, `+` and `%` on strings and lists, `**` and `*` on integers
  (`_MAX_INT_BITS`), `~`, width and count arguments (`center`, `indent`,
  `replace`, `"{:>N}".format`, `str.ljust`, ...), the weight of lists and
  objects being printed (shared nested lists can be exponentially large).
  Everything printed, including what macros and `{% set %}` blocks build and
  throw away, counts towards `_WORK_FACTOR` times `max_output` characters. Jinja's sandbox caps `range` at
  MAX_RANGE (100,000) items.
- A `body_file` must stay inside the project root (symbolic links resolved).
- Every failure (syntax, undefined name, SecurityError, a Python error, a
  budget, an unreadable `body_file`) is a `RenderFailure` naming the field and
  the template line; compile failures are cached with the template.

jinja2 is imported on first use, not at module import.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import TYPE_CHECKING, Any, Literal

from jo_cli.expr.runtime import to_string
from jo_cli.templates import MAX_TEMPLATE_BYTES

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

Field = Literal["subject", "title", "body", "body_file", "text"]

# The content fields of each channel (§6.4), in render order; `body` may come from `body_file`.
CHANNEL_FIELDS: dict[str, tuple[Field, ...]] = {
    "email": ("subject", "body", "text"), "sms": ("body",), "push": ("title", "body")}
# Python prints integers of up to 4,300 digits (about 14,000 bits); refusing larger ones before they are built
# keeps `**` instant.
_MAX_INT_BITS = 16_384
# Everything printed during a render, including what macros and `{% set %}` blocks throw away, may reach this
# many times max_output.
_WORK_FACTOR = 8
_FILENAME = "<jo template>"
_MESSAGE_CHARS = 300
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")
_SEQUENCES = (str, bytes, list, tuple)
_SIZED = (*_SEQUENCES, dict)


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


class _OverBudget(Exception):
    """A render went past a budget. Not a TypeError or LookupError, so Jinja never swallows it."""


class _Budget:
    """The limits of the render in progress, shared by both environments and their hooks."""

    __slots__ = ("deadline", "limit", "seconds", "work", "work_limit")

    def __init__(self, seconds: float, limit: int) -> None:
        self.seconds = seconds
        self.limit = limit
        self.work_limit = limit * _WORK_FACTOR
        self.deadline = math.inf  # no render in progress (compiling folds constants through the hooks)
        self.work = 0

    def tick(self) -> None:
        if time.perf_counter() > self.deadline:
            raise _OverBudget(f"the render took more than {self.seconds:g} s")

    def size(self, size: int, what: str) -> None:
        if size > self.limit:
            raise _OverBudget(f"{what} would make a value of {size:,} characters or items "
                              f"(the limit is {self.limit:,})")

    def charge(self, chars: int) -> None:
        self.work += chars
        if self.work > self.work_limit:
            raise _OverBudget(f"the template produced more than {self.work_limit:,} characters")


class Renderer:
    """Renders message content; one per run (the engine is single-threaded)."""

    def __init__(self, root: Path, *, cpu_seconds: float = 0.5, max_output: int = 256 * 1024) -> None:
        self.root = root
        self._budget = _Budget(cpu_seconds, max_output)
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
                raise _OverBudget(f"the output is more than {limit:,} characters")
            if clock() > deadline:
                raise _OverBudget(f"the render took more than {budget.seconds:g} s")
            parts.append(chunk)
        return "".join(parts)

    def _read(self, relative: str) -> str | _Broken:
        text = self._files.get(relative)
        if text is None:
            text = self._files[relative] = _read_template(self.root, relative)
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


def _read_template(root: Path, relative: str) -> str | _Broken:
    path = root / relative
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            return _Broken(None, "the path leads outside the project directory")
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            return _Broken(None, f"the file is {size:,} bytes; jo reads templates up to {MAX_TEMPLATE_BYTES:,} bytes")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _Broken(None, f"the file is not UTF-8 (byte {exc.start + 1})")
    except OSError as exc:
        return _Broken(None, f"cannot read it ({exc.strerror or type(exc).__name__})")


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


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


# --- size checks ------------------------------------------------------------------------------


def _weigh(value: Any, limit: int) -> int:
    """Characters of strings plus items of containers, counted through shared parts; stops past `limit`."""
    if isinstance(value, str | bytes):
        return len(value)
    if not isinstance(value, list | tuple | dict | set | frozenset):
        return 1
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            stack.extend(item)
        else:
            total += 1
    return total


def _check_args(budget: _Budget, what: str, args: Iterable[Any]) -> None:
    for arg in args:
        if not isinstance(arg, int | float | bool) and arg is not None:
            budget.size(_weigh(arg, budget.limit), what)


def _check_result(budget: _Budget, value: Any, what: str) -> None:
    if isinstance(value, _SIZED):
        budget.size(len(value), what)


def _check_number(budget: _Budget, value: Any, what: str) -> None:
    if isinstance(value, int):
        budget.size(value, what)


def _check_binop(budget: _Budget, operator: str, left: Any, right: Any) -> None:
    what = f"`{operator}`"
    if operator == "*":
        if isinstance(left, _SEQUENCES) and isinstance(right, int):
            budget.size(len(left) * right, what)
        elif isinstance(right, _SEQUENCES) and isinstance(left, int):
            budget.size(len(right) * left, what)
        elif isinstance(left, int) and isinstance(right, int):
            _check_bits(abs(left).bit_length() + abs(right).bit_length(), what)
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            _check_bits((abs(left).bit_length() - 1) * right, what)
    elif operator == "+":
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            budget.size(len(left) + len(right), what)
    elif operator == "%" and isinstance(left, str):
        _check_printf(budget, left, right)


def _check_bits(bits: int, what: str) -> None:
    if bits > _MAX_INT_BITS:
        raise _OverBudget(f"{what} would make a number of about {bits:,} bits (the limit is {_MAX_INT_BITS:,})")


def _check_printf(budget: _Budget, text: str, values: Any) -> None:
    """`text % values` prints at most the widths and precisions written in `text` (or given by `*`)."""
    _check_args(budget, "`%`", (values,))
    star = False
    for match in _PRINTF.finditer(text):
        for number in match.groups():
            if number == "*":
                star = True
            elif number:
                budget.size(int(number) if len(number) < 12 else budget.limit + 1, "`%`")
    if star:
        for value in values if isinstance(values, tuple) else (values,):
            _check_number(budget, value, "`%`")


def _check_format(budget: _Budget, text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """`text.format(...)` prints at most the widths written in its fields (or given by nested fields)."""
    values = (*args, *kwargs.values())
    _check_args(budget, "`format`", values)
    try:
        fields = list(Formatter().parse(text))
    except ValueError:
        return  # the call itself reports the malformed format
    for _, _, spec, _ in fields:
        for number in _DIGITS.findall(spec or ""):
            budget.size(int(number) if len(number) < 12 else budget.limit + 1, "`format`")
        if spec and "{" in spec:
            for value in values:
                if isinstance(value, Mapping):
                    for item in value.values():
                        _check_number(budget, item, "`format`")
                _check_number(budget, value, "`format`")


def _check_method(budget: _Budget, method: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Refuses string methods that would build a huge string (the sandbox lets templates call them)."""
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, str | bytes):
        return args
    name = getattr(method, "__name__", "")
    what = f"`{name}`"
    if name in ("center", "ljust", "rjust", "zfill") and args:
        _check_number(budget, args[0], what)
    elif name == "expandtabs" and args and isinstance(args[0], int):
        tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
        budget.size(len(owner) + tabs * args[0], what)
    elif name == "replace" and len(args) >= 2:
        _check_replace(budget, owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name == "join" and args:
        items = list(args[0])
        budget.size(_weigh(items, budget.limit) + len(items) * len(owner), what)
        return (items, *args[1:])
    return args


def _check_replace(budget: _Budget, text: Any, old: Any, new: Any, count: Any) -> None:
    if not any(all(isinstance(x, kind) for x in (text, old, new)) for kind in (str, bytes)):
        return  # the call itself reports wrong types
    found: int = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    budget.size(len(text) + found * (len(new) - len(old)), "`replace`")


# --- filters ---------------------------------------------------------------------------------
# A check sees a filter's own arguments (the value first, without Jinja's context argument) and may
# return replacements for them.

_Check = Callable[["_Budget", tuple[Any, ...], dict[str, Any]], "tuple[Any, ...] | None"]


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _text(args: tuple[Any, ...]) -> str:
    return str(args[0]) if args else ""


def _pre_center(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_number(budget, _arg(args, kwargs, 1, "width", 80), "`center`")


def _pre_indent(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 1, "width", 4)
    prefix = width if isinstance(width, int) and not isinstance(width, bool) else len(str(width))
    text = _text(args)
    budget.size(len(text) + (text.count("\n") + 1) * prefix, "`indent`")


def _pre_format(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args and isinstance(args[0], str):
        _check_printf(budget, args[0], kwargs or tuple(args[1:]))


def _pre_replace(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_replace(budget, _text(args), str(_arg(args, kwargs, 1, "old", "")), str(_arg(args, kwargs, 2, "new", "")),
                   _arg(args, kwargs, 3, "count", None))


def _pre_wordwrap(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text, width = _text(args), _arg(args, kwargs, 1, "width", 79)
    lines = 2 * len(text) // max(width if isinstance(width, int) else 1, 1) + text.count("\n") + 1
    budget.size(len(text) + lines * len(str(_arg(args, kwargs, 3, "wrapstring", None) or "\n")), "`wordwrap`")


def _pre_urlize(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text = _text(args)
    extra = sum(len(str(_arg(args, kwargs, i, name, "") or "")) for i, name in ((3, "target"), (4, "rel")))
    budget.size(len(text) + (len(text) // 4 + 1) * extra, "`urlize`")


def _pre_tojson(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    indent = _arg(args, kwargs, 1, "indent", None)
    if isinstance(indent, int) and indent > 8:
        budget.size(_weigh(args[0] if args else None, budget.limit) * indent, "`tojson`")


def _pre_join(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    if not args:
        return None
    items = args[0] if isinstance(args[0], list | tuple) else list(args[0])  # a generator (`map`) has no length
    separator = len(str(_arg(args, kwargs, 1, "d", "")))
    budget.size(_weigh(items, budget.limit) + len(items) * separator, "`join`")
    return (items, *args[1:])


def _pre_count(filter_name: str, name: str) -> _Check:
    """`batch` and `slice` build as many lists as their count argument says."""
    def check(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        _check_number(budget, _arg(args, kwargs, 1, name, 0), f"`{filter_name}`")
    return check


def _pre_sum(budget: _Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # Summing lists or strings is quadratic; templates add numbers.
    if isinstance(_arg(args, kwargs, 2, "start", 0), _SEQUENCES):
        raise TypeError("the `sum` filter adds numbers only (`start` must be a number)")


_FILTER_CHECKS: dict[str, _Check] = {
    "center": _pre_center, "indent": _pre_indent, "format": _pre_format, "replace": _pre_replace,
    "wordwrap": _pre_wordwrap, "urlize": _pre_urlize, "tojson": _pre_tojson, "join": _pre_join,
    "batch": _pre_count("batch", "linecount"), "slice": _pre_count("slice", "slices"), "sum": _pre_sum,
}


def _guard_filter(budget: _Budget, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    check = _FILTER_CHECKS.get(name)
    what = f"the `{name}` filter"
    # Jinja passes the context, eval context or environment first to a filter that asks for it.
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)  # keeps jinja_pass_arg
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget.tick()
        own = args[skip:]
        _check_args(budget, what, (*own, *kwargs.values()))
        if check is not None:
            own = check(budget, own, kwargs) or own
        result = function(*args[:skip], *own, **kwargs)
        _check_result(budget, result, what)
        return result

    return guarded


def _guard_lipsum(budget: _Budget, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:
        if isinstance(n, int) and isinstance(max, int):
            budget.size(n * max, "`lipsum`")
        return function(n, html, min, max)

    return lipsum


def _guarded_items(budget: _Budget, items: Iterator[Any], charge: int) -> Iterator[Any]:
    clock = time.perf_counter
    for item in items:
        if clock() > budget.deadline:
            raise _OverBudget(f"the render took more than {budget.seconds:g} s")
        if charge:
            budget.charge(charge)
        yield item


# --- the environment --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Jinja:
    environment: Callable[[bool, _Budget], ImmutableSandboxedEnvironment]
    guard: Callable[[Any, ImmutableSandboxedEnvironment], None]


@functools.cache
def _jinja() -> _Jinja:
    """The sandbox class and the syntax-tree guard, built on first use so that jinja2 loads lazily."""
    from jinja2 import ChainableUndefined, StrictUndefined, nodes, pass_eval_context
    from jinja2.runtime import Context, markup_join, str_join
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.visitor import NodeTransformer

    dict_names = frozenset(dir(dict))
    none_names = frozenset(dir(None))

    class Missing(ChainableUndefined):
        """A field a value does not have: prints empty, iterates empty, chains; other uses name it."""

        __slots__ = ()

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"+", "*", "**", "%"})
        jo_budget: _Budget

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            _check_binop(self.jo_budget, operator, left, right)
            result = self.binop_table[operator](left, right)
            _check_result(self.jo_budget, result, f"`{operator}`")
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
                _check_format(budget, text, () if format_map else args, given)
                return wrapped(*args, **kwargs)

            return checked

        def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            budget = __self.jo_budget
            budget.tick()
            if __obj is None:
                raise TypeError("null is not callable (a missing or null field?)")
            args = _check_method(budget, __obj, args)
            result = super().call(__context, __obj, *args, **kwargs)
            _check_result(budget, result, "the call")
            return result

    def environment(html: bool, budget: _Budget) -> ImmutableSandboxedEnvironment:
        def finalize(value: Any) -> Any:
            if type(value) is not str:
                if isinstance(value, list | tuple | dict):
                    budget.size(_weigh(value, budget.limit), "printing this value")
                value = to_string(value)
            budget.charge(len(value))
            return value

        def iterate(items: Any, charge: int) -> Iterator[Any]:
            return iter(()) if items is None else _guarded_items(budget, iter(items), charge)

        @pass_eval_context
        def concat(eval_ctx: Any, *parts: Any) -> str:
            # `~` prints its operands as `{{ }}` does (toString), not with str(): "Total: " ~ 3.0 is "Total: 3".
            budget.size(sum(_weigh(part, budget.limit) for part in parts), "`~`")
            parts = tuple(part if isinstance(part, str) else to_string(part) for part in parts)
            joined: str = (markup_join if eval_ctx.autoescape or eval_ctx.volatile else str_join)(parts)
            _check_result(budget, joined, "`~`")
            return joined

        sandbox = Sandbox(autoescape=html, undefined=StrictUndefined, finalize=finalize)
        sandbox.jo_budget = budget
        sandbox.jo_iterate = iterate  # type: ignore[attr-defined]
        sandbox.jo_concat = concat  # type: ignore[attr-defined]
        for name, function in list(sandbox.filters.items()):
            sandbox.filters[name] = _guard_filter(budget, name, function)
        lipsum: Callable[..., Any] = sandbox.globals["lipsum"]  # type: ignore[assignment]
        sandbox.globals["lipsum"] = _guard_lipsum(budget, lipsum)
        return sandbox

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
