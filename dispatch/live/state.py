"""The service's clock-free core: journal inputs in, decisions and answers out.

Everything the live service does to the fleet goes through `LiveState.apply`, one journal input
at a time: a unit event, a call, a confirmation or override, a cancellation, a timer or a shift
boundary coming due. Each input carries the session time it is applied at (``now``, Unix
seconds), so applying the same journal again (a restart, ``dispatch audit replay``) gives the
same state and the same outputs, bit for bit. Inputs are plain JSON-ready dicts; so are outputs.

Only `dispatch.dispatcher.Dispatcher` decides; this module keeps what a CAD integration asks
about besides (the last reported status and position of each unit, each call's history) and
translates between the HTTP vocabulary and the session's.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

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
    status_problem,
)
from dispatch.errors import InputError
from dispatch.live.calendar import DAY_S, Boundary, ShiftCalendar
from dispatch.live.vocabulary import parse_status, shown
from dispatch.match.explain import Recommendation
from dispatch.match.fleet import Fleet
from dispatch.match.matcher import Matcher
from dispatch.match.wellness import WellnessRules
from dispatch.model import RiskLevel, TeamKind
from dispatch.scenario import Scenario
from dispatch.sim.prepare import check_sites, scenario_matcher

UNIX_EPOCH = pd.Timestamp(0, unit="s", tz="UTC")
RECENT = 50
"""How many of the latest dispatches the service keeps for the live board."""


class ConflictError(InputError):
    """The input does not fit the current state (a call id used twice, a team not free)."""


def iso(at_s: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC text (None stays None)."""
    if at_s is None or not math.isfinite(at_s):
        return None
    return datetime.fromtimestamp(at_s, UTC).isoformat().replace("+00:00", "Z")


