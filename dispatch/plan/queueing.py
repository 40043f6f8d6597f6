"""Queueing formulas for staffing: Erlang B, Erlang C and Erlang A, and servers for a target.

Units: an offered load ``load`` is in erlangs (arrival rate times mean service time), arrival
rates are per hour, durations are in seconds. Service times are exponential and arrivals
Poisson (M/M/c); Erlang A adds an exponential patience (M/M/c+M): a waiting call leaves the
queue for the fallback response after a patience with mean ``patience_s``.

- Erlang B (M/M/c/c, loss) by the recursion ``B(k) = a B(k-1) / (k + a B(k-1))``, which stays in
  [0, 1] and is stable for thousands of servers; Erlang C from it,
  ``C = c B / (c - a (1 - B))``.
- Fractional servers (a planner may read "2.3 teams"): Jagerman's continuation
  ``1 / B(x, a) = a * integral_0^inf exp(-a t) (1 + t)^x dt`` (D. L. Jagerman, "Some properties
  of the Erlang loss function", Bell System Technical Journal 53(3), 1974), which equals
  ``a^x e^-a / Gamma(x + 1, a)`` with the upper incomplete gamma function. It is evaluated at
  the fractional part of ``x`` and carried up by the same recursion, so it agrees with the
  integer values at integers and is smooth and decreasing in between.
- Erlang A (C. Palm, 1943; O. Garnett, A. Mandelbaum and M. Reiman, "Designing a call center
  with impatient customers", Manufacturing & Service Operations Management 4(3), 2002): the
  birth-death chain is summed in log space. A call that finds ``j`` others waiting is served
  after the sum of exponentials with rates ``c mu + i theta`` (``i = 0..j``), unless its own
  patience runs out first; ``U = exp(-theta V)`` of that sum is Beta(``c mu / theta``, ``j + 1``)
  distributed, which gives the share served within a target in closed form (incomplete beta).

Overload (``load >= servers`` without abandonment) answers with an infinite mean wait, a
waiting probability of 1 and a service level of 0, never a negative number or NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dispatch.errors import InputError

__all__ = [
    "ErlangA",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "mean_wait_s",
    "servers_needed",
    "servers_needed_fractional",
    "service_level",
]

#: Log-space cut-off for truncating the Erlang A queue-length tail (e^-50 of the largest term).
_LOG_TAIL = 50.0
#: Largest queue length the Erlang A tail is summed to (about 40 MB per array).
_MAX_QUEUE = 5_000_000


def _check_load(servers: float, load: float) -> None:
    if not (math.isfinite(servers) and servers >= 0):
        raise InputError(f"servers must be a finite number >= 0, got {servers!r}")
    if not (math.isfinite(load) and load >= 0):
        raise InputError(f"load must be a finite number of erlangs >= 0, got {load!r}")


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a finite number > 0, got {value!r}")


def _is_integer(x: float) -> bool:
    return float(x).is_integer()


def _b_fractional_start(f: float, a: float) -> float:
    """Jagerman's ``B(f, a)`` for ``0 <= f < 1`` and ``a > 0``."""
    if f == 0.0:
        return 1.0
    # 1 / B(f, a) = e^a a^-f Gamma(1 + f, a), between 1 and 1 + 1/a.
    if a > 500.0:
        # Asymptotic series of the upper incomplete gamma function; with a > 500 the terms
        # shrink by at least 1/500 each, and Gamma(1 + f, a) itself would underflow.
        total, term = 1.0, 1.0
        for k in range(12):
            term *= (f - k) / a
            total += term
            if abs(term) < 1e-17:
                break
        return 1.0 / total
    from scipy.special import gammaincc, gammaln

    inv = math.exp(a - f * math.log(a) + float(gammaln(1.0 + f))) * float(gammaincc(1.0 + f, a))
    return 1.0 / inv


