"""Properties of the dispatch session under random fleets, shifts, calls and wellness rules.

Each example replays random calls through the SimPy harness with a session that checks itself
at every decision (a subclass, installed in the replay):

- a team is sent only when on duty, dispatchable, eligible, within the travel limit and not
  held by a wellness rule (unless the call may override the hold, which is then named);
- in every pass over the waiting calls, calls are served in priority-then-age order, and a
  call passed over could not have taken the team a later call got;
- the fast path (`Matcher.best`) gives the same answer as the full explained decision, under
  the tiered nearest-first policy and district-first with random districts and run cards, and
  when one matcher is asked about several fleets in turn;
- every call ends in exactly one outcome, the one the results record.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from dispatch.dispatcher import Decision, Dispatch, Dispatcher, Fallback, Unserved
from dispatch.dispatcher.session import _Call
from dispatch.match import Matcher
from dispatch.match.fleet import Fleet
from dispatch.match.matcher import Choice
from dispatch.match.policy import DistrictFirst, RunCard
from dispatch.match.rules import default_rules
from dispatch.match.wellness import WellnessRules
from dispatch.model import CallState, MealBreak, RiskLevel, TeamKind
from dispatch.sim.engine import FALLBACK, NOT_SERVED, SPECIALIST, CallDraws, FleetSetup, Replay
from dispatch.travel import TravelTimes

KINDS = list(TeamKind)
CORNERS = 36  # the small city's places (straight lines add more as teams drive home)


@pytest.fixture(scope="module", params=["road", "straight_line"])
def travel(request: pytest.FixtureRequest, city: Any) -> TravelTimes:
    """The small city's streets, or straight lines between its 36 corners (the same place
    numbers): a small fleet on straight lines takes `Matcher.best`'s path on Python lists."""
    if request.param == "road":
        road: TravelTimes = city.travel
        return road
    # a cut-off shorter than the city's diagonal (about 250 s), so some teams cannot reach
    line = TravelTimes.straight_line(cutoff_s=180.0)
    lats, lons = zip(*city.coords, strict=True)
    assert line.snap_many(lats, lons).tolist() == list(range(CORNERS))
    return line


class CheckedMatcher(Matcher):
    """A matcher whose fast path checks itself against the full, explained decision."""

    def best(self, place: int, risk: RiskLevel, fleet: Any, **kw: Any) -> Choice:
        choice = super().best(place, risk, fleet, **kw)
        full = self.recommend_at(
            "check",
            place,
            risk,
            fleet,
            now_s=kw["now_s"],
            priority=kw["priority"],
            specialist_only=kw["specialist_only"],
            zone=kw.get("zone"),
            call_type=kw.get("call_type", ""),
            explain=False,
        )
        team = fleet.team_ids[choice.row] if choice.row >= 0 else None
        assert (team, choice.reason, choice.wellness) == (full.team_id, full.reason, full.wellness)
        if team is not None:
            assert choice.eta_s == full.eta_s and choice.specialist == full.specialist
        return choice


class CheckedDispatcher(Dispatcher):
    """A session that asserts the properties above as it decides."""

    def _held(self, now: float) -> np.ndarray:
        w = self.matcher.wellness
        f = self.fleet
        if w is None:
            return np.zeros(len(f), dtype=np.int8)
        return w.holds(now, f)

    def _commit(
        self,
        key: Any,
        critical: bool,
        choice: Choice,
        now: float,
        specialist: bool,
        specialist_only: bool,
        call: _Call | None,
    ) -> Dispatch:
        # Every dispatch passes here; the session explains (explain=True), so the call is known.
        assert call is not None
        i, f, rules = choice.row, self.fleet, self.matcher.rules
        assert f.on_duty[i] and f.dispatchable[i]
        assert f.tiers(rules, call.risk)[0][i] >= 0
        assert choice.eta_s <= rules.max_travel_s
        w = self.matcher.wellness
        if self._held(now)[i]:
            assert w is not None and call.priority <= w.override_priority
            assert choice.wellness is not None and choice.wellness.override is not None
        out = super()._commit(key, critical, choice, now, specialist, specialist_only, call)
        assert out.explanation is not None and out.explanation.team_id == out.team_id
        return out

    def _match_queue(self, now: float) -> list[Decision]:
        if self.n_queued == 0:
            return super()._match_queue(now)
        self._refresh(now)
        waiting = [
            call
            for queue in self.queues
            for ticket, call in queue
            if ticket == call.ticket and call.state in (CallState.QUEUED, CallState.WAITING_ANY)
        ]
        held = self._held(now)
        before = {
            call.key: self.matcher.scores(
                call.place,
                call.risk,
                self.fleet,
                specialist_only=call.state is CallState.QUEUED,
                zone=call.zone,
            ).score.copy()
            for call in waiting
        }
        out = super()._match_queue(now)
        served = {d.call_id: self.fleet.index[d.team_id] for d in out if isinstance(d, Dispatch)}
        position = {call.key: n for n, call in enumerate(waiting)}
        order = [position[d.call_id] for d in out if isinstance(d, Dispatch)]
        assert order == sorted(order), "served out of priority-then-age order"
        override = self.matcher.wellness.override_priority if self.matcher.wellness else 0
        for x in waiting:
            if x.key in served:
                continue
            for y in waiting[position[x.key] + 1 :]:
                team = served.get(y.key)
                if team is not None:
                    could = np.isfinite(before[x.key][team]) and (
                        not held[team] or x.priority <= override
                    )
                    assert not could, f"{x.key} passed over for {y.key}"
        return out


