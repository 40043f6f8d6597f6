"""Maps for ``dispatch report``: response by neighbourhood or hexagonal cell, where no
specialist came and why, the stations and what they reach, and what a sweep's variant changes.

Calls are aggregated on the polygons of the scenario's ``[map] areas`` GeoJSON (point in
polygon by `dispatch.districts.Districts`), else on flat-top hexagonal cells of
``hex_size_km`` in a local equirectangular projection. An area with fewer calls than
``min_calls`` per replication (on average), or none, gets no figure: it is drawn grey and
hatched and labelled "no data", never as zero.

Figures (``figures/map_*.png``):

- ``map_response.png``: median and 90th-percentile response, minutes, on one colour scale;
- ``map_specialist_share.png``: share of calls reached by a specialist within the target;
- ``map_no_specialist.png``: calls that got the fallback response or none, by reason;
- ``map_sites.png``: stations, facilities and what each station reaches within the target (on a
  road network from the network's own travel times, drawn over the network);
- ``map_difference.png`` (sweeps): the answer against the baseline, per area.

Colour scales read in grey and for colour-blind readers (viridis and cividis; PuOr, diverging,
for differences; Okabe-Ito colours with distinct markers for categories). Every map has north
up, a scale bar and the map data's attribution. Matplotlib is imported inside the functions that
draw.

Examples
--------
>>> grid = HexGrid(size_m=500.0, lat0=38.6)
>>> q, r = grid.cells([38.6, 38.6001], [-90.2, -90.2001])
>>> bool(q[0] == q[1] and r[0] == r[1])
True
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.figures import pyplot, save_png
from dispatch.travel import EARTH_RADIUS_M

if TYPE_CHECKING:
    import pandas as pd

    from dispatch.scenario import Scenario
    from dispatch.travel import RoadNetworkTimes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Default minimum calls per replication for an area or cell to get a figure.
MIN_CALLS = 10.0
#: Default hexagonal cell size: centre to corner, kilometres.
HEX_SIZE_KM = 0.5
NO_DATA = "no data"
NO_DATA_FACE = "#d9d9d9"
NO_DATA_EDGE = "#8c8c8c"
OSM_ATTRIBUTION = "Streets © OpenStreetMap contributors, ODbL 1.0"
#: Okabe-Ito colours (distinct for the common colour-vision deficiencies) and a marker per
#: category, so the categories also part in grey.
REASON_STYLES = (
    ("off_shift", "off shift", "#0072B2", "o"),
    ("all_busy", "all busy", "#E69F00", "s"),
    ("too_far", "too far", "#CC79A7", "^"),
    ("ineligible", "ineligible", "#009E73", "D"),
)
SITE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
#: Legends go under the map, where they hide no area.
BELOW: dict[str, Any] = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.01), "fontsize": 7}
KM_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0 / 1000.0


# -- areas -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Areas:
    """Polygons that calls are counted in: named areas, or hexagonal cells.

    Attributes
    ----------
    names
        One per area.
    rings
        Per area, its polygons' outer rings of ``(lon, lat)`` vertices (WGS84 degrees).
    kind
        ``"areas"`` (from a GeoJSON) or ``"hexagons"``.
    """

    names: tuple[str, ...]
    rings: tuple[tuple[FloatArray, ...], ...]
    kind: Literal["areas", "hexagons"] = "areas"
    grid: HexGrid | None = None

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_geojson(cls, path: str | Path, name_property: str = "name") -> Areas:
        """Named areas of a GeoJSON FeatureCollection; features without a geometry are left out."""
        from dispatch.districts import Districts

        districts = Districts.from_geojson(path, name_property)
        return cls(districts.names, districts.rings, "areas")

    def locate(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> IntArray:
        """The area index of each place (WGS84 degrees), -1 outside every area."""
        lat = np.asarray(lats, dtype=float).ravel()
        lon = np.asarray(lons, dtype=float).ravel()
        if self.grid is not None:
            lookup = {name: k for k, name in enumerate(self.names)}
            return np.array(
                [lookup.get(name, -1) for name in self.grid.names(*self.grid.cells(lat, lon))],
                dtype=np.int64,
            )
        from dispatch.districts import Districts

        lookup = {name: k for k, name in enumerate(self.names)}
        zones = Districts(self.names, self.rings).zone_of(lat, lon)
        return np.array([-1 if z is None else lookup[z] for z in zones], dtype=np.int64)

    def bounds(self) -> tuple[float, float, float, float]:
        """``(lon_min, lat_min, lon_max, lat_max)`` of every ring."""
        every = np.concatenate([ring for rings in self.rings for ring in rings])
        return (
            float(every[:, 0].min()),
            float(every[:, 1].min()),
            float(every[:, 0].max()),
            float(every[:, 1].max()),
        )


@dataclass(frozen=True)
class HexGrid:
    """Flat-top hexagons in a local equirectangular projection about latitude ``lat0``.

    Parameters
    ----------
    size_m
        Distance from a cell's centre to its corners, metres (the side length).
    lat0
        Latitude of the projection's true scale, degrees (the middle of the map).

    Cells are named by axial coordinates ``(q, r)``; every place lies in exactly one cell (on a
    shared edge, the one cube rounding picks).
    """

    size_m: float
    lat0: float

    def project(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Metres east and north of (0, 0) in the local projection."""
        x = (
            EARTH_RADIUS_M
            * np.radians(np.asarray(lons, dtype=float))
            * math.cos(math.radians(self.lat0))
        )
        y = EARTH_RADIUS_M * np.radians(np.asarray(lats, dtype=float))
        return x, y

    def unproject(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(lats, lons)`` of projected metres."""
        lon = np.degrees(
            np.asarray(x, dtype=float) / (EARTH_RADIUS_M * math.cos(math.radians(self.lat0)))
        )
        lat = np.degrees(np.asarray(y, dtype=float) / EARTH_RADIUS_M)
        return lat, lon

    def cells(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """Axial ``(q, r)`` of the cell each place lies in (cube rounding)."""
        x, y = self.project(lats, lons)
        q = (2.0 / 3.0 * x) / self.size_m
        r = (-x / 3.0 + math.sqrt(3.0) / 3.0 * y) / self.size_m
        s = -q - r
        rq, rr, rs = np.round(q), np.round(r), np.round(s)
        dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
        fix_q = (dq > dr) & (dq > ds)
        fix_r = ~fix_q & (dr > ds)
        rq = np.where(fix_q, -rr - rs, rq)
        rr = np.where(fix_r, -rq - rs, rr)
        return rq.astype(np.int64), rr.astype(np.int64)

    def centre(self, q: npt.ArrayLike, r: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Projected metres of the cells' centres."""
        qa = np.asarray(q, dtype=float)
        ra = np.asarray(r, dtype=float)
        return self.size_m * 1.5 * qa, self.size_m * math.sqrt(3.0) * (ra + qa / 2.0)

    def ring(self, q: int, r: int) -> FloatArray:
        """The cell's outline: seven ``(lon, lat)`` vertices, the first repeated last."""
        cx, cy = self.centre(q, r)
        angles = np.radians(np.arange(7) * 60.0)
        lat, lon = self.unproject(
            cx + self.size_m * np.cos(angles), cy + self.size_m * np.sin(angles)
        )
        return np.column_stack([lon, lat])

    @staticmethod
    def names(q: IntArray, r: IntArray) -> list[str]:
        """Cell names, ``"q,r"``."""
        return [f"{a},{b}" for a, b in zip(q.tolist(), r.tolist(), strict=True)]


def hex_areas(lats: npt.ArrayLike, lons: npt.ArrayLike, size_km: float = HEX_SIZE_KM) -> Areas:
    """The hexagonal cells that hold at least one of these places (cells in name order).

    Parameters
    ----------
    lats, lons
        Places, WGS84 degrees.
    size_km
        Centre to corner, kilometres.
    """
    lat = np.asarray(lats, dtype=float).ravel()
    lon = np.asarray(lons, dtype=float).ravel()
    lat0 = float(np.mean(lat)) if len(lat) else 0.0
    grid = HexGrid(size_m=size_km * 1000.0, lat0=round(lat0, 6))
    q, r = grid.cells(lat, lon)
    cells = sorted(set(zip(q.tolist(), r.tolist(), strict=True)))
    names = tuple(f"{a},{b}" for a, b in cells)
    rings = tuple((grid.ring(a, b),) for a, b in cells)
    return Areas(names, rings, "hexagons", grid)


# -- figures per area ------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaFigures:
    """Per area: calls and the response figures, NaN where there is no data.

    Attributes
    ----------
    calls
        Calls per replication (mean over replications), zero where none.
    median_response_min, p90_response_min
        Of calls that got a response (specialist or fallback), minutes.
    specialist_share
        Share of the area's calls reached by a specialist within the target, 0..1.
    min_calls
        Calls per replication below which an area has no figure.
    """

    calls: FloatArray
    median_response_min: FloatArray
    p90_response_min: FloatArray
    specialist_share: FloatArray
    min_calls: float

    @property
    def has_data(self) -> npt.NDArray[np.bool_]:
        """True where the area has at least ``min_calls`` calls per replication."""
        return self.calls >= self.min_calls

    def frame(self, names: Sequence[str]) -> pd.DataFrame:
        """The figures as a table, one row per area (``names``, e.g. `Areas.names`).

        Examples
        --------
        >>> f = area_figures([0] * 12, [600.0] * 12, [True] * 12, n_areas=2, replications=1,
        ...                  target_min=20.0)
        >>> f.frame(["A", "B"])  # doctest: +NORMALIZE_WHITESPACE
              calls  median_response_min  p90_response_min  specialist_share
        area
        A      12.0                 10.0              10.0               1.0
        B       0.0                  NaN               NaN               NaN
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "calls": self.calls,
                "median_response_min": self.median_response_min,
                "p90_response_min": self.p90_response_min,
                "specialist_share": self.specialist_share,
            },
            index=pd.Index(list(names), name="area"),
        )


def area_figures(
    area: npt.ArrayLike,
    response_s: npt.ArrayLike,
    specialist: npt.ArrayLike,
    *,
    n_areas: int,
    replications: int,
    target_min: float,
    min_calls: float = MIN_CALLS,
) -> AreaFigures:
    """Median and 90th-percentile response and the specialist share within target, per area.

    Parameters
    ----------
    area
        Each call's area index (-1: in no area; left out).
    response_s
        Each call's response, seconds; NaN for a call no one reached.
    specialist
        True where a specialist team answered the call.
    n_areas
        Number of areas; an area with no call gets no figure.
    replications
        Replications the calls come from (counts are per replication).
    target_min
        Response target, minutes.
    min_calls
        Areas with fewer calls per replication get NaN (no data), not a figure of a few calls.

    Examples
    --------
    >>> f = area_figures([0] * 20 + [1], [600.0] * 21, [True] * 21, n_areas=3, replications=1,
    ...                  target_min=20.0, min_calls=10)
    >>> f.calls.tolist(), f.median_response_min.tolist()
    ([20.0, 1.0, 0.0], [10.0, nan, nan])
    """
    import pandas as pd

    idx = np.asarray(area, dtype=np.int64).ravel()
    resp = np.asarray(response_s, dtype=float).ravel()
    spec = np.asarray(specialist, dtype=bool).ravel()
    inside = idx >= 0
    idx, resp, spec = idx[inside], resp[inside], spec[inside]
    reps = max(int(replications), 1)
    counts = np.bincount(idx, minlength=n_areas).astype(float)
    within = spec & (resp <= target_min * 60.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.bincount(idx, weights=within.astype(float), minlength=n_areas) / counts
    answered = np.isfinite(resp)
    minutes = pd.Series(resp[answered] / 60.0)
    groups = minutes.groupby(idx[answered])
    full = pd.RangeIndex(n_areas)
    median = np.array(groups.quantile(0.5).reindex(full), dtype=float)
    p90 = np.array(groups.quantile(0.9).reindex(full), dtype=float)
    per_rep = counts / reps
    empty = per_rep < min_calls
    for values in (median, p90, share):
        values[empty] = np.nan
    return AreaFigures(per_rep, median, p90, share, float(min_calls))


# -- where the calls are ---------------------------------------------------------------------
def call_locations(scenario: Scenario, calls: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    """Latitude and longitude of each row of a results ``calls`` table.

    The results carry no coordinates; they come from the scenario's call log by ``call_id``.
    Where the replay draws calls itself (a synthetic generator, or a volume above 1 that adds
    copies at other places) each replication's calls are drawn again from the same random
    stream the replay used, which gives the same calls.

    Parameters
    ----------
    scenario
        The scenario the results come from.
    calls
        ``call_id`` and ``replication`` columns.
    """
    import pandas as pd

    from dispatch.scenario import SyntheticCalls

    lat = np.full(len(calls), np.nan)
    lon = np.full(len(calls), np.nan)
    ids = calls["call_id"].astype(str).to_numpy()
    log = scenario.calls
    if not isinstance(log, SyntheticCalls) and scenario.volume <= 1.0:
        where = pd.Index(log["call_id"].astype(str)).get_indexer(pd.Index(ids))
        found = where >= 0
        lat[found] = log["lat"].to_numpy(dtype=float)[where[found]]
        lon[found] = log["lon"].to_numpy(dtype=float)[where[found]]
        return lat, lon
    from dispatch.sim.prepare import prepare, replication_calls, streams

    prep = prepare(scenario)
    reps = calls["replication"].to_numpy()
    for k in np.unique(reps).tolist():
        table = replication_calls(prep, streams(scenario.seed, int(k))["calls"])
        rows = np.flatnonzero(reps == k)
        where = pd.Index(table.call_id.astype(str)).get_indexer(pd.Index(ids[rows]))
        found = where >= 0
        lat[rows[found]] = table.lat[where[found]]
        lon[rows[found]] = table.lon[where[found]]
    return lat, lon


def locate_calls(areas: Areas, lats: FloatArray, lons: FloatArray) -> IntArray:
    """Area index of every call (-1: none), each distinct place located once."""
    known = np.isfinite(lats) & np.isfinite(lons)
    out = np.full(len(lats), -1, dtype=np.int64)
    if not known.any():
        return out
    places, inverse = np.unique(
        np.column_stack([lats[known], lons[known]]), axis=0, return_inverse=True
    )
    out[known] = areas.locate(places[:, 0], places[:, 1])[inverse.ravel()]
    return out


# -- reach of a station ----------------------------------------------------------------------
def travel_budget_s(scenario: Scenario, target_min: float) -> float:
    """Driving seconds left of the target after median call processing and turnout."""
    service = scenario.service
    spent = float(service.processing.quantile(0.5)) + float(service.turnout.quantile(0.5))
    return max(target_min * 60.0 - spent, 0.0)


def reach_seconds(travel: RoadNetworkTimes, origin: int, limit_s: float) -> FloatArray:
    """Seconds from ``origin`` to every node of a road network (inf beyond ``limit_s``).

    A forward Dijkstra on the oracle's own edge seconds (its base band): the oracle answers
    towards a destination, a station's reach runs away from it.
    """
    from scipy.sparse.csgraph import dijkstra

    forward = travel._forward  # the oracle's forward graph, kept beside its reverse one
    dist = dijkstra(forward, directed=True, indices=int(origin), limit=float(limit_s))
    return np.asarray(dist, dtype=float)


def network_edges(travel: RoadNetworkTimes) -> tuple[IntArray, IntArray]:
    """Source and target node of every edge of a road network."""
    coo = travel._forward.tocoo()
    return coo.row.astype(np.int64), coo.col.astype(np.int64)


# -- drawing ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapContext:
    """What every map of one report shares: areas, extent, sites, network and credits."""

    areas: Areas
    extent: tuple[float, float, float, float]
    stations: Sequence[tuple[str, float, float]] = ()
    facilities: Sequence[tuple[str, float, float]] = ()
    attribution: str = ""
    lines: FloatArray | None = None

    @property
    def lat0(self) -> float:
        return (self.extent[1] + self.extent[3]) / 2.0


def _polygons(areas: Areas, select: npt.NDArray[np.bool_]) -> tuple[list[FloatArray], list[int]]:
    polys: list[FloatArray] = []
    owner: list[int] = []
    for k in np.flatnonzero(select).tolist():
        for ring in areas.rings[k]:
            polys.append(ring)
            owner.append(k)
    return polys, owner


def draw_areas(
    ax: Any,
    areas: Areas,
    values: FloatArray,
    *,
    cmap: Any,
    norm: Any,
    present: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Fill each area by its value; areas with NaN are grey, hatched: no data.

    ``present`` limits the drawing to some areas (hexagonal cells hold calls by construction).
    """
    from matplotlib.collections import PolyCollection

    values = np.asarray(values, dtype=float)
    shown = np.ones(len(areas), dtype=bool) if present is None else present
    good = shown & np.isfinite(values)
    polys, owner = _polygons(areas, good)
    if polys:
        ax.add_collection(
            PolyCollection(
                polys,
                facecolors=cmap(norm(values[owner])),
                edgecolors="white",
                linewidths=0.4,
                zorder=2,
            )
        )
    polys, _ = _polygons(areas, shown & ~np.isfinite(values))
    if polys:
        ax.add_collection(
            PolyCollection(
                polys,
                facecolors=NO_DATA_FACE,
                edgecolors=NO_DATA_EDGE,
                hatch="////",
                linewidths=0.4,
                zorder=2,
            )
        )


def draw_outlines(ax: Any, areas: Areas) -> None:
    """The areas' outlines, light, as a base layer."""
    from matplotlib.collections import PolyCollection

    polys, _ = _polygons(areas, np.ones(len(areas), dtype=bool))
    ax.add_collection(
        PolyCollection(polys, facecolors="#f4f4f4", edgecolors="#bdbdbd", linewidths=0.4, zorder=1)
    )


def no_data_handle(min_calls: float, *, per: str = "calls a replication") -> Any:
    """The legend entry for areas without a figure: fewer than ``min_calls`` ``per``."""
    from matplotlib.patches import Patch

    return Patch(
        facecolor=NO_DATA_FACE,
        edgecolor=NO_DATA_EDGE,
        hatch="////",
        label=f"{NO_DATA} (fewer than {min_calls:g} {per})",
    )


def _nice_km(width_km: float) -> float:
    for step in (100.0, 50.0, 20.0, 10.0, 5.0, 2.0, 1.0, 0.5, 0.2, 0.1):
        if step <= width_km / 4.0:
            return step
    return 0.05


def furnish(ax: Any, ctx: MapContext, *, attribution: bool = True) -> None:
    """Extent, true shape at the map's latitude, north arrow, scale bar and credits."""
    import matplotlib.patheffects as pe

    lon0, lat0, lon1, lat1 = ctx.extent
    cos_lat = math.cos(math.radians(ctx.lat0))
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    # Equirectangular at the map's latitude: a kilometre is as long east as north.
    ax.set_aspect(1.0 / cos_lat)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")
    width_km = (lon1 - lon0) * KM_PER_DEGREE * cos_lat
    km = _nice_km(width_km)
    bar = km / (KM_PER_DEGREE * cos_lat)
    x0 = lon0 + 0.05 * (lon1 - lon0)
    y0 = lat0 + 0.045 * (lat1 - lat0)
    halo = [pe.withStroke(linewidth=3, foreground="white")]
    ax.plot([x0, x0 + bar], [y0, y0], color="black", lw=2.5, solid_capstyle="butt", zorder=6)
    label = f"{km:g} km" if km >= 1 else f"{km * 1000:g} m"
    ax.text(
        x0 + bar / 2,
        y0 + 0.015 * (lat1 - lat0),
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=6,
        path_effects=halo,
    )
    ax.annotate(
        "N",
        xy=(0.06, 0.96),
        xytext=(0.06, 0.85),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="top",
        fontsize=10,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        zorder=6,
    )
    if attribution and ctx.attribution:
        import textwrap

        # The map's width on the page once its aspect is kept (a tall city is a narrow map):
        # the credits are wrapped to half of it, clear of the scale bar on the left.
        box = ax.get_position()
        box_w = box.width * ax.figure.get_figwidth()
        box_h = box.height * ax.figure.get_figheight()
        ratio = width_km / max((lat1 - lat0) * KM_PER_DEGREE, 1e-9)
        width_in = min(box_w, box_h * ratio)
        ax.text(
            0.995,
            0.005,
            "\n".join(textwrap.wrap(ctx.attribution, max(24, min(60, int(width_in * 10))))),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6,
            color="#333333",
            zorder=7,
            bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.5},
        )


