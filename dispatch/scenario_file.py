"""The scenario file (TOML): schema, ``extends``, and resolution into a `Scenario`.

User-facing durations are minutes (``*_min``). Paths are relative to the file that names them.
Unknown keys and wrong types are errors that name the file and the key path.

A minimal file::

    name = "Crisis Response Unit, day and evening"
    seed = 7
    replications = 10
    timezone = "America/Chicago"

    [network]
    kind = "straight_line"
    speed_kph = 40
    circuity = 1.3

    [calls]
    path = "../data/stlouis/calls_2025.csv"

    [shifts.day]
    start = "09:00"
    hours = 8

    [[stations]]
    id = "HQ"
    lat = 38.6277
    lon = -90.2035

    [[teams]]
    id = "CRU-day"
    count = 4
    kind = "co_responder"
    cit = true
    station = "HQ"
    shift = "day"
"""

from __future__ import annotations

import copy
import math
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from dispatch.distributions import Distribution
from dispatch.districts import Districts
from dispatch.errors import InputError
from dispatch.match.policy import RunCard
from dispatch.match.rules import RuleSet, default_rules, load_rules, rules_from_dict
from dispatch.match.wellness import wellness_from_dict
from dispatch.model import MealBreak, RiskLevel, Shift, TeamKind
from dispatch.scenario import (
    MapSpec,
    PolicySpec,
    Scenario,
    ServiceSpec,
    Site,
    SyntheticCalls,
    TeamSpec,
)
from dispatch.travel import TravelTimes
from dispatch.travel_bands import DEFAULT_CLASS, TravelBand, TravelBands, parse_clock, parse_days

DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
DAY_SETS = {"all": list(range(7)), "weekdays": list(range(5)), "weekends": [5, 6]}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistributionSpec(Strict):
    """A duration distribution; parameters in ``unit`` (minutes by default)."""

    dist: Literal["fixed", "exponential", "lognormal", "uniform"]
    unit: Literal["min", "s"] = "min"
    value: float | None = Field(default=None, ge=0)
    mean: float | None = Field(default=None, ge=0)
    median: float | None = Field(default=None, gt=0)
    p95: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, ge=0)
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)

    def build(self) -> Distribution:
        k = 60.0 if self.unit == "min" else 1.0

        def need(name: str) -> float:
            value = getattr(self, name)
            if value is None:
                raise ValueError(f"{self.dist} needs '{name}'")
            return float(value) * k

        if self.dist == "fixed":
            return Distribution.fixed(need("value"))
        if self.dist == "exponential":
            return Distribution.exponential(need("mean"))
        if self.dist == "uniform":
            return Distribution.uniform(need("low"), need("high"))
        if self.sigma is not None:
            return Distribution.lognormal(need("median"), float(self.sigma))
        return Distribution.lognormal_from_quantile(need("median"), need("p95"))


#: Keys of ``[network] columns``: the column-name parameters of `TravelTimes.from_edge_csv`.
EDGE_CSV_COLUMNS = (
    "node",
    "lat",
    "lon",
    "source",
    "target",
    "seconds",
    "length_m",
    "speed_kph",
    "road_class",
)


class BandSpec(Strict):
    """One ``[[network.bands]]`` entry: a weekly window of local time with its own speeds.

    ``days`` are the days the window starts on; an ``end`` at or before ``start`` runs past
    midnight. Give ``speed_factor`` (one number, or a table by road class with ``default`` for
    the rest; speeds are multiplied by it) or ``weight_column`` (an edge column of seconds).
    """

    id: str = Field(min_length=1)
    days: list[str] | str = "all"
    start: str
    end: str
    speed_factor: float | dict[str, float] | None = None
    weight_column: str | None = Field(default=None, min_length=1)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str, info: Any) -> str:
        parse_clock(value, allow_24=info.field_name == "end")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str] | str) -> list[str] | str:
        parse_days(value)
        return value

    @field_validator("speed_factor")
    @classmethod
    def _positive(cls, value: float | dict[str, float] | None) -> float | dict[str, float] | None:
        factors = value if isinstance(value, dict) else {DEFAULT_CLASS: value}
        for road_class, factor in factors.items():
            if factor is not None and not (math.isfinite(factor) and factor > 0):
                raise ValueError(
                    f"speed factor for {road_class!r} must be a finite number > 0, got {factor!r}"
                )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> BandSpec:
        if (self.speed_factor is None) == (self.weight_column is None):
            raise ValueError("give exactly one of 'speed_factor' or 'weight_column'")
        if isinstance(self.speed_factor, dict) and not self.speed_factor:
            raise ValueError("speed_factor names no road class")
        return self

    def build(self) -> TravelBand:
        return TravelBand.weekly(
            self.id,
            days=self.days,
            start=self.start,
            end=self.end,
            speed_factor=self.speed_factor,
            weight_column=self.weight_column,
        )


