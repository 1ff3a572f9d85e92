"""The message policy (SPEC §7.5, §7.6): consent, address, capping, quiet hours, rendering, the message object.

At a message step's logical time, in order: consent (`no_consent`; a
transactional message needs none, and an empty consent cell counts as
consent, AJO), address (`no_address`), then for marketing messages the rule
set's capping (`capped`, a sliding window over messages created for the
profile) and quiet hours (queued until the window's end and then decided
again, or excluded with `quiet_hours` and the instance exits), then the
render (`render_error`, continuing on `on_error` when set). What passes is
one message object (§7.5) handed to delivery, and counted for capping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jo_cli import durations, schedule
from jo_cli.engine.model import DAYS, field_at
from jo_cli.engine.ports import Decision, MessageRequest, RuleCounters
from jo_cli.errors import JoError
from jo_cli.expr.runtime import resolve_local

_DAY = dt.timedelta(days=1)
_UNKNOWN: Any = object()
# Decisions without per-message data, shared (the engine only reads them).
_NO_CONSENT = Decision("excluded", reason="no_consent")
_NO_ADDRESS = Decision("excluded", reason="no_address")
_CAPPED = Decision("excluded", reason="capped")
_SENT = Decision("sent")


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    address: str | None  # the profile field holding the address
    consent: str | None  # the boolean profile field giving marketing consent; None: no check


@dataclass(frozen=True, slots=True)
class Cap:
    channels: frozenset[str]
    max: int
    per: dt.timedelta


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """`[start, stop)` local, on `days` (Monday = 0); `start > stop` runs overnight from its start day."""

    start: dt.time
    stop: dt.time
    days: frozenset[int]


@dataclass(frozen=True, slots=True)
class QuietHours:
    windows: tuple[QuietWindow, ...]
    zone: ZoneInfo | None  # None: each profile's zone, else the project's
    handling: Literal["queue", "discard"]

    def release(self, at: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
        """When the quiet period covering `at` ends (the first valid instant, across a DST gap); None if none."""
        local = at.astimezone(zone)
        ends = [end for window in self.windows if (end := _window_end(window, local, zone)) is not None]
        return max(ends) if ends else None


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str
    caps: tuple[Cap, ...] = ()
    quiet_hours: QuietHours | None = None


def _window_end(window: QuietWindow, local: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """The end of `window` if `local` is inside it."""
    clock = local.time().replace(tzinfo=None)
    day = local.date()
    if window.start < window.stop:
        inside = local.weekday() in window.days and window.start <= clock < window.stop
        end_day = day
    elif window.start > window.stop:
        if local.weekday() in window.days and clock >= window.start:
            inside, end_day = True, day + _DAY
        else:
            inside, end_day = (day - _DAY).weekday() in window.days and clock < window.stop, day
    else:
        return None
    if not inside:
        return None
    return resolve_local(dt.datetime.combine(end_day, window.stop), zone).astimezone(dt.UTC)


def channels_of(config: Mapping[str, Any]) -> dict[str, Channel]:
    """The `channels` of jo.yaml."""
    channels: dict[str, Channel] = {}
    for name, spec in (config.get("channels") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        channels[name] = Channel(name, spec.get("address"), spec.get("consent"))
    return channels


def rule_sets_of(config: Mapping[str, Any]) -> dict[str, RuleSet]:
    """The `rules` of jo.yaml, typed."""
    sets: dict[str, RuleSet] = {}
    for name, spec in (config.get("rules") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        caps = tuple(Cap(frozenset(cap["channels"]), int(cap["max"]), _duration(cap["per"], f"rules.{name}"))
                     for cap in spec.get("capping") or ())
        quiet = spec.get("quiet_hours")
        sets[name] = RuleSet(name, caps, _quiet_hours(quiet, f"rules.{name}.quiet_hours") if quiet else None)
    return sets


def _duration(text: Any, where: str) -> dt.timedelta:
    value = durations.parse_duration(text)
    if value is None:
        raise JoError(f"jo.yaml: {where}: {text!r} is not an exact ISO 8601 duration")
    return value


def _quiet_hours(spec: Mapping[str, Any], where: str) -> QuietHours:
    zone_name = spec.get("timezone", "profile")
    zone = None if zone_name == "profile" else schedule.load_zone(str(zone_name))
    if zone_name != "profile" and zone is None:
        raise JoError(f"jo.yaml: {where}.timezone: unknown time zone {zone_name!r}")
    windows = tuple(QuietWindow(dt.time.fromisoformat(w["from"]), dt.time.fromisoformat(w["to"]),
                                frozenset(DAYS.index(d) for d in w.get("days", DAYS))) for w in spec["windows"])
    return QuietHours(windows, zone, spec.get("handling", "queue"))


RenderHook = Callable[[MessageRequest, dict[str, Any]], "str | None"]


@dataclass(frozen=True, slots=True)
class _StepPlan:
    step: Any  # kept, so that the id the plan is filed under stays this step's
    rules: str | None  # the rule set name it was worked out for
    marketing: bool
    consent: tuple[str, ...] | None  # the consent field's path (marketing messages only)
    address: tuple[str, ...] | None
    caps: tuple[Cap, ...]  # the rule set's caps counting this step's channel
    quiet: QuietHours | None


class Policy:
    """The project's channels and rule sets applied to each message request (the engine's MessagePolicy).

    `render(request, message)` fills the message's content fields and returns
    None, or returns the render error; `status` is the status new messages get
    (`would_send` in a dry-run, `pending` in run-batch). `keep(request)` False:
    the message is decided and counted but neither built nor rendered (a
    render error is then not seen, as §7.1 says of the messages not shown).
    """

    def __init__(self, *, channels: Mapping[str, Channel], rule_sets: Mapping[str, RuleSet], counters: RuleCounters,
                 project_zone: ZoneInfo, zone_of: Callable[[str], ZoneInfo | None],
                 render: RenderHook | None = None, status: str = "would_send",
                 keep: Callable[[MessageRequest], bool] | None = None) -> None:
        self.channels = channels
        self.rule_sets = rule_sets
        self.counters = counters
        self.project_zone = project_zone
        self.zone_of = zone_of
        self.render = render
        self.status = status
        self.keep = keep
        self._releases: dict[tuple[int, ZoneInfo, dt.datetime], Any] = {}
        self._plans: dict[tuple[int, str | None], _StepPlan] = {}
        # The longest capping window of any rule set: what `prepare` has the counters read ahead.
        self._longest = max((cap.per for rules in rule_sets.values() for cap in rules.caps), default=None)
        self._last: _StepPlan | None = None  # the plan of the last request (a wave asks one step at a time)
        # (at, plan, the start of each of its caps' windows at `at`): worked out once per wave and step
        self._windows: tuple[dt.datetime | None, _StepPlan | None, tuple[dt.datetime, ...]] = (None, None, ())

    def rule_set(self, request: MessageRequest) -> RuleSet | None:
        name = request.rules or "default"
        return self.rule_sets.get(name)

    def _plan(self, request: MessageRequest) -> _StepPlan:
        """What does not change between the messages of one step under one rule set, worked out once."""
        step = request.step
        channel = self.channels.get(step.channel) or Channel(step.channel, None, None)
        marketing = step.category != "transactional"
        rules = self.rule_set(request) if marketing else None
        return _StepPlan(step, request.rules, marketing,
                         tuple(channel.consent.split(".")) if marketing and channel.consent else None,
                         tuple(channel.address.split(".")) if channel.address else None,
                         tuple(cap for cap in rules.caps if step.channel in cap.channels) if rules else (),
                         rules.quiet_hours if rules else None)

    def prepare(self, profiles: Iterable[str], at: dt.datetime) -> None:
        """A message step is about to ask about `profiles` at `at`: counters that read ahead (a store's) read
        their messages in every capping window at once."""
        prefetch = getattr(self.counters, "prefetch", None)
        if prefetch is not None and self._longest is not None:
            prefetch(profiles, after=durations.earlier(at, self._longest))

    def decide(self, request: MessageRequest) -> Decision:
        step, instance = request.step, request.instance
        plan = self._last
        if plan is None or plan.step is not step or plan.rules != request.rules:
            plan = self._plans.get((id(step), request.rules))
            if plan is None or plan.step is not step:
                plan = self._plans[id(step), request.rules] = self._plan(request)
            self._last = plan
        profile = instance.data
        if plan.consent is not None and field_at(profile, plan.consent) is False:
            return _NO_CONSENT
        address = field_at(profile, plan.address) if plan.address is not None else None
        if address is None or address == "":
            return _NO_ADDRESS
        marketing = plan.marketing
        if marketing:
            at = request.at
            if plan.caps:
                seen_at, seen_plan, starts = self._windows
                if seen_at is not at or seen_plan is not plan:
                    starts = tuple(durations.earlier(at, cap.per) for cap in plan.caps)
                    self._windows = at, plan, starts
                count = self.counters.count
                for cap, after in zip(plan.caps, starts, strict=True):
                    if count(instance.profile, cap.channels, after=after, until=at) >= cap.max:
                        return _CAPPED
            quiet = plan.quiet
            if quiet is not None:
                # The instance's zone, when its journey reads it, is the profile's (and at hand).
                zone = quiet.zone or instance.zone or self.zone_of(instance.profile) or self.project_zone
                key = (id(quiet), zone, at)  # a wave asks at one time: one answer per zone
                release = self._releases.get(key, _UNKNOWN)
                if release is _UNKNOWN:
                    if len(self._releases) > 10_000:
                        self._releases.clear()
                    release = self._releases[key] = quiet.release(at, zone)
                if release is not None:
                    if quiet.handling == "discard":
                        return Decision("excluded", reason="quiet_hours", exit="quiet_hours")
                    return Decision("queued", reason="quiet_hours", release_at=release)
        if self.keep is not None and not self.keep(request):
            # Nobody will see this message (a dry-run's profiles not shown): it counts, nothing is built.
            if marketing:
                self.counters.add(instance.profile, step.channel, request.at, request.key)
            return _SENT
        message: dict[str, Any] = {"key": request.key, "kind": "journey", "id": request.journey,
                                   "version": request.version, "step": step.id, "profile": instance.profile,
                                   "channel": step.channel, "to": address}
        if self.render is not None:
            error = self.render(request, message)
            if error is not None:
                return Decision("excluded", reason="render_error", on_error=True, message={"error": error})
        message["at"] = request.at
        message["status"] = self.status
        if marketing:
            self.counters.add(instance.profile, step.channel, request.at, request.key)
        return Decision("sent", message=message)