def draw_sites(
    ax: Any, ctx: MapContext, *, labels: bool = False, station_label: str = "station"
) -> list[Any]:
    """Stations (triangles) and facilities (crosses); their legend handles.

    ``labels`` writes each site's id beside it; ``station_label`` names the stations in the
    legend.
    """
    import matplotlib.patheffects as pe

    handles: list[Any] = []
    halo = [pe.withStroke(linewidth=2.5, foreground="white")]
    if ctx.stations:
        (h,) = ax.plot(
            [s[2] for s in ctx.stations],
            [s[1] for s in ctx.stations],
            "^",
            ms=9,
            color="black",
            mec="white",
            mew=1.0,
            ls="none",
            zorder=8,
            label=station_label,
        )
        handles.append(h)
    if ctx.facilities:
        (h,) = ax.plot(
            [f[2] for f in ctx.facilities],
            [f[1] for f in ctx.facilities],
            "P",
            ms=9,
            color="#D55E00",
            mec="white",
            mew=1.0,
            ls="none",
            zorder=8,
            label="facility",
        )
        handles.append(h)
    if labels:
        for name, lat, lon in (*ctx.stations, *ctx.facilities):
            ax.annotate(
                name,
                (lon, lat),
                xytext=(6, 4),
                textcoords="offset points",
                fontsize=7,
                zorder=9,
                path_effects=halo,
            )
    return handles