class NetworkSpec(Strict):
    kind: Literal["graph", "straight_line"]
    path: str | None = None
    format: Literal["auto", "graphml", "osm", "edge_csv"] = "auto"
    nodes: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    speed_kph: float = Field(default=40.0, gt=0)
    circuity: float = Field(default=1.3, ge=1.0)
    cutoff_min: float = Field(default=60.0, gt=0)
    max_snap_m: float = Field(default=500.0, gt=0)
    cache_mb: float = Field(default=256.0, gt=0)
    bands: list[BandSpec] = Field(default_factory=list)

    @field_validator("columns")
    @classmethod
    def _column_keys(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [key for key in value if key not in EDGE_CSV_COLUMNS]
        if unknown:
            raise ValueError(
                f"unknown column key(s) {', '.join(map(repr, unknown))}; "
                f"use {', '.join(EDGE_CSV_COLUMNS)}"
            )
        return value

    @field_validator("bands")
    @classmethod
    def _bands_apart(cls, value: list[BandSpec]) -> list[BandSpec]:
        try:
            TravelBands(tuple(b.build() for b in value))
        except InputError as error:
            raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _bands_fit_the_kind(self) -> NetworkSpec:
        if self.kind != "straight_line":
            return self
        for k, band in enumerate(self.bands):
            named = isinstance(band.speed_factor, dict) and set(band.speed_factor) - {DEFAULT_CLASS}
            if band.weight_column is not None or named:
                raise ValueError(
                    f"bands.{k} ({band.id!r}): straight-line travel has no roads; give one "
                    "speed_factor number (or a table with only 'default')"
                )
        return self

    def travel_bands(self, timezone: str) -> TravelBands | None:
        """The bands in the scenario's time zone; None when there are none."""
        if not self.bands:
            return None
        return TravelBands(tuple(b.build() for b in self.bands), timezone=timezone)


class SyntheticSpec(Strict):
    calls_per_day: float = Field(gt=0)
    days: float = Field(gt=0)
    start: date = date(2025, 1, 6)
    profile: str | None = None
    locations: list[Annotated[list[float], Field(min_length=3, max_length=3)]] = Field(min_length=1)
    risk_mix: dict[RiskLevel, float] = Field(default_factory=lambda: {RiskLevel.STANDARD: 1.0})
    call_type: str = "mental_health"
    priority: int = Field(default=2, ge=1, le=4)


class CallsSpec(Strict):
    path: str | None = None
    volume: float = Field(default=1.0, gt=0)
    mapping: dict[str, str] = Field(default_factory=dict)
    call_types: list[str] | None = None
    bad_rows: Literal["fail", "quarantine"] = "fail"
    repeated_times: Literal["error", "first", "second"] = "error"
    synthetic: SyntheticSpec | None = None


class ServiceFileSpec(Strict):
    processing: DistributionSpec | None = None
    turnout: DistributionSpec | None = None
    on_scene: dict[str, DistributionSpec] = Field(default_factory=dict)
    transport_share: float | None = Field(default=None, ge=0, le=1)
    handoff: DistributionSpec | None = None


class SiteSpec(Strict):
    id: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    name: str = ""
    kind: str = ""


class ShiftSpec(Strict):
    start: str
    hours: float = Field(gt=0, le=24)
    days: list[str] | str = "all"

    @field_validator("start")
    @classmethod
    def _clock(cls, value: str) -> str:
        parts = value.split(":")
        ok = len(parts) == 2 and all(p.isdigit() for p in parts)
        if not ok or not (0 <= int(parts[0]) < 24 and 0 <= int(parts[1]) < 60):
            raise ValueError(f"start {value!r} is not a clock time HH:MM (00:00-23:59)")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str] | str) -> list[str] | str:
        names = [value] if isinstance(value, str) else value
        for name in names:
            if name.lower() not in DAY_NAMES and name.lower() not in DAY_SETS:
                raise ValueError(
                    f"unknown day {name!r}; use mon..sun, 'all', 'weekdays' or 'weekends'"
                )
        return value

    def build(self) -> Shift:
        hours, minutes = (int(p) for p in self.start.split(":"))
        names = [self.days] if isinstance(self.days, str) else self.days
        days: set[int] = set()
        for name in names:
            key = name.lower()
            days.update(DAY_SETS.get(key, [DAY_NAMES.get(key, -1)]))
        return Shift(start_hour=hours + minutes / 60.0, hours=self.hours, days=frozenset(days))


