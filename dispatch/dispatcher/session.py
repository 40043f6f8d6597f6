"""`Dispatcher`: a clock-free dispatch session, the same one the replay and a live service drive.

It owns what a dispatch floor decides besides "which team is best right now": the fleet's
state, the calls waiting and their order (priority, then age), when a waiting call falls back,
shift starts and ends, meal breaks, the wellness bookkeeping, and which waiting call a freed
team takes. Every "which team" question goes to the `Matcher`, the one set of dispatch rules.

It has no clock, no I/O and no randomness. Each event comes with its time ``now`` (seconds on
the caller's clock) and returns the decisions it causes, in order, plus `Timer` requests: the
caller wakes the session at each timer's time with `Dispatcher.timer_due`. The SimPy replay
turns timers into timeouts; a live service into wall-clock deadlines. The same events give the
same decisions.

Examples
--------
>>> from dispatch.dispatcher import Dispatcher, DispatchSettings
>>> from dispatch.match import Matcher
>>> from dispatch.model import RiskLevel, TeamKind
>>> from dispatch.networks import road_grid
>>> grid = road_grid(5, 5, jitter=0.0)
>>> session = Dispatcher.from_columns(
...     Matcher(grid), ["CR-1"], [TeamKind.CO_RESPONDER], [True], stations=[0],
...     settings=DispatchSettings(fallback_after_s=600.0))
>>> session.shift_started("CR-1", 0.0)
[]
>>> session.call_ready("A", 60.0, place=12, risk=RiskLevel.STANDARD)[0].team_id
'CR-1'
>>> session.call_ready("B", 90.0, place=6, risk=RiskLevel.STANDARD)
[Queue(call_id='B', reason=<ReasonCode.ALL_BUSY: 'all_busy'>, fallback_at_s=690.0, \
specialist_only=True, wellness=None), Timer(timer_id='fallback:1', at_s=690.0)]
>>> [type(d).__name__ for d in session.unit_cleared("CR-1", 400.0, place=12)]
['Dispatch']
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.dispatcher.bookkeeping import WellnessTracker
from dispatch.dispatcher.decisions import (
    BreakEnded,
    BreakStarted,
    CallKey,
    Decision,
    Dispatch,
    Fallback,
    Held,
    OffDuty,
    Queue,
    Timer,
    Unserved,
)
from dispatch.dispatcher.events import (
    CallReady,
    Event,
    ShiftBoundary,
    TimerDue,
    UnitCleared,
    UnitStatus,
)
from dispatch.dispatcher.legs import Leg
from dispatch.errors import InputError
from dispatch.match.explain import Recommendation
from dispatch.match.fleet import Fleet
from dispatch.match.holds import WellnessOutcome
from dispatch.match.matcher import Choice, Matcher
from dispatch.match.wellness import WellnessRules
from dispatch.model import Call, CallState, MealBreak, ReasonCode, RiskLevel, TeamKind, TeamStatus
from dispatch.travel import Route

_new_tuple = tuple.__new__
#: Ways home a session keeps (per origin, station and band) before it forgets them all; each is
#: rebuilt the same when next needed, so a session live for months stays bounded.
LEG_CACHE_SIZE = 200_000

AVAILABLE = TeamStatus.AVAILABLE
RETURNING = TeamStatus.RETURNING
DISPATCHED = TeamStatus.DISPATCHED
ON_BREAK = TeamStatus.ON_BREAK
OFF_DUTY = TeamStatus.OFF_DUTY
QUEUED = CallState.QUEUED
WAITING_ANY = CallState.WAITING_ANY


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    """The session's policy beyond the matcher's rules.

    Parameters
    ----------
    fallback_after_s
        Seconds an ``all_busy`` call waits for a specialist before it falls back; 0 falls back
        at once (a loss system), None never. ``off_shift``, ``too_far`` and ``ineligible``
        calls fall back at once.
    pool_fallback
        True: the fallback response is outside the fleet (a patrol pool) and the call leaves
        the session; False: the fleet's own fallback units (CIT officers, patrol) are sent.
    meal_break
        A meal break per shift, or None.
    """

    fallback_after_s: float | None = 600.0
    pool_fallback: bool = True
    meal_break: MealBreak | None = None

    def __post_init__(self) -> None:
        if self.fallback_after_s is not None and not self.fallback_after_s >= 0:
            raise InputError(
                f"fallback_after_s must be >= 0 or None, got {self.fallback_after_s!r}"
            )


class _Call:
    """A call the session still has to place (or has placed and may need at clear time)."""

    __slots__ = (
        "call_type",
        "critical",
        "key",
        "place",
        "priority",
        "reason",
        "risk",
        "state",
        "ticket",
        "zone",
    )

    def __init__(
        self,
        key: CallKey,
        place: int,
        risk: RiskLevel,
        priority: int,
        critical: bool,
        zone: str | None = None,
        call_type: str = "",
    ) -> None:
        self.key = key
        self.zone = zone
        self.call_type = call_type
        self.place = place
        self.risk = risk
        self.priority = priority
        self.critical = critical
        self.state = CallState.PENDING
        self.reason: ReasonCode | None = None
        # Which queue entry is the live one: a call that falls back to the fleet is queued again
        # at the back, and its older entry must not be offered a team a second time.
        self.ticket = 0

    def record(self) -> list[Any]:
        """Plain values for a snapshot."""
        reason = None if self.reason is None else self.reason.value
        return [
            self.key,
            self.place,
            self.risk.value,
            self.priority,
            self.critical,
            self.state.value,
            reason,
            self.ticket,
            self.zone,
            self.call_type,
        ]

    @classmethod
    def from_record(cls, row: list[Any]) -> _Call:
        """The call a `record` describes."""
        key, place, risk, priority, critical, state, reason, ticket, zone, call_type = row
        call = cls(key, int(place), RiskLevel(risk), int(priority), bool(critical), zone, call_type)
        call.state = CallState(state)
        call.reason = None if reason is None else ReasonCode(reason)
        call.ticket = int(ticket)
        return call


@dataclass
class TeamTally:
    """Per-team counters a session keeps, in fleet row order (seconds unless named).

    ``busy_s`` counts dispatch to clear; ``overtime_s`` work past a shift's end (finishing a
    call and driving home); ``breaks``, ``breaks_deferred`` (taken after the window because
    calls kept the team busy), ``break_delay_s`` and ``breaks_missed`` the meal breaks.
    """

    calls: list[int]
    busy_s: list[float]
    overtime_s: list[float]
    breaks: list[int]
    breaks_deferred: list[int]
    break_delay_s: list[float]
    breaks_missed: list[int]

    @classmethod
    def zeros(cls, n: int) -> TeamTally:
        """Counters for ``n`` teams, all zero."""
        return cls([0] * n, [0.0] * n, [0.0] * n, [0] * n, [0] * n, [0.0] * n, [0] * n)


class Dispatcher:
    """A dispatch session over one fleet.

    Parameters
    ----------
    matcher
        The dispatch rules, travel oracle and wellness rules.
    fleet
        The fleet's columns; the session owns and updates them. Every team starts off duty.
    stations
        Home station place of each fleet row (travel-oracle places).
    settings
        Fallback and meal-break policy.
    explain
        Attach the ranked alternatives to every `Dispatch` (slower; a replay leaves it off).
    legs
        Cache of routes home by ``(origin, station, travel band)``, shared between sessions
        on the same network (a replay shares it across replications).
    """

    def __init__(
        self,
        matcher: Matcher,
        fleet: Fleet,
        stations: npt.ArrayLike,
        *,
        settings: DispatchSettings | None = None,
        explain: bool = False,
        legs: dict[tuple[int, int, int], Leg] | None = None,
    ) -> None:
        self.matcher = matcher
        self.travel = matcher.travel
        self.fleet = fleet
        self.settings = settings if settings is not None else DispatchSettings()
        self.explain = explain
        m = len(fleet)
        self.station: list[int] = np.asarray(stations, dtype=np.int64).reshape(-1).tolist()
        if len(self.station) != m:
            raise InputError(f"{len(self.station)} stations for {m} teams")
        fleet.on_duty[:] = False
        fleet.dispatchable[:] = False
        fleet.place[:] = self.station
        self.status: list[TeamStatus] = [OFF_DUTY] * m
        self.tally = TeamTally.zeros(m)
        self.busy_since = [0.0] * m
        self.pending_shift_end: list[float | None] = [None] * m
        # Per team: end of the open break window while a break is due but the team is busy.
        self.break_due_until: list[float | None] = [None] * m
        self.returning: dict[int, tuple[Leg, float]] = {}
        # Per team: the call it is on (key, critical incident?), None when not on a call.
        self.on_call: list[tuple[CallKey, bool] | None] = [None] * m
        self.tracker = (
            WellnessTracker(matcher.wellness, fleet) if matcher.wellness is not None else None
        )
        self.calls: dict[CallKey, _Call] = {}
        self.queues: tuple[deque[tuple[int, _Call]], ...] = tuple(deque() for _ in range(5))
        self.n_queued = 0
        # Timers asked for and not yet due: id -> (kind, subject, due time).
        self.timers: dict[str, tuple[str, Any, float]] = {}
        self._timer_seq = 0
        self.applied: set[str] = set()
        self._legs = legs if legs is not None else {}
        self._banded = self.travel.n_bands > 1

    @classmethod
    def from_columns(
        cls,
        matcher: Matcher,
        team_ids: Sequence[str],
        kinds: Sequence[TeamKind],
        cit: Sequence[bool],
        *,
        stations: Sequence[int],
        **kwargs: Any,
    ) -> Dispatcher:
        """A session for teams given as columns (any order; rows are sorted by team id)."""
        order = sorted(range(len(team_ids)), key=lambda i: team_ids[i])
        fleet = Fleet(team_ids, kinds, cit, np.asarray(stations, dtype=np.int64))
        return cls(matcher, fleet, [stations[i] for i in order], **kwargs)

    # -- helpers ---------------------------------------------------------------------------
    def _row(self, team_id: str) -> int:
        try:
            return self.fleet.index[team_id]
        except KeyError:
            raise InputError(f"unknown team id {team_id!r}", field="team_id") from None

    def _timer(self, kind: str, subject: Any, at_s: float) -> Timer:
        self._timer_seq += 1
        timer_id = f"{kind}:{self._timer_seq}"
        self.timers[timer_id] = (kind, subject, at_s)
        return Timer(timer_id, at_s)

    def _route(self, origin: int, destination: int, at_s: float) -> Leg:
        """The way from ``origin`` to ``destination`` setting off at ``at_s``."""
        band = self.travel.band_at(at_s) if self._banded else 0
        key = (origin, destination, band)
        route = self._legs.get(key)
        if route is None:
            if math.isfinite(self.travel.time(origin, destination, at_s)):
                route = self.travel.leg(origin, destination, at_s)
            else:  # beyond the oracle's cut-off: count the cut-off, arrive at once after it
                cutoff = self.travel.cutoff_s
                route = Leg(Route(np.array([origin, destination]), np.array([0.0, cutoff])))
            if len(self._legs) >= LEG_CACHE_SIZE:
                self._legs.clear()
            self._legs[key] = route
        return route

    def _refresh(self, now: float) -> None:
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
            self.status[i] = AVAILABLE

    def _best(self, call: _Call, now: float, *, specialist_only: bool) -> Choice:
        return self.matcher.best(
            call.place,
            call.risk,
            self.fleet,
            specialist_only=specialist_only,
            now_s=now,
            priority=call.priority,
            zone=call.zone,
            call_type=call.call_type,
        )

    # -- calls -----------------------------------------------------------------------------
    def call_ready(
        self,
        call_id: CallKey,
        now: float,
        *,
        place: int,
        risk: RiskLevel,
        priority: int = 2,
        critical: bool = False,
        zone: str | None = None,
        call_type: str = "",
    ) -> list[Decision]:
        """A call is ready for dispatch (received and processed by the call taker).

        Parameters
        ----------
        call_id
            Unique key of the call in this session.
        now
            Seconds on the session's clock.
        place
            The call's travel-oracle place.
        risk
            The risk the rules act on (after escalating flags; `RuleSet.effective_risk`).
        priority
            1 (highest) to 4.
        critical
            Whether the call counts as a critical incident for the recovery rule.
        zone, call_type
            The call's dispatch zone and type, read by policies with run cards.
        """
        if call_id in self.calls:
            raise InputError(f"call {call_id!r} is already waiting", field="call_id")
        if self.returning or self.tracker is not None:
            self._refresh(now)
        choice = self.matcher.best(
            place,
            risk,
            self.fleet,
            specialist_only=True,
            now_s=now,
            priority=priority,
            zone=zone,
            call_type=call_type,
        )
        if choice.row >= 0:
            # Most calls go at once: no call record is kept for them.
            asked = None
            if self.explain:
                asked = _Call(call_id, place, risk, priority, critical, zone, call_type)
            return [self._commit(call_id, critical, choice, now, True, True, asked)]
        call = _Call(call_id, place, risk, priority, critical, zone, call_type)
        reason = choice.reason
        assert reason is not None
        call.reason = reason
        wait = self.settings.fallback_after_s
        if reason is ReasonCode.ALL_BUSY and (wait is None or wait > 0):
            at = None if wait is None else now + wait
            out: list[Decision] = [Queue(call_id, reason, at, True, choice.wellness)]
            self._enqueue(call, QUEUED)
            if at is not None:
                out.append(self._timer("fallback", call_id, at))
            return out
        return self._fallback(call, now, choice.wellness)

    def _enqueue(self, call: _Call, state: CallState) -> None:
        self.calls[call.key] = call
        call.state = state
        call.ticket += 1
        self.queues[call.priority].append((call.ticket, call))
        self.n_queued += 1

    def _fallback(
        self, call: _Call, now: float, wellness: WellnessOutcome | None = None
    ) -> list[Decision]:
        assert call.reason is not None
        out: list[Decision] = [Fallback(call.key, call.reason, wellness)]
        if self.settings.pool_fallback:
            call.state = CallState.FALLBACK
            self.calls.pop(call.key, None)
            return out
        self._refresh(now)
        choice = self._best(call, now, specialist_only=False)
        if choice.row >= 0:
            out.append(self._dispatch(call, choice, now, specialist_only=False))
        else:
            out.append(Queue(call.key, call.reason, None, False, choice.wellness))
            self._enqueue(call, WAITING_ANY)
        return out

    def _dispatch(
        self, call: _Call, choice: Choice, now: float, *, specialist_only: bool
    ) -> Dispatch:
        """Send ``choice`` to a waiting ``call``, decided over the specialist tiers alone or not."""
        call.state = CallState.DISPATCHED
        self.calls.pop(call.key, None)
        return self._commit(
            call.key, call.critical, choice, now, choice.specialist, specialist_only, call
        )

    def _commit(
        self,
        key: CallKey,
        critical: bool,
        choice: Choice,
        now: float,
        specialist: bool,
        specialist_only: bool,
        call: _Call | None,
    ) -> Dispatch:
        """Team ``choice.row`` is committed to call ``key``.

        ``call`` and ``specialist_only`` (how the choice was made) are read only to explain.
        """
        # Explained before the team is marked committed: the explanation is of this choice.
        explanation = None
        if self.explain and call is not None:
            explanation = self._explain(call, now, specialist_only=specialist_only)
        i = choice.row
        self.status[i] = DISPATCHED
        if self.returning:
            self.returning.pop(i, None)
        self.fleet.dispatchable[i] = False
        self.busy_since[i] = now
        self.on_call[i] = (key, critical)
        self.tally.calls[i] += 1
        if self.tracker is not None:
            self.tracker.dispatched(i, now)
        # Built as the tuple it is: a third of the cost of the generated keyword constructor, on
        # the path every call takes.
        fields = (
            key,
            self.fleet.team_ids[i],
            choice.eta_s,
            specialist,
            choice.wellness,
            explanation,
        )
        dispatch: Dispatch = _new_tuple(Dispatch, fields)
        return dispatch

    def _explain(self, call: _Call, now: float, *, specialist_only: bool) -> Recommendation:
        return self.matcher.recommend_at(
            str(call.key),
            call.place,
            call.risk,
            self.fleet,
            now_s=now,
            priority=call.priority,
            specialist_only=specialist_only,
            zone=call.zone,
            call_type=call.call_type,
        )

    def cancel(self, call_id: CallKey, now: float) -> list[Decision]:
        """Withdraw a waiting call (it leaves its queue; a dispatched call cannot be withdrawn).

        Raises
        ------
        InputError
            If the session has no waiting call ``call_id``.
        """
        call = self.calls.get(call_id)
        if call is None or call.state not in (QUEUED, WAITING_ANY):
            raise InputError(f"no waiting call {call_id!r}", field="call_id")
        call.state = CallState.CANCELLED  # removed from its queue lazily
        self.n_queued -= 1
        del self.calls[call_id]
        return []

    def assign(
        self,
        call_id: CallKey,
        team_id: str,
        now: float,
        *,
        place: int,
        risk: RiskLevel,
        critical: bool = False,
        zone: str | None = None,
        call_type: str = "",
    ) -> list[Decision]:
        """A person sends ``team_id`` to ``call_id``: confirms the session's choice or overrides it.

        The call may be waiting (it leaves its queue) or already dispatched to another team,
        which is then stood down where it is, as if it had cleared there, and may take a waiting
        call. Confirming the team already sent changes nothing. The team's ETA and specialist
        standing come from the matcher's own scoring; a person may send a team the rules would
        not (an ineligible one), never one that is not free.

        Parameters
        ----------
        call_id, team_id
            The call and the team to send.
        now
            Seconds on the session's clock.
        place, risk, critical, zone, call_type
            The call as it was given to `call_ready` (the session keeps no record of a call
            once it is dispatched).

        Raises
        ------
        InputError
            If the team is unknown or not free, or the call is neither waiting nor dispatched.
        """
        j = self._row(team_id)
        sent = next(
            (i for i, job in enumerate(self.on_call) if job is not None and job[0] == call_id), -1
        )
        if sent == j:
            return []
        waiting = self.calls.get(call_id)
        if waiting is not None and waiting.state not in (QUEUED, WAITING_ANY):
            waiting = None
        if sent < 0 and waiting is None:
            raise InputError(f"call {call_id!r} is neither waiting nor dispatched", field="call_id")
        if not self.fleet.dispatchable[j]:  # refused before anything changes
            raise InputError(
                f"team {team_id!r} is not free ({self.status[j].value})", field="team_id"
            )
        if self.returning or self.tracker is not None:
            self._refresh(now)
        if waiting is not None:
            waiting.state = CallState.DISPATCHED  # leaves its queue (removed lazily)
            self.n_queued -= 1
            del self.calls[call_id]
        scores = self.matcher.scores(
            place, risk, self.fleet, zone=zone, call_type=call_type, now_s=now
        )
        specialist = bool(scores.specialist[j])
        reason = None if specialist else ReasonCode.INELIGIBLE
        choice = Choice(j, float(scores.eta_s[j]), int(scores.tier[j]), specialist, reason)
        out: list[Decision] = [
            self._commit(call_id, critical, choice, now, specialist, False, None)
        ]
        if sent >= 0:
            out.extend(
                self.unit_cleared(self.fleet.team_ids[sent], now, place=int(self.fleet.place[sent]))
            )
        return out

    # -- timers ----------------------------------------------------------------------------
    def timer_due(self, timer_id: str, now: float) -> list[Decision]:
        """A timer the session asked for is due. Unknown or already fired ids are ignored."""
        found = self.timers.pop(timer_id, None)
        if found is None:
            return []
        kind, subject, _ = found
        if kind == "fallback":
            call = self.calls.get(subject)
            if call is None or call.state is not QUEUED:
                return []
            call.state = CallState.PENDING  # leaves the specialist queue (removed lazily)
            self.n_queued -= 1
            return self._fallback(call, now)
        if kind == "wake":
            return self._match_queue(now)
        if kind == "break_window":
            return self._break_window(subject, now)
        if kind == "break_end":
            return self._break_end(subject, now)
        raise AssertionError(f"unknown timer kind {kind!r}")

    # -- teams -----------------------------------------------------------------------------
    def unit_cleared(self, team_id: str, now: float, *, place: int) -> list[Decision]:
        """Team ``team_id`` finished its call at ``place`` (the scene or the facility)."""
        i = self.fleet.index.get(team_id, -1)
        if i < 0 or self.status[i] is not DISPATCHED:
            self._row(team_id)  # names an unknown team
            raise InputError(f"team {team_id!r} is not on a call", field="team_id")
        self.fleet.place[i] = place
        self.tally.busy_s[i] += now - self.busy_since[i]
        job = self.on_call[i]
        self.on_call[i] = None
        out: list[Decision] = []
        if self.tracker is not None:
            critical = job is not None and job[1]
            for delay in self.tracker.cleared(i, now, critical=critical):
                out.append(self._timer("wake", None, now + delay))
        home = self.station[i]
        # The cache hit of `_route` without the call: every clear takes this path.
        route = self._legs.get((place, home, self.travel.band_at(now) if self._banded else 0))
        if route is None:
            route = self._route(place, home, now)
        shift_end = self.pending_shift_end[i]
        if shift_end is not None:
            # Finished a call past shift end: drive home on overtime, then off duty.
            self.pending_shift_end[i] = None
            self.tally.overtime_s[i] += now + route.duration_s - shift_end
            if self.break_due_until[i] is not None:
                self.break_due_until[i] = None
                self.tally.breaks_missed[i] += 1
            out.append(self._go_off_duty(i, now + route.duration_s))
            return out
        window_end = self.break_due_until[i]
        if window_end is not None:
            # Busy when the break window opened: the break comes at the first free moment, and
            # counts as deferred when calls kept the team busy past the window.
            self.break_due_until[i] = None
            if now > window_end:
                self.tally.breaks_deferred[i] += 1
                self.tally.break_delay_s[i] += now - window_end
            out.extend(self._start_break(i, now))
            return out
        self._head_home(i, now, route)
        if self.n_queued:
            out.extend(self._match_queue(now))
        return out

    def _head_home(self, i: int, now: float, route: Leg) -> None:
        """Team ``i`` is free: dispatchable, driving back to its station along ``route``."""
        if route.duration_s > 0:
            self.status[i] = RETURNING
            self.returning[i] = (route, now)
        else:
            self.status[i] = AVAILABLE
        self.fleet.dispatchable[i] = True

    def _break_window(self, i: int, now: float) -> list[Decision]:
        state = self.status[i]
        if state in (AVAILABLE, RETURNING) and self.fleet.on_duty[i]:
            self._refresh(now)
            return self._start_break(i, now)
        if state is DISPATCHED:
            meal = self.settings.meal_break
            assert meal is not None
            self.break_due_until[i] = now + (meal.window_end_h - meal.window_start_h) * 3600.0
        return []

    def _start_break(self, i: int, now: float) -> list[Decision]:
        meal = self.settings.meal_break
        assert meal is not None
        self.status[i] = ON_BREAK
        self.returning.pop(i, None)
        self.fleet.dispatchable[i] = False
        self.tally.breaks[i] += 1
        return [
            BreakStarted(self.fleet.team_ids[i], now),
            self._timer("break_end", i, now + meal.length_min * 60.0),
        ]

    def _break_end(self, i: int, now: float) -> list[Decision]:
        if self.status[i] is not ON_BREAK:
            return []  # the shift ended during the break
        out: list[Decision] = [BreakEnded(self.fleet.team_ids[i], now)]
        if self.tracker is not None:
            self.tracker.rested(i, now)
        self._head_home(i, now, self._route(int(self.fleet.place[i]), self.station[i], now))
        out.extend(self._match_queue(now))
        return out

    def _go_off_duty(self, i: int, at_s: float) -> OffDuty:
        self.status[i] = OFF_DUTY
        self.returning.pop(i, None)
        self.fleet.place[i] = self.station[i]
        self.fleet.dispatchable[i] = False
        return OffDuty(self.fleet.team_ids[i], at_s)

    def shift_started(self, team_id: str, now: float) -> list[Decision]:
        """Team ``team_id``'s shift starts: on duty at its station (unless still on a call)."""
        i = self._row(team_id)
        self.fleet.on_duty[i] = True
        if self.status[i] is DISPATCHED:
            end = self.pending_shift_end[i]
            if end is not None:  # still on the last shift's call: overtime until now
                self.tally.overtime_s[i] += now - end
                self.pending_shift_end[i] = None
            return []
        self.status[i] = AVAILABLE
        self.fleet.place[i] = self.station[i]
        self.fleet.dispatchable[i] = True
        if self.tracker is not None:
            self.tracker.shift_started(i, now)
        out: list[Decision] = []
        meal = self.settings.meal_break
        if meal is not None:
            out.append(self._timer("break_window", i, now + meal.window_start_h * 3600.0))
        out.extend(self._match_queue(now))
        return out

    def shift_ended(self, team_id: str, now: float) -> list[Decision]:
        """Team ``team_id``'s shift ends: a team on a call finishes it on overtime."""
        i = self._row(team_id)
        self.fleet.on_duty[i] = False
        self.fleet.dispatchable[i] = False
        state = self.status[i]
        if self.break_due_until[i] is not None and state is not DISPATCHED:
            self.break_due_until[i] = None
            self.tally.breaks_missed[i] += 1
        if state is DISPATCHED:
            self.pending_shift_end[i] = now
            return []
        if state is RETURNING:
            route, start = self.returning[i]
            remaining = max(0.0, route.duration_s - (now - start))
            self.tally.overtime_s[i] += remaining
            return [self._go_off_duty(i, now + remaining)]
        return [self._go_off_duty(i, now)]

    # -- the queue -------------------------------------------------------------------------
    def _match_queue(self, now: float) -> list[Decision]:
        """Offer free teams to waiting calls: highest priority first, then oldest."""
        if self.n_queued == 0:
            return []
        out: list[Decision] = []
        self._refresh(now)
        dispatchable = self.fleet.dispatchable
        # Whether any team is free changes only when one is dispatched here; `count_nonzero` is
        # a few times cheaper than `ndarray.any` on a fleet-sized column.
        free = np.count_nonzero(dispatchable) > 0
        for queue in self.queues:
            if not queue:
                continue
            kept: deque[tuple[int, _Call]] = deque()
            while queue:
                entry = queue.popleft()
                ticket, call = entry
                state = call.state
                if ticket != call.ticket or (state is not QUEUED and state is not WAITING_ANY):
                    continue  # left this place in the queue (timer, cancel) since it was queued
                if not free:
                    kept.append(entry)
                    continue
                choice = self._best(call, now, specialist_only=state is QUEUED)
                if choice.row >= 0:
                    self.n_queued -= 1
                    out.append(self._dispatch(call, choice, now, specialist_only=state is QUEUED))
                    free = np.count_nonzero(dispatchable) > 0
                else:
                    if choice.wellness:
                        out.append(Held(call.key, choice.wellness))
                    kept.append(entry)
            queue.extend(kept)
        return out

    def close(self, now: float) -> list[Decision]:
        """End the session at ``now``: calls still waiting are unserved.

        Teams still on a call count their busy time up to ``now``.
        """
        for i, state in enumerate(self.status):
            if state is DISPATCHED:
                self.tally.busy_s[i] += now - self.busy_since[i]
        out: list[Decision] = []
        for queue in self.queues:
            for ticket, call in queue:
                if ticket == call.ticket and call.state in (QUEUED, WAITING_ANY):
                    call.state = CallState.UNSERVED
                    self.calls.pop(call.key, None)
                    out.append(Unserved(call.key, now))
            queue.clear()
        self.n_queued = 0
        return out

    # -- queries ---------------------------------------------------------------------------
    def pending(self) -> list[tuple[CallKey, CallState, ReasonCode | None]]:
        """Waiting calls in the order they will be offered a team: priority, then age."""
        return [
            (call.key, call.state, call.reason)
            for queue in self.queues
            for ticket, call in queue
            if ticket == call.ticket and call.state in (QUEUED, WAITING_ANY)
        ]

    # -- events from a CAD system ----------------------------------------------------------
    def receive(self, call: Call, now: float | None = None) -> list[Decision]:
        """A `Call` from a call log or a CAD system is ready at ``now`` (its ``received_s``).

        Snaps it onto the network, applies the escalating flags and the wellness rules'
        definition of a critical incident, then `call_ready`.
        """
        rules = self.matcher.wellness or WellnessRules()
        return self.call_ready(
            call.call_id,
            call.received_s if now is None else now,
            place=self.matcher.place_of(call),
            risk=self.matcher.rules.effective_risk(call.risk, call.flags),
            priority=call.priority,
            critical=rules.is_critical(call.call_type, call.risk.value, call.flags),
            zone=call.zone,
            call_type=call.call_type,
        )

    def unit_status(
        self, team_id: str, now: float, status: TeamStatus, *, place: int | None = None
    ) -> list[Decision]:
        """A unit reports ``status`` (and maybe where it is), as a CAD status message does.

        ``available`` clears a unit that is on a call (at ``place``, else where it is) or
        returns it to service; ``en_route``, ``on_scene`` and ``transporting`` commit a free
        unit to work the session did not give it; ``out_of_service`` and ``on_break`` take it
        out of service until it is available again; ``off_duty`` ends its shift. A place alone
        (the same status) is a position report.
        """
        i = self._row(team_id)
        current = self.status[i]
        problem = status_problem(current, status)
        if problem is not None:  # refused before anything changes
            raise InputError(f"team {team_id!r}: {problem}", field="status")
        if place is not None and current is not DISPATCHED:
            self.returning.pop(i, None)
            self.fleet.place[i] = place
        if status is TeamStatus.OFF_DUTY:
            return [] if current is OFF_DUTY else self.shift_ended(team_id, now)
        if current is OFF_DUTY:  # logged on outside the schedule
            return self.shift_started(team_id, now)
        if status is TeamStatus.AVAILABLE or status is TeamStatus.RETURNING:
            if current is DISPATCHED:
                here = int(self.fleet.place[i]) if place is None else place
                return self.unit_cleared(team_id, now, place=here)
            if current is AVAILABLE or current is RETURNING:
                return []
            self.status[i] = AVAILABLE
            self.fleet.dispatchable[i] = True
            return self._match_queue(now)
        if status.committed:
            if current is not DISPATCHED:
                self.returning.pop(i, None)
                self.status[i] = DISPATCHED
                self.fleet.dispatchable[i] = False
                self.busy_since[i] = now
            return []
        # out of service or on a break (status_problem refused it for a team on a call)
        self.returning.pop(i, None)
        self.status[i] = status
        self.fleet.dispatchable[i] = False
        return []

    def handle(self, event: Event) -> list[Decision]:
        """Apply one event; an event whose ``event_id`` was applied before changes nothing.

        Examples
        --------
        >>> from dispatch.dispatcher.events import ShiftBoundary
        >>> from dispatch.match import Matcher
        >>> from dispatch.networks import road_grid
        >>> session = Dispatcher.from_columns(
        ...     Matcher(road_grid(3, 3)), ["P-1"], [TeamKind.PATROL], [False], stations=[4])
        >>> session.handle(ShiftBoundary("e1", 0.0, "P-1", start=True))
        []
        >>> session.handle(ShiftBoundary("e1", 0.0, "P-1", start=True)), session.seen("e1")
        ([], True)
        """
        if event.event_id in self.applied:
            return []
        if isinstance(event, CallReady):
            out = self.call_ready(
                event.call_id,
                event.at_s,
                place=event.place,
                risk=event.risk,
                priority=event.priority,
                critical=event.critical,
                zone=event.zone,
                call_type=event.call_type,
            )
        elif isinstance(event, UnitStatus):
            out = self.unit_status(event.team_id, event.at_s, event.status, place=event.place)
        elif isinstance(event, UnitCleared):
            out = self.unit_cleared(event.team_id, event.at_s, place=event.place)
        elif isinstance(event, ShiftBoundary):
            start = self.shift_started if event.start else self.shift_ended
            out = start(event.team_id, event.at_s)
        elif isinstance(event, TimerDue):
            out = self.timer_due(event.timer_id, event.at_s)
        else:
            out = self.cancel(event.call_id, event.at_s)
        self.applied.add(event.event_id)
        return out

    def open_timers(self) -> list[Timer]:
        """The timers asked for and not yet due, in the order they were asked for.

        A caller that lost its own timer table (a service restarting from a `snapshot`) reads
        the deadlines back from here.
        """
        return [Timer(k, at) for k, (_, _, at) in self.timers.items()]

    def seen(self, event_id: str) -> bool:
        """True when an event with this id was applied."""
        return event_id in self.applied

    # -- snapshot --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain values (JSON-ready), for `restore`.

        The configuration (matcher, teams, stations, settings) is not included: restore into a
        session built the same way.
        """
        fleet = self.fleet
        calls = {id(c): c for c in self.calls.values()}
        for queue in self.queues:
            calls.update({id(c): c for t, c in queue if t == c.ticket})
        order = list(calls)
        number = {key: n for n, key in enumerate(order)}
        return {
            "team_ids": list(fleet.team_ids),
            "fleet": self.fleet_columns(),
            "status": [s.value for s in self.status],
            "tally": {name: list(getattr(self.tally, name)) for name in _TALLY},
            "busy_since": list(self.busy_since),
            "pending_shift_end": list(self.pending_shift_end),
            "break_due_until": list(self.break_due_until),
            "returning": [[i, leg.places[0], start] for i, (leg, start) in self.returning.items()],
            "calls": [calls[key].record() for key in order],
            "open_calls": [number[id(c)] for c in self.calls.values()],
            "on_call": [None if job is None else list(job) for job in self.on_call],
            "queues": [
                [[t, number[id(c)]] for t, c in queue if t == c.ticket] for queue in self.queues
            ],
            "n_queued": self.n_queued,
            "timers": [[k, kind, subject, at] for k, (kind, subject, at) in self.timers.items()],
            "timer_seq": self._timer_seq,
            "applied": sorted(self.applied),
            "tracker": None if self.tracker is None else self.tracker.snapshot(),
        }

    def fleet_columns(self) -> dict[str, list[Any]]:
        """The fleet's changing columns as plain lists (`FLEET_COLUMNS`): what decisions read."""
        return {name: getattr(self.fleet, name).tolist() for name in FLEET_COLUMNS}

    def restore(self, state: dict[str, Any]) -> None:
        """Put back a `snapshot`: the session then continues exactly as the one it came from.

        Raises
        ------
        InputError
            If the snapshot is of another fleet.
        """
        fleet = self.fleet
        if list(state["team_ids"]) != fleet.team_ids:
            raise InputError("the snapshot is of another fleet (team ids differ)")
        for name, values in state["fleet"].items():
            column = getattr(fleet, name)
            column[:] = np.asarray(values, dtype=column.dtype)
        self.status = [TeamStatus(s) for s in state["status"]]
        self.tally = TeamTally(**{name: list(state["tally"][name]) for name in _TALLY})
        self.busy_since = [float(x) for x in state["busy_since"]]
        self.pending_shift_end = list(state["pending_shift_end"])
        self.break_due_until = list(state["break_due_until"])
        self.returning = {
            int(i): (self._route(int(origin), self.station[int(i)], float(start)), float(start))
            for i, origin, start in state["returning"]
        }
        calls = [_Call.from_record(row) for row in state["calls"]]
        self.calls = {calls[n].key: calls[n] for n in state["open_calls"]}
        self.on_call = [None if job is None else (job[0], bool(job[1])) for job in state["on_call"]]
        self.queues = tuple(deque((int(t), calls[n]) for t, n in q) for q in state["queues"])
        self.n_queued = int(state["n_queued"])
        self.timers = {k: (kind, subject, float(at)) for k, kind, subject, at in state["timers"]}
        self._timer_seq = int(state["timer_seq"])
        self.applied = set(state["applied"])
        if self.tracker is not None:
            self.tracker.restore(state["tracker"])