def draw_network(ax: Any, ctx: MapContext) -> None:
    """The road network's edges, thin grey, under everything else."""
    from matplotlib.collections import LineCollection

    if ctx.lines is not None and len(ctx.lines):
        ax.add_collection(
            LineCollection(list(ctx.lines), colors="#9a9a9a", linewidths=0.5, zorder=1.5)
        )


def save_map(fig: Any, path: Path) -> Path:
    """Write a map figure as PNG (`dispatch.figures.save_png`) and close it."""
    return save_png(fig, path)


def map_axes(n: int, ctx: MapContext | None = None, *, colorbars: int = 0) -> tuple[Any, Any]:
    """A figure with ``n`` map panels side by side, and the panels' axes.

    With ``ctx`` each panel is as wide as its map needs at 6 inches high (a tall city gets
    narrow panels, not wide white margins), between 3.2 and 5.6 inches, plus room for
    ``colorbars`` vertical colour bars.
    """
    plt = pyplot()
    width = 5.6
    if ctx is not None:
        lon0, lat0, lon1, lat1 = ctx.extent
        ratio = (lon1 - lon0) * math.cos(math.radians(ctx.lat0)) / max(lat1 - lat0, 1e-9)
        width = min(5.6, max(3.2, 5.4 * ratio + 0.6))
    fig, axes = plt.subplots(1, n, figsize=(width * n + 1.0 * colorbars, 6.0), squeeze=False)
    return fig, list(axes[0])


