"""What `jo dry-run` and `jo run-batch` build their engine from, in one place (SPEC §6.3: "the same engine
serves dry-run and run-batch; only the clock, the store and delivery differ").

The message policy (channels and rule sets of jo.yaml), the render hook that fills each message from the
version's templates, the one message object of §7.5 and the single fire of a dry-run are made here; each
command adds only its store, delivery and clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jo_cli import durations, schedule
from jo_cli.engine.files import ProjectFiles
from jo_cli.engine.model import Journey
from jo_cli.engine.policy import Policy, channels_of, rule_sets_of
from jo_cli.engine.ports import MessageRequest, RuleCounters
from jo_cli.expr.runtime import format_datetime
from jo_cli.store.outbox import MESSAGE_KEYS as OUTBOX_KEYS

_FIRE_LOOKBACK = dt.timedelta(days=366)
# The message object's keys in §7.5's order (absent fields omitted): the outbox's, then `status`.
MESSAGE_KEYS = (*OUTBOX_KEYS, "status")


def fire_time(journey: Journey, now: dt.datetime) -> dt.datetime:
    """A dry-run's audience entry fires once: at the latest cron time at or before `now`, else at `now` (§7.1)."""
    plan = journey.entry.schedule
    if not plan:
        return now
    zone = (schedule.load_zone(str(plan["timezone"])) if plan.get("timezone") else None) or journey.zone
    # A cron time within the year before `now` (a leap-day cron may have none: it fires at `now`).
    since = max(durations.earlier(now, _FIRE_LOOKBACK), durations.EARLIEST)
    return schedule.last_fire(str(plan["cron"]), zone, at=now, after=since) or now


class TemplateRender:
    """The policy's render hook: a message's content fields from its version's templates (`files_of(journey id,
    version)`: the working tree for a dry-run, what `jo publish` froze for run-batch), for the requests
    `wanted` says (None: all)."""

    def __init__(self, files_of: Callable[[str, int | None], ProjectFiles | Path], *,
                 wanted: Callable[[MessageRequest], bool] | None = None) -> None:
        self.files_of = files_of
        self.wanted = wanted
        self._renderers: dict[tuple[str, int | None], Any] = {}

    def __call__(self, request: MessageRequest, message: dict[str, Any]) -> str | None:
        if self.wanted is not None and not self.wanted(request):
            return None
        from jo_cli.engine.render import Renderer, RenderFailure

        renderer = self._renderers.get((request.journey, request.version))
        if renderer is None:
            renderer = self._renderers[request.journey, request.version] = Renderer(
                self.files_of(request.journey, request.version))
        instance = request.instance
        journey = {"id": request.journey, "version": request.version, "step": request.step.id,
                   "entered_at": instance.entered_at}
        scope = {"profile": instance.data or {}, "event": instance.event, "journey": journey,
                 "actions": instance.actions}
        result = renderer.render(request.step.content, channel=request.step.channel, scope=scope)
        if isinstance(result, RenderFailure):
            return result.message
        message.update(result.fields())
        return None


def message_policy(config: Mapping[str, Any], *, counters: RuleCounters, project_zone: ZoneInfo,
                   zone_of: Callable[[str], ZoneInfo | None], render: TemplateRender, status: str,
                   keep: Callable[[MessageRequest], bool] | None = None) -> Policy:
    """The project's message policy (§7.5, §7.6) from jo.yaml's `channels` and `rules`."""
    return Policy(channels=channels_of(config), rule_sets=rule_sets_of(config), counters=counters,
                  project_zone=project_zone, zone_of=zone_of, render=render, status=status, keep=keep)


def shape_message(message: Mapping[str, Any], queued_at: Mapping[str, dt.datetime] | None = None) -> dict[str, Any]:
    """The one message object (§7.5): its keys in order, absent fields omitted, `at` formatted; a message quiet
    hours held has `queued_at` (when it would have been sent) after `at` (when it is handed to delivery)."""
    shaped = {key: message[key] for key in MESSAGE_KEYS if key in message}
    if isinstance(shaped.get("at"), dt.datetime):
        shaped["at"] = format_datetime(shaped["at"])
    held = queued_at.get(message["key"]) if queued_at else None
    if held is not None:
        status = shaped.pop("status", None)
        shaped["queued_at"] = format_datetime(held)
        if status is not None:
            shaped["status"] = status
    return shaped
