"""Queueing formulas against values derived independently.

Exact fractions for small systems, log-space direct summation of the stationary distribution
for large ones, numerical quadrature of Jagerman's integral for fractional servers, and a
discrete-event simulation for Erlang A.
"""

from __future__ import annotations

import heapq
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dispatch import erlang
from dispatch.errors import InputError
from dispatch.plan.queueing import (
    erlang_a,
    erlang_b,
    erlang_c,
    mean_wait_s,
    servers_needed,
    servers_needed_fractional,
    service_level,
)

# -- independent references -------------------------------------------------------------------


def exact_mmc(c: int, a: Fraction) -> tuple[Fraction, Fraction, Fraction]:
    """(B, C, Lq) of M/M/c from the stationary distribution, in exact arithmetic (a < c)."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    rho = a / c
    # pi_{c+j} = pi_c rho^j: the waiting states sum to pi_c / (1 - rho)
    waiting = terms[c] / (1 - rho)
    total = sum(terms[:c], Fraction(0)) + waiting
    b = terms[c] / sum(terms, Fraction(0))
    lq = terms[c] * rho / (1 - rho) ** 2 / total  # sum_j j pi_c rho^j
    return b, waiting / total, lq


def log_sum_exp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def log_space_b(c: int, a: float) -> float:
    """Erlang B as a^c/c! over sum_k a^k/k!, each term by lgamma, summed in log space."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c + 1)]
    return math.exp(logs[-1] - log_sum_exp(logs))


def log_space_c(c: int, a: float) -> float:
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    top = c * math.log(a) - math.lgamma(c + 1) - math.log(1 - a / c)
    return math.exp(top - log_sum_exp([*logs, top]))


