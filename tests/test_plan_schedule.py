"""Shift schedules: instances solved by hand, an independent integer program, clear errors.

The hand-solved instances mostly use a zero-slack argument: without breaks a team-hour covers
one hour of requirement at most, so ``sum(required)`` team-hours is a lower bound, and a plan
that meets it covers every hour exactly. Then the first hour with a requirement after an hour
without one must be covered by a shift starting exactly there (an earlier start would cover the
empty hour), which pins the plan down shift by shift.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from dispatch.errors import InputError, SolverError
from dispatch.plan.schedule import (
    Schedule,
    ScheduledShift,
    ShiftRules,
    coverage,
    schedule_shifts,
)


def day(*blocks: tuple[int, int, int], period: int = 24) -> list[int]:
    """A requirement from ``(first hour, last hour, teams)`` blocks (both hours included)."""
    need = [0] * period
    for first, last, teams in blocks:
        for h in range(first, last + 1):
            need[h % period] += teams
    return need


def rows(plan: Schedule) -> list[tuple[int, int, int]]:
    return [(s.start_h, s.hours, s.count) for s in plan.shifts]


def check_plan(plan: Schedule, need: list[int] | npt.NDArray[np.int64]) -> None:
    """What every returned plan must satisfy, whatever the instance."""
    need = np.asarray(need)
    assert plan.status in ("OPTIMAL", "FEASIBLE")
    assert np.all(plan.coverage >= need)
    assert plan.team_hours == sum(s.count * s.hours for s in plan.shifts)
    assert plan.objective == plan.team_hours
    assert plan.bound <= plan.objective
    assert all(s.count >= 1 for s in plan.shifts)
    on, counted = coverage(plan.shifts, len(need), break_hours=plan.rules.break_hours())
    assert np.array_equal(on, plan.on_duty) and np.array_equal(counted, plan.coverage)
    assert np.array_equal(plan.required, need)


def solve(need: list[int], **rules: Any) -> Schedule:
    plan = schedule_shifts(need, ShiftRules(**rules), time_limit_s=30.0)
    check_plan(plan, need)
    return plan


# -- an independent reference: the same integer program by HiGHS -----------------------------
def reference_optimum(need: list[int], rules: ShiftRules) -> float | None:
    """Fewest team-hours by scipy's MILP (HiGHS) over the shift types the rules allow, built
    here from the rules' definitions; None when no plan exists."""
    period = len(need)
    clocks = list(range(24)) if rules.start_hours is None else sorted(set(rules.start_hours))
    lengths = sorted({n for n in rules.lengths_h if 24 - n >= rules.min_rest_h})
    nb = math.ceil(rules.break_min / 60) if rules.break_min > 0 else 0
    offsets: list[int | None] = (
        list(range(rules.break_window_h[0], rules.break_window_h[1] + 1)) if nb else [None]
    )
    types = [(s, n, b) for s in range(period) if s % 24 in clocks for n in lengths for b in offsets]
    cover = np.zeros((period, len(types)))
    for j, (s, n, b) in enumerate(types):
        for k in range(n):
            if b is None or not b <= k < b + nb:
                cover[(s + k) % period, j] = 1
    cost = np.array([n for _, n, _ in types], dtype=float)
    big = max(sum(need), 1)
    if rules.max_starts is None:
        a, lo, hi = cover, np.asarray(need, float), np.full(period, np.inf)
        c, integral, upper = cost, np.ones(len(types)), np.full(len(types), np.inf)
    else:
        # Binary u_c per clock start: x_t <= big * u_c, sum u_c <= max_starts.
        link = np.zeros((len(types), len(clocks)))
        for j, (s, _, _) in enumerate(types):
            link[j, clocks.index(s % 24)] = -big
        a = np.block(
            [
                [cover, np.zeros((period, len(clocks)))],
                [np.eye(len(types)), link],
                [np.zeros((1, len(types))), np.ones((1, len(clocks)))],
            ]
        )
        lo = np.concatenate([need, np.full(len(types), -np.inf), [-np.inf]])
        hi = np.concatenate([np.full(period, np.inf), np.zeros(len(types)), [rules.max_starts]])
        c = np.concatenate([cost, np.zeros(len(clocks))])
        integral = np.ones(len(c))
        upper = np.concatenate([np.full(len(types), np.inf), np.ones(len(clocks))])
    result = milp(c, constraints=LinearConstraint(a, lo, hi), integrality=integral,
                  bounds=Bounds(0, upper))  # fmt: skip
    if result.status == 2:
        return None
    assert result.status == 0, result.message
    return float(round(result.fun))


