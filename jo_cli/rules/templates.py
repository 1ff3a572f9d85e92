"""JO460-JO464: templates parse, load no other template, read only names and fields that exist (SPEC §7.5, §10.3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from jo_cli.findings import Finding
from jo_cli.loader import Document, JsonPath, Span
from jo_cli.project import escapes
from jo_cli.project_index import PROFILES, ProjectIndex, dotted_fields
from jo_cli.rules.base import Rule, RuleContext, rule
from jo_cli.rules.references import CHANNEL_ACTIVITIES, activities, entries_and_steps
from jo_cli.rules.references_data import DATA_CONTEXT
from jo_cli.rules.references_files import shown_path
from jo_cli.rules.scalars import locate_in_value
from jo_cli.suggest import did_you_mean
from jo_cli.templates import LoadingTag, Reference, TemplateScan, scan_file, scan_source, unknown_field

INLINE_FIELDS = ("subject", "title", "body", "text")
JOURNEY_FIELDS = frozenset({"id", "version", "step", "entered_at"})
# What a render puts in scope (§7.5); campaign templates see the row and its profile (§9.1).
JOURNEY_NAMES = ("profile", "event", "journey", "actions")
CAMPAIGN_NAMES = ("profile", "row")
# Built-in reaction events (§5.3).
BUILTIN_EVENTS = {"message_opened": {"profile", "key"}, "message_clicked": {"profile", "key"}}

TEMPLATE_CONTEXT = {
    **DATA_CONTEXT,
    "data/profiles.schema.json": """
        {"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": "string"},
         "first_name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
         "timezone": {"type": "string"}, "consent": {"type": "object", "properties": {"email": {"type": "boolean"}}}}}
    """,
    "events/cart_abandoned.yaml": (
        "kind: event\nid: cart_abandoned\nkey: id\n"
        "schema: {type: object, properties: {id: {type: string}, cart_total: {type: number}}}"
    ),
    "templates/welcome.html": "<p>Welcome {{ profile.first_name }}</p>",
    # This profile schema has no `tier`: the audience reads a field it does have.
    "audiences/gold.yaml": "kind: audience\nid: gold\nwhere: profile.email is not null",
}


@dataclass(frozen=True, slots=True)
class _Issue:
    code: str
    span: Span
    message: str
    hint: str | None = None
    path: str | None = None  # a template file's, when the finding is in it rather than in the document


@rule("JO460", "template-syntax", "error", example_context=TEMPLATE_CONTEXT)
def check_template_syntax(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A message template does not parse: a Jinja syntax error, an unknown filter or test, an unreadable file.

    Inline content (`subject`, `body`, `text`, `title`) and `body_file`
    templates are parsed with Jinja2's sandbox, as a send would; a template
    that cannot load excludes every message (`render_error`). For a
    `body_file`, the message names the template's own line.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Hi {{ profile.first_name }", body_file: templates/welcome.html}
            next: end
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Hi {{ profile.first_name }}", body_file: templates/welcome.html}
            next: end
    """
    yield from _findings(check_template_syntax, doc, context)


