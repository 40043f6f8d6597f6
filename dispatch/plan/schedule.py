"""Shift schedules by CP-SAT: the fewest team-hours that cover an hourly requirement.

The model (Dantzig's set-covering tour scheduling with implicit break placement, solved as an
integer program by OR-Tools CP-SAT):

- A *shift type* is a start hour ``s`` of the period (a week: Monday 00:00 = 0), a length ``l``
  in whole hours and, when meal breaks are on, a break offset ``b``: the whole hours after the
  start at which the break begins. One integer variable per type counts the teams working it.
  Splitting one shift's teams by break offset lets the solver stagger breaks, so a peak hour does
  not lose every team at once.
- A team covers the hours ``s .. s + l - 1`` (modulo the period, so a Sunday-night shift covers
  Monday's first hours) except its break hours ``s + b .. s + b + ceil(break / 60) - 1``: a team
  on break for part of an hour does not count for that hour. That is conservative (a 30-minute
  break removes the team for the whole hour) and keeps the coverage an integer count.
- Constraint: counted coverage ``>= required[h]`` in every hour. Objective: team-hours per
  period, ``sum(count * length)``; break time is paid time and stays in the objective.
- Labour rules: the allowed clock start hours, at most ``max_starts`` distinct clock start times
  over the whole period (every day draws its starts from the same set of clock times: a roster
  with a handful of line-up times), and a minimum rest between shifts.

Rest: the model counts teams per shift type, not named teams. The roster built from it (see
`dispatch.plan.staffing`) gives each team one clock start and one length on every day it works,
so two consecutive shifts of a team are at least ``24 - length`` hours apart; lengths whose
``24 - length`` is below ``min_rest_h`` are left out of the model, which makes every roster
drawn from a solution respect the rest rule. Who works which days (days off, rotations) is a
rostering question on top of this plan and is not modelled.

Every solver status other than OPTIMAL or FEASIBLE raises `dispatch.errors.SolverError`; a time
limit that stops the search after a first solution returns it with its proven gap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError, SolverError

IntArray = npt.NDArray[np.int64]

HOURS_PER_WEEK = 168
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ShiftRules:
    """Labour rules for `schedule_shifts`.

    Parameters
    ----------
    lengths_h
        Allowed shift lengths, whole hours (8, 10 and 12 by default).
    start_hours
        Allowed clock start hours (0-23), the same every day; None allows every hour. Starts are
        on the hour: the model's resolution is one hour.
    max_starts
        At most this many distinct clock start times over the whole period (a start at 07:00 on
        Monday and at 07:00 on Friday is one start time); None for no limit.
    min_rest_h
        Minimum hours between the end of a team's shift and the start of its next one; lengths
        with ``24 - length < min_rest_h`` are not used (see the module notes).
    break_min
        Meal-break length, minutes; 0 for no break.
    break_window_h
        ``(first, last)``: whole hours after the shift start between which the break starts
        (both included), as `dispatch.model.MealBreak`'s window.

    Examples
    --------
    >>> ShiftRules(lengths_h=(8,), start_hours=(7, 15, 23), break_min=0).usable_lengths()
    (8,)
    """

    lengths_h: tuple[int, ...] = (8, 10, 12)
    start_hours: tuple[int, ...] | None = None
    max_starts: int | None = None
    min_rest_h: float = 0.0
    break_min: float = 30.0
    break_window_h: tuple[int, int] = (3, 6)

    def __post_init__(self) -> None:
        if not self.lengths_h:
            raise InputError("shift rules: give at least one shift length")
        for length in self.lengths_h:
            if int(length) != length or not 1 <= length <= 24:
                raise InputError(f"shift rules: length {length!r} h is not a whole 1-24 hours")
        if self.start_hours is not None:
            if not self.start_hours:
                raise InputError("shift rules: give at least one allowed start hour")
            bad = [h for h in self.start_hours if int(h) != h or not 0 <= h <= 23]
            if bad:
                raise InputError(f"shift rules: start hours {bad} are not clock hours 0-23")
        if self.max_starts is not None and self.max_starts < 1:
            raise InputError("shift rules: max_starts must be at least 1")
        if not 0 <= self.min_rest_h <= 24:
            raise InputError("shift rules: min_rest_h must be between 0 and 24 hours")
        if not self.break_min >= 0:
            raise InputError("shift rules: break_min must be >= 0 minutes")
        first, last = self.break_window_h
        if not 0 <= first <= last:
            raise InputError("shift rules: the break window needs 0 <= first <= last hour")
        if self.break_min > 0:
            short = [length for length in self.lengths_h if last + self.break_hours() > length]
            if short:
                raise InputError(
                    f"shift rules: a break starting {last} h after the start does not fit in "
                    f"a {min(short)} h shift; narrow the break window or drop that length"
                )
        if not self.usable_lengths():
            raise InputError(
                f"shift rules: no shift length leaves {self.min_rest_h:g} h of rest before the "
                f"same start the next day (lengths {list(self.lengths_h)})"
            )

    def break_hours(self) -> int:
        """Whole hours a break takes out of coverage (0 without breaks)."""
        return math.ceil(self.break_min / 60.0) if self.break_min > 0 else 0

    def usable_lengths(self) -> tuple[int, ...]:
        """The lengths that leave ``min_rest_h`` before the same start 24 h later, sorted."""
        return tuple(sorted({int(n) for n in self.lengths_h if 24 - n >= self.min_rest_h}))

    def break_offsets(self) -> tuple[int | None, ...]:
        """Break offsets (hours after the start) a shift may take; ``(None,)`` without breaks."""
        if self.break_min <= 0:
            return (None,)
        first, last = self.break_window_h
        return tuple(range(int(first), int(last) + 1))


@dataclass(frozen=True)
class ScheduledShift:
    """Teams starting one shift at one hour of the period.

    Attributes
    ----------
    start_h
        Start, hours from the period's start (hour of week, Monday 00:00 = 0).
    hours
        Length, hours.
    count
        Teams on it.
    break_start_h
        Hour of the period the break starts (modulo the period), or None without breaks.
    """

    start_h: int
    hours: int
    count: int
    break_start_h: int | None = None

    @property
    def clock(self) -> str:
        """Local start time, ``"HH:00"``."""
        return f"{self.start_h % 24:02d}:00"

    @property
    def day(self) -> str:
        """Day the shift starts on (``"mon"`` .. ``"sun"``, repeating for longer periods)."""
        return DAY_NAMES[(self.start_h // 24) % 7]


@dataclass(frozen=True, eq=False)
class Schedule:
    """A solved shift schedule.

    Attributes
    ----------
    shifts
        One row per (start, length, break start) with at least one team, sorted.
    required
        The requirement solved for, teams per hour.
    coverage
        Teams counted in each hour (on duty and not on break).
    on_duty
        Teams on duty in each hour, breaks included.
    team_hours
        Team-hours per period (the objective): the sum of count x length.
    status
        ``"OPTIMAL"`` or ``"FEASIBLE"``, as CP-SAT names it.
    objective, bound
        The solution's team-hours and the solver's proven lower bound.
    gap
        ``(objective - bound) / objective``; 0 when proven optimal.
    solve_s
        Wall time of the solve, seconds.
    rules
        The rules solved under.
    """

    shifts: tuple[ScheduledShift, ...]
    required: IntArray
    coverage: IntArray
    on_duty: IntArray
    team_hours: int
    status: str
    objective: float
    bound: float
    gap: float
    solve_s: float
    rules: ShiftRules

    @property
    def optimal(self) -> bool:
        """True when the solver proved the schedule optimal."""
        return self.status == "OPTIMAL"

    @property
    def period_h(self) -> int:
        """Length of the period, hours (168 for a week)."""
        return len(self.required)

    def table(self) -> Any:
        """The shifts as a DataFrame: ``start_h``, ``day``, ``clock``, ``hours``, ``count``,
        ``break_start_h``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "start_h": [s.start_h for s in self.shifts],
                "day": [s.day for s in self.shifts],
                "clock": [s.clock for s in self.shifts],
                "hours": [s.hours for s in self.shifts],
                "count": [s.count for s in self.shifts],
                "break_start_h": pd.array([s.break_start_h for s in self.shifts], dtype="Int64"),
            }
        )


