"""The dispatch session, driven by hand: a CAD shift in miniature, exact decisions and timers.

The street is a line of five intersections, 60 s apart both ways, so every ETA is obvious:
``|a - b| * 60`` seconds. Co-responders CR-1 (station 0) and CR-2 (station 4), patrol P-1
(station 2); fallback after 10 min to the fleet's own patrol; a 30-minute meal break due 1-2 h
into the shift.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from simhelpers import line_street

from dispatch.dispatcher import (
    BreakEnded,
    BreakStarted,
    Decision,
    Dispatch,
    Dispatcher,
    DispatchSettings,
    Fallback,
    OffDuty,
    Queue,
    Timer,
)
from dispatch.dispatcher.events import CallReady, ShiftBoundary, TimerDue, UnitCleared, UnitStatus
from dispatch.errors import InputError
from dispatch.match import Matcher
from dispatch.model import Call, MealBreak, ReasonCode, RiskLevel, TeamKind, TeamStatus
from dispatch.sim.engine import CallDraws, FleetSetup, Replay

ALL_BUSY = ReasonCode.ALL_BUSY
STD, LOW = RiskLevel.STANDARD, RiskLevel.LOW
TEAMS = ["CR-1", "CR-2", "P-1"]
KINDS = [TeamKind.CO_RESPONDER, TeamKind.CO_RESPONDER, TeamKind.PATROL]
STATIONS = [0, 4, 2]
SETTINGS = DispatchSettings(
    fallback_after_s=600.0,
    pool_fallback=False,
    meal_break=MealBreak(length_min=30, window_start_h=1, window_end_h=2),
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(line_street())


def session(matcher: Matcher) -> Dispatcher:
    return Dispatcher.from_columns(
        matcher, TEAMS, KINDS, [True, True, False], stations=STATIONS, settings=SETTINGS
    )


# (time, method, arguments) -> the exact decisions. Calls: (id, place, risk, priority).
CALLS = {
    "A": (100.0, 1, STD, 2),
    "B": (200.0, 3, STD, 2),
    "C": (300.0, 2, STD, 2),
    "D": (400.0, 0, STD, 1),
    "E": (1200.0, 4, LOW, 2),
    "F": (8500.0, 2, STD, 2),
}
SHIFT = [
    (0.0, "shift_started", ("CR-1",), [Timer("break_window:1", 3600.0)]),
    (0.0, "shift_started", ("CR-2",), [Timer("break_window:2", 3600.0)]),
    (0.0, "shift_started", ("P-1",), [Timer("break_window:3", 3600.0)]),
    (100.0, "call", ("A",), [Dispatch("A", "CR-1", 60.0, True)]),
    (200.0, "call", ("B",), [Dispatch("B", "CR-2", 60.0, True)]),
    (300.0, "call", ("C",), [Queue("C", ALL_BUSY, 900.0), Timer("fallback:4", 900.0)]),
    # Priority 1 waits too, but will be offered the first team that frees up.
    (400.0, "call", ("D",), [Queue("D", ALL_BUSY, 1000.0), Timer("fallback:5", 1000.0)]),
    # CR-1 clears one block from its station: D (priority 1) is served before C (older).
    (700.0, "unit_cleared", ("CR-1", 1), [Dispatch("D", "CR-1", 60.0, True)]),
    # C's ten minutes are up: the fleet's own patrol goes, from its station at the scene.
    (
        900.0,
        "timer_due",
        ("fallback:4",),
        [Fallback("C", ALL_BUSY), Dispatch("C", "P-1", 0.0, False)],
    ),
    (1000.0, "timer_due", ("fallback:5",), []),  # D was dispatched: the timer is stale
    (1200.0, "call", ("E",), [Queue("E", ALL_BUSY, 1800.0), Timer("fallback:6", 1800.0)]),
    (1500.0, "unit_cleared", ("CR-2", 3), [Dispatch("E", "CR-2", 60.0, True)]),
    (1800.0, "timer_due", ("fallback:6",), []),
    (3000.0, "unit_cleared", ("P-1", 2), []),
    # Break windows open: CR-1 and CR-2 are on calls (break due until 7200), P-1 is free.
    (3600.0, "timer_due", ("break_window:1",), []),
    (3600.0, "timer_due", ("break_window:2",), []),
    (
        3600.0,
        "timer_due",
        ("break_window:3",),
        [BreakStarted("P-1", 3600.0), Timer("break_end:7", 5400.0)],
    ),
    (5400.0, "timer_due", ("break_end:7",), [BreakEnded("P-1", 5400.0)]),
    # CR-1 clears 300 s after its window closed: the break comes now and counts as deferred.
    (
        7500.0,
        "unit_cleared",
        ("CR-1", 0),
        [BreakStarted("CR-1", 7500.0), Timer("break_end:8", 9300.0)],
    ),
    (8000.0, "shift_ended", ("CR-2",), []),  # on a call: finishes it on overtime
    (8200.0, "unit_cleared", ("CR-2", 4), [OffDuty("CR-2", 8200.0)]),
    # CR-1 on its break, CR-2 off duty: F waits for a specialist, then patrol goes.
    (8500.0, "call", ("F",), [Queue("F", ALL_BUSY, 9100.0), Timer("fallback:9", 9100.0)]),
    (
        9100.0,
        "timer_due",
        ("fallback:9",),
        [Fallback("F", ALL_BUSY), Dispatch("F", "P-1", 0.0, False)],
    ),
    (9200.0, "unit_cleared", ("P-1", 2), []),
    (9300.0, "timer_due", ("break_end:8",), [BreakEnded("CR-1", 9300.0)]),
]


def apply(s: Dispatcher, now: float, method: str, args: tuple[Any, ...]) -> list[Decision]:
    if method == "call":
        _, place, risk, priority = CALLS[args[0]]
        return s.call_ready(args[0], now, place=place, risk=risk, priority=priority)
    if method == "unit_cleared":
        return s.unit_cleared(args[0], now, place=args[1])
    return getattr(s, method)(args[0], now)  # type: ignore[no-any-return]


def test_a_shift_in_miniature_gives_exactly_these_decisions(matcher: Matcher) -> None:
    s = session(matcher)
    for now, method, args, expected in SHIFT:
        assert apply(s, now, method, args) == expected, (now, method, args)
    tally = s.tally
    assert tally.calls == [2, 2, 2]
    assert tally.busy_s == [600.0 + 6800.0, 1300.0 + 6700.0, 2100.0 + 100.0]
    assert tally.overtime_s == [0.0, 200.0, 0.0]
    assert (tally.breaks, tally.breaks_deferred, tally.break_delay_s) == (
        [1, 0, 1],
        [1, 0, 0],
        [300.0, 0.0, 0.0],
    )
    assert tally.breaks_missed == [0, 1, 0]
    assert s.status == [TeamStatus.AVAILABLE, TeamStatus.OFF_DUTY, TeamStatus.AVAILABLE]
    assert s.close(10_000.0) == [] and s.pending() == []


@pytest.mark.parametrize("cut", [5, 8, 11, 16, 19, 22])
def test_a_restored_snapshot_continues_identically(matcher: Matcher, cut: int) -> None:
    first = session(matcher)
    for now, method, args, _ in SHIFT[:cut]:
        apply(first, now, method, args)
    state = json.loads(json.dumps(first.snapshot()))  # plain values survive JSON
    second = session(matcher)
    second.restore(state)
    assert second.snapshot() == first.snapshot()
    for now, method, args, expected in SHIFT[cut:]:
        assert apply(second, now, method, args) == expected
        assert apply(first, now, method, args) == expected
    assert second.snapshot() == first.snapshot()


def test_the_replay_makes_the_same_decisions(
    matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same calls through the SimPy replay: on-scene times chosen so each team clears at
    the same moment as in the hand-written shift."""
    ids = list(CALLS)
    received = np.array([CALLS[c][0] for c in ids])
    on_scene = np.array([540.0, 1240.0, 2100.0, 6740.0, 6640.0, 100.0])
    zeros = np.zeros(len(ids))
    setup = FleetSetup(
        team_ids=TEAMS,
        kinds=KINDS,
        cit=[True, True, False],
        station_place=np.array(STATIONS),
        duty=[[(0.0, 20_000.0)], [(0.0, 8000.0)], [(0.0, 20_000.0)]],
        facility_place=np.array([0]),
    )
    replay = Replay(
        matcher,
        setup,
        call_ids=np.array(ids, dtype=object),
        received_s=received,
        place=np.array([CALLS[c][1] for c in ids]),
        risk=[CALLS[c][2] for c in ids],
        priority=np.array([CALLS[c][3] for c in ids]),
        simulated=np.ones(len(ids), dtype=bool),
        draws=CallDraws(zeros, zeros, on_scene, np.zeros(len(ids), bool), zeros, zeros),
        fallback_after_s=SETTINGS.fallback_after_s,
        pool_fallback=False,
        horizon_s=10_000.0,
        meal_break=SETTINGS.meal_break,
    )
    seen: list[tuple[float, list[Decision]]] = []
    for name in ("call_ready", "unit_cleared", "timer_due", "shift_started", "shift_ended"):
        method = getattr(replay.session, name)

        def spy(*args: Any, _method: Any = method, **kwargs: Any) -> list[Decision]:
            out: list[Decision] = _method(*args, **kwargs)
            seen.append((args[1], [_named(d, ids) for d in out]))
            return out

        monkeypatch.setattr(replay.session, name, spy)
    rec = replay.run()
    expected = [(now, decisions) for now, _, _, decisions in SHIFT]
    assert [x for x in seen if x[1]] == [x for x in expected if x[1]]
    assert rec.team_breaks_deferred.tolist() == [1, 0, 0]
    assert rec.team_overtime_s.tolist() == [0.0, 200.0, 0.0]


