"""Erlang B and C: the queueing formulas the simulator is checked against.

With arrival rate lambda, mean service time 1/mu and ``c`` servers, the offered load is
``a = lambda / mu`` erlangs.
"""

from __future__ import annotations


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of an M/M/c/c loss system (stable recursion)."""
    if c < 0 or a < 0:
        raise ValueError("c and a must be >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (needs ``a < c``)."""
    if not 0 <= a < c:
        raise ValueError("Erlang C needs 0 <= a < c")
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(c: int, a: float, mean_service: float) -> float:
    """Mean wait in queue of an M/M/c system, in the unit of ``mean_service``."""
    return erlang_c(c, a) * mean_service / (c - a)