_TALLY = tuple(f.name for f in fields(TeamTally))
FLEET_COLUMNS = (
    "place",
    "on_duty",
    "dispatchable",
    "recovering_until_s",
    "streak",
    "recent_utilization",
    "load_s",
)
"""Fleet columns a session changes as it runs (the rest are fixed at construction)."""


def status_problem(current: TeamStatus, reported: TeamStatus) -> str | None:
    """Why a unit in ``current`` cannot report ``reported``, or None when it can.

    The session's one rule book for status reports (`Dispatcher.unit_status` refuses these;
    a live service answers them as rejected, with this reason). A unit that is off duty can only
    log on (``available``); a unit on a call must clear (``available``) before it goes out of
    service or on a break; ``returning`` is the session's own state, reported only as a clear.

    Examples
    --------
    >>> status_problem(TeamStatus.OFF_DUTY, TeamStatus.ON_SCENE)
    'off duty; log it on (available) first'
    >>> status_problem(TeamStatus.ON_SCENE, TeamStatus.TRANSPORTING) is None
    True
    """
    if current is OFF_DUTY:
        if reported is OFF_DUTY or reported is AVAILABLE:
            return None
        return "off duty; log it on (available) first"
    if current is DISPATCHED and reported in (TeamStatus.OUT_OF_SERVICE, ON_BREAK):
        return "on a call; clear it (available) first"
    return None