def _named(d: Decision, ids: list[str]) -> Decision:
    """The replay keys calls by row; the hand-written shift by call id."""
    if isinstance(d, Dispatch | Queue | Fallback):
        return d._replace(call_id=ids[int(d.call_id)])
    return d


def test_events_with_ids_are_applied_once(matcher: Matcher) -> None:
    s = session(matcher)
    assert s.handle(ShiftBoundary("s1", 0.0, "CR-1", start=True)) == [
        Timer("break_window:1", 3600.0)
    ]
    assert s.handle(ShiftBoundary("s1", 0.0, "CR-1", start=True)) == []
    assert s.handle(CallReady("c1", 10.0, "A", place=2)) == [Dispatch("A", "CR-1", 120.0, True)]
    assert s.handle(CallReady("c1", 10.0, "A", place=2)) == []
    assert s.handle(UnitCleared("u1", 900.0, "CR-1", place=2)) == []
    assert s.handle(UnitStatus("u2", 950.0, "CR-1", TeamStatus.OUT_OF_SERVICE)) == []
    assert s.handle(UnitStatus("u3", 1000.0, "CR-1", TeamStatus.AVAILABLE)) == []
    assert s.handle(TimerDue("t1", 3600.0, "break_window:1")) == [
        BreakStarted("CR-1", 3600.0),
        Timer("break_end:2", 5400.0),
    ]


