"""Every function of SPEC §8, by name: signatures for the checker, implementations for the compiler.

The checker calls `check_constant(position, text)` for each argument in
`constants` (which must be string literals); the regular-expression functions
also give one for their pattern, worth calling when it is written as a literal.
"""

from __future__ import annotations

from jo_cli.expr.functions_base import Function, Signature
from jo_cli.expr.functions_convert import CONVERT_FUNCTIONS
from jo_cli.expr.functions_list import LIST_FUNCTIONS
from jo_cli.expr.functions_text import TEXT_FUNCTIONS
from jo_cli.expr.functions_time import TIME_FUNCTIONS

__all__ = ["FUNCTIONS", "Function", "Signature"]

FUNCTIONS: dict[str, Function] = {
    function.name: function
    for function in (*TIME_FUNCTIONS, *CONVERT_FUNCTIONS, *TEXT_FUNCTIONS, *LIST_FUNCTIONS)
}