def coverage(
    shifts: Sequence[ScheduledShift], period_h: int, *, break_hours: int = 0
) -> tuple[IntArray, IntArray]:
    """Teams on duty and teams counted (not on break) in each hour of the period.

    Parameters
    ----------
    shifts
        The schedule's rows.
    period_h
        Period length, hours; shifts wrap around its end.
    break_hours
        Whole hours each break takes out of coverage.

    Returns
    -------
    on_duty, counted
        Two integer arrays of ``period_h`` values.

    Examples
    --------
    >>> on, counted = coverage([ScheduledShift(22, 8, 2, 2)], 24, break_hours=1)
    >>> on.tolist()[:7], counted.tolist()[:7]
    ([2, 2, 2, 2, 2, 2, 0], [2, 2, 0, 2, 2, 2, 0])
    """
    on = np.zeros(period_h, dtype=np.int64)
    counted = np.zeros(period_h, dtype=np.int64)
    for shift in shifts:
        hours = (shift.start_h + np.arange(shift.hours)) % period_h
        on[hours] += shift.count
        counted[hours] += shift.count
        if shift.break_start_h is not None and break_hours:
            counted[(shift.break_start_h + np.arange(break_hours)) % period_h] -= shift.count
    return on, counted


def _hour_name(h: int) -> str:
    return f"{DAY_NAMES[(h // 24) % 7]} {h % 24:02d}:00"