def test_unit_status_messages(matcher: Matcher) -> None:
    s = session(matcher)
    with pytest.raises(InputError, match="off duty"):
        s.unit_status("CR-1", 0.0, TeamStatus.OUT_OF_SERVICE)
    s.unit_status("CR-1", 0.0, TeamStatus.AVAILABLE)  # logged on outside the schedule
    s.unit_status("CR-1", 10.0, TeamStatus.OUT_OF_SERVICE)
    assert s.call_ready("A", 20.0, place=1, risk=STD)[0] == Queue("A", ALL_BUSY, 620.0)
    # Back in service at a reported place: the waiting call gets it at once.
    assert s.unit_status("CR-1", 30.0, TeamStatus.AVAILABLE, place=3) == [
        Dispatch("A", "CR-1", 120.0, True)
    ]
    assert s.unit_status("CR-1", 100.0, TeamStatus.ON_SCENE) == []
    with pytest.raises(InputError, match="on a call"):
        s.unit_status("CR-1", 200.0, TeamStatus.OUT_OF_SERVICE)
    assert s.unit_status("CR-1", 900.0, TeamStatus.AVAILABLE, place=1) == []
    assert s.status[0] is TeamStatus.RETURNING
    # Logged off on the way home (60 s from 900): off duty once home.
    assert s.unit_status("CR-1", 950.0, TeamStatus.OFF_DUTY) == [OffDuty("CR-1", 960.0)]


def test_a_waiting_call_can_be_cancelled(matcher: Matcher) -> None:
    s = session(matcher)
    s.shift_started("CR-1", 0.0)
    s.call_ready("A", 10.0, place=1, risk=STD)
    s.call_ready("B", 20.0, place=2, risk=STD)
    assert [key for key, *_ in s.pending()] == ["B"]
    s.cancel("B", 30.0)
    assert s.pending() == []
    assert s.timer_due("fallback:2", 620.0) == []
    with pytest.raises(InputError, match="no waiting call"):
        s.cancel("A", 40.0)


def test_a_call_from_a_cad_is_placed_escalated_and_explained(matcher: Matcher) -> None:
    """`receive` snaps the call, raises its risk on a weapon flag, and with ``explain=True``
    each dispatch carries the ranked alternatives of that very choice."""
    s = Dispatcher.from_columns(
        matcher,
        TEAMS,
        KINDS,
        [True, True, False],
        stations=STATIONS,
        settings=SETTINGS,
        explain=True,
    )
    for team in TEAMS:
        s.shift_started(team, 0.0)
    lat, lon = 39.70, -105.00 + 0.005 * 3  # node 3
    armed = Call("W-1", lat, lon, received_s=50.0, flags=frozenset({"weapon"}))
    (sent,) = s.receive(armed)
    assert isinstance(sent, Dispatch) and (sent.team_id, sent.eta_s) == ("CR-2", 60.0)
    assert sent.explanation is not None and sent.explanation.risk is RiskLevel.HIGH
    assert sent.explanation.team_id == "CR-2"
    assert [a.team_id for a in sent.explanation.alternatives][:2] == ["CR-2", "CR-1"]
    # The busy team shows as busy in the next explanation, not in the one before.
    (second,) = s.receive(Call("W-2", lat, lon, received_s=60.0))
    assert isinstance(second, Dispatch) and second.team_id == "CR-1"
    assert second.explanation is not None
    verdicts = {a.team_id: a.verdict.value for a in second.explanation.alternatives}
    assert verdicts["CR-2"] == "busy"


