"""District-first dispatch with run cards: a hand-worked example, and the hypercube as oracle.

The replay's district-first workloads and dispatch fractions are compared with the exact
hypercube queueing model (Larson 1974, `dispatch.plan.hypercube`) for the same preference
lists, in its two variants: zero-line capacity (a call finding every unit busy goes to the
fallback pool at once) and infinite-line capacity (it waits, first come first served). Travel
is made negligible (a straight-line oracle at a huge speed) and time on scene exponential, as
the model assumes; agreement is judged against batch-means standard errors.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from simhelpers import line_street

import dispatch
from dispatch.dispatcher import Dispatch, Dispatcher
from dispatch.errors import InputError
from dispatch.match import Matcher, Verdict
from dispatch.match.policy import DistrictFirst, RunCard
from dispatch.match.rules import default_rules
from dispatch.model import Call, RiskLevel, Team, TeamKind
from dispatch.plan import hypercube
from dispatch.sim.engine import NOT_SERVED, SPECIALIST, CallDraws, FleetSetup, Replay
from dispatch.sim.prepare import prepare
from dispatch.travel import TravelTimes

CO = TeamKind.CO_RESPONDER


def test_two_districts_by_hand() -> None:
    """West (nodes 0-2, team W1 at node 2) and East (nodes 3-4, team E1 at node 3).

    A call at node 3 in zone W: nearest-first sends E1 (0 s away); district-first sends W1
    (60 s), its own district's team, and names why E1 lost. With W1 busy, E1 goes (zone W's
    run card: W, then E). A call with no zone is dispatched nearest-first.
    """
    travel = line_street()
    policy = DistrictFirst(default_rules(), {"W1": "W", "E1": "E"}, [RunCard("W", ("W", "E"))])
    teams = [Team("W1", CO, 39.70, -104.99, cit=True), Team("E1", CO, 39.70, -104.985, cit=True)]
    call = Call("c1", 39.70, -104.985, zone="W")
    assert Matcher(travel).recommend(call, teams).team_id == "E1"
    rec = Matcher(travel, policy=policy).recommend(call, teams)
    assert (rec.team_id, rec.eta_s) == ("W1", 60.0)
    lost = {a.team_id: a for a in rec.alternatives}["E1"]
    assert lost.verdict is Verdict.LOWER_PREFERENCE
    assert lost.detail == "district E answers zone W after district W on its run card"
    assert Matcher(travel, policy=policy).recommend(Call("c2", 39.70, -104.985), teams).team_id == (
        "E1"
    )
    session = Dispatcher.from_columns(
        Matcher(travel, policy=policy), ["W1", "E1"], [CO, CO], [True, True], stations=[2, 3]
    )
    session.shift_started("W1", 0.0)
    session.shift_started("E1", 0.0)
    first = session.call_ready("a", 10.0, place=3, risk=RiskLevel.STANDARD, zone="W")
    second = session.call_ready("b", 20.0, place=3, risk=RiskLevel.STANDARD, zone="W")
    assert first == [Dispatch("a", "W1", 60.0, True)]
    assert second == [Dispatch("b", "E1", 0.0, True)]


def test_run_cards_by_call_type_and_their_errors() -> None:
    policy = DistrictFirst(
        default_rules(),
        {},
        [RunCard("A", ("A", "B")), RunCard("A", ("A", "C"), frozenset({"suicidal"}))],
    )
    assert policy.card("A") == ("A", "B")
    assert policy.card("A", "suicidal") == ("A", "C")
    assert policy.card("Z") == ("Z",)
    with pytest.raises(InputError, match="two run cards"):
        DistrictFirst(default_rules(), {}, [RunCard("A", ("A",)), RunCard("A", ("B",))])
    with pytest.raises(InputError, match="repeats"):
        RunCard("A", ("A", "B", "A"))


# Three units, one per district; four atoms (the fourth is a zone without its own unit).
PREFERENCES = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [1, 0, 2]]
RATES = np.array([0.9, 0.5, 0.6, 0.4])  # calls per hour by atom
MU = 1.0  # per hour: mean time on scene one hour


def replay_district_first(*, capacity: str, seed: int, hours: float) -> tuple[Replay, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = rng.poisson(RATES.sum() * hours)
    received = np.sort(rng.uniform(0, hours * 3600.0, n))
    atom = rng.choice(len(RATES), size=n, p=RATES / RATES.sum())
    zones = ["Z0", "Z1", "Z2", "Z3"]
    cards = [RunCard(zones[j], tuple(f"Z{u}" for u in p)) for j, p in enumerate(PREFERENCES)]
    policy = DistrictFirst(default_rules(), {"U0": "Z0", "U1": "Z1", "U2": "Z2"}, cards)
    # All places a few metres apart and a huge speed: travel is negligible, as in the model.
    travel = TravelTimes.straight_line(speed_kph=1.0e7, circuity=1.0)
    places = travel.snap_many(39.7 + 1e-5 * np.arange(4), np.full(4, -105.0))
    setup = FleetSetup(
        team_ids=["U0", "U1", "U2"],
        kinds=[CO, CO, CO],
        cit=[True, True, True],
        station_place=places[:3].copy(),
        duty=[[(0.0, hours * 3600.0 * 2)]] * 3,
        facility_place=places[:1].copy(),
    )
    zeros = np.zeros(n)
    replay = Replay(
        Matcher(travel, policy=policy),
        setup,
        call_ids=np.arange(n).astype(str).astype(object),
        received_s=received,
        place=places[atom],
        risk=[RiskLevel.STANDARD] * n,
        priority=np.full(n, 2),
        simulated=np.ones(n, dtype=bool),
        draws=CallDraws(
            zeros, zeros, rng.exponential(3600.0 / MU, n), np.zeros(n, bool), zeros, zeros
        ),
        fallback_after_s=0.0 if capacity == "zero" else None,
        pool_fallback=True,
        horizon_s=hours * 3600.0 * 1.5,
        zone=[zones[j] for j in atom],
    )
    return replay, atom


def batch_means(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over batches (rows are batches)."""
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(len(values))


