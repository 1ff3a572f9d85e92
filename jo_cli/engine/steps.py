"""Running instances through steps (SPEC §6.4), a wave at a time.

A wave is every instance of one journey version that moves at one logical
time T. Steps run in topological order, each over all the instances that
reached it, so a fire of a million members makes one pass per step rather
than a million walks; the result is the same as walking each instance in
turn, because within one journey only `profile-cap` reads shared state and
it counts in the same order. An instance leaves the wave when it parks
(waits), reaches an End or exits.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jo_cli.durations import ALWAYS, NEVER, later, second_up
from jo_cli.engine.keys import journey_message_keys
from jo_cli.engine.model import INSTANCE_LIFETIME, Journey, Path, Step
from jo_cli.engine.ports import Instance, MessageRequest, WakeKind
from jo_cli.expr.compile import EvalFailure
from jo_cli.expr.runtime import EvalContext, resolve_local
from jo_cli.graph import END

if TYPE_CHECKING:
    from jo_cli.engine.engine import Engine

Pending = dict[str, list[Instance]]
_SEQ = operator.attrgetter("seq")
_MIDNIGHT = dt.time(0, 0)


class StepContext(EvalContext):
    """The evaluation context of one step in one wave, pointed at each instance in turn (`bind`).

    One object per step rather than one per evaluation: `journey`, `actions`
    and `in_audience` are read from the bound instance only when an expression asks.
    """

    def __init__(self, wave: Wave, step: Step) -> None:  # not super().__init__(): three fields are properties
        self.now = wave.at
        self.zone = wave.journey.zone
        self._wave = wave
        self._step = step
        self._instance: Instance | None = None

    def bind(self, instance: Instance) -> StepContext:
        self._instance = instance
        self.zone = instance.zone or self._wave.journey.zone
        return self

    @property
    def journey(self) -> dict[str, Any]:  # type: ignore[override]
        journey, instance = self._wave.journey, self._instance
        return {"id": journey.id, "version": journey.version, "step": self._step.id,
                "entered_at": instance.entered_at if instance else None}

    @property
    def actions(self) -> dict[str, Any]:  # type: ignore[override]
        return self._instance.actions if self._instance else {}

    def in_audience(self, name: str) -> bool:
        instance = self._instance
        if instance is None:
            return False
        return self._wave.engine.ports.audiences.contains(name, instance.profile, instance.data, self.now)


class Wave:
    """The instances of one journey version moving at one logical time."""

    def __init__(self, engine: Engine, journey: Journey, at: dt.datetime) -> None:
        self.engine = engine
        self.journey = journey
        self.at = at
        self.pending: Pending = {}
        # Step events by (step, outcome, detail, exited), in the order first taken: flushed as groups.
        self.groups: dict[tuple[str, str, str | None, bool], list[Instance]] = {}
        self.released: set[int] = set()  # instances whose queued message is being released
        self.entered = 0  # instances that entered the journey in this wave
        self._contexts: dict[str, StepContext] = {}
        # (step, outcome, target) -> (its step-event group, the target's pending list): valid until the
        # target runs or the groups are flushed, both of which clear it.
        self._routes: dict[tuple[str, str, str | None, str | None],
                           tuple[list[Instance], list[Instance] | None]] = {}
        self._deadline: tuple[dt.datetime | None, dt.datetime] = (None, self.at)  # (entered_at, its deadline)

    # ------------------------------------------------------------ moving

    def add(self, target: str, instance: Instance) -> None:
        """Send `instance` on to step `target` (or to the implicit End) at this wave's time."""
        if target == END:
            self.engine.finish(instance, END, self.at)
        else:
            self.pending.setdefault(target, []).append(instance)

    def record(self, instance: Instance, step: str, outcome: str, detail: str | None = None, *,
               exited: bool = False) -> None:
        group = self.groups.get((step, outcome, detail, exited))
        if group is None:
            self.groups[step, outcome, detail, exited] = [instance]
        else:
            group.append(instance)

    def flush(self) -> None:
        """Hand the step events to the engine's changes, one group per (step, outcome)."""
        if self.groups:
            journey = self.journey
            # One instance takes its steps in topological order within a wave: groups in that order keep
            # each instance's events in the order it took them.
            position = journey.position
            groups = sorted(self.groups.items(), key=lambda item: position[item[0][0]])
            self.engine.changes.record_steps(journey.id, journey.version, self.at, self.engine.ports.clock.wall(),
                                             [(*key, group) for key, group in groups])
            self.groups = {}
            self._routes.clear()

    def take(self, instance: Instance, step: Step, outcome: str, target: str | None,
             detail: str | None = None) -> None:
        """Record `outcome` at `step` and go on to `target` (the hot path of every wave: two appends)."""
        route = self._routes.get((step.id, outcome, target, detail))
        if route is None:
            self.record(instance, step.id, outcome, detail)
            self.add(target or END, instance)
            events = self.groups[step.id, outcome, detail, False]
            self._routes[step.id, outcome, target, detail] = (events, self.pending.get(target or END))
            return
        events, pending = route
        events.append(instance)
        if pending is None:
            self.engine.finish(instance, END, self.at)
        else:
            pending.append(instance)

    def mover(self, step: Step, outcome: str, target: str | None,
              detail: str | None = None) -> Callable[[Instance], None]:
        """`take(instance, step, outcome, target, detail)` with its two lists looked up once, for the loop of a
        handler (or of a wake-up) over many instances: get it when the first instance takes that way (an
        outcome nobody took has no step event group), use it until the loop ends (the target has not run
        and the step events are not flushed before then)."""
        key = (step.id, outcome, detail, False)
        events = self.groups.get(key)
        if events is None:
            events = self.groups[key] = []
        record = events.append
        if target is None or target == END:
            finish, at = self.engine.finish, self.at

            def end(instance: Instance) -> None:
                record(instance)
                finish(instance, END, at)

            return end
        pending = self.pending.get(target)
        if pending is None:
            pending = self.pending[target] = []
        add = pending.append

        def move(instance: Instance) -> None:
            record(instance)
            add(instance)

        return move

    def fail(self, instance: Instance, step: Step, detail: str) -> None:
        """An evaluation error: `on_error` when the step has one, else the instance ends with `error`."""
        if step.on_error:
            self.take(instance, step, "on_error", step.on_error, detail)
        else:
            self.record(instance, step.id, "error", detail)
            self.engine.finish(instance, "error", self.at)

    def park(self, instance: Instance, step: Step, wake_at: dt.datetime, kind: WakeKind) -> None:
        """Wait at `step` until `wake_at`, or until the instance's P91D lifetime ends, whichever is first."""
        wake_at = second_up(wake_at)
        entered, deadline = self._deadline
        if instance.entered_at is not entered:  # a fire's members share one entry time: worked out once
            entered = instance.entered_at
            deadline = later(entered, INSTANCE_LIFETIME)
            self._deadline = entered, deadline
        if wake_at >= deadline:
            wake_at, kind = deadline, "expire"
        instance.step = step.id
        instance.reached_at = self.at
        instance.wake_at = wake_at
        instance.wake_kind = kind
        self.engine.changes.save(instance)

    def run(self) -> None:
        """Run every step that has instances, in topological order; flush the step events."""
        journey = self.journey
        for step_id in journey.order:
            batch = self.pending.pop(step_id, None)
            if batch:
                self._routes.clear()  # a route into this step must not append to the batch being run
                step = journey.steps[step_id]
                if journey.exit_when is not None:
                    batch = self._not_exiting(step, batch)
                for instance in batch:
                    instance.step = step_id
                HANDLERS[step.type](self, step, batch)
        self.flush()

    # ------------------------------------------------------------ evaluation

    def context(self, step: Step) -> StepContext:
        context = self._contexts.get(step.id)
        if context is None:
            context = self._contexts[step.id] = StepContext(self, step)
        return context

    def evaluate(self, function: Callable[..., Any], instance: Instance, step: Step) -> Any:
        return function(instance.data, instance.event, self.context(step).bind(instance))

    def _not_exiting(self, step: Step, batch: list[Instance]) -> list[Instance]:
        """§12: `exit_when` is checked before every step."""
        assert self.journey.exit_when is not None
        staying: list[Instance] = []
        for instance in batch:
            value = self.evaluate(self.journey.exit_when, instance, step)
            if value is True:
                if instance.seq in self.released:  # it was parked here (a queued message): it exits from here
                    self.released.discard(instance.seq)
                    self.record(instance, step.id, "exit_when", exited=True)
                self.engine.finish(instance, "exit_when", self.at)
            elif isinstance(value, EvalFailure):
                self.released.discard(instance.seq)
                self.record(instance, step.id, "error", f"settings.exit_when: {value.message}")
                self.engine.finish(instance, "error", self.at)
            else:
                staying.append(instance)
        return staying


