"""Hypothesis strategies for the engine's property tests: random journeys, profiles, events and message policies.

A generated journey is a valid document (SPEC §6.1, §6.5): steps `s0`, `s1`, ... in
topological order, every transition pointing to a later step or to `end`, every step
the target of an earlier step or of the entry, a `reaction` only as the `next` of the
`message` directly before it. A `Scenario` holds everything one simulation needs and
builds fresh engines from it (fresh profiles, events and policy each time), so two
simulations of one scenario share nothing but what the test hands them (a store).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import strategies as st

from jo_cli.data.events import Event
from jo_cli.engine.memory import MemoryStore
from jo_cli.engine.model import Journey
from jo_cli.engine.ports import Decision, MessageRequest
from tests.engine.helpers import Sim, journey, simulate

UTC = dt.UTC
ORIGIN = dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Paris, the helpers' default origin
ORIGIN_TEXT = "2026-12-01T08:00:00"
ZONES = ("Asia/Tokyo", "America/Los_Angeles", "Europe/Paris", "Australia/Sydney")
ENTRY_EVENT = "signup"
WAIT_EVENTS = ("order", "visit")
REACTIONS = ("message_opened", "message_clicked")
BUSINESS_EVENT = "promo"  # an event without a profile (§6.2 business-event)
EVENT_WEIGHTS = (*(ENTRY_EVENT,) * 3, *WAIT_EVENTS * 2, *REACTIONS * 2, BUSINESS_EVENT, "unknown_evt")  # by frequency
GHOST = "ghost"  # an identity that is not in the profile source
AUDIENCES: dict[str, str] = {"all": "true", "gold": 'profile.tier == "gold"', "scored": "profile.score >= 30"}
DURATIONS = ("PT1H", "PT2H", "PT6H", "PT12H", "P1D", "P2D", "P3D", "P5D", "P7D", "P10D")
REACTION_TIMEOUTS = ("PT40S", "PT1H", "PT12H", "P1D", "P3D", "P10D")
CONDITIONS = (
    "profile.score > 50",
    "profile.score <= 20",
    'profile.tier == "gold"',
    'profile.tier != "silver"',
    "profile.unsubscribed",
    "profile.score is null",
    "event.amount >= 10",
    'inAudience("gold")',
    "dayOfWeek(now()) <= 5",
    'now() < datetime("2026-12-10T00:00:00Z")',
    "toInteger(profile.name) > 1",  # an evaluation error for names that are not numbers
    "toInteger(profile.name) > 20",
)
UNTILS = (
    'nowWithDelta(2, "days")',
    'setHours(nowWithDelta(1, "days"), 10)',
    "setHours(now(), 9)",  # sometimes in the past: continue at once
    "setHours(now(), 10)",  # instances parked until 10:00 wake when others arrive at 10:00 and go on at once
    'now() - duration("PT1H")',
    "profile.visit",  # null for some profiles: an error
    "toDateOnly(now())",  # a date: its midnight, in the past
)
EXIT_WHEN = (
    "profile.unsubscribed == true",
    "profile.score > 90",
    'now() > datetime("2026-12-20T00:00:00Z")',
    "toInteger(profile.name) > 5",  # an evaluation error for names that are not numbers
)
ENTRY_WHERE = ("event.amount >= 5", "event.amount < 40", "event.amount is not null")
WAIT_WHERE = ("event.amount >= 10", "event.amount is not null")
CRONS = ("0 9 * * *", "0 */12 * * *", "30 7 * * MON-FRI", "0 18 * * SAT,SUN", "0 9 */3 * *")
NAMES = ("ada", "bob", "7", "12", "", None)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ENTRY_TYPES = ("audience", "event", "event", "business-event")
BASE_TYPES = ("condition", "split", "time-condition", "date-condition", "profile-cap", "wait", "wait-event",
              "message", "end")
EXTRA_TYPES = ("action", "update-profile", "jump")


def iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- message policies


@dataclass(frozen=True)
class MixPolicy:
    """A deterministic, stateless message policy: each decision is a hash of the request.

    Relative weights of `sent`, `excluded` (no_consent), `queued` (quiet hours, released 1-12 h later), `exit`
    (quiet hours with `handling: discard`) and `render` (a `render_error` exclusion, to `on_error` when the step
    has one). A released message is sent or excluded, never queued again; a transactional one is always sent.
    """

    sent: int = 100
    excluded: int = 0
    queued: int = 0
    exit: int = 0
    render: int = 0

    def decide(self, request: MessageRequest) -> Decision:
        digest = hashlib.sha256(f"{request.key}|{request.at.isoformat()}|{request.released}".encode()).digest()
        roll = int.from_bytes(digest[:4], "big") % max(1, self.sent + self.excluded + self.queued + self.exit
                                                        + self.render)
        message = {"key": request.key, "kind": "journey", "id": request.journey, "version": request.version,
                   "step": request.step.id, "profile": request.instance.profile, "channel": request.step.channel,
                   "at": request.at}
        if request.step.category == "transactional":
            return Decision("sent", message=message)
        outcome = "sent"
        for name, weight in (("sent", self.sent), ("excluded", self.excluded), ("queued", self.queued),
                             ("exit", self.exit), ("render", self.render)):
            if roll < weight:
                outcome = name
                break
            roll -= weight
        if outcome == "queued" and request.released:
            outcome = "sent"
        if outcome == "excluded":
            return Decision("excluded", reason="no_consent")
        if outcome == "queued":
            hours = 1 + digest[5] % 12
            return Decision("queued", reason="quiet_hours", release_at=request.at + dt.timedelta(hours=hours))
        if outcome == "exit":
            return Decision("excluded", reason="quiet_hours", exit="quiet_hours")
        if outcome == "render":
            return Decision("excluded", reason="render_error", on_error=True)
        return Decision("sent", message=message)


_mixed = st.builds(MixPolicy, sent=st.integers(1, 10), excluded=st.integers(0, 3), queued=st.integers(0, 4),
                   exit=st.integers(0, 2), render=st.integers(0, 2))
policies = st.one_of(st.just(MixPolicy()), _mixed, _mixed)  # a third send everything, two thirds mix outcomes


# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class EventSpec:
    name: str
    at: dt.datetime
    profile: str | None
    amount: int | None

    def build(self, line: int) -> Event:
        if self.name == BUSINESS_EVENT:
            return Event(line=line, id=None, name=self.name, at=self.at, payload={"code": self.amount}, profile=None)
        if self.name.startswith("message_"):
            payload: dict[str, Any] = {"profile": self.profile}
        else:
            payload = {"customer_id": self.profile}
            if self.amount is not None:
                payload["amount"] = self.amount
        return Event(line=line, id=None, name=self.name, at=self.at, payload=payload, profile=self.profile)


@dataclass(frozen=True)
class Scenario:
    """Journey documents, profiles, zones, events and a message policy; `sim()` builds a fresh engine."""

    documents: tuple[dict[str, Any], ...]
    profiles: Mapping[str, dict[str, Any]]
    zones: Mapping[str, str]
    events: tuple[EventSpec, ...]
    horizon: dt.datetime
    policy: MixPolicy = field(default_factory=MixPolicy)
    versions: tuple[int | None, ...] = ()  # each document's version (none given: all None)

    def journeys(self) -> list[Journey]:
        """The documents compiled as `jo` reads them (through YAML, as the helpers do)."""
        versions = self.versions or (None,) * len(self.documents)
        return [journey(yaml.safe_dump(copy.deepcopy(doc), sort_keys=False), version=version)
                for doc, version in zip(self.documents, versions, strict=True)]

    def sim(self, store: MemoryStore | None = None) -> Sim:
        """A fresh engine over fresh copies of the profiles (events are not pushed)."""
        return simulate(self.journeys(), copy.deepcopy(dict(self.profiles)), zones=dict(self.zones),
                        audiences=AUDIENCES, origin=ORIGIN_TEXT, policy=self.policy, store=store)

    def built_events(self) -> list[Event]:
        return [spec.build(line) for line, spec in enumerate(self.events, start=1)]

    def describe(self) -> str:
        """The scenario as text, for a failing example's report."""
        docs = "\n---\n".join(yaml.safe_dump(doc, sort_keys=False) for doc in self.documents)
        events = "\n".join(f"  {iso(e.at)} {e.name} {e.profile} amount={e.amount}" for e in self.events)
        return (f"{docs}\nprofiles: {dict(self.profiles)}\nzones: {dict(self.zones)}\npolicy: {self.policy}\n"
                f"horizon: {iso(self.horizon)}\nevents:\n{events}")