def erlang_b(servers: float, load: float) -> float:
    """Blocking probability of an M/M/c/c loss system (Erlang B).

    Parameters
    ----------
    servers
        Number of servers ``c`` (teams); a non-integer uses Jagerman's continuous extension.
    load
        Offered load ``a`` in erlangs (calls per hour times mean service time in hours).

    Returns
    -------
    float
        Probability that an arriving call finds every server busy, in [0, 1].

    Examples
    --------
    >>> round(erlang_b(10, 5.0), 6)
    0.018385
    >>> erlang_b(0, 2.0)
    1.0
    >>> erlang_b(2, 1.0) < erlang_b(1.5, 1.0) < erlang_b(1, 1.0)
    True
    """
    _check_load(servers, load)
    if load == 0.0:
        return 1.0 if servers == 0 else 0.0
    n = math.floor(servers)
    b = _b_fractional_start(servers - n, load)
    x = servers - n
    for _ in range(n):
        x += 1.0
        b = load * b / (x + load * b)
    return b


def erlang_c(servers: float, load: float) -> float:
    """Probability that an arriving call waits in an M/M/c queue (Erlang C).

    Parameters
    ----------
    servers
        Number of servers ``c``; a non-integer uses the continuous extension of `erlang_b`.
    load
        Offered load ``a`` in erlangs.

    Returns
    -------
    float
        ``P(wait > 0)`` in [0, 1]; 1 when ``load >= servers`` (overload: the queue grows
        without bound and every call eventually waits).

    Examples
    --------
    >>> round(erlang_c(3, 1.5), 6)  # 9/38
    0.236842
    >>> erlang_c(3, 3.0)
    1.0
    """
    _check_load(servers, load)
    if load == 0.0:
        return 1.0 if servers == 0 else 0.0
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return min(1.0, servers * b / (servers - load * (1.0 - b)))


@dataclass(frozen=True)
class ErlangA:
    """Steady state of an M/M/c+M queue (Erlang A).

    Attributes
    ----------
    p_wait
        Share of calls that find every server busy and wait.
    p_abandon
        Share of calls that leave the queue (for the fallback response) before a server
        takes them.
    mean_wait_s
        Mean time in queue over all calls, seconds (0 for calls taken at once; calls that
        abandon count their time until they leave).
    service_level
        Share of all calls served within the target wait (abandoned calls count as misses).
    occupancy
        Carried load per server, ``load * (1 - p_abandon) / servers``; 0 without servers.
    """

    p_wait: float
    p_abandon: float
    mean_wait_s: float
    service_level: float
    occupancy: float


