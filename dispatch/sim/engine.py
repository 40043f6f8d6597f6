"""The event loop of one replication, on a SimPy environment, driving a `Dispatcher`.

The replay holds no dispatch rule of its own. It plays the world around the dispatch session:
calls become ready (received + processing delay), teams travel, stay on scene, transport and
clear, shifts start and end, and the session's timer requests become SimPy timeouts. Every
decision (which team, queue, fall back, breaks, off duty) comes from the session, the same
`dispatch.dispatcher.Dispatcher` a live service drives, and is recorded here.

A call costs few events: *ready*, *clear* (the team is free again) and, only when it has to
wait, a timer. Arrival on scene, hand-off and the return to station are computed when the team
is dispatched or cleared, not scheduled: nothing can change them once the team is committed.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy
from simpy.events import URGENT

from dispatch.dispatcher import (
    BreakEnded,
    BreakStarted,
    Decision,
    Dispatch,
    Dispatcher,
    DispatchSettings,
    Fallback,
    Held,
    OffDuty,
    Queue,
    Timer,
    Unserved,
)
from dispatch.dispatcher.legs import Leg
from dispatch.match.fleet import Fleet
from dispatch.match.matcher import Matcher
from dispatch.model import MealBreak, Outcome, ReasonCode, RiskLevel, TeamKind

# Outcome codes (index into OUTCOMES)
OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)
SPECIALIST, FALLBACK, NOT_SERVED, NOT_SIMULATED = range(4)
REASONS: tuple[ReasonCode, ...] = tuple(ReasonCode)
REASON_CODE = {r: i for i, r in enumerate(REASONS)}


#: Event-log names of the session's team notices.
_TEAM_EVENTS: dict[type, str] = {
    BreakStarted: "break_start",
    BreakEnded: "break_end",
    OffDuty: "off_duty",
}


@contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """Keep the garbage collector's full passes off what exists before the block.

    The prepared scenario and the travel caches (millions of cached pairs in a long sweep) live
    on, and a full pass that walks them took about an eighth of a St. Louis replication. The
    replay's own objects are still collected as usual. A process that already manages frozen
    objects (the live service freezes its rebuilt state) is left as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Deferred:
    """The draws of a random stream that nothing else reads, made when first asked for.

    The stream is its own, so the values are the same whenever they are made; a replay that
    never needs them (no transport, no call for the fallback pool) never draws them, nor
    imports what their distribution needs.
    """

    __slots__ = ("_make", "_values")

    def __init__(self, make: Callable[[], npt.NDArray[np.float64]]) -> None:
        self._make = make
        self._values: npt.NDArray[np.float64] | None = None

    def values(self) -> npt.NDArray[np.float64]:
        if self._values is None:
            self._values = self._make()
        return self._values


def drawn(draws: npt.NDArray[np.float64] | Deferred) -> npt.NDArray[np.float64]:
    """The values of ``draws``, drawing them first when they are `Deferred`."""
    return draws.values() if isinstance(draws, Deferred) else draws


@dataclass
class CallDraws:
    """Per-call random draws of one replication (seconds; ``transport`` resolved to 0/1).

    ``handoff_s`` and ``pool_travel_s`` may be `Deferred`: only transports and the fallback
    pool read them (`drawn` gives the values).
    """

    processing_s: npt.NDArray[np.float64]
    turnout_s: npt.NDArray[np.float64]
    on_scene_s: npt.NDArray[np.float64]
    transport: npt.NDArray[np.bool_]
    handoff_s: npt.NDArray[np.float64] | Deferred
    pool_travel_s: npt.NDArray[np.float64] | Deferred


