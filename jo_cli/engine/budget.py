"""The render budgets of `render.py` (SPEC §7.5): time, output and sizes refused before they are built.

A `Budget` is shared by a renderer's sandboxes and their hooks: the clock is
read per output chunk, loop iteration, call and filter (`tick`); sizes are
checked before a value is built (`size`): `*`, `+` and `%` on strings and
lists, `**` and `*` on integers, `~`, width and count arguments of filters and
string methods, the weight of printed lists and objects; everything printed
counts towards `_WORK_FACTOR` times the output limit (`charge`).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from string import Formatter
from typing import Any

# Python prints integers of up to 4,300 digits (about 14,000 bits); refusing larger ones before they are built
# keeps `**` instant.
_MAX_INT_BITS = 16_384
# Everything printed during a render, including what macros and `{% set %}` blocks throw away, may reach this
# many times max_output.
_WORK_FACTOR = 8
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")
_SEQUENCES = (str, bytes, list, tuple)
_SIZED = (*_SEQUENCES, dict)


class OverBudget(Exception):
    """A render went past a budget. Not a TypeError or LookupError, so Jinja never swallows it."""


class Budget:
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
            raise OverBudget(f"the render took more than {self.seconds:g} s")

    def size(self, size: int, what: str) -> None:
        if size > self.limit:
            raise OverBudget(f"{what} would make a value of {size:,} characters or items "
                              f"(the limit is {self.limit:,})")

    def charge(self, chars: int) -> None:
        self.work += chars
        if self.work > self.work_limit:
            raise OverBudget(f"the template produced more than {self.work_limit:,} characters")


# --- size checks ------------------------------------------------------------------------------


def weigh(value: Any, limit: int) -> int:
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


def _check_args(budget: Budget, what: str, args: Iterable[Any]) -> None:
    for arg in args:
        if not isinstance(arg, int | float | bool) and arg is not None:
            budget.size(weigh(arg, budget.limit), what)


def check_result(budget: Budget, value: Any, what: str) -> None:
    if isinstance(value, _SIZED):
        budget.size(len(value), what)


def _check_number(budget: Budget, value: Any, what: str) -> None:
    if isinstance(value, int):
        budget.size(value, what)


def check_binop(budget: Budget, operator: str, left: Any, right: Any) -> None:
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
        raise OverBudget(f"{what} would make a number of about {bits:,} bits (the limit is {_MAX_INT_BITS:,})")


def _check_printf(budget: Budget, text: str, values: Any) -> None:
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


def check_format(budget: Budget, text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
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


def check_method(budget: Budget, method: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
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
        budget.size(weigh(items, budget.limit) + len(items) * len(owner), what)
        return (items, *args[1:])
    return args


def _check_replace(budget: Budget, text: Any, old: Any, new: Any, count: Any) -> None:
    if not any(all(isinstance(x, kind) for x in (text, old, new)) for kind in (str, bytes)):
        return  # the call itself reports wrong types
    found: int = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    budget.size(len(text) + found * (len(new) - len(old)), "`replace`")


# --- filters ---------------------------------------------------------------------------------
# A check sees a filter's own arguments (the value first, without Jinja's context argument) and may
# return replacements for them.

_Check = Callable[["Budget", tuple[Any, ...], dict[str, Any]], "tuple[Any, ...] | None"]


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _text(args: tuple[Any, ...]) -> str:
    return str(args[0]) if args else ""


def _pre_center(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_number(budget, _arg(args, kwargs, 1, "width", 80), "`center`")


def _pre_indent(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = _arg(args, kwargs, 1, "width", 4)
    prefix = width if isinstance(width, int) and not isinstance(width, bool) else len(str(width))
    text = _text(args)
    budget.size(len(text) + (text.count("\n") + 1) * prefix, "`indent`")


def _pre_format(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args and isinstance(args[0], str):
        _check_printf(budget, args[0], kwargs or tuple(args[1:]))


def _pre_replace(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _check_replace(budget, _text(args), str(_arg(args, kwargs, 1, "old", "")), str(_arg(args, kwargs, 2, "new", "")),
                   _arg(args, kwargs, 3, "count", None))


def _pre_wordwrap(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text, width = _text(args), _arg(args, kwargs, 1, "width", 79)
    lines = 2 * len(text) // max(width if isinstance(width, int) else 1, 1) + text.count("\n") + 1
    budget.size(len(text) + lines * len(str(_arg(args, kwargs, 3, "wrapstring", None) or "\n")), "`wordwrap`")


def _pre_urlize(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    text = _text(args)
    extra = sum(len(str(_arg(args, kwargs, i, name, "") or "")) for i, name in ((3, "target"), (4, "rel")))
    budget.size(len(text) + (len(text) // 4 + 1) * extra, "`urlize`")


def _pre_tojson(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    indent = _arg(args, kwargs, 1, "indent", None)
    if isinstance(indent, int) and indent > 8:
        budget.size(weigh(args[0] if args else None, budget.limit) * indent, "`tojson`")


def _pre_join(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    if not args:
        return None
    items = args[0] if isinstance(args[0], list | tuple) else list(args[0])  # a generator (`map`) has no length
    separator = len(str(_arg(args, kwargs, 1, "d", "")))
    budget.size(weigh(items, budget.limit) + len(items) * separator, "`join`")
    return (items, *args[1:])


def _pre_count(filter_name: str, name: str) -> _Check:
    """`batch` and `slice` build as many lists as their count argument says."""
    def check(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        _check_number(budget, _arg(args, kwargs, 1, name, 0), f"`{filter_name}`")
    return check


def _pre_sum(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # Summing lists or strings is quadratic; templates add numbers.
    if isinstance(_arg(args, kwargs, 2, "start", 0), _SEQUENCES):
        raise TypeError("the `sum` filter adds numbers only (`start` must be a number)")


_FILTER_CHECKS: dict[str, _Check] = {
    "center": _pre_center, "indent": _pre_indent, "format": _pre_format, "replace": _pre_replace,
    "wordwrap": _pre_wordwrap, "urlize": _pre_urlize, "tojson": _pre_tojson, "join": _pre_join,
    "batch": _pre_count("batch", "linecount"), "slice": _pre_count("slice", "slices"), "sum": _pre_sum,
}


def guard_filter(budget: Budget, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
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
        check_result(budget, result, what)
        return result

    return guarded


def guard_lipsum(budget: Budget, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:
        if isinstance(n, int) and isinstance(max, int):
            budget.size(n * max, "`lipsum`")
        return function(n, html, min, max)

    return lipsum


def guarded_items(budget: Budget, items: Iterator[Any], charge: int) -> Iterator[Any]:
    clock = time.perf_counter
    for item in items:
        if clock() > budget.deadline:
            raise OverBudget(f"the render took more than {budget.seconds:g} s")
        if charge:
            budget.charge(charge)
        yield item
