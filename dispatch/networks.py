"""Ready-made road networks: the bundled downtown Denver streets and synthetic road grids.

`denver_network` loads the small real network bundled in ``dispatch/data/denver`` (482
intersections, 1,342 directed street segments, from OpenStreetMap). `road_grid` builds a
road-like directed grid of any size straight into arrays, fast enough for 100k-node benchmarks.

Examples
--------
>>> from dispatch.networks import road_grid
>>> grid = road_grid(20, 30, seed=1)
>>> grid.n_places, grid.n_edges
(600, 2070)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.travel import EARTH_RADIUS_M, RoadNetworkTimes, TravelTimes

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def denver_network(**kwargs: Any) -> RoadNetworkTimes:
    """The bundled downtown Denver road network (482 nodes, 1,342 directed edges).

    Edge travel seconds are length (m) / speed (km/h, from OpenStreetMap ``maxspeed`` or a
    typical speed for the road type).

    Parameters
    ----------
    **kwargs
        Passed to the oracle: ``cutoff_s`` (seconds), ``max_snap_m`` (metres), ``cache_mb``
        (MiB).

    Returns
    -------
    RoadNetworkTimes
        Places are the CSV's ``vertex_id`` values in file order.

    Examples
    --------
    >>> net = denver_network()
    >>> net.n_places, net.n_edges
    (482, 1342)
    """
    from dispatch.datasets import denver

    paths = denver()
    return TravelTimes.from_edge_csv(
        paths.edges,
        paths.vertices,
        node="vertex_id",
        lat="y",
        lon="x",
        source="src_vertex_id",
        target="dst_vertex_id",
        length_m="distance",
        speed_kph="speed_kph",
        **kwargs,
    )


def _street_edges(rows: int, cols: int, *, horizontal: bool) -> tuple[IntArray, IntArray, IntArray]:
    """Both-way segments of every street in one direction.

    Returns ``(src, dst, street)``: one forward segment (towards larger column or row index)
    per pair of neighbouring nodes, and the index of the street (row or column) it lies on.
    """
    if horizontal:
        r, c = np.meshgrid(np.arange(rows), np.arange(cols - 1), indexing="ij")
        src = (r * cols + c).ravel()
        return src, src + 1, r.ravel()
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols), indexing="ij")
    src = (r * cols + c).ravel()
    return src, src + cols, c.ravel()


def road_grid(
    rows: int,
    cols: int,
    *,
    spacing_m: float = 150.0,
    speed_kph: float = 40.0,
    origin: tuple[float, float] = (39.70, -105.05),
    jitter: float = 0.2,
    arterial_every: int = 10,
    arterial_speed_kph: float = 60.0,
    oneway_every: int = 5,
    seed: int = 0,
    **kwargs: Any,
) -> RoadNetworkTimes:
    """A road-like directed grid of ``rows`` x ``cols`` intersections, built as arrays.

    Streets run east-west (one per row) and north-south (one per column), ``spacing_m`` apart.
    Every street is driveable both ways except a few interior one-way streets; the grid stays
    strongly connected (every intersection reaches every other). Every ``arterial_every``-th
    street (counting from 0) is a two-way arterial at ``arterial_speed_kph``. Each directed
    segment's speed is multiplied by an independent factor drawn uniformly from
    ``[1 - jitter, 1 + jitter]``, so ties between routes are rare, as on real roads.

    Parameters
    ----------
    rows, cols
        Intersections north-south and east-west (>= 1 each). 317 x 317 gives about 100k nodes.
    spacing_m
        Block length, metres.
    speed_kph
        Speed on ordinary streets, km/h.
    origin
        ``(lat, lon)`` WGS84 degrees of the grid's centre.
    jitter
        Relative spread of per-segment speeds, in ``[0, 1)``.
    arterial_every
        Street spacing of arterials (streets ``0, n, 2n, ...``); 0 for none.
    arterial_speed_kph
        Speed on arterials, km/h.
    oneway_every
        Interior streets ``k`` with ``k % oneway_every == oneway_every // 2`` that are not
        arterials are one-way, alternating direction; 0 for none.
    seed
        Seed of the `numpy.random.Generator` that draws the speed jitter.
    **kwargs
        Passed to the oracle: ``cutoff_s`` (seconds), ``max_snap_m`` (metres), ``cache_mb``
        (MiB).

    Returns
    -------
    RoadNetworkTimes
        Place ``r * cols + c`` is the intersection in row ``r`` (south to north) and column
        ``c`` (west to east).

    Examples
    --------
    >>> grid = road_grid(3, 4, jitter=0.0, oneway_every=0, arterial_every=0)
    >>> grid.n_edges  # 3 rows x 3 blocks + 4 columns x 2 blocks, both ways
    34
    >>> round(grid.time(0, 1), 1)  # 150 m at 40 km/h
    13.5
    """
    if rows < 1 or cols < 1:
        raise InputError(f"a road grid needs rows and cols >= 1, got {rows} x {cols}")
    if not spacing_m > 0:
        raise InputError(f"spacing_m must be > 0 metres, got {spacing_m!r}")
    if not (speed_kph > 0 and arterial_speed_kph > 0):
        raise InputError("speeds must be > 0 km/h")
    if not 0.0 <= jitter < 1.0:
        raise InputError(f"jitter must be in [0, 1), got {jitter!r}")
    if arterial_every < 0 or oneway_every < 0:
        raise InputError("arterial_every and oneway_every must be >= 0")
    lat0, lon0 = float(origin[0]), float(origin[1])
    if not (-80.0 <= lat0 <= 80.0 and -180.0 <= lon0 <= 180.0):
        raise InputError(f"origin {origin!r} is not a (lat, lon) pair away from the poles")

    dlat = math.degrees(spacing_m / EARTH_RADIUS_M)
    dlon = math.degrees(spacing_m / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    r_idx, c_idx = np.divmod(np.arange(rows * cols, dtype=np.int64), cols)
    lats = lat0 + (r_idx - (rows - 1) / 2.0) * dlat
    lons = lon0 + (c_idx - (cols - 1) / 2.0) * dlon

    parts_src: list[IntArray] = []
    parts_dst: list[IntArray] = []
    parts_speed: list[FloatArray] = []
    for horizontal, n_streets in ((True, rows), (False, cols)):
        fwd_src, fwd_dst, street = _street_edges(rows, cols, horizontal=horizontal)
        arterial = (street % arterial_every == 0) if arterial_every else np.zeros_like(street, bool)
        speed = np.where(arterial, arterial_speed_kph, speed_kph).astype(float)
        if oneway_every:
            interior = (street > 0) & (street < n_streets - 1)
            oneway = interior & ~arterial & (street % oneway_every == oneway_every // 2)
            forward_only = oneway & ((street // oneway_every) % 2 == 0)
        else:
            oneway = forward_only = np.zeros_like(street, bool)
        keep_fwd = ~oneway | forward_only
        keep_back = ~oneway | ~forward_only
        parts_src += [fwd_src[keep_fwd], fwd_dst[keep_back]]
        parts_dst += [fwd_dst[keep_fwd], fwd_src[keep_back]]
        parts_speed += [speed[keep_fwd], speed[keep_back]]
    src = np.concatenate(parts_src)
    dst = np.concatenate(parts_dst)
    speeds = np.concatenate(parts_speed)
    if jitter:
        rng = np.random.default_rng(seed)
        speeds = speeds * rng.uniform(1.0 - jitter, 1.0 + jitter, size=len(speeds))
    seconds = spacing_m / (speeds / 3.6)
    return RoadNetworkTimes(lats, lons, src, dst, seconds, **kwargs)
