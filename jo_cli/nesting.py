"""How deep a YAML text nests, read from the text before any parser sees it (SPEC §10.2).

libyaml's own limits differ by release (PyYAML 6.0.4's refuses flow nesting
past 1,000 levels while scanning ahead, older ones recurse until they crash),
so the loader never hands libyaml a text this scan finds too deep. The scan
is a small lexer of the parts of YAML that open collections: flow brackets
outside quoted scalars and comments, block indentation, `- ` and `key:` on a
line, and the block scalars (`|`, `>`) and quoted scalars whose contents it
skips. It may overestimate (a plain scalar such as `a[b` in block context is
read as opening a bracket): the loader then lets the pure-Python parser, which
has no limit of its own, decide exactly; it is written not to underestimate
any document PyYAML would parse.
"""

from __future__ import annotations

import re

# In flow context: what can open, close or hide brackets.
_FLOW_STOP = re.compile(r"[\[\]{}\"'#]")
# In block context, after the start of a plain scalar: the `:` that makes it a key, or the comment that ends it.
_KEY_OR_COMMENT = re.compile(r":(?=[ \t]|$)|[ \t]#")
_INDICATOR = re.compile(r"[-?](?=[ \t]|$)")
_BLOCK_SCALAR = re.compile(r"[|>][0-9+-]*[ \t]*(?:#.*)?$")


def deepest_offset(text: str, limit: int) -> int | None:
    """The offset of the first place that may hold a node deeper than `limit` levels, or None when none can."""
    if _cheap_bound(text) < limit:
        return None
    return _Scan(text, limit).run()


def _cheap_bound(text: str) -> int:
    """An upper bound without lexing: every bracket opened, the deepest indentation, the most `- ` on a line."""
    indent = max((len(m.group()) for m in re.finditer(r"^[ \t]*", text, re.MULTILINE)), default=0)
    dashes = max((m.group().count("-") + m.group().count("?") for m in re.finditer(r"(?:[-?][ \t]+)+", text)),
                 default=0)
    return text.count("[") + text.count("{") + indent + dashes + 2


class _Scan:
    def __init__(self, text: str, limit: int) -> None:
        self.text = text
        self.limit = limit

    def run(self) -> int | None:
        text, n = self.text, len(self.text)
        # The block lines above that later lines may belong to: (indent, depth of the collection the line
        # starts, depth of the node its last key or `- ` opens, whether it starts with `- `).
        lines: list[tuple[int, int, int, bool]] = []
        scalar_indent: int | None = None  # inside a block scalar: lines indented deeper are its text
        pos = 0
        while pos < n:
            end = text.find("\n", pos)
            end = n if end < 0 else end
            line = text[pos:end]
            indent = len(line) - len(line.lstrip(" "))
            start = pos + indent
            if not line.strip() or text[start] == "#" or (scalar_indent is not None and indent > scalar_indent):
                pos = end + 1
                continue
            scalar_indent = None
            while lines and lines[-1][0] > indent:
                lines.pop()
            dash = _INDICATOR.match(text, start) is not None and text[start] == "-"
            if lines and lines[-1][0] == indent:
                # `key:` then `- item` at the key's own indentation; else a sibling
                depth = lines[-1][2] if dash and not lines[-1][3] else lines.pop()[1]
            else:
                depth = lines[-1][2] if lines else 1
            pos, found, value_depth, scalar_indent = self._line(start, depth, indent)
            if found is not None:
                return found
            lines.append((indent, depth, value_depth, dash))
        return None

    def _line(self, pos: int, depth: int, indent: int) -> tuple[int, int | None, int, int | None]:
        """One block line from its content, `depth` the depth of its first node: (where the next line starts,
        an offset too deep, the depth of the node its last key or `- ` opens, the indent of a block scalar)."""
        text, n = self.text, len(self.text)
        value_depth = depth
        node_col = indent  # where the node a block scalar here would belong to starts: its text is deeper
        line_start = pos - indent
        while pos < n and text[pos] != "\n":
            if depth > self.limit:
                return pos, pos, depth, None
            char = text[pos]
            if char in " \t":
                pos += 1
            elif char == "#":
                break
            elif _INDICATOR.match(text, pos):
                depth += 1
                value_depth = depth
                node_col = pos - line_start
                pos += 1
            elif char in "[{":
                node_col = pos - line_start
                pos, found = self._flow(pos, depth)
                if found is not None:
                    return pos, found, depth, None
            elif char in "\"'":
                node_col = pos - line_start  # perhaps a key: its mapping starts here
                pos = self._quoted(pos)
            elif char == ":" and text[pos + 1:pos + 2] in ("", " ", "\t", "\n"):
                depth += 1  # the value of a quoted or flow key
                value_depth = depth
                pos += 1
            elif char in "|>" and _BLOCK_SCALAR.match(text, pos, self._eol(pos)):
                return self._eol(pos) + 1, None, value_depth, node_col
            else:
                key = _KEY_OR_COMMENT.search(text, pos, self._eol(pos))
                if key is None or key.group() != ":":
                    break  # a plain scalar to the end of the line
                depth += 1
                value_depth = depth
                node_col = pos - line_start
                pos = key.end()
        return self._eol(pos) + 1, None, value_depth, None

    def _flow(self, pos: int, depth: int) -> tuple[int, int | None]:
        """From an opening bracket to the one that closes it, over lines; (after it, a deep offset)."""
        text = self.text
        level = 0
        while True:
            match = _FLOW_STOP.search(text, pos)
            if match is None:
                return len(text), None
            pos, char = match.start(), match.group()
            if char in "[{":
                level += 1
                if depth + level > self.limit:
                    return pos, pos
                pos += 1
            elif char in "]}":
                level -= 1
                pos += 1
                if level <= 0:
                    return pos, None
            elif char == "#":
                if pos == 0 or text[pos - 1] in " \t\n":
                    pos = self._eol(pos)
                else:
                    pos += 1
            elif self._starts_scalar(pos):
                pos = self._quoted(pos)
            else:
                pos += 1  # a quote inside a plain scalar (`it's`) is text

    def _starts_scalar(self, pos: int) -> bool:
        """A quote opens a scalar after an indicator; after other text it is part of a plain scalar."""
        text = self.text
        pos -= 1
        while pos >= 0 and text[pos] in " \t\n":
            pos -= 1
        return pos < 0 or text[pos] in "[{,:?-"

    def _quoted(self, pos: int) -> int:
        """After the quoted scalar opening at `pos` (its end of text if it never closes)."""
        text, quote = self.text, self.text[pos]
        pos += 1
        while True:
            found = text.find(quote, pos)
            if found < 0:
                return len(text)
            if quote == "'" and text.startswith("''", found):
                pos = found + 2
                continue
            if quote == '"':
                backslashes = len(text[pos:found]) - len(text[pos:found].rstrip("\\"))
                if backslashes % 2:
                    pos = found + 1
                    continue
            return found + 1

    def _eol(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        return len(self.text) if end < 0 else end
