"""Matcher latency with the wellness rules on, next to off, in the same run.

One call against 200 teams on the downtown Denver network, warm rows, `Matcher.best` (the path
the simulator takes) and `Matcher.recommend` with explanations. Goal (issue): rules on under
1.5x rules off.

Run: ``.venv/bin/python benchmarks/bench_wellness.py``
"""

from __future__ import annotations

import time

import numpy as np

from dispatch.match import Fleet, Matcher
from dispatch.match.wellness import WellnessRules
from dispatch.model import Call, RiskLevel, TeamKind
from dispatch.networks import denver_network

N_TEAMS = 200
REPEATS = 3000


def fleet_on(travel: object, rng: np.random.Generator, *, held_share: float = 0.1) -> Fleet:
    from dispatch.travel import TravelTimes

    assert isinstance(travel, TravelTimes)
    places = rng.choice(travel.n_places, N_TEAMS)
    kinds = rng.choice(list(TeamKind), N_TEAMS)
    cit = [
        k is TeamKind.CIT_OFFICER or (k is not TeamKind.CLINICIAN and rng.random() < 0.6)
        for k in kinds
    ]
    fleet = Fleet([f"T{i:03d}" for i in range(N_TEAMS)], list(kinds), cit, places)
    fleet.dispatchable[rng.random(N_TEAMS) < 0.3] = False
    # Wellness state: about ``held_share`` of the teams held back (a third each by recovery,
    # streak and utilization), the rest with streaks and loads below the limits.
    held = rng.random(N_TEAMS) < held_share
    rule = rng.integers(0, 3, N_TEAMS)
    fleet.recovering_until_s[held & (rule == 0)] = 1e9
    fleet.streak[:] = np.where(held & (rule == 1), 3, rng.integers(0, 3, N_TEAMS))
    fleet.recent_utilization[:] = np.where(held & (rule == 2), 0.7, rng.uniform(0, 0.55, N_TEAMS))
    fleet.load_s[:] = rng.uniform(0, 20_000, N_TEAMS)
    return fleet


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    a = np.asarray(samples_ns) / 1000.0
    return float(np.percentile(a, 50)), float(np.percentile(a, 99))


def measure(fn: object, calls: list[tuple[int, RiskLevel]]) -> list[int]:
    assert callable(fn)
    out = []
    for place, risk in calls:
        t0 = time.perf_counter_ns()
        fn(place, risk)
        out.append(time.perf_counter_ns() - t0)
    return out


def main() -> None:
    rng = np.random.default_rng(7)
    travel = denver_network()
    travel.warm(np.arange(travel.n_places))
    fleet = fleet_on(travel, rng, held_share=0.1)
    heavy = fleet_on(travel, np.random.default_rng(8), held_share=0.5)
    plain = Matcher(travel)
    well = Matcher(travel, wellness=WellnessRules())
    risks = list(RiskLevel)
    calls = [
        (int(rng.integers(travel.n_places)), risks[int(rng.integers(3))]) for _ in range(REPEATS)
    ]
    print(
        f"Denver {travel.n_places} nodes, {N_TEAMS} teams, {REPEATS} warm calls each; "
        "10% of teams held by a wellness rule"
    )
    rows = []
    for label, matcher in (("rules off", plain), ("rules on", well)):
        samples = measure(lambda p, r, m=matcher: m.best(p, r, fleet, now_s=0.0, priority=2), calls)
        rows.append((f"best()      {label}", *percentiles(samples)))
    heavy_samples = measure(lambda p, r: well.best(p, r, heavy, now_s=0.0, priority=2), calls)
    lat, lon = travel.coordinates(np.array([c[0] for c in calls]))
    call_objs = [
        Call(f"c{k}", float(a), float(b), received_s=0.0, risk=calls[k][1])
        for k, (a, b) in enumerate(zip(lat, lon, strict=True))
    ]
    for label, matcher in (("rules off", plain), ("rules on", well)):
        out = []
        for call in call_objs:
            t0 = time.perf_counter_ns()
            matcher.recommend(call, fleet)
            out.append(time.perf_counter_ns() - t0)
        rows.append((f"recommend() {label}", *percentiles(out)))
    for name, p50, p99 in rows:
        print(f"  {name:<24} p50 {p50:8.1f} us   p99 {p99:8.1f} us")
    print(
        "  best()      rules on, half the fleet held   p50 {:8.1f} us   p99 {:8.1f} us".format(
            *percentiles(heavy_samples)
        )
    )
    for k in (0, 2):
        ratio = rows[k + 1][1] / rows[k][1]
        verdict = "PASS" if ratio < 1.5 else "MISS"
        print(
            f"  {rows[k][0].split()[0]:<12} on/off p50 ratio {ratio:.2f}x  (goal < 1.5x: {verdict})"
        )


if __name__ == "__main__":
    main()
