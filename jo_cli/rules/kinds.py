"""JO206-JO207: every file in a jo folder says which kind of document it is."""

from __future__ import annotations

from collections.abc import Iterator

from jo_cli.findings import Finding
from jo_cli.loader import Document
from jo_cli.rules.base import RuleContext, rule
from jo_cli.schema.bundled import KINDS
from jo_cli.suggest import did_you_mean


@rule("JO206", "kind", "error")
def check_kind(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A file in a jo folder (or jo.yaml) has no `kind`, or one jo does not know.

    Files under journeys/, campaigns/, audiences/ and events/ and the project
    file are jo documents; elsewhere, YAML without a jo kind is skipped.

    Fails:
        kind: jurney
        id: welcome
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        steps: {}
    """
    if context.kind in KINDS or context.expected_kind is None:
        return
    if not isinstance(doc.data, dict):
        yield check_kind.finding(doc, doc.locate(()), f"expected a `kind: {context.expected_kind}` document")
    elif "kind" not in doc.data:
        yield check_kind.finding(doc, doc.locate(()), f"missing `kind` (expected `kind: {context.expected_kind}`)")
    else:
        value = doc.data["kind"]
        suggestion = did_you_mean(str(value), KINDS) or f"; expected `{context.expected_kind}`"
        yield check_kind.finding(doc, doc.locate(("kind",)), f"unknown kind `{value}`{suggestion}",
                           hint=f"jo kinds: {', '.join(KINDS)}")


@rule("JO207", "kind-folder", "warning")
def check_kind_folder(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A document sits in the folder of another kind (a campaign under journeys/).

    jo finds documents by kind, not folder, so this still works; but the
    project layout (SPEC §3) keeps each kind in its own folder.

    Fails:
        kind: campaign
        id: spring-sale
        activities: {}
    Passes:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        steps: {}
    """
    expected = context.expected_kind
    if context.kind in KINDS and expected is not None and context.kind != expected:
        place = "jo.yaml" if expected == "project" else f"the {expected} folder"
        yield check_kind_folder.finding(doc, doc.locate(("kind",)),
                                        f"`kind: {context.kind}` in {place} (expected `kind: {expected}`)")