# ---------------------------------------------------------------- step types


def _condition(wave: Wave, step: Step, batch: list[Instance]) -> None:
    movers: list[Callable[[Instance], None] | None] = [None] * len(step.paths)
    for instance in batch:
        for number, path in enumerate(step.paths):
            assert path.when is not None
            value = wave.evaluate(path.when, instance, step)
            if isinstance(value, EvalFailure):
                wave.fail(instance, step, f"{path.name}: {value.message}")
                break
            if value is True:
                move = movers[number]
                if move is None:
                    move = movers[number] = wave.mover(step, path.name, path.next)
                move(instance)
                break
        else:
            _otherwise(wave, step, instance)


def _otherwise(wave: Wave, step: Step, instance: Instance) -> None:
    if step.otherwise:
        wave.take(instance, step, "otherwise", step.otherwise)
    else:
        wave.record(instance, step.id, "no_path")
        wave.engine.finish(instance, "no_path", wave.at)


def split_bucket(journey: str, step: str, identity: str) -> int:
    """§6.4: the first 8 bytes of sha256(`journey:step:identity`), big-endian."""
    return int.from_bytes(hashlib.sha256(f"{journey}:{step}:{identity}".encode()).digest()[:8], "big")


def _split(wave: Wave, step: Step, batch: list[Instance]) -> None:
    paths = step.paths
    bounds = [path.basis_points << 64 for path in paths]  # cumulative: the first bound above the bucket's
    last = len(paths) - 1
    journey = wave.journey.id
    movers: list[Callable[[Instance], None] | None] = [None] * len(paths)
    for instance in batch:
        number = min(bisect.bisect_right(bounds, split_bucket(journey, step.id, instance.profile) * 10_000), last)
        move = movers[number]
        if move is None:
            path = paths[number]
            move = movers[number] = wave.mover(step, path.name, path.next)
        move(instance)


