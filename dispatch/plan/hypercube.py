"""Larson's hypercube queueing model of fixed-preference dispatch, solved exactly.

``N`` distinguishable units serve ``J`` atoms (demand zones). Calls from atom ``j`` arrive as a
Poisson stream of ``arrival_rates[j]`` calls per hour and go to the first *free* unit on the
atom's preference list; unit ``i`` is busy for an exponential time with rate
``service_rates[i]`` per hour (mean ``3600 / service_rates[i]`` seconds), which covers travel,
time on scene and any return. The state is the set of busy units, a vertex of the
``N``-dimensional unit cube, encoded as a bit mask: bit ``i`` of state ``s`` is set when unit
``i`` is busy, so ``s = 0`` is "all free" and ``s = 2**N - 1`` "all busy".

Two line capacities (R. C. Larson, "A hypercube queuing model for facility location and
redistricting in urban emergency services", Computers & OR 1(1), 1974; R. C. Larson and
A. R. Odoni, *Urban Operations Research*, 1981, section 5.4):

- ``"zero"``: a call that finds every unit on its list busy is lost (it goes to the fallback
  response). Lists may name only some units; service rates may differ by unit.
- ``"infinite"``: such a call waits in one first-come-first-served queue and takes the next
  unit to free up. This needs every list to rank all units, one service rate for all, and a
  total load below ``N`` erlangs. Beyond the all-busy vertex the queue length is then a
  birth-death chain (up at the total arrival rate, down at ``N * mu``), so the all-busy
  probabilities with ``k`` calls waiting form an exact geometric tail and the ``2**N`` balance
  equations of the busy sets are the zero-line ones (see ``hypercube``).

The ``2**N``-state chain is built from the preference lists and solved with a sparse direct
solve; nothing is truncated or iterated.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError

FloatArray = npt.NDArray[np.float64]
Capacity = Literal["zero", "infinite"]

#: Largest number of units accepted. The direct solve takes about 0.5 s for 12 units (4,096
#: states) and 4 s for 13 on a small machine; its fill-in grows about tenfold per unit beyond.
MAX_UNITS = 13

_CAPACITIES = ("zero", "infinite")


@dataclass(frozen=True, eq=False)
class HypercubeResult:
    """Steady state of a hypercube model and the figures a planner reads from it.

    Every array is read-only. Rates are per hour; probabilities and fractions are unitless.
    Per-call figures are time-stationary probabilities seen by arriving calls (Poisson
    arrivals see time averages).

    Attributes
    ----------
    capacity
        ``"zero"`` (loss system) or ``"infinite"`` (one FCFS queue).
    arrival_rates
        ``(J,)`` calls per hour from each atom, as given.
    service_rates
        ``(N,)`` service completions per hour of each unit while busy.
    preferences
        Each atom's preference list, as tuples of unit indices.
    state_probabilities
        ``(2**N,)`` probability that exactly the units in bit mask ``s`` are busy (bit ``i``
        set: unit ``i`` busy). With infinite line capacity the all-busy entry includes every
        queue length.
    workloads
        ``(N,)`` fraction of time each unit is busy.
    dispatch_fractions
        ``(N, J)`` fraction of all calls that send unit ``i`` to atom ``j`` (Larson's
        ``f_ij``). Sums to ``1 - loss_probability``. A queued call takes each unit with
        probability ``1 / N`` (equal service rates, memoryless service).
    dispatch_rates
        ``(N,)`` dispatches per hour to each unit; equals ``workloads * service_rates``.
    rank_shares
        ``(J, N)`` fraction of atom ``j``'s calls served by the ``k``-th unit on its list
        (column ``k``; zero beyond the list's length).
    blocking_by_atom
        ``(J,)`` probability that a call from atom ``j`` finds every unit on its list busy:
        it is lost (zero line capacity) or waits (infinite line capacity).
    loss_probability
        Fraction of all calls lost; ``0.0`` with infinite line capacity.
    wait_probability
        Fraction of all calls that wait (all units busy); ``0.0`` with zero line capacity.
    mean_queue_length
        Mean number of calls waiting; ``0.0`` with zero line capacity.
    mean_wait_s
        Mean wait in queue per call in seconds, over all calls; ``0.0`` with zero line
        capacity.
    interdistrict_fraction
        Fraction of dispatches that send a unit other than the atom's first preference
        (Larson's "interresponse area" dispatches); ``nan`` when no call is ever dispatched.
    """

    capacity: str
    arrival_rates: FloatArray
    service_rates: FloatArray
    preferences: tuple[tuple[int, ...], ...]
    state_probabilities: FloatArray
    workloads: FloatArray
    dispatch_fractions: FloatArray
    dispatch_rates: FloatArray
    rank_shares: FloatArray
    blocking_by_atom: FloatArray
    loss_probability: float
    wait_probability: float
    mean_queue_length: float
    mean_wait_s: float
    interdistrict_fraction: float

    @property
    def units(self) -> int:
        """Number of units ``N``."""
        return len(self.service_rates)

    @property
    def atoms(self) -> int:
        """Number of atoms ``J``."""
        return len(self.arrival_rates)

    @property
    def first_preference_share(self) -> FloatArray:
        """``(J,)`` fraction of atom ``j``'s calls served by the first unit on its list."""
        return self.rank_shares[:, 0]

    @property
    def busy_count_probabilities(self) -> FloatArray:
        """``(N + 1,)`` probability that exactly ``k`` units are busy, ``k = 0..N``."""
        counts = _popcount(np.arange(len(self.state_probabilities), dtype=np.int64))
        return _sums(counts, self.state_probabilities, self.units + 1)

    def probability(self, busy: Iterable[int]) -> float:
        """Probability that exactly the units in ``busy`` are busy and all others free.

        >>> from dispatch.plan import hypercube
        >>> r = hypercube([1.0], [[0]], service_rate=1.0)
        >>> r.probability([0]), r.probability([])
        (0.5, 0.5)
        """
        mask = 0
        for unit in busy:
            if not 0 <= int(unit) < self.units:
                raise InputError(f"unit {unit!r} is not in 0..{self.units - 1}", field="busy")
            mask |= 1 << int(unit)
        return float(self.state_probabilities[mask])


def hypercube(
    arrival_rates: npt.ArrayLike,
    preferences: Sequence[Sequence[int]],
    service_rate: float | npt.ArrayLike,
    *,
    capacity: Capacity = "zero",
    units: int | None = None,
) -> HypercubeResult:
    """Solve the hypercube queueing model exactly.

    Parameters
    ----------
    arrival_rates
        ``(J,)`` calls per hour from each atom; finite, non-negative, not all zero.
    preferences
        One list per atom: unit indices ``0..N-1`` in dispatch order, each at most once. A call
        goes to the first free unit on its list. With ``capacity="zero"`` a list may name only
        some units (even none: those calls are always lost); with ``"infinite"`` every list
        must rank all units.
    service_rate
        Service completions per hour of a busy unit (``3600 / mean service seconds``): one
        number for all units, or ``(N,)`` per unit (``capacity="zero"`` only).
    capacity
        ``"zero"``: calls that find their units busy are lost. ``"infinite"``: they wait in
        one FCFS queue; needs total load below ``N`` erlangs.
    units
        Number of units ``N``. Defaults to ``len(service_rate)`` for per-unit rates, else to
        one more than the largest unit index named, in which case every index below it must
        appear on some list.

    Returns
    -------
    HypercubeResult
        State probabilities, workloads, dispatch fractions ``f_ij`` and per-atom figures.

    Raises
    ------
    InputError
        For malformed input; its ``field`` names the argument.

    Notes
    -----
    From busy set ``B`` the chain moves up to ``B + {i}`` at the total rate of the atoms whose
    first free unit is ``i``, and down to ``B - {i}`` at ``service_rates[i]`` for each busy
    ``i``. Every state drains to "all free", so the steady state is unique; it is found by a
    sparse direct solve of the balance equations with one of them replaced by normalisation.
    Probabilities are exact up to round-off, about 1e-15 absolute: one far smaller than that
    (a loss of 1e-21 at a tiny load) reads as 0.

    With infinite line capacity let ``P(full, k)`` be the probability of all units busy with
    ``k`` calls waiting and ``r = lambda / (N mu)``. Cutting between ``k`` and ``k + 1`` gives
    ``P(full, k + 1) = r P(full, k)``, and the balance of ``(full, 0)`` reduces to the
    zero-line balance of the all-busy vertex; the other vertices only see ``(full, 0)``. So the
    zero-line solution with the all-busy entry scaled by ``1 / (1 - r)`` (the tail's sum),
    renormalised, is the exact answer: M/M/N's Erlang C relation to Erlang B, vertex by
    vertex.

    Examples
    --------
    Two co-responder teams, each first-due in its own district; 45 minutes per call, no queue:

    >>> from dispatch.plan import hypercube
    >>> r = hypercube([1.0, 0.6], [[0, 1], [1, 0]], service_rate=60 / 45)
    >>> print(f"{r.loss_probability:.4f}")
    0.2466
    >>> [round(float(w), 4) for w in r.workloads]
    [0.4754, 0.4287]
    >>> [round(float(s), 4) for s in r.first_preference_share]
    [0.5246, 0.5713]

    The same with calls waiting for the next free team:

    >>> q = hypercube([1.0, 0.6], [[0, 1], [1, 0]], 60 / 45, capacity="infinite")
    >>> print(f"{q.wait_probability:.4f}, {q.mean_wait_s / 60:.1f} min")
    0.4500, 25.3 min
    """
    if capacity not in _CAPACITIES:
        raise InputError(
            f"capacity {capacity!r} is not one of {', '.join(map(repr, _CAPACITIES))}",
            field="capacity",
        )
    lam = _arrival_rates(arrival_rates)
    lists = _preference_lists(preferences, len(lam))
    mu = _service_rates(service_rate, lists, units)
    n = len(mu)
    total = float(lam.sum())
    if capacity == "infinite":
        _check_infinite(lam, lists, mu)

    # Atoms with the same list behave as one atom with the summed rate.
    distinct: dict[tuple[int, ...], int] = {}
    atom_list = np.array([distinct.setdefault(order, len(distinct)) for order in lists])
    list_rates = _sums(atom_list, lam, len(distinct))
    first_free, rank = _first_free(list(distinct), n)

    p = _solve(first_free, list_rates, mu)
    full = (1 << n) - 1
    waiting = queue_length = wait_s = 0.0
    if capacity == "infinite":
        r = total / (n * float(mu[0]))
        p[full] /= 1.0 - r  # the geometric tail of queue lengths beyond the all-busy vertex
        p /= p.sum()
        waiting = float(p[full])
        queue_length = waiting * r / (1.0 - r)
        wait_s = 3600.0 * queue_length / total  # Little's law, hours to seconds

    states = np.arange(1 << n, dtype=np.int64)
    busy = _busy_matrix(states, n)
    workloads = busy.T.astype(np.float64) @ p

    n_lists = len(distinct)
    to_unit = np.zeros((n_lists, n))  # P(a call with list l is sent to unit i on arrival)
    by_rank = np.zeros((n_lists, n))  # P(... to the k-th unit on its list)
    blocked = np.zeros(n_lists)
    for l_index in range(n_lists):
        sent = first_free[l_index] >= 0
        to_unit[l_index] = _sums(first_free[l_index][sent], p[sent], n)
        by_rank[l_index] = _sums(rank[l_index][sent], p[sent], n)
        blocked[l_index] = p[~sent].sum()
    if capacity == "infinite":
        # A queued call is taken by whichever unit frees first: each with probability 1/N.
        to_unit += waiting / n
        by_rank += waiting / n

    shares = lam / total
    dispatch_fractions = (to_unit[atom_list] * shares[:, None]).T
    rank_shares = by_rank[atom_list]
    blocking = blocked[atom_list]
    dispatched = float(dispatch_fractions.sum())
    first = float(shares @ rank_shares[:, 0])
    interdistrict = 1.0 - first / dispatched if dispatched > 0 else math.nan
    loss = float(shares @ blocking) if capacity == "zero" else 0.0

    return HypercubeResult(
        capacity=capacity,
        arrival_rates=_frozen(lam),
        service_rates=_frozen(mu),
        preferences=lists,
        state_probabilities=_frozen(p),
        workloads=_frozen(workloads),
        dispatch_fractions=_frozen(dispatch_fractions),
        dispatch_rates=_frozen(total * dispatch_fractions.sum(axis=1)),
        rank_shares=_frozen(rank_shares),
        blocking_by_atom=_frozen(blocking),
        loss_probability=loss,
        wait_probability=waiting,
        mean_queue_length=queue_length,
        mean_wait_s=wait_s,
        interdistrict_fraction=interdistrict,
    )


def _arrival_rates(arrival_rates: npt.ArrayLike) -> FloatArray:
    try:
        lam = np.array(arrival_rates, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            "arrival_rates must be a list of numbers (calls per hour per atom)",
            field="arrival_rates",
        ) from None
    if lam.ndim != 1 or len(lam) == 0:
        raise InputError(
            f"arrival_rates must be a non-empty list, one rate per atom; got shape {lam.shape}",
            field="arrival_rates",
        )
    bad = np.flatnonzero(~np.isfinite(lam) | (lam < 0))
    if len(bad):
        j = int(bad[0])
        raise InputError(
            f"arrival_rates[{j}] is {lam[j]!r}; rates must be finite and >= 0 (calls per hour)",
            field="arrival_rates",
        )
    if lam.sum() <= 0:
        raise InputError(
            "arrival_rates are all zero; there is nothing to dispatch", field="arrival_rates"
        )
    return lam


def _preference_lists(
    preferences: Sequence[Sequence[int]], n_atoms: int
) -> tuple[tuple[int, ...], ...]:
    if isinstance(preferences, str | bytes) or not isinstance(preferences, Sequence | np.ndarray):
        raise InputError(
            "preferences must be a list of unit-index lists, one per atom", field="preferences"
        )
    if len(preferences) != n_atoms:
        raise InputError(
            f"preferences has {len(preferences)} lists but arrival_rates has {n_atoms} atoms",
            field="preferences",
        )
    lists = []
    for j, order in enumerate(preferences):
        if isinstance(order, str | bytes) or not isinstance(order, Sequence | np.ndarray):
            raise InputError(
                f"preferences[{j}] is {order!r}, not a list of unit indices", field="preferences"
            )
        units: list[int] = []
        for unit in order:
            if isinstance(unit, bool) or not isinstance(unit, int | np.integer) or unit < 0:
                raise InputError(
                    f"preferences[{j}] names {unit!r}; units are indices 0..N-1",
                    field="preferences",
                )
            if int(unit) in units:
                raise InputError(
                    f"preferences[{j}] names unit {int(unit)} twice", field="preferences"
                )
            units.append(int(unit))
        lists.append(tuple(units))
    return tuple(lists)


def _service_rates(
    service_rate: float | npt.ArrayLike,
    lists: tuple[tuple[int, ...], ...],
    units: int | None,
) -> FloatArray:
    try:
        mu = np.array(service_rate, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            "service_rate must be a number or a list of numbers (per hour)", field="service_rate"
        ) from None
    if mu.ndim > 1:
        raise InputError(
            f"service_rate must be a number or a list; got shape {mu.shape}", field="service_rate"
        )
    named = {unit for order in lists for unit in order}
    if units is not None:
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise InputError(f"units must be a positive integer, got {units!r}", field="units")
        n = units
        if mu.ndim == 1 and len(mu) != n:
            raise InputError(
                f"service_rate has {len(mu)} rates but units is {n}", field="service_rate"
            )
    elif mu.ndim == 1:
        n = len(mu)
    else:
        n = max(named, default=-1) + 1
        missing = sorted(set(range(n)) - named)
        if missing:
            raise InputError(
                f"unit {missing[0]} is on no preference list; pass units={n} if it exists "
                "but is never dispatched",
                field="preferences",
            )
    if n < 1:
        raise InputError("no units: every preference list is empty", field="preferences")
    if n > MAX_UNITS:
        raise InputError(
            f"{n} units is more than the {MAX_UNITS} this exact solver takes", field="units"
        )
    unknown = sorted(unit for unit in named if unit >= n)
    if unknown:
        j = next(j for j, order in enumerate(lists) if unknown[0] in order)
        raise InputError(
            f"preferences[{j}] names unit {unknown[0]}, but units are 0..{n - 1}",
            field="preferences",
        )
    mu = np.broadcast_to(mu, (n,)).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(mu) | (mu <= 0))
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"service rate of unit {i} is {mu[i]!r}; it must be finite and > 0",
            field="service_rate",
        )
    return mu


