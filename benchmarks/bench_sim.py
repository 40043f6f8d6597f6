"""Replay speed: calls simulated per second, against a minimal SimPy lifecycle in the same run.

A 100k-call replay on the downtown Denver network with 20 co-responder teams (every decision
through the Matcher, travel on the road graph, transports, returns) next to the smallest SimPy
model of the same load: each call arrives, takes a unit from a `simpy.Resource`, holds it for its
service time and releases it. Goal (issue): at least 40k calls/s and within 2x of the minimal one.

Run: ``.venv/bin/python benchmarks/bench_sim.py``
"""

from __future__ import annotations

import time

import numpy as np
import simpy

from dispatch.distributions import Distribution
from dispatch.model import TeamKind
from dispatch.networks import denver_network
from dispatch.scenario import PolicySpec, Scenario, ServiceSpec, Site, SyntheticCalls, TeamSpec
from dispatch.sim.prepare import draw, effective_risks, prepare, replication_calls, streams
from dispatch.sim.run import run_replication

N_TEAMS = 20
CALLS_PER_DAY = 330.0
DAYS = 100_000 / CALLS_PER_DAY


def denver_scenario() -> Scenario:
    travel = denver_network()
    lats, lons = travel.coordinates(np.arange(travel.n_places))
    locations = [(float(a), float(b), 1.0) for a, b in zip(lats, lons, strict=True)]
    return Scenario(
        name="Denver 100k",
        travel=travel,
        calls=SyntheticCalls(calls_per_day=CALLS_PER_DAY, days=DAYS, locations=locations),
        teams=tuple(
            TeamSpec(f"T{i:02d}", TeamKind.CO_RESPONDER, f"S{i % 4}", cit=True)
            for i in range(N_TEAMS)
        ),
        stations=tuple(Site(f"S{k}", *locations[k * 97][:2]) for k in range(4)),
        facilities=(Site("F", *locations[200][:2]),),
        service=ServiceSpec(on_scene={"default": Distribution.lognormal(43 * 60.0, 0.6)}),
        policy=PolicySpec(fallback_after_min=10.0),
        seed=1,
    )


def minimal_simpy(arrivals_s: np.ndarray, hold_s: np.ndarray, capacity: int) -> float:
    """Seconds to run arrive -> request a unit -> hold -> release for every call."""
    env = simpy.Environment()
    units = simpy.Resource(env, capacity=capacity)

    def call(hold: float):  # type: ignore[no-untyped-def]
        with units.request() as req:
            yield req
            yield env.timeout(hold)

    def source():  # type: ignore[no-untyped-def]
        last = 0.0
        for t, hold in zip(arrivals_s.tolist(), hold_s.tolist(), strict=True):
            yield env.timeout(t - last)
            last = t
            env.process(call(hold))

    env.process(source())
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def main() -> None:
    scenario = denver_scenario()
    t0 = time.perf_counter()
    prep = prepare(scenario)
    t_prep = time.perf_counter() - t0
    calls = replication_calls(prep, streams(scenario.seed, 0)["calls"])
    n = len(calls)
    # Warm-up replication fills the travel cache (shared across replications by design).
    run_replication(prep, 0)
    best = []
    for _ in range(3):
        t0 = time.perf_counter()
        run_replication(prep, 0)
        best.append(time.perf_counter() - t0)
    replay_s = min(best)
    rngs = streams(scenario.seed, 0)
    draws = draw(prep, calls, rngs)
    effective_risks(prep, calls)
    hold = draws.on_scene_s + draws.turnout_s + 300.0
    minimal_s = min(minimal_simpy(calls.received_s, hold, N_TEAMS) for _ in range(3))
    rate = n / replay_s
    minimal_rate = n / minimal_s
    ratio = replay_s / minimal_s
    print(f"calls per replication     {n:,}  ({DAYS:.0f} days, {N_TEAMS} teams, Denver network)")
    print(f"prepare (once per data)   {t_prep:.2f} s")
    print(f"replay, with results      {replay_s:.2f} s  = {rate:,.0f} calls/s")
    print(f"minimal SimPy lifecycle   {minimal_s:.2f} s  = {minimal_rate:,.0f} calls/s")
    print(f"ratio replay/minimal      {ratio:.2f}x")
    print(f"goal >= 40,000 calls/s:   {'PASS' if rate >= 40_000 else 'MISS'}")
    print(f"goal within 2x minimal:   {'PASS' if ratio <= 2.0 else 'MISS'}")


if __name__ == "__main__":
    main()