def erlang_a(
    servers: float, load: float, service_s: float, patience_s: float, target_s: float = 0.0
) -> ErlangA:
    """Erlang A: M/M/c with exponential patience (Palm; Garnett, Mandelbaum & Reiman 2002).

    Stable for any load: calls that wait too long leave. The stationary distribution is
    summed in log space and its tail truncated where terms fall below ``e^-50`` of the
    largest, so hundreds of servers are fine.

    Parameters
    ----------
    servers
        Number of servers ``c`` (a whole number).
    load
        Offered load ``a`` in erlangs.
    service_s
        Mean service time, seconds.
    patience_s
        Mean patience of a waiting call, seconds (``math.inf``: Erlang C).
    target_s
        Target wait for `ErlangA.service_level`, seconds.

    Returns
    -------
    ErlangA
        Waiting and abandonment probabilities, mean wait and service level.

    Examples
    --------
    >>> r = erlang_a(3, 2.0, 600.0, 1200.0, target_s=300.0)
    >>> round(r.p_wait, 4), round(r.p_abandon, 4), round(r.mean_wait_s, 1)
    (0.3548, 0.0807, 96.8)
    >>> round(r.service_level, 4)
    0.8211
    """
    import numpy as np
    from scipy.special import betainc, logsumexp

    _check_load(servers, load)
    if not _is_integer(servers):
        raise InputError(f"Erlang A needs a whole number of servers, got {servers!r}")
    _check_positive("service_s", service_s)
    if not patience_s > 0:
        raise InputError(f"patience_s must be > 0, got {patience_s!r}")
    if not (math.isfinite(target_s) and target_s >= 0):
        raise InputError(f"target_s must be a finite number >= 0, got {target_s!r}")
    c = int(servers)
    if math.isinf(patience_s):
        wait = erlang_c(c, load)
        return ErlangA(
            p_wait=wait,
            p_abandon=0.0,
            mean_wait_s=mean_wait_s(c, load, service_s),
            service_level=service_level(c, load, service_s, target_s),
            occupancy=min(1.0, load / c) if c else 0.0,
        )
    if load == 0.0:
        return ErlangA(0.0, 0.0, 0.0, 1.0, 0.0)
    # In units of the mean service time: mu = 1, theta = r, lambda = load.
    r = service_s / patience_s
    log_a = math.log(load)
    k = np.arange(c + 1, dtype=float)
    from scipy.special import gammaln

    log_busy = k * log_a - gammaln(k + 1.0)  # pi_k for k <= c, unnormalized
    # Queue of j waiting: pi_{c+j} = pi_c prod_{i=1..j} a / (c + i r); the ratio falls below 1
    # once c + i r > a, after which the tail is truncated.
    peak = max(0.0, (load - c) / r)
    chunk = int(min(_MAX_QUEUE, max(64.0, 2.0 * peak + 64.0)))
    while True:
        i = np.arange(1, chunk + 1, dtype=float)
        log_tail = log_busy[-1] + np.concatenate(([0.0], np.cumsum(log_a - np.log(c + i * r))))
        top = max(float(log_busy.max()), float(log_tail.max()))
        if log_tail[-1] < top - _LOG_TAIL:
            break
        if chunk >= _MAX_QUEUE:
            raise InputError(
                f"Erlang A queue too long to sum: {load:g} erlangs on {c} servers with a "
                f"patience of {patience_s:g} s; use a shorter patience or Erlang C"
            )
        chunk = min(_MAX_QUEUE, 2 * chunk)
    log_total = float(logsumexp(np.concatenate((log_busy[:-1], log_tail))))
    p_queue = np.exp(log_tail - log_total)  # pi_{c+j}, j = 0..chunk
    j = np.arange(p_queue.size, dtype=float)
    p_wait = float(min(1.0, p_queue.sum()))
    mean_queue = float((j * p_queue).sum())
    mean_wait = mean_queue / load * service_s  # Little: E[W] = E[Q] / lambda
    p_abandon = min(1.0, mean_wait / patience_s)  # theta E[Q] / lambda
    p_now = max(0.0, 1.0 - p_wait)
    if c == 0:
        served_later = 0.0
    else:
        alpha = c / r
        x = math.exp(-target_s / patience_s)
        # served within t after waiting: E[U; U >= x], U ~ Beta(alpha, j + 1)
        within = alpha / (alpha + j + 1.0) * betainc(j + 1.0, alpha + 1.0, 1.0 - x)
        served_later = float((p_queue * within).sum())
    level = min(1.0, p_now + served_later)
    occupancy = min(1.0, load * (1.0 - p_abandon) / c) if c else 0.0
    return ErlangA(p_wait, p_abandon, mean_wait, level, occupancy)


def service_level(
    servers: float,
    load: float,
    service_s: float,
    target_s: float,
    *,
    patience_s: float | None = None,
) -> float:
    """Share of calls whose wait is at most ``target_s`` (M/M/c, or M/M/c+M with patience).

    ``SL = 1 - C(c, a) exp(-(c - a) t / s)`` (Erlang C); 0 when ``load >= servers``. With
    ``patience_s`` it is the Erlang A share served within the target (calls that leave for
    the fallback count as misses), see `erlang_a`.

    Parameters
    ----------
    servers
        Number of servers (non-integer allowed without patience).
    load
        Offered load in erlangs.
    service_s
        Mean service time, seconds.
    target_s
        Target wait, seconds.
    patience_s
        Mean patience of a waiting call, seconds; None for none (Erlang C).

    Returns
    -------
    float
        Service level in [0, 1].

    Examples
    --------
    >>> round(service_level(55, 48.0, 240.0, 15.0), 4)
    0.8459
    >>> service_level(3, 3.5, 600.0, 60.0)
    0.0
    >>> round(service_level(3, 3.5, 600.0, 60.0, patience_s=600.0), 4)
    0.3836
    """
    _check_positive("service_s", service_s)
    if not (math.isfinite(target_s) and target_s >= 0):
        raise InputError(f"target_s must be a finite number >= 0, got {target_s!r}")
    if patience_s is not None:
        return erlang_a(servers, load, service_s, patience_s, target_s).service_level
    _check_load(servers, load)
    if load == 0.0:
        return 1.0
    if load >= servers:
        return 0.0
    wait = erlang_c(servers, load)
    return max(0.0, 1.0 - wait * math.exp(-(servers - load) * target_s / service_s))