def in_time_window(path: Path, local: dt.datetime) -> bool:
    """`[from, to)` on one of `days`; when `from > to` the window runs overnight and belongs to its start day."""
    start, stop = path.start or _MIDNIGHT, path.stop
    clock, weekday = local.time().replace(tzinfo=None), local.weekday()
    if stop is None or start < stop:
        return weekday in path.days and start <= clock and (stop is None or clock < stop)
    if start == stop:
        return False
    return (weekday in path.days and clock >= start) or ((weekday - 1) % 7 in path.days and clock < stop)


def _time_condition(wave: Wave, step: Step, batch: list[Instance]) -> None:
    # Every instance in a zone sees the same local time: one path per zone (None: otherwise).
    chosen: dict[ZoneInfo, Callable[[Instance], None] | None] = {}
    movers: dict[str, Callable[[Instance], None]] = {}
    for instance in batch:
        zone = instance.zone or wave.journey.zone
        if zone in chosen:
            move = chosen[zone]
        else:
            local = wave.at.astimezone(zone)
            path = next((p for p in step.paths if in_time_window(p, local)), None)
            move = None
            if path is not None:
                move = movers.get(path.name)
                if move is None:
                    move = movers[path.name] = wave.mover(step, path.name, path.next)
            chosen[zone] = move
        if move is None:
            _otherwise(wave, step, instance)
        else:
            move(instance)


