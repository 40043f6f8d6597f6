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

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from dispatch.match.fleet import Fleet
from dispatch.match.matcher import Matcher
from dispatch.model import ReasonCode, RiskLevel, TeamKind
from dispatch.travel import Route

# Call states
PENDING, QUEUED, QUEUED_ANY, DISPATCHED, POOL, UNSERVED, THINNED = range(7)
# Team states
IDLE, RETURNING, BUSY, OFF = range(4)
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


@dataclass
class FleetSetup:
    """Static fleet facts, rows sorted by team id (the `Fleet` order)."""

    team_ids: list[str]
    kinds: list[TeamKind]
    cit: list[bool]
    station_place: npt.NDArray[np.int64]
    duty: list[list[tuple[float, float]]]
    facility_place: npt.NDArray[np.int64]


@dataclass
class Records:
    """Per-call and per-team outcomes of one replication, as numpy columns."""

    n_calls: int
    n_teams: int
    team: npt.NDArray[np.int64] = field(init=False)
    ready_s: npt.NDArray[np.float64] = field(init=False)
    dispatched_s: npt.NDArray[np.float64] = field(init=False)
    arrived_s: npt.NDArray[np.float64] = field(init=False)
    cleared_s: npt.NDArray[np.float64] = field(init=False)
    travel_s: npt.NDArray[np.float64] = field(init=False)
    on_scene_s: npt.NDArray[np.float64] = field(init=False)
    transported: npt.NDArray[np.int8] = field(init=False)
    facility: npt.NDArray[np.int64] = field(init=False)
    outcome: npt.NDArray[np.int8] = field(init=False)
    reason: npt.NDArray[np.int8] = field(init=False)
    team_calls: npt.NDArray[np.int64] = field(init=False)
    team_busy_s: npt.NDArray[np.float64] = field(init=False)
    team_overtime_s: npt.NDArray[np.float64] = field(init=False)
    events: list[tuple[float, int, str, str, str]] = field(default_factory=list)
    end_s: float = 0.0

    def __post_init__(self) -> None:
        n, m = self.n_calls, self.n_teams
        self.team = np.full(n, -1, dtype=np.int64)
        self.ready_s = np.full(n, np.nan)
        self.dispatched_s = np.full(n, np.nan)
        self.arrived_s = np.full(n, np.nan)
        self.cleared_s = np.full(n, np.nan)
        self.travel_s = np.full(n, np.nan)
        self.on_scene_s = np.full(n, np.nan)
        self.transported = np.full(n, -1, dtype=np.int8)
        self.facility = np.full(n, -1, dtype=np.int64)
        self.outcome = np.full(n, NOT_SERVED, dtype=np.int8)
        self.reason = np.full(n, -1, dtype=np.int8)
        self.team_calls = np.zeros(m, dtype=np.int64)
        self.team_busy_s = np.zeros(m)
        self.team_overtime_s = np.zeros(m)


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
        self.state_call = np.zeros(n, dtype=np.int8)
        self.state_team = [OFF] * m
        self.busy_since = [0.0] * m
        self.pending_shift_end: list[float | None] = [None] * m
        self.returning: dict[int, tuple[Route, float]] = {}
        self.queues: tuple[deque[int], ...] = tuple(deque() for _ in range(5))
        self.n_queued = 0
        self._routes: dict[tuple[int, int], Route] = {}
        self._to_facility: dict[int, tuple[int, float]] = {}
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
        self.rec.ready_s[:] = np.where(self.simulated, ready, np.nan)
        self.rec.outcome[~self.simulated] = NOT_SIMULATED
        self.state_call[~self.simulated] = THINNED
        on_ready = self._on_ready
        for c in np.flatnonzero(self.simulated).tolist():
            if self.log_events:
                self._log(self.received_s[c], "received", call=c)
            ev = env.timeout(float(ready[c]), c)
            ev.callbacks.append(on_ready)
        env.run(until=self.horizon_s)
        self._close()
        return self.rec

    def _close(self) -> None:
        """Calls still waiting at the horizon are unserved; their reason stays as recorded."""
        for queue in self.queues:
            for c in queue:
                if self.state_call[c] in (QUEUED, QUEUED_ANY):
                    self.state_call[c] = UNSERVED
                    self.rec.outcome[c] = NOT_SERVED
                    if self.log_events:
                        self._log(self.horizon_s, "unserved", call=c)
        self.rec.end_s = self.horizon_s

    # -- positions -------------------------------------------------------------------------
    def _refresh_positions(self, now: float) -> None:
        """Move returning teams along their routes to where they are at ``now``."""
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

    def _route(self, origin: int, destination: int) -> Route:
        key = (origin, destination)
        route = self._routes.get(key)
        if route is None:
            route = self.travel.route(origin, destination)
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
    def _on_ready(self, event: simpy.Event) -> None:
        c: int = event._value
        now = self.env.now
        self._refresh_positions(now)
        choice = self.matcher.best(self.place[c], self.risk[c], self.fleet, specialist_only=True)
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
        choice = self.matcher.best(self.place[c], self.risk[c], self.fleet)
        if choice.row >= 0:
            self._dispatch(c, choice.row, choice.eta_s, now, specialist=choice.specialist)
        else:
            self._enqueue(c, QUEUED_ANY, now)

    def _pool_response(self, c: int, now: float) -> None:
        rec, d = self.rec, self.draws
        self.state_call[c] = POOL
        travel = float(d.pool_travel_s[c])
        arrived = now + travel
        clear = arrived + float(d.on_scene_s[c])
        if d.transport[c]:
            k, to_facility = self._nearest_facility(self.place[c])
            clear += to_facility + float(d.handoff_s[c])
            rec.facility[c] = k
        rec.dispatched_s[c] = now
        rec.travel_s[c] = travel
        rec.arrived_s[c] = arrived
        rec.on_scene_s[c] = d.on_scene_s[c]
        rec.cleared_s[c] = clear
        rec.transported[c] = int(d.transport[c])
        rec.outcome[c] = FALLBACK

    def _dispatch(self, c: int, i: int, eta_s: float, now: float, *, specialist: bool) -> None:
        rec, d = self.rec, self.draws
        self.state_call[c] = DISPATCHED
        self.state_team[i] = BUSY
        self.returning.pop(i, None)
        self.fleet.dispatchable[i] = False
        self.busy_since[i] = now
        travel = float(d.turnout_s[c]) + eta_s
        arrived = now + travel
        scene = self.place[c]
        clear = arrived + float(d.on_scene_s[c])
        clear_place = scene
        if d.transport[c]:
            k, to_facility = self._nearest_facility(scene)
            clear += to_facility + float(d.handoff_s[c])
            clear_place = int(self.setup.facility_place[k])
            rec.facility[c] = k
        rec.team[c] = i
        rec.dispatched_s[c] = now
        rec.travel_s[c] = travel
        rec.arrived_s[c] = arrived
        rec.on_scene_s[c] = d.on_scene_s[c]
        rec.cleared_s[c] = clear
        rec.transported[c] = int(d.transport[c])
        rec.outcome[c] = SPECIALIST if specialist else FALLBACK
        rec.team_calls[i] += 1
        self.fleet.place[i] = clear_place  # where it will be when it clears
        if self.log_events:
            self._log(now, "dispatched", call=c, team=i)
            self._log(arrived, "on_scene", call=c, team=i)
            if d.transport[c]:
                self._log(clear - float(d.handoff_s[c]), "at_facility", call=c, team=i)
        ev = self.env.timeout(clear - now, (c, i))
        ev.callbacks.append(self._on_clear)

    # -- teams -----------------------------------------------------------------------------
    def _on_clear(self, event: simpy.Event) -> None:
        c, i = event._value
        now = self.env.now
        self.rec.team_busy_s[i] += now - self.busy_since[i]
        if self.log_events:
            self._log(now, "cleared", call=c, team=i)
        here = int(self.fleet.place[i])
        route = self._route(here, self.station[i])
        shift_end = self.pending_shift_end[i]
        if shift_end is not None:
            # Finished a call past shift end: drive home on overtime, then off duty.
            self.pending_shift_end[i] = None
            self.rec.team_overtime_s[i] += now + route.duration_s - shift_end
            self._go_off_duty(i, now + route.duration_s)
            return
        if route.duration_s > 0:
            self.state_team[i] = RETURNING
            self.returning[i] = (route, now)
        else:
            self.state_team[i] = IDLE
        self.fleet.dispatchable[i] = True
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
        self._match_queue(now)

    def _on_shift_end(self, event: simpy.Event) -> None:
        i: int = event._value
        now = self.env.now
        if self.log_events:
            self._log(now, "shift_end", team=i)
        self.fleet.on_duty[i] = False
        self.fleet.dispatchable[i] = False
        state = self.state_team[i]
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
                choice = best(self.place[c], self.risk[c], fleet, specialist_only=state == QUEUED)
                if choice.row >= 0:
                    self.n_queued -= 1
                    self._dispatch(c, choice.row, choice.eta_s, now, specialist=choice.specialist)
                else:
                    kept.append(c)
            queue.extend(kept)
