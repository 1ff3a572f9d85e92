"""JO510-JO514: ids are unique, and tables, links and fields exist with the right cardinality (SPEC §3, §4, §9.1)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from jo_cli.findings import Finding
from jo_cli.graph import campaign_graph
from jo_cli.loader import Document, JsonPath
from jo_cli.project_index import PROFILES, ProjectIndex
from jo_cli.rules.base import RuleContext, rule
from jo_cli.rules.references import CHANNEL_ACTIVITIES, CONTEXT, activities
from jo_cli.suggest import did_you_mean

PROFILE_SCHEMA = """
    {"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": "string"}, "tier": {"type": "string"},
     "timezone": {"type": "string"}, "consent": {"type": "object", "properties": {"email": {"type": "boolean"}}}}}
"""
PURCHASES_SCHEMA = """
    {"type": "object", "properties": {"purchase_id": {"type": "string"}, "profile_id": {"type": "string"},
     "total": {"type": "number"}}}
"""
DATA_CONTEXT = {
    **CONTEXT,
    "jo.yaml": CONTEXT["jo.yaml"] + """
    entities:
      purchases:
        source: data/purchases.csv
        key: purchase_id
        schema: data/purchases.schema.json
        links: {buyer: {to: profiles, on: profile_id, cardinality: many-to-one}}
    """,
    "data/profiles.schema.json": PROFILE_SCHEMA,
    "data/purchases.schema.json": PURCHASES_SCHEMA,
    "data/profiles.csv": "id,email\n",
    "data/purchases.csv": "purchase_id,profile_id,total\n",
}
UNIQUE_KINDS = {"journey": ("journey", "campaign"), "campaign": ("journey", "campaign"),
                "audience": ("audience",), "event": ("event",)}


@rule("JO510", "duplicate-id", "error", example_context={**CONTEXT, "journeys/a-welcome.yaml": (
    "kind: journey\nid: welcome\nentry: {type: event, event: signed_up, next: end}\nsteps: {}")})
def check_unique_ids(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """Two files declare the same id (journeys and campaigns share one namespace).

    The id is what versions, reports and message keys are filed under, so it
    names exactly one file; the finding is on the file that comes later by path.

    Fails:
        kind: journey
        id: welcome
        entry: {type: event, event: signed_up, next: end}
        steps: {}
    Passes:
        kind: journey
        id: welcome-back
        entry: {type: event, event: signed_up, next: end}
        steps: {}
    """
    project = context.project
    if project is None or context.kind not in UNIQUE_KINDS or not isinstance(doc.data, dict):
        return
    ident = doc.data.get("id")
    if not isinstance(ident, str):
        return
    owners = sorted((item.path, kind, item.doc) for kind in UNIQUE_KINDS[context.kind]
                    for item in project.documents.get(kind, [])
                    if isinstance(item.doc.data, dict) and item.doc.data.get("id") == ident)
    if len(owners) < 2 or owners[0][2] is doc:
        return
    first, kind, _ = owners[0]
    root = project.root.resolve()
    where = first.relative_to(root).as_posix() if first.is_relative_to(root) else first.as_posix()
    yield check_unique_ids.finding(doc, doc.locate(("id",)), f"id `{ident}` is already used by {where} ({kind})")


@rule("JO511", "unknown-table", "error", example_path="campaigns/example.yaml", example_context=DATA_CONTEXT)
def check_tables(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A campaign builds its audience on a table that is neither `profiles` nor an entity of jo.yaml.

    Fails:
        kind: campaign
        id: buyers
        activities:
          all: {type: build-audience, dimension: purchase, where: 'total > 100', next: done}
          done: {type: end}
    Passes:
        kind: campaign
        id: buyers
        activities:
          all: {type: build-audience, dimension: purchases, where: 'total > 100', next: done}
          done: {type: end}
    """
    project = context.project
    if project is None or context.kind not in ("campaign", "project"):
        return
    named: list[tuple[JsonPath, Any]] = []
    if context.kind == "campaign":
        named = [((*path, "dimension"), node.get("dimension")) for path, node in activities(doc)
                 if node.get("type") == "build-audience"]
    else:
        for name, entity in project.section("entities").items():
            links = entity.get("links") if isinstance(entity, dict) else None
            named.extend((("entities", name, "links", link_name, "to"), link.get("to"))
                         for link_name, link in (links or {}).items() if isinstance(links, dict)
                         and isinstance(link, dict))
    for path, table in named:
        if isinstance(table, str) and table not in project.tables:
            yield check_tables.finding(doc, doc.locate(path),
                                       f"unknown table `{table}`{did_you_mean(table, project.tables)}",
                                       hint=f"tables: {', '.join(sorted(project.tables))} (jo.yaml `entities`)")


