"""Travel-time oracles: "how many seconds from these places to that one?".

A *place* is an integer index the oracle hands out. `TravelTimes.snap` turns a coordinate into a
place; `TravelTimes.times_to` answers for many origin places and one destination at once, which
is the shape of every dispatch question (all teams, one call).

Two sources sit behind the one interface:

- `RoadNetworkTimes`: a directed road graph whose edges carry travel seconds. Coordinates snap to
  the nearest node with a KD-tree; a bounded reverse Dijkstra on `scipy.sparse.csgraph` from the
  destination gives every origin's time at once, and rows are cached by destination.
- `StraightLineTimes`: haversine distance x circuity / speed, for places with no road network.

Travel may depend on the time of the week (`dispatch.travel_bands`): an oracle built with
``bands`` holds one set of edge weights per band and answers a query given ``at_s`` (engine
seconds since the scenario start, the time the unit sets off) with the weights of the band in
force then, on a view anchored at the scenario start (`TravelTimes.anchored`). A query without
``at_s``, and every query on an oracle without bands, uses the network's own weights.

networkx is used only to load graphs and, in the tests, as the reference answer.
"""

from __future__ import annotations

import ast
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError, OutsideNetworkError
from dispatch.model import check_coordinate
from dispatch.travel_bands import BandClock, TravelBands

if TYPE_CHECKING:
    import networkx as nx

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_CUTOFF_S = 3600.0
DEFAULT_MAX_SNAP_M = 500.0
DEFAULT_CACHE_MB = 256.0
SNAP_CACHE_SIZE = 200_000  # coordinates remembered by `RoadNetworkTimes.snap`
PAIR_CACHE_SIZE = 2_000_000  # place pairs remembered by `StraightLineTimes`
MAX_LANDMARKS = 32  # pinned places `RoadNetworkTimes.upper_bounds` goes through
# Slack on a search radius and on the bounds: the bounds add two sums of edge times in another
# order than the search does, which may round differently in the last bits.
BOUND_SLACK_REL = 1e-9
BOUND_SLACK_S = 1e-6
SMALL_FLEET = 48  # up to this many origins, straight-line times are computed as scalars


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between WGS84 points (degrees), vectorised."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return np.asarray(2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0))))


def _check_coordinates(lats: FloatArray, lons: FloatArray) -> None:
    """`check_coordinate` for columns: the first bad row raises, named as it names one."""
    bad = ~(np.abs(lats) <= 90.0) | ~(np.abs(lons) <= 180.0)  # NaN counts as bad
    if bad.any():
        k = int(np.argmax(bad))
        check_coordinate(lats.item(k), lons.item(k))


