"""The hypercube model against queueing theory, hand-solved chains and a plain reference solver.

The Erlang formulas and the reference chain here are written independently of
``dispatch.plan`` (and of ``dispatch.erlang``): plain recursions, Python sets and a dense
least-squares solve.
"""

from __future__ import annotations

import doctest
import importlib
import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.errors import InputError
from dispatch.plan import HypercubeResult, hypercube

# ---------------------------------------------------------------------------------------------
# Independent references


def erlang_b(servers: int, load: float) -> float:
    """Blocking of M/M/c/c by the recursion B(k) = a B(k-1) / (k + a B(k-1)), B(0) = 1."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability of waiting in M/M/c: c B / (c - a (1 - B))."""
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def truncated_poisson(servers: int, load: float) -> list[float]:
    """P(k busy) in M/M/c/c, k = 0..c."""
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    return [t / sum(terms) for t in terms]


class Reference(NamedTuple):
    probs: npt.NDArray[np.float64]  # by busy-set bit mask, queue lengths summed
    workloads: npt.NDArray[np.float64]
    f: npt.NDArray[np.float64]  # (N, J) fraction of all calls sending unit i to atom j


def reference(
    rates: list[float],
    lists: list[list[int]],
    mu: list[float],
    capacity: str = "zero",
) -> Reference:
    """Brute-force chain: states are (frozenset of busy units, calls waiting).

    The infinite queue is cut at ``depth`` calls, where the geometric tail left out is below
    1e-15. Queued calls are handed to the unit that completes; the head-of-queue call comes
    from atom j with probability lambda_j / lambda (Poisson splitting).
    """
    n, total = len(mu), sum(rates)
    everyone = frozenset(range(n))
    depth = 0
    if capacity == "infinite":
        r = total / (n * mu[0])
        depth = math.ceil(math.log(1e-15) / math.log(r)) if r > 0 else 0
    states: list[tuple[frozenset[int], int]] = []
    for size in range(1 << n):
        states.append((frozenset(i for i in range(n) if size >> i & 1), 0))
    states += [(everyone, k) for k in range(1, depth + 1)]
    index = {s: k for k, s in enumerate(states)}

    def first_free(busy: frozenset[int], order: list[int]) -> int | None:
        return next((u for u in order if u not in busy), None)

    q = np.zeros((len(states), len(states)))
    for (busy, waiting), k in index.items():
        for rate, order in zip(rates, lists, strict=True):
            unit = first_free(busy, order)
            if unit is not None:
                q[k, index[(busy | {unit}, 0)]] += rate
            elif capacity == "infinite" and waiting < depth:
                q[k, index[(busy, waiting + 1)]] += rate
        for unit in busy:
            after = (busy, waiting - 1) if waiting > 0 else (busy - {unit}, 0)
            q[k, index[after]] += mu[unit]
        q[k, k] = -q[k].sum()
    a = np.vstack([q.T, np.ones(len(states))])
    b = np.zeros(len(states) + 1)
    b[-1] = 1.0
    p = np.linalg.lstsq(a, b, rcond=None)[0]

    probs = np.zeros(1 << n)
    workloads = np.zeros(n)
    f = np.zeros((n, len(rates)))
    for (busy, waiting), k in index.items():
        probs[sum(1 << i for i in busy)] += p[k]
        for unit in busy:
            workloads[unit] += p[k]
            if waiting > 0:  # unit completes and takes the head-of-queue call
                f[unit] += mu[unit] * p[k] * np.array(rates) / total**2
        if waiting == 0:
            for j, (rate, order) in enumerate(zip(rates, lists, strict=True)):
                unit = first_free(busy, order)
                if unit is not None:
                    f[unit, j] += p[k] * rate / total
    return Reference(probs, workloads, f)