# -- hand-solved instances ----------------------------------------------------------------------
def test_a_day_with_a_morning_and_an_evening_peak() -> None:
    # One team 06-21, a second 07-14 (morning peak) and another 17-00 (evening peak): 06 at 1,
    # 07-14 at 2, 15-16 at 1, 17-21 at 2, 22-00 at 1; 32 team-hours of requirement.
    # Zero slack: hour 06 follows an empty hour, so a shift starts at 06 (06-13); what is left
    # begins at 07 (07-14), what is left then at 14 (14-21), and the rest at 17 (17-00).
    need = day((6, 21, 1), (7, 14, 1), (17, 24, 1))
    assert need[5:18] == [0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 2] and need[22:] == [1, 1]
    assert sum(need) == 32
    plan = solve(need, lengths_h=(8,), break_min=0)
    assert plan.optimal and plan.gap == 0.0
    assert rows(plan) == [(6, 8, 1), (7, 8, 1), (14, 8, 1), (17, 8, 1)]
    assert plan.team_hours == 32
    assert plan.coverage.tolist() == need  # exact cover, no hour over-staffed


def test_one_twelve_hour_shift_is_cheaper_than_two_eights() -> None:
    # One team 08-19: a 12-hour shift from 08 covers it exactly (12 team-hours); 8 + 8 would cost
    # 16, and no pair of 8/10/12 h lengths adds up to 12. With 8-hour shifts only: two of them.
    need = day((8, 19, 1))
    plan = solve(need, break_min=0)
    assert rows(plan) == [(8, 12, 1)] and plan.team_hours == 12
    eights = solve(need, lengths_h=(8,), break_min=0)
    assert eights.team_hours == 16 and [s.hours for s in eights.shifts] == [8, 8]


def test_a_sunday_night_shift_covers_monday_morning() -> None:
    # One team Sunday 22:00 to Monday 06:00 (hours 166, 167 and 0-5 of the week): 8 hours, so a
    # single 8-hour shift starting Sunday 22:00 (hour 166) and wrapping around the week's end.
    need = [0] * 168
    need[166:] = [1, 1]
    need[:6] = [1] * 6
    plan = solve(need, lengths_h=(8,), break_min=0)
    assert rows(plan) == [(166, 8, 1)]
    (shift,) = plan.shifts
    assert (shift.day, shift.clock) == ("sun", "22:00")
    assert plan.on_duty.tolist() == need and plan.team_hours == 8


def test_a_one_day_requirement_wraps_around_midnight() -> None:
    # The same on a 24-hour period (one day that repeats): 22:00-05:00 is one night shift.
    plan = solve(day((22, 29, 1)), lengths_h=(8,), break_min=0)
    assert rows(plan) == [(22, 8, 1)]
    assert plan.coverage.tolist() == [1] * 6 + [0] * 16 + [1, 1]


def test_allowed_starts_cost_a_second_shift() -> None:
    # One team 09-16: a shift at 09 covers it (8 team-hours). With starts at 07, 15 and 23 only,
    # hour 09 is covered only by the 07 shift (07-14) and hour 16 only by the 15 one (15-22).
    need = day((9, 16, 1))
    assert rows(solve(need, lengths_h=(8,), break_min=0)) == [(9, 8, 1)]
    plan = solve(need, lengths_h=(8,), start_hours=(7, 15, 23), break_min=0)
    assert rows(plan) == [(7, 8, 1), (15, 8, 1)] and plan.team_hours == 16
    assert {s.start_h % 24 for s in plan.shifts} <= {7, 15, 23}


def test_whole_valued_float_start_hours_are_clock_hours() -> None:
    # 8.0 passes the rules' check as a clock hour, so it must schedule as 8 does, with a limit
    # on start times as without: the 08-15 block is one shift at 08.
    need = day((8, 15, 1))
    plan = solve(need, lengths_h=(8,), start_hours=(8.0, 9.0, 10.0), max_starts=1, break_min=0)
    assert rows(plan) == [(8, 8, 1)] and plan.shifts[0].clock == "08:00"