def figure_response(ctx: MapContext, figures: AreaFigures, title: str, path: Path) -> Path:
    """Median and 90th-percentile response per area on one colour scale (minutes)."""
    from matplotlib.colors import Normalize

    plt = pyplot()
    fig, axes = map_axes(2, ctx, colorbars=1)
    top = np.nanmax(figures.p90_response_min) if np.isfinite(figures.p90_response_min).any() else 1
    norm = Normalize(vmin=0.0, vmax=float(math.ceil(top / 5.0) * 5.0))
    cmap = plt.get_cmap("viridis_r")
    present = figures.calls > 0 if ctx.areas.kind == "hexagons" else None
    panels = (
        (figures.median_response_min, "median response"),
        (figures.p90_response_min, "90th-percentile response"),
    )
    for ax, (values, label) in zip(axes, panels, strict=True):
        draw_areas(ax, ctx.areas, values, cmap=cmap, norm=norm, present=present)
        draw_sites(ax, ctx)
        furnish(ax, ctx)
        ax.set_title(label)
    fig.colorbar(
        plt.cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=axes,
        shrink=0.7,
        label="minutes from the 911 call to a team on scene",
    )
    axes[0].legend(handles=[no_data_handle(figures.min_calls)], **BELOW)
    fig.suptitle(title)
    return save_map(fig, path)