def existing_file(path: str | Path) -> Path:
    """``path`` as a `Path`, or `InputError` naming it when there is no such file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    return path


@dataclass(frozen=True, slots=True)
class Route:
    """The places a unit passes on its way from one place to another.

    Attributes
    ----------
    places
        Place indices from origin to destination, inclusive.
    elapsed_s
        Seconds from the origin at which each place is reached (starts at 0, non-decreasing).
    """

    places: IntArray
    elapsed_s: FloatArray

    @property
    def duration_s(self) -> float:
        """Total travel seconds."""
        return float(self.elapsed_s[-1])

    def place_at(self, elapsed_s: float) -> int:
        """The last place reached ``elapsed_s`` seconds after leaving the origin."""
        i = int(np.searchsorted(self.elapsed_s, elapsed_s, side="right")) - 1
        return int(self.places[max(0, min(i, len(self.places) - 1))])


class Leg:
    """A route in plain Python lists, so reading where a returning team is costs a `bisect`.

    Examples
    --------
    >>> leg = Leg(Route(np.array([4, 7, 9]), np.array([0.0, 30.0, 75.0])))
    >>> leg.duration_s, leg.place_at(10.0), leg.place_at(30.0), leg.place_at(500.0)
    (75.0, 4, 7, 9)
    """

    __slots__ = ("duration_s", "elapsed", "places")

    def __init__(self, route: Route) -> None:
        self.places: list[int] = route.places.tolist()
        self.elapsed: list[float] = route.elapsed_s.tolist()
        self.duration_s: float = route.duration_s

    def place_at(self, elapsed_s: float) -> int:
        """The last place reached ``elapsed_s`` seconds after setting out."""
        k = bisect_right(self.elapsed, elapsed_s) - 1
        return self.places[max(0, min(k, len(self.places) - 1))]


class _StraightLeg(Leg):
    """A straight leg whose inner places are snapped only when a team is asked about there.

    Most inner places of a way home are never asked about (no call comes while the team
    passes them); snapping them all cost more than the rest of a clear. A place is numbered
    when first asked about, at the coordinates it would have had: travel times are the same.
    """

    __slots__ = ("_add", "_points")

    def __init__(
        self,
        places: list[int],
        elapsed: list[float],
        points: list[tuple[float, float]],
        add: Callable[[float, float], int],
    ) -> None:
        self.places = places  # -1 where an inner place is not snapped yet
        self.elapsed = elapsed
        self.duration_s = elapsed[-1]
        self._points = points
        self._add = add

    def place_at(self, elapsed_s: float) -> int:
        k = max(0, min(bisect_right(self.elapsed, elapsed_s) - 1, len(self.places) - 1))
        place = self.places[k]
        if place < 0:
            place = self.places[k] = self._add(*self._points[k])
        return place


class TravelTimes:
    """Interface of every travel-time oracle, and its constructors.

    Use the alternate constructors: `from_graph`, `from_graphml`, `from_osm_xml`,
    `from_edge_csv` (road networks) or `straight_line`.

    Every query takes an optional ``at_s``: engine seconds since the scenario start at which the
    unit sets off. On an oracle with travel bands (``bands``), a query with ``at_s`` is answered
    with the weights of the band in force then, for the whole trip; this needs the view
    `anchored` at the scenario start. Without ``at_s``, or without bands, the network's own
    weights apply.
    """

    cutoff_s: float
    #: The travel bands, or None when travel does not depend on the time.
    bands: TravelBands | None = None
    _clock: BandClock | None = None

    # -- constructors --------------------------------------------------------------------
    @staticmethod
    def from_graph(
        G: nx.DiGraph[Any],
        *,
        weight: str = "travel_time",
        lat: str = "y",
        lon: str = "x",
        road_class: str = "highway",
        bands: TravelBands | None = None,
        cutoff_s: float = DEFAULT_CUTOFF_S,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        cache_mb: float = DEFAULT_CACHE_MB,
    ) -> RoadNetworkTimes:
        """Build an oracle from a networkx (Multi)DiGraph.

        Parameters
        ----------
        G
            Directed road graph. Nodes carry coordinates (``lat``/``lon`` attributes, WGS84
            degrees; osmnx names them ``y``/``x``), edges carry ``weight`` in seconds. Of parallel
            edges the fastest counts. An undirected graph counts each edge both ways.
        weight
            Edge attribute holding travel seconds.
        road_class
            Edge attribute holding the road class that band speed factors name (OpenStreetMap
            ``highway``; of a list, or a list written as text, the first). Read only when a band
            names road classes; edges without it take the band's default factor.
        bands
            Travel bands: each band's edge seconds are the base seconds divided by its speed
            factor for the edge's road class, or the edge attribute its ``weight_column`` names.
        cutoff_s
            Searches stop at this many seconds; farther places count as unreachable.
        max_snap_m
            A coordinate farther than this from every node is an `OutsideNetworkError`.
        cache_mb
            Memory budget for cached rows, in MiB: whole rows (one per destination and band)
            and the sparse rows of bounded searches (`times_within`) together; the pinned rows
            of stations and facilities are outside it. A city of 100,000 nodes and 60,000 call
            addresses keeps a year's bounded rows in about 2 GiB: ``cache_mb = 2048`` answers
            most of a further replication without a search.

        Examples
        --------
        >>> import networkx as nx
        >>> from dispatch.travel_bands import TravelBand, TravelBands
        >>> G = nx.DiGraph()
        >>> G.add_node("a", y=39.740, x=-104.990)
        >>> G.add_node("b", y=39.741, x=-104.990)
        >>> G.add_edge("a", "b", travel_time=30.0, highway="primary")
        >>> G.add_edge("b", "a", travel_time=40.0, highway="residential")
        >>> rush = TravelBand.weekly("rush", start="07:00", end="09:00",
        ...                          speed_factor={"primary": 0.5})
        >>> travel = TravelTimes.from_graph(G, bands=TravelBands((rush,)))
        >>> travel.time(0, 1), travel.time(1, 0)
        (30.0, 40.0)
        >>> import pandas as pd
        >>> view = travel.anchored(pd.Timestamp("2025-03-03", tz="UTC"))
        >>> view.time(0, 1, at_s=8 * 3600), view.time(1, 0, at_s=8 * 3600)
        (60.0, 40.0)
        """
        nodes = list(G.nodes)
        if not nodes:
            raise InputError("the road graph has no nodes")
        index = {node: i for i, node in enumerate(nodes)}
        lats = np.empty(len(nodes))
        lons = np.empty(len(nodes))
        for i, node in enumerate(nodes):
            data = G.nodes[node]
            try:
                lats[i] = float(data[lat])
                lons[i] = float(data[lon])
            except (KeyError, TypeError, ValueError):
                raise InputError(
                    f"node {node!r} lacks numeric coordinates '{lat}' and '{lon}'",
                    source="road graph",
                ) from None
        src: list[int] = []
        dst: list[int] = []
        secs: list[float] = []
        edges: Iterable[tuple[Any, Any, Any]] = G.edges(data=weight)
        for u, v, w in edges:
            if w is None:
                raise InputError(f"edge {u!r}->{v!r} has no '{weight}'", source="road graph")
            src.append(index[u])
            dst.append(index[v])
            secs.append(float(w))
            if not G.is_directed():
                src.append(index[v])
                dst.append(index[u])
                secs.append(float(w))
        seconds = np.asarray(secs, dtype=float)
        band_seconds: list[FloatArray] = []
        if bands is not None and len(bands):
            band_seconds = _graph_band_seconds(G, seconds, bands, road_class)
        return RoadNetworkTimes(
            lats,
            lons,
            np.asarray(src, dtype=np.int64),
            np.asarray(dst, dtype=np.int64),
            seconds,
            node_ids=nodes,
            bands=bands,
            band_seconds=band_seconds,
            cutoff_s=cutoff_s,
            max_snap_m=max_snap_m,
            cache_mb=cache_mb,
        )

    @staticmethod
    def from_graphml(path: str | Path, **kwargs: Any) -> RoadNetworkTimes:
        """Load a GraphML road network (nodes with ``y``/``x``, edges with ``travel_time``).

        This is the format ``dispatch network import`` writes (edges carry the OpenStreetMap
        ``highway`` class, which band speed factors name). Keyword arguments go to `from_graph`.
        """
        import networkx as nx

        path = existing_file(path)
        try:
            G = nx.read_graphml(path)
        except Exception as error:  # networkx raises several types for malformed XML
            raise InputError(f"not a readable GraphML file ({error})", source=str(path)) from None
        return TravelTimes.from_graph(G, **kwargs)

    @staticmethod
    def from_osm_xml(path: str | Path, **kwargs: Any) -> RoadNetworkTimes:
        """Read an OpenStreetMap XML file offline (needs the ``osm`` extra).

        Speeds are filled where tags lack them; only the largest strongly connected part is kept.
        Keyword arguments go to `from_graph`.
        """
        from dispatch.osm import graph_from_osm_xml

        return TravelTimes.from_graph(graph_from_osm_xml(path), **kwargs)

    @staticmethod
    def from_edge_csv(
        edges: str | Path,
        nodes: str | Path,
        *,
        node: str = "node",
        lat: str = "lat",
        lon: str = "lon",
        source: str = "source",
        target: str = "target",
        seconds: str | None = None,
        length_m: str = "length_m",
        speed_kph: str = "speed_kph",
        road_class: str = "highway",
        bands: TravelBands | None = None,
        **kwargs: Any,
    ) -> RoadNetworkTimes:
        """Load a road network from an edge-list CSV and a node CSV.

        Edge travel time is the ``seconds`` column when given, else ``length_m`` / ``speed_kph``.
        Column names are parameters so exports such as NREL RouteE's map straight on (see
        `dispatch.datasets`). With ``bands``, the ``road_class`` column (read only when a band
        names road classes) and every band's ``weight_column`` (seconds) come from the edge
        CSV. Keyword arguments go to the oracle (``cutoff_s`` ...).
        """
        import pandas as pd

        node_frame = _read_csv(nodes, [node, lat, lon])
        wanted = [source, target] + ([seconds] if seconds else [length_m, speed_kph])
        has_bands = bands is not None and len(bands) > 0
        if has_bands:
            assert bands is not None
            wanted += [c for c in bands.weight_columns if c not in wanted]
            if bands.road_classes and road_class not in wanted:
                wanted.append(road_class)
        edge_frame = _read_csv(edges, wanted)
        node_ids = node_frame[node].tolist()
        index = pd.Index(node_ids)
        if not index.is_unique:
            raise InputError("node ids are not unique", source=str(nodes), field=node)
        src = index.get_indexer(edge_frame[source])
        dst = index.get_indexer(edge_frame[target])
        for column, found in ((source, src), (target, dst)):
            if (found < 0).any():
                row = int(np.flatnonzero(found < 0)[0]) + 1
                raise InputError(
                    f"edge refers to unknown node {edge_frame[column].iloc[row - 1]!r}",
                    source=str(edges),
                    row=row,
                    field=column,
                )
        if seconds:
            secs = edge_frame[seconds].to_numpy(dtype=float)
        else:
            speed = edge_frame[speed_kph].to_numpy(dtype=float)
            if (speed <= 0).any() or not np.isfinite(speed).all():
                row = int(np.flatnonzero(~(speed > 0) | ~np.isfinite(speed))[0]) + 1
                raise InputError("speed must be > 0", source=str(edges), row=row, field=speed_kph)
            secs = edge_frame[length_m].to_numpy(dtype=float) / (speed / 3.6)
        bad = ~np.isfinite(secs) | (secs < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise InputError(
                "edge travel time must be a finite number >= 0 seconds",
                source=str(edges),
                row=row,
                field=seconds or length_m,
            )
        band_seconds: list[FloatArray] = []
        if has_bands:
            assert bands is not None
            columns: dict[str, FloatArray] = {}
            for column in bands.weight_columns:
                values = pd.to_numeric(edge_frame[column], errors="coerce").to_numpy(dtype=float)
                bad = ~np.isfinite(values) | (values < 0)
                if bad.any():
                    raise InputError(
                        "band edge travel time must be a finite number >= 0 seconds",
                        source=str(edges),
                        row=int(np.flatnonzero(bad)[0]) + 1,
                        field=column,
                    )
                columns[column] = values
            classes = None
            if bands.road_classes:
                classes = [road_class_of(v) for v in edge_frame[road_class].tolist()]
            band_seconds = bands.edge_seconds(
                secs, road_class=classes, columns=columns, source=str(edges)
            )
        return RoadNetworkTimes(
            node_frame[lat].to_numpy(dtype=float),
            node_frame[lon].to_numpy(dtype=float),
            src.astype(np.int64),
            dst.astype(np.int64),
            secs,
            node_ids=node_ids,
            bands=bands,
            band_seconds=band_seconds,
            **kwargs,
        )

    @staticmethod
    def straight_line(
        *,
        speed_kph: float = 40.0,
        circuity: float = 1.3,
        cutoff_s: float = DEFAULT_CUTOFF_S,
        bands: TravelBands | None = None,
    ) -> StraightLineTimes:
        """Haversine distance x ``circuity`` / ``speed_kph``, for places with no road network.

        The defaults (40 km/h, circuity 1.3) are typical of urban emergency driving; set them
        from local data where there is any. Each band multiplies ``speed_kph`` by its default
        speed factor (there are no road classes).

        Examples
        --------
        >>> travel = TravelTimes.straight_line(speed_kph=36.0, circuity=1.0)
        >>> a, b = travel.snap_many([39.70, 39.71], [-105.0, -105.0])
        >>> round(travel.time(int(a), int(b)), 1)  # 1,112 m at 10 m/s
        111.2
        """
        return StraightLineTimes(
            speed_kph=speed_kph, circuity=circuity, cutoff_s=cutoff_s, bands=bands
        )

    # -- interface -----------------------------------------------------------------------
    @property
    def n_places(self) -> int:
        """How many places the oracle knows."""
        raise NotImplementedError

    def snap(self, lat: float, lon: float) -> int:
        """The place for a WGS84 coordinate (degrees)."""
        return int(self.snap_many(np.array([lat]), np.array([lon]))[0])

    def snap_many(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> IntArray:
        """Places for many coordinates at once (degrees)."""
        raise NotImplementedError

    def coordinates(self, places: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Latitude and longitude (degrees) of places."""
        raise NotImplementedError

    def times_to(
        self, origins: IntArray, destination: int, at_s: float | None = None
    ) -> FloatArray:
        """Seconds from each origin place to ``destination``; ``inf`` past the cut-off.

        ``at_s`` (engine seconds) picks the travel band in force when the units set off.
        """
        raise NotImplementedError

    def time(self, origin: int, destination: int, at_s: float | None = None) -> float:
        """Seconds from one place to another setting off at ``at_s``; ``inf`` past the cut-off."""
        return float(self.times_to(np.array([origin], dtype=np.int64), destination, at_s)[0])

    def times_for(
        self, origins: list[int], destination: int, at_s: float | None = None
    ) -> list[float]:
        """`times_to` for a few origins, as Python floats (the same values).

        An oracle that computes single pairs cheaply (straight line) overrides this, and the
        matcher then scores small fleets on lists, skipping numpy's per-call overhead.
        """
        return list(self.times_to(np.asarray(origins, dtype=np.int64), destination, at_s).tolist())

    def upper_bounds(
        self, origins: IntArray, destination: int, at_s: float | None = None
    ) -> FloatArray | None:
        """Cheap upper bounds on `times_to` (seconds, ``inf`` where none is known), or None.

        An oracle whose exact answers are costly (a search over a large road network) offers
        these so that a caller can ask `times_within` for just the radius that can matter.
        None (the default): the oracle has no bounds, and callers use `times_to`.
        """
        return None

    def times_known(
        self, origins: IntArray, destination: int, at_s: float | None = None
    ) -> tuple[float, FloatArray] | None:
        """Times already known without a search: ``(radius_s, seconds)``, exact for every origin
        at most ``radius_s`` away (``inf`` may stand for the others), or None. The default
        knows nothing (every answer is `times_to`)."""
        return None

    def times_within(
        self, origins: IntArray, destination: int, at_s: float | None, bound_s: float
    ) -> FloatArray:
        """`times_to`, exact for every origin at most ``bound_s`` seconds away.

        An origin farther than ``bound_s`` may be answered ``inf`` instead of its time (never
        with a time below ``bound_s``). The default answers `times_to` exactly.
        """
        return self.times_to(origins, destination, at_s)

    def route(self, origin: int, destination: int, at_s: float | None = None) -> Route:
        """The places passed on the fastest way from ``origin`` to ``destination``.

        The band in force at ``at_s`` (setting off) applies to the whole route.
        """
        raise NotImplementedError

    def leg(self, origin: int, destination: int, at_s: float | None = None) -> Leg:
        """`route` as a `Leg`: what the dispatch session follows a returning team along."""
        return Leg(self.route(origin, destination, at_s))

    def warm(
        self,
        destinations: npt.ArrayLike,
        at_s: float | None = None,
        *,
        every_band: bool = False,
        pin: bool = False,
    ) -> None:
        """Precompute answers for these destinations (a no-op where nothing is cached).

        For the band in force at ``at_s``, or for every band with ``every_band``. With ``pin``
        the answers are kept for good, outside the cache budget (for the few places every
        replication asks about again and again: stations and facilities).
        """

    @property
    def cache_rows(self) -> int | None:
        """How many whole answers (rows, one per destination) the cache holds; None when the
        oracle keeps no rows."""
        return None

    # -- time ----------------------------------------------------------------------------
    @property
    def n_bands(self) -> int:
        """Number of weight sets: 1 (the network's own) plus one per travel band."""
        return 1 if self.bands is None else self.bands.n_bands

    def anchored(self, epoch: Any) -> Self:
        """This oracle with engine time 0 at ``epoch``, so queries may pass ``at_s``.

        The view shares the network, snapped coordinates and cached answers with this oracle
        (cached rows are per band, which the epoch does not change); only the mapping from
        ``at_s`` to a band is its own. Without bands it is this oracle itself.

        Parameters
        ----------
        epoch
            The scenario start (`dispatch.sim.prepare.Prepared.epoch`): a time-zone-aware
            `datetime` or pandas `Timestamp`.
        """
        if self.bands is None:
            return self
        # Not copy.copy: that goes through __getstate__, which leaves the caches behind.
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._clock = self.bands.clock(epoch)
        return view

    def band_at(self, at_s: float | None) -> int:
        """Index of the travel band in force at ``at_s`` engine seconds (0: the own weights).

        Raises
        ------
        ValueError
            When the oracle has bands, ``at_s`` is given and the oracle is not `anchored`.
        """
        if at_s is None or self.bands is None:
            return 0
        clock = self._clock
        if clock is None:
            raise ValueError(
                "this oracle has travel bands but no epoch: query travel.anchored(epoch), "
                "whose at_s counts seconds from epoch"
            )
        return clock.band_at(at_s)