@st.composite
def wellness_rules(draw: st.DrawFn) -> WellnessRules | None:
    if not draw(st.booleans()):
        return None
    return WellnessRules(
        recovery_min=draw(st.sampled_from([None, 20.0, 45.0])),
        max_consecutive=draw(st.sampled_from([None, 1, 2, 3])),
        break_min=draw(st.sampled_from([5.0, 30.0])),
        utilization_cap=draw(st.sampled_from([None, 0.3, 0.6])),
        utilization_window_h=draw(st.sampled_from([1.0, 8.0])),
        fairness_margin_s=draw(st.sampled_from([None, 0.0, 60.0, 300.0])),
        override_priority=draw(st.integers(0, 2)),
    )


@st.composite
def scenarios(draw: st.DrawFn, n_places: int) -> dict[str, Any]:
    m = draw(st.integers(1, 6))
    kinds = [draw(st.sampled_from(KINDS)) for _ in range(m)]
    cit = [
        k is TeamKind.CIT_OFFICER or (k is not TeamKind.CLINICIAN and draw(st.booleans()))
        for k in kinds
    ]
    duty = []
    for _ in range(m):
        start = draw(st.sampled_from([0.0, 1800.0, 7200.0]))
        hours = draw(st.sampled_from([2.0, 4.0, 8.0]))
        duty.append([(start, start + hours * 3600.0), (start + 12 * 3600.0, 24 * 3600.0)])
    n = draw(st.integers(1, 40))
    received = np.sort(np.array(draw(st.lists(st.floats(0, 40_000), min_size=n, max_size=n))))
    return {
        "team_ids": [f"T{k:02d}" for k in range(m)],
        "kinds": kinds,
        "cit": cit,
        "stations": draw(st.lists(st.integers(0, n_places - 1), min_size=m, max_size=m)),
        "duty": duty,
        "received": received,
        "places": draw(st.lists(st.integers(0, n_places - 1), min_size=n, max_size=n)),
        "risk": draw(st.lists(st.sampled_from(list(RiskLevel)), min_size=n, max_size=n)),
        "priority": draw(st.lists(st.integers(1, 4), min_size=n, max_size=n)),
        "critical": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "on_scene": draw(st.lists(st.floats(60, 7200), min_size=n, max_size=n)),
        "transport": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "fallback_after_s": draw(st.sampled_from([None, 0.0, 300.0, 900.0])),
        "pool": draw(st.booleans()),
        "wellness": draw(wellness_rules()),
        "meal": draw(st.sampled_from([None, MealBreak(30, 1, 3)])),
        "max_travel_s": draw(st.sampled_from([None, 400.0])),
        "district_first": draw(st.booleans()),
        "team_district": draw(st.lists(st.sampled_from("ABC"), min_size=m, max_size=m)),
        "zone": draw(st.lists(st.sampled_from(["A", "B", "C", None]), min_size=n, max_size=n)),
        "cards": [
            RunCard(z, tuple(draw(st.permutations("ABC")))) for z in "AB" if draw(st.booleans())
        ],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_session_properties(travel: TravelTimes, data: st.DataObject) -> None:
    sc = data.draw(scenarios(CORNERS))
    rules = default_rules()
    if sc["max_travel_s"] is not None:
        rules = replace(rules, max_travel_s=sc["max_travel_s"])
    if sc["district_first"]:
        names = [f"T{k:02d}" for k in range(len(sc["kinds"]))]
        districts = dict(zip(names, sc["team_district"], strict=True))
        policy = DistrictFirst(rules, districts, sc["cards"])
        matcher = Matcher(travel, wellness=sc["wellness"], policy=policy)
    else:
        matcher = Matcher(travel, rules, wellness=sc["wellness"])
    n = len(sc["received"])
    order = sorted(range(len(sc["team_ids"])), key=lambda i: sc["team_ids"][i])
    setup = FleetSetup(
        team_ids=[sc["team_ids"][i] for i in order],
        kinds=[sc["kinds"][i] for i in order],
        cit=[sc["cit"][i] for i in order],
        station_place=np.array([sc["stations"][i] for i in order]),
        duty=[sc["duty"][i] for i in order],
        facility_place=np.array([0, 35]),
    )
    zeros = np.zeros(n)
    replay = Replay(
        matcher,
        setup,
        call_ids=np.array([f"c{k}" for k in range(n)], dtype=object),
        received_s=sc["received"],
        place=np.array(sc["places"]),
        risk=sc["risk"],
        priority=np.array(sc["priority"]),
        simulated=np.ones(n, dtype=bool),
        draws=CallDraws(
            zeros + 30.0,
            zeros + 60.0,
            np.array(sc["on_scene"]),
            np.array(sc["transport"]),
            zeros + 600.0,
            zeros + 420.0,
        ),
        fallback_after_s=sc["fallback_after_s"],
        pool_fallback=sc["pool"],
        horizon_s=48 * 3600.0,
        critical=np.array(sc["critical"]),
        meal_break=sc["meal"],
        zone=sc["zone"] if sc["district_first"] else None,
    )
    assert type(replay.session) is Dispatcher and type(matcher) is Matcher
    replay.session.__class__ = CheckedDispatcher
    replay.session.explain = True
    matcher.__class__ = CheckedMatcher
    terminal: dict[int, list[str]] = {}

    def record(decisions: list[Decision]) -> list[Decision]:
        for d in decisions:
            if isinstance(d, Dispatch):
                terminal.setdefault(int(d.call_id), []).append("dispatch")
            elif isinstance(d, Fallback) and sc["pool"]:
                terminal.setdefault(int(d.call_id), []).append("pool")
            elif isinstance(d, Unserved):
                terminal.setdefault(int(d.call_id), []).append("unserved")
        return decisions

    session = replay.session
    for name in (
        "call_ready",
        "unit_cleared",
        "timer_due",
        "shift_started",
        "shift_ended",
        "close",
    ):
        method = getattr(session, name)
        setattr(session, name, lambda *a, _m=method, **k: record(_m(*a, **k)))
    rec = replay.run()
    assert sorted(terminal) == list(range(n))
    for c, ends in terminal.items():
        assert len(ends) == 1, (c, ends)
        expected = {"dispatch": (SPECIALIST, FALLBACK), "pool": (FALLBACK,)}
        assert rec.outcome[c] in expected.get(ends[0], (NOT_SERVED,))
    assert replay.session.pending() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_across_fleets(travel: TravelTimes, data: st.DataObject) -> None:
    """One matcher asked about several fleets in turn (it keeps per-row values for the last
    one) answers each exactly as the full decision does."""
    matcher = CheckedMatcher(travel)
    n_places = CORNERS
    fleets = []
    for _ in range(data.draw(st.integers(2, 3))):
        m = data.draw(st.integers(1, 6))
        fleets.append(
            Fleet(
                [f"T{k}" for k in range(m)],
                data.draw(st.lists(st.sampled_from(KINDS), min_size=m, max_size=m)),
                data.draw(st.lists(st.booleans(), min_size=m, max_size=m)),
                data.draw(st.lists(st.integers(0, n_places - 1), min_size=m, max_size=m)),
                on_duty=np.ones(m, dtype=bool),
                dispatchable=data.draw(st.lists(st.booleans(), min_size=m, max_size=m)),
            )
        )
    for _ in range(12):
        fleet = fleets[data.draw(st.integers(0, len(fleets) - 1))]
        matcher.best(
            data.draw(st.integers(0, n_places - 1)),
            data.draw(st.sampled_from(list(RiskLevel))),
            fleet,
            specialist_only=data.draw(st.booleans()),
            now_s=0.0,
            priority=2,
        )