@dataclass
class FleetSetup:
    """Static fleet facts, rows sorted by team id (the `Fleet` order)."""

    team_ids: list[str]
    kinds: list[TeamKind]
    cit: list[bool]
    station_place: npt.NDArray[np.int64]
    duty: list[list[tuple[float, float]]]
    facility_place: npt.NDArray[np.int64]
    #: Nearest facility (index, seconds) by scene place and travel band, shared by every
    #: replication.
    nearest_facility: dict[tuple[int, int], tuple[int, float]] = field(default_factory=dict)
    #: Routes home by (origin, station), shared by every replication.
    legs: dict[tuple[int, int, int], Leg] = field(default_factory=dict)


@dataclass
class Records:
    """Per-call and per-team outcomes of one replication, as numpy columns.

    While the replay runs the per-call columns are Python lists (element writes are several
    times cheaper than numpy scalar writes); `freeze` turns them into arrays.
    """

    n_calls: int
    n_teams: int
    team: Any = field(init=False)
    ready_s: Any = field(init=False)
    dispatched_s: Any = field(init=False)
    arrived_s: Any = field(init=False)
    cleared_s: Any = field(init=False)
    travel_s: Any = field(init=False)
    on_scene_s: Any = field(init=False)
    transported: Any = field(init=False)
    facility: Any = field(init=False)
    outcome: Any = field(init=False)
    reason: Any = field(init=False)
    team_calls: npt.NDArray[np.int64] = field(init=False)
    team_busy_s: npt.NDArray[np.float64] = field(init=False)
    team_overtime_s: npt.NDArray[np.float64] = field(init=False)
    wellness: Any = field(init=False)
    overridden: Any = field(init=False)
    team_breaks: npt.NDArray[np.int64] = field(init=False)
    team_breaks_deferred: npt.NDArray[np.int64] = field(init=False)
    team_break_delay_s: npt.NDArray[np.float64] = field(init=False)
    team_breaks_missed: npt.NDArray[np.int64] = field(init=False)
    events: list[tuple[float, int, str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n, m = self.n_calls, self.n_teams
        nan = float("nan")
        self.team = [-1] * n
        self.ready_s = [nan] * n
        self.dispatched_s = [nan] * n
        self.arrived_s = [nan] * n
        self.cleared_s = [nan] * n
        self.travel_s = [nan] * n
        self.on_scene_s = [nan] * n
        self.transported = [-1] * n
        self.facility = [-1] * n
        self.outcome = [NOT_SERVED] * n
        self.reason = [-1] * n
        self.team_calls = np.zeros(m, dtype=np.int64)
        self.team_busy_s = np.zeros(m)
        self.team_overtime_s = np.zeros(m)
        self.wellness = [""] * n
        self.overridden = [False] * n
        self.team_breaks = np.zeros(m, dtype=np.int64)
        self.team_breaks_deferred = np.zeros(m, dtype=np.int64)
        self.team_break_delay_s = np.zeros(m)
        self.team_breaks_missed = np.zeros(m, dtype=np.int64)

    def freeze(self) -> None:
        """Turn the per-call lists into numpy arrays."""
        for name, dtype in (
            ("team", np.int64),
            ("ready_s", np.float64),
            ("dispatched_s", np.float64),
            ("arrived_s", np.float64),
            ("cleared_s", np.float64),
            ("travel_s", np.float64),
            ("on_scene_s", np.float64),
            ("transported", np.int8),
            ("facility", np.int64),
            ("outcome", np.int8),
            ("reason", np.int8),
            ("overridden", np.bool_),
        ):
            setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))
        self.wellness = np.asarray(self.wellness, dtype=object)


