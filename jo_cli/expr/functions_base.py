"""How a §8 function is described to the checker and the compiler; helpers its implementations share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jo_cli import schedule
from jo_cli.expr.runtime import EvalError, type_name
from jo_cli.expr.types import ANY, DECIMAL, INTEGER, Type


@dataclass(frozen=True, slots=True)
class Signature:
    params: tuple[Type, ...]
    returns: Type | Callable[[Sequence[Type]], Type]  # a callable computes the result type from the argument types
    variadic: bool = False  # the last param may repeat (concat(a, b, c, ...))


@dataclass(frozen=True, slots=True)
class Function:
    """A function of §8; `impl` takes evaluated values (the EvalContext first when `context`)."""

    name: str
    signatures: tuple[Signature, ...]  # overloads, tried in order
    impl: Callable[..., Any]
    null_result: bool = True  # any None argument gives None without calling impl
    context: bool = False  # impl(ctx, *args)
    constants: tuple[int, ...] = ()  # argument positions that must be string literals
    # Lint-time check of a string literal at a position (a zone, a unit, a regex): an error text or None.
    check_constant: Callable[[int, str], str | None] | None = None
    doc: str = ""


def fn(name: str, impl: Callable[..., Any], *signatures: Signature, doc: str, **options: Any) -> Function:
    return Function(name, signatures, impl, doc=doc, **options)


def sig(*params: Type, returns: Type | Callable[[Sequence[Type]], Type], variadic: bool = False) -> Signature:
    return Signature(params, returns, variadic)


def numeric_result(types: Sequence[Type]) -> Type:
    """Integer when every numeric argument (or list item) is an integer, else decimal; any stays any."""
    names = [(t.item or ANY).name if t.name == "list" else t.name for t in types]
    if "any" in names:
        return ANY
    return INTEGER if all(name in ("integer", "null") for name in names) else DECIMAL


def same_as_item(types: Sequence[Type]) -> Type:
    """The item type of the list argument (numbers merged), or the type of two scalar arguments."""
    items = [(t.item or ANY) if t.name == "list" else t for t in types]
    if any(item.is_numeric for item in items):
        return numeric_result(items)
    known = [item for item in items if item.name not in ("any", "null")]
    return known[0] if known else ANY


def zone_problem(text: str) -> str | None:
    """None for an IANA zone name, else the error with a "did you mean"."""
    return schedule.validate_timezone(text)


def want_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EvalError(f"{what} must be an integer, not {type_name(value)}")
    return value


def want_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise EvalError(f"{what} must be a string, not {type_name(value)}")
    return value