def mean_wait_s(
    servers: float, load: float, service_s: float, *, patience_s: float | None = None
) -> float:
    """Mean wait in queue over all calls, seconds.

    ``W = C(c, a) s / (c - a)`` (Erlang C); ``math.inf`` when ``load >= servers``. With
    ``patience_s``, the Erlang A mean wait (finite for any load).

    Parameters
    ----------
    servers
        Number of servers (non-integer allowed without patience).
    load
        Offered load in erlangs.
    service_s
        Mean service time, seconds (the result is in the same unit).
    patience_s
        Mean patience of a waiting call, seconds; None for none.

    Returns
    -------
    float
        Mean wait, seconds, >= 0 or ``math.inf``.

    Examples
    --------
    >>> round(mean_wait_s(55, 48.0, 240.0), 2)
    8.18
    >>> mean_wait_s(2, 2.0, 600.0)
    inf
    """
    _check_positive("service_s", service_s)
    if patience_s is not None:
        return erlang_a(servers, load, service_s, patience_s).mean_wait_s
    _check_load(servers, load)
    if load == 0.0:
        return 0.0
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * service_s / (servers - load)


def _check_target(
    rate_per_h: float, service_s: float, target_s: float, level: float, shrinkage: float
) -> None:
    if not (math.isfinite(rate_per_h) and rate_per_h >= 0):
        raise InputError(f"rate_per_h must be a finite number >= 0, got {rate_per_h!r}")
    _check_positive("service_s", service_s)
    if not (math.isfinite(target_s) and target_s >= 0):
        raise InputError(f"target_s must be a finite number >= 0, got {target_s!r}")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be strictly between 0 and 1, got {level!r}")
    if not 0.0 <= shrinkage < 1.0:
        raise InputError(f"shrinkage must be in [0, 1), got {shrinkage!r}")


def _occupancy_floor(load: float, max_occupancy: float | None) -> float:
    """Fewest servers (real) that keep ``load / servers`` at most ``max_occupancy``."""
    if max_occupancy is None:
        return 0.0
    if not 0.0 < max_occupancy <= 1.0:
        raise InputError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    return load / max_occupancy


def _after_shrinkage(servers: int, shrinkage: float) -> int:
    # 1e-9 absorbs float noise such as 4 / (1 - 0.2) = 5.000000000000001.
    return math.ceil(servers / (1.0 - shrinkage) - 1e-9)


