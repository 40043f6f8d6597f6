"""A scenario: the fleet, its shifts, the calls, the service times and the dispatch policy.

`Scenario` is the validated, resolved description the simulator runs. `load_scenario` reads it
from a TOML file (see `dispatch.scenario_file` for the file schema).

Defaults and where they come from (see ``shared/reference/domain-figures.md``):

- on-scene time: log-normal, median 43 min (New Brunswick BWC study of police mental-health
  calls, median 43 min), 95th percentile 2.5 h (the heavy right tail reported there; range
  2-642 min);
- transport share 0.5: B-HEARD took 49-54% of the people it reached to hospital (FY22, 2022);
- hand-off at a facility: log-normal, median 30 min, 95th percentile 2 h (an assumption; St.
  Louis County CIT stresses a "police-friendly" turnaround but publishes no figure);
- call processing: log-normal median 45 s, 95th percentile 90 s (NFPA 1225: 90% dispatched
  within 60 s of answer);
- turnout: 60 s (NFPA 1710 EMS turnout, 90th percentile);
- fallback pool response: log-normal median 11 min, 95th percentile 25 min (Denver Auditor 2013:
  mean pickup-to-arrival 14.3 min for priority 0-2 police calls, which includes processing);
- fallback after 10 min of waiting for a specialist (a policy choice; set it per program).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from dispatch.distributions import Distribution
from dispatch.districts import Districts
from dispatch.errors import InputError
from dispatch.match.policy import RunCard
from dispatch.match.rules import RuleSet, default_rules
from dispatch.match.wellness import WellnessRules
from dispatch.model import MealBreak, RiskLevel, Shift, TeamKind, check_coordinate
from dispatch.travel import TravelTimes

DEFAULT_PROCESSING = Distribution.lognormal_from_quantile(45.0, 90.0)
DEFAULT_TURNOUT = Distribution.fixed(60.0)
DEFAULT_ON_SCENE = Distribution.lognormal_from_quantile(43 * 60.0, 150 * 60.0)
DEFAULT_HANDOFF = Distribution.lognormal_from_quantile(30 * 60.0, 120 * 60.0)
DEFAULT_POOL_RESPONSE = Distribution.lognormal_from_quantile(11 * 60.0, 25 * 60.0)


@dataclass(frozen=True, slots=True)
class Site:
    """A station or facility: id, WGS84 position (degrees) and a display name."""

    site_id: str
    lat: float
    lon: float
    name: str = ""

    def __post_init__(self) -> None:
        check_coordinate(self.lat, self.lon, source=f"site {self.site_id!r}")


@dataclass(frozen=True, slots=True)
class TeamSpec:
    """A team in the scenario: kind, certification, home station and duty pattern.

    ``shifts`` empty means on duty around the clock.
    """

    team_id: str
    kind: TeamKind
    station_id: str
    cit: bool = False
    shifts: tuple[Shift, ...] = ()
    district: str | None = None


@dataclass(frozen=True)
class ServiceSpec:
    """Durations the call log does not carry, in seconds.

    Attributes
    ----------
    processing
        Call taking and dispatch handling, from receipt until the call can be dispatched.
    turnout
        From dispatch until the team is rolling; counted in travel.
    on_scene
        Time on scene by call type; key ``"default"`` for all other types. Used when the log has
        no ``on_scene_s`` for a call.
    transport_share
        Share of calls ending in transport to the nearest facility, when the log has no
        ``transport`` value.
    handoff
        Time at the facility before the team is free.
    """

    processing: Distribution = DEFAULT_PROCESSING
    turnout: Distribution = DEFAULT_TURNOUT
    on_scene: Mapping[str, Distribution] = field(
        default_factory=lambda: {"default": DEFAULT_ON_SCENE}
    )
    transport_share: float = 0.5
    handoff: Distribution = DEFAULT_HANDOFF

    def __post_init__(self) -> None:
        if "default" not in self.on_scene:
            raise InputError("service.on_scene needs a 'default' distribution")
        if not 0.0 <= self.transport_share <= 1.0:
            raise InputError(f"transport_share {self.transport_share!r} is not in 0..1")


@dataclass(frozen=True)
class PolicySpec:
    """Dispatch policy.

    Attributes
    ----------
    rules
        Eligibility and preference rules (the same `RuleSet` the library uses).
    fallback_after_min
        Minutes a call waits for a busy specialist before the fallback response is sent;
        0 makes the specialist fleet a loss system; None never falls back.
    fallback
        ``"pool"``: an unlimited patrol pool answers with ``fallback_response`` travel time;
        ``"teams"``: fallback units are the scenario's own ``cit_officer``/``patrol`` teams.
    fallback_kind
        Responder kind recorded for pool fallbacks.
    fallback_response
        Pool travel time (dispatch to arrival), seconds.
    target_response_min
        Response-time target for the "reached within target" share.
    wellness
        Wellness rules the matcher applies (recovery, streak, utilization cap, fairness);
        None for none.
    meal_break
        A meal break per shift; None for none.
    kind
        The dispatch policy: ``"tiered_nearest"`` (the rules' tiers, then the nearest team) or
        ``"district_first"`` (within a tier, the call's district first, then its run card).
    districts
        District polygons: each call's zone, and the home district of teams that do not name
        one (their station's). Without them ``district_first`` reads the call log's ``zone``
        column and the teams' ``district`` keys.
    run_cards
        District-first run cards by zone (and call type).
    """

    rules: RuleSet = field(default_factory=default_rules)
    fallback_after_min: float | None = 10.0
    fallback: Literal["pool", "teams"] = "pool"
    fallback_kind: TeamKind = TeamKind.PATROL
    fallback_response: Distribution = DEFAULT_POOL_RESPONSE
    target_response_min: float = 20.0
    wellness: WellnessRules | None = None
    meal_break: MealBreak | None = None
    kind: Literal["tiered_nearest", "district_first"] = "tiered_nearest"
    districts: Districts | None = None
    run_cards: tuple[RunCard, ...] = ()

    def __post_init__(self) -> None:
        if self.districts is not None:
            known = set(self.districts.names)
            for card in self.run_cards:
                unknown = [d for d in (card.zone, *card.districts) if d not in known]
                if unknown:
                    raise InputError(
                        f"policy.run_cards: zone {card.zone!r} names unknown district(s) "
                        f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})"
                    )
        if self.fallback_after_min is not None and self.fallback_after_min < 0:
            raise InputError("policy.fallback_after_min must be >= 0")
        if self.fallback not in ("pool", "teams"):
            raise InputError(f"policy.fallback must be 'pool' or 'teams', got {self.fallback!r}")


@dataclass(frozen=True)
class MapSpec:
    """How ``dispatch report`` draws the scenario's maps (the ``[map]`` table).

    Attributes
    ----------
    areas
        A GeoJSON FeatureCollection of (Multi)Polygons in WGS84 to aggregate calls on, e.g.
        neighbourhoods; None bins calls on hexagonal cells instead.
    area_property
        The feature property that names an area.
    hex_size_km
        Hexagonal cells: distance from a cell's centre to its corners, kilometres.
    min_calls
        An area or cell with fewer calls than this per replication (on average) is drawn as
        "no data", never as a figure made from a handful of calls.
    attribution
        Credit for the map data (areas, roads), printed on every map; empty for a default.
    """

    areas: Path | None = None
    area_property: str = "name"
    hex_size_km: float = 0.5
    min_calls: float = 10.0
    attribution: str = ""

    def __post_init__(self) -> None:
        if not self.hex_size_km > 0:
            raise InputError(f"map.hex_size_km must be > 0, got {self.hex_size_km!r}")
        if not self.min_calls >= 1:
            raise InputError(f"map.min_calls must be >= 1, got {self.min_calls!r}")


@dataclass(frozen=True)
class SyntheticCalls:
    """Calls drawn from a non-homogeneous Poisson process when there is no log.

    Attributes
    ----------
    calls_per_day
        Mean number of calls per day.
    days
        Length of the generated period in days.
    start
        First day (local midnight in the scenario's time zone).
    hour_of_week
        168 relative weights (Monday 00:00 first); uniform when None.
    locations
        ``(lat, lon, weight)`` points the calls are drawn from.
    risk_mix
        Share of each risk level.
    call_type, priority
        Given to every generated call.
    """

    calls_per_day: float
    days: float
    locations: Sequence[tuple[float, float, float]]
    start: date = date(2025, 1, 6)
    hour_of_week: Sequence[float] | None = None
    risk_mix: Mapping[RiskLevel, float] = field(default_factory=lambda: {RiskLevel.STANDARD: 1.0})
    call_type: str = "mental_health"
    priority: int = 2

    def __post_init__(self) -> None:
        if not self.calls_per_day > 0 or not self.days > 0:
            raise InputError("synthetic calls need calls_per_day > 0 and days > 0")
        if not self.locations:
            raise InputError("synthetic calls need at least one location")
        if self.hour_of_week is not None and (
            len(self.hour_of_week) != 168
            or min(self.hour_of_week) < 0
            or sum(self.hour_of_week) <= 0
        ):
            raise InputError("hour_of_week needs 168 non-negative weights with a positive sum")
        if abs(sum(self.risk_mix.values()) - 1.0) > 1e-6:
            raise InputError("risk_mix shares must sum to 1")


@dataclass(frozen=True)
class Scenario:
    """Everything one simulation needs, validated.

    Attributes
    ----------
    name
        Label for results.
    travel
        Travel-time oracle.
    calls
        A normalized call log (`dispatch.calls.CallLog.frame` columns) or a synthetic generator.
    teams, stations, facilities
        The fleet and its sites.
    service, policy
        Durations and dispatch policy.
    seed, replications
        Base seed; replication ``k`` uses the streams of ``SeedSequence([seed, k])``.
    timezone
        IANA zone of local times (shifts, naive log times, outputs).
    volume
        Multiplier on call volume (thinning below 1, resampling above 1).
    source
        The scenario file, when read from one.
    intake
        What loading the call log accounted for: input rows, rejected (quarantined) rows,
        rows filtered out by call type, and the quarantine file; reported in the summary.
    map
        How the report draws maps (``[map]``); None when the file has no such table.
    """

    name: str
    travel: TravelTimes
    calls: pd.DataFrame | SyntheticCalls
    teams: tuple[TeamSpec, ...]
    stations: tuple[Site, ...]
    facilities: tuple[Site, ...] = ()
    service: ServiceSpec = field(default_factory=ServiceSpec)
    policy: PolicySpec = field(default_factory=PolicySpec)
    seed: int = 0
    replications: int = 1
    timezone: str = "UTC"
    volume: float = 1.0
    source: Path | None = None
    intake: Mapping[str, Any] = field(default_factory=dict)
    map: MapSpec | None = None

    def __post_init__(self) -> None:
        where = str(self.source) if self.source else f"scenario {self.name!r}"
        if self.replications < 1:
            raise InputError("replications must be >= 1", source=where)
        if not self.volume > 0:
            raise InputError("calls.volume must be > 0", source=where)
        station_ids = [s.site_id for s in self.stations]
        if len(set(station_ids)) != len(station_ids):
            raise InputError("duplicate station id", source=where)
        team_ids = [t.team_id for t in self.teams]
        if len(set(team_ids)) != len(team_ids):
            dup = next(t for t in team_ids if team_ids.count(t) > 1)
            raise InputError(f"duplicate team id {dup!r}", source=where)
        for team in self.teams:
            if team.station_id not in station_ids:
                raise InputError(
                    f"team {team.team_id!r} names station {team.station_id!r}, which does not "
                    f"exist (stations: {', '.join(station_ids) or 'none'})",
                    source=where,
                )
        policy = self.policy
        if (
            policy.kind == "district_first"
            and policy.districts is None
            and not any(t.district for t in self.teams)
        ):
            raise InputError(
                "policy.kind 'district_first' needs [policy.districts] (polygons), or a "
                "'district' on the teams and a zone column in the call log",
                source=where,
            )
        if self.policy.fallback == "teams" and not any(
            not _is_specialist_kind(self.policy.rules, t.kind) for t in self.teams
        ):
            raise InputError(
                "policy.fallback = 'teams' but the scenario has no fallback teams "
                "(cit_officer or patrol)",
                source=where,
            )
        if not self.facilities and _needs_facilities(self):
            raise InputError(
                "transports need at least one [[facilities]] entry (the call log marks calls "
                "as transported, or service.transport_share > 0 applies to calls without a "
                "transport value)",
                source=where,
            )


def _is_specialist_kind(rules: RuleSet, kind: TeamKind) -> bool:
    return any(
        kind in tier.kinds and tier.specialist for tiers in rules.tiers.values() for tier in tiers
    )


def _needs_facilities(scenario: Scenario) -> bool:
    """True when some call may be transported: the log says so, or the share applies."""
    by_share = scenario.service.transport_share > 0
    calls = scenario.calls
    if isinstance(calls, SyntheticCalls) or "transport" not in calls.columns:
        return by_share
    transport = calls["transport"]
    if transport.fillna(False).astype(bool).any():
        return True
    return by_share and bool(transport.isna().any())
