"""Erlang B and C: the queueing formulas the simulator is checked against.

With arrival rate lambda, mean service time 1/mu and ``c`` servers, the offered load is
``a = lambda / mu`` erlangs. The formulas live in `dispatch.plan.queueing`; this module keeps
the names the simulator checks use, and keeps Erlang C to stable systems (``a < c``), where
its tests compare it with simulated waits.
"""

from __future__ import annotations

from dispatch.plan.queueing import erlang_b, mean_wait_s
from dispatch.plan.queueing import erlang_c as _erlang_c

__all__ = ["erlang_b", "erlang_c", "mmc_mean_wait"]


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (needs ``0 <= a < c``)."""
    if not 0 <= a < c:
        raise ValueError("Erlang C needs 0 <= a < c")
    return _erlang_c(c, a)


def mmc_mean_wait(c: int, a: float, mean_service: float) -> float:
    """Mean wait in queue of an M/M/c system, in the unit of ``mean_service`` (needs a < c)."""
    erlang_c(c, a)
    return mean_wait_s(c, a, mean_service)
