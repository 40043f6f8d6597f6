"""Sweep wall time: 10 staffing levels x 30 replications of the St. Louis year, 1 and 2 processes.

The sweep is ``scenarios/stlouis_staffing_sweep.toml`` (3 to 12 co-responder teams, the 2025
synthetic call year, 6,947 calls per replication). It runs once in this process and once on two
local worker processes, each into a fresh directory; the results must be byte-identical. Goals:
under 60 s with 2 workers (the sweep issue), at most 30 s (the speed issue, 14).

Run: ``.venv/bin/python benchmarks/bench_sweep.py`` (``--replications 5`` for a quick look).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dispatch.executors import Executor, ProcessExecutor, SerialExecutor
from dispatch.sweep import SweepPlan, aggregate, plan_sweep, run_sweep

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stlouis_staffing_sweep.toml"
GOAL_S = 60.0
SPEED_GOAL_S = 30.0
COMPARED = ("variants.parquet", "replications.parquet", "teams.parquet", "summary.json")


def timed_sweep(plan: SweepPlan, out: Path, executor: Executor) -> tuple[float, float]:
    """Wall seconds of the whole sweep (pool start included) and of the aggregation alone."""
    start = time.perf_counter()
    with executor:
        run_sweep(plan, out, executor=executor)
    wall = time.perf_counter() - start
    start = time.perf_counter()
    aggregate(plan, out)
    return wall, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=None, help="default: the file's 30")
    parser.add_argument("--skip-serial", action="store_true", help="only the 2-worker run")
    args = parser.parse_args([] if argv is None else argv)
    plan = plan_sweep(SCENARIO, replications=args.replications)
    runs = len(plan.variants) * plan.replications
    print(f"sweep                     {plan.name}")
    print(
        f"runs                      {len(plan.variants)} levels x {plan.replications} reps = {runs}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        root = Path(tmp)
        serial_s = None
        if not args.skip_serial:
            serial_s, agg_s = timed_sweep(plan, root / "serial", SerialExecutor())
            print(f"serial (1 process)        {serial_s:6.1f} s  ({serial_s / runs:.2f} s per run)")
        pool_s, agg_s = timed_sweep(plan, root / "pool", ProcessExecutor(workers=2))
        print(f"2 worker processes        {pool_s:6.1f} s  ({pool_s / runs:.2f} s per run)")
        print(f"aggregation (in both)     {agg_s:6.2f} s")
        if serial_s is not None:
            same = all(
                (root / "serial" / n).read_bytes() == (root / "pool" / n).read_bytes()
                for n in COMPARED
            )
            print(f"speed-up                  {serial_s / pool_s:6.2f}x")
            print(f"identical results         {'yes' if same else 'NO'}")
    print(f"goal < {GOAL_S:.0f} s with 2 workers: {'PASS' if pool_s < GOAL_S else 'MISS'}")
    print(
        f"goal <= {SPEED_GOAL_S:.0f} s with 2 workers (issue 14): "
        f"{'PASS' if pool_s <= SPEED_GOAL_S else 'MISS'}"
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