def digest(value: Any) -> str:
    """SHA-256 of a JSON-ready value in canonical form (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# -- configuration --------------------------------------------------------------------------
@dataclass
class LiveConfig:
    """What a scenario file gives the service: the rules, the fleet and its schedule.

    Attributes
    ----------
    scenario
        The validated scenario (network, rules, policy, stations, teams, shifts).
    matcher
        The scenario's dispatch rules, anchored at the Unix epoch (session time is Unix s).
    team_ids, kinds, cit, station_place
        The fleet in team-id order, with each team's home station place.
    settings
        Fallback and meal-break policy, as the replay uses them.
    calendar
        The teams' shift boundaries on the wall clock.
    scenario_digest, rules_digest
        SHA-256 of the whole resolved scenario and of its dispatch policy, written with every
        recommendation.
    """

    scenario: Scenario
    matcher: Matcher
    team_ids: list[str]
    kinds: list[TeamKind]
    cit: list[bool]
    station_place: list[int]
    settings: DispatchSettings
    calendar: ShiftCalendar
    scenario_digest: str
    rules_digest: str
    districts: Any = None

    @classmethod
    def from_scenario(cls, scenario: Scenario, raw: dict[str, Any]) -> LiveConfig:
        """Build from a loaded scenario and its resolved TOML table (for the digests)."""
        travel = scenario.travel.anchored(UNIX_EPOCH)
        matcher = scenario_matcher(scenario, travel, UNIX_EPOCH)
        stations = {s.site_id: s for s in scenario.stations}
        teams = sorted(scenario.teams, key=lambda t: t.team_id)
        places = check_sites(
            travel,
            [(stations[t.station_id].lat, stations[t.station_id].lon) for t in teams],
            "stations",
        )
        policy = scenario.policy
        settings = DispatchSettings(
            fallback_after_s=None
            if policy.fallback_after_min is None
            else policy.fallback_after_min * 60.0,
            pool_fallback=policy.fallback == "pool",
            meal_break=policy.meal_break,
        )
        resolved = json.loads(json.dumps(raw, default=str))
        return cls(
            scenario=scenario,
            matcher=matcher,
            team_ids=[t.team_id for t in teams],
            kinds=[t.kind for t in teams],
            cit=[t.cit for t in teams],
            station_place=[int(p) for p in places],
            settings=settings,
            calendar=ShiftCalendar(teams, scenario.timezone),
            scenario_digest=digest(resolved),
            rules_digest=digest(resolved.get("policy", {})),
            districts=policy.districts if policy.kind == "district_first" else None,
        )


# -- what the service keeps besides the session ---------------------------------------------
@dataclass
class UnitView:
    """The last report of a unit (event time, label and position as reported)."""

    reported: str | None = None
    lat: float | None = None
    lon: float | None = None
    last_event_s: float = -math.inf
    updated_s: float | None = None


@dataclass
class CallView:
    """A call the service was given and everything decided about it."""

    call: dict[str, Any]
    place: int
    risk: RiskLevel
    critical: bool
    zone: str | None
    state: str = "new"
    team_id: str | None = None
    recommended: str | None = None
    reason: str | None = None
    fallback_at_s: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def decision_json(decision: Decision) -> dict[str, Any]:
    """A decision as a JSON-ready dict with a ``type`` (times in Unix seconds)."""
    if isinstance(decision, Dispatch):
        return {
            "type": "dispatch",
            "call_id": decision.call_id,
            "team_id": decision.team_id,
            "eta_s": _finite(decision.eta_s),
            "specialist": decision.specialist,
            "wellness": decision.wellness.label if decision.wellness else None,
            "explanation": None
            if decision.explanation is None
            else recommendation_json(decision.explanation),
        }
    if isinstance(decision, Queue):
        return {
            "type": "queue",
            "call_id": decision.call_id,
            "reason": decision.reason.value,
            "fallback_at_s": decision.fallback_at_s,
            "specialist_only": decision.specialist_only,
            "wellness": decision.wellness.label if decision.wellness else None,
        }
    if isinstance(decision, Fallback):
        return {
            "type": "fallback",
            "call_id": decision.call_id,
            "reason": decision.reason.value,
            "wellness": decision.wellness.label if decision.wellness else None,
        }
    if isinstance(decision, Held):
        return {"type": "held", "call_id": decision.call_id, "wellness": decision.wellness.label}
    if isinstance(decision, Timer):
        return {"type": "timer", "timer_id": decision.timer_id, "at_s": decision.at_s}
    if isinstance(decision, Unserved):
        return {"type": "unserved", "call_id": decision.call_id, "at_s": decision.at_s}
    kind = {BreakStarted: "break_started", BreakEnded: "break_ended", OffDuty: "off_duty"}
    assert isinstance(decision, BreakStarted | BreakEnded | OffDuty)
    return {"type": kind[type(decision)], "team_id": decision.team_id, "at_s": decision.at_s}


def recommendation_json(rec: Recommendation) -> dict[str, Any]:
    """The matcher's explanation as JSON: the choice, its tier, every alternative's verdict."""
    return {
        "team_id": rec.team_id,
        "eta_s": _finite(rec.eta_s),
        "tier": rec.tier,
        "specialist": rec.specialist,
        "reason": None if rec.reason is None else rec.reason.value,
        "risk": rec.risk.value,
        "wellness": rec.wellness.label if rec.wellness else None,
        "alternatives": [
            {
                "team_id": a.team_id,
                "kind": a.kind.value,
                "eta_s": _finite(a.eta_s),
                "verdict": a.verdict.value,
                "detail": a.detail,
            }
            for a in rec.alternatives
        ],
        "text": rec.explain(),
    }


class LiveState:
    """The fleet, the calls and the session of a running service, driven by journal inputs.

    Parameters
    ----------
    config
        The scenario's rules, fleet and schedule.

    Examples
    --------
    >>> from dispatch.scenario_file import load_scenario, read_raw
    >>> from dispatch.datasets import example_scenario
    >>> path = example_scenario("stlouis_cru")
    >>> state = LiveState(LiveConfig.from_scenario(load_scenario(path), read_raw(path)))
    >>> out = state.apply({"kind": "start", "now": 1_767_000_000.0})
    >>> sorted(state.units)[:2]
    ['CRU-day-1', 'CRU-day-2']
    """

    def __init__(self, config: LiveConfig) -> None:
        self.config = config
        fleet = Fleet(
            config.team_ids,
            config.kinds,
            config.cit,
            np.asarray(config.station_place, dtype=np.int64),
        )
        self.session = Dispatcher(
            config.matcher, fleet, config.station_place, settings=config.settings, explain=True
        )
        self.travel = config.matcher.travel
        self.units = {team_id: UnitView() for team_id in config.team_ids}
        self.calls: dict[str, CallView] = {}
        self.events: dict[str, str] = {}  # event_id -> digest of the event as first received
        self.timers: dict[str, float] = {}  # open session timers: id -> due (Unix s)
        self.now_s = -math.inf
        # The latest dispatches with their explanations, newest last (the live board's feed).
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        # The last shift boundary applied, as its sort key (time, start, team): None before
        # the service starts; at the start every boundary up to then is accounted for.
        self.calendar: tuple[float, bool, str] | None = None
        self._upcoming: tuple[tuple[float, bool, str], Boundary | None] | None = None
        self.applied = 0

    # -- the one entry point -------------------------------------------------------------
    def apply(self, inp: dict[str, Any]) -> dict[str, Any]:
        """Apply one journal input; return its output (``decisions`` and the answer).

        Raises
        ------
        InputError
            When the input cannot be applied (an unknown call, a team that is not free, ...).
            Nothing has changed then, and the input belongs in no journal.
        """
        kind = inp["kind"]
        now = float(inp["now"])
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise InputError(f"unknown journal input kind {kind!r}", field="kind")
        out = handler(self, inp, now)
        self.now_s = max(self.now_s, now)
        self.applied += 1
        return out

    # -- what is due ---------------------------------------------------------------------
    def _next_boundary(self) -> Boundary | None:
        """The first shift boundary not yet applied (within a week), or None.

        Found once per applied boundary and kept: every request asks, and finding it reads
        every team's shifts.
        """
        if self.calendar is None:
            return None
        if self._upcoming is None or self._upcoming[0] != self.calendar:
            at = self.calendar[0]
            found = [
                b
                for b in self.config.calendar.between(at - 1.0, at + 8 * DAY_S)
                if (b.at_s, b.start, b.team_id) > self.calendar
            ]
            self._upcoming = (self.calendar, found[0] if found else None)
        return self._upcoming[1]

    def next_due_s(self) -> float | None:
        """When the next timer or shift boundary is due (Unix s), or None."""
        times = list(self.timers.values())
        boundary = self._next_boundary()
        if boundary is not None:
            times.append(boundary.at_s)
        return min(times) if times else None

    def due_input(self, now: float) -> dict[str, Any] | None:
        """The journal input for the earliest timer or shift boundary due by ``now``, or None.

        Applied at its due time (or at the session's clock, when that is later), so a deadline
        counts from when it fell due, however late the service notices it.
        """
        best: tuple[float, dict[str, Any]] | None = None
        for timer_id, at in self.timers.items():
            if at <= now and (best is None or at < best[0]):
                best = (at, {"kind": "timer", "timer_id": timer_id})
        b = self._next_boundary()
        if b is not None and b.at_s <= now and (best is None or b.at_s < best[0]):
            shift = {"kind": "shift", "unit_id": b.team_id, "start": b.start, "due": b.at_s}
            best = (b.at_s, shift)
        if best is None:
            return None
        at, inp = best
        inp["now"] = max(self.now_s, at)
        return inp

    # -- handlers ------------------------------------------------------------------------
    def _start(self, inp: dict[str, Any], now: float) -> dict[str, Any]:
        if self.calendar is not None:
            raise InputError("the service has already started", field="kind")
        decisions: list[Decision] = []
        calendar = self.config.calendar
        for team_id in self.config.team_ids:
            if calendar.on_duty(team_id, now):
                decisions.extend(self.session.shift_started(team_id, now))
        self.calendar = (now, True, "\U0010ffff")
        return {"decisions": self._decided(decisions, now)}

    def _shift(self, inp: dict[str, Any], now: float) -> dict[str, Any]:
        team_id = inp["unit_id"]
        if team_id not in self.units:
            raise InputError(f"unknown unit {team_id!r}", field="unit_id")
        if inp["start"]:
            decisions = self.session.shift_started(team_id, now)
        else:
            decisions = self.session.shift_ended(team_id, now)
        self.calendar = (float(inp["due"]), bool(inp["start"]), team_id)
        return {"decisions": self._decided(decisions, now)}

    def _timer(self, inp: dict[str, Any], now: float) -> dict[str, Any]:
        self.timers.pop(inp["timer_id"], None)
        return {"decisions": self._decided(self.session.timer_due(inp["timer_id"], now), now)}

    def _event(self, inp: dict[str, Any], now: float) -> dict[str, Any]:
        """A unit status or position event: applied, stale or rejected (with the reason)."""
        event = inp["event"]
        self.events.setdefault(event["event_id"], digest(event))
        unit_id = event["unit_id"]
        view = self.units.get(unit_id)
        if view is None:
            return _answer("rejected", f"unknown unit {unit_id!r}", field="unit_id")
        reported = parse_status(event["status"])
        if reported is None:
            return _answer("rejected", f"unknown status {event['status']!r}", field="status")
        at = float(event["at_s"])
        if at < view.last_event_s:
            return _answer(
                "stale", f"older than the unit's last applied event ({iso(view.last_event_s)})"
            )
        i = self.session.fleet.index[unit_id]
        problem = status_problem(self.session.status[i], reported.state)
        if problem is not None:
            return _answer("rejected", f"unit {unit_id!r} is {problem}", field="status")
        place = None
        if event.get("lat") is not None and event.get("lon") is not None:
            try:
                place = int(self.travel.snap(event["lat"], event["lon"]))
            except InputError as error:
                return _answer("rejected", str(error), field="lat")
        job = self.session.on_call[i]
        decisions = self.session.unit_status(unit_id, now, reported.state, place=place)
        if job is not None and self.session.on_call[i] is None:
            cleared = self.calls.get(str(job[0]))
            if cleared is not None:
                cleared.state = "cleared"
                cleared.history.append({"type": "cleared", "team_id": unit_id, "at_s": now})
        view.reported = reported.label
        view.last_event_s = at
        view.updated_s = at
        if place is not None:
            view.lat, view.lon = float(event["lat"]), float(event["lon"])
        out = _answer("applied")
        out["decisions"] = self._decided(decisions, now)
        return out

    def _call(self, inp: dict[str, Any], now: float) -> dict[str, Any]:
        call = inp["call"]
        call_id = call["call_id"]
        if call_id in self.calls:
            raise ConflictError(f"call {call_id!r} was already received", field="call_id")
        rules = self.config.matcher.rules
        flags = frozenset(call.get("flags") or ())
        try:
            risk = rules.effective_risk(RiskLevel(call["risk"]), flags)
        except ValueError:
            raise InputError(f"unknown risk {call['risk']!r}", field="risk") from None
        wellness = self.config.matcher.wellness or WellnessRules()
        critical = wellness.is_critical(call["call_type"], call["risk"], flags)
        place = int(self.travel.snap(call["lat"], call["lon"]))  # the last check that can fail
        zone = call.get("zone")
        if self.config.districts is not None:
            zone = self.config.districts.zone_of([call["lat"]], [call["lon"]])[0]
        view = CallView(call, place, risk, critical, zone)
        inputs_digest = digest([inp, self._fleet_inputs()])
        self.calls[call_id] = view
        decisions = self.session.call_ready(
            call_id,
            now,
            place=place,
            risk=risk,
            priority=int(call["priority"]),
            critical=critical,
            zone=zone,
            call_type=call["call_type"],
        )
        out: dict[str, Any] = {"decisions": self._decided(decisions, now)}
        out["recommendation"] = {
            "inputs_digest": inputs_digest,
            "scenario_digest": self.config.scenario_digest,
            "rules_digest": self.config.rules_digest,
            **self.answer(call_id),
        }
        return out

    def _assign(self, inp: dict[str, Any], now: float) -> dict[str, Any]:
        call_id, team_id = inp["call_id"], inp["team_id"]
        view = self.calls.get(call_id)
        if view is None:
            raise InputError(f"no call {call_id!r}", field="call_id")
        if view.state not in ("queued", "waiting_any", "dispatched"):
            raise ConflictError(
                f"call {call_id!r} is {view.state}; nothing to assign", field="call_id"
            )
        if team_id not in self.units:
            raise InputError(f"unknown unit {team_id!r}", field="team_id")
        i = self.session.fleet.index[team_id]
        if team_id != view.team_id and not self.session.fleet.dispatchable[i]:
            shown_as = shown(self.session.status[i], self.units[team_id].reported)
            raise ConflictError(f"team {team_id!r} is not free ({shown_as})", field="team_id")
        confirmed = team_id == view.team_id
        if not confirmed and not str(inp.get("reason") or "").strip():
            raise InputError(
                f"sending {team_id!r} instead of the recommendation needs a reason", field="reason"
            )
        call = view.call
        decisions = self.session.assign(
            call_id,
            team_id,
            now,
            place=view.place,
            risk=view.risk,
            critical=view.critical,
            zone=view.zone,
            call_type=call["call_type"],
        )
        action = "confirmed" if confirmed else "override"
        view.history.append(
            {
                "type": action,
                "team_id": team_id,
                "by": inp.get("by"),
                "reason": inp.get("reason"),
                "at_s": now,
            }
        )
        out = {"action": action, "decisions": self._decided(decisions, now)}
        return out

    def _cancel(self, inp: dict[str, Any], now: float) -> dict[str, Any]:
        call_id = inp["call_id"]
        view = self.calls.get(call_id)
        if view is None:
            raise InputError(f"no call {call_id!r}", field="call_id")
        if view.state not in ("queued", "waiting_any"):
            raise ConflictError(f"call {call_id!r} is {view.state}, not waiting", field="call_id")
        decisions = self.session.cancel(call_id, now)
        view.state = "cancelled"
        view.history.append({"type": "cancelled", "by": inp.get("by"), "at_s": now})
        return {"decisions": self._decided(decisions, now)}

    def _fleet_inputs(self) -> dict[str, Any]:
        """What a recommendation is computed from besides the call: the fleet's columns."""
        return {
            "status": [s.value for s in self.session.status],
            **self.session.fleet_columns(),
        }

    # -- bookkeeping of decisions --------------------------------------------------------
    def _decided(self, decisions: list[Decision], now: float) -> list[dict[str, Any]]:
        """Record what the session decided on the calls and units; return it as JSON."""
        out = []
        for decision in decisions:
            record = decision_json(decision)
            out.append(record)
            if isinstance(decision, Timer):
                self.timers[decision.timer_id] = decision.at_s
                continue
            if isinstance(decision, BreakStarted | BreakEnded | OffDuty):
                self.units[decision.team_id].reported = None
                continue
            view = self.calls.get(str(decision.call_id))
            if view is None:
                continue
            view.history.append({**record, "at_s": now})
            if isinstance(decision, Dispatch):
                self.recent.append({**record, "at_s": now})
                view.state = "dispatched"
                view.team_id = decision.team_id
                if view.recommended is None:
                    view.recommended = decision.team_id
                self.units[decision.team_id].reported = "dispatched"
            elif isinstance(decision, Queue):
                view.state = "queued" if decision.specialist_only else "waiting_any"
                view.reason = decision.reason.value
                view.fallback_at_s = decision.fallback_at_s
            elif isinstance(decision, Fallback):
                view.reason = decision.reason.value
                view.fallback_at_s = None
                if self.config.settings.pool_fallback:
                    view.state = "fallback"
        return out

    # -- queries -------------------------------------------------------------------------
    def answer(self, call_id: str) -> dict[str, Any]:
        """The decision about a call as ``POST /v1/calls`` answers it."""
        view = self.calls[call_id]
        first = next(
            (h for h in view.history if h["type"] in ("dispatch", "queue", "fallback")), None
        )
        base: dict[str, Any] = {"call_id": call_id, "state": view.state}
        if view.state in ("dispatched", "cleared") or (first and first["type"] == "dispatch"):
            sent = [h for h in view.history if h["type"] == "dispatch"][-1]  # the team on it now
            explanation = sent.get("explanation") or {}
            return {
                **base,
                "decision": "recommended",
                "team_id": sent["team_id"],
                "eta_s": sent["eta_s"],
                "specialist": sent["specialist"],
                "reason": view.reason,
                "wellness": sent["wellness"],
                "alternatives": explanation.get("alternatives", []),
                "explanation": explanation.get("text"),
            }
        if view.state in ("queued", "waiting_any"):
            return {
                **base,
                "decision": "queued",
                "reason": view.reason,
                "fallback_at": iso(view.fallback_at_s),
            }
        return {**base, "decision": "fallback", "reason": view.reason}

    def unit_rows(self) -> list[dict[str, Any]]:
        """Every unit as ``GET /v1/units`` lists it."""
        fleet = self.session.fleet
        lats, lons = self.travel.coordinates(fleet.place)
        rows = []
        for i, team_id in enumerate(fleet.team_ids):
            view = self.units[team_id]
            state = self.session.status[i]
            lat, lon = (
                (view.lat, view.lon)
                if view.lat is not None and view.lon is not None
                else (float(lats[i]), float(lons[i]))
            )
            rows.append(
                {
                    "unit_id": team_id,
                    "kind": self.config.kinds[i].value,
                    "cit": bool(fleet.cit[i]),
                    "status": shown(state, view.reported),
                    "lat": float(lat),
                    "lon": float(lon),
                    "on_duty": bool(fleet.on_duty[i]),
                    "updated_at": iso(view.updated_s),
                }
            )
        return rows

    def pending_rows(self) -> list[dict[str, Any]]:
        """Waiting calls in the order they will be offered a team (priority, then age)."""
        rows = []
        for key, state, reason in self.session.pending():
            view = self.calls[str(key)]
            rows.append(
                {
                    "call_id": str(key),
                    "state": state.value,
                    "reason": None if reason is None else reason.value,
                    "priority": int(view.call["priority"]),
                    "received_at": view.call.get("received_at"),
                    "fallback_at": iso(view.fallback_at_s),
                }
            )
        return rows


def _answer(result: str, reason: str | None = None, *, field: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"result": result, "decisions": []}
    if reason is not None:
        out["reason"] = reason
    if field is not None:
        out["field"] = field
    return out


_HANDLERS = {
    "start": LiveState._start,
    "shift": LiveState._shift,
    "timer": LiveState._timer,
    "event": LiveState._event,
    "call": LiveState._call,
    "assign": LiveState._assign,
    "cancel": LiveState._cancel,
}