class TeamGroupSpec(Strict):
    id: str = Field(min_length=1)
    count: int = Field(default=1, ge=0)
    kind: TeamKind
    station: str
    cit: StrictBool = False
    shift: str | list[str] | None = None
    district: str | None = Field(default=None, min_length=1)


class PolicyFileSpec(Strict):
    rules: str | dict[str, Any] = "default"
    fallback_after_min: float | None = Field(default=10.0, ge=0)
    never_fall_back: StrictBool = False
    fallback: Literal["pool", "teams"] = "pool"
    fallback_kind: TeamKind = TeamKind.PATROL
    fallback_response: DistributionSpec | None = None
    target_response_min: float = Field(default=20.0, gt=0)
    max_travel_min: float | None = Field(default=None, gt=0)
    wellness: dict[str, Any] | None = None
    meal_break: MealBreakSpec | None = None
    kind: Literal["tiered_nearest", "district_first"] = "tiered_nearest"
    districts: DistrictsSpec | None = None
    run_cards: list[RunCardSpec] = Field(default_factory=list)


class DistrictsSpec(Strict):
    """``[policy.districts]``: a GeoJSON of district polygons and the property naming each."""

    path: str
    property: str = Field(default="name", min_length=1)


class RunCardSpec(Strict):
    """One ``[[policy.run_cards]]``: the districts answering a zone, in order."""

    zone: str = Field(min_length=1)
    districts: list[str] = Field(min_length=1)
    call_types: list[str] = Field(default_factory=list)
    days: list[str] | str = "all"
    start: str | None = None
    end: str | None = None

    @model_validator(mode="after")
    def _window(self) -> RunCardSpec:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end of the card's window, or neither")
        return self

    def build(self) -> RunCard:
        try:
            days = parse_days(self.days)
            start = 0 if self.start is None else parse_clock(self.start)
            end = 1440 if self.end is None else parse_clock(self.end, allow_24=True)
            return RunCard(
                self.zone, tuple(self.districts), frozenset(self.call_types), days, start, end
            )
        except ValueError as error:
            raise InputError(f"policy.run_cards (zone {self.zone!r}): {error}") from None


class MealBreakSpec(Strict):
    enabled: StrictBool = True
    length_min: float = Field(default=30.0, gt=0)
    window_start_h: float = Field(default=3.0, ge=0)
    window_end_h: float = Field(default=6.0, ge=0)