def figure_share(
    ctx: MapContext, figures: AreaFigures, target_min: float, title: str, path: Path
) -> Path:
    """Share of calls reached by a specialist within the target, per area (percent)."""
    from matplotlib.colors import Normalize

    plt = pyplot()
    fig, axes = map_axes(1, ctx, colorbars=1)
    ax = axes[0]
    norm = Normalize(vmin=0.0, vmax=100.0)
    cmap = plt.get_cmap("cividis")
    present = figures.calls > 0 if ctx.areas.kind == "hexagons" else None
    draw_areas(
        ax, ctx.areas, figures.specialist_share * 100.0, cmap=cmap, norm=norm, present=present
    )
    handles = draw_sites(ax, ctx)
    furnish(ax, ctx)
    fig.colorbar(
        plt.cm.ScalarMappable(norm=norm, cmap=cmap),
        ax=ax,
        shrink=0.7,
        label=f"% of calls reached by a specialist within {target_min:g} min",
    )
    ax.legend(handles=[no_data_handle(figures.min_calls), *handles], **BELOW)
    ax.set_title(title)
    return save_map(fig, path)


@dataclass(frozen=True)
class Misses:
    """Calls that got no specialist: place, reason and whether any team came."""

    lats: FloatArray
    lons: FloatArray
    reasons: npt.NDArray[np.str_]
    unserved: npt.NDArray[np.bool_]
    replications: int


def figure_reasons(ctx: MapContext, misses: Misses, title: str, path: Path) -> Path:
    """Where calls got the fallback response or none, coloured (and shaped) by reason."""
    fig, axes = map_axes(1, ctx)
    ax = axes[0]
    draw_outlines(ax, ctx.areas)
    draw_network(ax, ctx)
    handles: list[Any] = []
    reps = max(misses.replications, 1)
    known = np.isfinite(misses.lats) & np.isfinite(misses.lons)
    # Most frequent first, so the rarer reasons are drawn on top and stay visible.
    styles = sorted(REASON_STYLES, key=lambda s: -int(np.sum(misses.reasons == s[0])))
    for reason, label, colour, marker in styles:
        pick = known & (misses.reasons == reason)
        n = int(pick.sum())
        if not n:
            continue
        # A place with the same reason in several replications is one mark.
        places = np.unique(np.column_stack([misses.lats[pick], misses.lons[pick]]), axis=0)
        (h,) = ax.plot(
            places[:, 1],
            places[:, 0],
            marker,
            ms=3.2,
            color=colour,
            alpha=0.7,
            mec="none",
            ls="none",
            zorder=3,
            label=f"{label}: {n / reps:,.0f} calls a replication",
        )
        handles.append(h)
    gone = known & misses.unserved
    if gone.any():
        (h,) = ax.plot(
            misses.lons[gone],
            misses.lats[gone],
            "x",
            ms=4,
            color="black",
            ls="none",
            zorder=4,
            label=f"no team came: {int(gone.sum()) / reps:,.1f} calls a replication",
        )
        handles.append(h)
    handles += draw_sites(ax, ctx)
    furnish(ax, ctx)
    ax.legend(
        handles=handles,
        **{**BELOW, "ncols": 2},
        title="why no specialist team came",
        title_fontsize=8,
    )
    ax.set_title(title)
    return save_map(fig, path)


@dataclass(frozen=True)
class Reach:
    """What a station reaches within the travel budget: edges on a network, or a circle."""

    station: str
    lines: FloatArray | None = None
    ring: FloatArray | None = None


def station_reach(
    scenario: Scenario, stations: Sequence[tuple[str, float, float]], budget_s: float
) -> list[Reach]:
    """Per station, the network edges it reaches within ``budget_s`` (both ends), or, with
    straight-line travel, the circle of that many seconds' driving."""
    from dispatch.travel import RoadNetworkTimes, StraightLineTimes

    travel = scenario.travel
    out: list[Reach] = []
    if isinstance(travel, RoadNetworkTimes):
        src, dst = network_edges(travel)
        for name, lat, lon in stations:
            seconds = reach_seconds(travel, travel.snap(lat, lon), budget_s)
            keep = (seconds[src] <= budget_s) & (seconds[dst] <= budget_s)
            lines = np.stack(
                [
                    np.column_stack([travel.lons[src[keep]], travel.lats[src[keep]]]),
                    np.column_stack([travel.lons[dst[keep]], travel.lats[dst[keep]]]),
                ],
                axis=1,
            )
            out.append(Reach(name, lines=lines))
    elif isinstance(travel, StraightLineTimes):
        radius_m = budget_s * travel.speed_kph / 3.6 / travel.circuity
        angles = np.radians(np.arange(0, 361, 4))
        for name, lat, lon in stations:
            dlat = np.degrees(radius_m * np.sin(angles) / EARTH_RADIUS_M)
            dlon = np.degrees(
                radius_m * np.cos(angles) / (EARTH_RADIUS_M * math.cos(math.radians(lat)))
            )
            out.append(Reach(name, ring=np.column_stack([lon + dlon, lat + dlat])))
    return out