@st.composite
def profile_rows(draw: st.DrawFn, *, min_size: int = 1, max_size: int = 30) -> tuple[dict[str, dict[str, Any]],
                                                                                    dict[str, str]]:
    """Profiles p1..pN with a name (sometimes not a number), score, tier, unsubscribed and visit; some zones."""
    count = draw(st.integers(min_size, max_size))
    rows: dict[str, dict[str, Any]] = {}
    zones: dict[str, str] = {}
    for index in range(1, count + 1):
        pid = f"p{index}"
        visit_hours = draw(st.none() | st.integers(-5 * 24, 20 * 24))
        rows[pid] = {
            "id": pid,
            "name": draw(st.sampled_from(NAMES)),
            "score": draw(st.none() | st.integers(0, 100)),
            "tier": draw(st.sampled_from(("gold", "silver", None))),
            "unsubscribed": draw(st.sampled_from((False, False, True, None))),
            "visit": None if visit_hours is None else ORIGIN + dt.timedelta(hours=visit_hours),
        }
        zone = draw(st.none() | st.sampled_from(ZONES))
        if zone is not None:
            zones[pid] = zone
    return rows, zones


@st.composite
def event_specs(draw: st.DrawFn, profiles: Sequence[str], *, max_size: int = 40, days: int = 30,
                listened: Sequence[str] = ()) -> tuple[EventSpec, ...]:
    """Events over `days` days from the origin, on whole or half hours (so they meet fires and wake-ups): loose
    ones for any profile or an unknown identity, and bursts (one profile's events a few hours apart, often
    starting with the entry event) so that waits and reactions find their events. Names in `listened` (those
    the journeys wait for) are drawn more often."""
    names = st.sampled_from((*EVENT_WEIGHTS, *listened * 4))
    anyone = st.sampled_from([*profiles, GHOST]) if profiles else st.just(GHOST)
    who = st.one_of(st.sampled_from(profiles[:3]), anyone) if profiles else anyone
    hour = st.builds(lambda hours, half: ORIGIN + dt.timedelta(hours=hours, minutes=30 * half),
                     st.integers(-3, days * 24), st.sampled_from((0, 0, 0, 1)))
    amount = st.none() | st.integers(0, 50)
    specs: list[EventSpec] = []
    for _ in range(draw(st.integers(0, max_size // 4))):
        name = draw(names)
        specs.append(EventSpec(name, draw(hour), None if name == BUSINESS_EVENT else draw(who), draw(amount)))
    for _ in range(draw(st.integers(0, max_size // 4))):
        profile, when = draw(who), draw(hour)
        burst = [ENTRY_EVENT] if draw(st.booleans()) else []
        burst += draw(st.lists(names, min_size=1, max_size=3))
        for name in burst:
            specs.append(EventSpec(name, when, None if name == BUSINESS_EVENT else profile, draw(amount)))
            when += dt.timedelta(hours=draw(st.sampled_from((0, 1, 2, 6, 24, 48))))
    return tuple(draw(st.permutations(specs)))  # push order is not time order


# ---------------------------------------------------------------- journeys


@dataclass
class _Slot:
    """A transition of the document not yet pointed anywhere: `owner` is its step's index (-1: the entry)."""

    owner: int
    assign: Callable[[str], None]


def _setter(target: dict[str, Any], key: str) -> Callable[[str], None]:
    def assign(value: str) -> None:
        target[key] = value

    return assign


def _percents(draw: st.DrawFn, count: int) -> list[int | float]:
    """`count` percents above 0 with at most two decimals, summing to exactly 100."""
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=count - 1, max_size=count - 1, unique=True)))
    bounds = [0, *cuts, 10_000]
    values: list[int | float] = []
    for low, high in itertools.pairwise(bounds):
        basis = high - low
        values.append(basis // 100 if basis % 100 == 0 else round(basis / 100, 2))
    return values


def _clock(draw: st.DrawFn) -> str:
    return f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from((0, 15, 30, 45))):02d}"


@st.composite
def journey_document(draw: st.DrawFn, *, journey_id: str = "j", entry_types: Sequence[str] = ENTRY_TYPES,
                     step_types: Sequence[str] = BASE_TYPES, min_steps: int = 2, max_steps: int = 12,
                     jump_targets: Sequence[str] = ()) -> dict[str, Any]:
    """A random valid journey document (see the module's docstring)."""
    entry_type = draw(st.sampled_from(tuple(entry_types)))
    entry: dict[str, Any] = {"type": entry_type}
    if entry_type == "audience":
        entry["audience"] = draw(st.sampled_from(tuple(AUDIENCES)))
        if draw(st.booleans()):
            entry["schedule"] = {"cron": draw(st.sampled_from(CRONS))}
            if draw(st.integers(0, 3)) == 0:
                entry["incremental"] = True
            if draw(st.integers(0, 2)) == 0:
                entry["force_reentrance"] = True
    elif entry_type == "business-event":
        entry["event"] = BUSINESS_EVENT
        entry["audience"] = draw(st.sampled_from(tuple(AUDIENCES)))
    else:
        entry["event"] = ENTRY_EVENT
        if draw(st.booleans()):
            entry["where"] = draw(st.sampled_from(ENTRY_WHERE))
    settings = _settings(draw)
    count = draw(st.integers(min_steps, max_steps))
    ids = [f"s{index}" for index in range(count)]
    steps: dict[str, dict[str, Any]] = {}
    slots: list[_Slot] = [_Slot(-1, _setter(entry, "next"))]
    reaction_slot: dict[int, _Slot] = {}  # a reaction's index -> its message's `next`
    for index, step_id in enumerate(ids):
        if index in reaction_slot:
            slot = reaction_slot.pop(index)
            kind = "reaction"
        else:
            slot = slots.pop(draw(st.integers(0, len(slots) - 1)))
            choices = [t for t in step_types if t != "end" or slots or index == count - 1]
            kind = draw(st.sampled_from(choices))
        slot.assign(step_id)
        step: dict[str, Any] = {"type": kind}
        steps[step_id] = step
        own, reserve = _fill(draw, step, previous=ids[index - 1] if index else "", last=index + 1 == count,
                             jump_targets=jump_targets)
        if reserve:  # the message's `next` is the reaction that follows it
            reaction_slot[index + 1] = _Slot(index, _setter(step, "next"))
        slots += [_Slot(index, _setter(mapping, key)) for mapping, key in own]
    for slot in slots:  # the transitions left: to a later step (not a reaction) or to `end`
        later = [ids[k] for k in range(slot.owner + 1, count) if steps[ids[k]]["type"] != "reaction"]
        slot.assign(draw(st.sampled_from(["end", "end", *later])))
    document: dict[str, Any] = {"kind": "journey", "id": journey_id, "entry": entry}
    if settings:
        document["settings"] = settings
    document["steps"] = steps
    return document


def _fill(draw: st.DrawFn, step: dict[str, Any], *, previous: str, last: bool,
          jump_targets: Sequence[str]) -> tuple[list[tuple[dict[str, Any], str]], bool]:
    """Draw a step's fields by its type: its transitions still to point somewhere, as (mapping, key), and
    whether a message reserves its `next` for a reaction right after it (never for the `last` step)."""
    own: list[tuple[dict[str, Any], str]] = []
    reserve = False
    kind = step["type"]
    if kind == "condition":
        paths = [{"name": f"c{k}", "when": draw(st.sampled_from(CONDITIONS))}
                 for k in range(draw(st.integers(1, 3)))]
        step["paths"] = paths
        own += [(path, "next") for path in paths]
        own += [(step, key) for key in ("otherwise", "on_error") if draw(st.booleans())]
    elif kind == "split":
        paths = [{"name": f"b{k}", "percent": percent} for k, percent in
                 enumerate(_percents(draw, draw(st.integers(2, 4))))]
        step["paths"] = paths
        own += [(path, "next") for path in paths]
    elif kind == "time-condition":
        paths = []
        for k in range(draw(st.integers(1, 3))):
            path: dict[str, Any] = {"name": f"t{k}"}
            if draw(st.booleans()):
                path["days"] = sorted(draw(st.sets(st.sampled_from(DAYS), min_size=1)), key=DAYS.index)
            if draw(st.integers(0, 4)) > 0:
                start, stop = _clock(draw), _clock(draw)
                if start == stop:  # an empty window: make it one hour (overnight when it wraps)
                    stop = f"{(int(start[:2]) + 1) % 24:02d}{start[2:]}"
                path["from"], path["to"] = start, stop
            paths.append(path)
        step["paths"] = paths
        own += [(path, "next") for path in paths]
        if draw(st.booleans()):
            own.append((step, "otherwise"))
    elif kind == "date-condition":
        paths = []
        for k in range(draw(st.integers(1, 3))):
            path = {"name": f"d{k}"}
            first = draw(st.none() | st.integers(-3, 40))
            length = draw(st.none() | st.integers(0, 20))
            if first is not None:
                path["from"] = (ORIGIN.date() + dt.timedelta(days=first)).isoformat()
            if length is not None:
                path["to"] = (ORIGIN.date() + dt.timedelta(days=(first or 0) + length)).isoformat()
            paths.append(path)
        step["paths"] = paths
        own += [(path, "next") for path in paths]
        if draw(st.booleans()):
            own.append((step, "otherwise"))
    elif kind == "profile-cap":
        step["cap"] = draw(st.integers(1, 5))
        own += [(step, "next"), (step, "over_cap")]
    elif kind == "wait":
        if draw(st.integers(0, 3)) == 0:
            step["until"] = draw(st.sampled_from(UNTILS))
        else:
            step["duration"] = draw(st.sampled_from(DURATIONS))
        own.append((step, "next"))
    elif kind == "wait-event":
        step["event"] = draw(st.sampled_from(WAIT_EVENTS))
        if draw(st.booleans()):
            step["where"] = draw(st.sampled_from(WAIT_WHERE))
        if draw(st.booleans()):
            step["timeout"] = draw(st.sampled_from(DURATIONS))
        own.append((step, "next"))
        if draw(st.booleans()):
            own.append((step, "timeout_next"))
    elif kind == "reaction":
        step["to"] = previous
        step["on"] = draw(st.sampled_from(("opened", "clicked")))
        if draw(st.booleans()):
            step["timeout"] = draw(st.sampled_from(REACTION_TIMEOUTS))
        own.append((step, "next"))
        if draw(st.booleans()):
            own.append((step, "timeout_next"))
    elif kind == "message":
        step["channel"] = "email"
        step["content"] = {"subject": "Hello", "body": "<p>Hello</p>"}
        if draw(st.integers(0, 4)) == 0:
            step["category"] = "transactional"
        if not last and draw(st.booleans()):
            reserve = True
        else:
            own.append((step, "next"))
        if draw(st.booleans()):
            own.append((step, "on_error"))
    elif kind == "action":
        step["action"] = "crm"
        failing = draw(st.sampled_from(("profile.score", "toInteger(profile.name)")))  # sometimes an error
        step["params"] = {"who": "profile.id", "score": failing}
        own.append((step, "next"))
        if draw(st.booleans()):
            own.append((step, "on_error"))
    elif kind == "update-profile":
        step["set"] = {"score": draw(st.sampled_from(("profile.score + 10", "100", "null",
                                                      "toInteger(profile.name)")))}
        own.append((step, "next"))
    elif kind == "jump":
        step["journey"] = draw(st.sampled_from((*jump_targets, "nowhere")))
        step["params"] = {"customer_id": "profile.id", "amount": "profile.score"}
        own.append((step, "next"))
    elif kind == "end" and draw(st.booleans()):
        step["label"] = "a declared end"
    return own, reserve


def _settings(draw: st.DrawFn) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if draw(st.booleans()):
        settings["timezone"] = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        settings["use_profile_timezone"] = True
    reentrance = draw(st.sampled_from(("default", "off", "wait")))
    if reentrance == "off":
        settings["reentrance"] = {"allowed": False}
    elif reentrance == "wait":
        settings["reentrance"] = {"allowed": True, "wait": draw(st.sampled_from(("PT0S", "PT1H", "P1D", "P3D")))}
    if draw(st.integers(0, 5)) == 0:
        settings["start"] = iso(ORIGIN + dt.timedelta(hours=draw(st.integers(-24, 5 * 24))))
    if draw(st.integers(0, 3)) == 0:
        settings["end"] = iso(ORIGIN + dt.timedelta(hours=draw(st.integers(1, 40 * 24))))
    if draw(st.integers(0, 2)) == 0:
        settings["exit_when"] = draw(st.sampled_from(EXIT_WHEN))
    return settings


def waited_for(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    """The event names the documents' wait-event and reaction steps wait for."""
    names: list[str] = []
    for document in documents:
        for step in document["steps"].values():
            if step["type"] == "wait-event":
                names.append(step["event"])
            elif step["type"] == "reaction":
                names.append(f"message_{step['on']}")
    return names


HORIZONS = (2, 15, 31, 60, 125)  # days after the origin


@st.composite
def scenarios(draw: st.DrawFn, *, entry_types: Sequence[str] = ENTRY_TYPES, max_profiles: int = 30,
              max_events: int = 40, horizons: Sequence[int] = HORIZONS, targeted: bool = True) -> Scenario:
    """One journey of the main step types, its profiles, events, policy and horizon (`targeted`: with events
    aimed at the waits of a first run, see `aim_events`)."""
    rows, zones = draw(profile_rows(max_size=max_profiles))
    document = draw(journey_document(entry_types=entry_types))
    events = draw(event_specs(list(rows), max_size=max_events, listened=waited_for([document])))
    horizon = ORIGIN + dt.timedelta(days=draw(st.sampled_from(tuple(horizons))))
    scenario = Scenario((document,), rows, zones, events, horizon, draw(policies))
    return draw(aim_events(scenario)) if targeted else scenario


@st.composite
def jump_scenarios(draw: st.DrawFn, *, max_profiles: int = 15, max_events: int = 25,
                   targeted: bool = True) -> Scenario:
    """Two journeys in one engine: `a` (event entry, with actions, profile updates and jumps) and `b`,
    the jump target (an event entry on `order`, with the main step types)."""
    rows, zones = draw(profile_rows(max_size=max_profiles))
    origin = draw(journey_document(journey_id="a", entry_types=("event",), max_steps=10,
                                   step_types=(*BASE_TYPES, *EXTRA_TYPES, *EXTRA_TYPES), jump_targets=("b",)))
    target = draw(journey_document(journey_id="b", entry_types=("event",), max_steps=6))
    target["entry"]["event"] = "order"
    events = draw(event_specs(list(rows), max_size=max_events, listened=waited_for([origin, target])))
    horizon = ORIGIN + dt.timedelta(days=draw(st.sampled_from(HORIZONS)))
    scenario = Scenario((origin, target), rows, zones, events, horizon, draw(policies))
    return draw(aim_events(scenario)) if targeted else scenario


@st.composite
def new_versions(draw: st.DrawFn) -> tuple[Scenario, Scenario, dt.datetime]:
    """Version 1 of a journey, the same with version 2 published at a stop time, and that time. Version 2 keeps
    what §7.2 says may not change (the entry type and event, the re-entrance rule) and the audience and schedule
    (a new schedule would make fires due before the publication, run late behind the timeline); anything else
    may change."""
    first = draw(scenarios())
    document = first.documents[0]
    entry = document["entry"]
    second = draw(journey_document(entry_types=(entry["type"],)))
    if "schedule" in entry:  # its zone defaults to the journey's, which version 2 may change
        entry["schedule"]["timezone"] = document.get("settings", {}).get("timezone", "Europe/Paris")
    for key in ("event", "audience", "schedule", "incremental", "force_reentrance"):
        second["entry"].pop(key, None)
        if key in entry:
            second["entry"][key] = copy.deepcopy(entry[key])
    settings = second.setdefault("settings", {})
    settings.pop("reentrance", None)
    if "reentrance" in document.get("settings", {}):
        settings["reentrance"] = copy.deepcopy(document["settings"]["reentrance"])
    if not settings:
        del second["settings"]
    span = int((first.horizon - ORIGIN).total_seconds()) // 1800
    stop = ORIGIN + dt.timedelta(minutes=30 * draw(st.integers(0, span)))
    one = dataclasses.replace(first, versions=(1,))
    return one, dataclasses.replace(one, documents=(document, second), versions=(1, 2)), stop


@st.composite
def aim_events(draw: st.DrawFn, scenario: Scenario, *, most: int = 12) -> Scenario:
    """The scenario with events aimed at its waits: run it once, and for some instances that waited on a
    wait-event or reaction step (and timed out, exited or still wait), add the awaited event for the profile
    at the moment it reached the step, at its timeout, or in between (§6.3's edges: both count)."""
    sim = scenario.sim()
    sim.push(*scenario.built_events())
    sim.run(scenario.horizon)
    steps = {(doc["id"], step_id): step for doc in scenario.documents for step_id, step in doc["steps"].items()}
    windows: list[tuple[str, str, dt.datetime, dt.datetime]] = []  # (event name, profile, from, to)
    reached: dict[tuple[str, str, int], dt.datetime] = {}
    for e in sim.store.steps:
        step = steps[e.journey, e.step]
        key = (e.journey, e.profile, e.entry)
        if step["type"] in ("wait-event", "reaction") and (e.outcome == "timeout" or e.exited):
            start = reached.get(key)
            if start is None:
                start = next(i.entered_at for i in sim.store.instances if (i.journey, i.profile, i.entry) == key)
            windows.append((_awaited(step), e.profile, start, e.at))
        reached[key] = e.at
    for instance in sim.store.instances:
        if instance.end is None and instance.reached_at is not None:
            step = steps[instance.journey, instance.step or ""]
            if step["type"] in ("wait-event", "reaction"):
                windows.append((_awaited(step), instance.profile, instance.reached_at, scenario.horizon))
    if not windows:
        return scenario
    extra: list[EventSpec] = []
    for name, profile, start, stop in draw(st.lists(st.sampled_from(windows), max_size=most)):
        span = int((stop - start).total_seconds())
        offset = draw(st.one_of(st.sampled_from((0, span)), st.integers(0, span)))
        amount = draw(st.none() | st.integers(0, 50))
        extra.append(EventSpec(name, start + dt.timedelta(seconds=offset), profile, amount))
    return dataclasses.replace(scenario, events=(*scenario.events, *extra))


def _awaited(step: Mapping[str, Any]) -> str:
    return str(step["event"]) if step["type"] == "wait-event" else f"message_{step['on']}"