@pytest.mark.slow
@pytest.mark.parametrize("capacity", ["zero", "infinite"])
def test_district_first_agrees_with_the_hypercube(capacity: str) -> None:
    hours, batches = 12_000.0, 20
    replay, atom = replay_district_first(capacity=capacity, seed=7, hours=hours)
    rec = replay.run()
    exact = hypercube(RATES, PREFERENCES, MU, capacity=capacity)  # type: ignore[arg-type]
    # Per batch of consecutive hours: dispatch fractions, loss and each unit's busy share.
    edges = np.linspace(0.0, hours * 3600.0, batches + 1)
    which = np.searchsorted(edges, replay.received_s, side="right") - 1
    n_units, n_atoms = 3, len(RATES)
    fractions = np.zeros((batches, n_units, n_atoms))
    loss = np.zeros((batches, 1))
    busy = np.zeros((batches, n_units))
    for b in range(batches):
        rows = which == b
        sent = rows & (rec.outcome == SPECIALIST)
        np.add.at(fractions[b], (rec.team[sent], atom[sent]), 1.0)
        fractions[b] /= rows.sum()
        loss[b] = (rows & (rec.outcome != SPECIALIST)).sum() / rows.sum()
        start, end = edges[b], edges[b + 1]
        for i in range(n_units):
            mine = rec.team == i
            overlap = np.clip(
                np.minimum(rec.cleared_s[mine], end) - np.maximum(rec.dispatched_s[mine], start),
                0.0,
                None,
            )
            busy[b, i] = overlap.sum() / (end - start)
    assert not (rec.outcome == NOT_SERVED).any() or capacity == "infinite"
    for got, want in (
        (batch_means(fractions.reshape(batches, -1)), exact.dispatch_fractions.ravel()),
        (batch_means(busy), exact.workloads),
        (batch_means(loss), np.array([exact.loss_probability])),
    ):
        mean, se = got
        assert np.all(np.abs(mean - want) <= 4.0 * se + 1e-3), (mean, want, se)
    # And the policy matters: nearest-first would not give these fractions (no run cards).
    assert exact.dispatch_fractions[1, 3] > exact.dispatch_fractions[0, 3] > 0