def test_at_most_two_start_times_forces_a_costlier_plan() -> None:
    # One team 06-21 and a second 10-17: by zero slack, shifts at 06, 10 and 14 (24 team-hours,
    # three start times). With two: no 8-hour shift covers both 06 and 21, so one start is in
    # 23..06 and the other in 14..21. The two teams 10-13 can only come from the first, which
    # must then be 06; the two teams 14-17 only from the second, which must be 14. Two teams
    # on each: 4 x 8 = 32 team-hours.
    need = day((6, 9, 1), (10, 17, 2), (18, 21, 1))
    plan = solve(need, lengths_h=(8,), max_starts=2, break_min=0)
    assert rows(plan) == [(6, 8, 2), (14, 8, 2)] and plan.team_hours == 32
    assert solve(need, lengths_h=(8,), max_starts=3, break_min=0).team_hours == 24


def test_start_times_count_per_clock_time_over_the_week() -> None:
    # One team 07-14 every day: seven shifts that all start at 07:00 are one start time.
    need = [1 if 7 <= h % 24 <= 14 else 0 for h in range(168)]
    plan = solve(need, lengths_h=(8,), max_starts=1, break_min=0)
    assert rows(plan) == [(24 * d + 7, 8, 1) for d in range(7)]
    assert {s.day for s in plan.shifts} == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}


def test_minimum_rest_leaves_out_the_long_shifts() -> None:
    # 13 h of rest rules out 12-hour shifts (24 - 12 = 11 h before the same start next day), so
    # the 08-19 block that one 12 covered needs two shifts of 8 or 10: 8 + 8 = 16 is cheapest.
    need = day((8, 19, 1))
    rules = ShiftRules(min_rest_h=13, break_min=0)
    assert rules.usable_lengths() == (8, 10)
    plan = solve(need, min_rest_h=13, break_min=0)
    assert plan.team_hours == 16 and [s.hours for s in plan.shifts] == [8, 8]
    # Exactly 14 h of rest keeps the 10-hour shift; 14.5 does not.
    assert ShiftRules(min_rest_h=14, break_min=0).usable_lengths() == (8, 10)  # type: ignore[arg-type]
    assert ShiftRules(min_rest_h=14.5, break_min=0).usable_lengths() == (8,)  # type: ignore[arg-type]


def test_a_break_hour_does_not_count_so_a_second_team_covers_it() -> None:
    # One team 08-15 and 8-hour shifts: without breaks one shift at 08 (8 team-hours). With a
    # 30-minute break exactly 3 h in, a lone team is away for hour 11, and one shift can never
    # count 8 hours: two shifts, 16 team-hours, the second counted in the first one's break.
    need = day((8, 15, 1))
    assert rows(solve(need, lengths_h=(8,), break_min=0)) == [(8, 8, 1)]
    plan = solve(need, lengths_h=(8,), break_min=30, break_window_h=(3, 3))
    assert plan.team_hours == 16 and sum(s.count for s in plan.shifts) == 2
    for shift in plan.shifts:
        assert shift.break_start_h == (shift.start_h + 3) % 24
        if need[shift.break_start_h]:  # its break falls in a needed hour: the other team works
            assert plan.coverage[shift.break_start_h] == 1
            assert plan.on_duty[shift.break_start_h] == 2
    # A break takes the team out of coverage but not off duty, and stays paid.
    on_break = np.zeros(24, dtype=np.int64)
    for shift in plan.shifts:
        assert shift.break_start_h is not None
        on_break[shift.break_start_h] += shift.count
    assert np.array_equal(plan.on_duty - plan.coverage, on_break)


def test_breaks_are_staggered_so_one_team_is_always_counted() -> None:
    # One team 08-15, starts at 08 only, a one-hour break 3 or 4 h in. Every team works 08-15:
    # one team leaves its break hour uncovered, two teams on break together at 11 (or 12) leave
    # that hour uncovered, so the cheapest plan is two teams breaking at 11 and at 12.
    need = day((8, 15, 1))
    plan = solve(need, lengths_h=(8,), start_hours=(8,), break_min=60, break_window_h=(3, 4))
    assert plan.shifts == (ScheduledShift(8, 8, 1, 11), ScheduledShift(8, 8, 1, 12))
    assert plan.team_hours == 16
    assert plan.coverage[8:16].tolist() == [2, 2, 2, 1, 1, 2, 2, 2]