def servers_needed(
    rate_per_h: float,
    service_s: float,
    target_s: float,
    level: float,
    *,
    shrinkage: float = 0.0,
    max_occupancy: float | None = None,
    patience_s: float | None = None,
) -> int:
    """Fewest servers for a service level, as call-centre staffing counts them.

    The smallest integer ``c`` whose `service_level` is at least ``level`` and whose
    occupancy (``load / c``; carried load with patience) is at most ``max_occupancy``, then
    divided by ``1 - shrinkage`` and rounded up (shrinkage: the share of paid time a team is
    not available, for breaks, training, leave).

    Parameters
    ----------
    rate_per_h
        Arrival rate, calls per hour.
    service_s
        Mean service time (busy time per call), seconds.
    target_s
        Target wait, seconds.
    level
        Required share of calls waiting at most ``target_s``, strictly between 0 and 1.
    shrinkage
        Share of scheduled time unavailable, in [0, 1).
    max_occupancy
        Largest allowed load per server, in (0, 1]; None for no cap.
    patience_s
        Mean patience of a waiting call (Erlang A), seconds; None for none (Erlang C).

    Returns
    -------
    int
        Servers to schedule; 0 when there are no calls.

    Examples
    --------
    >>> servers_needed(720.0, 240.0, 20.0, 0.8)  # 48 erlangs; 54 agents answer 81.7% in 20 s
    54
    >>> servers_needed(720.0, 240.0, 20.0, 0.8, shrinkage=0.3)  # 54 / 0.7 = 77.1
    78
    >>> servers_needed(720.0, 240.0, 20.0, 0.8, max_occupancy=0.85)
    57
    >>> servers_needed(0.0, 240.0, 20.0, 0.8)
    0
    """
    _check_target(rate_per_h, service_s, target_s, level, shrinkage)
    load = rate_per_h * service_s / 3600.0
    floor = _occupancy_floor(load, max_occupancy)
    if load == 0.0:
        return 0
    if patience_s is None:
        # Walk up from the first stable count, carrying Erlang B by its recursion.
        c = max(math.floor(load) + 1, math.ceil(floor))
        b = erlang_b(c, load)
        while True:
            wait = min(1.0, c * b / (c - load * (1.0 - b)))
            if 1.0 - wait * math.exp(-(c - load) * target_s / service_s) >= level:
                return _after_shrinkage(c, shrinkage)
            c += 1
            b = load * b / (c + load * b)

    def ok(c: int) -> bool:
        result = erlang_a(c, load, service_s, patience_s, target_s)
        return result.service_level >= level and (
            max_occupancy is None or load * (1.0 - result.p_abandon) <= max_occupancy * c
        )

    # The service level and the occupancy test are monotone in c: double, then bisect.
    low, high = 0, max(1, math.ceil(load))
    while not ok(high):
        low, high = high, 2 * high
    while high - low > 1:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid
    return _after_shrinkage(high, shrinkage)


def servers_needed_fractional(
    rate_per_h: float,
    service_s: float,
    target_s: float,
    level: float,
    *,
    shrinkage: float = 0.0,
    max_occupancy: float | None = None,
) -> float:
    """Fewest servers as a real number, with the continuous Erlang C (Jagerman 1974).

    The ``x`` at which the continuous service level reaches ``level`` (and occupancy
    ``load / x`` is at most ``max_occupancy``), divided by ``1 - shrinkage``, not rounded.
    Rounding it up gives `servers_needed` (before shrinkage).

    Parameters
    ----------
    rate_per_h, service_s, target_s, level, shrinkage, max_occupancy
        As in `servers_needed`.

    Returns
    -------
    float
        Servers, e.g. 2.3 teams; 0.0 when there are no calls.

    Examples
    --------
    >>> x = servers_needed_fractional(2.0, 3600.0, 1200.0, 0.8)
    >>> round(x, 3), servers_needed(2.0, 3600.0, 1200.0, 0.8)
    (3.378, 4)
    """
    from scipy.optimize import brentq

    _check_target(rate_per_h, service_s, target_s, level, shrinkage)
    load = rate_per_h * service_s / 3600.0
    if load == 0.0:
        return 0.0
    floor = _occupancy_floor(load, max_occupancy)
    whole = servers_needed(rate_per_h, service_s, target_s, level)

    def gap(x: float) -> float:
        return service_level(x, load, service_s, target_s) - level

    low = max(load, float(whole - 1))
    # The level climbs steeply just above the load (by tens per server when the target is long
    # against the service time): a root to 1e-10 of a server missed the level by 1e-9, so it is
    # taken to the precision of the floats.
    x = float(whole) if gap(low) >= 0 else float(brentq(gap, low, whole, xtol=1e-14))
    return max(x, floor) / (1.0 - shrinkage)
