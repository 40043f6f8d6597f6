"""`dispatch simulate` against Ciw 3.2.7 on the same M/M/3 workload, whole process, same run.

The workload: Poisson arrivals at 1.5 an hour, exponential service of mean 1 hour, three
servers at one place (no call processing, no turnout, no travel, no transport, calls wait as
long as it takes), 200,000 calls (the replay's synthetic stream has as many calls as it draws;
Ciw is asked to finish exactly that many customers). Each side runs as its own process, started
from nothing, in alternating pairs: `dispatch simulate SCENARIO --out DIR` (which also writes
``calls.parquet``, ``teams.parquet`` and ``summary.json``) and a Ciw script that builds the
network, simulates until that many customers have finished and reads every record.

Goal (issue 14): the replay at most 0.5x Ciw's time, median of 3 alternating pairs. Ciw comes
with the ``bench`` extra.

Run: ``.venv/bin/python benchmarks/bench_ciw.py [--pairs N] [--calls N]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATE_PER_H = 1.5
SERVERS = 3
SCENARIO = """\
name = "M/M/3"
seed = 1
replications = 1
timezone = "UTC"

[network]
kind = "straight_line"

[calls.synthetic]
calls_per_day = {per_day!r}
days = {days!r}
locations = [[38.627, -90.1994, 1.0]]

[service]
processing = {{ dist = "fixed", value = 0 }}
turnout = {{ dist = "fixed", value = 0 }}
on_scene = {{ default = {{ dist = "exponential", mean = 60 }} }}
transport_share = 0

[policy]
never_fall_back = true

[[stations]]
id = "HQ"
lat = 38.627
lon = -90.1994

[[teams]]
id = "T"
count = {servers}
kind = "co_responder"
cit = true
station = "HQ"
"""

CIW = """\
import sys
import ciw

n = int(sys.argv[1])
network = ciw.create_network(
    arrival_distributions=[ciw.dists.Exponential({rate})],
    service_distributions=[ciw.dists.Exponential(1.0)],
    number_of_servers=[{servers}],
)
ciw.seed(1)
sim = ciw.Simulation(network)
sim.simulate_until_max_customers(n, method="Finish")
records = sim.get_all_records()
print(len(records), sum(r.waiting_time for r in records) / len(records))
"""


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system, the child's) of one process, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def calls_in(scenario: Path) -> int:
    """How many calls the scenario's first replication replays."""
    import dispatch
    from dispatch.sim.prepare import prepare, replication_calls, streams

    prep = prepare(dispatch.load_scenario(scenario))
    return len(replication_calls(prep, streams(prep.scenario.seed, 0)["calls"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args([] if argv is None else argv)
    try:
        import ciw
    except ImportError:
        print("Ciw is not installed: pip install 'coresponder-dispatch[bench]'")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario = folder / "mm3.toml"
        per_day = RATE_PER_H * 24.0
        scenario.write_text(
            SCENARIO.format(per_day=per_day, days=args.calls / per_day, servers=SERVERS)
        )
        script = folder / "ciw_mm3.py"
        script.write_text(CIW.format(rate=RATE_PER_H, servers=SERVERS))
        n = calls_in(scenario)
        ours = [sys.executable, "-m", "dispatch", "simulate", str(scenario)]
        ours += ["--out", str(folder / "out")]
        theirs = [sys.executable, str(script), str(n)]
        env_note = f"{os.cpu_count()} cores, Ciw {ciw.__version__}"
        print(f"M/M/3, {n:,} calls, rho 0.5, whole process each ({env_note})")
        rows = []
        for k in range(args.pairs):
            # alternate which goes first, so a burst of load on the machine hits both sides
            order = [("dispatch", ours), ("ciw", theirs)]
            if k % 2:
                order.reverse()
            got = {name: timed(cmd) for name, cmd in order}
            rows.append(got)
            (dw, dc, _), (cw, cc, _) = got["dispatch"], got["ciw"]
            print(
                f"  pair {k + 1}: dispatch {dw:.2f} s (cpu {dc:.2f}), ciw {cw:.2f} s "
                f"(cpu {cc:.2f}), ratio {dw / cw:.2f}x (cpu {dc / cc:.2f}x)"
            )
    d_wall = statistics.median(r["dispatch"][0] for r in rows)
    c_wall = statistics.median(r["ciw"][0] for r in rows)
    ratio = statistics.median(r["dispatch"][0] / r["ciw"][0] for r in rows)
    cpu_ratio = statistics.median(r["dispatch"][1] / r["ciw"][1] for r in rows)
    print(f"dispatch simulate, median  {d_wall:.2f} s  = {n / d_wall:,.0f} calls/s")
    print(f"Ciw 3.2.7, median          {c_wall:.2f} s  = {n / c_wall:,.0f} calls/s")
    print(f"ratio dispatch/Ciw         {ratio:.2f}x (median of pairs; CPU time {cpu_ratio:.2f}x)")
    print(f"goal at most 0.5x Ciw:     {'PASS' if ratio <= 0.5 else 'MISS'}")


if __name__ == "__main__":
    main(sys.argv[1:])
