"""String functions of §8, and regular expressions through RE2 (linear time; no backreferences).

Patterns follow AJO's Java flavour where RE2 allows it: `matchRegExp` finds
the pattern anywhere (anchor with `^...$`), replacements name groups as
`$1` or `${name}` with `\\` escaping, and `split` drops trailing empty
strings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import re2

from jo_cli.expr.functions_base import Function, fn, sig
from jo_cli.expr.runtime import EvalError, to_string
from jo_cli.expr.types import ANY, BOOLEAN, INTEGER, STRING, Type, list_of

# str.isdigit() also accepts superscripts and other scripts' digits, which int() refuses or misreads.
_ASCII_DIGITS = frozenset("0123456789")

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every invalid pattern on stderr


def backreference(pattern: str) -> str | None:
    """The first backreference (`\\1`, `\\k<name>`) in `pattern`, if any."""
    index = 0
    while index < len(pattern) - 1:
        if pattern[index] == "\\":
            following = pattern[index + 1]
            if following in "123456789" or following == "k":
                return pattern[index:index + 2]
            index += 2
        else:
            index += 1
    return None


def regex_problem(pattern: str) -> str | None:
    """None for a pattern RE2 accepts, else what is wrong with it."""
    found = backreference(pattern)
    if found is not None:
        return f"regular expression `{pattern}` uses the backreference `{found}`: RE2 has none (it runs in linear time)"
    try:
        _compile(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"invalid regular expression `{pattern}`: {reason}"
    return None


@lru_cache(maxsize=512)
def _compile(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def compiled(pattern: str) -> Any:
    """The compiled RE2 pattern (cached); EvalError when it is not valid."""
    try:
        return _compile(pattern)
    except re2.error:
        raise EvalError(regex_problem(pattern) or f"invalid regular expression `{pattern}`") from None


def _check_regex(position: int, text: str) -> str | None:
    return regex_problem(text) if position == 1 else None


def expand(template: str, match: Any) -> str:
    """A Java replacement string for `match`: `$1`, `${name}`, `\\$` for a literal dollar."""
    out: list[str] = []
    index, groups = 0, match.re.groups
    while index < len(template):
        char = template[index]
        if char == "\\":
            if index + 1 == len(template):
                raise EvalError(f"replacement `{template}` ends with an unescaped `\\`")
            out.append(template[index + 1])
            index += 2
        elif char == "$":
            index += 1
            if template[index:index + 1] == "{":
                close = template.find("}", index)
                name = template[index + 1:close] if close > 0 else ""
                if name not in match.re.groupindex:
                    raise EvalError(f"replacement `{template}` names no group of the pattern")
                out.append(match.group(name) or "")
                index = close + 1
                continue
            if template[index:index + 1] not in _ASCII_DIGITS or int(template[index]) > groups:
                raise EvalError(f"replacement `{template}`: `$` must be followed by a group number (up to "
                                f"{groups}) or {{name}}; write `\\$` for a dollar sign")
            number, index = int(template[index]), index + 1
            while index < len(template) and template[index] in _ASCII_DIGITS \
                    and number * 10 + int(template[index]) <= groups:
                number, index = number * 10 + int(template[index]), index + 1
            out.append(match.group(number) or "")
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _replacer(template: str) -> Callable[[Any], str]:
    if "$" not in template and "\\" not in template:
        return lambda match: template
    return lambda match: expand(template, match)


def _replace(text: str, pattern: str, template: str) -> str:
    return str(compiled(pattern).sub(_replacer(template), text, count=1))


def _replace_all(text: str, pattern: str, template: str) -> str:
    return str(compiled(pattern).sub(_replacer(template), text))


def _match(text: str, pattern: str) -> bool:
    return compiled(pattern).search(text) is not None


def _split(text: str, pattern: str) -> list[str]:
    """Java's String.split: no leading empty string for a zero-width match at 0, trailing empties dropped."""
    parts: list[str] = []
    start = 0
    for match in compiled(pattern).finditer(text):
        if match.end() == 0:
            continue
        parts.append(text[start:match.start()])
        start = match.end()
    if not parts:
        return [text]
    parts.append(text[start:])
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _substr(text: str, begin: int, end: int | None = None) -> str:
    """0-based, `end` exclusive; out-of-range bounds clamp to the string."""
    size = len(text)
    start = min(max(begin, 0), size)
    stop = size if end is None else min(max(end, start), size)
    return text[start:stop]