def _read_csv(path: str | Path, columns: list[str]) -> Any:
    import pandas as pd

    path = existing_file(path)
    try:
        frame = pd.read_csv(path)
    except Exception as error:  # pandas raises many types for unreadable files
        raise InputError(f"not a readable CSV file ({error})", source=str(path)) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}",
            source=str(path),
        )
    return frame


def road_class_of(value: Any) -> str:
    """A road class as band speed factors name it: of a list (a merged OpenStreetMap way), or a
    list written as text as osmnx and GraphML do, the first; ``""`` for none.

    Examples
    --------
    >>> road_class_of("primary"), road_class_of(["secondary", "primary"])
    ('primary', 'secondary')
    >>> road_class_of("['residential', 'tertiary']"), road_class_of(None)
    ('residential', '')
    """
    if isinstance(value, str) and value.startswith("["):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return str(value)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _graph_band_seconds(
    G: nx.DiGraph[Any], seconds: FloatArray, bands: TravelBands, road_class: str
) -> list[FloatArray]:
    """Each band's seconds for the edges of ``G`` in `TravelTimes.from_graph`'s order."""
    both = 1 if G.is_directed() else 2
    classes: list[str] | None = None
    columns: dict[str, list[float]] = {c: [] for c in bands.weight_columns}
    found_class = False
    names: list[str] = []
    for u, v, data in G.edges(data=True):
        if bands.road_classes:
            value = data.get(road_class)
            found_class = found_class or value is not None
            names.extend([road_class_of(value)] * both)
        for column, values in columns.items():
            raw = data.get(column)
            try:
                number = float(raw)
            except (TypeError, ValueError):
                raise InputError(
                    f"edge {u!r}->{v!r} has no numeric {column!r} (a travel band's weight_column)",
                    source="road graph",
                ) from None
            values.extend([number] * both)
    if bands.road_classes and found_class:
        classes = names
    return bands.edge_seconds(
        seconds,
        road_class=classes,
        columns={c: np.asarray(v, dtype=float) for c, v in columns.items()},
        source="road graph",
    )