class SweepFileSpec(Strict):
    """The ``[sweep]`` table, read by ``dispatch sweep`` (see `dispatch.sweep`).

    ``vary`` is a grid (every combination); lists in ``together`` change in step. Keys are dotted
    paths into this file: ``policy.fallback_after_min``, ``teams.CRU-day.count`` (a list element
    by its ``id``) or ``teams.0.count`` (by position).
    """

    vary: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(default_factory=dict)
    together: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(default_factory=dict)
    replications: int | None = Field(default=None, ge=1)
    target_share: float | None = Field(default=None, gt=0, le=1)
    target_min: float | None = Field(default=None, gt=0)

    @field_validator("together")
    @classmethod
    def _same_length(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        lengths = {key: len(values) for key, values in value.items()}
        if len(set(lengths.values())) > 1:
            listed = ", ".join(f"{key}: {n}" for key, n in lengths.items())
            raise ValueError(f"lists varied together must have the same length ({listed})")
        return value


class MapFileSpec(Strict):
    """``[map]``: how ``dispatch report`` draws maps (see `dispatch.scenario.MapSpec`).

    ``areas`` is a GeoJSON of polygons (relative to the file); without it calls are binned on
    hexagonal cells of ``hex_size_km`` (centre to corner).
    """

    areas: str | None = None
    area_property: str = Field(default="name", min_length=1)
    hex_size_km: float = Field(default=0.5, gt=0)
    min_calls: float = Field(default=10.0, ge=1)
    attribution: str = ""


class ScenarioFile(Strict):
    """The whole file. ``sweep`` is read by ``dispatch sweep``; simulate ignores it."""

    name: str
    extends: str | None = None
    seed: int = 0
    replications: int = Field(default=1, ge=1)
    timezone: str = "UTC"
    network: NetworkSpec
    calls: CallsSpec
    service: ServiceFileSpec = Field(default_factory=ServiceFileSpec)
    stations: list[SiteSpec] = Field(min_length=1)
    facilities: list[SiteSpec] = Field(default_factory=list)
    shifts: dict[str, ShiftSpec] = Field(default_factory=dict)
    teams: list[TeamGroupSpec] = Field(min_length=1)
    policy: PolicyFileSpec = Field(default_factory=PolicyFileSpec)
    sweep: SweepFileSpec = Field(default_factory=SweepFileSpec)
    map: MapFileSpec | None = None


# -- reading, extends and paths ------------------------------------------------------------
PATH_KEYS = (("network", "path"), ("network", "nodes"), ("calls", "path"))


def read_raw(path: str | Path, *, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's table with ``extends`` merged in and paths made absolute."""
    path = Path(path).resolve()
    if path in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path))
        raise InputError(f"circular 'extends': {cycle}", source=str(path))
    if not path.is_file():
        raise InputError("scenario file not found", source=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"not valid TOML ({error})", source=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", source=str(path)) from None
    _absolute_paths(data, path.parent)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise InputError("'extends' must be a file path", source=str(path))
    parent = read_raw(path.parent / parent_name, _chain=(*_chain, path))
    parent.pop("name", None) if "name" in data else None
    return merge(parent, data)


def _absolute_paths(data: dict[str, Any], base: Path) -> None:
    for section, key in PATH_KEYS:
        table = data.get(section)
        if isinstance(table, dict) and isinstance(table.get(key), str):
            table[key] = str((base / table[key]).resolve())
    calls = data.get("calls")
    if isinstance(calls, dict) and isinstance(calls.get("synthetic"), dict):
        synth = calls["synthetic"]
        if isinstance(synth.get("profile"), str):
            synth["profile"] = str((base / synth["profile"]).resolve())
    policy = data.get("policy")
    districts = policy.get("districts") if isinstance(policy, dict) else None
    if isinstance(districts, dict) and isinstance(districts.get("path"), str):
        districts["path"] = str((base / districts["path"]).resolve())
    rules = policy.get("rules") if isinstance(policy, dict) else None
    if isinstance(policy, dict) and isinstance(rules, str) and rules != "default":
        policy["rules"] = str((base / rules).resolve())
    map_table = data.get("map")
    if isinstance(map_table, dict) and isinstance(map_table.get("areas"), str):
        map_table["areas"] = str((base / map_table["areas"]).resolve())


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, anything else (lists included) is replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse(data: dict[str, Any], *, source: str) -> ScenarioFile:
    """Validate a scenario table; errors name ``source`` and the key path."""
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors()[:8]:
            where = ".".join(str(p) for p in item["loc"]) or "(top level)"
            message = item["msg"]
            if item["type"] == "extra_forbidden":
                message = "unknown key"
            problems.append(f"{where}: {message}")
        more = error.error_count() - len(problems)
        suffix = f" (and {more} more)" if more > 0 else ""
        raise InputError("; ".join(problems) + suffix, source=source) from None


# -- resolution ----------------------------------------------------------------------------
def build(spec: ScenarioFile, *, source: Path | None = None) -> Scenario:
    """Turn a validated file into a `Scenario` (loads the network and the call log)."""
    where = str(source) if source else spec.name
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(f"timezone: unknown time zone {spec.timezone!r}", source=where) from None
    shifts = {name: s.build() for name, s in spec.shifts.items()}
    teams: list[TeamSpec] = []
    station_ids = {s.id for s in spec.stations}
    for group in spec.teams:
        names = [group.shift] if isinstance(group.shift, str) else (group.shift or [])
        for name in names:
            if name not in shifts:
                raise InputError(
                    f"teams '{group.id}': shift {name!r} is not defined in [shifts] "
                    f"(defined: {', '.join(shifts) or 'none'})",
                    source=where,
                )
        if group.station not in station_ids:
            raise InputError(
                f"teams '{group.id}': station {group.station!r} does not exist "
                f"(stations: {', '.join(sorted(station_ids))})",
                source=where,
            )
        ids = (
            [group.id] if group.count == 1 else [f"{group.id}-{k + 1}" for k in range(group.count)]
        )
        teams.extend(
            TeamSpec(
                team_id=team_id,
                kind=group.kind,
                station_id=group.station,
                cit=group.cit,
                shifts=tuple(shifts[n] for n in names),
                district=group.district,
            )
            for team_id in ids
        )
    calls_input, intake = _calls(spec, where)
    try:
        return Scenario(
            name=spec.name,
            travel=_network(spec.network, where, spec.timezone),
            calls=calls_input,
            teams=tuple(teams),
            stations=tuple(Site(s.id, s.lat, s.lon, s.name) for s in spec.stations),
            facilities=tuple(Site(f.id, f.lat, f.lon, f.name) for f in spec.facilities),
            service=_service(spec.service),
            policy=_policy(spec.policy, where),
            seed=spec.seed,
            replications=spec.replications,
            timezone=spec.timezone,
            volume=spec.calls.volume,
            source=source,
            intake=intake,
            map=_map(spec.map, where),
        )
    except InputError as error:
        if error.source:
            raise
        raise InputError(str(error), source=where) from None


def _network(spec: NetworkSpec, where: str, timezone: str) -> TravelTimes:
    bands = spec.travel_bands(timezone)
    if spec.kind == "straight_line":
        return TravelTimes.straight_line(
            speed_kph=spec.speed_kph,
            circuity=spec.circuity,
            cutoff_s=spec.cutoff_min * 60.0,
            bands=bands,
        )
    if spec.path is None:
        raise InputError("network: kind = 'graph' needs a 'path'", source=where)
    options: dict[str, Any] = {
        "cutoff_s": spec.cutoff_min * 60.0,
        "max_snap_m": spec.max_snap_m,
        "cache_mb": spec.cache_mb,
        "bands": bands,
    }
    fmt = spec.format
    if fmt == "auto":
        lower = spec.path.lower()
        fmt = (
            "graphml"
            if lower.endswith(".graphml")
            else "osm"
            if lower.endswith((".osm", ".osm.bz2", ".xml"))
            else "edge_csv"
        )
    if fmt == "graphml":
        return TravelTimes.from_graphml(spec.path, **options)
    if fmt == "osm":
        return TravelTimes.from_osm_xml(spec.path, **options)
    if spec.nodes is None:
        raise InputError("network: an edge-list CSV needs 'nodes' (the node CSV)", source=where)
    options.update(spec.columns)
    return TravelTimes.from_edge_csv(spec.path, spec.nodes, **options)


def _calls(spec: ScenarioFile, where: str) -> tuple[Any, dict[str, Any]]:
    """The calls (a normalized log frame or a generator) and what the intake dropped."""
    calls = spec.calls
    if (calls.path is None) == (calls.synthetic is None):
        raise InputError("calls: give exactly one of 'path' or [calls.synthetic]", source=where)
    if calls.synthetic is not None:
        synth = calls.synthetic
        profile = None
        if synth.profile is not None:
            profile = _read_profile(synth.profile)
        return SyntheticCalls(
            calls_per_day=synth.calls_per_day,
            days=synth.days,
            start=synth.start,
            hour_of_week=profile,
            locations=[(p[0], p[1], p[2]) for p in synth.locations],
            risk_mix=synth.risk_mix,
            call_type=synth.call_type,
            priority=synth.priority,
        ), {"synthetic": True}
    from dispatch.calls import load_calls

    assert calls.path is not None
    log = load_calls(
        calls.path,
        mapping=calls.mapping or None,
        call_types=calls.call_types,
        timezone=spec.timezone,
        bad_rows=calls.bad_rows,
        repeated_times=calls.repeated_times,
    )
    intake = {
        "path": str(calls.path),
        "input_rows": int(log.input_rows),
        "rejected_rows": len(log.rejected),
        "filtered_out": int(log.filtered_out),
        "quarantine_path": str(log.quarantine_path) if log.quarantine_path else None,
    }
    return log.frame, intake


def _map(spec: MapFileSpec | None, where: str) -> MapSpec | None:
    """The ``[map]`` table; the areas file must exist (it is read when a report draws it)."""
    if spec is None:
        return None
    areas = None
    if spec.areas is not None:
        areas = Path(spec.areas)
        if not areas.is_file():
            raise InputError(f"map.areas: file not found: {areas}", source=where)
    return MapSpec(
        areas=areas,
        area_property=spec.area_property,
        hex_size_km=spec.hex_size_km,
        min_calls=spec.min_calls,
        attribution=spec.attribution,
    )


def _read_profile(path: str) -> list[float]:
    import pandas as pd

    frame = pd.read_csv(path)
    if "weight" not in frame.columns or len(frame) != 168:
        raise InputError("a demand profile needs 168 rows with a 'weight' column", source=path)
    if "hour_of_week" in frame.columns:
        frame = frame.sort_values("hour_of_week")
    return [float(w) for w in frame["weight"].tolist()]


def _service(spec: ServiceFileSpec) -> ServiceSpec:
    base = ServiceSpec()
    on_scene = dict(base.on_scene)
    on_scene.update({k: v.build() for k, v in spec.on_scene.items()})
    return ServiceSpec(
        processing=spec.processing.build() if spec.processing else base.processing,
        turnout=spec.turnout.build() if spec.turnout else base.turnout,
        on_scene=on_scene,
        transport_share=base.transport_share
        if spec.transport_share is None
        else spec.transport_share,
        handoff=spec.handoff.build() if spec.handoff else base.handoff,
    )


def _policy(spec: PolicyFileSpec, where: str) -> PolicySpec:
    rules: RuleSet
    if isinstance(spec.rules, dict):
        rules = rules_from_dict(spec.rules, source=f"{where}: policy.rules")
    elif spec.rules == "default":
        rules = default_rules()
    else:
        rules = load_rules(spec.rules)
    if spec.max_travel_min is not None:
        from dataclasses import replace

        rules = replace(rules, max_travel_s=spec.max_travel_min * 60.0)
    base = PolicySpec()
    return PolicySpec(
        rules=rules,
        fallback_after_min=None if spec.never_fall_back else spec.fallback_after_min,
        fallback=spec.fallback,
        fallback_kind=spec.fallback_kind,
        fallback_response=spec.fallback_response.build()
        if spec.fallback_response
        else base.fallback_response,
        target_response_min=spec.target_response_min,
        wellness=wellness_from_dict(spec.wellness, source=f"{where}: policy.wellness")
        if spec.wellness is not None
        else None,
        meal_break=MealBreak(
            spec.meal_break.length_min, spec.meal_break.window_start_h, spec.meal_break.window_end_h
        )
        if spec.meal_break is not None and spec.meal_break.enabled
        else None,
        kind=spec.kind,
        districts=Districts.from_geojson(spec.districts.path, spec.districts.property)
        if spec.districts is not None
        else None,
        run_cards=tuple(card.build() for card in spec.run_cards),
    )


def load_scenario(path: str | Path, *, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, validate and resolve a scenario file.

    Parameters
    ----------
    path
        The TOML file.
    overrides
        Extra values merged over the file (as if in a child file), e.g. from ``--vary``.
    """
    path = Path(path)
    data = read_raw(path)
    if overrides:
        data = merge(data, overrides)
    spec = parse(data, source=str(path))
    try:
        return build(spec, source=path)
    except ValueError as error:
        if isinstance(error, InputError):
            raise
        raise InputError(str(error), source=str(path)) from None
