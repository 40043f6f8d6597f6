"""Post plans for a scenario: candidates, demand, the siting, the plan as a scenario, its check.

`plan_posts` chooses posts among candidate sites for a scenario's calls over the scenario's own
travel (road network or straight line); `write_plan_scenario` writes the plan as a scenario
file; `verify_plan` replays today's sites and the plan with common random numbers.

Demand is the call log snapped with the scenario's travel oracle and counted per place; places
are then pooled into square cells of ``cell_m`` metres (each cell represented by its busiest
place), which keeps the siting model small with a travel-time error of about half a cell at
most. ``cell_m = 0`` keeps every place.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import tomli_w

from dispatch.errors import InputError
from dispatch.plan.siting import Siting, nearest_assignment, objective_value, site_posts
from dispatch.scenario import Scenario, SyntheticCalls
from dispatch.travel import TravelTimes

if TYPE_CHECKING:
    from dispatch.executors import Executor

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CANDIDATE_COLUMNS = ("id", "lat", "lon")
"""Required columns of a candidates file; ``capacity`` (calls per day), ``existing`` (true for
sites in use today) and ``name`` are optional, other columns are ignored."""

TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f", ""}

#: The comparison figures of `verify_plan`: key of `replication_metrics`, label, unit.
COMPARED = (
    ("median_response_min", "median response", "min"),
    ("p90_response_min", "90th percentile response", "min"),
    ("specialist_within_target_share", "specialist within target", "share"),
    ("specialist_share", "reached by a specialist team", "share"),
)


# -- candidates --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidates:
    """Candidate sites read from a CSV file.

    Attributes
    ----------
    ids, names
        Site ids (unique) and display names.
    lat, lon
        WGS84 degrees.
    capacity
        Calls per day each site can serve (``inf`` for no limit), or None when the file has
        no ``capacity`` column.
    existing
        True for sites in use today (lockable with ``keep_existing``).
    source
        The file.
    """

    ids: list[str]
    names: list[str]
    lat: FloatArray
    lon: FloatArray
    capacity: FloatArray | None
    existing: npt.NDArray[np.bool_]
    source: str = ""

    def __len__(self) -> int:
        return len(self.ids)


def read_candidates(path: str | Path) -> Candidates:
    """Read a candidates CSV: ``id,lat,lon[,capacity][,existing][,name]``.

    Errors name the file, the 1-based data row and the column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> text = "id,lat,lon,existing\\nA,38.6,-90.2,true\\nB,38.7,-90.3,\\n"
    >>> _ = (folder / "c.csv").write_text(text)
    >>> cands = read_candidates(folder / "c.csv")
    >>> cands.ids, cands.existing.tolist(), cands.capacity is None
    (['A', 'B'], [True, False], True)
    >>> _ = (folder / "bad.csv").write_text("id,lat,lon\\nA,38.6,west\\n")
    >>> read_candidates(folder / "bad.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dispatch.errors.InputError: .../bad.csv, row 1, column 'lon': 'west' is not a number
    """
    source = str(path)
    if not Path(path).is_file():
        raise InputError("candidates file not found", source=source)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", source=source) from None
    except csv.Error as error:
        raise InputError(f"not a readable CSV file ({error})", source=source) from None
    missing = [c for c in CANDIDATE_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (need id, lat, lon; optional capacity, "
            "existing, name)",
            source=source,
        )
    if not rows:
        raise InputError("no candidate sites (the file has a header only)", source=source)
    ids: list[str] = []
    lats, lons, caps, existing, names = [], [], [], [], []
    for number, row in enumerate(rows, start=1):
        site = row["id"]
        if not site:
            raise InputError("empty id", source=source, row=number, field="id")
        if site in ids:
            raise InputError(f"duplicate id {site!r}", source=source, row=number, field="id")
        lat = _number(row["lat"], source, number, "lat")
        lon = _number(row["lon"], source, number, "lon")
        if not -90.0 <= lat <= 90.0:
            raise InputError(
                f"latitude {lat} is not in -90..90", source=source, row=number, field="lat"
            )
        if not -180.0 <= lon <= 180.0:
            raise InputError(
                f"longitude {lon} is not in -180..180", source=source, row=number, field="lon"
            )
        if "capacity" in header:
            text = row["capacity"]
            cap = math.inf if text == "" else _number(text, source, number, "capacity")
            if not cap >= 0:
                raise InputError(
                    f"capacity {text!r} must be >= 0 calls per day (empty for no limit)",
                    source=source,
                    row=number,
                    field="capacity",
                )
            caps.append(cap)
        flag = row.get("existing", "").lower()
        if flag not in TRUE | FALSE:
            raise InputError(
                f"{row['existing']!r} is not true or false",
                source=source,
                row=number,
                field="existing",
            )
        ids.append(site)
        lats.append(lat)
        lons.append(lon)
        existing.append(flag in TRUE)
        names.append(row.get("name", "") or site)
    return Candidates(
        ids=ids,
        names=names,
        lat=np.asarray(lats, dtype=float),
        lon=np.asarray(lons, dtype=float),
        capacity=np.asarray(caps, dtype=float) if "capacity" in header else None,
        existing=np.asarray(existing, dtype=bool),
        source=source,
    )


def _number(text: str, source: str, row: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a number", source=source, row=row, field=column
        ) from None
    if not math.isfinite(value) and column != "capacity":
        raise InputError(f"{text!r} is not a finite number", source=source, row=row, field=column)
    return value


# -- demand ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Demand:
    """Calls aggregated to demand points.

    Attributes
    ----------
    places
        The travel oracle's place of each demand point.
    lat, lon
        Its position (degrees).
    weight
        Calls at the point over the whole log (expected calls for a synthetic generator).
    days
        Length of the period the calls cover, days (for capacities per day).
    cell_m
        Side of the pooling cells, metres (0: every place its own point).
    source_lat, source_lon, source_weight, source_point
        Where the demand comes from: per call of the log (per location of a synthetic
        generator), its place as given (degrees), its weight (calls) and the index of the
        demand point it is pooled into. Maps count calls in the areas they lie in with these.
    """

    places: IntArray
    lat: FloatArray
    lon: FloatArray
    weight: FloatArray
    days: float
    cell_m: float
    source_lat: FloatArray = field(default_factory=lambda: np.empty(0))
    source_lon: FloatArray = field(default_factory=lambda: np.empty(0))
    source_weight: FloatArray = field(default_factory=lambda: np.empty(0))
    source_point: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def calls(self) -> float:
        """Total demand weight (calls)."""
        return float(self.weight.sum())


def aggregate_demand(scenario: Scenario, *, cell_m: float = 500.0) -> Demand:
    """The scenario's calls as weighted demand points (snapped, then pooled into cells).

    Parameters
    ----------
    scenario
        Its call log (or synthetic generator) and travel oracle.
    cell_m
        Side of the square pooling cells in metres; 0 keeps every snapped place.
    """
    if not cell_m >= 0:
        raise InputError(f"cell_m must be >= 0 metres, got {cell_m!r}", field="cell_m")
    travel = scenario.travel
    calls = scenario.calls
    if isinstance(calls, SyntheticCalls):
        lats = np.array([p[0] for p in calls.locations], dtype=float)
        lons = np.array([p[1] for p in calls.locations], dtype=float)
        share = np.array([p[2] for p in calls.locations], dtype=float)
        counts = share / share.sum() * calls.calls_per_day * calls.days * scenario.volume
        days = float(calls.days)
    else:
        if not len(calls):
            raise InputError("the scenario's call log has no calls to site posts for")
        lats = calls["lat"].to_numpy(dtype=float)
        lons = calls["lon"].to_numpy(dtype=float)
        counts = np.full(len(lats), scenario.volume)
        received = pd.to_datetime(calls["received_at"])
        days = max(1.0, (received.max() - received.min()).total_seconds() / 86400.0)
    places = travel.snap_many(lats, lons)
    unique, inverse = np.unique(places, return_inverse=True)
    inverse = inverse.ravel()
    point = inverse
    weight = np.bincount(inverse, weights=counts, minlength=len(unique))
    plat, plon = travel.coordinates(unique)
    plat, plon = np.asarray(plat, dtype=float), np.asarray(plon, dtype=float)
    if cell_m > 0 and len(unique) > 1:
        x, y = _metres(plat, plon)
        cell = np.stack([np.floor(x / cell_m), np.floor(y / cell_m)], axis=1)
        _, group = np.unique(cell, axis=0, return_inverse=True)
        group = group.ravel()
        # The busiest place stands for its cell (ties: the lowest place id).
        order = np.lexsort((unique, -weight, group))
        first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
        pooled = np.bincount(group, weights=weight)
        keep = first[np.argsort(group[first])]
        unique, plat, plon, weight = unique[keep], plat[keep], plon[keep], pooled
        point = group[inverse]  # the kept points are in cell order: point k is cell k
    return Demand(
        places=unique.astype(np.int64),
        lat=plat,
        lon=plon,
        weight=np.asarray(weight, dtype=float),
        days=days,
        cell_m=float(cell_m),
        source_lat=np.asarray(lats, dtype=float),
        source_lon=np.asarray(lons, dtype=float),
        source_weight=np.asarray(counts, dtype=float),
        source_point=np.asarray(point, dtype=np.int64),
    )


def _metres(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Local equirectangular x (east), y (north) in metres about the mean latitude."""
    lat0 = math.radians(float(np.mean(lat)))
    r = 6_371_008.8
    return np.radians(lon) * r * math.cos(lat0), np.radians(lat) * r


def travel_cost(travel: TravelTimes, demand_places: IntArray, site_places: IntArray) -> FloatArray:
    """Demand x site matrix of travel seconds from each site to each demand point (inf past the
    oracle's cut-off)."""
    out = np.empty((len(demand_places), len(site_places)))
    origins = np.asarray(site_places, dtype=np.int64)
    for row, destination in enumerate(np.asarray(demand_places).tolist()):
        out[row] = travel.times_to(origins, int(destination))
    return out


# -- the plan ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PostsPlan:
    """Chosen posts for a scenario, with what today's sites achieve on the same demand.

    Attributes
    ----------
    candidates, demand
        The inputs.
    cost
        Demand x candidate travel seconds.
    siting
        The solver's plan (`Siting`); ``siting.sites`` index ``candidates``.
    objective, k, cover_s
        What was asked (``cover_s`` the mclp threshold, seconds, else None).
    fixed
        Candidate indices locked open.
    today_ids, today_lat, today_lon
        The scenario's stations that have teams today.
    today_cost
        Demand x today's station travel seconds.
    capacity
        Per-candidate capacity used by the solver, calls over the period (None: none).
    """

    candidates: Candidates
    demand: Demand
    cost: FloatArray
    siting: Siting
    objective: str
    k: int
    cover_s: float | None
    fixed: tuple[int, ...]
    today_ids: list[str]
    today_lat: FloatArray
    today_lon: FloatArray
    today_cost: FloatArray
    capacity: FloatArray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def post_ids(self) -> list[str]:
        """Ids of the chosen posts."""
        return [self.candidates.ids[j] for j in self.siting.sites]

    def post_weight(self) -> FloatArray:
        """Demand weight (calls) each chosen post serves."""
        a = self.siting.assignment
        return np.array([float(self.demand.weight[a == j].sum()) for j in self.siting.sites])

    def today_value(self) -> float:
        """The plan's objective evaluated for today's sites (travel only, nearest site)."""
        sites = list(range(self.today_cost.shape[1]))
        assigned = nearest_assignment(self.today_cost, sites)
        return objective_value(
            self.today_cost, self.demand.weight, sites, assigned, self.objective, self.cover_s
        )


def plan_posts(
    scenario: Scenario,
    candidates: Candidates,
    k: int,
    *,
    objective: str = "p-median",
    cover_min: float | None = None,
    keep_existing: bool = False,
    capacity_per_day: float | None = None,
    cell_m: float = 500.0,
    time_limit_s: float = 60.0,
) -> PostsPlan:
    """Choose ``k`` posts among ``candidates`` for ``scenario``'s demand over its travel.

    Parameters
    ----------
    scenario
        Calls, travel oracle and today's stations.
    candidates
        Candidate sites (`read_candidates`).
    k
        Number of posts.
    objective
        ``"p-median"`` (least call-weighted travel time) or ``"mclp"`` (most calls within
        ``cover_min`` minutes of travel).
    cover_min
        Covering threshold, minutes of travel from post to call; required for mclp.
    keep_existing
        Lock the candidates marked ``existing`` open.
    capacity_per_day
        Calls per day any one post can serve; overrides the file's ``capacity`` column. The
        file's column applies when this is None.
    cell_m
        Demand pooling cell, metres (`aggregate_demand`).
    time_limit_s
        Solver time limit, seconds.
    """
    if objective == "mclp" and cover_min is None:
        raise InputError(
            "objective 'mclp' needs --cover-min (minutes of travel)", field="cover_min"
        )
    if cover_min is not None and not (math.isfinite(cover_min) and cover_min > 0):
        raise InputError(f"cover_min must be > 0 minutes, got {cover_min!r}", field="cover_min")
    fixed = tuple(int(j) for j in np.flatnonzero(candidates.existing)) if keep_existing else ()
    if keep_existing and not fixed:
        raise InputError(
            "keep_existing: no candidate is marked existing (add an 'existing' column with true "
            "for today's sites)",
            source=candidates.source,
            field="existing",
        )
    if not 1 <= k <= len(candidates):
        raise InputError(
            f"k must be between 1 and the {len(candidates)} candidates, got {k}", field="k"
        )
    if len(fixed) > k:
        raise InputError(f"k = {k} is smaller than the {len(fixed)} existing sites kept", field="k")
    travel = scenario.travel
    demand = aggregate_demand(scenario, cell_m=cell_m)
    try:
        candidate_places = travel.snap_many(candidates.lat, candidates.lon)
    except InputError as error:
        raise InputError(str(error), source=candidates.source) from None
    cost = travel_cost(travel, demand.places, candidate_places)
    capacity = None
    if capacity_per_day is not None:
        if not capacity_per_day > 0:
            raise InputError(
                f"capacity must be > 0 calls per day, got {capacity_per_day!r}", field="capacity"
            )
        capacity = np.full(len(candidates), capacity_per_day * demand.days)
    elif candidates.capacity is not None:
        capacity = candidates.capacity * demand.days
    cover_s = None if cover_min is None else cover_min * 60.0
    siting = site_posts(
        cost,
        k,
        objective=objective,
        weights=demand.weight,
        cover=cover_s if objective == "mclp" else None,
        fixed=fixed,
        capacity=capacity,
        time_limit_s=time_limit_s,
    )
    based = sorted({t.station_id for t in scenario.teams})
    stations = [s for s in scenario.stations if s.site_id in based]
    today_places = travel.snap_many([s.lat for s in stations], [s.lon for s in stations])
    today_cost = travel_cost(travel, demand.places, today_places)
    return PostsPlan(
        candidates=candidates,
        demand=demand,
        cost=cost,
        siting=siting,
        objective=objective,
        k=k,
        cover_s=cover_s,
        fixed=fixed,
        today_ids=[s.site_id for s in stations],
        today_lat=np.array([s.lat for s in stations]),
        today_lon=np.array([s.lon for s in stations]),
        today_cost=today_cost,
        capacity=capacity,
    )


# -- the plan as a scenario --------------------------------------------------------------------
def apportion(count: int, weights: Sequence[float]) -> list[int]:
    """Split ``count`` teams over posts in proportion to ``weights`` (largest remainder).

    Ties go to the earlier post; all-zero weights split evenly.

    Examples
    --------
    >>> apportion(4, [50.0, 30.0, 20.0])
    [2, 1, 1]
    >>> apportion(2, [0.0, 0.0, 0.0])
    [1, 1, 0]
    """
    w = np.asarray(weights, dtype=float)
    if not len(w):
        return []
    if w.sum() <= 0:
        w = np.ones(len(w))
    quota = count * w / w.sum()
    out = np.floor(quota).astype(int)
    rest = count - int(out.sum())
    order = sorted(range(len(w)), key=lambda i: (-(quota[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return [int(v) for v in out]


def rehomed_teams(
    teams: Sequence[dict[str, Any]], post_ids: Sequence[str], post_weight: Sequence[float]
) -> list[dict[str, Any]]:
    """The scenario's team groups re-homed on the chosen posts.

    Each group (a shift's teams) is split over the posts in proportion to the calls each post
    serves, so every shift's teams spread over the busiest posts; a group of one team goes to
    the busiest post. The split groups keep every other key (kind, CIT, shift, district) and
    are named ``<group>-<post>``.

    Examples
    --------
    >>> rehomed_teams([{"id": "day", "count": 3, "kind": "co_responder", "station": "hq"}],
    ...               ["p1", "p2"], [200.0, 100.0])  # doctest: +NORMALIZE_WHITESPACE
    [{'id': 'day-p1', 'count': 2, 'kind': 'co_responder', 'station': 'p1'},
     {'id': 'day-p2', 'count': 1, 'kind': 'co_responder', 'station': 'p2'}]
    """
    order = sorted(range(len(post_ids)), key=lambda i: (-post_weight[i], i))
    ids = [post_ids[i] for i in order]
    weights = [post_weight[i] for i in order]
    out: list[dict[str, Any]] = []
    for group in teams:
        count = int(group.get("count", 1))
        for post, n in zip(ids, apportion(count, weights), strict=True):
            if n == 0:
                continue
            entry = dict(group)
            entry["id"] = f"{group['id']}-{post}"
            entry["count"] = n
            entry["station"] = post
            out.append(entry)
    return out


def write_plan_scenario(
    scenario_path: str | Path, plan: PostsPlan, out: str | Path, *, name: str
) -> Path:
    """Write ``out/posts_scenario.toml``: the scenario with its stations replaced by the posts.

    The file ``extends`` the original scenario (by a path relative to ``out`` when they share a
    folder, else absolute) and replaces its
    ``stations`` and ``teams`` (`rehomed_teams`); everything else (calls, network, service,
    policy, seed, replications) is inherited, so a replay of both compares the sites alone.
    """
    from dispatch.scenario_file import read_raw

    source = Path(scenario_path).absolute()
    raw = read_raw(source)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Relative when the two share a folder below the root, so the pair can move together.
    shared = os.path.commonpath([source, out.absolute()])
    relative = os.path.relpath(source, out.absolute()) if shared != os.sep else str(source)
    cands = plan.candidates
    teams = rehomed_teams(raw.get("teams", []), plan.post_ids, plan.post_weight().tolist())
    header = (
        f"# Posts planned by `dispatch plan posts` ({plan.objective}, k = {plan.k}) for\n"
        f"# {source.name}: its stations replaced by the chosen posts and its teams re-homed on\n"
        "# them in proportion to the calls each post serves. Everything else is inherited.\n"
    )
    table = {
        "extends": relative,
        "name": name,
        "stations": [
            {
                "id": cands.ids[j],
                "name": cands.names[j],
                "lat": float(cands.lat[j]),
                "lon": float(cands.lon[j]),
            }
            for j in plan.siting.sites
        ],
        "teams": teams,
    }
    path = out / "posts_scenario.toml"
    path.write_text(header + tomli_w.dumps(table), encoding="utf-8")
    return path


# -- verification by simulation ----------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    """Today's sites and the plan replayed with common random numbers.

    ``today`` and ``plan`` hold one row per replication (`COMPARED` columns); ``response``
    holds every simulated call (``variant``, ``call_id``, ``replication``): its response
    minutes (NaN when no team came) and whether a specialist team answered.
    """

    today: pd.DataFrame
    plan: pd.DataFrame
    response: pd.DataFrame
    target_min: float

    def table(self) -> pd.DataFrame:
        """Each figure's mean and 95% interval for both, and the paired difference."""
        from dispatch.sim.results import confidence_interval

        rows = []
        for key, label, unit in COMPARED:
            before = confidence_interval(self.today[key].tolist())
            after = confidence_interval(self.plan[key].tolist())
            diff = confidence_interval((self.plan[key] - self.today[key]).tolist())
            rows.append(
                {
                    "figure": key,
                    "label": label,
                    "unit": unit,
                    "today": before[0],
                    "today_lo": before[1],
                    "today_hi": before[2],
                    "plan": after[0],
                    "plan_lo": after[1],
                    "plan_hi": after[2],
                    "difference": diff[0],
                    "difference_lo": diff[1],
                    "difference_hi": diff[2],
                }
            )
        return pd.DataFrame(rows)


def verify_plan(
    scenario_path: str | Path,
    plan_path: str | Path,
    *,
    replications: int | None = None,
    executor: Executor | None = None,
) -> Verification:
    """Replay the scenario and its post plan with the same seed and replications.

    Replication ``r`` of both draws the same streams (the plan inherits the seed), so the
    paired differences measure the sites, not noise. ``executor``: where the replications run
    (`dispatch.simulate`; this process when None), with the same results.
    """
    import dispatch
    from dispatch.sim.results import replication_metrics

    frames, responses = [], []
    target = 0.0
    for variant, path in (("today", scenario_path), ("plan", plan_path)):
        scenario = dispatch.load_scenario(path)
        target = scenario.policy.target_response_min
        result = dispatch.simulate(scenario, replications=replications, executor=executor)
        calls = result.calls
        per_rep = [
            replication_metrics(calls[calls["replication"] == r], target)
            for r in sorted(calls["replication"].unique().tolist())
        ]
        frames.append(pd.DataFrame([{k: m[k] for k, _, _ in COMPARED} for m in per_rep]))
        simulated = calls[calls["outcome"] != "thinned"]
        responses.append(
            pd.DataFrame(
                {
                    "variant": variant,
                    "call_id": simulated["call_id"].to_numpy(),
                    "replication": simulated["replication"].to_numpy(),
                    "response_min": simulated["response_s"].to_numpy() / 60.0,
                    "specialist": (simulated["outcome"] == "specialist").to_numpy(),
                }
            )
        )
    return Verification(
        today=frames[0],
        plan=frames[1],
        response=pd.concat(responses, ignore_index=True),
        target_min=target,
    )


def posts_table(plan: PostsPlan) -> pd.DataFrame:
    """One row per chosen post: id, name, position, existing, calls served and their mean
    travel minutes."""
    cands = plan.candidates
    a = plan.siting.assignment
    rows = []
    for j, served in zip(plan.siting.sites, plan.post_weight().tolist(), strict=True):
        mask = a == j
        w = plan.demand.weight[mask]
        mean_min = (
            float(np.sum(w * plan.cost[mask, j]) / w.sum() / 60.0) if w.sum() > 0 else math.nan
        )
        rows.append(
            {
                "id": cands.ids[j],
                "name": cands.names[j],
                "lat": float(cands.lat[j]),
                "lon": float(cands.lon[j]),
                "existing": bool(cands.existing[j]),
                "fixed": j in plan.fixed,
                "calls_served": served,
                "mean_travel_min": mean_min,
            }
        )
    return pd.DataFrame(rows)


def reached_within(cost: FloatArray, weight: FloatArray, minutes: FloatArray) -> FloatArray:
    """Share of demand weight whose nearest site is within each of ``minutes`` (travel).

    Examples
    --------
    >>> reached_within(np.array([[60.0, 600.0], [900.0, 1200.0]]), np.array([3.0, 1.0]),
    ...                np.array([0.5, 1.0, 15.0])).tolist()
    [0.0, 0.75, 1.0]
    """
    nearest = cost.min(axis=1) / 60.0 if cost.shape[1] else np.full(len(cost), np.inf)
    total = weight.sum()
    return np.array([float(weight[nearest <= m].sum() / total) for m in minutes])


def nearest_travel_s(cost: FloatArray) -> FloatArray:
    """Per demand row, travel seconds from the nearest site (inf when there is none)."""
    if not cost.shape[1]:
        return np.full(len(cost), np.inf)
    return np.asarray(cost.min(axis=1), dtype=float)


@dataclass(frozen=True)
class AreaReach:
    """Per area, the calls and the share of them within a travel time, today and planned.

    Attributes
    ----------
    calls
        Calls over the demand's period (expected calls for a synthetic generator).
    today, plan
        Share of the area's calls whose nearest site (today's sites; the chosen posts) is within
        the travel time, 0..1; NaN where the area has fewer than ``min_calls`` calls.
    min_calls
        Calls below which an area gets no figure ("no data", never zero).
    """

    calls: FloatArray
    today: FloatArray
    plan: FloatArray
    min_calls: float

    @property
    def change(self) -> FloatArray:
        """Plan minus today, share (NaN where there is no data)."""
        return self.plan - self.today


def area_reach(
    plan: PostsPlan, area: npt.ArrayLike, n_areas: int, within_s: float, min_calls: float
) -> AreaReach:
    """Share of each area's calls within ``within_s`` travel seconds of the nearest site.

    Parameters
    ----------
    plan
        The plan; its demand's sources (``source_weight``, ``source_point``) are the calls.
    area
        Per source (call), the index of the area it lies in (-1: none; left out).
    n_areas
        Number of areas.
    within_s
        Travel seconds that count as reached.
    min_calls
        Areas with fewer calls get NaN shares.

    Each call's travel is its demand point's (pooling moves a call by at most half a cell
    diagonal), so the areas add up to `reached_within` of the whole plan.
    """
    idx = np.asarray(area, dtype=np.int64).ravel()
    d = plan.demand
    inside = idx >= 0
    idx, weight, point = idx[inside], d.source_weight[inside], d.source_point[inside]
    calls = np.bincount(idx, weights=weight, minlength=n_areas).astype(float)
    shares = []
    for cost in (plan.today_cost, plan.cost[:, list(plan.siting.sites)]):
        near = nearest_travel_s(cost)[point] <= within_s
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.bincount(idx, weights=weight * near, minlength=n_areas) / calls
        share[calls < min_calls] = np.nan
        shares.append(share)
    return AreaReach(calls, shares[0], shares[1], float(min_calls))
