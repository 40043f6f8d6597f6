"""The event loop of one replication, on a SimPy environment.

One dispatcher owns the pending queue and the fleet's columns; teams are rows, not SimPy
resources. A call costs few events: *ready* (received + processing delay; dispatch is tried),
*clear* (the team is free again) and, only when it has to wait, a *fallback timer*. Arrival on
scene, hand-off and the return to station are computed when the team is dispatched or cleared, not
scheduled: nothing can change them once the team is committed. A returning team is dispatchable;
its position is read off its route when a decision needs it.

Every decision goes through `Matcher.best`: the same rules as the library.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import simpy

from dispatch.match.fleet import Fleet
from dispatch.match.matcher import Matcher
from dispatch.model import ReasonCode, RiskLevel, TeamKind
from dispatch.sim.wellness import WellnessTracker
from dispatch.travel import Route

if TYPE_CHECKING:
    from dispatch.scenario import MealBreak

# Call states
PENDING, QUEUED, QUEUED_ANY, DISPATCHED, POOL, UNSERVED, THINNED = range(7)
# Team states
IDLE, RETURNING, BUSY, OFF, ON_BREAK = range(5)
# Outcome codes (index into OUTCOMES)
OUTCOMES = ("specialist", "fallback", "unserved", "thinned")
SPECIALIST, FALLBACK, NOT_SERVED, NOT_SIMULATED = range(4)
REASONS: tuple[ReasonCode, ...] = tuple(ReasonCode)
REASON_CODE = {r: i for i, r in enumerate(REASONS)}


@dataclass
class CallDraws:
    """Per-call random draws of one replication (seconds; ``transport`` resolved to 0/1)."""

    processing_s: npt.NDArray[np.float64]
    turnout_s: npt.NDArray[np.float64]
    on_scene_s: npt.NDArray[np.float64]
    transport: npt.NDArray[np.bool_]
    handoff_s: npt.NDArray[np.float64]
    pool_travel_s: npt.NDArray[np.float64]


class Leg:
    """A route in plain Python lists: reading a position off it is a `bisect`, no numpy."""

    __slots__ = ("duration_s", "elapsed", "places")

    def __init__(self, route: Route) -> None:
        self.places: list[int] = route.places.tolist()
        self.elapsed: list[float] = route.elapsed_s.tolist()
        self.duration_s = route.duration_s

    def place_at(self, elapsed_s: float) -> int:
        """The last place reached ``elapsed_s`` seconds after setting out."""
        k = bisect_right(self.elapsed, elapsed_s) - 1
        return self.places[max(0, min(k, len(self.places) - 1))]


@dataclass
class FleetSetup:
    """Static fleet facts, rows sorted by team id (the `Fleet` order)."""

    team_ids: list[str]
    kinds: list[TeamKind]
    cit: list[bool]
    station_place: npt.NDArray[np.int64]
    duty: list[list[tuple[float, float]]]
    facility_place: npt.NDArray[np.int64]
    #: Nearest facility (index, seconds) by scene place, shared by every replication.
    nearest_facility: dict[int, tuple[int, float]] = field(default_factory=dict)
    #: Routes home by (origin, station), shared by every replication.
    legs: dict[tuple[int, int], Leg] = field(default_factory=dict)


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
        ):
            setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))
        self.wellness = np.asarray(self.wellness, dtype=object)


class Replay:
    """Replays one replication's calls through the matcher.

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
    ) -> None:
        self.env = simpy.Environment()
        self.matcher = matcher
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
        self.handoff = draws.handoff_s.tolist()
        self.pool_travel = draws.pool_travel_s.tolist()
        self.fallback_after_s = fallback_after_s
        self.pool_fallback = pool_fallback
        self.horizon_s = horizon_s
        self.log_events = event_log
        m = len(setup.team_ids)
        n = len(received_s)
        self.rec = Records(n, m)
        self.fleet = Fleet(
            setup.team_ids,
            setup.kinds,
            setup.cit,
            setup.station_place.copy(),
            on_duty=np.zeros(m, dtype=bool),
            dispatchable=np.zeros(m, dtype=bool),
        )
        self.station = setup.station_place.tolist()
        self.facility_place = setup.facility_place.tolist()
        self.team_calls = [0] * m
        self.critical = [False] * n if critical is None else critical.tolist()
        self.tracker = (
            WellnessTracker(matcher.wellness, self.fleet) if matcher.wellness is not None else None
        )
        self.meal_break = meal_break
        # Per team: end of the open break window while a break is due but the team is busy.
        self.break_due_since: list[float | None] = [None] * m
        self.state_call = np.zeros(n, dtype=np.int8)
        self.state_team = [OFF] * m
        self.busy_since = [0.0] * m
        self.pending_shift_end: list[float | None] = [None] * m
        self.returning: dict[int, tuple[Leg, float]] = {}
        self.queues: tuple[deque[int], ...] = tuple(deque() for _ in range(5))
        self.n_queued = 0
        self._routes = setup.legs
        self._to_facility = setup.nearest_facility
        self._seq = 0

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
        for i, intervals in enumerate(self.setup.duty):
            for start, end in intervals:
                if start >= self.horizon_s:
                    break
                ev = env.timeout(start, i)
                ev.callbacks.append(self._on_shift_start)
                if end < self.horizon_s:
                    ev = env.timeout(end, i)
                    ev.callbacks.append(self._on_shift_end)
        ready = self.received_s + self.draws.processing_s
        self.rec.ready_s = np.where(self.simulated, ready, np.nan).tolist()
        for c in np.flatnonzero(~self.simulated).tolist():
            self.rec.outcome[c] = NOT_SIMULATED
            self.state_call[c] = THINNED
        # Calls enter through one chain of events in ready-time order, so the event heap holds
        # only what is in flight, not the whole year.
        self._arrivals = sorted(
            zip(
                ready[self.simulated].tolist(), np.flatnonzero(self.simulated).tolist(), strict=True
            )
        )
        self._next_arrival = 0
        if self.log_events:
            for c in np.flatnonzero(self.simulated).tolist():
                self._log(self.received_s[c], "received", call=c)
        self._schedule_next_arrival()
        env.run(until=self.horizon_s)
        self._close()
        return self.rec

    def _close(self) -> None:
        """Calls still waiting at the horizon are unserved; their reason stays as recorded.

        Teams still on a call at the horizon count their busy time up to it.
        """
        for i, state in enumerate(self.state_team):
            if state == BUSY:
                self.rec.team_busy_s[i] += self.horizon_s - self.busy_since[i]
        for queue in self.queues:
            for c in queue:
                if self.state_call[c] in (QUEUED, QUEUED_ANY):
                    self.state_call[c] = UNSERVED
                    self.rec.outcome[c] = NOT_SERVED
                    if self.log_events:
                        self._log(self.horizon_s, "unserved", call=c)
        self.rec.team_calls = np.asarray(self.team_calls, dtype=np.int64)
        self.rec.freeze()

    # -- positions -------------------------------------------------------------------------
    def _refresh_positions(self, now: float) -> None:
        """Move returning teams along their routes to where they are at ``now``.

        Also brings the wellness columns up to date when wellness rules are on.
        """
        if self.tracker is not None:
            self.tracker.refresh(now)
        if not self.returning:
            return
        place = self.fleet.place
        done = []
        for i, (route, start) in self.returning.items():
            elapsed = now - start
            if elapsed >= route.duration_s:
                place[i] = self.station[i]
                done.append(i)
            else:
                place[i] = route.place_at(elapsed)
        for i in done:
            del self.returning[i]
            self.state_team[i] = IDLE

    def _route(self, origin: int, destination: int) -> Leg:
        key = (origin, destination)
        route = self._routes.get(key)
        if route is None:
            if np.isfinite(self.travel.time(origin, destination)):
                route = Leg(self.travel.route(origin, destination))
            else:  # beyond the oracle's cut-off: count the cut-off, arrive at once after it
                cutoff = self.travel.cutoff_s
                route = Leg(Route(np.array([origin, destination]), np.array([0.0, cutoff])))
            self._routes[key] = route
        return route

    def _nearest_facility(self, scene: int) -> tuple[int, float]:
        found = self._to_facility.get(scene)
        if found is None:
            facilities = self.setup.facility_place
            times = np.array([self.travel.time(scene, int(f)) for f in facilities.tolist()])
            k = int(np.argmin(times))
            found = (k, float(times[k]))
            self._to_facility[scene] = found
        return found

    # -- calls -----------------------------------------------------------------------------
    def _schedule_next_arrival(self) -> None:
        k = self._next_arrival
        if k < len(self._arrivals):
            at, c = self._arrivals[k]
            self._next_arrival = k + 1
            ev = self.env.timeout(at - self.env.now, c)
            ev.callbacks.append(self._on_ready)

    def _on_ready(self, event: simpy.Event) -> None:
        c: int = event._value
        now = self.env.now
        # The arrival chain schedules relative delays, so ``now`` may differ from the planned
        # ready time in the last bits; recording the clock keeps queue_s exactly 0, never < 0.
        self.rec.ready_s[c] = now
        self._schedule_next_arrival()
        self._refresh_positions(now)
        choice = self.matcher.best(
            self.place[c],
            self.risk[c],
            self.fleet,
            specialist_only=True,
            now_s=now,
            priority=self.priority[c],
        )
        if choice.wellness:
            self.rec.wellness[c] = choice.wellness
        if choice.row >= 0:
            self._dispatch(c, choice.row, choice.eta_s, now, specialist=True)
            return
        reason = choice.reason
        assert reason is not None
        self.rec.reason[c] = REASON_CODE[reason]
        wait = self.fallback_after_s
        if reason is ReasonCode.ALL_BUSY and (wait is None or wait > 0):
            self._enqueue(c, QUEUED, now)
            if wait is not None:
                ev = self.env.timeout(wait, c)
                ev.callbacks.append(self._on_fallback_timer)
        else:
            self._fallback(c, now)

    def _enqueue(self, c: int, state: int, now: float) -> None:
        self.state_call[c] = state
        self.queues[self.priority[c]].append(c)
        self.n_queued += 1
        if self.log_events:
            self._log(now, "queued" if state == QUEUED else "waiting_any", call=c)

    def _on_fallback_timer(self, event: simpy.Event) -> None:
        c: int = event._value
        if self.state_call[c] == QUEUED:
            self.state_call[c] = PENDING  # leaves the specialist queue (removed lazily)
            self.n_queued -= 1
            self._fallback(c, self.env.now)

    def _fallback(self, c: int, now: float) -> None:
        if self.log_events:
            self._log(now, "fallback", call=c)
        if self.pool_fallback:
            self._pool_response(c, now)
            return
        self._refresh_positions(now)
        choice = self.matcher.best(
            self.place[c], self.risk[c], self.fleet, now_s=now, priority=self.priority[c]
        )
        if choice.wellness:
            self.rec.wellness[c] = choice.wellness
        if choice.row >= 0:
            self._dispatch(c, choice.row, choice.eta_s, now, specialist=choice.specialist)
        else:
            self._enqueue(c, QUEUED_ANY, now)

    def _pool_response(self, c: int, now: float) -> None:
        rec = self.rec
        self.state_call[c] = POOL
        travel = self.pool_travel[c]
        arrived = now + travel
        clear = arrived + self.on_scene[c]
        if self.transport[c]:
            k, to_facility = self._nearest_facility(self.place[c])
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

    def _dispatch(self, c: int, i: int, eta_s: float, now: float, *, specialist: bool) -> None:
        rec = self.rec
        self.state_call[c] = DISPATCHED
        self.state_team[i] = BUSY
        if self.returning:
            self.returning.pop(i, None)
        self.fleet.dispatchable[i] = False
        self.busy_since[i] = now
        if self.tracker is not None:
            self.tracker.dispatched(i, now)
        travel = self.turnout[c] + eta_s
        arrived = now + travel
        scene = self.place[c]
        on_scene = self.on_scene[c]
        clear = arrived + on_scene
        clear_place = scene
        transport = self.transport[c]
        if transport:
            k, to_facility = self._nearest_facility(scene)
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
        self.team_calls[i] += 1
        self.fleet.place[i] = clear_place  # where it will be when it clears
        if self.log_events:
            self._log(now, "dispatched", call=c, team=i)
            self._log(arrived, "on_scene", call=c, team=i)
            if transport:
                self._log(clear - self.handoff[c], "at_facility", call=c, team=i)
        ev = self.env.timeout(clear - now, (c, i))
        ev.callbacks.append(self._on_clear)

    # -- teams -----------------------------------------------------------------------------
    def _on_clear(self, event: simpy.Event) -> None:
        c, i = event._value
        now = self.env.now
        self.rec.team_busy_s[i] += now - self.busy_since[i]
        if self.log_events:
            self._log(now, "cleared", call=c, team=i)
        if self.tracker is not None:
            for delay in self.tracker.cleared(i, now, critical=self.critical[c]):
                self._wake_after(delay)
        here = int(self.fleet.place[i])
        route = self._route(here, self.station[i])
        shift_end = self.pending_shift_end[i]
        if shift_end is not None:
            # Finished a call past shift end: drive home on overtime, then off duty.
            self.pending_shift_end[i] = None
            self.rec.team_overtime_s[i] += now + route.duration_s - shift_end
            if self.break_due_since[i] is not None:
                self.break_due_since[i] = None
                self.rec.team_breaks_missed[i] += 1
            self._go_off_duty(i, now + route.duration_s)
            return
        window_end = self.break_due_since[i]
        if window_end is not None:
            # Busy when the break window opened: the break comes at the first free moment, and
            # counts as deferred when calls kept the team busy past the window.
            self.break_due_since[i] = None
            if now > window_end:
                self.rec.team_breaks_deferred[i] += 1
                self.rec.team_break_delay_s[i] += now - window_end
            self._start_break(i, now)
            return
        self._head_home(i, here, now)
        self._match_queue(now)

    def _head_home(self, i: int, here: int, now: float) -> None:
        """Team ``i`` is free at ``here``: dispatchable, driving back to its station."""
        route = self._route(here, self.station[i])
        if route.duration_s > 0:
            self.state_team[i] = RETURNING
            self.returning[i] = (route, now)
        else:
            self.state_team[i] = IDLE
        self.fleet.dispatchable[i] = True

    def _wake_after(self, delay_s: float) -> None:
        """Offer teams to waiting calls again once a wellness hold may have ended."""
        ev = self.env.timeout(delay_s)
        ev.callbacks.append(lambda _event: self._match_queue(self.env.now))

    # -- meal breaks -----------------------------------------------------------------------
    def _on_break_window(self, event: simpy.Event) -> None:
        i: int = event._value
        now = self.env.now
        state = self.state_team[i]
        if state in (IDLE, RETURNING) and self.fleet.on_duty[i]:
            self._refresh_positions(now)
            self._start_break(i, now)
        elif state == BUSY:
            assert self.meal_break is not None
            window = (self.meal_break.window_end_h - self.meal_break.window_start_h) * 3600.0
            self.break_due_since[i] = now + window

    def _start_break(self, i: int, now: float) -> None:
        assert self.meal_break is not None
        self.state_team[i] = ON_BREAK
        self.returning.pop(i, None)
        self.fleet.dispatchable[i] = False
        self.rec.team_breaks[i] += 1
        if self.log_events:
            self._log(now, "break_start", team=i)
        ev = self.env.timeout(self.meal_break.length_min * 60.0, i)
        ev.callbacks.append(self._on_break_end)

    def _on_break_end(self, event: simpy.Event) -> None:
        i: int = event._value
        now = self.env.now
        if self.state_team[i] != ON_BREAK:
            return  # the shift ended during the break
        if self.log_events:
            self._log(now, "break_end", team=i)
        if self.tracker is not None:
            self.tracker.rested(i, now)
        self._head_home(i, int(self.fleet.place[i]), now)
        self._match_queue(now)

    def _go_off_duty(self, i: int, at_s: float) -> None:
        self.state_team[i] = OFF
        self.returning.pop(i, None)
        self.fleet.place[i] = self.station[i]
        self.fleet.dispatchable[i] = False
        if self.log_events:
            self._log(at_s, "off_duty", team=i)

    def _on_shift_start(self, event: simpy.Event) -> None:
        i: int = event._value
        now = self.env.now
        if self.log_events:
            self._log(now, "shift_start", team=i)
        self.fleet.on_duty[i] = True
        if self.state_team[i] == BUSY:
            end = self.pending_shift_end[i]
            if end is not None:  # still on the last shift's call: overtime until now
                self.rec.team_overtime_s[i] += now - end
                self.pending_shift_end[i] = None
            return
        self.state_team[i] = IDLE
        self.fleet.place[i] = self.station[i]
        self.fleet.dispatchable[i] = True
        if self.tracker is not None:
            self.tracker.shift_started(i, now)
        if self.meal_break is not None:
            ev = self.env.timeout(self.meal_break.window_start_h * 3600.0, i)
            ev.callbacks.append(self._on_break_window)
        self._match_queue(now)

    def _on_shift_end(self, event: simpy.Event) -> None:
        i: int = event._value
        now = self.env.now
        if self.log_events:
            self._log(now, "shift_end", team=i)
        self.fleet.on_duty[i] = False
        self.fleet.dispatchable[i] = False
        state = self.state_team[i]
        if self.break_due_since[i] is not None and state != BUSY:
            self.break_due_since[i] = None
            self.rec.team_breaks_missed[i] += 1
        if state == BUSY:
            self.pending_shift_end[i] = now
        elif state == RETURNING:
            route, start = self.returning[i]
            remaining = max(0.0, route.duration_s - (now - start))
            self.rec.team_overtime_s[i] += remaining
            self._go_off_duty(i, now + remaining)
        else:
            self._go_off_duty(i, now)

    # -- queue -----------------------------------------------------------------------------
    def _match_queue(self, now: float) -> None:
        """Offer free teams to waiting calls: highest priority first, then oldest."""
        if self.n_queued == 0:
            return
        self._refresh_positions(now)
        best = self.matcher.best
        fleet = self.fleet
        for queue in self.queues:
            if not queue:
                continue
            kept: deque[int] = deque()
            while queue:
                c = queue.popleft()
                state = self.state_call[c]
                if state not in (QUEUED, QUEUED_ANY):
                    continue  # left the queue (fallback timer) since it was queued
                if not fleet.dispatchable.any():
                    kept.append(c)
                    continue
                choice = best(
                    self.place[c],
                    self.risk[c],
                    fleet,
                    specialist_only=state == QUEUED,
                    now_s=now,
                    priority=self.priority[c],
                )
                if choice.wellness:
                    self.rec.wellness[c] = choice.wellness
                if choice.row >= 0:
                    self.n_queued -= 1
                    self._dispatch(c, choice.row, choice.eta_s, now, specialist=choice.specialist)
                else:
                    kept.append(c)
            queue.extend(kept)
