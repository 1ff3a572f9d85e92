"""List, aggregate and math functions of §8: `count`, `sum`, `avg`, `min`, `max`, `distinct`, `listSize`,
`in`, `round`, `abs`.

Aggregates take a list (null items ignored) or, as in AJO, two values.
Campaign link aggregates (`count(link, cond)`, ...) are the checker's and
the compiler's, not these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from jo_cli.expr.functions_base import Function, fn, numeric_result, same_as_item, sig
from jo_cli.expr.runtime import EvalError, compare, contains, instant, is_number, type_name
from jo_cli.expr.types import ANY, BOOLEAN, DATE, DATETIME, DECIMAL, DURATION, INTEGER, STRING, Type, list_of

_ORDERED_TYPES = (DECIMAL, STRING, DATE, DATETIME, DURATION)


def _list(value: Any, function: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise EvalError(f"{function} needs a list, not {type_name(value)}")
    return value


def _items(args: tuple[Any, ...], function: str) -> list[Any]:
    """The non-null values to aggregate: a list's items, or the arguments themselves."""
    values = _list(args[0], function) if len(args) == 1 else args
    return [value for value in values if value is not None]


def _numbers(args: tuple[Any, ...], function: str) -> list[int | float]:
    items = _items(args, function)
    for item in items:
        if not is_number(item):
            raise EvalError(f"{function} adds numbers, not {type_name(item)}")
    return items


def _count(value: Any) -> int:
    return 0 if value is None else sum(item is not None for item in _list(value, "count"))


def _list_size(value: Any) -> int:
    return 0 if value is None else len(_list(value, "listSize"))


def _sum(*args: Any) -> int | float:
    return sum(_numbers(args, "sum"))


def _avg(*args: Any) -> float | None:
    numbers = _numbers(args, "avg")
    return sum(numbers) / len(numbers) if numbers else None


def _extreme(args: tuple[Any, ...], function: str, sign: int) -> Any:
    items = _items(args, function)
    if not items:
        return None
    best = items[0]
    for item in items:  # the first compared with itself: a lone boolean is not orderable either
        order = compare(item, best)
        if order is None:
            raise EvalError(f"{function} cannot compare {type_name(item)} with {type_name(best)}")
        if order * sign > 0:
            best = item
    return best


def _min(*args: Any) -> Any:
    return _extreme(args, "min", -1)


def _max(*args: Any) -> Any:
    return _extreme(args, "max", 1)


def _key(value: Any) -> Any:
    """A hashable key under which values equal by `==` (§8) collide: 1 and 1.0 do, true and 1 do not."""
    if isinstance(value, bool):
        return ("boolean", value)
    if is_number(value):
        return ("number", value)
    if isinstance(value, list | tuple):
        return ("list", tuple(_key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((key, _key(item)) for key, item in value.items()))
    if type_name(value) == "datetime":
        return ("datetime", instant(value))
    return (type_name(value), value)


def _distinct(value: Any) -> list[Any]:
    """The non-null items, first occurrences kept in order."""
    seen: set[Any] = set()
    result = []
    for item in _list(value, "distinct"):
        key = _key(item)
        if item is not None and key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _round(value: Any) -> int:
    """Halves go up, toward +infinity (AJO, Java's Math.round): 2.5 -> 3, -2.5 -> -2."""
    if isinstance(value, int):
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise EvalError(f"round cannot make an integer of {number}")
    floor = math.floor(number)
    return floor + 1 if number - floor >= 0.5 else floor  # value - floor is exact, unlike value + 0.5


def _list_type(types: Sequence[Type]) -> Type:
    return types[0] if types[0].name == "list" else list_of(ANY)


def _ordered_signatures() -> tuple[Any, ...]:
    lists = tuple(sig(list_of(t), returns=same_as_item) for t in _ORDERED_TYPES)
    return lists + tuple(sig(t, t, returns=same_as_item) for t in _ORDERED_TYPES)


LIST_FUNCTIONS: tuple[Function, ...] = (
    fn("count", _count, sig(list_of(ANY), returns=INTEGER), null_result=False,
       doc="count(list): the number of non-null items (0 for null)"),
    fn("sum", _sum, sig(list_of(DECIMAL), returns=numeric_result), sig(DECIMAL, DECIMAL, returns=numeric_result),
       doc="sum(list) or sum(a, b): the total, null items ignored (0 for an empty list)"),
    fn("avg", _avg, sig(list_of(DECIMAL), returns=DECIMAL), sig(DECIMAL, DECIMAL, returns=DECIMAL),
       doc="avg(list) or avg(a, b): the mean as a decimal, null items ignored (null for an empty list)"),
    fn("min", _min, *_ordered_signatures(),
       doc="min(list) or min(a, b): the smallest number, string, date, datetime or duration, nulls ignored"),
    fn("max", _max, *_ordered_signatures(),
       doc="max(list) or max(a, b): the largest number, string, date, datetime or duration, nulls ignored"),
    fn("distinct", _distinct, sig(list_of(ANY), returns=_list_type),
       doc="distinct(list): the non-null items without repeats, in first-seen order"),
    fn("listSize", _list_size, sig(list_of(ANY), returns=INTEGER), null_result=False,
       doc="listSize(list): the number of items, nulls included (0 for null)"),
    fn("in", lambda value, values: contains(values, value), sig(ANY, list_of(ANY), returns=BOOLEAN),
       null_result=False, doc="in(v, list): whether list has an item == v, as the `in` operator"),
    fn("round", _round, sig(DECIMAL, returns=INTEGER), doc="round(x): the nearest integer, halves up (2.5 -> 3)"),
    fn("abs", abs, sig(DECIMAL, returns=numeric_result), doc="abs(x): the absolute value"),
)