def schedule_shifts(
    required: Sequence[int] | npt.NDArray[np.integer[Any]],
    rules: ShiftRules | None = None,
    *,
    time_limit_s: float = 60.0,
    workers: int = 0,
    seed: int = 0,
    deterministic: bool = False,
) -> Schedule:
    """The schedule with the fewest team-hours that covers ``required`` in every hour.

    Parameters
    ----------
    required
        Teams needed in each hour of the period: 168 values for a week (Monday 00:00 first), or
        any whole number of days (24 for one day that repeats). Non-negative integers.
    rules
        Labour rules; `ShiftRules` defaults (8, 10, 12 h; any start; a 30-minute break 3-6 h in).
    time_limit_s
        Solver wall-time limit, seconds. When it stops the search after a first solution, the
        best one comes back with status ``"FEASIBLE"`` and its proven gap.
    workers
        CP-SAT search workers; 0 lets the solver choose.
    seed
        CP-SAT's random seed.
    deterministic
        Same inputs, same schedule: the limit is CP-SAT's deterministic time (work units of
        about a second each, not wall time) and its workers interleave in a fixed order. Slower
        per second of limit; what a plan that is replayed and compared needs.

    Returns
    -------
    Schedule

    Raises
    ------
    InputError
        The requirement is not whole days of non-negative integers.
    SolverError
        No schedule under the rules covers the requirement (an hour no allowed shift covers,
        too few start times), or the solver stopped without a solution or returned another
        status than OPTIMAL or FEASIBLE.

    Examples
    --------
    One team needed 08:00-16:00 and two 12:00-16:00, 8-hour shifts on the hour, no breaks:
    two teams from 08:00 is the cheapest cover (16 team-hours).

    >>> need = [0] * 24
    >>> need[8:12] = [1] * 4
    >>> need[12:16] = [2] * 4
    >>> plan = schedule_shifts(need, ShiftRules(lengths_h=(8,), break_min=0))
    >>> plan.status, plan.team_hours, [(s.start_h, s.hours, s.count) for s in plan.shifts]
    ('OPTIMAL', 16, [(8, 8, 2)])
    """
    from ortools.sat.python import cp_model

    rules = rules or ShiftRules()
    need = _requirement(required)
    period = len(need)
    lengths = rules.usable_lengths()
    if max(lengths) > period:
        raise InputError(f"a {max(lengths)} h shift is longer than the {period} h period")
    allowed = range(24) if rules.start_hours is None else rules.start_hours
    clocks = sorted({int(h) for h in allowed})  # 7.0 passes the rules' check: use 7
    starts = [s for s in range(period) if s % 24 in clocks]
    nb = rules.break_hours()
    offsets = rules.break_offsets()

    # Each shift type and the hours it counts for.
    types: list[tuple[int, int, int | None]] = []
    counts: list[IntArray] = []
    for s in starts:
        for length in lengths:
            for b in offsets:
                worked = set(range(length))
                if b is not None:
                    worked -= set(range(b, b + nb))
                types.append((s, length, b))
                counts.append(np.array(sorted((s + k) % period for k in worked), dtype=np.int64))
    reachable = np.zeros(period, dtype=bool)
    for counted_hours in counts:
        reachable[counted_hours] = True
    uncovered = [h for h in range(period) if need[h] > 0 and not reachable[h]]
    if uncovered:
        listed = ", ".join(_hour_name(h) for h in uncovered[:6])
        more = f" and {len(uncovered) - 6} more" if len(uncovered) > 6 else ""
        raise SolverError(
            f"no schedule: {len(uncovered)} hour(s) need teams but no allowed shift covers them "
            f"({listed}{more}); allowed starts {clocks}, lengths {list(lengths)} h"
        )

    top = int(need.max()) if period else 0
    model = cp_model.CpModel()
    # No type needs more teams than the largest requirement: one fewer still covers every hour.
    y = [model.new_int_var(0, top, f"n_{s}_{n}_{b}") for s, n, b in types]
    by_hour: list[list[Any]] = [[] for _ in range(period)]
    for var, counted_hours in zip(y, counts, strict=True):
        for h in counted_hours.tolist():
            by_hour[h].append(var)
    for h in range(period):
        if need[h] > 0:
            model.add(sum(by_hour[h]) >= int(need[h]))
    if rules.max_starts is not None and rules.max_starts < len(clocks):
        used = {c: model.new_bool_var(f"start_{c:02d}") for c in clocks}
        for var, (s, _, _) in zip(y, types, strict=True):
            model.add(var == 0).only_enforce_if(~used[s % 24])
        model.add(sum(used.values()) <= rules.max_starts)
    model.minimize(sum(var * n for var, (_, n, _) in zip(y, types, strict=True)))

    solver = cp_model.CpSolver()
    solver.parameters.random_seed = int(seed)
    if workers:
        solver.parameters.num_workers = int(workers)
    if deterministic:
        solver.parameters.max_deterministic_time = float(time_limit_s)
        solver.parameters.interleave_search = True
        if not workers:
            solver.parameters.num_workers = 4
    else:
        solver.parameters.max_time_in_seconds = float(time_limit_s)
    began = time.perf_counter()
    # status_name() without an argument fails in ortools 9.15: name the status solve returns.
    status = solver.status_name(solver.solve(model))
    elapsed = time.perf_counter() - began
    if status not in ("OPTIMAL", "FEASIBLE"):
        raise SolverError(_status_message(status, rules, clocks, lengths, time_limit_s))

    rows: dict[tuple[int, int, int | None], int] = {}
    for var, (s, n, b) in zip(y, types, strict=True):
        value = int(solver.value(var))
        if value:
            rows[(s, n, b)] = value
    shifts = tuple(
        ScheduledShift(s, n, c, None if b is None else (s + b) % period)
        for (s, n, b), c in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1]))
    )
    on_duty, counted = coverage(shifts, period, break_hours=nb)
    objective = float(solver.objective_value)
    bound = float(solver.best_objective_bound)
    team_hours = sum(s.count * s.hours for s in shifts)
    return Schedule(
        shifts=shifts,
        required=need,
        coverage=counted,
        on_duty=on_duty,
        team_hours=int(team_hours),
        status=status,
        objective=objective,
        bound=bound,
        gap=0.0 if status == "OPTIMAL" or objective <= 0 else (objective - bound) / objective,
        solve_s=elapsed,
        rules=rules,
    )