def figure_sites(
    ctx: MapContext, reach: list[Reach], target_min: float, budget_s: float, path: Path
) -> Path:
    """Stations, facilities and what each station reaches within the target."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    fig, axes = map_axes(1, ctx)
    ax = axes[0]
    draw_outlines(ax, ctx.areas)
    draw_network(ax, ctx)
    handles: list[Any] = []
    for k, r in enumerate(reach):
        colour = SITE_COLOURS[k % len(SITE_COLOURS)]
        label = f"reached from {r.station}"
        if r.lines is not None:
            ax.add_collection(
                LineCollection(list(r.lines), colors=colour, linewidths=1.6, zorder=3)
            )
            handles.append(Line2D([], [], color=colour, lw=1.6, label=label))
        if r.ring is not None:
            patch = Polygon(
                r.ring,
                closed=True,
                facecolor=colour,
                alpha=0.12,
                edgecolor=colour,
                lw=1.5,
                ls="--",
                zorder=3,
            )
            ax.add_patch(patch)
            handles.append(
                Polygon(
                    [[0, 0]], facecolor=colour, alpha=0.3, edgecolor=colour, ls="--", label=label
                )
            )
    handles += draw_sites(ax, ctx, labels=True)
    furnish(ax, ctx)
    ax.legend(handles=handles, **BELOW)
    ax.set_title(
        f"Stations, facilities and reach within {target_min:g} min\n"
        f"(driving up to {budget_s / 60:.1f} min after median call processing and turnout)",
        fontsize=10,
    )
    return save_map(fig, path)


def symmetric_norm(values: FloatArray) -> Any:
    """A colour norm symmetric about zero over the finite values: no change is the middle,
    white-ish colour of a diverging scale."""
    from matplotlib.colors import Normalize

    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    top = float(np.max(np.abs(finite))) if len(finite) else 1.0
    top = max(top, 1e-6)
    return Normalize(vmin=-top, vmax=top)


def figure_difference(
    ctx: MapContext,
    base: AreaFigures,
    other: AreaFigures,
    title: str,
    path: Path,
    *,
    sites: Callable[[Any], list[Any]] | None = None,
) -> Path:
    """Per area, the other variant minus the base: share within target and median response.

    ``sites`` draws the sites on a panel and returns their legend handles (default: the
    context's stations and facilities, `draw_sites`).
    """
    plt = pyplot()
    handles: list[Any] = []
    fig, axes = map_axes(2, ctx, colorbars=2)
    share = (other.specialist_share - base.specialist_share) * 100.0
    median = other.median_response_min - base.median_response_min
    present = (base.calls > 0) | (other.calls > 0) if ctx.areas.kind == "hexagons" else None
    panels = (
        (share, "PuOr", "change in % reached by a specialist\nwithin the target (points)"),
        (median, "PuOr_r", "change in median response (minutes)"),
    )
    for ax, (values, cmap_name, label) in zip(axes, panels, strict=True):
        norm = symmetric_norm(values)
        cmap = plt.get_cmap(cmap_name)
        draw_areas(ax, ctx.areas, values, cmap=cmap, norm=norm, present=present)
        handles = draw_sites(ax, ctx) if sites is None else sites(ax)
        furnish(ax, ctx)
        fig.colorbar(
            plt.cm.ScalarMappable(norm=norm, cmap=cmap),
            ax=ax,
            shrink=0.7,
            label=label + "\npurple: better, orange: worse",
        )
    legend = [no_data_handle(base.min_calls)] + (handles if sites is not None else [])
    axes[0].legend(handles=legend, **{**BELOW, "ncols": min(len(legend), 3)})
    fig.suptitle(title)
    return save_map(fig, path)


def network_lines(travel: RoadNetworkTimes) -> FloatArray:
    """Every edge of a road network as a segment: shape ``(edges, 2, 2)``, ``(lon, lat)``."""
    src, dst = network_edges(travel)
    return np.stack(
        [
            np.column_stack([travel.lons[src], travel.lats[src]]),
            np.column_stack([travel.lons[dst], travel.lats[dst]]),
        ],
        axis=1,
    )


def scenario_areas(scenario: Scenario, lats: FloatArray, lons: FloatArray) -> Areas:
    """The areas the scenario's ``[map]`` table names, else hexagonal cells over the places.

    Parameters
    ----------
    scenario
        Its ``map`` spec: ``areas`` and ``area_property``, or ``hex_size_km``.
    lats, lons
        The places to be counted (WGS84 degrees; NaN for unknown): hexagonal cells are made
        where they lie.
    """
    spec = scenario.map
    if spec is not None and spec.areas is not None:
        return Areas.from_geojson(spec.areas, spec.area_property)
    size = spec.hex_size_km if spec is not None else HEX_SIZE_KM
    lat = np.asarray(lats, dtype=float)
    lon = np.asarray(lons, dtype=float)
    known = np.isfinite(lat) & np.isfinite(lon)
    return hex_areas(lat[known], lon[known], size)


def map_context(
    scenario: Scenario,
    areas: Areas,
    *,
    stations: Sequence[tuple[str, float, float]] = (),
    facilities: Sequence[tuple[str, float, float]] = (),
    lats: FloatArray | None = None,
    lons: FloatArray | None = None,
    points: Sequence[tuple[float, float]] = (),
) -> MapContext:
    """The `MapContext` of the scenario's maps: the areas, these sites, its road network (when
    it has one) and its credits, on an extent that holds them all.

    ``lats``/``lons`` (places shown on the maps, NaN for unknown) widen the extent when the
    areas are hexagonal cells (which hold only some of them) or there are none; ``points``
    (``(lat, lon)``, e.g. other sites drawn) always do.
    """
    from dispatch.travel import RoadNetworkTimes

    travel = scenario.travel
    lines = network_lines(travel) if isinstance(travel, RoadNetworkTimes) else None
    points = [(la, lo) for _, la, lo in (*stations, *facilities)] + list(points)
    if lines is not None:
        points += [(float(lines[..., 1].min()), float(lines[..., 0].min()))]
        points += [(float(lines[..., 1].max()), float(lines[..., 0].max()))]
    if lats is not None and lons is not None and (areas.kind == "hexagons" or not len(areas)):
        known = np.isfinite(lats) & np.isfinite(lons)
        if known.any():
            points += [(float(lats[known].min()), float(lons[known].min()))]
            points += [(float(lats[known].max()), float(lons[known].max()))]
    return MapContext(
        areas=areas,
        extent=map_extent(points, areas),
        stations=stations,
        facilities=facilities,
        attribution=attribution(scenario),
        lines=lines,
    )


# -- the report's map section ----------------------------------------------------------------
@dataclass
class MapSection:
    """What the maps add to a report: figures ``(title, path, caption)``, notes and a table."""

    figures: list[tuple[str, Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: str = ""


def attribution(scenario: Scenario) -> str:
    """Credits for the scenario's map data: the ``[map]`` attribution (else the areas file's
    name) and OpenStreetMap's on a road network."""
    from dispatch.travel import RoadNetworkTimes

    spec = scenario.map
    parts: list[str] = []
    if spec is not None and spec.attribution:
        parts.append(spec.attribution)
    elif spec is not None and spec.areas is not None:
        parts.append(f"Areas: {spec.areas.name}")
    if isinstance(scenario.travel, RoadNetworkTimes):
        parts.append(OSM_ATTRIBUTION)
    return "; ".join(parts)