def _concat(*args: Any) -> str:
    if len(args) == 1 and isinstance(args[0], list | tuple):
        args = tuple(args[0])
    return "".join(to_string(arg) for arg in args)


def is_empty(value: Any) -> bool:
    """True for null, "" and an empty list (AJO: false for null; SPEC §12: empty CSV cells are null)."""
    return value is None or (isinstance(value, str | list | tuple) and len(value) == 0)


def _text(name: str, impl: Callable[..., Any], arity: int, returns: Type, doc: str) -> Function:
    return fn(name, impl, sig(*[STRING] * arity, returns=returns), doc=doc)


TEXT_FUNCTIONS: tuple[Function, ...] = (
    _text("contain", lambda s, part: part in s, 2, BOOLEAN, "contain(s, part): whether s contains part"),
    _text("containIgnoreCase", lambda s, part: part.casefold() in s.casefold(), 2, BOOLEAN,
          "containIgnoreCase(s, part): contain, ignoring case"),
    _text("startWith", lambda s, prefix: s.startswith(prefix), 2, BOOLEAN, "startWith(s, prefix)"),
    _text("endWith", lambda s, suffix: s.endswith(suffix), 2, BOOLEAN, "endWith(s, suffix)"),
    _text("equalIgnoreCase", lambda a, b: a.casefold() == b.casefold(), 2, BOOLEAN,
          "equalIgnoreCase(a, b): a == b, ignoring case"),
    _text("lower", lambda s: s.lower(), 1, STRING, "lower(s)"),
    _text("upper", lambda s: s.upper(), 1, STRING, "upper(s)"),
    _text("trim", lambda s: s.strip(), 1, STRING, "trim(s): s without leading and trailing white space"),
    _text("length", len, 1, INTEGER, "length(s): the number of characters of s"),
    # Any type: `isEmpty(profile.age)` asks whether an integer column's cell was empty (null).
    fn("isEmpty", is_empty, sig(ANY, returns=BOOLEAN), null_result=False,
       doc='isEmpty(x): true for null, "" and an empty list'),
    fn("isNotEmpty", lambda value: not is_empty(value), sig(ANY, returns=BOOLEAN), null_result=False,
       doc="isNotEmpty(x): not isEmpty(x)"),
    fn("matchRegExp", _match, sig(STRING, STRING, returns=BOOLEAN), check_constant=_check_regex,
       doc="matchRegExp(s, regex): whether the RE2 regex matches somewhere in s (anchor with ^...$)"),
    fn("replace", _replace, sig(STRING, STRING, STRING, returns=STRING), check_constant=_check_regex,
       doc="replace(s, regex, replacement): the first match replaced ($1 names a group)"),
    fn("replaceAll", _replace_all, sig(STRING, STRING, STRING, returns=STRING), check_constant=_check_regex,
       doc="replaceAll(s, regex, replacement): every match replaced ($1 names a group)"),
    fn("split", _split, sig(STRING, STRING, returns=list_of(STRING)), check_constant=_check_regex,
       doc="split(s, regex): the parts of s between matches (trailing empty parts dropped)"),
    fn("substr", _substr, sig(STRING, INTEGER, returns=STRING), sig(STRING, INTEGER, INTEGER, returns=STRING),
       doc="substr(s, begin[, end]): characters begin (0-based) to end (exclusive), clamped to s"),
    fn("concat", _concat, sig(STRING, STRING, returns=STRING, variadic=True), sig(list_of(STRING), returns=STRING),
       doc="concat(a, b, ...) or concat(list): the strings joined"),
)