class Replay:
    """Replays one replication's calls through a `Dispatcher`.

    Parameters
    ----------
    matcher
        The dispatch rules and travel oracle.
    setup
        Fleet facts.
    call_ids, received_s, place, risk, priority, simulated
        Call columns, sorted by ``received_s``; ``place`` is the travel-oracle place and ``risk``
        the effective risk the rules act on.
    draws
        Random durations per call.
    fallback_after_s
        Wait before the fallback response (None: never; 0: at once).
    pool_fallback
        True: fallback is an unlimited pool; False: the fleet's own fallback teams.
    horizon_s
        The run stops here; calls still waiting are ``unserved``.
    event_log
        Record one row per state change.
    critical
        Per call, whether it counts as a critical incident (for the recovery rule).
    meal_break
        A meal break per shift, or None.
    zone, call_type
        Per call, its dispatch zone and type, for policies with run cards (None: unknown).
    """

    def __init__(
        self,
        matcher: Matcher,
        setup: FleetSetup,
        *,
        call_ids: npt.NDArray[Any],
        received_s: npt.NDArray[np.float64],
        place: npt.NDArray[np.int64],
        risk: list[RiskLevel],
        priority: npt.NDArray[np.int64],
        simulated: npt.NDArray[np.bool_],
        draws: CallDraws,
        fallback_after_s: float | None,
        pool_fallback: bool,
        horizon_s: float,
        event_log: bool = False,
        critical: npt.NDArray[np.bool_] | None = None,
        meal_break: MealBreak | None = None,
        zone: list[str | None] | None = None,
        call_type: npt.NDArray[Any] | None = None,
    ) -> None:
        self.env = simpy.Environment()
        self.travel = matcher.travel
        self.setup = setup
        self.call_ids = call_ids
        self.received_s = received_s
        self.place = place.tolist()
        self.risk = risk
        self.priority = priority.tolist()
        self.simulated = simulated
        self.draws = draws
        self.turnout = draws.turnout_s.tolist()
        self.on_scene = draws.on_scene_s.tolist()
        self.transport = draws.transport.tolist()
        # Read only by transports and by calls for the fallback pool (drawn on first use).
        self.handoff: list[float] = drawn(draws.handoff_s).tolist() if draws.transport.any() else []
        self.pool_travel: list[float] | None = None
        self.pool_fallback = pool_fallback
        self.horizon_s = horizon_s
        self.log_events = event_log
        m = len(setup.team_ids)
        n = len(received_s)
        self.rec = Records(n, m)
        fleet = Fleet(setup.team_ids, setup.kinds, setup.cit, setup.station_place.copy())
        self.session = Dispatcher(
            matcher,
            fleet,
            setup.station_place,
            settings=DispatchSettings(
                fallback_after_s=fallback_after_s,
                pool_fallback=pool_fallback,
                meal_break=meal_break,
            ),
            legs=setup.legs,
        )
        self.team_row = fleet.index
        self.facility_place = setup.facility_place.tolist()
        self.critical = [False] * n if critical is None else critical.tolist()
        self.zone: list[str | None] = [None] * n if zone is None else zone
        self.call_type: list[str] = [""] * n if call_type is None else call_type.tolist()
        self._to_facility = setup.nearest_facility
        self._banded = self.travel.n_bands > 1
        self._seq = 0
        # A team is on one call at a time and one arrival is in flight at a time, so what an
        # event is about is kept here, with callbacks bound once: a `partial` per event cost
        # more than the rest of the replay's own bookkeeping of a call.
        self._arriving = -1
        self._clear_cb = [partial(self._on_clear, i) for i in range(m)]
        self._job_call = [-1] * m
        self._job_place = [-1] * m

    # -- logging ---------------------------------------------------------------------------
    def _log(self, time_s: float, what: str, call: int = -1, team: int = -1) -> None:
        self._seq += 1
        self.rec.events.append(
            (
                float(time_s),
                self._seq,
                what,
                str(self.call_ids[call]) if call >= 0 else "",
                self.setup.team_ids[team] if team >= 0 else "",
            )
        )

    # -- setup -----------------------------------------------------------------------------
    def run(self) -> Records:
        """Run to the horizon and return the records."""
        env = self.env
        # Shift starts and ends, by time, ties in team order (start before end): one chain of
        # events like the calls', so the event heap holds only what is in flight, not the year's
        # shifts (a heap of thousands made every event's push and pop several comparisons dearer).
        changes: list[tuple[float, int, bool]] = []
        for i, intervals in enumerate(self.setup.duty):
            for start, end in intervals:
                if start >= self.horizon_s:
                    break
                changes.append((start, i, True))
                if end < self.horizon_s:
                    changes.append((end, i, False))
        changes.sort(key=itemgetter(0))  # stable: equal times keep the order above
        self._changes = changes
        self._next_change = 0
        self._schedule_next_change(env.now)
        ready = self.received_s + self.draws.processing_s
        self.rec.ready_s = np.where(self.simulated, ready, np.nan).tolist()
        for c in np.flatnonzero(~self.simulated).tolist():
            self.rec.outcome[c] = NOT_SIMULATED
        # Calls enter through one chain of events in ready-time order, so the event heap holds
        # only what is in flight, not the whole year.
        # By ready time, ties by call row: a stable sort of the rows (already in row order).
        rows = np.flatnonzero(self.simulated)
        order = np.argsort(ready[rows], kind="stable")
        self._arrival_s: list[float] = ready[rows][order].tolist()
        self._arrival_call: list[int] = rows[order].tolist()
        self._next_arrival = 0
        if self.log_events:
            for c in np.flatnonzero(self.simulated).tolist():
                self._log(self.received_s[c], "received", call=c)
        self._schedule_next_arrival(env.now)
        with _long_lived_frozen():
            env.run(until=self.horizon_s)
        self._close()
        return self.rec

    def _close(self) -> None:
        """Calls still waiting at the horizon are unserved; their reason stays as recorded.

        Teams still on a call at the horizon count their busy time up to it.
        """
        self._apply(self.session.close(self.horizon_s), self.horizon_s)
        self._clear_cb = []  # they refer back to the replay: dropped, it is freed by refcount
        rec, tally = self.rec, self.session.tally
        rec.team_calls = np.asarray(tally.calls, dtype=np.int64)
        rec.team_busy_s = np.asarray(tally.busy_s, dtype=np.float64)
        rec.team_overtime_s = np.asarray(tally.overtime_s, dtype=np.float64)
        rec.team_breaks = np.asarray(tally.breaks, dtype=np.int64)
        rec.team_breaks_deferred = np.asarray(tally.breaks_deferred, dtype=np.int64)
        rec.team_break_delay_s = np.asarray(tally.break_delay_s, dtype=np.float64)
        rec.team_breaks_missed = np.asarray(tally.breaks_missed, dtype=np.int64)
        rec.freeze()

    # -- the world around the session ------------------------------------------------------
    def _nearest_facility(self, scene: int, at_s: float) -> tuple[int, float]:
        """The facility nearest a scene for a transport leaving at ``at_s``, and its seconds."""
        key = (scene, self.travel.band_at(at_s) if self._banded else 0)
        found = self._to_facility.get(key)
        if found is None:
            times = [self.travel.time(scene, f, at_s) for f in self.facility_place]
            k = min(range(len(times)), key=times.__getitem__)  # the first of the nearest
            found = (k, times[k])
            self._to_facility[key] = found
        return found

    def _apply(self, decisions: list[Decision], now: float) -> None:
        """Record the session's decisions and turn its timer requests into timeouts."""
        rec = self.rec
        for d in decisions:
            if type(d) is Dispatch:
                c = int(d.call_id)
                if d.wellness:
                    rec.wellness[c] = d.wellness.label
                    rec.overridden[c] = d.wellness.override is not None
                self._dispatch(c, self.team_row[d.team_id], d.eta_s, now, d.specialist)
            elif type(d) is Timer:
                self.env.timeout(d.at_s - now, d.timer_id).callbacks.append(self._on_timer)
            elif type(d) is Queue or type(d) is Fallback:
                c = int(d.call_id)
                rec.reason[c] = REASON_CODE[d.reason]
                if d.wellness:
                    rec.wellness[c] = d.wellness.label
                if type(d) is Queue:
                    if self.log_events:
                        self._log(now, "queued" if d.specialist_only else "waiting_any", call=c)
                else:
                    if self.log_events:
                        self._log(now, "fallback", call=c)
                    if self.pool_fallback:
                        self._pool_response(c, now)
            elif type(d) is Held:
                rec.wellness[int(d.call_id)] = d.wellness.label
            elif type(d) is Unserved:
                c = int(d.call_id)
                rec.outcome[c] = NOT_SERVED
                if self.log_events:
                    self._log(d.at_s, "unserved", call=c)
            elif self.log_events:
                assert isinstance(d, BreakStarted | BreakEnded | OffDuty)
                self._log(d.at_s, _TEAM_EVENTS[type(d)], team=self.team_row[d.team_id])

    def _schedule_next_arrival(self, now: float) -> None:
        k = self._next_arrival
        if k < len(self._arrival_s):
            at = self._arrival_s[k]
            self._arriving = self._arrival_call[k]
            self._next_arrival = k + 1
            self.env.timeout(at - now).callbacks.append(self._on_ready)

    # SimPy callbacks: what each event is about is in ``_arriving`` and ``_job_*`` (a timer's
    # id is its event's value).
    def _on_ready(self, event: simpy.Event) -> None:
        now = self.env.now
        c = self._arriving
        # The arrival chain schedules relative delays, so ``now`` may differ from the planned
        # ready time in the last bits; recording the clock keeps queue_s exactly 0, never < 0.
        self.rec.ready_s[c] = now
        self._schedule_next_arrival(now)
        decisions = self.session.call_ready(
            c,
            now,
            place=self.place[c],
            risk=self.risk[c],
            priority=self.priority[c],
            critical=self.critical[c],
            zone=self.zone[c],
            call_type=self.call_type[c],
        )
        if len(decisions) == 1:
            first = decisions[0]
            if type(first) is Dispatch:
                _, team_id, eta_s, specialist, wellness, _ = first
                if wellness is None:  # most calls: a team goes at once, nothing else to record
                    self._dispatch(c, self.team_row[team_id], eta_s, now, specialist)
                    return
        self._apply(decisions, now)

    def _on_timer(self, event: simpy.Event) -> None:
        now = self.env.now
        # the timeout carries its timer's id
        self._apply(self.session.timer_due(str(event.value), now), now)

    def _pool_response(self, c: int, now: float) -> None:
        rec = self.rec
        if self.pool_travel is None:
            self.pool_travel = drawn(self.draws.pool_travel_s).tolist()
        travel = self.pool_travel[c]
        arrived = now + travel
        clear = arrived + self.on_scene[c]
        if self.transport[c]:
            k, to_facility = self._nearest_facility(self.place[c], clear)
            clear += to_facility + self.handoff[c]
            rec.facility[c] = k
        rec.dispatched_s[c] = now
        rec.travel_s[c] = travel
        rec.arrived_s[c] = arrived
        rec.on_scene_s[c] = self.on_scene[c]
        rec.cleared_s[c] = clear
        rec.transported[c] = int(self.transport[c])
        rec.outcome[c] = FALLBACK
        if self.log_events:
            self._log(arrived, "on_scene", call=c)
            if self.transport[c]:
                self._log(clear - self.handoff[c], "at_facility", call=c)
            self._log(clear, "cleared", call=c)

    def _dispatch(self, c: int, i: int, eta_s: float, now: float, specialist: bool) -> None:
        rec = self.rec
        travel = self.turnout[c] + eta_s
        arrived = now + travel
        scene = self.place[c]
        on_scene = self.on_scene[c]
        clear = arrived + on_scene
        clear_place = scene
        transport = self.transport[c]
        if transport:
            k, to_facility = self._nearest_facility(scene, clear)
            clear += to_facility + self.handoff[c]
            clear_place = self.facility_place[k]
            rec.facility[c] = k
        rec.team[c] = i
        rec.dispatched_s[c] = now
        rec.travel_s[c] = travel
        rec.arrived_s[c] = arrived
        rec.on_scene_s[c] = on_scene
        rec.cleared_s[c] = clear
        rec.transported[c] = 1 if transport else 0
        rec.outcome[c] = SPECIALIST if specialist else FALLBACK
        if self.log_events:
            self._log(now, "dispatched", call=c, team=i)
            self._log(arrived, "on_scene", call=c, team=i)
            if transport:
                self._log(clear - self.handoff[c], "at_facility", call=c, team=i)
        self._job_call[i] = c
        self._job_place[i] = clear_place
        self.env.timeout(clear - now).callbacks.append(self._clear_cb[i])

    def _on_clear(self, i: int, event: simpy.Event) -> None:
        now = self.env.now
        if self.log_events:
            self._log(now, "cleared", call=self._job_call[i], team=i)
        decisions = self.session.unit_cleared(self.setup.team_ids[i], now, place=self._job_place[i])
        if decisions:
            self._apply(decisions, now)

    # -- shifts ----------------------------------------------------------------------------
    def _schedule_next_change(self, now: float) -> None:
        k = self._next_change
        if k < len(self._changes):
            self._next_change = k + 1
            ShiftChange(self.env, exact_delay(now, self._changes[k][0])).callbacks.append(
                self._on_shift_change
            )

    def _on_shift_change(self, event: simpy.Event) -> None:
        now = self.env.now
        changes = self._changes
        first = self._next_change - 1
        # Changes due at this very instant with the clock on it would each come next anyway (a
        # zero delay at URGENT, nothing between): they are heard here, in order, without events
        # of their own (a watch's teams change together).
        last = first + 1
        while last < len(changes) and changes[last][0] == now:
            last += 1
        self._next_change = last
        self._schedule_next_change(now)
        team_ids = self.setup.team_ids
        # The session hears the planned instant: the clock can sit a unit in the last place
        # before it when no delay from the last change lands on it exactly (`exact_delay`).
        for at, i, starts in changes[first:last]:
            if self.log_events:
                self._log(at, "shift_start" if starts else "shift_end", team=i)
            change = self.session.shift_started if starts else self.session.shift_ended
            self._apply(change(team_ids[i], at), now)