# ---------------------------------------------------------------------------------------------
# Single unit: M/M/1/1 and M/M/1


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 2.0), (1.0, 1.0), (3.0, 1.5), (10.0, 0.25)])
def test_one_unit_zero_line_is_mm11(lam: float, mu: float) -> None:
    rho = lam / mu
    r = hypercube([lam], [[0]], mu)
    assert r.loss_probability == pytest.approx(rho / (1 + rho), rel=1e-12)
    assert r.workloads[0] == pytest.approx(rho / (1 + rho), rel=1e-12)
    assert r.state_probabilities.tolist() == pytest.approx([1 / (1 + rho), rho / (1 + rho)])
    assert r.dispatch_fractions[0, 0] == pytest.approx(1 / (1 + rho), rel=1e-12)
    assert r.wait_probability == 0.0 and r.mean_wait_s == 0.0


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 2.0), (1.0, 1.25), (2.7, 3.0)])
def test_one_unit_infinite_line_is_mm1(lam: float, mu: float) -> None:
    rho = lam / mu
    r = hypercube([lam], [[0]], mu, capacity="infinite")
    assert r.wait_probability == pytest.approx(rho, rel=1e-12)
    assert r.workloads[0] == pytest.approx(rho, rel=1e-12)
    assert r.mean_queue_length == pytest.approx(rho**2 / (1 - rho), rel=1e-12)
    assert r.mean_wait_s == pytest.approx(3600 * rho / (mu - lam), rel=1e-12)
    assert r.dispatch_fractions[0, 0] == pytest.approx(1.0, rel=1e-12)
    assert r.loss_probability == 0.0


# ---------------------------------------------------------------------------------------------
# Symmetric and exchangeable cases: Erlang B and C


def cyclic(n: int) -> list[list[int]]:
    return [[(j + k) % n for k in range(n)] for j in range(n)]


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("load_per_unit", [0.2, 0.6, 1.5])
def test_cyclic_districts_zero_line_give_erlang_b(n: int, load_per_unit: float) -> None:
    mu = 1.6
    a = n * load_per_unit
    r = hypercube([a * mu / n] * n, cyclic(n), mu)
    b = erlang_b(n, a)
    assert r.loss_probability == pytest.approx(b, rel=1e-10)
    assert r.probability(range(n)) == pytest.approx(b, rel=1e-10)
    assert r.busy_count_probabilities == pytest.approx(truncated_poisson(n, a), rel=1e-10)
    # Every unit and atom looks alike: equal workloads and equal first-preference shares.
    assert r.workloads == pytest.approx(np.full(n, a * (1 - b) / n), rel=1e-10)
    assert r.first_preference_share == pytest.approx(
        np.full(n, r.first_preference_share[0]), rel=1e-10
    )
    assert r.first_preference_share[0] == pytest.approx(1 - r.workloads[0], rel=1e-10)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("utilisation", [0.2, 0.6, 0.95])
def test_cyclic_districts_infinite_line_give_erlang_c(n: int, utilisation: float) -> None:
    mu = 0.8
    a = n * utilisation
    r = hypercube([a * mu / n] * n, cyclic(n), mu, capacity="infinite")
    c = erlang_c(n, a)
    assert r.wait_probability == pytest.approx(c, rel=1e-10)
    assert r.blocking_by_atom == pytest.approx(np.full(n, c), rel=1e-10)
    assert r.workloads == pytest.approx(np.full(n, utilisation), rel=1e-10)
    assert r.mean_queue_length == pytest.approx(c * utilisation / (1 - utilisation), rel=1e-10)
    assert r.mean_wait_s == pytest.approx(3600 * c / (n * mu - a * mu), rel=1e-10)


def full_lists(max_units: int) -> st.SearchStrategy[tuple[int, list[list[int]]]]:
    """A number of units and 1..6 preference lists, each ranking all of them."""
    return st.integers(1, max_units).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.permutations(list(range(n))), min_size=1, max_size=6)
        )
    )