def test_events_about_unknown_or_idle_teams_are_refused(matcher: Matcher) -> None:
    s = session(matcher)
    with pytest.raises(InputError, match="unknown team id 'X-9'"):
        s.unit_cleared("X-9", 10.0, place=0)
    with pytest.raises(InputError, match="not on a call"):
        s.unit_cleared("CR-1", 10.0, place=0)
    with pytest.raises(InputError, match="unknown team id"):
        s.shift_started("X-9", 0.0)


def test_a_snapshot_of_another_fleet_is_refused(matcher: Matcher) -> None:
    other = Dispatcher.from_columns(matcher, ["X"], [TeamKind.PATROL], [False], stations=[0])
    with pytest.raises(InputError, match="another fleet"):
        session(matcher).restore(other.snapshot())


# -- a person confirms or overrides --------------------------------------------------------
def started(matcher: Matcher) -> Dispatcher:
    s = session(matcher)
    for team in TEAMS:
        s.shift_started(team, 0.0)
    return s


def test_confirming_the_team_sent_changes_nothing(matcher: Matcher) -> None:
    s = started(matcher)
    s.call_ready("A", 100.0, place=1, risk=STD)
    before = s.snapshot()
    assert s.assign("A", "CR-1", 110.0, place=1, risk=STD) == []
    assert s.snapshot() == before


def test_an_override_stands_the_first_team_down_and_it_takes_the_waiting_call(
    matcher: Matcher,
) -> None:
    s = started(matcher)
    assert s.call_ready("A", 100.0, place=3, risk=STD)[0].team_id == "CR-2"
    assert s.call_ready("B", 100.0, place=1, risk=STD)[0].team_id == "CR-1"
    assert isinstance(s.call_ready("C", 100.0, place=4, risk=STD)[0], Queue)
    # the dispatcher sends patrol P-1 (station 2, one block from A) to A instead of CR-2
    out = s.assign("A", "P-1", 120.0, place=3, risk=STD)
    assert out[0] == Dispatch("A", "P-1", 60.0, False)
    # CR-2 is stood down where it was sent from (its station, 4) and takes waiting C at once
    assert out[1] == Dispatch("C", "CR-2", 0.0, True)
    assert s.pending() == []
    with pytest.raises(InputError, match="not free"):
        s.assign("B", "CR-2", 130.0, place=1, risk=STD)


def test_assigning_a_waiting_call_takes_it_out_of_its_queue(matcher: Matcher) -> None:
    s = started(matcher)
    s.call_ready("A", 100.0, place=0, risk=STD)
    s.call_ready("B", 100.0, place=4, risk=STD)
    s.call_ready("C", 100.0, place=2, risk=STD)
    assert [key for key, _, _ in s.pending()] == ["C"]
    assert s.assign("C", "P-1", 150.0, place=2, risk=STD) == [Dispatch("C", "P-1", 0.0, False)]
    assert s.pending() == []
    assert s.timer_due("fallback:4", 700.0) == []  # its fallback timer no longer applies
    with pytest.raises(InputError, match="neither waiting nor dispatched"):
        s.assign("Z", "CR-1", 150.0, place=2, risk=STD)


def test_a_refused_status_report_changes_nothing(matcher: Matcher) -> None:
    s = started(matcher)
    s.call_ready("A", 100.0, place=1, risk=STD)
    before = s.snapshot()
    with pytest.raises(InputError, match="clear it"):
        s.unit_status("CR-1", 150.0, TeamStatus.OUT_OF_SERVICE, place=3)
    s.shift_ended("P-1", 200.0)
    with pytest.raises(InputError, match="log it on"):
        s.unit_status("P-1", 250.0, TeamStatus.ON_SCENE, place=3)
    assert s.snapshot()["fleet"]["place"] == before["fleet"]["place"]


def test_a_clear_after_the_shift_ended_during_the_call_is_a_clear(matcher: Matcher) -> None:
    s = started(matcher)
    s.call_ready("A", 100.0, place=1, risk=STD)
    assert s.shift_ended("CR-1", 200.0) == []  # on a call: finishes it on overtime
    out = s.unit_status("CR-1", 500.0, TeamStatus.AVAILABLE, place=1)
    assert out == [OffDuty("CR-1", 560.0)]  # drives home (60 s), then off duty
    assert s.status[s.fleet.index["CR-1"]] is TeamStatus.OFF_DUTY