def map_extent(
    points: Sequence[tuple[float, float]], areas: Areas
) -> tuple[float, float, float, float]:
    """``(lon_min, lat_min, lon_max, lat_max)`` holding the areas and ``(lat, lon)`` points,
    with a margin of 4 % (at least 0.002 degrees) on every side."""
    lon0, lat0, lon1, lat1 = (
        areas.bounds() if len(areas) else (math.inf, math.inf, -math.inf, -math.inf)
    )
    if points:
        arr = np.asarray(points, dtype=float)
        lat0, lat1 = min(lat0, float(arr[:, 0].min())), max(lat1, float(arr[:, 0].max()))
        lon0, lon1 = min(lon0, float(arr[:, 1].min())), max(lon1, float(arr[:, 1].max()))
    pad_lat = max((lat1 - lat0) * 0.04, 0.002)
    pad_lon = max((lon1 - lon0) * 0.04, 0.002)
    return lon0 - pad_lon, lat0 - pad_lat, lon1 + pad_lon, lat1 + pad_lat


def _choose_variants(
    summary: dict[str, Any], variants: list[dict[str, Any]], compare: tuple[int, int] | None
) -> tuple[int, int | None]:
    """The variant to map and the one to compare it with (None: no comparison)."""
    indices = [int(v["variant"]) for v in variants]
    if compare is not None:
        for k in compare:
            if k not in indices:
                raise InputError(f"--compare: no variant {k} (variants: {indices})")
        return compare[1], compare[0]
    target = summary.get("target") or {}
    shown = target.get("answer")
    if shown is None:
        shown = target.get("best")
    if shown is None:
        shown = indices[-1]
    baseline = indices[0]
    return int(shown), (None if baseline == shown else baseline)


def _label(variants: list[dict[str, Any]], k: int) -> str:
    """``"#7 (4 / 3 / 3)"``: the variant's number and its values (`_keys` names them)."""
    for v in variants:
        if int(v["variant"]) == k:
            values = v.get("values") or {}
            shown = " / ".join(str(x) for x in values.values()) or str(v["label"])
            return f"#{k} ({shown})"
    return f"#{k}"


def _keys(variants: list[dict[str, Any]]) -> str:
    """The varied keys, short: ``"CRU-day.count / CRU-evening.count"``."""
    keys = list((variants[0].get("values") or {}) if variants else {})
    return " / ".join(".".join(str(k).split(".")[-2:]) for k in keys)


def _read_calls(path: Path, kind: str, wanted: list[int]) -> pd.DataFrame:
    import pandas as pd

    columns = ["call_id", "replication", "response_s", "outcome", "reason"]
    if kind == "sweep":
        frame = pd.read_parquet(
            path, columns=["variant", *columns], filters=[("variant", "in", wanted)]
        )
    else:
        frame = pd.read_parquet(path, columns=columns)
        frame.insert(0, "variant", 0)
    return frame[frame["outcome"] != "thinned"].reset_index(drop=True)


def _variant_scenario(
    directory: Path, base: Scenario, path: Path, variant: int, varied: Sequence[str]
) -> Scenario:
    """The variant's own scenario when the sweep varies where the calls come from."""
    if not any(str(k).split(".")[0] == "calls" for k in varied):
        return base
    from dispatch.scenario_file import load_scenario

    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    overrides = manifest["identity"]["variants"][variant]["overrides"]
    return load_scenario(path, overrides=overrides)


def _fmt(value: float, spec: str) -> str:
    return NO_DATA if not np.isfinite(value) else format(value, spec)