@settings(max_examples=60, deadline=None)
@given(full_lists(5), st.data())
def test_exchangeable_units_give_erlang_b_and_c_for_any_lists(
    case: tuple[int, list[list[int]]], data: st.DataObject
) -> None:
    """With equal service rates and full lists, the number busy is M/M/N whatever the lists."""
    n, lists = case
    rates = data.draw(
        st.lists(st.floats(0.01, 3.0), min_size=len(lists), max_size=len(lists)), label="rates"
    )
    mu = data.draw(st.floats(0.5, 3.0), label="mu")
    a = sum(rates) / mu
    zero = hypercube(rates, lists, mu, units=n)
    assert zero.loss_probability == pytest.approx(erlang_b(n, a), rel=1e-9)
    assert zero.busy_count_probabilities == pytest.approx(truncated_poisson(n, a), rel=1e-9)
    if a < n:
        inf = hypercube(rates, lists, mu, capacity="infinite", units=n)
        assert inf.wait_probability == pytest.approx(erlang_c(n, a), rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Two units, two atoms, solved by hand


def test_two_units_zero_line_by_hand() -> None:
    """Atom A (1 call/h) prefers unit 0 then 1; atom B (2 calls/h) prefers 1 then 0; mu = 1/h.

    States: p0 (both free), pA (only unit 0 busy), pB (only unit 1 busy), p2 (both busy).
    Balance, rate out = rate in, with lambda = 3:

        3 p0       = 1 pA + 1 pB          (all free)
        (3 + 1) pA = 1 p0 + 1 p2          (A's calls take unit 0 from all free)
        (3 + 1) pB = 2 p0 + 1 p2          (B's calls take unit 1 from all free)
        2 p2       = 3 (pA + pB)          (any call fills the last free unit)

    The number busy is M/M/2/2 with a = 3: p0 : (pA + pB) : p2 = 1 : 3 : 9/2, so p0 = 2/17,
    pA + pB = 6/17, p2 = 9/17; then pA = (2/17 + 9/17) / 4 = 11/68 and pB = 13/68.
    Workloads: unit 0 pA + p2 = 47/68, unit 1 pB + p2 = 49/68; loss p2 = 9/17.
    f(0, A) = (1/3)(p0 + pB) = 7/68, f(1, A) = (1/3) pA = 11/204,
    f(1, B) = (2/3)(p0 + pA) = 19/102, f(0, B) = (2/3) pB = 13/102.
    """
    r = hypercube([1.0, 2.0], [[0, 1], [1, 0]], 1.0)
    p0, pA, pB, p2 = Fraction(2, 17), Fraction(11, 68), Fraction(13, 68), Fraction(9, 17)
    assert p0 + pA + pB + p2 == 1
    # Bit i set = unit i busy: index 1 is "only unit 0 busy", index 2 "only unit 1 busy".
    assert r.state_probabilities.tolist() == pytest.approx([p0, pA, pB, p2], rel=1e-12)
    assert r.workloads.tolist() == pytest.approx([Fraction(47, 68), Fraction(49, 68)], rel=1e-12)
    assert r.loss_probability == pytest.approx(float(p2), rel=1e-12)
    expected_f = [[Fraction(7, 68), Fraction(13, 102)], [Fraction(11, 204), Fraction(19, 102)]]
    assert r.dispatch_fractions.tolist() == [pytest.approx(row, rel=1e-12) for row in expected_f]
    assert r.first_preference_share.tolist() == pytest.approx([p0 + pB, p0 + pA], rel=1e-12)
    assert r.rank_shares[:, 1].tolist() == pytest.approx([pA, pB], rel=1e-12)
    assert r.blocking_by_atom.tolist() == pytest.approx([p2, p2], rel=1e-12)
    # Dispatches not to the first preference: (1 * pA + 2 * pB) / (3 * (1 - p2)).
    assert r.interdistrict_fraction == pytest.approx(
        float((pA + 2 * pB) / (3 * (1 - p2))), rel=1e-12
    )


def test_two_units_infinite_line_by_hand() -> None:
    """The same districts with mu = 2/h and a queue; a = 3/2, r = lambda / (2 mu) = 3/4.

    With q_k = P(both busy, k waiting): 3 q_k = 4 q_(k+1), so q_k = q_0 (3/4)^k and
    P(both busy) = 4 q_0. The other balances are the zero-line ones with p2 replaced by q_0:

        3 p0       = 2 pA + 2 pB
        (3 + 2) pA = 1 p0 + 2 q0
        (3 + 2) pB = 2 p0 + 2 q0
        4 q0       = 3 (pA + pB)          (the 3 q0 into and 4 q1 out of q0 cancel)

    Unnormalised p0 = 1, pA + pB = 3/2, q0 = 9/8, P(both busy) = 9/2; total 7. So p0 = 1/7,
    P(both busy) = 9/14 (Erlang C for 2 servers at 1.5 erlangs), pA = (1/7 + 9/28) / 5 =
    13/140, pB = (2/7 + 9/28) / 5 = 17/140; workloads 103/140 and 107/140.
    A queued call goes to either unit with probability 1/2, so
    f(0, A) = (1/3)(p0 + pB + 9/28) = 1/3 * (20 + 17 + 45)/140 = 41/210.
    """
    r = hypercube([1.0, 2.0], [[0, 1], [1, 0]], 2.0, capacity="infinite")
    p0, pA, pB, full = Fraction(1, 7), Fraction(13, 140), Fraction(17, 140), Fraction(9, 14)
    assert p0 + pA + pB + full == 1
    assert r.state_probabilities.tolist() == pytest.approx([p0, pA, pB, full], rel=1e-12)
    assert r.wait_probability == pytest.approx(float(full), rel=1e-12)
    assert r.workloads.tolist() == pytest.approx(
        [Fraction(103, 140), Fraction(107, 140)], rel=1e-12
    )
    assert r.dispatch_fractions[0, 0] == pytest.approx(float(Fraction(41, 210)), rel=1e-12)
    # Mean queue: sum_k k q_k = q0 r / (1 - r)^2 with q0 = full / 4.
    assert r.mean_queue_length == pytest.approx(float(full / 4 * 3 / 4 * 16), rel=1e-12)
    assert r.mean_wait_s == pytest.approx(3600 * float(full / 4 * 12) / 3, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# General cases: against the reference chain, and the identities every solution satisfies


@st.composite
def loss_cases(draw: st.DrawFn) -> tuple[list[float], list[list[int]], list[float]]:
    n = draw(st.integers(1, 4), label="units")
    j = draw(st.integers(1, 5), label="atoms")
    lists = [draw(st.permutations(list(range(n))))[: draw(st.integers(0, n))] for _ in range(j)]
    rates = draw(st.lists(st.floats(0.0, 4.0), min_size=j, max_size=j))
    if sum(rates) == 0:
        rates[0] = 1.0
    mu = draw(st.lists(st.floats(0.2, 3.0), min_size=n, max_size=n))
    return rates, lists, mu


def check_identities(r: HypercubeResult) -> None:
    lam = float(r.arrival_rates.sum())
    p = r.state_probabilities
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert r.dispatch_fractions.sum() == pytest.approx(1.0 - r.loss_probability, abs=1e-10)
    # Flow balance: dispatches per hour to unit i = completions per hour = mu_i rho_i.
    assert lam * r.dispatch_fractions.sum(axis=1) == pytest.approx(
        r.service_rates * r.workloads, abs=1e-10
    )
    assert r.dispatch_rates == pytest.approx(r.service_rates * r.workloads, abs=1e-10)
    carried = lam * (1.0 - r.loss_probability)
    assert float(r.service_rates @ r.workloads) == pytest.approx(carried, rel=1e-10)
    # Each atom's calls are served by some rank or blocked.
    assert r.rank_shares.sum(axis=1) + (
        r.blocking_by_atom if r.capacity == "zero" else 0.0
    ) == pytest.approx(np.ones(r.atoms), abs=1e-10)
    assert np.all((r.workloads >= 0) & (r.workloads <= 1 + 1e-12))


@settings(max_examples=80, deadline=None)
@given(loss_cases())
def test_zero_line_matches_reference_chain(
    case: tuple[list[float], list[list[int]], list[float]],
) -> None:
    rates, lists, mu = case
    r = hypercube(rates, lists, mu)
    ref = reference(rates, lists, mu)
    assert r.state_probabilities == pytest.approx(ref.probs, abs=1e-9)
    assert r.workloads == pytest.approx(ref.workloads, abs=1e-9)
    assert r.dispatch_fractions == pytest.approx(ref.f, abs=1e-9)
    check_identities(r)
    lost = sum(
        rate * sum(p for s, p in enumerate(ref.probs) if all(s >> u & 1 for u in order))
        for rate, order in zip(rates, lists, strict=True)
    )
    assert r.loss_probability == pytest.approx(lost / sum(rates), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(full_lists(4), st.data())
def test_infinite_line_matches_reference_chain_with_explicit_queue(
    case: tuple[int, list[list[int]]], data: st.DataObject
) -> None:
    n, lists = case
    mu = data.draw(st.floats(0.5, 2.0), label="mu")
    shares = data.draw(
        st.lists(st.floats(0.05, 1.0), min_size=len(lists), max_size=len(lists)), label="shares"
    )
    utilisation = data.draw(st.floats(0.05, 0.9), label="utilisation")
    rates = [s / sum(shares) * utilisation * n * mu for s in shares]
    r = hypercube(rates, lists, mu, capacity="infinite", units=n)
    ref = reference(rates, lists, [mu] * n, capacity="infinite")
    assert r.state_probabilities == pytest.approx(ref.probs, abs=1e-9)
    assert r.workloads == pytest.approx(ref.workloads, abs=1e-9)
    assert r.dispatch_fractions == pytest.approx(ref.f, abs=1e-9)
    check_identities(r)
    assert r.dispatch_fractions.sum() == pytest.approx(1.0, abs=1e-10)
    assert r.workloads.sum() == pytest.approx(sum(rates) / mu, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(loss_cases(), st.data())
def test_a_unit_added_last_never_increases_loss(
    case: tuple[list[float], list[list[int]], list[float]], data: st.DataObject
) -> None:
    """A unit appended at the end of some lists only takes calls that were lost before."""
    rates, lists, mu = case
    n = len(mu)
    joins = data.draw(st.lists(st.booleans(), min_size=len(lists), max_size=len(lists)))
    new_mu = data.draw(st.floats(0.2, 3.0), label="new_mu")
    before = hypercube(rates, lists, mu)
    longer = [[*order, n] if join else order for order, join in zip(lists, joins, strict=True)]
    after = hypercube(rates, longer, [*mu, new_mu])
    assert after.loss_probability <= before.loss_probability + 1e-12
    assert np.all(after.blocking_by_atom <= before.blocking_by_atom + 1e-12)
    # The existing units see exactly the same calls.
    assert after.workloads[:n] == pytest.approx(before.workloads, abs=1e-10)


@settings(max_examples=40, deadline=None)
@given(full_lists(5), st.data())
def test_a_unit_added_anywhere_lowers_loss_and_wait_with_equal_rates(
    case: tuple[int, list[list[int]]], data: st.DataObject
) -> None:
    n, lists = case
    rates = data.draw(st.lists(st.floats(0.01, 2.0), min_size=len(lists), max_size=len(lists)))
    slots = data.draw(st.lists(st.integers(0, n), min_size=len(lists), max_size=len(lists)))
    longer = [[*order[:k], n, *order[k:]] for order, k in zip(lists, slots, strict=True)]
    before = hypercube(rates, lists, 1.0, units=n)
    after = hypercube(rates, longer, 1.0, units=n + 1)
    assert after.loss_probability < before.loss_probability
    if sum(rates) < n:
        wait_before = hypercube(rates, lists, 1.0, capacity="infinite", units=n)
        wait_after = hypercube(rates, longer, 1.0, capacity="infinite", units=n + 1)
        assert wait_after.wait_probability < wait_before.wait_probability


# ---------------------------------------------------------------------------------------------
# Smaller behaviours


def test_atoms_with_the_same_list_share_their_figures() -> None:
    lists = [[0, 1, 2], [1, 2, 0], [0, 1, 2], [2, 0]]
    split = hypercube([0.4, 0.9, 0.6, 0.5], lists, [1.0, 1.2, 0.8])
    merged = hypercube([1.0, 0.9, 0.5], [lists[0], lists[1], lists[3]], [1.0, 1.2, 0.8])
    assert split.state_probabilities == pytest.approx(merged.state_probabilities, abs=1e-14)
    assert split.rank_shares[0] == pytest.approx(split.rank_shares[2], abs=1e-14)
    assert split.dispatch_fractions[:, [0, 2]].sum(axis=1) == pytest.approx(
        merged.dispatch_fractions[:, 0], abs=1e-14
    )


def test_an_atom_with_no_units_is_always_lost_and_an_unlisted_unit_idles() -> None:
    r = hypercube([1.0, 0.5], [[0], []], 2.0, units=2)
    assert r.blocking_by_atom[1] == 1.0
    assert r.rank_shares[1].tolist() == [0.0, 0.0]
    assert r.workloads[1] == 0.0
    assert r.loss_probability == pytest.approx((1.0 * (1 / 3) + 0.5) / 1.5, rel=1e-12)


def test_result_is_read_only_and_reports_its_inputs() -> None:
    r = hypercube([1.0, 2.0], [[0, 1], [1, 0]], 1.5)
    assert r.units == 2 and r.atoms == 2
    assert r.preferences == ((0, 1), (1, 0))
    assert r.service_rates.tolist() == [1.5, 1.5]
    with pytest.raises(ValueError, match="read-only"):
        r.workloads[0] = 0.0
    assert r.probability([1, 0]) == r.state_probabilities[3]
    with pytest.raises(InputError):
        r.probability([2])


def test_twelve_units_solve() -> None:
    rng = np.random.default_rng(7)
    lists = [[int(u) for u in rng.permutation(12)] for _ in range(30)]
    r = hypercube(rng.uniform(0.1, 1.0, 30), lists, 2.5)
    check_identities(r)
    assert r.loss_probability == pytest.approx(
        erlang_b(12, float(r.arrival_rates.sum()) / 2.5), rel=1e-9
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"arrival_rates": [1.0, -0.5]}, "arrival_rates", "arrival_rates[1]"),
        ({"arrival_rates": [1.0, float("nan")]}, "arrival_rates", "arrival_rates[1]"),
        ({"arrival_rates": [0.0, 0.0]}, "arrival_rates", "all zero"),
        ({"arrival_rates": "fast"}, "arrival_rates", "numbers"),
        ({"arrival_rates": [1.0]}, "preferences", "2 lists but arrival_rates has 1"),
        ({"preferences": [[0, 1], [1, 3]]}, "preferences", "preferences[1] names unit 3"),
        ({"preferences": [[0, 0], [1, 0]]}, "preferences", "unit 0 twice"),
        ({"preferences": [[0, -1], [1, 0]]}, "preferences", "preferences[0] names -1"),
        ({"preferences": [[0, 1.0], [1, 0]]}, "preferences", "preferences[0] names 1.0"),
        ({"preferences": [[0, 2], [2, 0]], "service_rate": 1.0}, "preferences", "unit 1"),
        ({"service_rate": [1.0, 0.0]}, "service_rate", "unit 1"),
        ({"service_rate": [1.0, 2.0], "units": 3}, "service_rate", "units is 3"),
        ({"capacity": "finite"}, "capacity", "'finite'"),
        ({"capacity": "infinite", "service_rate": [1.0, 2.0]}, "service_rate", "one service"),
        (
            {"capacity": "infinite", "service_rate": 1.5},
            "arrival_rates",
            "load 2 erlangs is not below the 2",
        ),
        (
            {"capacity": "infinite", "preferences": [[0, 1], [1]], "service_rate": 3.0},
            "preferences",
            "preferences[1] ranks 1 of 2",
        ),
        ({"units": 20, "service_rate": 1.0}, "units", "20 units"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], field: str, words: str) -> None:
    args: dict[str, object] = {
        "arrival_rates": [1.0, 2.0],
        "preferences": [[0, 1], [1, 0]],
        "service_rate": [1.0, 2.0],
    }
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        hypercube(**args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert words in str(info.value)


def test_docstring_examples_run() -> None:
    module = importlib.import_module("dispatch.plan.hypercube")
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0
    assert outcome.failed == 0
