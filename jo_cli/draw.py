"""Journeys and campaigns drawn as Mermaid or Graphviz DOT flowcharts (SPEC §7.7).

The drawing follows the graphs the JO3xx rules see (`jo_cli.graph`), so a document that fails its
schema or its graph rules is still drawn: a transition to a step that does not exist ends at a node
marked missing. Nodes come in file order (entry, steps, the implicit End, missing targets in the
order they are first named) and edges in file order, so the text diffs well in a pull request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jo_cli.errors import JoError
from jo_cli.graph import END, Edge, campaign_graph, journey_graph
from jo_cli.loader import JsonPath, load_yaml

Format = Literal["mermaid", "dot"]
FORMATS: tuple[Format, ...] = ("mermaid", "dot")

# entry: the journey's entry; step: a step or activity; end: the journey's implicit End;
# missing: a target that names no step.
Role = Literal["entry", "step", "end", "missing"]
Shape = Literal["box", "terminal", "missing"]
NodeKey = tuple[Role, str]

# Transition fields whose outcome has another name (SPEC §6.4, §9.2).
OUTCOME_NAMES = {"timeout_next": "timeout", "complement_next": "complement"}
# The field shown after a step's or activity's type: `message: email`, `wait: P3D`.
_DETAIL_FIELDS = {
    "message": "channel", "wait": "duration", "wait-event": "event", "reaction": "on", "profile-cap": "cap",
    "action": "action", "jump": "journey", "end": "label", "build-audience": "dimension", "combine": "mode",
    "deduplicate": "fields", "change-dimension": "to", "save-audience": "audience",
}
_WITH_TIMEOUT = ("wait-event", "reaction")


@dataclass(frozen=True, slots=True)
class Node:
    role: Role
    name: str  # the step or activity id, the missing target; `entry` and `end` for those nodes
    lines: tuple[str, ...]  # the label, one line each
    shape: Shape

    @property
    def key(self) -> NodeKey:
        return (self.role, self.name)


@dataclass(frozen=True, slots=True)
class Link:
    source: NodeKey
    target: NodeKey
    label: str | None  # the outcome name; None for the entry's edge, which is no step's outcome


@dataclass(frozen=True, slots=True)
class Drawing:
    name: str  # the document's id
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]


def read_drawing(path: Path, *, shown: str) -> Drawing:
    """The drawing of the journey or campaign file at `path` (named `shown` in messages).

    Raises JoError when the file is missing, unreadable, not YAML jo can parse, or neither kind.
    """
    if not path.exists():
        raise JoError(f"{shown}: no such file or directory")
    if path.is_dir():
        raise JoError(f"{shown}: is a directory; name a journey or campaign file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise JoError(f"{shown}: cannot read: {exc.strerror or exc}") from exc
    loaded = load_yaml(shown, raw)
    if loaded.document is None:
        first = loaded.findings[0]
        raise JoError(f"{first.path}:{first.line}:{first.col}: {first.message} (`jo validate {shown}` says more)")
    return draw(loaded.document.data, shown=shown)


def draw(data: Any, *, shown: str) -> Drawing:
    """The drawing of a parsed document; JoError when it is not a journey or campaign."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "journey":
        return journey_drawing(data)
    if kind == "campaign":
        return campaign_drawing(data)
    what = f"its kind is `{_one_line(str(kind))}`" if isinstance(kind, str) else "it has no `kind`"
    raise JoError(f"{shown}: not a journey or campaign ({what}); jo graph draws `kind: journey` and `kind: campaign`")


def journey_drawing(data: Mapping[str, Any]) -> Drawing:
    """The entry, every step, the implicit End when a transition names it, and every transition."""
    graph = journey_graph(data)
    nodes: list[Node] = []
    entry = data.get("entry")
    if isinstance(entry, dict):
        nodes.append(Node("entry", "entry", (_entry_label(entry),), "terminal"))
    nodes.extend(_step_node(step_id, step) for step_id, step in graph.nodes.items())
    links: list[Link] = []
    for edge in graph.edges:
        if edge.source is None:
            links.append(Link(("entry", "entry"), _target(edge.target, graph.nodes, implicit_end=True), None))
        elif edge.source in graph.nodes:  # not from a step named `end`: that name is the implicit End
            links.append(Link(("step", edge.source), _target(edge.target, graph.nodes, implicit_end=True),
                              _outcome(data, edge)))
    return Drawing(_name(data, "journey"), (*nodes, *_target_nodes(links, "step")), tuple(links))


