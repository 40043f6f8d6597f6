"""Post siting: exact plans checked by brute force, OR-Library pmed1, errors naming the argument."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import shortest_path

from dispatch.errors import InputError, SolverError
from dispatch.plan.siting import check_status, nearest_assignment, objective_value, site_posts

ORLIB = Path(__file__).parent / "data" / "orlib"
INF = math.inf


def read_orlib_pmed(path: Path) -> tuple[npt.NDArray[np.float64], int]:
    """The allocation cost matrix and p of an OR-Library pmed file.

    OR-Library's rule: set c(i,j) = c(j,i) = cost for each edge line in turn (the last cost of
    a repeated edge wins), then all-pairs shortest paths.
    """
    numbers = [int(t) for t in path.read_text().split()]
    n, n_edges, p = numbers[:3]
    edges = np.array(numbers[3:], dtype=np.int64).reshape(-1, 3)
    assert len(edges) == n_edges
    w = np.full((n, n), np.inf)
    np.fill_diagonal(w, 0.0)
    for i, j, c in edges.tolist():
        w[i - 1, j - 1] = w[j - 1, i - 1] = c
    return shortest_path(w, method="FW", directed=False), p


def brute_force(
    cost: npt.NDArray[np.float64],
    k: int,
    objective: str,
    weights: npt.NDArray[np.float64],
    cover: float | None = None,
    fixed: tuple[int, ...] = (),
    capacity: npt.NDArray[np.float64] | None = None,
) -> float:
    """The best objective over every k-subset holding ``fixed`` (and, with capacities, every
    single-sourcing assignment to the subset)."""
    m = cost.shape[1]
    best = INF if objective == "p-median" else -INF
    for sites in itertools.combinations(range(m), k):
        if not set(fixed) <= set(sites):
            continue
        if capacity is None:
            value = objective_value(
                cost, weights, sites, nearest_assignment(cost, sites), objective, cover
            )
        else:
            value = _best_capacitated(cost, weights, sites, objective, cover, capacity)
        best = min(best, value) if objective == "p-median" else max(best, value)
    return best


def _best_capacitated(
    cost: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    sites: tuple[int, ...],
    objective: str,
    cover: float | None,
    capacity: npt.NDArray[np.float64],
) -> float:
    n = cost.shape[0]
    choices = [*sites, -1] if objective == "mclp" else list(sites)  # mclp may leave a row out
    best = INF if objective == "p-median" else -INF
    for assignment in itertools.product(choices, repeat=n):
        a = np.array(assignment)
        load = np.array([weights[a == j].sum() for j in sites])
        if np.any(load > capacity[list(sites)] + 1e-9):
            continue
        if objective == "mclp":
            rows = np.flatnonzero(a >= 0)
            if np.any(cost[rows, a[rows]] > cover):
                continue
        value = objective_value(cost, weights, sites, a, objective, cover)
        best = min(best, value) if objective == "p-median" else max(best, value)
    return best


def instance(seed: int, n: int = 12, m: int = 10) -> tuple[npt.NDArray[np.float64], np.ndarray]:
    rng = np.random.default_rng(seed)
    demand = rng.random((n, 2)) * 8000.0
    candidates = rng.random((m, 2)) * 8000.0
    metres = np.hypot(*(demand[:, None, :] - candidates[None, :, :]).transpose(2, 0, 1))
    return np.round(metres / 10.0), rng.integers(1, 20, n).astype(float)


# -- exact plans against brute force -----------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_p_median_matches_brute_force(k: int) -> None:
    cost, w = instance(1)
    plan = site_posts(cost, k, weights=w)
    assert plan.optimal and plan.gap == 0.0 and plan.status == "optimal"
    assert len(plan.sites) == k and list(plan.sites) == sorted(plan.sites)
    assert plan.value == pytest.approx(brute_force(cost, k, "p-median", w), rel=1e-12)
    assert plan.value == objective_value(cost, w, plan.sites, plan.assignment, "p-median")


@pytest.mark.parametrize(("k", "cover"), [(1, 300.0), (2, 250.0), (3, 200.0), (4, 150.0)])
def test_mclp_matches_brute_force(k: int, cover: float) -> None:
    cost, w = instance(2)
    plan = site_posts(cost, k, objective="mclp", weights=w, cover=cover)
    assert plan.optimal
    assert plan.value == brute_force(cost, k, "mclp", w, cover)
    assert plan.value == float(w[cost[:, list(plan.sites)].min(axis=1) <= cover].sum())


@pytest.mark.parametrize("objective", ["p-median", "mclp"])
def test_fixed_sites_stay_open_and_the_rest_is_optimal(objective: str) -> None:
    cost, w = instance(3)
    cover = 200.0 if objective == "mclp" else None
    plan = site_posts(cost, 3, objective=objective, weights=w, cover=cover, fixed=(7, 8))
    assert {7, 8} <= set(plan.sites)
    expected = brute_force(cost, 3, objective, w, cover, fixed=(7, 8))
    assert plan.value == pytest.approx(expected, rel=1e-12)
    free = site_posts(cost, 3, objective=objective, weights=w, cover=cover)
    # Locking sites can only make the plan worse (or equal).
    assert (plan.value >= free.value) if objective == "p-median" else (plan.value <= free.value)


def test_capacitated_p_median_matches_brute_force() -> None:
    cost, w = instance(4, n=6, m=6)
    capacity = np.full(6, w.sum() / 2.0)  # binding: no site may serve more than half
    for k in (3, 4):
        plan = site_posts(cost, k, weights=w, capacity=capacity)
        assert plan.optimal
        expected = brute_force(cost, k, "p-median", w, capacity=capacity)
        assert plan.value == pytest.approx(expected, rel=1e-12)
        load = np.bincount(plan.assignment, weights=w, minlength=6)
        assert np.all(load <= capacity + 1e-9)
        assert set(plan.assignment.tolist()) <= set(plan.sites)
        uncapacitated = site_posts(cost, k, weights=w)
        assert plan.value > uncapacitated.value  # the capacities bind


def test_capacitated_mclp_matches_brute_force() -> None:
    cost, w = instance(5, n=6, m=6)
    capacity = np.full(6, 15.0)
    plan = site_posts(cost, 2, objective="mclp", weights=w, cover=350.0, capacity=capacity)
    assert plan.optimal
    assert plan.value == brute_force(cost, 2, "mclp", w, 350.0, capacity=capacity)
    covered = plan.assignment >= 0
    assert plan.value == pytest.approx(float(w[covered].sum()))
    assert plan.value < site_posts(cost, 2, objective="mclp", weights=w, cover=350.0).value


def test_fixed_sites_with_capacities() -> None:
    cost, w = instance(4, n=6, m=6)
    capacity = np.full(6, w.sum() / 2.0)
    plan = site_posts(cost, 3, weights=w, fixed=(0,), capacity=capacity)
    assert 0 in plan.sites
    assert plan.value > site_posts(cost, 3, weights=w, fixed=(0,)).value  # capacities bind
    expected = brute_force(cost, 3, "p-median", w, fixed=(0,), capacity=capacity)
    assert plan.value == pytest.approx(expected, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 8),
    m=st.integers(1, 7),
    data=st.data(),
)
def test_random_instances_match_brute_force(seed: int, n: int, m: int, data: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 60, (n, m)).astype(float)
    cost[rng.random((n, m)) < 0.2] = INF  # unreachable pairs
    cost[np.arange(n), rng.integers(0, m, n)] = rng.integers(0, 60, n)  # each row reaches one
    w = rng.integers(0, 10, n).astype(float)
    k = data.draw(st.integers(1, m))
    fixed = tuple(data.draw(st.sets(st.integers(0, m - 1), max_size=k)))
    expected = brute_force(cost, k, "p-median", w, fixed=fixed)
    if expected == INF:  # every k-subset with the fixed sites leaves a weighted row unreachable
        with pytest.raises(SolverError, match="infeasible"):
            site_posts(cost, k, weights=w, fixed=fixed)
    else:
        plan = site_posts(cost, k, weights=w, fixed=fixed)
        assert plan.optimal and set(fixed) <= set(plan.sites) and len(plan.sites) == k
        recomputed = objective_value(
            cost, w, plan.sites, nearest_assignment(cost, plan.sites), "p-median"
        )
        assert plan.value == recomputed == expected
    cover = float(data.draw(st.integers(0, 60)))
    mclp = site_posts(cost, k, objective="mclp", weights=w, cover=cover, fixed=fixed)
    assert mclp.value == brute_force(cost, k, "mclp", w, cover, fixed=fixed)


# -- OR-Library ----------------------------------------------------------------------------------
def test_orlib_pmed1_optimum_is_5819() -> None:
    path = ORLIB / "pmed1.txt"
    assert path.read_text().split()[:3] == ["100", "200", "5"]
    cost, p = read_orlib_pmed(path)
    assert cost.shape == (100, 100) and p == 5 and np.isfinite(cost).all()
    plan = site_posts(cost, p)
    assert plan.optimal and plan.gap == 0.0
    assert plan.value == 5819.0  # Beasley (1985), OR-Library pmedopt
    assert len(plan.sites) == 5


# -- unreachable pairs ---------------------------------------------------------------------------
def test_unreachable_pairs_are_never_assigned() -> None:
    cost = np.array([[1.0, INF], [INF, 1.0], [5.0, INF]])
    plan = site_posts(cost, 2)
    assert plan.assignment.tolist() == [0, 1, 0] and plan.value == 7.0
    mclp = site_posts(cost, 1, objective="mclp", cover=10.0)
    assert mclp.sites == (0,) and mclp.value == 2.0
    assert mclp.assignment.tolist() == [0, -1, 0]


def test_a_row_no_candidate_reaches_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"cost.*demand row 1"):
        site_posts([[1.0, 2.0], [INF, INF]], 1)
    # A row without weight needs no site; mclp simply leaves it uncovered.
    assert site_posts([[1.0, 2.0], [INF, INF]], 1, weights=[1, 0]).value == 1.0
    assert site_posts([[1.0, 2.0], [INF, INF]], 1, objective="mclp", cover=5.0).value == 1.0


def test_fixed_sites_that_cannot_serve_are_infeasible() -> None:
    # Row 1 only reaches candidate 1, but k = 1 and candidate 0 is fixed.
    with pytest.raises(SolverError, match="infeasible"):
        site_posts([[1.0, 2.0], [INF, 1.0]], 1, fixed=(0,))


def test_capacity_below_demand_is_a_solver_error() -> None:
    with pytest.raises(SolverError, match="infeasible"):
        site_posts([[1.0, 2.0], [2.0, 1.0]], 2, weights=[3, 3], capacity=[2, 2])


@pytest.mark.parametrize("status", [2, 3, 4, 5, 6, 99])
def test_every_status_but_optimal_or_feasible_is_an_error(status: int) -> None:
    with pytest.raises(SolverError, match="siting"):
        check_status(status, time_limit_s=1.0)
    assert check_status(0, time_limit_s=1.0) == "optimal"
    assert check_status(1, time_limit_s=1.0) == "feasible"


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cost": [[1.0, 2.0]], "k": 3}, "k"),
        ({"cost": [[1.0, 2.0]], "k": 0}, "k"),
        ({"cost": [[1.0, 2.0]], "k": 1.5}, "k"),
        ({"cost": [[1.0, 2.0]], "k": 1, "fixed": (2,)}, "fixed"),
        ({"cost": [[1.0, 2.0]], "k": 1, "fixed": (-1,)}, "fixed"),
        ({"cost": [[1.0, 2.0]], "k": 1, "fixed": (0, 1)}, "fixed"),
        ({"cost": [1.0, 2.0], "k": 1}, "cost"),
        ({"cost": [[1.0, -2.0]], "k": 1}, "cost"),
        ({"cost": [[1.0, math.nan]], "k": 1}, "cost"),
        ({"cost": [[1.0, 2.0]], "k": 1, "weights": [1, 2]}, "weights"),
        ({"cost": [[1.0, 2.0]], "k": 1, "weights": [-1]}, "weights"),
        ({"cost": [[1.0, 2.0]], "k": 1, "capacity": [1]}, "capacity"),
        ({"cost": [[1.0, 2.0]], "k": 1, "objective": "mclp"}, "cover"),
        ({"cost": [[1.0, 2.0]], "k": 1, "cover": 5.0}, "cover"),
        ({"cost": [[1.0, 2.0]], "k": 1, "objective": "center"}, "objective"),
        ({"cost": [[1.0, 2.0]], "k": 1, "time_limit_s": 0}, "time_limit_s"),
    ],
)
def test_bad_arguments_are_input_errors_naming_the_argument(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InputError) as error:
        site_posts(**kwargs)  # type: ignore[arg-type]
    assert error.value.field == field
    assert field in str(error.value)