def _date_condition(wave: Wave, step: Step, batch: list[Instance]) -> None:
    chosen: dict[ZoneInfo, Path | None] = {}
    for instance in batch:
        zone = instance.zone or wave.journey.zone
        if zone in chosen:
            path = chosen[zone]
        else:
            day = wave.at.astimezone(zone).date()
            path = chosen[zone] = next((p for p in step.paths if (p.first_day is None or p.first_day <= day)
                                        and (p.last_day is None or day <= p.last_day)), None)
        if path is None:
            _otherwise(wave, step, instance)
        else:
            wave.take(instance, step, path.name, path.next)


def _profile_cap(wave: Wave, step: Step, batch: list[Instance]) -> None:
    counter = f"profile-cap:{wave.journey.id}:{wave.journey.version}:{step.id}"
    passed = wave.engine.counter(counter)
    # In entry order, whatever path each came by: a fire or a wake-up cut into chunks counts as one wave does.
    batch.sort(key=_SEQ)
    for instance in batch:
        passed += 1
        if passed <= step.cap:
            wave.take(instance, step, "next", step.next)
        else:
            wave.take(instance, step, "over_cap", step.over_cap)
    wave.engine.changes.counters[counter] = passed


def _wait(wave: Wave, step: Step, batch: list[Instance]) -> None:
    # One wake-up time for the whole batch when the wait is a duration: one object, its hash computed once
    # by the store's index of wake-ups.
    fixed = second_up(later(wave.at, step.duration)) if step.duration is not None else None
    for instance in batch:
        if fixed is not None:
            wake: Any = fixed
        else:
            assert step.until is not None
            wake = wave.evaluate(step.until, instance, step)
            if isinstance(wake, EvalFailure):
                wave.fail(instance, step, f"until: {wake.message}")
                continue
            if isinstance(wake, dt.date) and not isinstance(wake, dt.datetime):  # a date waits for its midnight
                wake = _midnight(wake, instance.zone or wave.journey.zone)
            if not isinstance(wake, dt.datetime):
                wave.fail(instance, step, f"until: gave {'null' if wake is None else type(wake).__name__}, "
                                          "not a datetime")
                continue
        if wake <= wave.at:  # `until` in the past (or a zero wait): continue at once
            wave.take(instance, step, "next", step.next)
        else:
            wave.park(instance, step, wake, "wake")


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The instant `day` starts in `zone`; a day at the calendar's end has none: never, or long past."""
    try:
        return resolve_local(dt.datetime.combine(day, _MIDNIGHT), zone)
    except OverflowError:
        return NEVER if day.year > 5000 else ALWAYS


def _wait_for_event(wave: Wave, step: Step, batch: list[Instance]) -> None:
    for instance in batch:
        timeout = later(wave.at, step.timeout) if step.timeout is not None \
            else later(instance.entered_at, INSTANCE_LIFETIME)
        wave.park(instance, step, timeout, "timeout")