def summed_service_level(c: int, a: float, service_s: float, target_s: float) -> float:
    """P(wait <= t) = 1 - sum_j pi_{c+j} P(Erlang(j + 1, c mu) > t), the sum truncated."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    rho = a / c
    log_pc = c * math.log(a) - math.lgamma(c + 1)
    log_total = log_sum_exp([*logs, log_pc - math.log(1 - rho)])
    x = c * target_s / service_s  # c mu t
    late = 0.0
    # An arrival finding j waiting waits for j + 1 completions at rate c mu.
    poisson_cdf = 0.0
    term = math.exp(-x)
    for j in range(5000):
        poisson_cdf += term  # P(N(x) <= j)
        term *= x / (j + 1)
        late += math.exp(log_pc + j * math.log(rho) - log_total) * poisson_cdf
    return 1.0 - late


# -- Erlang B and C: exact and published values -----------------------------------------------


@pytest.mark.parametrize(
    ("c", "a"), [(1, Fraction(1, 2)), (3, Fraction(3, 2)), (5, 4), (10, 5), (12, 11)]
)
def test_erlang_b_and_c_match_exact_stationary_distribution(c: int, a: Fraction | int) -> None:
    load = Fraction(a)
    b, wait, lq = exact_mmc(c, load)
    assert erlang_b(c, float(load)) == pytest.approx(float(b), rel=1e-12)
    assert erlang_c(c, float(load)) == pytest.approx(float(wait), rel=1e-12)
    # Little: Wq = Lq / lambda; with service time 1 lambda equals a.
    assert mean_wait_s(c, float(load), 1.0) == pytest.approx(float(lq / load), rel=1e-12)


def test_published_values() -> None:
    # Erlang B tables: 10 trunks at 5 erlangs block 1.84%; exactly 0.0183845...
    assert erlang_b(10, 5.0) == pytest.approx(0.018384570336648, rel=1e-12)
    # shared/reference/domain-figures.md V3: M/M/3 at 1.5 erlangs, C = 9/38, Wq = 3/19.
    assert erlang_c(3, 1.5) == pytest.approx(9 / 38, rel=1e-12)
    assert mean_wait_s(3, 1.5, 1.0) == pytest.approx(3 / 19, rel=1e-12)
    # V3, mitan.co.uk worked example: 48 erlangs, 240 s, 55 agents, target 15 s.
    assert erlang_c(55, 48.0) == pytest.approx(0.2387, abs=5e-5)
    assert mean_wait_s(55, 48.0, 240.0) == pytest.approx(8.18, abs=5e-3)
    assert service_level(55, 48.0, 240.0, 15.0) == pytest.approx(0.8459, abs=5e-5)
    # Its sweep at a 20 s target: 54 agents give 81.72%, 53 fewer than 80%.
    assert service_level(54, 48.0, 240.0, 20.0) == pytest.approx(0.8172, abs=5e-5)
    assert servers_needed(720.0, 240.0, 20.0, 0.8) == 54


@pytest.mark.parametrize(
    ("c", "a", "target_s"), [(3, 1.5, 60.0), (10, 8.0, 600.0), (55, 48.0, 15.0), (40, 39.0, 0.0)]
)
def test_service_level_matches_summed_waiting_distribution(
    c: int, a: float, target_s: float
) -> None:
    assert service_level(c, a, 600.0, target_s) == pytest.approx(
        summed_service_level(c, a, 600.0, target_s), abs=1e-10
    )


# -- large systems ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("c", "a"), [(500, 480.0), (1000, 990.0), (2000, 1900.0), (500, 600.0), (1200, 100.0)]
)
def test_large_systems_match_log_space_summation(c: int, a: float) -> None:
    b = erlang_b(c, a)
    assert b == pytest.approx(log_space_b(c, a), rel=1e-9)
    if a < c:
        assert erlang_c(c, a) == pytest.approx(log_space_c(c, a), rel=1e-9)
        wait = mean_wait_s(c, a, 3600.0)
        assert math.isfinite(wait)
        assert wait == pytest.approx(log_space_c(c, a) * 3600.0 / (c - a), rel=1e-9)
    for value in (b, erlang_c(c, a), service_level(c, a, 3600.0, 60.0)):
        assert 0.0 <= value <= 1.0


def test_servers_needed_for_a_thousand_erlangs() -> None:
    # 1000 erlangs: square-root staffing needs about a + beta sqrt(a), a few dozen above a
    c = servers_needed(1000.0, 3600.0, 20.0, 0.8)
    assert 1000 < c < 1100
    assert (
        service_level(c, 1000.0, 3600.0, 20.0) >= 0.8 > service_level(c - 1, 1000.0, 3600.0, 20.0)
    )


# -- overload ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "a"), [(1, 1.0), (3, 3.0), (3, 7.5), (0, 2.0), (500, 500.0)])
def test_overload_is_an_explicit_infinite_wait(c: int, a: float) -> None:
    assert mean_wait_s(c, a, 600.0) == math.inf
    assert service_level(c, a, 600.0, 1200.0) == 0.0
    assert erlang_c(c, a) == 1.0
    assert 0.0 <= erlang_b(c, a) <= 1.0
    # with abandonment the system is stable whatever the load
    if c:
        result = erlang_a(c, a, 600.0, 300.0, 1200.0)
        values = (result.p_wait, result.p_abandon, result.service_level, result.occupancy)
        assert all(0.0 <= v <= 1.0 for v in values)
        assert 0.0 < result.mean_wait_s < 300.0


def test_no_calls() -> None:
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_c(3, 0.0) == 0.0
    assert mean_wait_s(3, 0.0, 600.0) == 0.0
    assert service_level(0, 0.0, 600.0, 60.0) == 1.0
    assert servers_needed(0.0, 600.0, 60.0, 0.8, shrinkage=0.3) == 0
    assert servers_needed_fractional(0.0, 600.0, 60.0, 0.8) == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(-1, 1.0),
        lambda: erlang_b(2, -1.0),
        lambda: erlang_b(2, math.nan),
        lambda: erlang_c(math.inf, 1.0),
        lambda: service_level(2, 1.0, 0.0, 60.0),
        lambda: servers_needed(1.0, 600.0, 60.0, 1.0),
        lambda: servers_needed(1.0, 600.0, 60.0, 0.8, shrinkage=1.0),
        lambda: servers_needed(1.0, 600.0, 60.0, 0.8, max_occupancy=0.0),
        lambda: erlang_a(2.5, 1.0, 600.0, 300.0),
        lambda: erlang_a(2, 1.0, 600.0, 0.0),
        lambda: erlang_a(3, 4.0, 600.0, 1e12),  # overloaded, patience of 30,000 years
    ],
)
def test_bad_arguments_are_input_errors(call: object) -> None:
    with pytest.raises(InputError):
        call()  # type: ignore[operator]


# -- properties -------------------------------------------------------------------------------

loads = st.floats(min_value=0.01, max_value=300.0, allow_nan=False)
counts = st.integers(min_value=1, max_value=320)


@settings(max_examples=200, deadline=None)
@given(c=counts, a=loads)
def test_probabilities_are_ordered_and_monotone(c: int, a: float) -> None:
    b, wait = erlang_b(c, a), erlang_c(c, a)
    assert 0.0 <= b <= wait <= 1.0
    assert erlang_b(c + 1, a) <= b
    assert erlang_c(c + 1, a) <= wait
    assert erlang_b(c, a * 1.01) >= b
    assert erlang_c(c, a * 1.01) >= wait
    w = mean_wait_s(c, a, 600.0)
    assert w >= 0.0 and not math.isnan(w)


@settings(max_examples=150, deadline=None)
@given(
    rate=st.floats(min_value=0.05, max_value=400.0),
    service_s=st.floats(min_value=60.0, max_value=10_800.0),
    target_s=st.floats(min_value=0.0, max_value=3600.0),
    level=st.floats(min_value=0.05, max_value=0.99),
    occupancy=st.none() | st.floats(min_value=0.5, max_value=1.0),
    shrinkage=st.integers(min_value=0, max_value=50).map(lambda p: p / 100),
)
# a steep level just above the load: a root to 1e-10 of a server missed the level by 1e-9
@example(rate=9.0, service_s=60.0, target_s=2445.0, level=0.05078125, occupancy=None, shrinkage=0)
def test_servers_needed_is_the_smallest_that_meets_the_target(
    rate: float,
    service_s: float,
    target_s: float,
    level: float,
    occupancy: float | None,
    shrinkage: float,
) -> None:
    load = rate * service_s / 3600.0

    def meets(c: int) -> bool:
        within = service_level(c, load, service_s, target_s) >= level
        return within and (occupancy is None or load / c <= occupancy)

    c = servers_needed(rate, service_s, target_s, level, max_occupancy=occupancy)
    assert meets(c)
    assert c == 1 or not meets(c - 1)
    gross = servers_needed(
        rate, service_s, target_s, level, max_occupancy=occupancy, shrinkage=shrinkage
    )
    # the smallest headcount whose available share covers c
    assert gross * (1 - shrinkage) >= c - 1e-9
    assert (gross - 1) * (1 - shrinkage) < c - 1e-9
    if occupancy is None:
        x = servers_needed_fractional(rate, service_s, target_s, level)
        assert c - 1 < x <= c
        if x < c:
            assert service_level(x, load, service_s, target_s) == pytest.approx(level, abs=1e-9)


def test_shrinkage_rounds_up_after_dividing() -> None:
    base = servers_needed(720.0, 240.0, 20.0, 0.8)  # 54
    assert servers_needed(720.0, 240.0, 20.0, 0.8, shrinkage=0.1) == 60  # 54 / 0.9 = 60
    assert servers_needed(720.0, 240.0, 20.0, 0.8, shrinkage=0.3) == math.ceil(base / 0.7)
    assert servers_needed(720.0, 240.0, 20.0, 0.8, max_occupancy=0.85) == 57  # 48 / 0.85 = 56.5


# -- fractional servers -----------------------------------------------------------------------


def jagerman_b(x: float, a: float) -> float:
    """1 / B(x, a) = integral_0^inf exp(-u) (1 + u / a)^x du, by quadrature."""
    from scipy.integrate import quad

    value, _ = quad(lambda u: math.exp(x * math.log1p(u / a) - u), 0.0, math.inf, epsabs=0.0)
    return 1.0 / float(value)


@pytest.mark.parametrize("a", [0.3, 2.0, 7.5, 40.0])
@pytest.mark.parametrize("x", [0.25, 1.5, 2.999, 6.3, 12.7])
def test_continuous_erlang_b_matches_jagerman_integral(x: float, a: float) -> None:
    assert erlang_b(x, a) == pytest.approx(jagerman_b(x, a), rel=1e-8)


def test_continuous_erlang_b_across_the_large_load_branch() -> None:
    # below and above the load where the start value switches to the asymptotic series
    assert erlang_b(2.5, 500.0 - 1e-7) == pytest.approx(erlang_b(2.5, 500.0 + 1e-7), rel=1e-10)
    assert erlang_b(700.4, 650.0) == pytest.approx(jagerman_b(700.4, 650.0), rel=1e-7)


@pytest.mark.parametrize("a", [0.5, 3.0, 12.0, 480.0])
def test_fractional_servers_agree_at_integers_and_are_monotone_between(a: float) -> None:
    top = int(a * 1.5) + 5
    grid = np.linspace(0.0, top, 40 * top + 1)
    b = np.array([erlang_b(float(x), a) for x in grid])
    assert (np.diff(b) < 0).all()
    for n in range(1, top + 1):
        assert erlang_b(n - 1e-9, a) == pytest.approx(erlang_b(n, a), rel=1e-7)
        assert erlang_b(n + 1e-9, a) == pytest.approx(erlang_b(n, a), rel=1e-7)
    stable = grid[grid > a + 1e-6]
    c = np.array([erlang_c(float(x), a) for x in stable])
    level = np.array([service_level(float(x), a, 600.0, 60.0) for x in stable])
    assert (np.diff(c) < 0).all()
    assert (np.diff(level) >= 0).all()
    assert (np.diff(level)[level[:-1] < 1 - 1e-9] > 0).all()
    assert ((level >= 0) & (level <= 1)).all()


def test_fractional_staffing_for_a_planner() -> None:
    # two calls an hour of one hour each, 80% within 20 min: 3.38 teams, so 4 whole teams
    x = servers_needed_fractional(2.0, 3600.0, 1200.0, 0.8)
    assert x == pytest.approx(3.378, abs=1e-3)
    assert service_level(3, 2.0, 3600.0, 1200.0) < 0.8 <= service_level(4, 2.0, 3600.0, 1200.0)
    assert servers_needed_fractional(2.0, 3600.0, 1200.0, 0.8, shrinkage=0.25) == pytest.approx(
        x / 0.75
    )
    assert servers_needed_fractional(2.0, 3600.0, 1200.0, 0.8, max_occupancy=0.5) == 4.0


# -- Erlang A ---------------------------------------------------------------------------------


def erlang_a_summed(c: int, a: float, r: float) -> tuple[float, float]:
    """(P(wait), E[Q]) of M/M/c+M by a plain loop over the birth-death chain (r = theta/mu)."""
    weights = [math.exp(k * math.log(a) - math.lgamma(k + 1)) for k in range(c + 1)]
    queue = [weights[c]]
    j = 0
    while True:
        j += 1
        queue.append(queue[-1] * a / (c + j * r))
        if j > a / r and queue[-1] < 1e-18 * max(queue):
            break
    total = sum(weights[:c]) + sum(queue)
    return sum(queue) / total, sum(i * q for i, q in enumerate(queue)) / total


def simulate_mmc_m(
    c: int, a: float, service_s: float, patience_s: float, target_s: float, calls: int, seed: int
) -> dict[str, np.ndarray]:
    """FCFS M/M/c+M by arrival order: a call's offered wait depends only on earlier calls."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(service_s / a, calls))
    services = rng.exponential(service_s, calls)
    patience = rng.exponential(patience_s, calls)
    free = [0.0] * c  # when each server next frees up (a heap)
    waited = np.zeros(calls, dtype=bool)
    abandoned = np.zeros(calls, dtype=bool)
    wait = np.zeros(calls)
    within = np.zeros(calls, dtype=bool)
    for i in range(calls):
        t = float(arrivals[i])
        start = max(t, free[0])
        offered = start - t
        waited[i] = offered > 0
        if offered > patience[i]:
            abandoned[i] = True
            wait[i] = patience[i]
        else:
            wait[i] = offered
            within[i] = offered <= target_s
            heapq.heapreplace(free, start + float(services[i]))
    return {"waited": waited, "abandoned": abandoned, "wait": wait, "within": within}