@rule("JO512", "unknown-link", "error", example_path="campaigns/example.yaml", example_context=DATA_CONTEXT)
def check_links(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A `change-dimension` or a channel activity's `per` names a link the current table does not have.

    Links come from jo.yaml `entities.*.links`, and each has a reverse on the
    table it points to, named after the entity (or `reverse:`).

    Fails:
        kind: campaign
        id: buyers
        activities:
          big: {type: build-audience, dimension: purchases, where: 'total > 100', next: who}
          who: {type: change-dimension, to: profiles, next: done}
          done: {type: end}
    Passes:
        kind: campaign
        id: buyers
        activities:
          big: {type: build-audience, dimension: purchases, where: 'total > 100', next: who}
          who: {type: change-dimension, to: buyer, next: done}
          done: {type: end}
    """
    project = context.project
    if project is None or context.kind != "campaign":
        return
    for path, node, table in activities_with_table(doc, project):
        field = "to" if node.get("type") == "change-dimension" else "per"
        name = node.get(field)
        if field == "per" and (node.get("type") not in CHANNEL_ACTIVITIES or name in (None, "profile")):
            continue
        known = project.links.get(table, {})
        if isinstance(name, str) and name not in known:
            choices = ", ".join(sorted(known)) or "none"
            yield check_links.finding(doc, doc.locate((*path, field)),
                                      f"`{table}` has no link `{name}`{did_you_mean(name, known)}",
                                      hint=f"links of `{table}`: {choices}")


@rule("JO513", "link-cardinality", "error", example_path="campaigns/example.yaml", example_context=DATA_CONTEXT)
def check_per_cardinality(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """A `per: <link>` needs a to-many link, and rows of another table need one many-to-one link to profiles.

    `per` sends one message per linked row (AJO multi-level sending), which
    only means something when a row has many; a message goes to the profile
    that the row's only many-to-one link to `profiles` names (SPEC §9.1).

    Fails:
        kind: campaign
        id: buyers
        activities:
          big: {type: build-audience, dimension: purchases, where: 'total > 100', next: mail}
          mail: {type: email, per: buyer, content: {subject: Thanks, body: Thank you}}
    Passes:
        kind: campaign
        id: buyers
        activities:
          fans: {type: build-audience, dimension: profiles, where: 'true', next: mail}
          mail: {type: email, per: purchases, content: {subject: Thanks, body: Thank you}}
    """
    project = context.project
    if project is None or context.kind != "campaign":
        return
    for path, node, table in activities_with_table(doc, project):
        if node.get("type") not in CHANNEL_ACTIVITIES:
            continue
        name = node.get("per")
        # `per: profile` is the keyword (one message per profile), even where a link is also named `profile`.
        link = project.links.get(table, {}).get(name) if isinstance(name, str) and name != "profile" else None
        if link is not None and link.cardinality != "one-to-many":
            yield check_per_cardinality.finding(
                doc, doc.locate((*path, "per")),
                f"`per: {name}` follows a {link.cardinality} link: each row has at most one, so drop `per`")
        to_profiles = [n for n, lk in project.links.get(table, {}).items()
                       if lk.target == PROFILES and lk.cardinality == "many-to-one"]
        if table != PROFILES and len(to_profiles) != 1:
            yield check_per_cardinality.finding(
                doc, doc.locate(path, key=True),
                f"rows of `{table}` need exactly one many-to-one link to `profiles` to be sent to "
                f"(found {len(to_profiles)})", hint="add a `change-dimension` to profiles before this activity")


def activities_with_table(doc: Document, project: ProjectIndex) -> Iterator[tuple[JsonPath, dict[str, Any], str]]:
    """Each activity with the table its input rows come from, following transitions from each build-audience."""
    graph = campaign_graph(doc.data if isinstance(doc.data, dict) else {})
    queue = deque((activity, node.get("dimension")) for activity, node in graph.nodes.items()
                  if isinstance(node, dict) and node.get("type") == "build-audience"
                  and node.get("dimension") in project.tables)
    seen: set[tuple[str, Any]] = set()
    while queue:
        activity, table = queue.popleft()
        node = graph.nodes[activity]
        if (activity, table) in seen or not isinstance(node, dict) or not isinstance(table, str):
            continue
        seen.add((activity, table))
        yield ("activities", activity), node, table
        if node.get("type") == "change-dimension":
            link = project.links.get(table, {}).get(str(node.get("to")))
            if link is None:
                continue
            table = link.target
        queue.extend((edge.target, table) for edge in graph.out[activity])


@rule("JO514", "unknown-field", "error", example_path="jo.yaml", example_context=DATA_CONTEXT)
def check_project_fields(doc: Document, context: RuleContext) -> Iterator[Finding]:
    """The project file names a field its data schema lacks (identity, zone, address, consent, key, link column).

    Fails:
        kind: project
        name: shop
        timezone: Europe/Paris
        profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: user_id}
    Passes:
        kind: project
        name: shop
        timezone: Europe/Paris
        profiles: {source: data/profiles.csv, schema: data/profiles.schema.json, identity: id}
    """
    project = context.project
    if project is None or context.kind != "project" or not isinstance(doc.data, dict):
        return
    for path, table, name in _project_fields(doc.data):
        fields = project.table_fields(table)
        if fields is not None and isinstance(name, str) and name not in fields:
            yield check_project_fields.finding(doc, doc.locate(path),
                                               f"`{table}` has no field `{name}`{did_you_mean(name, fields)}",
                                               hint=f"fields come from the `{table}` data schema")


def _project_fields(data: dict[str, Any]) -> Iterator[tuple[JsonPath, str, Any]]:
    profiles: dict[str, Any] = data["profiles"] if isinstance(data.get("profiles"), dict) else {}
    for field in ("identity", "timezone_field"):
        yield ("profiles", field), PROFILES, profiles.get(field)
    channels = data.get("channels")
    for name, channel in (channels or {}).items() if isinstance(channels, dict) else ():
        for field in ("address", "consent"):
            if isinstance(channel, dict):
                yield ("channels", name, field), PROFILES, channel.get(field)
    entities = data.get("entities")
    for name, entity in (entities or {}).items() if isinstance(entities, dict) else ():
        if not isinstance(entity, dict):
            continue
        yield ("entities", name, "key"), name, entity.get("key")
        links = entity.get("links")
        for link_name, link in (links or {}).items() if isinstance(links, dict) else ():
            if isinstance(link, dict):
                # A many-to-one or one-to-one link joins on this entity's column; one-to-many on the target's.
                owner = link.get("to") if link.get("cardinality") == "one-to-many" else name
                if isinstance(owner, str):
                    yield ("entities", name, "links", link_name, "on"), owner, link.get("on")
