"""Bounded searches on road networks: landmark upper bounds, `times_within`, and the matcher
and replay answers they give, which must be those of full searches to the last bit.

A road network's oracle offers upper bounds through its pinned places (stations, facilities);
the matcher then searches only as far as can matter to its choice. Each check here compares
against an oracle that has no bounds (`Unbounded`), so it searches every row in full.
"""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from simhelpers import fixed_service, random_log, scenario, team

from dispatch.match import Matcher
from dispatch.match.fleet import Fleet
from dispatch.match.wellness import WellnessRules
from dispatch.model import RiskLevel, TeamKind
from dispatch.networks import road_grid
from dispatch.scenario import PolicySpec, Site
from dispatch.sim.prepare import prepare
from dispatch.sim.run import run_replication
from dispatch.travel import RoadNetworkTimes, TravelTimes

SIDE = 18
LANDMARKS = [0, 40, 170, SIDE * SIDE - 1]
KINDS = list(TeamKind)


class Unbounded(RoadNetworkTimes):
    """The same network without upper bounds: every answer from a full search."""

    upper_bounds = TravelTimes.upper_bounds


def grid(*, unbounded: bool = False, jitter: float = 0.2) -> RoadNetworkTimes:
    """An 18 x 18 road grid with one-way streets (``jitter`` 0: equal blocks, many ties),
    whose row cache holds a few rows: a replay then searches as a big city's does."""
    travel = road_grid(SIDE, SIDE, jitter=jitter, cache_mb=0.02)
    if unbounded:
        travel.__class__ = Unbounded
    travel.warm(LANDMARKS, pin=True)
    return travel


def test_upper_bounds_hold_and_are_exact_at_the_landmarks() -> None:
    travel = grid()
    everyone = np.arange(travel.n_places)
    rng = np.random.default_rng(3)
    for destination in rng.integers(0, travel.n_places, 40).tolist():
        exact = travel.times_to(everyone, destination)
        bounds = travel.upper_bounds(everyone, destination)
        assert bounds is not None
        assert (bounds >= exact).all()
        at_mark = exact[LANDMARKS]
        np.testing.assert_allclose(bounds[LANDMARKS], at_mark, rtol=1e-8, atol=1e-5)
        # a bound through a landmark is a real way there: finite on a strongly connected grid
        assert np.isfinite(bounds).all()


def test_no_pinned_place_means_no_bounds() -> None:
    travel = road_grid(6, 6)
    assert travel.upper_bounds(np.arange(36), 7) is None
    assert TravelTimes.straight_line().upper_bounds(np.array([0]), 0) is None


@pytest.mark.parametrize("jitter", [0.0, 0.2])
def test_times_within_is_exact_up_to_its_bound(jitter: float) -> None:
    bounded, full = grid(jitter=jitter), grid(unbounded=True, jitter=jitter)
    everyone = np.arange(bounded.n_places)
    rng = np.random.default_rng(5)
    others = np.setdiff1d(everyone, LANDMARKS)  # (a landmark's full row is pinned)
    for destination in rng.choice(others, 30, replace=False).tolist():
        exact = full.times_to(everyone, destination)
        bound = float(rng.uniform(30.0, 600.0))
        got = bounded.times_within(everyone, destination, None, bound)
        near = exact <= bound
        assert near.any()
        np.testing.assert_array_equal(got[near], exact[near])  # bit for bit
        reached = np.isfinite(got)
        np.testing.assert_array_equal(got[reached], exact[reached])
        assert (exact[~reached] > bound).all()
        # what the bounded row reaches, `time` and `route` answer from it, as a full row would
        for origin in rng.choice(np.flatnonzero(near), 5).tolist():
            assert bounded.time(origin, destination) == exact[origin]
            ours, theirs = bounded.route(origin, destination), full.route(origin, destination)
            np.testing.assert_array_equal(ours.places, theirs.places)
            np.testing.assert_array_equal(ours.elapsed_s, theirs.elapsed_s)
    assert bounded.bounded_searches == 30