def _check_infinite(lam: FloatArray, lists: tuple[tuple[int, ...], ...], mu: FloatArray) -> None:
    n = len(mu)
    for j, order in enumerate(lists):
        if len(order) != n:
            raise InputError(
                f"preferences[{j}] ranks {len(order)} of {n} units; with capacity='infinite' "
                "every list must rank all units (a queued call takes whichever unit frees first)",
                field="preferences",
            )
    if np.any(mu != mu[0]):
        raise InputError(
            "capacity='infinite' needs one service rate for all units; the queue is exact "
            "only then (use capacity='zero' for per-unit rates)",
            field="service_rate",
        )
    load = float(lam.sum() / mu[0])
    if load >= n:
        raise InputError(
            f"offered load {load:g} erlangs is not below the {n} units; with "
            "capacity='infinite' the queue would grow without bound",
            field="arrival_rates",
        )


def _popcount(states: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    counts = np.zeros_like(states)
    rest = states.copy()
    while np.any(rest):
        counts += rest & 1
        rest >>= 1
    return counts


def _busy_matrix(states: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.bool_]:
    """``(2**N, N)``: entry ``[s, i]`` is whether unit ``i`` is busy in state ``s``."""
    return ((states[:, None] >> np.arange(n)) & 1).astype(bool)


def _first_free(
    lists: list[tuple[int, ...]], n: int
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Per list and state, the unit a call goes to and its rank on the list (``-1``: none)."""
    states = np.arange(1 << n, dtype=np.int64)
    busy = _busy_matrix(states, n)
    unit = np.full((len(lists), len(states)), -1, dtype=np.int8)
    rank = np.full((len(lists), len(states)), -1, dtype=np.int8)
    for l_index, order in enumerate(lists):
        # Walk the list backwards so that earlier preferences overwrite later ones.
        for k in range(len(order) - 1, -1, -1):
            free = ~busy[:, order[k]]
            unit[l_index, free] = order[k]
            rank[l_index, free] = k
    return unit, rank


def _solve(first_free: npt.NDArray[np.int8], list_rates: FloatArray, mu: FloatArray) -> FloatArray:
    """Stationary distribution of the zero-line hypercube chain."""
    # Imported here so that importing dispatch.plan stays light.
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import splu

    n = len(mu)
    size = 1 << n
    states = np.arange(size, dtype=np.int64)

    # Upward rates: state s sends unit i out at the summed rate of the lists whose first free
    # unit in s is i.
    sent = first_free >= 0
    flat = (states[None, :] * n + first_free)[sent]
    weights = np.broadcast_to(list_rates[:, None], first_free.shape)[sent]
    up = _sums(flat, weights, size * n).reshape(size, n)

    busy = _busy_matrix(states, n)
    source, unit = np.nonzero(up > 0)
    up_rate = up[source, unit]
    up_target = source | (1 << unit)
    down_source, down_unit = np.nonzero(busy)
    down_rate = mu[down_unit]
    down_target = down_source & ~(1 << down_unit)

    src = np.concatenate([source, down_source])
    dst = np.concatenate([up_target, down_target])
    rate = np.concatenate([up_rate, down_rate])
    # Balance equations Q^T p = 0 (row t: inflow to t minus outflow of t); the row of state 0
    # is replaced by sum(p) = 1, which removes the one redundant equation.
    rows = np.concatenate([dst, src])
    cols = np.concatenate([src, src])
    vals = np.concatenate([rate, -rate])
    keep = rows != 0
    rows = np.concatenate([rows[keep], np.zeros(size, dtype=np.int64)])
    cols = np.concatenate([cols[keep], states])
    vals = np.concatenate([vals[keep], np.ones(size)])
    a = coo_matrix((vals, (rows, cols)), shape=(size, size)).tocsc()
    b = np.zeros(size)
    b[0] = 1.0
    # Minimum-degree ordering on A^T + A keeps the LU fill-in of the cube's graph about four
    # times smaller than the default column ordering (0.5 s instead of 5 s for 12 units).
    p = np.asarray(splu(a, permc_spec="MMD_AT_PLUS_A").solve(b), dtype=np.float64)
    # Round-off can leave probabilities of unreachable states a hair below zero.
    p = np.clip(p, 0.0, None)
    return np.asarray(p / p.sum(), dtype=np.float64)


def _sums(index: npt.NDArray[np.integer], weights: FloatArray, size: int) -> FloatArray:
    """``out[k]`` = sum of ``weights`` where ``index == k``, for ``k < size``."""
    return np.bincount(index, weights=weights, minlength=size).astype(np.float64)


def _frozen(array: npt.NDArray[np.float64]) -> FloatArray:
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out
