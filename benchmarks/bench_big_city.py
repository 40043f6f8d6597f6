"""A big city: 175,000 calls a year, 150 teams at 15 stations, a 100,000-node road-like grid.

The network is the 100k grid of ``bench_match.py`` (`road_grid` of ``GRID x GRID``
intersections, 150 m blocks, arterials every 10th street, a few one-way streets). The calls are
a synthetic log of a year: times from the hour-of-week shape of behavioral-health demand
(``data/stlouis/bh_demand_profile.csv``), places at distinct addresses spread over the whole
grid (one address for every two calls, each a random intersection with a few metres of jitter;
addresses recur with log-normal weights, as shelters and apartment blocks do). 150 co-responder
teams round the clock, 10 at each of 15 stations on a 5 x 3 lattice, five hospitals, the
default rules (60-minute travel limit = the oracle's search cut-off), transports to the
nearest hospital. The oracle has ``cache_mb = 2048`` (`CACHE_MB`): a dispatch searches only as
far as can matter to its choice (bounded by the stations' and hospitals' rows as landmarks),
and the rows of those bounded searches are kept, so a recurring address is searched once.

Measured, each configuration in its own process (so peak memory is its own):

- the first replication, *including every travel precompute* (`prepare`: snapping, the
  pinned rows, then the replay with its searches), each further replication, and the peak resident
  memory (``resource.getrusage`` maxrss), against the goals of issue 14: first <= 60 s,
  further <= 10 s each, peak <= 4 GiB;
- how the first replication's time grows with calls (10k..200k), teams (10..300) and nodes
  (1k..200k), plotted to ``docs/img/scale.png``.

The big city itself always replays its whole year, three times. Every other configuration is
bounded: a pilot replays the first ``--pilot`` calls (1,500) of its
year; when its first replication would exceed the budget (``--budget-s``, 150 s), a second
prefix about the budget's size (at least twice the pilot) is replayed and the year is
extrapolated from the two (a fixed part plus a per-call part; further replications by calls);
such figures are marked "extrapolated" (hollow markers in the plot), and are pessimistic: a
longer year finds more of its addresses already searched. About 10 minutes on 2 cores.

Run: ``.venv/bin/python benchmarks/bench_big_city.py [--quick] [--budget-s S] [--pilot CALLS]
[--no-scale]``;
``--profile`` runs cProfile over the first replication of the big city (a prefix) instead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_match import GRID  # noqa: E402  (the 100k grid's side, 317 x 317 = 100,489 nodes)

CALLS = 175_000
TEAMS = 150
STATIONS = 15
NODES = GRID * GRID
FIRST_GOAL_S = 60.0
FURTHER_GOAL_S = 10.0
PEAK_GOAL_GIB = 4.0
#: The oracle's cache budget (MiB): a year's bounded-search rows at 60,000 addresses fit.
CACHE_MB = 2048.0
PROFILE = ROOT / "data" / "stlouis" / "bh_demand_profile.csv"
PLOT = ROOT / "docs" / "img" / "scale.png"


def grid(nodes: int):  # type: ignore[no-untyped-def]
    """The road-like grid of about ``nodes`` intersections (square, as in ``bench_match``),
    with the cache budget a city of this size is given (``[network] cache_mb``)."""
    from dispatch.networks import road_grid

    side = max(2, round(nodes**0.5))
    return road_grid(side, side, cache_mb=CACHE_MB)


def call_log(travel, n_calls: int, seed: int = 14) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A year of ``n_calls`` calls (the call-log contract) at distinct addresses on ``travel``."""
    rng = np.random.default_rng(seed)
    weights = pd.read_csv(PROFILE)["weight"].to_numpy(dtype=float)
    hours = 365 * 24
    start = pd.Timestamp("2025-01-06")  # a Monday: hour 0 of the profile
    rate = weights[np.arange(hours) % 168]
    hour = rng.choice(hours, size=n_calls, p=rate / rate.sum())
    received = np.sort(hour * 3600.0 + rng.uniform(0.0, 3600.0, n_calls))
    n_addresses = max(1, n_calls // 2)
    node = rng.integers(0, travel.n_places, n_addresses)
    lats, lons = travel.coordinates(node)
    # a few metres off the intersection, so every address is its own coordinate
    lats = lats + rng.uniform(-1e-4, 1e-4, n_addresses)
    lons = lons + rng.uniform(-1e-4, 1e-4, n_addresses)
    popularity = rng.lognormal(0.0, 1.0, n_addresses)
    pick = rng.choice(n_addresses, size=n_calls, p=popularity / popularity.sum())
    risk = rng.choice(["low", "standard", "high"], size=n_calls, p=[0.3, 0.55, 0.15])
    return pd.DataFrame(
        {
            "call_id": [f"C{k:06d}" for k in range(n_calls)],
            "received_at": (start + pd.to_timedelta(received, unit="s")).strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            "lat": lats[pick].round(7),
            "lon": lons[pick].round(7),
            "call_type": "mental_health",
            "risk": risk,
        }
    )


def scenario(travel, log_path: Path, n_teams: int):  # type: ignore[no-untyped-def]
    """150 (``n_teams``) co-responder teams at 15 stations on a 5 x 3 lattice, five hospitals."""
    from dispatch.calls import load_calls
    from dispatch.distributions import Distribution
    from dispatch.model import TeamKind
    from dispatch.scenario import PolicySpec, Scenario, ServiceSpec, Site, TeamSpec

    lats, lons = travel.coordinates(np.arange(travel.n_places))
    lat_lo, lat_hi = float(lats.min()), float(lats.max())
    lon_lo, lon_hi = float(lons.min()), float(lons.max())

    def site(site_id: str, fy: float, fx: float) -> Site:
        return Site(site_id, lat_lo + fy * (lat_hi - lat_lo), lon_lo + fx * (lon_hi - lon_lo))

    stations = tuple(
        site(f"S{r}{c}", (r + 0.5) / 3, (c + 0.5) / 5) for r in range(3) for c in range(5)
    )
    hospitals = tuple(
        site(f"H{k}", fy, fx)
        for k, (fy, fx) in enumerate([(0.5, 0.5), (0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8)])
    )
    teams = tuple(
        TeamSpec(f"T{i:03d}", TeamKind.CO_RESPONDER, stations[i % len(stations)].site_id, cit=True)
        for i in range(n_teams)
    )
    log = load_calls(log_path)
    return Scenario(
        name="big city",
        travel=travel,
        calls=log.frame,
        teams=teams,
        stations=stations,
        facilities=hospitals,
        service=ServiceSpec(on_scene={"default": Distribution.lognormal(43 * 60.0, 0.6)}),
        policy=PolicySpec(fallback_after_min=10.0),
        seed=1,
    )


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2**30  # KiB on Linux


def one(nodes: int, n_calls: int, n_teams: int, replications: int, prefix: int | None) -> dict:
    """One configuration in this process: times of network, log, first and further runs."""
    from dispatch.sim.prepare import prepare
    from dispatch.sim.run import run_replication

    t0 = time.perf_counter()
    travel = grid(nodes)
    t_network = time.perf_counter() - t0
    log = call_log(travel, n_calls)
    if prefix is not None and prefix < n_calls:
        log = log.iloc[:prefix]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.csv"
        log.to_csv(path, index=False)
        t0 = time.perf_counter()
        sc = scenario(travel, path, n_teams)
        t_load = time.perf_counter() - t0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    prep = prepare(sc)
    t_prepare = time.perf_counter() - t0
    run_replication(prep, 0)
    t_first = time.perf_counter() - t0
    cpu_first = time.process_time() - cpu0
    further = []
    for k in range(1, replications):
        t1 = time.perf_counter()
        run_replication(prep, k)
        further.append(time.perf_counter() - t1)
    return {
        "nodes": travel.n_places,
        "calls": len(log),
        "teams": n_teams,
        "network_s": t_network,
        "load_s": t_load,
        "prepare_s": t_prepare,
        "first_s": t_first,
        "first_cpu_s": cpu_first,
        "further_s": further,
        "searches": travel.misses,
        "bounded_searches": travel.bounded_searches,
        "row_hits": travel.hits,
        "peak_gib": peak_gib(),
    }


def child(nodes: int, n_calls: int, n_teams: int, replications: int, prefix: int | None) -> dict:
    """`one` in a fresh process (its own peak memory and cold caches)."""
    args = [sys.executable, __file__, "--one", f"{nodes},{n_calls},{n_teams},{replications}"]
    if prefix is not None:
        args += ["--prefix", str(prefix)]
    out = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bounded(
    nodes: int, n_calls: int, n_teams: int, replications: int, budget_s: float, pilot: int
) -> dict:
    """The configuration in full when a pilot prefix says it fits ``budget_s``; else two prefixes
    and a linear extrapolation (fixed part + per-call part) of the first replication."""
    if n_calls <= pilot:
        result = child(nodes, n_calls, n_teams, replications, None)
        result["extrapolated"] = False
        return result
    small = child(nodes, n_calls, n_teams, 1, pilot)
    per_call = small["first_s"] / pilot
    if per_call * n_calls <= budget_s:  # (further replications cost less: rows are kept)
        result = child(nodes, n_calls, n_teams, replications, None)
        result["extrapolated"] = False
        return result
    reps = min(replications, 2)  # with further replications asked for, the prefix runs one
    size = int(min(n_calls, max(2 * pilot, budget_s / per_call / reps)))
    large = child(nodes, n_calls, n_teams, reps, size)
    slope = (large["first_s"] - small["first_s"]) / (size - pilot)
    fixed = max(0.0, small["first_s"] - slope * pilot)
    large["measured_calls"] = [pilot, size]
    large["measured_first_s"] = [small["first_s"], large["first_s"]]
    large["measured_further_s"] = large["further_s"]
    large["further_s"] = [s * n_calls / size for s in large["further_s"]]  # by calls
    large["first_s"] = fixed + slope * n_calls
    large["calls"] = n_calls
    large["extrapolated"] = True
    return large


def show(label: str, r: dict) -> None:
    note = (
        f" (extrapolated from the first {r['measured_calls'][0]:,} and "
        f"{r['measured_calls'][1]:,} calls: {r['measured_first_s'][0]:.1f} s, "
        f"{r['measured_first_s'][1]:.1f} s)"
        if r.get("extrapolated")
        else ""
    )
    print(
        f"  {label:<28} nodes {r['nodes']:>7,}  calls {r['calls']:>7,}  teams {r['teams']:>3}  "
        f"first {r['first_s']:7.1f} s, peak {r['peak_gib']:.2f} GiB{note}",
        flush=True,
    )


def plot(points: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
    for ax, (key, label) in zip(
        axes,
        [("calls", "calls a year"), ("teams", "teams"), ("nodes", "network nodes")],
        strict=True,
    ):
        rows = points[key]
        xs = [r[key] for r in rows]
        ys = [r["first_s"] for r in rows]
        ax.plot(xs, ys, color="tab:blue", lw=1)
        for r in rows:
            hollow = r.get("extrapolated", False)
            ax.plot(
                r[key],
                r["first_s"],
                "o",
                color="tab:blue",
                mfc="white" if hollow else "tab:blue",
            )
        ax.axhline(FIRST_GOAL_S, color="tab:red", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("first replication, s (with precompute)")
    fig.suptitle(
        "Big city: first replication against calls, teams and nodes (others at 175k calls, "
        "150 teams, 100k nodes; hollow = extrapolated, red = 60 s goal)",
        fontsize=9,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"plot: {path}")


def profile(prefix: int) -> None:
    """cProfile of the first replication of the big city, over its first ``prefix`` calls."""
    import cProfile
    import pstats

    from dispatch.sim.prepare import prepare
    from dispatch.sim.run import run_replication

    travel = grid(NODES)
    log = call_log(travel, CALLS).iloc[:prefix]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.csv"
        log.to_csv(path, index=False)
        sc = scenario(travel, path, TEAMS)
    pr = cProfile.Profile()
    pr.enable()
    prep = prepare(sc)
    run_replication(prep, 0)
    pr.disable()
    print(
        f"full searches {travel.misses:,}, bounded {travel.bounded_searches:,}, "
        f"row hits {travel.hits:,}, calls {len(log):,}"
    )
    pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
    pstats.Stats(pr).sort_stats("tottime").print_stats(12)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets, fewer points")
    parser.add_argument("--budget-s", type=float, default=None, help="seconds per configuration")
    parser.add_argument("--pilot", type=int, default=None, help="calls of the pilot prefix")
    parser.add_argument("--no-scale", action="store_true", help="only the big city")
    parser.add_argument(
        "--plot", type=Path, default=None, help=f"where to draw (default {PLOT}; none with --quick)"
    )
    parser.add_argument("--profile", type=int, default=None, metavar="CALLS")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", type=int, default=None, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.one:
        nodes, n_calls, n_teams, reps = (int(v) for v in args.one.split(","))
        print(json.dumps(one(nodes, n_calls, n_teams, reps, args.prefix)))
        return
    if args.profile:
        profile(args.profile)
        return
    budget = args.budget_s or (60.0 if args.quick else 150.0)
    pilot = args.pilot or (1_000 if args.quick else 1_500)
    print(
        f"big city: {CALLS:,} calls a year, {TEAMS} teams at {STATIONS} stations, "
        f"{GRID} x {GRID} grid; load average {os.getloadavg()[0]:.1f} (2 cores)",
        flush=True,
    )
    big = child(NODES, CALLS, TEAMS, 3, None)  # the goals' configuration: always a whole year
    big["extrapolated"] = False
    show("big city, first replication", big)
    if big["further_s"]:
        further = max(big["further_s"])
        how = (
            f" (extrapolated from {big['measured_further_s'][0]:.1f} s for the first "
            f"{big['measured_calls'][1]:,} calls)"
            if big.get("extrapolated")
            else ""
        )
        times = ", ".join(f"{s:.1f}" for s in big["further_s"])
        print(f"  further replications         {times} s{how}")
        print(f"  goal further <= {FURTHER_GOAL_S:g} s: {'PASS' if further <= 10 else 'MISS'}")
    print(
        f"  full searches {big['searches']:,}, bounded {big['bounded_searches']:,}, "
        f"peak memory {big['peak_gib']:.2f} GiB"
        + (" (of the prefix run)" if big.get("extrapolated") else "")
    )
    print(f"  goal first <= {FIRST_GOAL_S:g} s: {'PASS' if big['first_s'] <= 60 else 'MISS'}")
    print(f"  goal peak <= {PEAK_GOAL_GIB:g} GiB: {'PASS' if big['peak_gib'] <= 4 else 'MISS'}")
    if args.no_scale:
        return
    axes_points = {
        "calls": [10_000, 50_000, 175_000, 200_000] if not args.quick else [10_000, 175_000],
        "teams": [10, 50, 150, 300] if not args.quick else [10, 300],
        "nodes": [1_000, 10_000, NODES, 200_000] if not args.quick else [1_000, NODES],
    }
    points: dict[str, list[dict]] = {}
    for key, values in axes_points.items():
        points[key] = []
        for v in values:
            cfg = {"nodes": NODES, "calls": CALLS, "teams": TEAMS, key: v}
            if cfg == {"nodes": NODES, "calls": CALLS, "teams": TEAMS}:
                r = big
            else:
                r = bounded(cfg["nodes"], cfg["calls"], cfg["teams"], 1, budget, pilot)
            show(f"{key} = {v:,}", r)
            points[key].append(r)
    print(f"load average now {os.getloadavg()[0]:.1f}")
    if args.plot is not None or not args.quick:
        plot(points, args.plot or PLOT)


if __name__ == "__main__":
    main()