def test_a_bound_past_the_cut_off_is_the_full_row() -> None:
    travel = grid()
    before = travel.bounded_searches
    everyone = np.arange(travel.n_places)
    got = travel.times_within(everyone, 100, None, travel.cutoff_s * 2)
    assert travel.bounded_searches == before
    np.testing.assert_array_equal(got, grid(unbounded=True).times_to(everyone, 100))


@st.composite
def fleets(draw: Any) -> tuple[list[TeamKind], list[bool], list[int], list[bool], list[float]]:
    n = draw(st.integers(1, 14))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    cit = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    # teams sit at landmarks (stations) more often than not, as in a replay
    at = st.one_of(st.sampled_from(LANDMARKS), st.integers(0, SIDE * SIDE - 1))
    places = draw(st.lists(at, min_size=n, max_size=n))
    free = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    loads = draw(st.lists(st.floats(0.0, 3600.0), min_size=n, max_size=n))
    return kinds, cit, places, free, loads


BOUNDED, FULL = grid(), grid(unbounded=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fleet=fleets(),
    destination=st.integers(0, SIDE * SIDE - 1),
    risk=st.sampled_from(list(RiskLevel)),
    specialist_only=st.booleans(),
    margin=st.one_of(st.none(), st.floats(0.0, 600.0)),
)
def test_best_with_bounds_is_best_without(
    fleet: tuple[list[TeamKind], list[bool], list[int], list[bool], list[float]],
    destination: int,
    risk: RiskLevel,
    specialist_only: bool,
    margin: float | None,
) -> None:
    kinds, cit, places, free, loads = fleet
    wellness = None
    if margin is not None:  # the tie-break compares ETAs within its margin: all must be exact
        wellness = WellnessRules(
            recovery_min=None, max_consecutive=None, utilization_cap=None, fairness_margin_s=margin
        )
    answers = []
    for travel in (BOUNDED, FULL):
        teams = Fleet([f"T{k:02d}" for k in range(len(kinds))], kinds, cit, places)
        teams.dispatchable[:] = free
        teams.load_s[:] = loads
        matcher = Matcher(travel, wellness=wellness)
        answers.append(
            matcher.best(destination, risk, teams, specialist_only=specialist_only, now_s=0.0)
        )
    assert answers[0] == answers[1]


