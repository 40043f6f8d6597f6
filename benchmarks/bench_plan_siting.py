"""Siting solve times: St. Louis neighbourhoods and a 200-node instance, against a time limit.

Run: ``.venv/bin/python benchmarks/bench_plan_siting.py`` (or ``make bench``).

- St. Louis: the bundled 2025 calls over straight-line travel (40 km/h, circuity 1.3, as in
  ``stlouis_cru.toml``); candidates are the 88 neighbourhood centroids plus the four SLMPD
  stations (``candidate_posts.csv``). Demand aggregated by neighbourhood (each call counted at
  its neighbourhood's centroid) and by 500 m cells of snapped places.
- 200 nodes: 200 random points in a 10 km square (seed 1), Euclidean metres, every node a
  demand point (weights 1-9) and a candidate, the size of OR-Library pmed6-10.

A planner re-running a siting study accepts a minute; ``LIMIT_S`` is the pass mark and the
solver's own time limit.
"""

from __future__ import annotations

import time

import numpy as np

LIMIT_S = 60.0


def _row(label: str, plan: object, seconds: float) -> None:
    from dispatch.plan.siting import Siting

    assert isinstance(plan, Siting)
    verdict = "pass" if plan.optimal and seconds <= LIMIT_S else "FAIL"
    print(
        f"{label:<44} {seconds:7.2f} s  {plan.status:<8} gap {100 * plan.gap:5.2f} %  "
        f"value {plan.value:14,.1f}  {verdict} (limit {LIMIT_S:g} s)"
    )


def stlouis_by_neighbourhood() -> tuple[np.ndarray, np.ndarray]:
    """Cost (neighbourhood centroid x candidate, seconds) and calls per neighbourhood."""
    import json

    import pandas as pd
    import shapely
    from shapely.geometry import shape

    from dispatch.datasets import stlouis
    from dispatch.travel import haversine_m

    data = stlouis()
    features = [f for f in json.loads(data.neighborhoods.read_text())["features"] if f["geometry"]]
    shapes = [shape(f["geometry"]) for f in features]
    calls = pd.read_csv(data.calls)
    x, y = calls["lon"].to_numpy(), calls["lat"].to_numpy()
    counts = np.array([float(shapely.contains_xy(s, x, y).sum()) for s in shapes])
    centre = [s.centroid for s in shapes]
    cands = pd.read_csv(data.stations.parent / "candidate_posts.csv")
    lat = np.array([c.y for c in centre])
    lon = np.array([c.x for c in centre])
    metres = haversine_m(
        lat[:, None],
        lon[:, None],
        cands["lat"].to_numpy()[None, :],
        cands["lon"].to_numpy()[None, :],
    )
    return metres * 1.3 / (40 / 3.6), counts


def main() -> None:
    import dispatch
    from dispatch.datasets import example_scenario, stlouis
    from dispatch.plan.posts import aggregate_demand, read_candidates, travel_cost
    from dispatch.plan.siting import site_posts

    try:
        cost, weight = stlouis_by_neighbourhood()
        for k in (4, 8):
            start = time.perf_counter()
            plan = site_posts(cost, k, weights=weight, time_limit_s=LIMIT_S)
            _row(
                f"St. Louis neighbourhoods {cost.shape}, p-median k={k}",
                plan,
                time.perf_counter() - start,
            )
    except ImportError:
        print("St. Louis by neighbourhood: needs shapely (the geo extra); skipped")

    scenario = dispatch.load_scenario(example_scenario("stlouis_cru"))
    demand = aggregate_demand(scenario, cell_m=500.0)
    cands = read_candidates(stlouis().stations.parent / "candidate_posts.csv")
    cost = travel_cost(
        scenario.travel, demand.places, scenario.travel.snap_many(cands.lat, cands.lon)
    )
    for k, objective, cover in ((4, "p-median", None), (8, "p-median", None), (4, "mclp", 600.0)):
        start = time.perf_counter()
        plan = site_posts(
            cost, k, objective=objective, weights=demand.weight, cover=cover, time_limit_s=LIMIT_S
        )
        _row(
            f"St. Louis 500 m cells {cost.shape}, {objective} k={k}",
            plan,
            time.perf_counter() - start,
        )
    fixed = tuple(int(j) for j in np.flatnonzero(cands.existing))
    start = time.perf_counter()
    plan = site_posts(cost, 6, weights=demand.weight, fixed=fixed, time_limit_s=LIMIT_S)
    _row("St. Louis 500 m cells, 4 stations kept, k=6", plan, time.perf_counter() - start)

    rng = np.random.default_rng(1)
    points = rng.random((200, 2)) * 10_000.0
    cost200 = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    weight200 = rng.integers(1, 10, 200).astype(float)
    for k in (5, 10, 20):
        start = time.perf_counter()
        plan = site_posts(cost200, k, weights=weight200, time_limit_s=LIMIT_S)
        _row(f"200 nodes (200, 200), p-median k={k}", plan, time.perf_counter() - start)
    start = time.perf_counter()
    plan = site_posts(cost200, 10, objective="mclp", weights=weight200, cover=1500.0)
    _row("200 nodes (200, 200), mclp k=10 cover 1.5 km", plan, time.perf_counter() - start)


if __name__ == "__main__":
    main()