def area_table(areas: Areas, figures: AreaFigures, target_min: float) -> str:
    """An HTML table of every named area's figures, the slowest to reach first."""
    order = sorted(
        range(len(areas)),
        key=lambda k: (
            not np.isfinite(figures.specialist_share[k]),
            figures.specialist_share[k] if np.isfinite(figures.specialist_share[k]) else 0.0,
            areas.names[k],
        ),
    )
    head = [
        "area",
        "calls a replication",
        "median min",
        "p90 min",
        f"specialist ≤ {target_min:g} min",
    ]
    rows = [
        [
            areas.names[k],
            f"{figures.calls[k]:.1f}",
            _fmt(figures.median_response_min[k], ".1f"),
            _fmt(figures.p90_response_min[k], ".1f"),
            _fmt(figures.specialist_share[k] * 100.0, ".0f")
            + (" %" if np.isfinite(figures.specialist_share[k]) else ""),
        ]
        for k in order
    ]
    cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def map_section(
    directory: str | Path,
    figures_dir: Path,
    *,
    kind: str,
    summary: dict[str, Any],
    variants: list[dict[str, Any]],
    scenario: str | Path | None = None,
    maps: bool | None = None,
    compare: tuple[int, int] | None = None,
) -> MapSection:
    """Draw the report's maps into ``figures_dir``.

    Parameters
    ----------
    directory
        The simulate or sweep output.
    figures_dir
        Where the PNGs go (``map_*.png``).
    kind, summary, variants
        As `dispatch.report.ReportData` holds them.
    scenario
        The scenario file; default the one the results record.
    maps
        True: draw maps (hexagonal cells when the scenario names no areas); False: none; None:
        when the scenario has a ``[map]`` table.
    compare
        Sweeps: ``(baseline, other)`` variant indices for the difference map; default the
        first variant and the answer (or the closest to the target).
    """
    section = MapSection()
    if maps is False:
        return section
    out = Path(directory)
    path = scenario if scenario is not None else summary.get("scenario_path")
    if path is None or not Path(path).is_file():
        if maps:
            section.notes.append(
                "No maps: the results do not name a scenario file that exists; "
                "run `dispatch report DIR --scenario FILE`."
            )
        return section
    from dispatch.scenario_file import load_scenario

    base = load_scenario(path)
    spec = base.map
    if spec is None and not maps:
        section.notes.append(
            "No maps: the scenario has no [map] table. Add one (see the README) or run "
            "`dispatch report DIR --maps` for maps on hexagonal cells."
        )
        return section
    calls_path = out / "calls.parquet"
    if not calls_path.is_file():
        section.notes.append(
            "No maps: they need every call. Rerun the sweep with --calls "
            "(`dispatch sweep SCENARIO --out DIR --calls`), which keeps calls.parquet."
        )
        return section
    target_min = float(summary.get("target_response_min") or base.policy.target_response_min)
    shown, other = (0, None) if kind != "sweep" else _choose_variants(summary, variants, compare)
    wanted = [shown] if other is None else [other, shown]
    calls = _read_calls(calls_path, kind, wanted)
    varied = [str(k) for k in summary.get("varied", [])]
    lat = np.full(len(calls), np.nan)
    lon = np.full(len(calls), np.nan)
    variant_col = calls["variant"].to_numpy()
    for k in wanted:
        rows = np.flatnonzero(variant_col == k)
        own = base if kind != "sweep" else _variant_scenario(out, base, Path(path), k, varied)
        la, lo = call_locations(own, calls.iloc[rows])
        lat[rows], lon[rows] = la, lo
    min_calls = spec.min_calls if spec is not None else MIN_CALLS
    areas = scenario_areas(base, lat, lon)
    area = locate_calls(areas, lat, lon)
    sites = [(s.site_id, s.lat, s.lon) for s in base.stations]
    facilities = [(f.site_id, f.lat, f.lon) for f in base.facilities]
    ctx = map_context(base, areas, stations=sites, facilities=facilities, lats=lat, lons=lon)
    lines = ctx.lines

    def figures_of(k: int) -> AreaFigures:
        rows = variant_col == k
        reps = int(calls.loc[rows, "replication"].nunique())
        return area_figures(
            area[rows],
            calls.loc[rows, "response_s"].to_numpy(dtype=float),
            (calls.loc[rows, "outcome"] == "specialist").to_numpy(),
            n_areas=len(areas),
            replications=reps,
            target_min=target_min,
            min_calls=min_calls,
        )

    main = figures_of(shown)
    unit = (
        "neighbourhood"
        if areas.kind == "areas"
        else f"hexagonal cell ({spec.hex_size_km if spec else HEX_SIZE_KM:g} km)"
    )
    which = "" if kind != "sweep" else f", variant {_label(variants, shown)}"
    outside = float(np.sum(area[variant_col == shown] < 0)) / max(
        int(calls.loc[variant_col == shown, "replication"].nunique()), 1
    )
    if outside >= 0.5:
        section.notes.append(
            f"Maps: {outside:,.0f} calls a replication lie outside every area and are left out."
        )
    no_data = (
        f"Grey hatched: no data, fewer than {min_calls:g} calls a replication (or none); "
        "no figure is shown from a handful of calls."
    )
    section.figures.append(
        (
            "Map: response time",
            figure_response(
                ctx, main, f"Response by {unit}{which}", figures_dir / "map_response.png"
            ),
            f"Median and 90th-percentile minutes from the 911 call to a team on scene, by "
            f"{unit}, of calls any team reached, all replications. {no_data}",
        )
    )
    section.figures.append(
        (
            "Map: specialist within the target",
            figure_share(
                ctx,
                main,
                target_min,
                f"Reached by a specialist within {target_min:g} min{which}",
                figures_dir / "map_specialist_share.png",
            ),
            f"Share of each {unit.split(' (')[0]}'s calls that a co-responder or clinician team "
            f"reached within {target_min:g} min of the 911 call. {no_data}",
        )
    )
    rows = (variant_col == shown) & (calls["outcome"] != "specialist").to_numpy()
    misses = Misses(
        lats=lat[rows],
        lons=lon[rows],
        reasons=calls.loc[rows, "reason"].astype(str).to_numpy(),
        unserved=(calls.loc[rows, "outcome"] == "unserved").to_numpy(),
        replications=int(calls.loc[variant_col == shown, "replication"].nunique()),
    )
    section.figures.append(
        (
            "Map: where no specialist came",
            figure_reasons(
                ctx,
                misses,
                f"Calls with no specialist team, by reason{which}",
                figures_dir / "map_no_specialist.png",
            ),
            "Each mark is a call place that got the fallback response (or none, a cross) in at "
            "least one replication, coloured and shaped by why no specialist team was sent.",
        )
    )
    budget = travel_budget_s(base, target_min)
    reach = station_reach(base, sites, budget)
    how = (
        "the network edges each station reaches over the network's own travel times"
        if lines is not None
        else "the circle each station reaches at the scenario's straight-line speed and circuity"
    )
    section.figures.append(
        (
            "Map: stations and reach",
            figure_sites(ctx, reach, target_min, budget, figures_dir / "map_sites.png"),
            f"Stations (triangles), facilities (crosses) and {how} within the target, after the "
            "median call processing and turnout.",
        )
    )
    if other is not None:
        base_figures = figures_of(other)
        section.figures.append(
            (
                "Map: what the variant changes",
                figure_difference(
                    ctx,
                    base_figures,
                    main,
                    f"{_label(variants, shown)} against {_label(variants, other)}\n"
                    f"({_keys(variants)})",
                    figures_dir / "map_difference.png",
                ),
                f"Per {unit.split(' (')[0]}, variant {_label(variants, shown)} minus "
                f"{_label(variants, other)}: the change in the share reached by a specialist "
                "within the target (percentage points) and in the median response (minutes). "
                "Purple is better on both. `dispatch report DIR --compare A,B` picks others. "
                + no_data,
            )
        )
    if areas.kind == "areas":
        section.table = (
            f"<h2>Figures by {html.escape(unit)}{html.escape(which)}</h2><details><summary>"
            f"{len(areas)} areas, the lowest specialist share first</summary>"
            + area_table(areas, main, target_min)
            + "</details>"
        )
    return section
