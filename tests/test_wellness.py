"""Wellness rules: holds, overrides, the fairness margin, and a scenario checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simhelpers import fixed_service, line_street, log_frame, random_log, scenario, site, team

from dispatch import simulate
from dispatch.dispatcher import Dispatcher
from dispatch.distributions import Distribution
from dispatch.errors import InputError
from dispatch.match import Fleet, Matcher
from dispatch.match.holds import WellnessOutcome
from dispatch.match.wellness import WellnessRules, wellness_from_dict
from dispatch.model import Call, RiskLevel, Shift, TeamKind
from dispatch.scenario import MealBreak, PolicySpec

KINDS = list(TeamKind)
RISKS = list(RiskLevel)


def random_fleet(city, rng: np.random.Generator, n: int) -> Fleet:  # type: ignore[no-untyped-def]
    kinds = [KINDS[int(k)] for k in rng.integers(0, 4, n)]
    cit = [
        k is TeamKind.CIT_OFFICER or (k is not TeamKind.CLINICIAN and bool(rng.random() < 0.6))
        for k in kinds
    ]
    fleet = Fleet(
        [f"T{i:02d}" for i in range(n)],
        kinds,
        cit,
        rng.integers(0, city.travel.n_places, n),
        on_duty=rng.random(n) < 0.9,
        dispatchable=rng.random(n) < 0.75,
    )
    fleet.recovering_until_s[:] = np.where(rng.random(n) < 0.3, rng.uniform(0, 200, n), -np.inf)
    fleet.streak[:] = rng.integers(0, 4, n)
    fleet.recent_utilization[:] = rng.uniform(0, 0.9, n)
    fleet.load_s[:] = rng.choice([0.0, 600.0, 1200.0], n)  # ties in load happen
    return fleet


def random_rules(rng: np.random.Generator) -> WellnessRules:
    return WellnessRules(
        recovery_min=float(rng.choice([1.0, 2.0])) if rng.random() < 0.8 else None,
        max_consecutive=int(rng.integers(1, 4)) if rng.random() < 0.8 else None,
        utilization_cap=float(rng.uniform(0.3, 0.9)) if rng.random() < 0.8 else None,
        fairness_margin_s=float(rng.choice([0.0, 30.0, 120.0])) if rng.random() < 0.8 else None,
        override_priority=int(rng.integers(0, 3)),
    )


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_no_held_team_is_sent_without_a_recorded_override(city, seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    fleet = random_fleet(city, rng, int(rng.integers(1, 12)))
    rules = random_rules(rng)
    matcher = Matcher(city.travel, wellness=rules)
    for _ in range(8):
        place = int(rng.integers(city.travel.n_places))
        risk = RISKS[int(rng.integers(3))]
        now = float(rng.uniform(0, 200))
        priority = int(rng.integers(1, 5))
        only = bool(rng.random() < 0.5)
        choice = matcher.best(
            place, risk, fleet, specialist_only=only, now_s=now, priority=priority
        )
        # The fast path and the full decision agree, wellness rules included.
        full = matcher._decide(
            matcher.scores(place, risk, fleet, specialist_only=only), fleet, now, priority
        )
        assert choice == full
        if choice.row < 0:
            continue
        held = rules.holds(now, fleet)
        if held[choice.row]:
            assert choice.wellness is not None and choice.wellness.override is not None
            assert priority <= rules.override_priority


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_fairness_never_adds_more_than_its_margin(city, seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    fleet = random_fleet(city, rng, int(rng.integers(2, 14)))
    margin = float(rng.choice([0.0, 30.0, 90.0, 240.0]))
    fair = Matcher(
        city.travel,
        wellness=WellnessRules.off().__class__(
            recovery_min=2.0, max_consecutive=None, utilization_cap=None, fairness_margin_s=margin
        ),
    )
    unfair = Matcher(
        city.travel,
        wellness=WellnessRules(
            recovery_min=2.0, max_consecutive=None, utilization_cap=None, fairness_margin_s=None
        ),
    )
    for _ in range(8):
        place = int(rng.integers(city.travel.n_places))
        risk = RISKS[int(rng.integers(3))]
        a = fair.best(place, risk, fleet, now_s=100.0, priority=2)
        b = unfair.best(place, risk, fleet, now_s=100.0, priority=2)
        assert (a.row < 0) == (b.row < 0)
        if a.row >= 0:
            assert a.eta_s <= b.eta_s + margin + 1e-9
            assert a.tier == b.tier
            if a.row != b.row:
                assert a.wellness is not None and a.wellness.tie_break == "fairness"
                assert fleet.load_s[a.row] <= fleet.load_s[b.row]


def test_recommend_explains_a_hold_and_an_override(city) -> None:  # type: ignore[no-untyped-def]
    near, far = 0, 35
    fleet = Fleet(["A", "B"], [TeamKind.CO_RESPONDER] * 2, [True, True], [near, far])
    fleet.recovering_until_s[0] = 1000.0
    matcher = Matcher(city.travel, wellness=WellnessRules())
    lat, lon = city.coords[near]
    held = matcher.recommend(Call("c", lat, lon, received_s=10.0, priority=2), fleet)
    assert held.team_id == "B"
    assert held.wellness == WellnessOutcome(held="recovery")
    assert [a.verdict.value for a in held.alternatives if a.team_id == "A"] == ["held"]
    fleet.set_state("B", dispatchable=False)
    urgent = matcher.recommend(Call("d", lat, lon, received_s=10.0, priority=1), fleet)
    assert (urgent.team_id, urgent.wellness) == ("A", WellnessOutcome(override="recovery"))
    routine = matcher.recommend(Call("e", lat, lon, received_s=10.0, priority=3), fleet)
    assert routine.team_id is None
    assert routine.wellness == WellnessOutcome(no_team="recovery")
    assert routine.reason is not None and routine.reason.value == "all_busy"
    after = matcher.recommend(Call("f", lat, lon, received_s=1000.0, priority=3), fleet)
    assert (after.team_id, after.wellness) == ("A", None)


def test_wellness_table_errors_name_the_key() -> None:
    with pytest.raises(InputError, match="unknown key"):
        wellness_from_dict({"recovery_minutes": 10})
    with pytest.raises(InputError, match="utilization_cap"):
        wellness_from_dict({"utilization_cap": 1.5})
    assert wellness_from_dict({"enabled": False}) == WellnessRules.off()


def _hand_checked_scenario():  # type: ignore[no-untyped-def]
    # Every call is at the station, so travel is the 60 s turnout and teams are home the moment
    # they clear: only the wellness rules and the tie-breaks decide.
    calls = log_frame(
        [
            {
                "call_id": "c1",
                "at": "2025-01-06 09:00",
                "k": 0,
                "risk": "high",
                "on_scene_s": 1200.0,
            },
            {"call_id": "c2", "at": "2025-01-06 09:30", "k": 0, "on_scene_s": 1200.0},
            {
                "call_id": "c3",
                "at": "2025-01-06 09:55",
                "k": 0,
                "risk": "high",
                "priority": 1,
                "on_scene_s": 600.0,
            },
            {"call_id": "c4", "at": "2025-01-06 10:00", "k": 0, "priority": 1, "on_scene_s": 600.0},
            {
                "call_id": "c5",
                "at": "2025-01-06 10:05",
                "k": 0,
                "risk": "low",
                "priority": 3,
                "on_scene_s": 600.0,
            },
        ]
    )
    day = Shift(start_hour=8.0, hours=8.0)
    rules = WellnessRules(
        recovery_min=45.0,
        max_consecutive=2,
        break_min=30.0,
        utilization_cap=None,
        fairness_margin_s=60.0,
        override_priority=1,
    )
    return scenario(
        calls,
        [team("A", shifts=[day]), team("B", shifts=[day])],
        stations=[site("S")],
        service=fixed_service(processing_s=60.0, turnout_s=60.0),
        policy=PolicySpec(
            fallback_after_min=10.0,
            fallback_response=Distribution.fixed(900.0),
            wellness=rules,
            meal_break=MealBreak(length_min=30.0, window_start_h=3.0, window_end_h=6.0),
        ),
    )


def test_a_small_scenario_checked_by_hand() -> None:
    result = simulate(_hand_checked_scenario(), event_log=True)
    calls = result.calls.set_index("call_id")
    # c1 09:01 ready; A and B tie (same place, no load yet): A by id. Clears 09:22, critical
    # (high risk): A recovers until 10:07.
    # c2 09:31: A would go but is recovering -> B ("recovery"). B clears 09:52.
    # c3 09:56 (priority 1): A still recovering, B free -> B ("recovery"); B's second call in a
    #   row (4 min gap < 30 min break) -> streak 2 = the limit; high risk: B recovers to 10:52.
    # c4 10:01 (priority 1): B busy, A recovering and nobody else -> A overrides the hold.
    # c5 10:06 (priority 3): nobody free -> queued (all_busy). B clears 10:07 but is held and
    #   c5 may not override ("hold:recovery"); A clears c4 at 10:12 and takes c5 then.
    assert calls["team_id"].to_dict() == {"c1": "A", "c2": "B", "c3": "B", "c4": "A", "c5": "A"}
    assert calls["wellness"].to_dict() == {
        "c1": "",
        "c2": "recovery",
        "c3": "recovery",
        "c4": "override:recovery",
        "c5": "hold:recovery",
    }
    assert calls.loc["c5", "queue_s"] == pytest.approx(6 * 60.0)
    assert calls["outcome"].eq("specialist").all()
    teams = result.teams.set_index("team_id")
    assert teams["calls"].to_dict() == {"A": 3, "B": 2}
    assert teams["critical_incidents"].to_dict() == {"A": 1, "B": 1}
    # Busy = dispatch to clear: A 21 + 11 + 11 min, B 21 + 11 min.
    assert teams.loc["A", "busy_hours"] == pytest.approx(43 / 60)
    assert teams.loc["B", "busy_hours"] == pytest.approx(32 / 60)
    # Longest run without a 30-minute gap: A 10:01-10:23 (22 min); B 09:31-10:07 (36 min).
    assert teams.loc["A", "longest_stretch_hours"] == pytest.approx(22 / 60)
    assert teams.loc["B", "longest_stretch_hours"] == pytest.approx(36 / 60)
    assert teams["wellness_overrides"].to_dict() == {"A": 1, "B": 0}
    # The meal-break window opens at 11:00 with both teams idle: both take it, none deferred.
    assert teams["breaks"].to_dict() == {"A": 1, "B": 1}
    assert teams["breaks_deferred"].sum() == 0 and teams["breaks_missed"].sum() == 0
    events = result.events
    assert events is not None
    breaks = events[events["event"] == "break_start"]
    assert sorted(breaks["team_id"]) == ["A", "B"]
    assert (breaks["time_s"] == 11 * 3600.0).all()
    # The replayed period runs to midnight after the last call's day: one 8-hour shift each.
    assert teams["on_duty_hours"].tolist() == pytest.approx([8.0, 8.0])


def test_a_busy_team_defers_its_meal_break_and_says_by_how_much() -> None:
    calls = log_frame(
        [{"call_id": "c1", "at": "2025-01-06 10:00", "k": 0, "on_scene_s": 5 * 3600.0}]
    )
    day = Shift(start_hour=8.0, hours=10.0)
    result = simulate(
        scenario(
            calls,
            [team("A", shifts=[day])],
            service=fixed_service(processing_s=0.0, turnout_s=0.0),
            policy=PolicySpec(meal_break=MealBreak(30.0, 3.0, 4.0)),
        )
    )
    teams = result.teams.set_index("team_id")
    # Window 11:00-12:00; busy 10:00-15:00 -> break at 15:00, an hour past its window.
    assert teams.loc["A", "breaks"] == 1
    assert teams.loc["A", "breaks_deferred"] == 1
    assert teams.loc["A", "break_delay_min"] == pytest.approx(180.0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_replays_never_send_a_held_team_without_a_recorded_override(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rules = WellnessRules(
        recovery_min=30.0,
        max_consecutive=None,
        utilization_cap=0.5,
        utilization_window_h=2.0,
        fairness_margin_s=60.0,
        override_priority=1,
        critical_risks=frozenset({"high"}),
    )
    log = random_log(rng, int(rng.integers(20, 60)), days=1.0)
    result = simulate(
        scenario(
            log,
            [team(f"T{i}", "S") for i in range(int(rng.integers(1, 4)))],
            stations=[site("S", 0)],
            facilities=[site("F", 2)],
            service=fixed_service(transport_share=0.3),
            policy=PolicySpec(fallback_response=Distribution.fixed(900.0), wellness=rules),
            seed=seed,
        )
    )
    calls = result.calls[result.calls["team_id"] != ""].sort_values("dispatched_at")
    window = pd.Timedelta(hours=rules.utilization_window_h)
    for _, mine in calls.groupby("team_id"):
        mine = mine.reset_index(drop=True)
        for k in range(len(mine)):
            t = mine.loc[k, "dispatched_at"]
            before = mine.iloc[:k]
            recovering = (
                before["critical"] & (before["cleared_at"] + pd.Timedelta(minutes=30) > t)
            ).any()
            start = t - window
            busy = (
                (before["cleared_at"].clip(upper=t) - before["dispatched_at"].clip(lower=start))
                .clip(lower=pd.Timedelta(0))
                .sum()
            )
            over_cap = busy / window >= rules.utilization_cap - 1e-9
            if recovering or over_cap:
                assert str(mine.loc[k, "wellness"]).startswith("override:"), mine.loc[k].to_dict()


def test_one_rule_can_be_switched_off_in_a_table() -> None:
    rules = wellness_from_dict({"recovery_min": False, "fairness_margin_s": 0})
    assert rules.recovery_min is None and rules.fairness_margin_s == 0
    assert rules.max_consecutive == WellnessRules().max_consecutive
    with pytest.raises(InputError, match="false to turn the rule off"):
        wellness_from_dict({"utilization_cap": True})


@pytest.mark.parametrize("cap", [None, 0.9])
def test_a_long_session_keeps_busy_intervals_only_for_the_utilization_cap_and_only_its_window(
    cap: float | None,
) -> None:
    window_h = 2.0
    rules = WellnessRules(
        recovery_min=None,
        max_consecutive=None,
        utilization_cap=cap,
        utilization_window_h=window_h,
        fairness_margin_s=30.0,
    )
    matcher = Matcher(line_street(), wellness=rules)
    s = Dispatcher.from_columns(
        matcher, ["A", "B"], [TeamKind.CO_RESPONDER] * 2, [True, True], stations=[0, 0]
    )
    for team_id in ("A", "B"):
        s.shift_started(team_id, 0.0)
    now = 0.0
    for k in range(2_000):  # a call every 10 minutes, 5 minutes on it, for about two weeks
        now = k * 600.0
        sent = s.call_ready(f"c{k}", now, place=1, risk=RiskLevel.STANDARD)
        assert sent and sent[0].team_id in ("A", "B")
        s.unit_cleared(sent[0].team_id, now + 300.0, place=1)
    assert s.tracker is not None
    history = s.tracker.book.busy
    if cap is None:  # nothing reads the intervals: none are kept
        assert all(len(intervals) == 0 for intervals in history)
    else:  # kept, trimmed to the window (12 calls in two hours, at most one more not yet cut)
        assert 0 < sum(len(intervals) for intervals in history) <= window_h * 6 + 2
        assert all(end > now - window_h * 3600.0 - 600.0 for rows in history for _, end in rows)