@rule("JO461", "unknown-template-field", "error", example_context=TEMPLATE_CONTEXT)
def check_template_fields(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A template reads a field that the profile schema, the events of the journey or `journey` do not have.

    `profile.*` must be a field of the profile data schema (a nested object
    such as `profile.consent` counts); `event.*` a payload field of the
    journey's entry event or of one of its wait-event steps; `journey.*` one
    of `id`, `version`, `step`, `entered_at`. Undefined names are render
    errors (§7.5), so a typo would exclude every message.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Hi {{ profile.frist_name }}", body: Hello}
            next: end
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Hi {{ profile.first_name }}", body: Hello}
            next: end
    """
    yield from _findings(check_template_fields, doc, context)


@rule("JO462", "unknown-template-name", "error", example_context=TEMPLATE_CONTEXT)
def check_template_names(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A template reads a name that is not in scope.

    Journey templates see `profile`, `event`, `journey` and `actions`;
    campaign templates see `row` and `profile`; besides those, only names
    the template binds itself (`{% set %}`, `{% for %}`, macros) and Jinja's
    globals (`range`, `namespace`, ...).

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Hi {{ first_name }}", body: Hello}
            next: end
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Hi {{ profile.first_name }}", body: Hello}
            next: end
    """
    yield from _findings(check_template_names, doc, context)


@rule("JO463", "template-without-event", "error", example_context=TEMPLATE_CONTEXT)
def check_template_event(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A template reads `event` where no event exists: a journey without event entry or wait-event, or a campaign.

    `event` is the payload of the event that entered the profile or that a
    wait-event step received; an audience or audience-qualification journey
    without wait-event steps has none, and every render would fail.

    Fails:
        kind: journey
        id: welcome
        entry: {type: audience, audience: gold, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Your cart: {{ event.cart_total }} EUR", body: Hello}
            next: end
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: cart_abandoned, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: "Your cart: {{ event.cart_total }} EUR", body: Hello}
            next: end
    """
    yield from _findings(check_template_event, doc, context)


@rule("JO464", "template-loads-template", "error", example_context=TEMPLATE_CONTEXT)
def check_template_loading(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A template uses `{% include %}`, `{% extends %}`, `{% import %}` or `{% from ... import %}`.

    Templates render one by one in Jinja's sandbox, with no loader: a tag
    that loads another template fails every render (`render_error`), so jo
    refuses it here. The finding is at the tag: in the template file for a
    `body_file`, in the YAML value for inline content. Repeat shared parts,
    or reuse them inside one template with a `{% macro %}`.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: Hi, body: '<p>Hi</p>{% include "footer.html" %}'}
            next: end
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: hello}
        steps:
          hello:
            type: message
            channel: email
            content: {subject: Hi, body: '<p>Hi</p><p>Unsubscribe any time.</p>'}
            next: end
    """
    yield from _findings(check_template_loading, doc, context)


def _findings(this: Rule, doc: Document, context: RuleContext) -> Iterator[Finding]:
    for issue in _issues(doc, context):
        if issue.code == this.code:
            finding = this.finding(doc, issue.span, issue.message, hint=issue.hint)
            yield replace(finding, path=issue.path) if issue.path is not None else finding


# The four rules run one after the other on a document: scan it once.
_LAST: tuple[Document, ProjectIndex, list[_Issue]] | None = None


def _issues(doc: Document, context: RuleContext) -> list[_Issue]:
    global _LAST
    project = context.project
    if project is None or context.kind not in ("journey", "campaign"):
        return []
    if _LAST is not None and _LAST[0] is doc and _LAST[1] is project:
        return _LAST[2]
    checker = _Checker(doc, context.kind, project)
    for path, channel, content in _contents(doc, context.kind):
        checker.check_content(path, channel, content)
    _LAST = (doc, project, checker.issues)
    return checker.issues


def _contents(doc: Document, kind: str | None) -> Iterator[tuple[JsonPath, str | None, dict[str, Any]]]:
    """Each message step or channel activity's `content`, with its path and channel."""
    if kind == "journey":
        for path, step in entries_and_steps(doc):
            if step.get("type") == "message" and isinstance(step.get("content"), dict):
                channel = step.get("channel")
                yield (*path, "content"), channel if isinstance(channel, str) else None, step["content"]
    else:
        for path, activity in activities(doc):
            if activity.get("type") in CHANNEL_ACTIVITIES and isinstance(activity.get("content"), dict):
                yield (*path, "content"), str(activity["type"]), activity["content"]


class _Checker:
    """The findings of one document's templates."""

    def __init__(self, doc: Document, kind: str | None, project: ProjectIndex) -> None:
        self.doc = doc
        self.kind = kind
        self.project = project
        self.issues: list[_Issue] = []
        self._seen: set[tuple[str, Span, str, str | None]] = set()
        self._events: tuple[list[str], set[str] | None] | None = None

    def check_content(self, path: JsonPath, channel: str | None, content: dict[str, Any]) -> None:
        for field in INLINE_FIELDS:
            source = content.get(field)
            if isinstance(source, str):
                html = channel == "email" and field == "body"
                inline = scan_source(source, html=html)
                self._check_scan(inline, (*path, field), None)
                for tag in inline.loading_tags:
                    span = locate_in_value(self.doc, self.doc.locate((*path, field)), source, tag.offset, tag.end)
                    self._loading_tag(tag, span, None)
        name = content.get("body_file")
        scan = self._file_scan(name) if isinstance(name, str) else None
        if scan is not None:
            self._check_scan(scan, (*path, "body_file"), str(name))
            self._file_loading_tags(scan, str(name))

    def _file_loading_tags(self, scan: TemplateScan, name: str) -> None:
        """JO464 in the template file itself, once per run however many steps send it."""
        reported: set[str] = self.project.memo.setdefault("JO464.files", set())
        if not scan.loading_tags or name in reported:
            return
        reported.add(name)
        shown = shown_path(self.project, self.doc, name)
        for tag in scan.loading_tags:
            self._loading_tag(tag, Span(tag.line, tag.col, tag.end_line, tag.end_col), shown)

    def _loading_tag(self, tag: LoadingTag, span: Span, path: str | None) -> None:
        what = "{% from ... import %}" if tag.tag == "from" else f"{{% {tag.tag} %}}"
        self._add("JO464", span, f"`{what}` cannot render: jo renders each template on its own, in a sandbox "
                  "with no other templates to load", hint="copy the shared part into this template, or define "
                  "a `{% macro %}` in it and call that", path=path)

    def _file_scan(self, name: str) -> TemplateScan | None:
        """The scan of a body_file inside the project, once per run (many journeys share a template)."""
        scans: dict[str, TemplateScan | None] = self.project.memo.setdefault("JO460.files", {})
        if name not in scans:
            file = self.project.root / name
            inside = escapes(self.project.root, name) is None  # else JO505; a missing file is JO504
            scans[name] = scan_file(file, html=True) if inside and file.is_file() else None
        return scans[name]

    def _check_scan(self, scan: TemplateScan, path: JsonPath, file: str | None) -> None:
        def span(line: int) -> Span:
            return self.doc.locate(path) if file is not None else _inline_span(self.doc, path, line)

        def where(line: int) -> str:
            return f"{file}:{line}: " if file is not None else ""

        if scan.error is not None:
            self._add("JO460", span(scan.error.line), f"{where(scan.error.line)}template error: {scan.error.message}")
        for ref in scan.references:
            self._check_reference(ref, span(ref.line), where(ref.line))

    def _check_reference(self, ref: Reference, span: Span, where: str) -> None:
        names = JOURNEY_NAMES if self.kind == "journey" else CAMPAIGN_NAMES
        shown = ".".join((ref.root, *ref.parts))
        if ref.root == "event" and (self.kind != "journey" or not self.events[0]):
            why = "campaigns have no event" if self.kind != "journey" else \
                "this journey has no event entry and no wait-event step"
            hint = "campaign templates read `row` and `profile`" if self.kind != "journey" else \
                "enter the journey on an event, or wait for one with a wait-event step before this message"
            self._add("JO463", span, f"{where}`{shown}` reads the event, but {why}", hint=hint)
        elif ref.root not in names:
            self._unknown_name(ref, span, where, names)
        elif ref.root == "profile":
            self._check_fields(ref, span, where, self.profile_fields, "the profile schema")
        elif ref.root == "event":
            events, fields = self.events
            self._check_fields(ref, span, where, fields, f"the payload of {_and(events)}")
        elif ref.root == "journey":
            self._check_fields(ref, span, where, set(JOURNEY_FIELDS), "`journey`")
        # `row.*` and `actions.*` are not checked yet.

    def _unknown_name(self, ref: Reference, span: Span, where: str, names: tuple[str, ...]) -> None:
        suggestion = did_you_mean(ref.root, names)
        profile = self.profile_fields
        if not suggestion and profile is not None and ref.root in profile:
            suggestion = f"; did you mean `profile.{ref.root}`?"
        scope = "campaign" if self.kind == "campaign" else "journey"
        self._add("JO462", span, f"{where}unknown name `{ref.root}` in a template{suggestion}",
                  hint=f"{scope} templates see {_and(names)}, and the names they set themselves")

    def _check_fields(self, ref: Reference, span: Span, where: str, fields: set[str] | None, source: str) -> None:
        if fields is None:
            return
        missing = unknown_field(ref.parts, fields, called=ref.called)
        if missing is not None:
            name, level = missing
            self._add("JO461", span,
                      f"{where}`{ref.root}.{name}`: {source} has no field `{name}`{did_you_mean(name, level)}",
                      hint=_known(level))

    @property
    def profile_fields(self) -> set[str] | None:
        memo = self.project.memo
        if "JO461.profile" not in memo:
            memo["JO461.profile"] = self.project.table_fields(PROFILES)
        fields = memo["JO461.profile"]
        return fields if isinstance(fields, set) else None

    @property
    def events(self) -> tuple[list[str], set[str] | None]:
        """The events a journey's templates may read, and the union of their payload fields (None: unknown)."""
        if self._events is None:
            names: list[str] = []
            for _, node in entries_and_steps(self.doc):
                if node.get("type") in ("event", "business-event", "wait-event") and isinstance(node.get("event"), str):
                    names.append(node["event"])
            fields: set[str] | None = set()
            for name in dict.fromkeys(names):
                payload = _payload_fields(self.project, name)
                fields = None if payload is None or fields is None else fields | payload
            self._events = (list(dict.fromkeys(names)), fields)
        return self._events

    def _add(self, code: str, span: Span, message: str, *, hint: str | None = None, path: str | None = None) -> None:
        key = (code, span, message, path)
        if key not in self._seen:
            self._seen.add(key)
            self.issues.append(_Issue(code, span, message, hint, path))


def _payload_fields(project: ProjectIndex, name: str) -> set[str] | None:
    if name in BUILTIN_EVENTS:
        return BUILTIN_EVENTS[name]
    item = project.ids("event").get(name)
    data = item.doc.data if item is not None else None
    schema = data.get("schema") if isinstance(data, dict) else None
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return None  # JO502 or the schema check reports it; nothing to check against
    return dotted_fields(schema)


def _inline_span(doc: Document, path: JsonPath, line: int) -> Span:
    """Where template line `line` of an inline value stands: its own line in a literal block, else the value."""
    span = doc.locate(path)
    if not doc.line_text(span.line)[span.col - 1:].startswith("|"):
        return span  # folded and flow scalars join their lines: the value is as close as it gets
    lines = doc.text.splitlines()
    body = [text for text in lines[span.line:] if text.strip()]
    if not body or span.line + line > len(lines):
        return span
    indent = len(body[0]) - len(body[0].lstrip(" "))
    target = span.line + line
    return Span(target, indent + 1, target, max(len(lines[target - 1]), indent) + 1)


def _known(names: set[str], limit: int = 12) -> str | None:
    shown = sorted(names)
    if not shown:
        return None
    return "known: " + ", ".join(shown[:limit]) + (f", and {len(shown) - limit} more" if len(shown) > limit else "")


def _and(names: Any) -> str:
    quoted = [f"`{name}`" for name in names]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1] if len(quoted) > 1 else "".join(quoted)