class RoadNetworkTimes(TravelTimes):
    """Travel seconds on a directed road graph, stored as sparse matrices.

    Build it with `TravelTimes.from_graph`, `from_graphml`, `from_osm_xml` or `from_edge_csv`.
    Places are node indices ``0..n_nodes-1``. With ``bands``, ``band_seconds[k - 1]`` holds
    band ``k``'s seconds for the same edges as ``seconds``; rows are cached per band and
    destination.
    """

    def __init__(
        self,
        lats: FloatArray,
        lons: FloatArray,
        src: IntArray,
        dst: IntArray,
        seconds: FloatArray,
        *,
        node_ids: list[Any] | None = None,
        bands: TravelBands | None = None,
        band_seconds: Sequence[FloatArray] = (),
        cutoff_s: float = DEFAULT_CUTOFF_S,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        cache_mb: float = DEFAULT_CACHE_MB,
    ) -> None:
        import scipy.sparse as sp
        from scipy.spatial import cKDTree

        n = len(lats)
        if n == 0:
            raise InputError("the road network has no nodes")
        if not (np.isfinite(lats).all() and np.isfinite(lons).all()):
            raise InputError("the road network has nodes without finite coordinates")
        if (np.abs(lats) > 90).any() or (np.abs(lons) > 180).any():
            raise InputError("node coordinates out of range (latitude and longitude swapped?)")
        if len(seconds) and (not np.isfinite(seconds).all() or (seconds < 0).any()):
            raise InputError("edge travel times must be finite and >= 0 seconds")
        if not cutoff_s > 0:
            raise InputError(f"cutoff_s must be > 0, got {cutoff_s!r}")
        if bands is not None and not len(bands):
            bands = None
        extra = [np.asarray(b, dtype=float) for b in band_seconds]
        if len(extra) != (0 if bands is None else len(bands)):
            raise ValueError("band_seconds needs one array per travel band")
        for b in extra:
            if b.shape != seconds.shape:
                raise ValueError("each band_seconds array needs one entry per edge")
            if len(b) and (not np.isfinite(b).all() or (b < 0).any()):
                raise InputError("band edge travel times must be finite and >= 0 seconds")
        self.bands = bands
        self._clock = None
        self.cutoff_s = float(cutoff_s)
        self.max_snap_m = float(max_snap_m)
        self.node_ids: list[Any] = list(node_ids) if node_ids is not None else list(range(n))
        self.lats = np.asarray(lats, dtype=float)
        self._n_nodes = n
        self.lons = np.asarray(lons, dtype=float)
        # Of parallel edges only the fastest matters; csr would *sum* duplicates, so take the
        # minimum first. Self-loops never shorten a path.
        keep = src != dst
        src, dst, seconds = src[keep], dst[keep], seconds[keep]
        order = np.lexsort((seconds, dst, src))
        src, dst, seconds = src[order], dst[order], seconds[order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        # Each band keeps its own fastest of parallel edges (a band may slow one and not the
        # other): the minimum over each (src, dst) group, in the same order as the base edges.
        groups = np.flatnonzero(first)
        extra = [
            np.minimum.reduceat(b[keep][order], groups) if len(groups) else b[:0] for b in extra
        ]
        src, dst, seconds = src[first], dst[first], seconds[first]
        self.n_edges = len(src)
        # Reverse graph: a Dijkstra from the destination over reversed edges gives the time
        # from every node *to* the destination in one search. Explicit zeros stay edges.
        self._reverse = sp.csr_matrix((seconds, (dst, src)), shape=(n, n))
        self._forward = sp.csr_matrix((seconds, (src, dst)), shape=(n, n))
        # One reverse graph per band, band 0 being the network's own; every band has the same
        # edges, so connectivity (and snapping) is the same in all of them.
        self._reverse_by_band = [self._reverse] + [
            sp.csr_matrix((b, (dst, src)), shape=(n, n)) for b in extra
        ]
        self._lat0 = math.radians(float(np.mean(self.lats)))
        # Snap only onto the largest strongly connected part: from there every snapped place
        # reaches every other. Nodes outside it (dead-end fragments of an extract) stay in the
        # graph for routing but never receive a call or a team.
        from scipy.sparse.csgraph import connected_components

        _, labels = connected_components(self._forward, directed=True, connection="strong")
        main = int(np.bincount(labels).argmax())
        self.snappable = np.flatnonzero(labels == main).astype(np.int64)
        self.n_unsnappable = n - len(self.snappable)
        self._tree = cKDTree(self._project(self.lats[self.snappable], self.lons[self.snappable]))
        self._row_bytes = row_bytes = n * (8 + 4)
        self._cache_rows = max(1, int(cache_mb * 2**20 // row_bytes))
        self._cache: dict[int, tuple[FloatArray, npt.NDArray[np.int32]]] = {}
        # Rows `warm(..., pin=True)` asked to keep (stations, facilities: every return home and
        # every transport reads them), never evicted and outside the budget; keys as `_cache`.
        # Rows of the keys in `_pin_keys` go here whenever they are computed.
        self._pinned: dict[int, tuple[FloatArray, npt.NDArray[np.int32]]] = {}
        self._pin_keys: set[int] = set()
        self._snapped: dict[tuple[float, float], int] = {}
        # Rows of searches bounded below the cut-off (`times_within`), kept sparse: a bounded
        # search reaches a few thousand nodes, so a city's recurring addresses fit.
        self._partial = SparseRows(cache_mb)
        # Per band: the pinned places used as landmarks, seconds from every node to each and
        # from each to every node (`upper_bounds`), and how many keys were pinned then.
        self._landmarks: dict[int, tuple[int, FloatArray, FloatArray]] = {}
        self.hits = 0
        self.misses = 0
        self.bounded_searches = 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}  # workers rebuild what they need
        state["_pinned"] = {}  # (the keys stay pinned)
        state["_snapped"] = {}
        state["_partial"] = SparseRows(self._partial.budget_mb)
        state["_landmarks"] = {}
        return state

    @property
    def n_places(self) -> int:
        return len(self.lats)

    @property
    def cache_rows(self) -> int:
        return self._cache_rows

    def _project(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> FloatArray:
        """Local equirectangular metres: exact enough for snapping within a city."""
        x = EARTH_RADIUS_M * np.radians(np.asarray(lons, dtype=float)) * math.cos(self._lat0)
        y = EARTH_RADIUS_M * np.radians(np.asarray(lats, dtype=float))
        return np.column_stack([x, y])

    def snap(self, lat: float, lon: float) -> int:
        # One coordinate (every recommend): the same projection and tree query as `snap_many`
        # in scalar arithmetic, without its array set-up (about half the time). Anything
        # unusual goes through `snap_many`, which raises the errors.
        # Addresses recur (the same shelter, the same apartment block), so answers are kept.
        lat, lon = float(lat), float(lon)
        found = self._snapped.get((lat, lon))
        if found is not None:
            return found
        place = -1
        if abs(lat) <= 90.0 and abs(lon) <= 180.0:
            x = EARTH_RADIUS_M * math.radians(lon) * math.cos(self._lat0)
            y = EARTH_RADIUS_M * math.radians(lat)
            dist, idx = self._tree.query((x, y))
            if dist <= self.max_snap_m:
                place = int(self.snappable[idx])
        if place < 0:
            place = int(self.snap_many(np.array([lat]), np.array([lon]))[0])
        if len(self._snapped) >= SNAP_CACHE_SIZE:
            self._snapped.clear()
        self._snapped[(lat, lon)] = place
        return place

    def snap_many(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> IntArray:
        lat_arr = np.atleast_1d(np.asarray(lats, dtype=float))
        lon_arr = np.atleast_1d(np.asarray(lons, dtype=float))
        _check_coordinates(lat_arr, lon_arr)
        dist, idx = self._tree.query(self._project(lat_arr, lon_arr))
        far = dist > self.max_snap_m
        if far.any():
            i = int(np.flatnonzero(far)[0])
            raise OutsideNetworkError(
                f"({lat_arr[i]:.6f}, {lon_arr[i]:.6f}) is {dist[i] / 1000:.2f} km from the "
                f"nearest road node; the limit is {self.max_snap_m / 1000:.2f} km"
                + (
                    " (latitude and longitude swapped?)"
                    if self._near_when_swapped(lat_arr[i], lon_arr[i])
                    else ""
                )
            )
        return self.snappable[np.asarray(idx, dtype=np.int64)]

    def _near_when_swapped(self, lat: float, lon: float) -> bool:
        if abs(lon) > 90:
            return False
        dist, _ = self._tree.query(self._project([lon], [lat]))
        return bool(dist[0] <= self.max_snap_m)

    def coordinates(self, places: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        p = np.asarray(places, dtype=np.int64)
        return self.lats[p], self.lons[p]

    def _row(self, destination: int) -> tuple[FloatArray, npt.NDArray[np.int32]]:
        cached = self._whole_row(destination)
        if cached is not None:
            return cached
        self.misses += 1
        dist, pred = self._search(destination)
        entry = (np.asarray(dist, dtype=float), np.asarray(pred, dtype=np.int32))
        self._store(destination, entry)
        return entry

    def _band_row(self, destination: int, band: int) -> tuple[FloatArray, npt.NDArray[np.int32]]:
        """`_row` under band ``band``; band 0's key is the destination itself."""
        if not band:
            return self._row(destination)
        key = band * self._n_nodes + destination
        cached = self._whole_row(key)
        if cached is not None:
            return cached
        self.misses += 1
        dist, pred = self._search(destination, band)
        entry = (np.asarray(dist, dtype=float), np.asarray(pred, dtype=np.int32))
        self._store(key, entry)
        return entry

    def _store(self, key: int, entry: tuple[FloatArray, npt.NDArray[np.int32]]) -> None:
        # First in, first out: cheaper than LRU bookkeeping on every hit, and a replay's
        # destinations recur evenly enough that recency buys little. Keys are
        # band x n_places + destination, so band 0's are the destinations.
        if key in self._pin_keys:
            self._pinned[key] = entry
            return
        self._cache[key] = entry
        if len(self._cache) > self._cache_rows:
            del self._cache[next(iter(self._cache))]
        self._partial.trim(len(self._cache) * self._row_bytes)  # one budget for both

    def _search(
        self, destinations: int | list[int], band: int = 0
    ) -> tuple[FloatArray, npt.NDArray[np.int32]]:
        """Bounded reverse Dijkstra: seconds from every node to each destination, and the next
        node on the way (rows per destination when given a list), under band ``band``."""
        from scipy.sparse.csgraph import dijkstra

        dist, pred = dijkstra(
            self._reverse_by_band[band],
            directed=True,
            indices=destinations,
            limit=self.cutoff_s,
            return_predecessors=True,
        )
        return dist, pred

    def warm(
        self,
        destinations: npt.ArrayLike,
        at_s: float | None = None,
        *,
        every_band: bool = False,
        pin: bool = False,
    ) -> None:
        """Compute the rows for these destinations in batched searches (up to the cache size).

        For the band in force at ``at_s``, or with ``every_band`` for every band (each up to its
        share of the cache). With ``pin``, every row asked for is kept outside the cache and its
        budget, never evicted (also when computed again after a pickle).
        """
        bands = range(self.n_bands) if every_band else [self.band_at(at_s)]
        budget = self._cache_rows // len(bands) if every_band else self._cache_rows
        unique = [int(d) for d in np.unique(np.asarray(destinations, dtype=np.int64))]
        n = self._n_nodes
        for band in bands:
            if pin:
                keys = [band * n + d for d in unique]
                for key in keys:  # a row already in the cache moves to the pinned ones
                    found = self._cache.pop(key, None)
                    if found is not None:
                        self._pinned[key] = found
                self._pin_keys.update(keys)
            cache, pinned = self._cache, self._pinned
            todo = [d for d in unique if band * n + d not in cache and band * n + d not in pinned]
            if not pin:
                todo = todo[: max(budget, 1)]
            for start in range(0, len(todo), 256):
                batch = todo[start : start + 256]
                dist, pred = self._search(batch, band)
                for k, destination in enumerate(batch):
                    self._store(
                        band * n + destination,
                        # Copies: a view would keep the whole batch alive past the cache budget.
                        (np.array(dist[k], dtype=float), np.array(pred[k], dtype=np.int32)),
                    )

    def times_to(
        self, origins: IntArray, destination: int, at_s: float | None = None
    ) -> FloatArray:
        if self.bands is None or at_s is None:  # no bands, or no time: the own weights
            band = 0
        else:
            clock = self._clock
            band = clock.band_at(at_s) if clock is not None else self.band_at(at_s)
        key = band * self._n_nodes + destination
        full = self._whole_row(key)
        if full is None:
            seconds = self._partial.times(key, origins)
            if seconds is not None and np.isfinite(seconds).all():
                self.hits += 1  # a bounded row answers when it reaches every origin
                return seconds
            full = self._band_row(destination, band)
        return full[0][origins]

    def upper_bounds(
        self, origins: IntArray, destination: int, at_s: float | None = None
    ) -> FloatArray | None:
        """Bounds through the pinned places (stations, facilities) as landmarks.

        For each origin, the fastest way through any landmark: seconds to it (its pinned row)
        plus seconds from it to ``destination`` (a forward search from each landmark, once);
        exact for an origin at a landmark. None when nothing is pinned.

        Examples
        --------
        >>> from dispatch.networks import road_grid
        >>> grid = road_grid(8, 8)
        >>> grid.warm([0], pin=True)
        >>> origins = np.array([0, 9, 63])
        >>> bool((grid.upper_bounds(origins, 27) >= grid.times_to(origins, 27)).all())
        True
        >>> gap = grid.upper_bounds(origins, 27) - grid.times_to(origins, 27)
        >>> bool(gap[0] < 1e-3)  # from the landmark itself: exact (up to a hair of slack)
        True
        """
        marks = self._landmark_rows(self.band_at(at_s))
        if marks is None:
            return None
        _, to_mark, from_mark = marks
        through: FloatArray = (to_mark[:, origins] + from_mark[destination][:, None]).min(axis=0)
        return through * (1.0 + BOUND_SLACK_REL) + BOUND_SLACK_S

    def times_known(
        self, origins: IntArray, destination: int, at_s: float | None = None
    ) -> tuple[float, FloatArray] | None:
        """From a whole row (radius ``inf``) or the widest bounded row kept for ``destination``."""
        key = self.band_at(at_s) * self._n_nodes + destination
        full = self._whole_row(key)
        if full is not None:
            return math.inf, full[0][origins]
        known = self._partial.known(key, origins)
        if known is not None:
            self.hits += 1
        return known

    def times_within(
        self, origins: IntArray, destination: int, at_s: float | None, bound_s: float
    ) -> FloatArray:
        """`times_to` from a search bounded at ``bound_s`` (a hair more), unless a row that
        reaches as far is known; beyond the bound ``inf``. A bound at or past the cut-off is
        `times_to` itself (the full row, cached as usual)."""
        limit = bound_s * (1.0 + BOUND_SLACK_REL) + BOUND_SLACK_S
        if not limit < self.cutoff_s:
            return self.times_to(origins, destination, at_s)
        band = self.band_at(at_s)
        key = band * self._n_nodes + destination
        full = self._whole_row(key)
        if full is not None:
            return full[0][origins]
        seconds = self._partial.times(key, origins, reaching=limit)
        if seconds is not None:
            self.hits += 1
            return seconds
        from scipy.sparse.csgraph import dijkstra

        self.bounded_searches += 1
        dist = np.asarray(
            dijkstra(self._reverse_by_band[band], directed=True, indices=destination, limit=limit),
            dtype=float,
        )
        self._partial.add(key, limit, dist, len(self._cache) * self._row_bytes)
        return dist[origins]

    def _whole_row(self, key: int) -> tuple[FloatArray, npt.NDArray[np.int32]] | None:
        """The whole row cached or pinned under ``key`` (counted as a hit), or None."""
        full = self._cache.get(key)
        if full is None:
            full = self._pinned.get(key)
        if full is not None:
            self.hits += 1
        return full

    def _landmark_rows(self, band: int) -> tuple[int, FloatArray, FloatArray] | None:
        """Landmarks of ``band`` for `upper_bounds`: (pinned keys then, seconds from every node
        to each landmark as landmark x node, seconds from each landmark as node x landmark)."""
        found = self._landmarks.get(band)
        if found is not None and found[0] == len(self._pin_keys):
            return found
        n = self._n_nodes
        places = sorted(k - band * n for k in self._pin_keys if band * n <= k < (band + 1) * n)
        if not places:
            return None
        places = places[:MAX_LANDMARKS]
        from scipy.sparse.csgraph import dijkstra

        to_mark = np.vstack([self._band_row(p, band)[0] for p in places])
        # The forward graph of a band is its reverse graph transposed.
        forward = self._forward if not band else self._reverse_by_band[band].T.tocsr()
        from_mark = dijkstra(forward, directed=True, indices=places, limit=self.cutoff_s)
        found = (len(self._pin_keys), to_mark, np.ascontiguousarray(np.asarray(from_mark).T))
        self._landmarks[band] = found
        return found

    def route(self, origin: int, destination: int, at_s: float | None = None) -> Route:
        # Always from a full row: its next-node column is the route every run takes.
        dist, pred = self._band_row(destination, self.band_at(at_s))
        total = dist[origin]
        if not np.isfinite(total):
            raise InputError(
                f"no route from node {self.node_ids[origin]!r} to {self.node_ids[destination]!r} "
                f"within {self.cutoff_s:.0f} s"
            )
        places = [origin]
        node = origin
        while node != destination:
            node = int(pred[node])  # reverse search: pred is the next node towards destination
            places.append(node)
        p = np.asarray(places, dtype=np.int64)
        return Route(places=p, elapsed_s=total - dist[p])


class SparseRows:
    """Rows of bounded searches, as the nodes each reached and their seconds.

    First in, first out within ``budget_mb`` megabytes (12 bytes a reached node). A row
    answers a query whose radius is at most its own: within it every time is exact, beyond
    it ``inf`` (a node not reached is farther than the radius).

    Examples
    --------
    >>> rows = SparseRows(1.0)
    >>> rows.add(7, 300.0, np.array([0.0, 120.0, np.inf, 250.0]))
    >>> rows.times(7, np.array([3, 2, 1]), reaching=200.0).tolist()
    [250.0, inf, 120.0]
    >>> rows.times(7, np.array([1]), reaching=400.0) is None  # a wider radius: search again
    True
    """

    def __init__(self, budget_mb: float) -> None:
        self.budget_mb = budget_mb
        self._budget = budget_mb * 2**20
        self._bytes = 0
        self._rows: dict[int, tuple[float, npt.NDArray[np.int32], FloatArray]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, key: int, radius_s: float, seconds: FloatArray, others: int = 0) -> None:
        """Keep a bounded search's row (``inf`` where it did not reach) under ``key``, within
        the budget less ``others`` bytes (the whole rows sharing it)."""
        nodes = np.flatnonzero(seconds < math.inf).astype(np.int32)
        old = self._rows.pop(key, None)
        if old is not None:
            self._bytes -= old[1].nbytes + old[2].nbytes
        self._rows[key] = (radius_s, nodes, seconds[nodes])
        self._bytes += 12 * len(nodes)
        self.trim(others)

    def trim(self, others: int = 0) -> None:
        """Drop the oldest rows until they fit the budget less ``others`` bytes."""
        while self._bytes + others > self._budget and self._rows:
            _, first, values = self._rows.pop(next(iter(self._rows)))
            self._bytes -= first.nbytes + values.nbytes

    def times(self, key: int, origins: IntArray, *, reaching: float = 0.0) -> FloatArray | None:
        """Seconds from ``origins`` (``inf`` beyond the row's radius), or None when no row of
        radius at least ``reaching`` is kept."""
        found = self._rows.get(key)
        if found is None or found[0] < reaching:
            return None
        return self._lookup(found, origins)

    def known(self, key: int, origins: IntArray) -> tuple[float, FloatArray] | None:
        """The row's radius and `times` for ``origins``, or None when no row is kept."""
        found = self._rows.get(key)
        if found is None:
            return None
        return found[0], self._lookup(found, origins)

    @staticmethod
    def _lookup(
        found: tuple[float, npt.NDArray[np.int32], FloatArray], origins: IntArray
    ) -> FloatArray:
        _, nodes, values = found
        if not len(nodes):
            return np.full(len(origins), math.inf)
        at = np.searchsorted(nodes, origins)
        np.minimum(at, len(nodes) - 1, out=at)
        return np.where(nodes[at] == origins, values[at], math.inf)


@dataclass
class _PlaceTable:
    """The places a straight-line oracle has handed out, shared by its `anchored` views."""

    lats: FloatArray
    lons: FloatArray
    n: int = 0


class StraightLineTimes(TravelTimes):
    """Haversine distance x circuity / speed. Places are the distinct coordinates snapped so far.

    With ``bands``, band ``k`` multiplies ``speed_kph`` by its default speed factor; speed factors
    naming road classes and weight columns are errors (there are no roads).
    """

    def __init__(
        self,
        *,
        speed_kph: float,
        circuity: float,
        cutoff_s: float = DEFAULT_CUTOFF_S,
        bands: TravelBands | None = None,
    ) -> None:
        if not speed_kph > 0:
            raise InputError(f"speed_kph must be > 0, got {speed_kph!r}")
        if not circuity >= 1.0:
            raise InputError(
                f"circuity must be >= 1 (road over straight distance), got {circuity!r}"
            )
        if bands is not None and not len(bands):
            bands = None
        for band in bands.bands if bands is not None else ():
            if band.weight_column is not None or band.road_classes:
                raise InputError(
                    f"band {band.band_id!r}: straight-line travel has no roads; give one "
                    "speed_factor number (or only its 'default')"
                )
        self.bands = bands
        self._clock = None
        self.speed_kph = float(speed_kph)
        self.circuity = float(circuity)
        self.cutoff_s = float(cutoff_s)
        self._seconds_per_m = circuity / (speed_kph / 3.6)
        self._band_seconds_per_m = [self._seconds_per_m] + [
            circuity / (speed_kph * band.factor("") / 3.6)
            for band in (bands.bands if bands is not None else ())
        ]
        self._index: dict[tuple[float, float], int] = {}
        # Arrays grow by replacement, so they live in a table the anchored views share.
        self._places = _PlaceTable(np.empty(64), np.empty(64))
        # Scalar copies and a pair cache: a dispatch asks about a handful of teams, where plain
        # floats beat numpy's per-call overhead, and the same pairs recur across replications.
        self._lat_rad: list[float] = []
        self._lon_rad: list[float] = []
        self._cos_lat: list[float] = []
        self._routes: dict[tuple[int, int], Route] = {}
        self._fractions: dict[int, tuple[FloatArray, list[float]]] = {}
        # The pair cache by band, then destination, then origin: one dictionary read per team
        # of a dispatch on small integer keys (a flat cache keyed by (origin, destination)
        # tuples builds and hashes a tuple per team, in one dictionary of millions of entries).
        self._band_rows: list[dict[int, dict[int, float]]] = [{} for _ in range(self.n_bands)]
        self._pair_count = [0] * self.n_bands  # a list: the anchored views share it
        # Bands 1.. keep their routes apart from band 0's.
        self._band_routes: list[dict[tuple[int, int], Route]] = [
            self._routes,
            *({} for _ in range(self.n_bands - 1)),
        ]

    @property
    def n_places(self) -> int:
        return self._places.n

    def _add(self, lat: float, lon: float) -> int:
        key = (lat, lon)
        found = self._index.get(key)
        if found is not None:
            return found
        table = self._places
        if table.n == len(table.lats):
            table.lats = np.concatenate([table.lats, np.empty(len(table.lats))])
            table.lons = np.concatenate([table.lons, np.empty(len(table.lons))])
        table.lats[table.n] = lat
        table.lons[table.n] = lon
        self._lat_rad.append(math.radians(lat))
        self._lon_rad.append(math.radians(lon))
        self._cos_lat.append(math.cos(math.radians(lat)))
        self._index[key] = table.n
        table.n += 1
        return table.n - 1

    def snap_many(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> IntArray:
        lat = np.atleast_1d(np.asarray(lats, dtype=float))
        lon = np.atleast_1d(np.asarray(lons, dtype=float))
        _check_coordinates(lat, lon)
        # Checked above as columns, so a row costs one dictionary read (and a log repeats its
        # addresses); new places are numbered in order of first appearance.
        index, add = self._index, self._add
        ids = [
            found if (found := index.get(key)) is not None else add(*key)
            for key in zip(lat.tolist(), lon.tolist(), strict=True)
        ]
        return np.array(ids, dtype=np.int64)

    def coordinates(self, places: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        p = np.asarray(places, dtype=np.int64)
        return self._places.lats[p], self._places.lons[p]

    def _pair(self, origin: int, destination: int, band: int = 0) -> float:
        """Seconds between two places under band ``band``, cached."""
        rows = self._band_rows[band]
        row = rows.get(destination)
        if row is not None:
            found = row.get(origin)
            if found is not None:
                return found
        # Great-circle metres (the haversine of `haversine_m`, on Python floats: a dispatch asks
        # about a handful of teams, where numpy's per-call overhead dominates).
        lat_rad, cos_lat = self._lat_rad, self._cos_lat
        dp = lat_rad[destination] - lat_rad[origin]
        dl = self._lon_rad[destination] - self._lon_rad[origin]
        a = (
            math.sin(dp / 2.0) ** 2
            + cos_lat[origin] * cos_lat[destination] * math.sin(dl / 2.0) ** 2
        )
        metres = 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))
        seconds = metres * self._band_seconds_per_m[band]
        if seconds > self.cutoff_s:
            seconds = math.inf
        count = self._pair_count
        if count[band] >= PAIR_CACHE_SIZE:
            rows.clear()
            count[band] = 0
            row = None
        if row is None:
            row = rows[destination] = {}
        row[origin] = seconds
        count[band] += 1
        return seconds

    def time(self, origin: int, destination: int, at_s: float | None = None) -> float:
        band = 0 if self.bands is None or at_s is None else self.band_at(at_s)
        return self._pair(int(origin), int(destination), band)

    def times_to(
        self, origins: IntArray, destination: int, at_s: float | None = None
    ) -> FloatArray:
        band = 0 if self.bands is None or at_s is None else self.band_at(at_s)
        if len(origins) <= SMALL_FLEET:
            return np.array(self._scalar_times(origins.tolist(), destination, band))
        table = self._places
        seconds = (
            haversine_m(
                table.lats[origins],
                table.lons[origins],
                table.lats[destination],
                table.lons[destination],
            )
            * self._band_seconds_per_m[band]
        )
        seconds[seconds > self.cutoff_s] = np.inf
        return seconds

    def times_for(
        self, origins: list[int], destination: int, at_s: float | None = None
    ) -> list[float]:
        band = 0 if self.bands is None or at_s is None else self.band_at(at_s)
        return self._scalar_times(origins, destination, band)

    def _scalar_times(self, origins: list[int], destination: int, band: int) -> list[float]:
        pair = self._pair
        row = self._band_rows[band].get(destination)
        if row is None:  # a destination not seen before
            return [pair(o, destination, band) for o in origins]
        # A pair seen before is one dictionary read; `_pair` computes the others. (The test is
        # on None: a team at the call's own place has a cached 0.0, which is falsy.)
        get = row.get
        return [t if (t := get(o)) is not None else pair(o, destination, band) for o in origins]

    def route(
        self, origin: int, destination: int, at_s: float | None = None, *, steps: int = 8
    ) -> Route:
        """A straight route through ``steps`` evenly spaced intermediate places."""
        band = self.band_at(at_s)
        key = (origin, destination)
        routes = self._band_routes[band]
        found = routes.get(key) if steps == 8 else None
        if found is not None:
            return found
        elapsed, points = self._straight_way(origin, destination, band, steps)
        add = self._add
        inner = [add(lat, lon) for lat, lon in points[1:-1]]
        places = np.asarray([origin, *inner, destination], dtype=np.int64)
        route = Route(places=places, elapsed_s=elapsed)
        if steps == 8:
            routes[key] = route
        return route

    def leg(self, origin: int, destination: int, at_s: float | None = None) -> Leg:
        """`route` as a `Leg` whose inner places are snapped when first asked about."""
        band = self.band_at(at_s)
        found = self._band_routes[band].get((origin, destination))
        if found is not None:
            return Leg(found)
        elapsed, points = self._straight_way(origin, destination, band, 8)
        places = [origin, *([-1] * (len(points) - 2)), destination]
        return _StraightLeg(places, elapsed.tolist(), points, self._add)

    def _straight_way(
        self, origin: int, destination: int, band: int, steps: int
    ) -> tuple[FloatArray, list[tuple[float, float]]]:
        """Seconds from ``origin`` at each of ``steps + 2`` evenly spaced points of the straight
        way to ``destination``, and the points' coordinates (both ends included)."""
        total = self._pair(int(origin), int(destination), band)
        if not math.isfinite(total):
            raise InputError(f"no route within {self.cutoff_s:.0f} s")
        fractions = self._fractions.get(steps)
        if fractions is None:  # fractions of the way, all (0 .. 1) and as a list
            f = np.linspace(0.0, 1.0, steps + 2)
            fractions = self._fractions[steps] = (f, f.tolist())
        f, f_list = fractions
        table = self._places
        # Python floats: the same IEEE arithmetic as numpy scalars, at a fraction of the cost
        lat0, lat1 = float(table.lats[origin]), float(table.lats[destination])
        lon0, lon1 = float(table.lons[origin]), float(table.lons[destination])
        dlat, dlon = lat1 - lat0, lon1 - lon0
        points = [(lat0 + dlat * t, lon0 + dlon * t) for t in f_list[1:-1]]
        return f * total, [(lat0, lon0), *points, (lat1, lon1)]
