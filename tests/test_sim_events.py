"""Exact event logs of small replays, worked out by hand.

Each test builds a tiny call log with exact on-scene times, fixed processing (60 s), turnout
(60 s) and hand-off (600 s), and straight-line travel at 300 s per 0.01 degree of latitude (see
`simhelpers`), then asserts the whole audit log ``(replication, time_s, event, call_id,
team_id)``. Times are seconds from local midnight of the first call's day; Monday 2025-01-06.

Clock: 08:00 = 28800, 09:00 = 32400, 09:30 = 34200, 10:00 = 36000, 16:00 = 57600.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from simhelpers import event_rows, log_frame, random_log, scenario, site, team

from dispatch.distributions import Distribution
from dispatch.model import Shift, TeamKind
from dispatch.scenario import PolicySpec
from dispatch.sim.run import simulate

MONDAY = frozenset({0})
POOL_900 = PolicySpec(fallback_after_min=10.0, fallback_response=Distribution.fixed(900.0))


def run(sc):  # -> SimulationResult
    result = simulate(sc, event_log=True)
    assert result.events is not None
    assert list(result.events.columns) == ["replication", "time_s", "event", "call_id", "team_id"]
    return result


def by_id(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.set_index(column)


def test_shift_change_is_the_first_event_and_a_call_at_the_handover_goes_to_the_new_shift():
    # T1 works 08:00-16:00, T2 16:00-24:00, Mondays only; both at station S (k=0).
    # The local clock is Chicago time: shifts and the epoch are local midnight.
    tz = "America/Chicago"
    day, evening = Shift(8.0, 8.0, MONDAY), Shift(16.0, 8.0, MONDAY)
    log = log_frame(
        [
            {"call_id": "c1", "at": "2025-01-06 09:00", "k": 1, "on_scene_s": 1800.0},
            # received 15:59, ready at 16:00 exactly, the instant of the handover
            {"call_id": "c2", "at": "2025-01-06 15:59", "k": 2, "on_scene_s": 1200.0},
        ],
        timezone=tz,
    )
    sc = scenario(
        log, [team("T1", shifts=[day]), team("T2", shifts=[evening])], policy=POOL_900, timezone=tz
    )
    events = event_rows(run(sc).events)
    assert events == [
        (0, 28800.0, "shift_start", "", "T1"),  # 08:00
        (0, 32400.0, "received", "c1", ""),  # 09:00
        (0, 32460.0, "dispatched", "c1", "T1"),  # + 60 processing
        (0, 32820.0, "on_scene", "c1", "T1"),  # + 60 turnout + 300 travel (k=1)
        (0, 34620.0, "cleared", "c1", "T1"),  # + 1800 on scene; back at S by 34920
        (0, 57540.0, "received", "c2", ""),  # 15:59
        # 16:00: the shift change is handled before the call that becomes ready then
        (0, 57600.0, "shift_end", "", "T1"),
        (0, 57600.0, "off_duty", "", "T1"),  # idle at the station: off at once
        (0, 57600.0, "shift_start", "", "T2"),
        (0, 57600.0, "dispatched", "c2", "T2"),
        (0, 58260.0, "on_scene", "c2", "T2"),  # + 60 turnout + 600 travel (k=2)
        (0, 59460.0, "cleared", "c2", "T2"),  # + 1200 on scene
        (0, 86400.0, "shift_end", "", "T2"),  # 24:00
        (0, 86400.0, "off_duty", "", "T2"),
    ]


def test_every_team_goes_off_duty_mid_call_finishes_on_overtime_then_goes_off_duty():
    # T1 and T2 both work 08:00-10:00 on Mondays, at S (k=0).
    two_hours = Shift(8.0, 2.0, MONDAY)
    log = log_frame(
        [
            {"call_id": "c1", "at": "2025-01-06 09:30", "k": 1, "on_scene_s": 3600.0},
            {"call_id": "c2", "at": "2025-01-06 09:40", "k": 2, "on_scene_s": 1800.0},
            # 10:30: both teams still busy, but off shift: nobody on duty can come
            {"call_id": "c3", "at": "2025-01-06 10:30", "k": 1, "on_scene_s": 600.0},
        ]
    )
    sc = scenario(log, [team("T1", shifts=[two_hours]), team("T2", shifts=[two_hours])])
    result = run(sc)
    assert event_rows(result.events) == [
        (0, 28800.0, "shift_start", "", "T1"),
        (0, 28800.0, "shift_start", "", "T2"),
        (0, 34200.0, "received", "c1", ""),  # 09:30
        (0, 34260.0, "dispatched", "c1", "T1"),  # both free at S: tie broken by team id
        (0, 34620.0, "on_scene", "c1", "T1"),  # 34260 + 60 + 300
        (0, 34800.0, "received", "c2", ""),  # 09:40
        (0, 34860.0, "dispatched", "c2", "T2"),
        (0, 35520.0, "on_scene", "c2", "T2"),  # 34860 + 60 + 600
        (0, 36000.0, "shift_end", "", "T1"),  # 10:00, both still on scene
        (0, 36000.0, "shift_end", "", "T2"),
        (0, 37320.0, "cleared", "c2", "T2"),  # 35520 + 1800
        (0, 37800.0, "received", "c3", ""),  # 10:30
        (0, 37860.0, "fallback", "c3", ""),  # ready: no team on duty -> pool at once
        (0, 37920.0, "off_duty", "", "T2"),  # 37320 + 600 drive back to S
        (0, 38220.0, "cleared", "c1", "T1"),  # 34620 + 3600
        (0, 38520.0, "off_duty", "", "T1"),  # 38220 + 300 drive back to S
        (0, 38760.0, "on_scene", "c3", ""),  # the pool: 37860 + 900 travel
        (0, 39360.0, "cleared", "c3", ""),  # 38760 + 600 on scene
    ]
    teams = by_id(result.teams, "team_id")
    # overtime runs from shift end (36000) until back at the station
    assert teams.loc["T1", "overtime_hours"] == pytest.approx((38520 - 36000) / 3600)  # 0.7
    assert teams.loc["T2", "overtime_hours"] == pytest.approx((37920 - 36000) / 3600)
    # busy from dispatch to clear
    assert teams.loc["T1", "busy_hours"] == pytest.approx((38220 - 34260) / 3600)  # 1.1
    assert teams.loc["T2", "busy_hours"] == pytest.approx((37320 - 34860) / 3600)
    assert teams["calls"].tolist() == [1, 1]
    calls = by_id(result.calls, "call_id")
    assert calls.loc["c3", "outcome"] == "fallback"
    assert calls.loc["c3", "reason"] == "off_shift"
    assert calls.loc["c3", "responder_kind"] == "patrol"
    assert calls.loc["c3", "team_id"] == ""
    assert calls.loc["c3", "response_s"] == pytest.approx(60 + 0 + 900)  # pool travel 900 s


@pytest.mark.parametrize("order", [("c1", "c2"), ("c2", "c1")])
def test_two_calls_at_the_same_instant_with_one_team_first_in_log_order_second_queued(order):
    # One team, always on duty (a shift_start at time 0). Both calls come in at 09:00.
    # "a" is 2 steps away (600 s) with 1200 s on scene, "b" 1 step (300 s) with 900 s.
    specs = {
        "c1": {"call_id": "c1", "at": "2025-01-06 09:00", "k": 2, "on_scene_s": 1200.0},
        "c2": {"call_id": "c2", "at": "2025-01-06 09:00", "k": 1, "on_scene_s": 900.0},
    }
    first, second = order
    log = log_frame([specs[first], specs[second]])
    sc = scenario(log, [team("T1")], policy=PolicySpec(fallback_after_min=60.0))
    result = run(sc)
    t_first = 60 + 600 if first == "c1" else 60 + 300  # turnout + travel from S
    scene_first = 1200 if first == "c1" else 900
    on_scene_1 = 32460 + t_first
    clear_1 = on_scene_1 + scene_first
    # the queued call is dispatched at once from the first call's scene: 1 step apart (300 s)
    on_scene_2 = clear_1 + 60 + 300
    clear_2 = on_scene_2 + (900 if second == "c2" else 1200)
    assert event_rows(result.events) == [
        (0, 0.0, "shift_start", "", "T1"),
        (0, 32400.0, "received", first, ""),
        (0, 32400.0, "received", second, ""),
        (0, 32460.0, "dispatched", first, "T1"),  # ready together: the log's order decides
        (0, 32460.0, "queued", second, ""),
        (0, float(on_scene_1), "on_scene", first, "T1"),
        (0, float(clear_1), "cleared", first, "T1"),
        (0, float(clear_1), "dispatched", second, "T1"),
        (0, float(on_scene_2), "on_scene", second, "T1"),
        (0, float(clear_2), "cleared", second, "T1"),
    ]
    calls = by_id(result.calls, "call_id")
    assert calls.loc[second, "queue_s"] == pytest.approx(clear_1 - 32460)
    assert calls.loc[second, "travel_s"] == pytest.approx(360.0)
    assert calls.loc[second, "response_s"] == pytest.approx(on_scene_2 - 32400)
    assert calls.loc[second, "outcome"] == "specialist"  # waited less than 60 min
    assert calls.loc[second, "reason"] == ""


def test_two_calls_at_the_same_instant_with_two_teams_the_second_goes_to_the_farther_team():
    # T1 at S (k=0), T2 at S2 (k=3). Both calls at k=1: T1 is 300 s away, T2 600 s.
    log = log_frame(
        [
            {"call_id": "c1", "at": "2025-01-06 09:00", "k": 1, "on_scene_s": 1200.0},
            {"call_id": "c2", "at": "2025-01-06 09:00", "k": 1, "on_scene_s": 600.0},
        ]
    )
    sc = scenario(
        log,
        [team("T1", "S"), team("T2", "S2")],
        stations=[site("S", 0), site("S2", 3)],
    )
    assert event_rows(run(sc).events) == [
        (0, 0.0, "shift_start", "", "T1"),
        (0, 0.0, "shift_start", "", "T2"),
        (0, 32400.0, "received", "c1", ""),
        (0, 32400.0, "received", "c2", ""),
        (0, 32460.0, "dispatched", "c1", "T1"),  # the nearer team
        (0, 32460.0, "dispatched", "c2", "T2"),  # T1 is taken
        (0, 32820.0, "on_scene", "c1", "T1"),  # 32460 + 60 + 300
        (0, 33120.0, "on_scene", "c2", "T2"),  # 32460 + 60 + 600
        (0, 33720.0, "cleared", "c2", "T2"),  # 33120 + 600
        (0, 34020.0, "cleared", "c1", "T1"),  # 32820 + 1200
    ]


def test_call_in_a_roster_gap_falls_back_to_the_pool_with_reason_off_shift():
    # T1 works 08:00-16:00 on Mondays; a call at 17:00 finds nobody on duty.
    log = log_frame([{"call_id": "c1", "at": "2025-01-06 17:00", "k": 1, "on_scene_s": 1200.0}])
    sc = scenario(log, [team("T1", shifts=[Shift(8.0, 8.0, MONDAY)])], policy=POOL_900)
    result = run(sc)
    assert event_rows(result.events) == [
        (0, 28800.0, "shift_start", "", "T1"),
        (0, 57600.0, "shift_end", "", "T1"),
        (0, 57600.0, "off_duty", "", "T1"),
        (0, 61200.0, "received", "c1", ""),  # 17:00
        (0, 61260.0, "fallback", "c1", ""),  # ready; no waiting for an off-shift fleet
        (0, 62160.0, "on_scene", "c1", ""),  # the pool: 61260 + 900 travel
        (0, 63360.0, "cleared", "c1", ""),  # 62160 + 1200 on scene
    ]
    call = result.calls.iloc[0]
    assert (call["outcome"], call["reason"], call["responder_kind"], call["team_id"]) == (
        "fallback",
        "off_shift",
        "patrol",
        "",
    )
    assert call["queue_s"] == 0.0
    assert call["travel_s"] == 900.0  # the pool's fixed response
    assert call["response_s"] == 960.0
    assert call["arrived_at"] == pd.Timestamp("2025-01-06 17:16", tz="UTC")
    assert call["cleared_at"] == pd.Timestamp("2025-01-06 17:36", tz="UTC")  # + 1200 on scene


def test_call_in_a_roster_gap_goes_to_a_fallback_team_when_fallback_is_teams():
    # Same gap, but fallback units are the scenario's own teams: patrol P1 at S2 (k=3), always on.
    log = log_frame([{"call_id": "c1", "at": "2025-01-06 17:00", "k": 1, "on_scene_s": 1200.0}])
    sc = scenario(
        log,
        [
            team("T1", "S", shifts=[Shift(8.0, 8.0, MONDAY)]),
            team("P1", "S2", kind=TeamKind.PATROL, cit=False),
        ],
        stations=[site("S", 0), site("S2", 3)],
        policy=PolicySpec(fallback="teams"),
    )
    result = run(sc)
    assert event_rows(result.events) == [
        (0, 0.0, "shift_start", "", "P1"),
        (0, 28800.0, "shift_start", "", "T1"),
        (0, 57600.0, "shift_end", "", "T1"),
        (0, 57600.0, "off_duty", "", "T1"),
        (0, 61200.0, "received", "c1", ""),
        (0, 61260.0, "fallback", "c1", ""),
        (0, 61260.0, "dispatched", "c1", "P1"),
        (0, 61920.0, "on_scene", "c1", "P1"),  # 61260 + 60 + 600 (k=3 -> k=1)
        (0, 63120.0, "cleared", "c1", "P1"),  # + 1200
    ]
    call = result.calls.iloc[0]
    assert (call["outcome"], call["reason"], call["responder_kind"], call["team_id"]) == (
        "fallback",
        "off_shift",
        "patrol",
        "P1",
    )


def test_transport_then_a_call_for_the_team_on_its_way_back():
    # T1 at S (k=0), always on; facility F at k=3. c1 at k=1 is transported (scene -> F is
    # 600 s, hand-off 600 s). c2 at S comes in while T1 drives back from F (900 s).
    log = log_frame(
        [
            {"call_id": "c1", "at": "2025-01-06 09:00", "k": 1, "on_scene_s": 1200.0},
            {
                "call_id": "c2",
                "at": "2025-01-06 09:52",
                "k": 0,
                "on_scene_s": 300.0,
                "transport": False,
            },
        ]
    )
    log.loc[log["call_id"] == "c1", "transport"] = True
    sc = scenario(log, [team("T1")], facilities=[site("F", 3)])
    result = run(sc)
    assert event_rows(result.events) == [
        (0, 0.0, "shift_start", "", "T1"),
        (0, 32400.0, "received", "c1", ""),
        (0, 32460.0, "dispatched", "c1", "T1"),
        (0, 32820.0, "on_scene", "c1", "T1"),  # 32460 + 60 + 300
        (0, 34620.0, "at_facility", "c1", "T1"),  # + 1200 on scene + 600 to F
        (0, 35220.0, "cleared", "c1", "T1"),  # + 600 hand-off; starts back to S (900 s)
        (0, 35520.0, "received", "c2", ""),  # 09:52
        # ready at 35580, 360 s into the drive back. A straight route is cut into 9 equal
        # legs of 100 s; the team has passed the third stop, 2 steps from S: 600 s away.
        (0, 35580.0, "dispatched", "c2", "T1"),
        (0, 36240.0, "on_scene", "c2", "T1"),  # 35580 + 60 + 600
        (0, 36540.0, "cleared", "c2", "T1"),  # + 300
    ]
    calls = by_id(result.calls, "call_id")
    assert calls.loc["c1", "facility_id"] == "F"
    assert bool(calls.loc["c1", "transported"]) is True
    assert calls.loc["c1", "cleared_at"] == pd.Timestamp("2025-01-06 09:47", tz="UTC")  # 35220 s
    assert calls.loc["c2", "facility_id"] == ""
    assert bool(calls.loc["c2", "transported"]) is False
    assert calls.loc["c2", "travel_s"] == pytest.approx(660.0)


def test_call_waiting_past_fallback_after_min_goes_to_the_pool():
    # One team; c2 comes in while T1 is on c1 and waits 10 min before the pool is sent.
    log = log_frame(
        [
            {"call_id": "c1", "at": "2025-01-06 09:00", "k": 1, "on_scene_s": 3600.0},
            {"call_id": "c2", "at": "2025-01-06 09:10", "k": 1, "on_scene_s": 600.0},
        ]
    )
    result = run(scenario(log, [team("T1")], policy=POOL_900))
    assert event_rows(result.events) == [
        (0, 0.0, "shift_start", "", "T1"),
        (0, 32400.0, "received", "c1", ""),
        (0, 32460.0, "dispatched", "c1", "T1"),
        (0, 32820.0, "on_scene", "c1", "T1"),
        (0, 33000.0, "received", "c2", ""),  # 09:10
        (0, 33060.0, "queued", "c2", ""),  # ready; T1 busy
        (0, 33660.0, "fallback", "c2", ""),  # 33060 + 600 s wait
        (0, 34560.0, "on_scene", "c2", ""),  # the pool: 33660 + 900 travel
        (0, 35160.0, "cleared", "c2", ""),  # 34560 + 600 on scene
        (0, 36420.0, "cleared", "c1", "T1"),  # 32820 + 3600
    ]
    c2 = by_id(result.calls, "call_id").loc["c2"]
    assert (c2["outcome"], c2["reason"]) == ("fallback", "all_busy")
    assert c2["queue_s"] == pytest.approx(600.0)
    assert c2["response_s"] == pytest.approx(60 + 600 + 900)
    assert c2["cleared_at"] == pd.Timestamp("2025-01-06 09:46", tz="UTC")  # 33660+900+600 = 35160 s


def test_event_log_is_identical_when_run_twice():
    log = log_frame(
        [
            {"call_id": f"c{i}", "at": f"2025-01-06 09:{i:02d}", "k": i % 3, "on_scene_s": 900.0}
            for i in range(12)
        ]
    )
    sc = scenario(log, [team("T1"), team("T2")], policy=POOL_900)
    first = run(sc).events
    second = run(scenario(log, [team("T1"), team("T2")], policy=POOL_900)).events
    pd.testing.assert_frame_equal(first, second)


def test_shift_clocks_are_local_across_the_daylight_saving_change():
    # Chicago springs forward on Sunday 2025-03-09: that day has 23 hours. T1 works 09:00-11:00
    # local time every day. Time 0 is Saturday 00:00 CST (06:00 UTC), the first call's day.
    tz = "America/Chicago"
    log = log_frame(
        [
            {"call_id": "c0", "at": "2025-03-08 10:00", "k": 1, "on_scene_s": 600.0},
            {"call_id": "c1", "at": "2025-03-09 09:30", "k": 1, "on_scene_s": 1200.0},
        ],
        timezone=tz,
    )
    sc = scenario(log, [team("T1", shifts=[Shift(9.0, 2.0)])], timezone=tz)
    result = run(sc)
    sunday = 24 * 3600.0  # Sunday 00:00 CST; 09:00 CDT is then 8 h later, not 9
    assert event_rows(result.events) == [
        (0, 32400.0, "shift_start", "", "T1"),  # Saturday 09:00 CST
        (0, 36000.0, "received", "c0", ""),  # 10:00
        (0, 36060.0, "dispatched", "c0", "T1"),
        (0, 36420.0, "on_scene", "c0", "T1"),  # + 60 + 300
        (0, 37020.0, "cleared", "c0", "T1"),  # + 600
        (0, 39600.0, "shift_end", "", "T1"),  # 11:00 CST
        (0, 39600.0, "off_duty", "", "T1"),
        (0, sunday + 8 * 3600.0, "shift_start", "", "T1"),  # Sunday 09:00 CDT = 115200
        (0, sunday + 8.5 * 3600.0, "received", "c1", ""),  # 09:30 CDT = 117000
        (0, sunday + 8.5 * 3600.0 + 60.0, "dispatched", "c1", "T1"),
        (0, sunday + 8.5 * 3600.0 + 420.0, "on_scene", "c1", "T1"),  # + 60 + 300
        (0, sunday + 8.5 * 3600.0 + 1620.0, "cleared", "c1", "T1"),  # + 1200
        (0, sunday + 10 * 3600.0, "shift_end", "", "T1"),  # 11:00 CDT
        (0, sunday + 10 * 3600.0, "off_duty", "", "T1"),
        (0, sunday + 23 * 3600.0 + 9 * 3600.0, "shift_start", "", "T1"),  # Monday 09:00 CDT
        # the run ends 24 h after the last call, before Monday's shift ends
    ]
    call = result.calls.set_index("call_id").loc["c1"]
    assert call["dispatched_at"] == pd.Timestamp("2025-03-09 09:31", tz=tz)
    assert call["arrived_at"] == pd.Timestamp("2025-03-09 09:37", tz=tz)
    assert str(call["received_at"].tz) == tz


def test_call_no_team_can_take_before_the_run_ends_is_unserved():
    # Specialist T1 and patrol P1 both work Mondays 08:00-10:00 only; fallback goes to the
    # scenario's own teams at once. A call at 12:00 finds nobody on duty and waits for any team;
    # the run ends 24 h after the last call, before next Monday.
    monday = Shift(8.0, 2.0, MONDAY)
    log = log_frame([{"call_id": "c1", "at": "2025-01-06 12:00", "k": 1}])
    sc = scenario(
        log,
        [team("T1", shifts=[monday]), team("P1", kind=TeamKind.PATROL, cit=False, shifts=[monday])],
        policy=PolicySpec(fallback_after_min=0.0, fallback="teams"),
    )
    result = run(sc)
    assert event_rows(result.events) == [
        (0, 28800.0, "shift_start", "", "P1"),  # teams in id order
        (0, 28800.0, "shift_start", "", "T1"),
        (0, 36000.0, "shift_end", "", "P1"),
        (0, 36000.0, "off_duty", "", "P1"),
        (0, 36000.0, "shift_end", "", "T1"),
        (0, 36000.0, "off_duty", "", "T1"),
        (0, 43200.0, "received", "c1", ""),  # 12:00
        (0, 43260.0, "fallback", "c1", ""),  # no specialist on shift
        (0, 43260.0, "waiting_any", "c1", ""),  # and no fallback team either
        (0, 129600.0, "unserved", "c1", ""),  # the end of the run: 43200 + 24 h
    ]
    call = result.calls.iloc[0]
    assert (call["outcome"], call["reason"], call["team_id"]) == ("unserved", "off_shift", "")
    assert pd.isna(call["dispatched_at"]) and pd.isna(call["response_s"])
    assert call["processing_s"] == 60.0


def test_a_session_that_forgets_its_ways_home_replays_the_same(monkeypatch) -> None:
    # The ways home are a cache: bounded so that a session live for months stays bounded, and
    # rebuilt the same whenever one is forgotten.
    from dispatch.dispatcher import session

    def run():  # -> SimulationResult, on a fresh oracle each time
        log = random_log(np.random.default_rng(5), 300)
        teams = [team(f"T{k}") for k in range(3)]
        sc = scenario(log, teams, facilities=[site("H", 3.0)], replications=2)
        return simulate(sc, event_log=True)

    kept = run()
    monkeypatch.setattr(session, "LEG_CACHE_SIZE", 2)
    forgetful = run()
    pd.testing.assert_frame_equal(kept.calls, forgetful.calls)
    pd.testing.assert_frame_equal(kept.events, forgetful.events)
    pd.testing.assert_frame_equal(kept.teams, forgetful.teams)
