"""Post siting: choose ``k`` stations or staging posts among candidate sites.

Two classic location models over a demand x candidate cost matrix (travel seconds):

- **p-median** (Hakimi 1964; ReVelle and Swain 1970): minimise the demand-weighted total travel
  time, every demand point served by one open site;
- **maximal covering** (MCLP, Church and ReVelle 1974): maximise the demand weight within
  ``cover`` seconds of an open site.

Both are mixed-integer programs solved with SCIP through OR-Tools' ``pywraplp``. SCIP ships in
the OR-Tools wheel, takes the float costs as they are (no integer scaling), and, when the time
limit ends the search, still reports its best plan and its proven dual bound, so a stopped
search returns a plan with an honest gap. Measured here (2 cores, loaded machine): OR-Library
``pmed1`` (100 x 100, p = 5) 1.4 s with SCIP, where CP-SAT on the same model with integer costs
had not closed the gap after 60 s; a 200-node instance with p = 10 in 10-13 s. HiGHS and CBC
through ``pywraplp`` were faster when they finish, but at a time limit they returned no plan
and no bound.

The formulation is the strong one: ``x[i, j] <= y[j]`` for every pair, whose LP relaxation is
usually integral for p-median (ReVelle and Swain 1970). Without capacities ``x`` is continuous
(an optimal plan sends each demand point to its nearest open site anyway); with capacities it is
binary: each demand point is served by one site (single sourcing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError, SolverError

Objective = Literal["p-median", "mclp"]
OBJECTIVES: tuple[str, ...] = ("p-median", "mclp")


@dataclass(frozen=True)
class Siting:
    """A siting plan and how good it is proven to be.

    Attributes
    ----------
    sites
        Chosen candidate column indices, sorted (fixed sites included).
    value
        The objective of ``sites``: demand-weighted total cost (cost units x weight, seconds x
        calls for travel times) for p-median; demand weight covered for mclp. Recomputed from
        the cost matrix, not read from the solver.
    optimal
        True when the solver proved ``sites`` optimal.
    gap
        Proven relative gap ``|value - bound| / |value|``: 0 when optimal, 1 when the solver
        stopped before it had a bound.
    assignment
        For each demand row, the candidate column that serves it: the nearest chosen site it
        can reach (the solver's assignment when capacities apply), -1 where no chosen site is
        reachable (mclp) or the row is not covered (capacitated mclp).
    objective
        ``"p-median"`` or ``"mclp"``.
    bound
        The solver's proven bound on the objective (a lower bound for p-median, an upper bound
        for mclp), in the units of ``value``.
    status
        The solver's status, ``"optimal"`` or ``"feasible"`` (stopped by the time limit).
    solve_s
        Wall-clock seconds the solver ran.
    """

    sites: tuple[int, ...]
    value: float
    optimal: bool
    gap: float
    assignment: npt.NDArray[np.int64]
    objective: str
    bound: float
    status: str
    solve_s: float


def site_posts(
    cost: npt.ArrayLike,
    k: int,
    *,
    objective: Objective | str = "p-median",
    weights: npt.ArrayLike | None = None,
    cover: float | None = None,
    fixed: Sequence[int] = (),
    capacity: npt.ArrayLike | None = None,
    time_limit_s: float = 60,
) -> Siting:
    """Choose ``k`` sites among the candidate columns of ``cost``.

    Parameters
    ----------
    cost
        Demand x candidate matrix of costs, travel seconds from each candidate to each demand
        point; ``inf`` where a candidate cannot reach a demand point (it is never assigned
        there). No negative or NaN entries.
    k
        Number of sites to open, ``len(fixed) <= k <= n_candidates``.
    objective
        ``"p-median"`` (minimise the demand-weighted total cost) or ``"mclp"`` (maximise the
        demand weight within ``cover``).
    weights
        Demand weight per row (calls); all 1 when None.
    cover
        Covering threshold, in the unit of ``cost`` (seconds); required for mclp only. A row is
        covered when an open site has ``cost <= cover``.
    fixed
        Candidate columns that must be open (existing sites kept).
    capacity
        Per-candidate capacity in demand weight (``inf`` for none): the weight a site serves
        may not exceed it. Each demand row is then served by one site.
    time_limit_s
        Wall-clock limit of the search, seconds. When it ends the search, the best plan found
        is returned with ``optimal=False`` and its proven ``gap``.

    Returns
    -------
    Siting
        The plan: ``sites``, ``value``, ``optimal``, ``gap``, ``assignment``.

    Raises
    ------
    InputError
        A malformed argument (named in the message): shapes, ``k`` out of range, a fixed index
        out of range, a demand row with weight that no candidate reaches (p-median).
    SolverError
        The solver found no plan: the constraints cannot all hold (capacities too small, fixed
        sites that cannot serve), or it stopped before finding any plan.

    Examples
    --------
    Three demand points on a line at 0, 1 and 10 km, with 1, 2 and 1 calls, and candidate sites
    at the same places (seconds, at 1 km per 60 s):

    >>> import numpy as np
    >>> at = np.array([0.0, 1.0, 10.0])
    >>> cost = np.abs(at[:, None] - at[None, :]) * 60.0
    >>> plan = site_posts(cost, 2, weights=[1, 2, 1])
    >>> plan.sites, plan.value, plan.optimal
    ((1, 2), 60.0, True)
    >>> plan.assignment.tolist()
    [1, 1, 2]
    >>> site_posts(cost, 1, objective="mclp", cover=90.0, weights=[1, 1, 5]).sites
    (2,)
    """
    c, w, cap, fixed_set = _validated(cost, k, objective, weights, cover, fixed, capacity)
    if not time_limit_s > 0:
        raise InputError(f"time_limit_s must be > 0, got {time_limit_s!r}", field="time_limit_s")
    if objective == "p-median":
        solved = _solve_p_median(c, w, k, fixed_set, cap, time_limit_s)
    else:
        assert cover is not None
        solved = _solve_mclp(c, w, k, float(cover), fixed_set, cap, time_limit_s)
    sites, assigned, status, bound, seconds = solved
    if cap is None:
        assigned = nearest_assignment(c, sites)
    value = objective_value(c, w, sites, assigned, objective, cover)
    optimal = status == "optimal"
    return Siting(
        sites=tuple(sorted(sites)),
        value=value,
        optimal=optimal,
        gap=0.0 if optimal else relative_gap(value, bound),
        assignment=assigned,
        objective=str(objective),
        bound=value if optimal else bound,
        status=status,
        solve_s=seconds,
    )


def nearest_assignment(cost: npt.ArrayLike, sites: Sequence[int]) -> npt.NDArray[np.int64]:
    """For each demand row, the site of ``sites`` with the least finite cost; -1 if none.

    Ties go to the lowest column index.

    Examples
    --------
    >>> nearest_assignment([[5.0, 1.0, 3.0], [2.0, float("inf"), 9.0]], [0, 2]).tolist()
    [2, 0]
    """
    c = np.asarray(cost, dtype=float)
    open_cols = np.array(sorted(int(s) for s in sites), dtype=np.int64)
    if c.shape[0] == 0 or not len(open_cols):
        return np.full(c.shape[0], -1, dtype=np.int64)
    sub = c[:, open_cols]
    best = np.argmin(sub, axis=1)
    out: npt.NDArray[np.int64] = open_cols[best]
    out[~np.isfinite(sub[np.arange(len(sub)), best])] = -1
    return out


def objective_value(
    cost: npt.ArrayLike,
    weights: npt.ArrayLike,
    sites: Sequence[int],
    assignment: npt.ArrayLike,
    objective: str,
    cover: float | None = None,
) -> float:
    """The objective of a plan, recomputed from the cost matrix.

    p-median: the weighted sum of each row's cost to its assigned site (``inf`` when a row with
    weight is unassigned); mclp: the weight of rows whose assigned site is within ``cover``.

    Examples
    --------
    >>> objective_value([[1.0, 4.0], [3.0, 2.0]], [2, 1], [0], [0, 0], "p-median")
    5.0
    >>> objective_value([[1.0, 4.0], [3.0, 2.0]], [2, 1], [0], [0, 0], "mclp", cover=2.0)
    2.0
    """
    c = np.asarray(cost, dtype=float)
    w = np.asarray(weights, dtype=float)
    a = np.asarray(assignment, dtype=np.int64)
    rows = np.arange(len(a))
    served = a >= 0
    got = np.full(len(a), np.inf)
    got[served] = c[rows[served], a[served]]
    if objective == "p-median":
        if np.any(~np.isfinite(got) & (w > 0)):
            return float("inf")
        return float(np.sum(w[w > 0] * got[w > 0]))
    assert cover is not None
    return float(np.sum(w[got <= cover]))


def relative_gap(value: float, bound: float) -> float:
    """``|value - bound| / |value|``, 0 when both are 0, 1 when ``value`` is 0 or ``bound`` is
    not finite (nothing proven).

    Examples
    --------
    >>> relative_gap(110.0, 100.0)
    0.09090909090909091
    """
    if not (np.isfinite(value) and np.isfinite(bound)):
        return 1.0
    if value == bound:
        return 0.0
    if value == 0.0:
        return 1.0
    return min(1.0, abs(value - bound) / abs(value))


# -- validation --------------------------------------------------------------------------------
def _validated(
    cost: npt.ArrayLike,
    k: int,
    objective: str,
    weights: npt.ArrayLike | None,
    cover: float | None,
    fixed: Sequence[int],
    capacity: npt.ArrayLike | None,
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64] | None, set[int]
]:
    try:
        c = np.asarray(cost, dtype=float)
    except (TypeError, ValueError):
        raise InputError("cost must be a numeric matrix", field="cost") from None
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
        raise InputError(
            f"cost must be a demand x candidate matrix with at least one of each, got shape "
            f"{c.shape}",
            field="cost",
        )
    if np.isnan(c).any() or (c < 0).any():
        raise InputError("cost must hold no NaN and no negative entries", field="cost")
    n, m = c.shape
    if objective not in OBJECTIVES:
        raise InputError(
            f"objective must be 'p-median' or 'mclp', got {objective!r}", field="objective"
        )
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise InputError(f"k must be an integer, got {k!r}", field="k")
    if not 1 <= k <= m:
        raise InputError(f"k must be between 1 and the {m} candidates, got {k}", field="k")
    if weights is None:
        w = np.ones(n)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,):
            raise InputError(
                f"weights must have one entry per demand row ({n}), got shape {w.shape}",
                field="weights",
            )
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError("weights must be finite and >= 0", field="weights")
    if objective == "mclp":
        if cover is None or not np.isfinite(cover) or cover < 0:
            raise InputError(
                f"objective 'mclp' needs a finite cover >= 0 (seconds), got {cover!r}",
                field="cover",
            )
    elif cover is not None:
        raise InputError("cover applies to objective 'mclp' only", field="cover")
    fixed_set: set[int] = set()
    for f in fixed:
        if isinstance(f, bool) or not isinstance(f, int | np.integer) or not 0 <= f < m:
            raise InputError(
                f"fixed site {f!r} is not a candidate column index (0..{m - 1})", field="fixed"
            )
        fixed_set.add(int(f))
    if len(fixed_set) > k:
        raise InputError(f"{len(fixed_set)} fixed sites do not fit in k = {k}", field="fixed")
    cap: npt.NDArray[np.float64] | None = None
    if capacity is not None:
        cap = np.asarray(capacity, dtype=float)
        if cap.shape != (m,):
            raise InputError(
                f"capacity must have one entry per candidate ({m}), got shape {cap.shape}",
                field="capacity",
            )
        if np.isnan(cap).any() or (cap < 0).any():
            raise InputError("capacity must be >= 0 (inf for none)", field="capacity")
    if objective == "p-median":
        lost = np.flatnonzero(~np.isfinite(c).any(axis=1) & (w > 0))
        if len(lost):
            raise InputError(
                f"demand row {int(lost[0])} (and {len(lost) - 1} more) reaches no candidate: "
                "every cost is inf",
                field="cost",
            )
    return c, w, cap, fixed_set


# -- the models --------------------------------------------------------------------------------
Solved = tuple[list[int], npt.NDArray[np.int64], str, float, float]

_STATUS_NAMES = {
    0: "optimal",
    1: "feasible",
    2: "infeasible",
    3: "unbounded",
    4: "abnormal",
    5: "model invalid",
    6: "not solved",
}


def check_status(status: int, *, time_limit_s: float) -> str:
    """``"optimal"`` or ``"feasible"`` for a ``pywraplp`` status; every other status raises.

    Raises
    ------
    SolverError
        Infeasible (no plan meets the constraints), not solved (no plan within the time
        limit), or a solver failure.

    Examples
    --------
    >>> check_status(0, time_limit_s=60)
    'optimal'
    >>> check_status(2, time_limit_s=60)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dispatch.errors.SolverError: siting: infeasible: no choice of sites meets the constraints ...
    """
    name = _STATUS_NAMES.get(status, f"status {status}")
    if status in (0, 1):
        return name
    if status == 2:
        raise SolverError(
            "siting: infeasible: no choice of sites meets the constraints (capacities too small "
            "for the demand, or fixed sites and k leave demand unreachable)"
        )
    if status == 6:
        raise SolverError(
            f"siting: no plan found within the time limit of {time_limit_s:g} s; raise "
            "time_limit_s or aggregate the demand more coarsely"
        )
    raise SolverError(f"siting: the solver failed ({name}); no plan")


def _solver(time_limit_s: float) -> Any:
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:  # pragma: no cover - SCIP is part of every OR-Tools wheel
        raise SolverError("siting: OR-Tools was built without SCIP")
    solver.SuppressOutput()
    solver.SetTimeLimit(max(1, int(time_limit_s * 1000)))
    return solver


def _run(solver: Any, time_limit_s: float) -> tuple[str, float, float]:
    """Solve with a zero relative gap (so "optimal" is exact, not within SCIP's default 1e-4);
    return the checked status, the proven bound and the seconds spent."""
    from ortools.linear_solver import pywraplp

    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
    status = check_status(solver.Solve(params), time_limit_s=time_limit_s)
    return status, float(solver.Objective().BestBound()), solver.wall_time() / 1000.0


def _open_sites(solver: Any, y: list[Any], m: int) -> list[int]:
    return [j for j in range(m) if y[j].solution_value() > 0.5]


def _site_vars(solver: Any, m: int, k: int, fixed: set[int]) -> list[Any]:
    y = [solver.BoolVar(f"y{j}") for j in range(m)]
    for j in fixed:
        y[j].SetLb(1.0)
    card = solver.Constraint(float(k), float(k), "k")
    for v in y:
        card.SetCoefficient(v, 1.0)
    return y


def _assignment_vars(
    solver: Any,
    y: list[Any],
    allowed: list[npt.NDArray[np.int64]],
    binary: bool,
) -> list[list[Any]]:
    """``x[i][t]`` for row ``i`` and candidate ``allowed[i][t]``, each ``<= y``."""
    inf = solver.infinity()
    xs: list[list[Any]] = []
    for i, cols in enumerate(allowed):
        row = []
        for j in cols.tolist():
            x = solver.BoolVar(f"x{i}_{j}") if binary else solver.NumVar(0.0, 1.0, f"x{i}_{j}")
            link = solver.Constraint(-inf, 0.0)
            link.SetCoefficient(x, 1.0)
            link.SetCoefficient(y[j], -1.0)
            row.append(x)
        xs.append(row)
    return xs


def _capacity_rows(
    solver: Any,
    y: list[Any],
    xs: list[list[Any]],
    allowed: list[npt.NDArray[np.int64]],
    w: npt.NDArray[np.float64],
    cap: npt.NDArray[np.float64],
) -> None:
    rows: dict[int, Any] = {}
    for j in np.flatnonzero(np.isfinite(cap)).tolist():
        ct = solver.Constraint(-solver.infinity(), 0.0, f"cap{j}")
        ct.SetCoefficient(y[j], -float(cap[j]))
        rows[j] = ct
    for i, cols in enumerate(allowed):
        for x, j in zip(xs[i], cols.tolist(), strict=True):
            if j in rows:
                rows[j].SetCoefficient(x, float(w[i]))


def _read_assignment(
    n: int, xs: list[list[Any]], allowed: list[npt.NDArray[np.int64]], rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    out = np.full(n, -1, dtype=np.int64)
    for i, row, cols in zip(rows.tolist(), xs, allowed, strict=True):
        values = [x.solution_value() for x in row]
        if values and max(values) > 0.5:
            out[i] = int(cols[int(np.argmax(values))])
    return out


def _solve_p_median(
    c: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    k: int,
    fixed: set[int],
    cap: npt.NDArray[np.float64] | None,
    time_limit_s: float,
) -> Solved:
    n, m = c.shape
    solver = _solver(time_limit_s)
    y = _site_vars(solver, m, k, fixed)
    finite = np.isfinite(c)
    # Rows without weight cost nothing: left out, or (with capacities) in only where reachable.
    rows = np.flatnonzero(finite.any(axis=1)) if cap is not None else np.flatnonzero(w > 0)
    if fixed and cap is None:
        # A fixed site is always open, so no row is ever served farther than its nearest fixed
        # site: the pairs beyond it cannot be in an optimal plan.
        reach = c[:, sorted(fixed)].min(axis=1)
        finite &= c <= reach[:, None]
    allowed = [np.flatnonzero(finite[i]) for i in rows.tolist()]
    xs = _assignment_vars(solver, y, allowed, binary=cap is not None)
    obj = solver.Objective()
    for i, row, cols in zip(rows.tolist(), xs, allowed, strict=True):
        one = solver.Constraint(1.0, 1.0)
        for x, j in zip(row, cols.tolist(), strict=True):
            one.SetCoefficient(x, 1.0)
            obj.SetCoefficient(x, float(w[i] * c[i, j]))
    if cap is not None:
        _capacity_rows(solver, y, xs, allowed, w[rows], cap)
    obj.SetMinimization()
    status, bound, seconds = _run(solver, time_limit_s)
    sites = _open_sites(solver, y, m)
    assigned = _read_assignment(n, xs, allowed, rows) if cap is not None else np.zeros(0, np.int64)
    return sites, assigned, status, bound, seconds


def _solve_mclp(
    c: npt.NDArray[np.float64],
    w: npt.NDArray[np.float64],
    k: int,
    cover: float,
    fixed: set[int],
    cap: npt.NDArray[np.float64] | None,
    time_limit_s: float,
) -> Solved:
    n, m = c.shape
    solver = _solver(time_limit_s)
    y = _site_vars(solver, m, k, fixed)
    within = c <= cover
    rows = np.flatnonzero((w > 0) & within.any(axis=1))
    allowed = [np.flatnonzero(within[i]) for i in rows.tolist()]
    obj = solver.Objective()
    xs: list[list[Any]] = []
    if cap is None:
        # z_i <= sum of the sites covering i; z continuous: at an optimum it is min(1, sum).
        for i, cols in zip(rows.tolist(), allowed, strict=True):
            z = solver.NumVar(0.0, 1.0, f"z{i}")
            ct = solver.Constraint(-solver.infinity(), 0.0)
            ct.SetCoefficient(z, 1.0)
            for j in cols.tolist():
                ct.SetCoefficient(y[j], -1.0)
            obj.SetCoefficient(z, float(w[i]))
    else:
        xs = _assignment_vars(solver, y, allowed, binary=True)
        for i, row in zip(rows.tolist(), xs, strict=True):
            one = solver.Constraint(0.0, 1.0)
            for x in row:
                one.SetCoefficient(x, 1.0)
                obj.SetCoefficient(x, float(w[i]))
        _capacity_rows(solver, y, xs, allowed, w[rows], cap)
    obj.SetMaximization()
    status, bound, seconds = _run(solver, time_limit_s)
    sites = _open_sites(solver, y, m)
    assigned = _read_assignment(n, xs, allowed, rows) if cap is not None else np.zeros(0, np.int64)
    return sites, assigned, status, bound, seconds