BASE = Path(__file__).resolve().parent / "data" / "scenarios" / "base" / "scenario.toml"
HALVES = {
    "type": "FeatureCollection",
    "features": [
        {
            "properties": {"district": name},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-90.4, lo], [-90.0, lo], [-90.0, hi], [-90.4, hi], [-90.4, lo]]],
            },
        }
        for name, lo, hi in (("north", 38.60, 38.80), ("south", 38.50, 38.60))
    ],
}


def district_scenario(tmp_path: Path, policy: str) -> Path:
    (tmp_path / "halves.geojson").write_text(json.dumps(HALVES))
    path = tmp_path / "districts.toml"
    path.write_text(f'extends = "{BASE}"\nname = "districts"\n{policy}')
    return path


def test_a_district_first_scenario_file(tmp_path: Path) -> None:
    path = district_scenario(
        tmp_path,
        '[policy]\nkind = "district_first"\n'
        '[policy.districts]\npath = "halves.geojson"\nproperty = "district"\n'
        '[[policy.run_cards]]\nzone = "south"\ndistricts = ["south", "north"]\n',
    )
    scenario = dispatch.load_scenario(path)
    prep = prepare(scenario)
    policy = prep.matcher.policy
    assert isinstance(policy, DistrictFirst)
    # Districts from the stations' places: hq is in the north half, south in the south.
    assert dict(policy.team_district) == {
        "CR-day-1": "north",
        "CR-day-2": "north",
        "CR-eve": "south",
        "clinician": "north",
        "cit": "south",
    }
    base = prep.base_calls
    assert base is not None and scenario.policy.districts is not None
    zone = dict(
        zip(base.call_id, scenario.policy.districts.zone_of(base.lat, base.lon), strict=True)
    )

    def own_district_share(scenario: Any) -> float:
        calls = dispatch.simulate(scenario, replications=1).calls
        assert len(calls) == len(base.call_id)  # every call accounted for
        served = calls[calls["outcome"] == "specialist"]
        own = [
            policy.team_district[t] == zone[c]
            for t, c in zip(served.team_id, served.call_id, strict=True)
        ]
        return float(np.mean(own))

    # The same calls and seed nearest-first: fewer calls answered by their own district.
    assert own_district_share(scenario) > own_district_share(dispatch.load_scenario(BASE))


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ('[policy]\nkind = "district_first"\n', "needs \\[policy.districts\\] \\(polygons\\)"),
        (
            '[policy]\nkind = "district_first"\n'
            '[policy.districts]\npath = "halves.geojson"\nproperty = "district"\n'
            '[[policy.run_cards]]\nzone = "south"\ndistricts = ["south", "east"]\n',
            "unknown district\\(s\\) 'east'",
        ),
        (
            '[policy]\nkind = "district_first"\n'
            '[policy.districts]\npath = "halves.geojson"\nproperty = "NAME"\n',
            "no property 'NAME'",
        ),
        ('[policy]\nkind = "nearest_first"\n', "policy.kind"),
        (
            '[policy]\nkind = "district_first"\n'
            '[policy.districts]\npath = "halves.geojson"\nproperty = "district"\n'
            '[[policy.run_cards]]\nzone = "south"\ndistricts = ["south"]\nstart = "07:00"\n',
            "both start and end",
        ),
    ],
)
def test_district_first_scenario_errors(tmp_path: Path, policy: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        dispatch.load_scenario(district_scenario(tmp_path, policy))


def test_run_cards_by_time_of_week() -> None:
    """Weekday mornings zone A borrows from district C; otherwise from B (local time)."""
    morning = RunCard("A", ("A", "C"), days=frozenset(range(5)), start_min=7 * 60, end_min=9 * 60)
    policy = DistrictFirst(
        default_rules(), {}, [RunCard("A", ("A", "B")), morning], timezone="America/Chicago"
    )
    with pytest.raises(InputError, match="anchored"):
        policy.card("A", now_s=8 * 3600.0)
    assert policy.card("A") == ("A", "B")  # no time: the all-week card
    monday = pd.Timestamp("2025-03-03", tz="America/Chicago")
    anchored = policy.anchored(monday)
    hour = 3600.0
    assert anchored.card("A", now_s=8 * hour) == ("A", "C")
    assert anchored.card("A", now_s=10 * hour) == ("A", "B")
    assert anchored.card("A", now_s=(5 * 24 + 8) * hour) == ("A", "B")  # Saturday
    # A week later the clocks have gone forward (9 March): 07:00-09:00 local is an hour
    # earlier on the clock that started on the 3rd.
    assert anchored.card("A", now_s=(7 * 24 + 5.5) * hour) == ("A", "B")  # 06:30 local
    assert anchored.card("A", now_s=(7 * 24 + 6.5) * hour) == ("A", "C")  # 07:30
    assert anchored.card("A", now_s=(7 * 24 + 7.5) * hour) == ("A", "C")  # 08:30
    assert anchored.card("A", now_s=(7 * 24 + 8.5) * hour) == ("A", "B")  # 09:30
    with pytest.raises(InputError, match="overlap"):
        DistrictFirst(default_rules(), {}, [morning, replace(morning, districts=("A", "B"))])


TEAMS_WITH_DISTRICTS = """
[[teams]]
id = "CR-day"
count = 2
kind = "co_responder"
cit = true
station = "hq"
shift = "day"
district = "north"

[[teams]]
id = "CR-eve"
kind = "co_responder"
station = "south"
shift = "evening"
district = "south"

[[teams]]
id = "clinician"
kind = "clinician"
station = "hq"
shift = ["day", "evening"]
district = "north"

[[teams]]
id = "cit"
kind = "cit_officer"
cit = true
station = "south"
district = "south"
"""


def test_zones_from_the_call_log_match_zones_from_polygons(tmp_path: Path) -> None:
    """The same districts given as a ``zone`` column and team keys, or as polygons, dispatch
    every call the same way."""
    cards = '[[policy.run_cards]]\nzone = "south"\ndistricts = ["south", "north"]\n'
    by_polygons = district_scenario(
        tmp_path,
        '[policy]\nkind = "district_first"\n'
        '[policy.districts]\npath = "halves.geojson"\nproperty = "district"\n' + cards,
    )
    log = pd.read_csv(BASE.parent / "calls.csv")
    log["zone"] = np.where(log["lat"] >= 38.60, "north", "south")
    log.to_csv(tmp_path / "zoned.csv", index=False)
    by_column = tmp_path / "zoned.toml"
    by_column.write_text(
        f'extends = "{BASE}"\nname = "districts"\n[calls]\npath = "zoned.csv"\n'
        '[policy]\nkind = "district_first"\n' + cards + TEAMS_WITH_DISTRICTS
    )
    a = dispatch.simulate(dispatch.load_scenario(by_polygons), replications=2).calls
    b = dispatch.simulate(dispatch.load_scenario(by_column), replications=2).calls
    pd.testing.assert_frame_equal(a, b)
    nearest = dispatch.simulate(dispatch.load_scenario(BASE), replications=2).calls
    assert not a["team_id"].equals(nearest["team_id"])  # the policy did change choices