def test_a_long_break_takes_whole_hours_out() -> None:
    # A 90-minute break counts as two whole hours off: one team 08-15 (starts at 08, break 3 h in)
    # counts for 08-10 and 13-15 only, so hours 11 and 12 are never covered.
    with pytest.raises(SolverError, match=r"2 hour\(s\).*mon 11:00, mon 12:00"):
        schedule_shifts(
            day((8, 15, 1)),
            ShiftRules(lengths_h=(8,), start_hours=(8,), break_min=90, break_window_h=(3, 3)),
        )


def test_no_requirement_needs_no_teams() -> None:
    plan = solve([0] * 48)
    assert plan.shifts == () and plan.team_hours == 0 and plan.optimal
    assert plan.coverage.tolist() == [0] * 48


def test_coverage_counts_duty_and_breaks_modulo_the_period() -> None:
    shifts = [ScheduledShift(20, 8, 2, 23), ScheduledShift(2, 4, 1, None)]
    on, counted = coverage(shifts, 24, break_hours=2)
    # 20-03 two teams on duty, breaks 23 and 00; 02-05 one more team, no break.
    assert on.tolist() == [2, 2, 3, 3, 1, 1] + [0] * 14 + [2, 2, 2, 2]
    assert counted.tolist() == [0, 2, 3, 3, 1, 1] + [0] * 14 + [2, 2, 2, 0]


# -- against the independent reference ------------------------------------------------------------
rule_sets = st.builds(
    ShiftRules,
    lengths_h=st.sampled_from([(8,), (8, 12), (10,), (8, 10, 12)]),
    start_hours=st.none() | st.sets(st.integers(0, 23), min_size=2, max_size=12).map(tuple),
    max_starts=st.none() | st.integers(1, 5),
    min_rest_h=st.sampled_from([0.0, 10.0, 13.0]),
    break_min=st.sampled_from([0.0, 30.0, 60.0]),
    break_window_h=st.sampled_from([(3, 6), (2, 4), (4, 4)]),
)


@settings(max_examples=40, deadline=None)
@given(need=st.lists(st.integers(0, 3), min_size=24, max_size=24), rules=rule_sets)
def test_the_optimum_matches_an_independent_integer_program(
    need: list[int], rules: ShiftRules
) -> None:
    expected = reference_optimum(need, rules)
    if expected is None:
        with pytest.raises(SolverError, match="no schedule"):
            schedule_shifts(need, rules, time_limit_s=30.0)
        return
    plan = schedule_shifts(need, rules, time_limit_s=30.0)
    check_plan(plan, need)
    assert plan.status == "OPTIMAL" and plan.gap == 0.0
    assert plan.team_hours == expected == plan.bound
    clocks = {s.start_h % 24 for s in plan.shifts}
    if rules.start_hours is not None:
        assert clocks <= set(rules.start_hours)
    if rules.max_starts is not None:
        assert len(clocks) <= rules.max_starts
    assert {s.hours for s in plan.shifts} <= set(rules.usable_lengths())
    for s in plan.shifts:
        if rules.break_min > 0:
            assert s.break_start_h is not None
            first, last = rules.break_window_h
            assert (s.break_start_h - s.start_h) % 24 in range(first, last + 1)
        else:
            assert s.break_start_h is None


@settings(max_examples=10, deadline=None)
@given(need=st.lists(st.integers(0, 2), min_size=48, max_size=48))
def test_two_day_periods_match_the_reference_with_default_rules(need: list[int]) -> None:
    rules = ShiftRules()
    plan = schedule_shifts(need, rules, time_limit_s=30.0)
    check_plan(plan, need)
    assert plan.optimal and plan.team_hours == reference_optimum(need, rules)


def test_deterministic_solves_give_the_same_schedule() -> None:
    # This day has several optimal schedules under three start times; without determinism
    # repeated solves return different ones of them.
    need = np.random.default_rng(0).integers(0, 4, 24)
    rules = ShiftRules(lengths_h=(8,), max_starts=3)
    plans = [
        schedule_shifts(need, rules, time_limit_s=5.0, seed=3, deterministic=True) for _ in range(3)
    ]
    check_plan(plans[0], need)
    assert plans[0].team_hours == reference_optimum(need.tolist(), rules)
    assert plans[0].shifts == plans[1].shifts == plans[2].shifts
    assert len({(p.team_hours, p.status) for p in plans}) == 1