def campaign_drawing(data: Mapping[str, Any]) -> Drawing:
    """Every activity and every transition (a campaign has no implicit End: `next: end` names an activity)."""
    graph = campaign_graph(data)
    nodes = [_step_node(activity_id, activity) for activity_id, activity in graph.nodes.items()]
    links = [Link(("step", edge.source), _target(edge.target, graph.nodes, implicit_end=False), _outcome(data, edge))
             for edge in graph.edges if edge.source is not None]
    return Drawing(_name(data, "campaign"), (*nodes, *_target_nodes(links, "activity")), tuple(links))


def render(drawing: Drawing, output_format: Format) -> str:
    return RENDERERS[output_format](drawing)


def to_mermaid(drawing: Drawing) -> str:
    """A Mermaid `flowchart TD`: node ids made safe for Mermaid, labels quoted with entity escapes."""
    ids = _node_ids(drawing.nodes, _mermaid_id)
    lines = ["flowchart TD"]
    for node in drawing.nodes:
        opening, closing = _MERMAID_SHAPES[node.shape]
        label = "<br/>".join(_mermaid_text(line) for line in node.lines)
        lines.append(f'    {ids[node.key]}{opening}"{label}"{closing}')
    for link in drawing.links:
        arrow = "-->" if link.label is None else f'-->|"{_mermaid_text(link.label)}"|'
        lines.append(f"    {ids[link.source]} {arrow} {ids[link.target]}")
    missing = [ids[node.key] for node in drawing.nodes if node.shape == "missing"]
    if missing:
        lines.append("    classDef missing stroke-dasharray: 5 5")
        lines.append(f"    class {','.join(missing)} missing")
    return "\n".join(lines) + "\n"