class ShiftChange(simpy.Timeout):
    """A timeout that fires before the ordinary events of its instant (SimPy's URGENT).

    Shift starts and ends come first at their instant, as when every one was scheduled at the
    start (a call ready at the handover goes to the new shift), though each is scheduled only
    when the one before it fires.
    """

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        # `simpy.Timeout.__init__` (which SimPy itself inlines from `Event`) at URGENT priority
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self.env = env
        self.callbacks = []
        self._value = None
        self._delay = delay
        self._ok = True
        env.schedule(self, URGENT, delay)


def exact_delay(now: float, at: float) -> float:
    """A delay SimPy adds to ``now`` to land on ``at``, or just before it (seconds, ``at >= now``).

    Usually ``at - now``, which lands on ``at`` exactly. Where no delay does (the sum rounds
    past it), one that lands a unit in the last place before it: a shift change then still
    comes before every event at its own instant, as when all were scheduled from 0.

    Examples
    --------
    >>> now, at = 18590.627, 120889.96
    >>> now + (at - now) > at, now + exact_delay(now, at) < at
    (True, True)
    >>> exact_delay(28800.0, 57600.0)
    28800.0
    """
    delay = at - now
    while delay > 0.0 and now + delay > at:
        delay = math.nextafter(delay, -math.inf)
    for _ in range(4):  # short of it: a step or two up may land on it
        if now + delay == at:
            break
        up = math.nextafter(delay, math.inf)
        if now + up > at:
            break
        delay = up
    return max(delay, 0.0)
