"""Work done once per scenario and shared by every replication: snapping, shifts, warm travel rows.

Also the random streams: replication ``k`` draws from ``SeedSequence([seed, k])``, split into one
child stream per random process, so the same call gets the same durations in every scenario of a
comparison (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from dispatch.distributions import Distribution
from dispatch.errors import InputError
from dispatch.match.matcher import Matcher
from dispatch.match.policy import DistrictFirst
from dispatch.match.wellness import WellnessRules
from dispatch.model import RiskLevel
from dispatch.scenario import Scenario, SyntheticCalls
from dispatch.sim.demand import (
    CallTable,
    epoch_of,
    scale_volume,
    synthetic_epoch,
    synthetic_table,
    table_from_log,
)
from dispatch.sim.engine import CallDraws, Deferred, FleetSetup
from dispatch.sim.shifts import duty_intervals
from dispatch.travel import TravelTimes

STREAMS = ("calls", "processing", "turnout", "on_scene", "transport", "handoff", "fallback")
#: Time after the last call during which teams may still finish and queued calls be served.
HORIZON_PAD_S = 24 * 3600.0
#: Call places x network nodes up to which whole rows are computed ahead (a few seconds).
WARM_NODES = 25_000_000


def streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """One independent generator per random process for replication ``replication``."""
    children = np.random.SeedSequence([seed, replication]).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


@dataclass
class Prepared:
    """A scenario made ready to replay."""

    scenario: Scenario
    matcher: Matcher
    epoch: pd.Timestamp
    base_calls: CallTable | None
    setup: FleetSetup
    station_ids: list[str]
    facility_ids: list[str]
    horizon_s: float


def prepare(scenario: Scenario) -> Prepared:
    """Validate cross-references, snap every site and call, compute duty intervals."""
    travel = scenario.travel
    if isinstance(scenario.calls, SyntheticCalls):
        epoch = synthetic_epoch(scenario.calls, scenario.timezone)
        base = None
        horizon = scenario.calls.days * 86400.0 + HORIZON_PAD_S
        check_sites(travel, [(la, lo) for la, lo, _ in scenario.calls.locations], "calls.synthetic")
    else:
        epoch = epoch_of(scenario.calls, scenario.timezone)
        base = table_from_log(scenario.calls, epoch)
        horizon = float(base.received_s.max()) + HORIZON_PAD_S
        places = np.unique(travel.snap_many(base.lat, base.lon))
        # Whole rows for every call place, in batched searches, when they all fit the cache
        # and cost little (a small network). Otherwise each dispatch's bounded search, kept
        # for the next call at the place, costs far less than whole rows.
        rows = travel.cache_rows
        small = rows is not None and len(places) <= rows
        if small and len(places) * travel.n_places <= WARM_NODES:
            travel.warm(places)
    # Engine time 0 is the epoch: travel bands (hours of the local week) are read from it.
    travel = travel.anchored(epoch)
    matcher = scenario_matcher(scenario, travel, epoch)
    station_place = {
        s.site_id: int(p)
        for s, p in zip(
            scenario.stations,
            check_sites(travel, [(s.lat, s.lon) for s in scenario.stations], "stations"),
            strict=True,
        )
    }
    facility_place = check_sites(
        travel, [(f.lat, f.lon) for f in scenario.facilities], "facilities"
    )
    teams = sorted(scenario.teams, key=lambda t: t.team_id)
    setup = FleetSetup(
        team_ids=[t.team_id for t in teams],
        kinds=[t.kind for t in teams],
        cit=[t.cit for t in teams],
        station_place=np.array([station_place[t.station_id] for t in teams], dtype=np.int64),
        duty=[duty_intervals(t.shifts, epoch, horizon) for t in teams],
        facility_place=np.asarray(facility_place, dtype=np.int64),
    )
    # Every return home reads its station's rows and every transport the facilities': pinned,
    # so a year of call places passing through the cache never evicts them.
    travel.warm(setup.station_place, every_band=True, pin=True)
    travel.warm(setup.facility_place, every_band=True, pin=True)
    return Prepared(
        scenario=scenario,
        matcher=matcher,
        epoch=epoch,
        base_calls=base,
        setup=setup,
        station_ids=[t.station_id for t in teams],
        facility_ids=[f.site_id for f in scenario.facilities],
        horizon_s=horizon,
    )


def scenario_matcher(scenario: Scenario, travel: TravelTimes, epoch: pd.Timestamp) -> Matcher:
    """The scenario's dispatch rules: its policy kind over its rule set, with its wellness.

    ``travel`` is the scenario's oracle anchored at ``epoch``, the instant engine time 0 means
    (the replay's scenario start; the live service's Unix epoch).
    """
    spec = scenario.policy
    if spec.kind != "district_first":
        return Matcher(travel, spec.rules, wellness=spec.wellness)
    stations = {s.site_id: s for s in scenario.stations}
    homes: list[str | None] = [None] * len(scenario.teams)  # Scenario checked the keys
    if spec.districts is not None:
        homes = spec.districts.zone_of(
            [stations[t.station_id].lat for t in scenario.teams],
            [stations[t.station_id].lon for t in scenario.teams],
        )

    team_district = {
        t.team_id: district
        for t, home in zip(scenario.teams, homes, strict=True)
        if (district := t.district or home) is not None
    }
    policy = DistrictFirst(spec.rules, team_district, spec.run_cards, scenario.timezone)
    return Matcher(travel, policy=policy.anchored(epoch), wellness=spec.wellness)


def call_zones(prep: Prepared, calls: CallTable) -> list[str | None] | None:
    """Each call's district when the policy reads districts, else None.

    From the district polygons when the scenario gives them, else from the log's ``zone``
    column (an empty value is no zone).
    """
    policy = prep.scenario.policy
    if policy.kind != "district_first":
        return None
    if policy.districts is not None:
        return policy.districts.zone_of(calls.lat, calls.lon)
    return [zone or None for zone in calls.zone.tolist()]


def check_sites(travel: object, points: list[tuple[float, float]], what: str) -> np.ndarray:
    """The places of ``points`` (lat, lon); an error names ``what`` (e.g. ``"stations"``)."""
    from dispatch.travel import TravelTimes

    assert isinstance(travel, TravelTimes)
    if not points:
        return np.zeros(0, dtype=np.int64)
    try:
        return travel.snap_many([p[0] for p in points], [p[1] for p in points])
    except InputError as error:
        raise InputError(str(error), source=what) from None


def replication_calls(prep: Prepared, rng: np.random.Generator) -> CallTable:
    """The calls of one replication (volume scaling and synthetic draws use ``rng``)."""
    scenario = prep.scenario
    if prep.base_calls is None:
        assert isinstance(scenario.calls, SyntheticCalls)
        table = synthetic_table(scenario.calls, prep.epoch, rng)
    else:
        table = prep.base_calls
    return scale_volume(table, scenario.volume, rng)


def draw(prep: Prepared, calls: CallTable, rngs: dict[str, np.random.Generator]) -> CallDraws:
    """Per-call durations: the log's own where it has them, else the scenario's distributions."""
    service = prep.scenario.service
    n = len(calls)
    u_scene = rngs["on_scene"].random(n)
    on_scene = calls.on_scene_s.copy()
    missing = np.isnan(on_scene)
    if missing.any():
        default = service.on_scene["default"]
        # (a set, not np.unique: sorting 200,000 Python strings cost 0.1 s; each type's rows
        # draw from their own uniforms, so the order the types come in changes nothing)
        for call_type in sorted(set(calls.call_type[missing].tolist())):
            rows = missing & (calls.call_type == call_type)
            dist: Distribution = service.on_scene.get(call_type, default)
            on_scene[rows] = dist.quantile(u_scene[rows])
    u_transport = rngs["transport"].random(n)
    transport = np.where(
        calls.transport >= 0, calls.transport == 1, u_transport < service.transport_share
    )
    return CallDraws(
        processing_s=service.processing.sample(rngs["processing"], n),
        turnout_s=service.turnout.sample(rngs["turnout"], n),
        on_scene_s=on_scene,
        transport=transport.astype(bool),
        handoff_s=Deferred(partial(service.handoff.sample, rngs["handoff"], n)),
        pool_travel_s=Deferred(
            partial(prep.scenario.policy.fallback_response.sample, rngs["fallback"], n)
        ),
    )


def _flag_sets(calls: CallTable) -> dict[int, frozenset[str]]:
    """Flags of the calls that have any (``;``-separated in the log), by row."""
    rows = np.flatnonzero(calls.flags != "")
    return {
        int(i): frozenset(f for f in str(calls.flags[i]).split(";") if f) for i in rows.tolist()
    }


def effective_risks(prep: Prepared, calls: CallTable) -> list[RiskLevel]:
    """The risk the rules act on for each call (escalating flags make it high)."""
    rules = prep.matcher.rules
    levels = {r.value: r for r in RiskLevel}
    out = [levels[r] for r in calls.risk.tolist()]
    for i, flags in _flag_sets(calls).items():
        out[i] = rules.effective_risk(out[i], flags)
    return out


def critical_calls(prep: Prepared, calls: CallTable) -> np.ndarray:
    """Per call, whether it is a critical incident (the policy's definition, else the default)."""
    rules = prep.scenario.policy.wellness or WellnessRules()
    critical = np.isin(calls.call_type, list(rules.critical_call_types)) | np.isin(
        calls.risk, list(rules.critical_risks)
    )
    for i, flags in _flag_sets(calls).items():
        critical[i] |= bool(flags & rules.critical_flags)
    return np.asarray(critical, dtype=bool)