def city(travel: RoadNetworkTimes) -> Any:
    """Two days of a small city on ``travel``: mixed teams at three stations, a hospital,
    transports, the default wellness rules and fallback to the city's own patrol units."""
    rng = np.random.default_rng(11)
    log = random_log(rng, 260, days=2.0)
    nodes = rng.integers(0, travel.n_places, len(log))
    lats, lons = travel.coordinates(nodes)
    log["lat"], log["lon"] = lats, lons
    lat, lon = travel.coordinates(np.array([0, 170, SIDE * SIDE - 1]))
    stations = [Site(f"S{k}", float(lat[k]), float(lon[k])) for k in range(3)]
    teams = [
        team(f"CR{k}", f"S{k % 3}", kind=TeamKind.CO_RESPONDER, cit=k % 2 == 0) for k in range(4)
    ]
    teams += [team("MCT", "S1", kind=TeamKind.CLINICIAN, cit=False)]
    teams += [team(f"P{k}", f"S{k}", kind=TeamKind.PATROL, cit=False) for k in range(3)]
    h_lat, h_lon = travel.coordinates(np.array([SIDE * SIDE // 2]))
    return scenario(
        pd.DataFrame(log),
        teams,
        stations=stations,
        facilities=[Site("H", float(h_lat[0]), float(h_lon[0]))],
        service=fixed_service(transport_share=0.3),
        policy=PolicySpec(fallback="teams", wellness=WellnessRules()),
        oracle=travel,
    )


@pytest.mark.parametrize("jitter", [0.0, 0.2])
def test_a_replay_with_bounds_is_the_replay_without(jitter: float) -> None:
    bounded, full = grid(jitter=jitter), grid(unbounded=True, jitter=jitter)
    outputs = []
    for travel in (bounded, full):
        prep = prepare(city(travel))
        outputs.append(run_replication(prep, 0, event_log=True))
    assert bounded.bounded_searches > 100  # the bounded path was taken, call after call
    assert full.bounded_searches == 0
    for ours, theirs in zip(outputs[0], outputs[1], strict=True):
        assert ours is not None and theirs is not None
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_known_rows_answer_within_their_radius_and_fit_one_budget() -> None:
    bounded, full = grid(), grid(unbounded=True)
    everyone = np.arange(bounded.n_places)
    assert bounded.times_known(everyone, 100) is None  # nothing searched yet
    bounded.times_within(everyone, 100, None, 240.0)
    known = bounded.times_known(everyone, 100)
    assert known is not None
    radius, seconds = known
    assert radius >= 240.0
    exact = full.times_to(everyone, 100)
    reached = np.isfinite(seconds)
    np.testing.assert_array_equal(seconds[reached], exact[reached])
    assert (exact[~reached] > radius).all() and (exact <= 240.0).sum() <= reached.sum()
    pinned = bounded.times_known(everyone, LANDMARKS[0])  # a whole row: every time exact
    assert pinned is not None and pinned[0] == np.inf
    np.testing.assert_array_equal(pinned[1], full.times_to(everyone, LANDMARKS[0]))


def test_sparse_rows_keep_the_newest_within_the_budget_less_whole_rows() -> None:
    from dispatch.travel import SparseRows

    rows = SparseRows(1000 * 12 / 2**20)  # room for 1,000 reached nodes
    reach = np.zeros(400)
    for key in range(3):
        rows.add(key, 60.0, reach)  # 400 nodes each: the third pushes out the first
    assert rows.times(0, np.array([0])) is None and len(rows) == 2
    rows.trim(others=12 * 300)  # whole rows took 300 nodes' worth: one more goes
    assert len(rows) == 1 and rows.times(2, np.array([5]), reaching=60.0) is not None


def test_best_over_a_narrow_known_row_is_best_without() -> None:
    """A row kept from an earlier, narrower search answers only when no team beyond its
    radius could win: fleets placed just inside and just outside the radius."""
    bounded, full = grid(), grid(unbounded=True)
    everyone = np.arange(bounded.n_places)
    rng = np.random.default_rng(17)
    beyond_won = 0
    for destination in rng.choice(np.setdiff1d(everyone, LANDMARKS), 80, replace=False).tolist():
        exact = full.times_to(everyone, destination)
        radius = float(rng.uniform(40.0, 200.0))
        bounded.times_within(everyone, destination, None, radius)  # the narrow row, kept
        inside = np.flatnonzero(exact <= radius)
        beyond = np.flatnonzero((exact > radius) & (exact <= radius + 150.0))
        if not len(beyond):  # (a radius reaching the far corners)
            continue
        for _ in range(4):
            places = [*rng.choice(inside, 2), *rng.choice(beyond, 3), int(rng.choice(LANDMARKS))]
            kinds = [KINDS[int(k)] for k in rng.integers(0, len(KINDS), len(places))]
            free = rng.random(len(places)) < 0.7
            cit = (rng.random(len(places)) < 0.5).tolist()  # a CIT penalty within a tier
            loads = rng.uniform(0.0, 3600.0, len(places))
            margin = float(rng.choice([0.0, 30.0, 90.0]))
            risk = list(RiskLevel)[int(rng.integers(0, len(RiskLevel)))]
            wellness = WellnessRules(
                recovery_min=None,
                max_consecutive=None,
                utilization_cap=None,
                fairness_margin_s=margin,
            )
            answers = []
            for travel in (bounded, full):
                teams = Fleet([f"T{k}" for k in range(len(places))], kinds, cit, places)
                teams.dispatchable[:] = free
                teams.load_s[:] = loads
                matcher = Matcher(travel, wellness=wellness if margin else None)
                answers.append(matcher.best(destination, risk, teams))
            assert answers[0] == answers[1]
            if answers[0].row >= 0 and exact[places[answers[0].row]] > radius:
                beyond_won += 1
    assert beyond_won > 20  # calls a team beyond the kept radius had to win