# -- errors, never a plan ----------------------------------------------------------------------
def test_an_hour_no_allowed_shift_covers_is_named() -> None:
    # Starts at 08 only with 8-hour shifts cover 08-15; 03:00 on the second day cannot be.
    need = [0] * 48
    need[27] = 1
    need[9] = 1
    with pytest.raises(SolverError, match=r"1 hour\(s\).*no allowed shift.*tue 03:00") as error:
        schedule_shifts(need, ShiftRules(lengths_h=(8,), start_hours=(8,), break_min=0))
    assert "allowed starts [8]" in str(error.value)


def test_many_uncovered_hours_are_summarised() -> None:
    need = [1] * 24
    with pytest.raises(SolverError, match=r"16 hour\(s\).*and 10 more"):
        schedule_shifts(need, ShiftRules(lengths_h=(8,), start_hours=(8,), break_min=0))


def test_too_few_start_times_is_infeasible() -> None:
    # One team 06-13 and one 14-21: a single clock start covers at most 8 consecutive hours.
    need = day((6, 21, 1))
    with pytest.raises(SolverError, match=r"INFEASIBLE.*at most 1 start time"):
        schedule_shifts(need, ShiftRules(lengths_h=(8,), max_starts=1, break_min=0))
    assert solve(need, lengths_h=(8,), max_starts=2, break_min=0).team_hours == 16


def test_no_time_to_find_a_schedule_is_an_error() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(SolverError, match=r"UNKNOWN.*allow more time"):
        schedule_shifts(rng.integers(0, 5, 168), time_limit_s=0.0)


@pytest.mark.parametrize("status", ["UNKNOWN", "MODEL_INVALID", "INFEASIBLE"])
def test_every_status_but_optimal_or_feasible_is_an_error(
    status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ortools.sat.python import cp_model

    code = getattr(cp_model, status)
    monkeypatch.setattr(cp_model.CpSolver, "solve", lambda self, model, *a, **k: code)
    with pytest.raises(SolverError, match=status):
        schedule_shifts(day((8, 15, 1)), ShiftRules(lengths_h=(8,), break_min=0))


@pytest.mark.parametrize(
    ("required", "message"),
    [
        ([1] * 25, "whole days"),
        ([1] * 23, "whole days"),
        ([], "whole days"),
        ([[1] * 24], "whole days"),
        ([1] * 23 + [-1], "negative"),
        ([1] * 23 + [1.5], "whole numbers"),
        ([1] * 23 + [math.nan], "whole numbers"),
        ([1] * 23 + [math.inf], "whole numbers"),
    ],
)
def test_a_bad_requirement_is_an_input_error(required: list[object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        schedule_shifts(required, ShiftRules(break_min=0))


def test_whole_valued_floats_are_a_requirement() -> None:
    plan = schedule_shifts(np.array(day((8, 19, 1)), dtype=float), ShiftRules(break_min=0))
    assert plan.required.dtype == np.int64 and rows(plan) == [(8, 12, 1)]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"lengths_h": ()}, "at least one shift length"),
        ({"lengths_h": (0,)}, "whole 1-24 hours"),
        ({"lengths_h": (25,)}, "whole 1-24 hours"),
        ({"lengths_h": (7.5,)}, "whole 1-24 hours"),
        ({"start_hours": ()}, "at least one allowed start"),
        ({"start_hours": (24,)}, "clock hours 0-23"),
        ({"start_hours": (7.5,)}, "clock hours 0-23"),
        ({"max_starts": 0}, "max_starts"),
        ({"min_rest_h": -1.0}, "min_rest_h"),
        ({"min_rest_h": 17.0}, "no shift length leaves 17 h"),
        ({"break_min": -5.0}, "break_min"),
        ({"break_window_h": (4, 3)}, "break window"),
        ({"lengths_h": (6,), "break_window_h": (3, 6)}, "does not fit in a 6 h shift"),
    ],
)
def test_bad_rules_are_input_errors(rules: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        ShiftRules(**rules)  # type: ignore[arg-type]