@pytest.mark.parametrize(
    ("c", "a", "patience_s", "target_s"),
    [(3, 2.0, 1200.0, 300.0), (5, 6.0, 600.0, 120.0), (12, 10.0, 3600.0, 600.0)],
)
def test_erlang_a_matches_simulation(c: int, a: float, patience_s: float, target_s: float) -> None:
    service_s = 600.0
    calls, batches, warm = 300_000, 30, 5_000
    sim = simulate_mmc_m(c, a, service_s, patience_s, target_s, calls + warm, seed=20240512 + c)
    expected = erlang_a(c, a, service_s, patience_s, target_s)
    for name, series, value in [
        ("p_wait", sim["waited"], expected.p_wait),
        ("p_abandon", sim["abandoned"], expected.p_abandon),
        ("mean_wait_s", sim["wait"], expected.mean_wait_s),
        ("service_level", sim["within"], expected.service_level),
    ]:
        # Calls in a queue are correlated: batch means give an honest standard error.
        means = series[warm:].astype(float).reshape(batches, -1).mean(axis=1)
        error = means.std(ddof=1) / math.sqrt(batches)
        assert abs(means.mean() - value) <= 4.5 * error, (name, means.mean(), value, error)


@pytest.mark.parametrize(("c", "a", "r"), [(1, 0.5, 1.0), (3, 2.0, 0.5), (20, 25.0, 0.1)])
def test_erlang_a_matches_summed_birth_death_chain(c: int, a: float, r: float) -> None:
    service_s = 600.0
    result = erlang_a(c, a, service_s, service_s / r, 0.0)
    p_wait, queue = erlang_a_summed(c, a, r)
    assert result.p_wait == pytest.approx(p_wait, rel=1e-10)
    assert result.mean_wait_s == pytest.approx(queue / a * service_s, rel=1e-10)
    assert result.p_abandon == pytest.approx(r * queue / a, rel=1e-10)
    # target 0: only calls taken at once; a very long target: every call not abandoned
    assert result.service_level == pytest.approx(1 - p_wait, abs=1e-12)
    late = erlang_a(c, a, service_s, service_s / r, 1e6 * service_s)
    assert late.service_level == pytest.approx(1 - result.p_abandon, abs=1e-9)