def _requirement(required: Sequence[int] | npt.NDArray[np.integer[Any]]) -> IntArray:
    values = np.asarray(required)
    if values.ndim != 1 or len(values) == 0 or len(values) % 24:
        raise InputError(
            f"the requirement needs one value per hour of whole days (168 for a week); "
            f"got shape {values.shape}"
        )
    if not np.all(np.isfinite(values.astype(float))) or np.any(values != np.round(values)):
        raise InputError("the requirement must be whole numbers of teams")
    if np.any(values < 0):
        raise InputError("the requirement must not be negative")
    return values.astype(np.int64)


def _status_message(
    status: str,
    rules: ShiftRules,
    clocks: list[int],
    lengths: tuple[int, ...],
    time_limit_s: float,
) -> str:
    if status == "INFEASIBLE":
        limit = f"at most {rules.max_starts} start time(s), " if rules.max_starts else ""
        return (
            f"no schedule meets the requirement under these rules (solver status INFEASIBLE): "
            f"{limit}starts {clocks}, lengths {list(lengths)} h; allow more start times or "
            f"lengths"
        )
    if status == "UNKNOWN":
        return (
            f"the solver found no schedule within the {time_limit_s:g} s time limit (status "
            f"UNKNOWN); allow more time"
        )
    return f"the shift-schedule solver returned status {status}: no schedule"