def to_dot(drawing: Drawing) -> str:
    """A Graphviz `digraph`: quoted ids (the step ids themselves where they are safe) and labels."""
    ids = _node_ids(drawing.nodes, _dot_id)
    lines = [f"digraph {_dot_quote(drawing.name)} {{", "  rankdir=TB;", "  node [shape=box];"]
    for node in drawing.nodes:
        label = "\\n".join(_dot_quote(line)[1:-1] for line in node.lines)
        lines.append(f'  {_dot_quote(ids[node.key])} [label="{label}"{_DOT_SHAPES[node.shape]}];')
    for link in drawing.links:
        label = "" if link.label is None else f" [label={_dot_quote(link.label)}]"
        lines.append(f"  {_dot_quote(ids[link.source])} -> {_dot_quote(ids[link.target])}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[Format, Callable[[Drawing], str]] = {"mermaid": to_mermaid, "dot": to_dot}

_MERMAID_SHAPES: dict[Shape, tuple[str, str]] = {"box": ("[", "]"), "terminal": ("([", "])"), "missing": ("[", "]")}
_DOT_SHAPES: dict[Shape, str] = {"box": "", "terminal": ", shape=oval", "missing": ", style=dashed"}
# Mermaid reads `#name;` as an entity and renders labels as HTML: write these characters as entities.
_MERMAID_ESCAPES = str.maketrans({"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"})
_UNSAFE_MERMAID_ID = re.compile(r"[^A-Za-z0-9_]")
_UNSAFE_DOT_ID = re.compile(r'["\\\s]')


def _entry_label(entry: Mapping[str, Any]) -> str:
    """`event: cart_abandoned`, `audience: new-subscribers`, with `on` or the audience of the other entries."""
    kind = _text(entry.get("type")) or "entry"
    subject = _text(entry.get("event")) or _text(entry.get("audience"))
    label = f"{kind}: {subject}" if subject else kind
    extras = [f"{key}: {value}" for key in ("audience", "on")
              if (value := _text(entry.get(key))) is not None and value != subject]
    return label + (f" ({', '.join(extras)})" if extras else "")


def _step_node(step_id: str, step: Any) -> Node:
    """`wait-3d` over `wait: P3D`; an `end` step looks terminal."""
    kind = _text(step.get("type")) if isinstance(step, dict) else None
    if kind is None:
        return Node("step", step_id, (step_id,), "box")
    return Node("step", step_id, (step_id, _detail(kind, step)), "terminal" if kind == END else "box")


def _detail(kind: str, step: Mapping[str, Any]) -> str:
    field = _DETAIL_FIELDS.get(kind)
    value = _text(step.get(field)) if field else None
    if kind == "wait" and value is None and "until" in step:
        value = "until"
    if kind in _WITH_TIMEOUT and (timeout := _text(step.get("timeout"))) is not None:
        value = f"{value} ({timeout})" if value else timeout
    return f"{kind}: {value}" if value else kind


def _target(target: str, nodes: Mapping[str, Any], *, implicit_end: bool) -> NodeKey:
    if target in nodes:
        return ("step", target)
    if implicit_end and target == END:
        return ("end", END)
    return ("missing", target)


def _target_nodes(links: Iterable[Link], what: str) -> list[Node]:
    """The implicit End and the missing targets, in the order transitions first name them."""
    seen: dict[NodeKey, Node] = {}
    for link in links:
        role, name = link.target
        if link.target in seen:
            continue
        if role == "end":
            seen[link.target] = Node("end", END, (END,), "terminal")
        elif role == "missing":
            seen[link.target] = Node("missing", name, (name, f"missing {what}"), "missing")
    end = [node for node in seen.values() if node.role == "end"]
    return [*end, *(node for node in seen.values() if node.role == "missing")]


def _outcome(data: Mapping[str, Any], edge: Edge) -> str:
    """The edge's outcome name: a path or subset name (a split path with its percent), else the field's."""
    path = edge.path
    if len(path) >= 3 and path[-1] == "next" and isinstance(path[-2], int):
        return _path_label(_at(data, path[:-1]), path[-3], path[-2])
    field = path[-2] if isinstance(path[-1], int) else path[-1]  # a fork's `next` list
    return OUTCOME_NAMES.get(str(field), str(field))


def _path_label(item: Any, field: Any, index: int) -> str:
    name = _text(item.get("name")) if isinstance(item, dict) else None
    label = name or f"{field}[{index}]"
    percent = item.get("percent") if isinstance(item, dict) else None
    if isinstance(percent, int | float) and not isinstance(percent, bool):
        label += f" {_number(percent)}%"
    return label


def _at(data: Any, path: JsonPath) -> Any:
    for part in path:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and 0 <= part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


def _name(data: Mapping[str, Any], kind: str) -> str:
    return _text(data.get("id")) or kind


def _text(value: Any) -> str | None:
    """A scalar as a label shows it (a list of scalars joined), None for anything else or an empty text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return _one_line(value) or None
    if isinstance(value, list) and value and all(_text(item) for item in value):
        return ", ".join(str(_text(item)) for item in value)
    return None


def _number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _node_ids(nodes: Iterable[Node], preferred: Callable[[Node], str]) -> dict[NodeKey, str]:
    """A distinct id per node (`_2`, `_3` on a clash), stable for a given document.

    Steps choose first, and among them those whose name is already a safe id, so a valid step id keeps its
    name in DOT whatever an invalid one or the entry and End nodes would become.
    """
    ids: dict[NodeKey, str] = {}
    taken: set[str] = set()
    for node in sorted(nodes, key=lambda n: (n.role != "step", preferred(n) != n.name)):
        base = candidate = preferred(node)
        suffix = 2
        while candidate in taken:
            candidate = f"{base}_{suffix}"
            suffix += 1
        taken.add(candidate)
        ids[node.key] = candidate
    return ids


def _mermaid_id(node: Node) -> str:
    # Prefixed: Mermaid keywords (`end`, `class`, `style`, ...) and `-` in ids would break the chart.
    if node.role == "entry":
        return "entry"
    if node.role == "end":
        return "exit"
    prefix = "m_" if node.role == "missing" else "s_"
    return prefix + _UNSAFE_MERMAID_ID.sub("_", node.name)


def _mermaid_text(text: str) -> str:
    return _one_line(text).translate(_MERMAID_ESCAPES)


def _dot_id(node: Node) -> str:
    # Quotes, backslashes (a trailing one would escape the closing quote) and spaces never reach an id.
    return _UNSAFE_DOT_ID.sub("_", node.name)


def _dot_quote(text: str) -> str:
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
