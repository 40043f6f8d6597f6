"""Queueing-formula speed: what a staffing solver calls in its inner loop.

Times `erlang_c` and `servers_needed` at 5, 100 and 1,000 erlangs, `erlang_a` at 500 servers,
the fractional staffing, and `required_teams` for a week (168 hours) by each method.

Goal: a week's required teams in well under 0.1 s, so a schedule loop that re-derives them
after every simulation round spends its time in the solver and the simulator. Run::

    .venv/bin/python benchmarks/bench_plan_queueing.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from dispatch.plan.queueing import erlang_a, erlang_c, servers_needed, servers_needed_fractional
from dispatch.plan.requirements import Method, required_teams


def timed(fn: Callable[[], object], repeat: int = 20) -> float:
    """Median wall time of ``fn()`` in microseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    for load in (5.0, 100.0, 1000.0):
        c = int(load * 1.05) + 2
        # one-hour service: calls per hour equal erlangs
        wait = timed(partial(erlang_c, c, load))
        whole = timed(partial(servers_needed, load, 3600.0, 1200.0, 0.8))
        part = timed(partial(servers_needed_fractional, load, 3600.0, 1200.0, 0.8), 5)
        print(
            f"  {load:6.0f} erlangs: erlang_c {wait:9.1f} us   servers_needed {whole:9.1f} us"
            f"   fractional {part:9.1f} us"
        )
    us = timed(partial(erlang_a, 500, 480.0, 3600.0, 1800.0, 60.0))
    print(f"  erlang_a 500 servers: {us:.1f} us")
    rates = 1.5 + np.sin(np.arange(168) * 2 * np.pi / 24)
    methods: tuple[Method, ...] = ("sipp", "lagged_sipp", "mol")
    for method in methods:
        us = timed(partial(required_teams, rates, 6000.0, 1200.0, 0.8, method=method), 5)
        print(f"  required_teams 168 h, {method:<11} {us / 1000:8.2f} ms")
    us = timed(partial(required_teams, rates, 6000.0, 1200.0, 0.8, patience_s=900.0), 3)
    print(f"  required_teams 168 h, mol + patience {us / 1000:8.2f} ms")


if __name__ == "__main__":
    main()
