"""Joint assignment of several pending calls: never worse than sending teams one call at a time.

The objective is the matcher's own score (tier offset + ETA + CIT penalty, seconds) weighted by
call priority, plus a cost for each call left unserved that exceeds any tier. Greedy dispatch
(highest priority first, then oldest) is one feasible answer to the same objective, so the optimum
can only be as good or better.

Wellness holds apply as in `Matcher.recommend` (a held team is offered only to calls that may
override); the fairness tie-break, a one-call rule, does not.

Solvers: scipy's `linear_sum_assignment` (the fast path) on a rectangular matrix with one
"unserved" column per call; OR-Tools CP-SAT when a side constraint needs it (``reserve``: keep a
number of co-responder teams free for calls to come, which only priority-1 calls may use). Every
solver status is read before its solution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError, SolverError
from dispatch.match.fleet import Fleet
from dispatch.match.rules import KIND_CODES, TIER_GAP_S
from dispatch.model import Call, RiskLevel, TeamKind

if TYPE_CHECKING:
    from dispatch.match.matcher import Matcher

FloatArray = npt.NDArray[np.float64]
SOLVERS = ("auto", "scipy", "cpsat")


@dataclass(frozen=True, slots=True)
class Assignment:
    """Result of a joint assignment.

    Attributes
    ----------
    pairs
        ``(call_id, team_id)`` for every served call, in the order of the input calls.
    unassigned
        Calls no team was given.
    eta_s
        Travel seconds per served call id.
    cost
        Objective value (priority-weighted seconds plus tier offsets and unserved costs).
    solver
        Which solver produced it.
    """

    pairs: tuple[tuple[str, str], ...]
    unassigned: tuple[str, ...]
    eta_s: dict[str, float]
    cost: float
    solver: str


@dataclass(frozen=True)
class CostModel:
    """The assignment problem in matrix form.

    ``cost[i, j]`` is call ``i`` served by team ``j`` (``inf`` when the team may not go);
    ``unserved[i]`` the cost of leaving call ``i`` without a team.
    """

    cost: FloatArray
    eta_s: FloatArray
    unserved: FloatArray
    priority: npt.NDArray[np.int64]

    def total(self, team_of_call: Sequence[int]) -> float:
        """Objective of a solution given as a team row (or -1) per call."""
        return float(
            sum(self.unserved[i] if j < 0 else self.cost[i, j] for i, j in enumerate(team_of_call))
        )


def cost_model(
    matcher: Matcher, calls: Sequence[Call], fleet: Fleet, *, specialist_only: bool = False
) -> CostModel:
    """Score every (call, team) pair with the matcher's rules.

    Row ``i`` of ``cost`` is call ``i``'s priority weight times `Matcher.scores` for it, computed
    for all calls at once: one snap for all calls, one travel row per distinct call place.
    """
    rules = matcher.rules
    n, m = len(calls), len(fleet)
    n_tiers = max(len(t) for t in rules.tiers.values())
    weight = np.array([rules.priority_weights[c.priority] for c in calls], dtype=float)
    priority = np.array([c.priority for c in calls], dtype=np.int64)
    unserved = weight * (n_tiers + 1) * TIER_GAP_S
    if n == 0:
        return CostModel(np.full((0, m), np.inf), np.full((0, m), np.inf), unserved, priority)
    places = matcher.travel.snap_many([c.lat for c in calls], [c.lon for c in calls])
    # One `Matcher.scores` row per distinct (place, effective risk, zone, call type, travel
    # band): the same public scoring a single recommendation uses.
    rows: dict[tuple[int, RiskLevel, str | None, str, int], tuple[FloatArray, FloatArray]] = {}
    score = np.empty((n, m))
    eta = np.empty((n, m))
    for i, (call, place) in enumerate(zip(calls, places.tolist(), strict=True)):
        risk = rules.effective_risk(call.risk, call.flags)
        key = (place, risk, call.zone, call.call_type, matcher.travel.band_at(call.received_s))
        found = rows.get(key)
        if found is None:
            s = matcher.scores(
                place,
                risk,
                fleet,
                specialist_only=specialist_only,
                zone=call.zone,
                call_type=call.call_type,
                now_s=call.received_s,
            )
            found = rows[key] = (s.score, s.eta_s)
        score[i], eta[i] = found
    w = matcher.wellness
    if w is not None:
        for i, call in enumerate(calls):
            if call.priority > w.override_priority:
                # Teams held back by wellness rules are not offered to calls that may not
                # override.
                held = w.holds(call.received_s, fleet)
                score[i] = np.where(held > 0, np.inf, score[i])
    return CostModel(weight[:, None] * score, eta, unserved, priority)


def greedy_order(calls: Sequence[Call]) -> list[int]:
    """Indices of ``calls`` in dispatch order: highest priority first, then oldest, then id."""
    return sorted(
        range(len(calls)), key=lambda i: (calls[i].priority, calls[i].received_s, calls[i].call_id)
    )


def greedy(model: CostModel, order: Sequence[int]) -> list[int]:
    """One call at a time in ``order``, each taking its best remaining team."""
    taken = np.zeros(model.cost.shape[1], dtype=bool)
    team_of_call = [-1] * model.cost.shape[0]
    for i in order:
        row = np.where(taken, np.inf, model.cost[i])
        if row.size == 0:
            continue
        j = int(np.argmin(row))
        if np.isfinite(row[j]):
            team_of_call[i] = j
            taken[j] = True
    return team_of_call


def solve_scipy(model: CostModel) -> list[int]:
    """Optimal assignment by `scipy.optimize.linear_sum_assignment` with unserved columns."""
    from scipy.optimize import linear_sum_assignment

    n, m = model.cost.shape
    if n == 0:
        return []
    dummy = np.full((n, n), np.inf)
    np.fill_diagonal(dummy, model.unserved)
    rows, cols = linear_sum_assignment(np.hstack([model.cost, dummy]))
    team_of_call = [-1] * n
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        if j < m:
            team_of_call[i] = j
    return team_of_call


def solve_cpsat(
    model: CostModel,
    *,
    reserve_teams: npt.NDArray[np.bool_] | None = None,
    reserve: int = 0,
    time_limit_s: float = 10.0,
) -> list[int]:
    """Optimal assignment by OR-Tools CP-SAT, with an optional reserve constraint.

    With ``reserve`` > 0, at most ``(free reserve teams) - reserve`` of the teams flagged in
    ``reserve_teams`` may be given to calls of priority 2 or lower; priority-1 calls may use any.
    Costs are rounded to 0.01 s for the integer solver.
    """
    from ortools.sat.python import cp_model

    n, m = model.cost.shape
    if n == 0:
        return []
    cp = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for i in range(n):
        for j in np.flatnonzero(np.isfinite(model.cost[i])).tolist():
            x[i, j] = cp.new_bool_var(f"x{i}_{j}")
    for i in range(n):
        cp.add_at_most_one(x[i, j] for j in range(m) if (i, j) in x)
    for j in range(m):
        cp.add_at_most_one(x[i, j] for i in range(n) if (i, j) in x)
    if reserve > 0 and reserve_teams is not None:
        usable = max(0, int(reserve_teams.sum()) - reserve)
        cp.add(sum(x[i, j] for (i, j) in x if reserve_teams[j] and model.priority[i] > 1) <= usable)
    scale = 100.0
    served_gain = [
        sum(
            round((model.unserved[i] - model.cost[i, j]) * scale) * x[i, j]
            for j in range(m)
            if (i, j) in x
        )
        for i in range(n)
    ]
    cp.maximize(sum(served_gain))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1  # deterministic
    status = solver.solve(cp)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(f"CP-SAT returned {solver.status_name(status)} for the assignment")
    team_of_call = [-1] * n
    for (i, j), var in x.items():
        if solver.boolean_value(var):
            team_of_call[i] = j
    return team_of_call


def assign(
    matcher: Matcher,
    calls: Sequence[Call],
    fleet: Fleet,
    *,
    reserve: int = 0,
    solver: str = "auto",
    specialist_only: bool = False,
) -> Assignment:
    """Assign pending ``calls`` to teams of ``fleet`` jointly.

    Parameters
    ----------
    matcher
        Supplies the rules and travel times.
    calls
        Pending calls; ids must be unique.
    fleet
        Current fleet state; only dispatchable teams are used.
    reserve
        Co-responder teams to keep free for calls to come; only priority-1 calls may take them.
        Needs CP-SAT.
    solver
        ``"auto"`` (scipy, or CP-SAT when ``reserve`` > 0), ``"scipy"`` or ``"cpsat"``.
    specialist_only
        Consider specialist tiers only.

    Returns
    -------
    Assignment
        Never gives a team two calls; never costs more than `greedy` under the same objective.
    """
    if solver not in SOLVERS:
        raise InputError(f"unknown solver {solver!r}; expected one of {', '.join(SOLVERS)}")
    if reserve < 0:
        raise InputError("reserve must be >= 0")
    ids = [c.call_id for c in calls]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"duplicate call id {duplicate!r}", field="call_id")
    model = cost_model(matcher, calls, fleet, specialist_only=specialist_only)
    if solver == "scipy" and reserve > 0:
        raise InputError("the reserve constraint needs solver 'cpsat' (or 'auto')")
    if solver == "cpsat" or (solver == "auto" and reserve > 0):
        reserve_teams = (fleet.kind == KIND_CODES[TeamKind.CO_RESPONDER]) & fleet.dispatchable
        team_of_call = solve_cpsat(model, reserve_teams=reserve_teams, reserve=reserve)
        used = "cpsat"
    else:
        team_of_call = solve_scipy(model)
        used = "scipy"
    pairs = tuple(
        (calls[i].call_id, fleet.team_ids[j]) for i, j in enumerate(team_of_call) if j >= 0
    )
    return Assignment(
        pairs=pairs,
        unassigned=tuple(calls[i].call_id for i, j in enumerate(team_of_call) if j < 0),
        eta_s={
            calls[i].call_id: float(model.eta_s[i, j]) for i, j in enumerate(team_of_call) if j >= 0
        },
        cost=model.total(team_of_call),
        solver=used,
    )