@pytest.mark.parametrize(("c", "a"), [(3, 1.5), (10, 8.0), (500, 480.0)])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(c: int, a: float) -> None:
    service_s, target_s = 600.0, 120.0
    result = erlang_a(c, a, service_s, 1e9 * service_s, target_s)
    assert result.p_wait == pytest.approx(erlang_c(c, a), rel=1e-5)
    assert result.mean_wait_s == pytest.approx(mean_wait_s(c, a, service_s), rel=1e-5)
    assert result.service_level == pytest.approx(service_level(c, a, service_s, target_s), abs=1e-6)
    assert result.p_abandon < 1e-6
    exact = erlang_a(c, a, service_s, math.inf, target_s)
    assert exact.p_wait == erlang_c(c, a)
    assert exact.p_abandon == 0.0


def test_erlang_a_with_many_servers_and_overload() -> None:
    for c, a in [(500, 480.0), (1000, 1100.0), (800, 400.0)]:
        result = erlang_a(c, a, 3600.0, 1800.0, 60.0)
        values = (result.p_wait, result.p_abandon, result.service_level, result.occupancy)
        assert all(0.0 <= v <= 1.0 and math.isfinite(v) for v in values)
        assert math.isfinite(result.mean_wait_s) and result.mean_wait_s >= 0
    # 10% overloaded: about 1 - c / a of the calls must leave
    over = erlang_a(1000, 1100.0, 3600.0, 1800.0, 60.0)
    assert over.p_abandon == pytest.approx(1 - 1000 / 1100, abs=0.01)


def test_servers_needed_with_patience() -> None:
    load_rate, service_s, target_s = 3.0, 3600.0, 1200.0
    c = servers_needed(load_rate, service_s, target_s, 0.8, patience_s=600.0)
    level = service_level(c, 3.0, service_s, target_s, patience_s=600.0)
    below = service_level(c - 1, 3.0, service_s, target_s, patience_s=600.0)
    assert level >= 0.8 > below
    assert mean_wait_s(c, 3.0, service_s, patience_s=600.0) < mean_wait_s(c, 3.0, service_s)
    capped = servers_needed(
        load_rate, service_s, target_s, 0.8, patience_s=600.0, max_occupancy=0.5
    )
    assert capped >= c
    carried = 3.0 * (1 - erlang_a(capped, 3.0, service_s, 600.0).p_abandon)
    assert carried <= 0.5 * capped


def test_old_module_names_are_the_new_formulas() -> None:
    assert erlang.erlang_b is erlang_b
    assert erlang.erlang_c(5, 4.0) == erlang_c(5, 4.0)
    assert erlang.mmc_mean_wait(5, 4.0, 600.0) == mean_wait_s(5, 4.0, 600.0)
    with pytest.raises(ValueError):
        erlang.erlang_c(3, 3.0)