def _message(wave: Wave, step: Step, batch: list[Instance]) -> None:
    journey, engine = wave.journey, wave.engine
    message_key = journey_message_keys(journey.id, step.id)
    sent: Callable[[Instance], None] | None = None
    prepare = getattr(engine.ports.policy, "prepare", None)  # a policy may read the batch's counts at once
    if prepare is not None:
        prepare((instance.profile for instance in batch), wave.at)  # read only by counters that prefetch
    for instance in batch:
        key = message_key(instance.profile, instance.entry)
        released = False
        if wave.released and instance.seq in wave.released:
            released = True
            wave.released.discard(instance.seq)
        request = MessageRequest(key=key, journey=journey.id, version=journey.version, step=step,
                                 rules=step.rules or journey.rules, instance=instance, at=wave.at, released=released)
        decision = engine.ports.policy.decide(request)
        if decision.outcome == "queued":
            if decision.release_at is None or decision.release_at <= wave.at:  # else the same instant forever
                raise RuntimeError(f"the message policy queued {key} without a later release time")
            wave.record(instance, step.id, "queued", decision.reason)
            wave.park(instance, step, decision.release_at, "release")
        elif decision.outcome == "sent":
            instance.messages = {**instance.messages, step.id: key}
            if decision.message is not None:
                engine.changes.messages.append(decision.message)  # the outbox row, committed with the instance
            if sent is None:
                sent = wave.mover(step, "sent", step.next)
            sent(instance)
        elif decision.exit:
            wave.record(instance, step.id, "excluded", decision.reason)
            engine.finish(instance, decision.exit, wave.at)
        else:
            target = step.on_error if decision.on_error and step.on_error else step.next
            wave.take(instance, step, "excluded", target, decision.reason)


def _params(wave: Wave, step: Step, instance: Instance) -> dict[str, Any] | EvalFailure:
    values: dict[str, Any] = {}
    for name, function in step.params.items():
        value = wave.evaluate(function, instance, step)
        if isinstance(value, EvalFailure):
            return EvalFailure(f"{name}: {value.message}")
        values[name] = value
    return values


def _action(wave: Wave, step: Step, batch: list[Instance]) -> None:
    actions = wave.engine.ports.actions
    action_key = journey_message_keys(wave.journey.id, step.id)
    for instance in batch:
        params = _params(wave, step, instance)
        if isinstance(params, EvalFailure):
            wave.fail(instance, step, params.message)
            continue
        assert step.action is not None
        key = action_key(instance.profile, instance.entry)
        result = actions.call(step.action, params, key=key, at=wave.at)
        if result.ok:
            instance.actions = {**instance.actions, step.id: result.response}
            wave.take(instance, step, "next", step.next)
        else:
            wave.fail(instance, step, result.error or "the action failed")


def _update_profile(wave: Wave, step: Step, batch: list[Instance]) -> None:
    for instance in batch:
        values = _params(wave, step, instance)
        if isinstance(values, EvalFailure):
            wave.fail(instance, step, values.message)
            continue
        wave.engine.update_profile(instance, values)
        wave.take(instance, step, "next", step.next)


def _jump(wave: Wave, step: Step, batch: list[Instance]) -> None:
    for instance in batch:
        payload = _params(wave, step, instance)
        if isinstance(payload, EvalFailure):
            wave.fail(instance, step, payload.message)
            continue
        assert step.action is not None
        wave.engine.jump(step.action, instance, payload, wave.at)
        wave.take(instance, step, "next", step.next)


def _end(wave: Wave, step: Step, batch: list[Instance]) -> None:
    wave.record(batch[0], step.id, "end")  # a handler runs for a batch of one at least
    wave.groups[step.id, "end", None, False].extend(batch[1:])
    finish, at = wave.engine.finish, wave.at
    for instance in batch:
        finish(instance, step.id, at)


HANDLERS: dict[str, Callable[[Wave, Step, list[Instance]], None]] = {
    "condition": _condition,
    "split": _split,
    "time-condition": _time_condition,
    "date-condition": _date_condition,
    "profile-cap": _profile_cap,
    "wait": _wait,
    "wait-event": _wait_for_event,
    "reaction": _wait_for_event,
    "message": _message,
    "action": _action,
    "update-profile": _update_profile,
    "jump": _jump,
    "end": _end,
}
