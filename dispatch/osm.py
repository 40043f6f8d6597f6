"""Road networks from OpenStreetMap, for the travel-time oracle (needs the ``osm`` extra).

Two ways in, one way out:

- `import_osm` reads an OpenStreetMap XML file (``.osm``, ``.osm.bz2`` or ``.osm.gz``) offline;
- `fetch_place` downloads a place's streets through osmnx, for users with internet access;
- both write the GraphML that `dispatch.travel.TravelTimes.from_graphml` reads, and return an
  `ImportReport`.

The GraphML contract: a directed multigraph; every node has float ``y`` (latitude) and ``x``
(longitude), WGS84 degrees; every edge has float ``travel_time`` (seconds, > 0), ``length``
(metres) and ``speed_kph``, and boolean ``speed_imputed``. These are written as typed GraphML
attributes, so plain ``networkx.read_graphml`` returns them as floats and booleans; every other
attribute (OSM ids, street names, highway type, geometry as WKT) is a string, as osmnx writes it.

Only the drivable streets are kept, selected by the same rules osmnx uses when it downloads a
``network_type="drive"`` (or ``"drive_service"``) network, so a file import and a download of
the same area give the same graph. Of that graph only the largest strongly connected component
is kept: a team must be able to drive from every node to every other one and back.

Speeds come from ``maxspeed`` tags where present (osmnx parses them, mph included). Edges without
a usable tag get, in this order of preference: the mean tagged speed of their highway type in the
same network; ``default_speed_kph`` when given; a typical speed for the highway type
(`TYPICAL_SPEEDS_KPH`); `UNKNOWN_HIGHWAY_SPEED_KPH`.

osmnx and its geo stack are imported inside the functions, so ``import dispatch`` stays fast and
works without them.
"""

from __future__ import annotations

import bz2
import gzip
import math
import re
import tempfile
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from xml.etree.ElementTree import Element, ParseError, iterparse

from dispatch.errors import DispatchError, InputError

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "MIN_TRAVEL_TIME_S",
    "NETWORK_TYPES",
    "TYPICAL_SPEEDS_KPH",
    "UNKNOWN_HIGHWAY_SPEED_KPH",
    "ImportReport",
    "OsmFetchError",
    "OsmUnavailableError",
    "fetch_place",
    "graph_from_osm_xml",
    "import_osm",
    "write_graphml",
]

INSTALL_HINT = "pip install 'coresponder-dispatch[osm]'"

# Typical free-flow car speeds by OSM highway type, km/h, used where a network has no maxspeed
# data for a type. Values from the OSRM car profile (profiles/car.lua, ``speeds.highway``).
TYPICAL_SPEEDS_KPH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
}
UNKNOWN_HIGHWAY_SPEED_KPH = 25.0
# A zero-length edge (two OSM nodes at one coordinate) still takes this long, so that every
# ``travel_time`` is positive.
MIN_TRAVEL_TIME_S = 0.01

# The tag filters osmnx sends to Overpass for each network type (osmnx ``_overpass``,
# ``_get_network_filter``, with ``settings.default_access``). Overpass ``["k"!~"re"]`` holds when
# the tag is absent or its value does not contain a match of ``re``.
_DRIVE_EXCLUDED_HIGHWAYS = (
    "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|"
    "no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|services|steps|track"
)
_NETWORK_FILTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "drive": (
        ("area", "yes"),
        ("access", "private"),
        ("highway", _DRIVE_EXCLUDED_HIGHWAYS + "|service"),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "alley|driveway|emergency_access|parking|parking_aisle|private"),
    ),
    "drive_service": (
        ("area", "yes"),
        ("access", "private"),
        ("highway", _DRIVE_EXCLUDED_HIGHWAYS),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "emergency_access|parking|parking_aisle|private"),
    ),
}
NETWORK_TYPES = tuple(_NETWORK_FILTERS)
_COMPILED_FILTERS = {
    name: tuple((key, re.compile(pattern)) for key, pattern in rules)
    for name, rules in _NETWORK_FILTERS.items()
}

# Edge and node attributes written as typed GraphML values; all others are written as strings.
_FLOAT_NODE_ATTRS = ("y", "x")
_INT_NODE_ATTRS = ("street_count",)
_FLOAT_EDGE_ATTRS = ("length", "speed_kph", "travel_time")
_BOOL_EDGE_ATTRS = ("speed_imputed",)


class OsmUnavailableError(DispatchError):
    """The ``osm`` extra (osmnx and its geo stack) is not installed."""


class OsmFetchError(DispatchError):
    """Downloading a road network failed (no connection, unknown place, server error)."""


@dataclass(frozen=True)
class ImportReport:
    """What an OpenStreetMap import read, kept and filled in.

    *Read* is the drivable network osmnx built (after merging chains of degree-2 nodes into
    single edges); *kept* is its largest strongly connected component; *dropped* is the rest.
    ``nodes_read == nodes_kept + nodes_dropped`` and likewise for edges.

    Attributes
    ----------
    source
        The file read, or the place fetched.
    network_type
        ``"drive"`` or ``"drive_service"``.
    nodes_read, edges_read
        Size of the drivable network before the connectivity cut.
    nodes_kept, edges_kept
        Size of the largest strongly connected component (what is written).
    nodes_dropped, edges_dropped
        Nodes and edges outside it: one-way dead ends, fragments cut by the map's edge.
    components
        Number of strongly connected components in the network read.
    edges_speed_imputed
        Kept edges without a usable ``maxspeed`` tag, whose speed was imputed.
    imputed_speeds_kph
        The speed given to imputed edges, per highway type, as ``(highway, km/h)`` pairs.
    bbox
        ``(west, south, east, north)`` of the kept nodes, WGS84 degrees.
    out
        The GraphML file written, if any.
    seconds
        Wall-clock time of the import.
    """

    source: str
    network_type: str
    nodes_read: int
    edges_read: int
    nodes_kept: int
    edges_kept: int
    nodes_dropped: int
    edges_dropped: int
    components: int
    edges_speed_imputed: int
    imputed_speeds_kph: tuple[tuple[str, float], ...]
    bbox: tuple[float, float, float, float]
    out: str | None = None
    seconds: float | None = None

    def __str__(self) -> str:
        west, south, east, north = self.bbox
        lines = [
            f"road network from {self.source} ({self.network_type})",
            f"  read:    {self.nodes_read:,} nodes, {self.edges_read:,} edges "
            f"in {self.components:,} strongly connected component(s)",
            f"  kept:    {self.nodes_kept:,} nodes, {self.edges_kept:,} edges "
            "(largest strongly connected component)",
            f"  dropped: {self.nodes_dropped:,} nodes, {self.edges_dropped:,} edges",
            f"  speeds:  {self.edges_speed_imputed:,} of {self.edges_kept:,} edges "
            "had no usable maxspeed tag",
        ]
        if self.imputed_speeds_kph:
            imputed = ", ".join(f"{hwy} {kph:.0f}" for hwy, kph in self.imputed_speeds_kph)
            lines.append(f"           imputed km/h: {imputed}")
        lines.append(f"  bbox:    lat {south:.5f}..{north:.5f}, lon {west:.5f}..{east:.5f}")
        if self.out is not None:
            lines.append(f"  wrote:   {self.out}")
        if self.seconds is not None:
            lines.append(f"  took:    {self.seconds:.2f} s")
        return "\n".join(lines)


# -- public API -------------------------------------------------------------------------------


def graph_from_osm_xml(
    path: str | Path,
    *,
    network_type: str = "drive",
    default_speed_kph: float | None = None,
) -> nx.MultiDiGraph[Any]:
    """Read an OpenStreetMap XML file offline into a drivable, strongly connected road graph.

    Parameters
    ----------
    path
        ``.osm`` file, optionally compressed (``.osm.bz2``, ``.osm.gz``).
    network_type
        ``"drive"`` (public streets, no service roads) or ``"drive_service"`` (with service
        roads other than parking aisles and emergency accesses).
    default_speed_kph
        Speed for highway types that have no ``maxspeed`` data anywhere in the file; when not
        given, a typical speed for the highway type (`TYPICAL_SPEEDS_KPH`).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph: nodes with ``y``/``x``, edges with ``length``, ``speed_kph``,
        ``travel_time`` and ``speed_imputed``. ``G.graph["import_report"]`` holds the
        `ImportReport`.

    Raises
    ------
    InputError
        The file is missing, is not OpenStreetMap XML, or has no drivable streets.
    OsmUnavailableError
        osmnx is not installed.
    """
    G, _ = _graph_and_report_from_xml(
        Path(path), network_type=network_type, default_speed_kph=default_speed_kph
    )
    return G


def import_osm(
    path: str | Path,
    out_graphml: str | Path,
    *,
    network_type: str = "drive",
    default_speed_kph: float | None = None,
) -> ImportReport:
    """Convert an OpenStreetMap XML file into the GraphML road network the dispatcher reads.

    See `graph_from_osm_xml` for the parameters and errors. Returns what was read and kept.
    """
    started = time.perf_counter()
    G, report = _graph_and_report_from_xml(
        Path(path), network_type=network_type, default_speed_kph=default_speed_kph
    )
    write_graphml(G, out_graphml)
    return _finished(report, out_graphml, started)


def fetch_place(
    place: str,
    out_graphml: str | Path,
    *,
    network_type: str = "drive",
    default_speed_kph: float | None = None,
) -> ImportReport:
    """Download a place's drivable streets with osmnx and write them as GraphML.

    Needs internet access (the Nominatim geocoder and the Overpass API). osmnx caches responses
    in ``./cache`` by default (``osmnx.settings.cache_folder``).

    Parameters
    ----------
    place
        A place name the geocoder knows, e.g. ``"Oakland, California, USA"``.
    out_graphml
        GraphML file to write.
    network_type, default_speed_kph
        As for `graph_from_osm_xml`.

    Raises
    ------
    OsmFetchError
        The place is unknown, the server did not answer, or the connection failed.
    """
    started = time.perf_counter()
    _check_network_type(network_type)
    _check_speed(default_speed_kph)
    ox = _import_osmnx()
    try:
        G = ox.graph_from_place(place, network_type=network_type, simplify=True, retain_all=True)
    except Exception as error:  # requests, geocoder and Overpass failures all end here
        reason = str(error).strip() or type(error).__name__
        raise OsmFetchError(
            f"could not fetch the road network of {place!r}: {reason}. Check the place name and "
            "the internet connection, or download an .osm extract and use "
            "'dispatch network import'."
        ) from None
    if G.number_of_edges() == 0:
        raise OsmFetchError(f"no drivable streets found for {place!r}")
    G, report = _finish_graph(
        G, source=place, network_type=network_type, default_speed_kph=default_speed_kph
    )
    write_graphml(G, out_graphml)
    return _finished(report, out_graphml, started)


def write_graphml(G: nx.MultiDiGraph[Any], path: str | Path) -> None:
    """Write a road graph as GraphML: coordinates, lengths and times typed, the rest strings.

    ``networkx.read_graphml`` reads ``y``, ``x``, ``length``, ``speed_kph`` and ``travel_time``
    back as floats. Lists (OSM ids of merged ways) are written as osmnx writes them, e.g.
    ``"[6329561, 6338259]"``; shapely geometries as WKT.
    """
    import networkx as nx

    path = Path(path)
    out: nx.MultiDiGraph[Any] = nx.MultiDiGraph()
    out.graph.update({key: str(value) for key, value in G.graph.items() if key != "import_report"})
    for node, data in G.nodes(data=True):
        out.add_node(node, **_typed(data, floats=_FLOAT_NODE_ATTRS, ints=_INT_NODE_ATTRS))
    for u, v, key, data in G.edges(keys=True, data=True):
        out.add_edge(
            u, v, key=key, **_typed(data, floats=_FLOAT_EDGE_ATTRS, bools=_BOOL_EDGE_ATTRS)
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        nx.write_graphml(out, path)
    except OSError as error:
        raise InputError(
            f"cannot write GraphML ({error.strerror or error})", source=str(path)
        ) from None


# -- reading OSM XML --------------------------------------------------------------------------


def _graph_and_report_from_xml(
    path: Path, *, network_type: str, default_speed_kph: float | None
) -> tuple[nx.MultiDiGraph[Any], ImportReport]:
    _check_network_type(network_type)
    _check_speed(default_speed_kph)
    _check_input_file(path)
    ox = _import_osmnx()
    with tempfile.TemporaryDirectory(prefix="dispatch-osm-") as tmp:
        filtered = Path(tmp) / "drivable.osm"
        ways = _write_drivable_subset(path, filtered, network_type)
        if ways == 0:
            raise InputError(
                f"no drivable streets (network type {network_type!r}) in this OpenStreetMap file",
                source=str(path),
            )
        try:
            G = ox.graph_from_xml(filtered, bidirectional=False, simplify=True, retain_all=True)
        except Exception as error:  # osmnx/networkx fail on oddly shaped data in many ways
            raise InputError(
                f"osmnx could not build a road graph: {error}", source=str(path)
            ) from None
    if G.number_of_edges() == 0:
        raise InputError(
            f"the drivable ways (network type {network_type!r}) form no street network",
            source=str(path),
        )
    return _finish_graph(
        G, source=str(path), network_type=network_type, default_speed_kph=default_speed_kph
    )


def _check_input_file(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", source=str(path))
    if not path.is_file():
        raise InputError("not a file", source=str(path))
    if path.suffix.lower() == ".pbf":
        raise InputError(
            "OpenStreetMap PBF files are not supported; convert to XML first, e.g. "
            "'osmium cat FILE.osm.pbf -o FILE.osm.bz2'",
            source=str(path),
        )


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@contextmanager
def _open_osm(path: Path) -> Iterator[_Readable]:
    """Open plain, bzip2 or gzip OSM XML, by content rather than by file name."""
    with path.open("rb") as raw:
        magic = raw.read(3)
    if magic.startswith(b"BZh"):
        with bz2.open(path, "rb") as bz2_handle:
            yield bz2_handle
    elif magic.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as gz_handle:
            yield gz_handle
    else:
        with path.open("rb") as handle:
            yield handle


def _osm_elements(path: Path) -> Iterator[Element]:
    """Yield the ``node`` and ``way`` elements of an OSM XML file, streaming, then free them.

    Raises `InputError` naming the file when it is not (well-formed) OpenStreetMap XML.
    """
    try:
        with _open_osm(path) as handle:
            events = iterparse(handle, events=("start", "end"))
            _, root = next(events)
            if root.tag != "osm":
                raise InputError(
                    f"not OpenStreetMap XML (root element <{root.tag}>, expected <osm>)",
                    source=str(path),
                )
            depth = 0
            for event, element in events:
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                if depth == 0:  # a direct child of <osm> is complete
                    if element.tag in ("node", "way"):
                        yield element
                    root.clear()
    except StopIteration:
        raise InputError("empty file, not OpenStreetMap XML", source=str(path)) from None
    except ParseError as error:
        raise InputError(f"not OpenStreetMap XML ({error})", source=str(path)) from None
    except (OSError, EOFError) as error:  # truncated or corrupt compressed data
        raise InputError(f"cannot read the file ({error})", source=str(path)) from None
    except UnicodeDecodeError as error:
        raise InputError(f"not OpenStreetMap XML ({error.reason})", source=str(path)) from None


def _osm_id(element: Element, path: Path) -> int:
    try:
        return int(element.attrib["id"])
    except (KeyError, ValueError):
        raise InputError(f"<{element.tag}> without a numeric id", source=str(path)) from None


def _is_drivable(tags: dict[str, str], network_type: str) -> bool:
    if "highway" not in tags:
        return False
    return not any(
        key in tags and pattern.search(tags[key])
        for key, pattern in _COMPILED_FILTERS[network_type]
    )


def _write_drivable_subset(source: Path, target: Path, network_type: str) -> int:
    """Copy the drivable ways of ``source`` and the nodes they use into ``target``.

    Two streaming passes: the first keeps the drivable ways and notes which nodes the file has,
    the second copies the nodes those ways use. Ways are split where they reference nodes the
    file lacks (clipped extracts), and pieces shorter than two nodes are dropped. Returns the
    number of ways written.
    """
    present = array("q")
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    for element in _osm_elements(source):
        if element.tag == "node":
            present.append(_osm_id(element, source))
            continue
        tags = {tag.attrib.get("k", ""): tag.attrib.get("v", "") for tag in element.iter("tag")}
        if _is_drivable(tags, network_type):
            try:
                refs = [int(nd.attrib["ref"]) for nd in element.iter("nd")]
            except (KeyError, ValueError):
                raise InputError(
                    f"way {element.attrib.get('id')} has a node reference that is not a number",
                    source=str(source),
                ) from None
            ways.append((_osm_id(element, source), refs, tags))
    present_ids = set(present)
    del present

    pieces: list[tuple[int, list[int], dict[str, str]]] = []
    next_id = -1
    for way_id, refs, tags in ways:
        runs: list[list[int]] = [[]]
        for ref in refs:
            if ref in present_ids:
                runs[-1].append(ref)
            elif runs[-1]:
                runs.append([])
        piece_id = way_id  # the first piece keeps the OSM id, further pieces get new ones
        for run in (r for r in runs if len(r) >= 2):
            pieces.append((piece_id, run, tags))
            piece_id, next_id = next_id, next_id - 1
    del present_ids, ways
    used = {ref for _, run, _ in pieces for ref in run}

    with target.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        out.write('<osm version="0.6" generator="dispatch">\n')
        for element in _osm_elements(source):
            if element.tag != "node" or _osm_id(element, source) not in used:
                continue
            attrs = element.attrib
            if "lat" not in attrs or "lon" not in attrs:
                raise InputError(f"node {attrs.get('id')} has no lat/lon", source=str(source))
            out.write(
                f"  <node id={_xml_attr(attrs['id'])} lat={_xml_attr(attrs['lat'])}"
                f" lon={_xml_attr(attrs['lon'])}>"
            )
            for tag in element.iter("tag"):
                k, v = tag.attrib.get("k", ""), tag.attrib.get("v", "")
                out.write(f"<tag k={_xml_attr(k)} v={_xml_attr(v)}/>")
            out.write("</node>\n")
        for way_id, run, tags in pieces:
            out.write(f'  <way id="{way_id}">')
            out.writelines(f'<nd ref="{ref}"/>' for ref in run)
            out.writelines(f"<tag k={_xml_attr(k)} v={_xml_attr(v)}/>" for k, v in tags.items())
            out.write("</way>\n")
        out.write("</osm>\n")
    return len(pieces)


# -- speeds, travel times, connectivity -------------------------------------------------------


def _finish_graph(
    G: nx.MultiDiGraph[Any],
    *,
    source: str,
    network_type: str,
    default_speed_kph: float | None,
) -> tuple[nx.MultiDiGraph[Any], ImportReport]:
    """Keep the largest strongly connected component, then add speeds and travel times."""
    import networkx as nx

    nodes_read, edges_read = G.number_of_nodes(), G.number_of_edges()
    components = list(nx.strongly_connected_components(G))
    largest = max(components, key=len)
    G = G.subgraph(largest).copy()
    imputed_speeds = _add_speeds_and_times(G, default_speed_kph)

    lats = [float(y) for _, y in G.nodes(data="y")]
    lons = [float(x) for _, x in G.nodes(data="x")]
    report = ImportReport(
        source=source,
        network_type=network_type,
        nodes_read=nodes_read,
        edges_read=edges_read,
        nodes_kept=G.number_of_nodes(),
        edges_kept=G.number_of_edges(),
        nodes_dropped=nodes_read - G.number_of_nodes(),
        edges_dropped=edges_read - G.number_of_edges(),
        components=len(components),
        edges_speed_imputed=sum(1 for *_, imputed in G.edges(data="speed_imputed") if imputed),
        imputed_speeds_kph=tuple(sorted(imputed_speeds.items())),
        bbox=(min(lons), min(lats), max(lons), max(lats)),
    )
    G.graph["import_report"] = report
    return G, report


def _highway(data: dict[str, Any]) -> str:
    """The edge's highway type; of a merged edge's list, the first (as osmnx does)."""
    value = data.get("highway", "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


def _add_speeds_and_times(
    G: nx.MultiDiGraph[Any], default_speed_kph: float | None
) -> dict[str, float]:
    """Set ``speed_kph``, ``speed_imputed`` and ``travel_time`` on every edge, in place.

    Tagged speeds are parsed by osmnx (`osmnx.add_edge_speeds`, mph and per-lane values
    included). Returns the speed given to untagged edges, per highway type.
    """
    ox = _import_osmnx()
    highways = {_highway(data) for *_, data in G.edges(data=True)}
    # Every highway type maps to a sentinel: what osmnx leaves different is a parsed tag.
    sentinel = -1.0
    ox.add_edge_speeds(G, hwy_speeds=dict.fromkeys(highways, sentinel), fallback=sentinel)

    observed: dict[str, list[float]] = {}
    for *_, data in G.edges(data=True):
        speed = float(data["speed_kph"])
        if math.isfinite(speed) and speed > 0:
            observed.setdefault(_highway(data), []).append(speed)

    imputed: dict[str, float] = {}
    for hwy in highways:
        if hwy in observed:
            imputed[hwy] = sum(observed[hwy]) / len(observed[hwy])
        elif default_speed_kph is not None:
            imputed[hwy] = float(default_speed_kph)
        else:
            imputed[hwy] = TYPICAL_SPEEDS_KPH.get(hwy, UNKNOWN_HIGHWAY_SPEED_KPH)

    used: dict[str, float] = {}
    for *_, data in G.edges(data=True):
        speed = float(data["speed_kph"])
        is_imputed = not (math.isfinite(speed) and speed > 0)
        if is_imputed:
            hwy = _highway(data)
            speed = used[hwy] = imputed[hwy]
        data["speed_kph"] = speed
        data["speed_imputed"] = is_imputed
        data["length"] = float(data["length"])
        data["travel_time"] = max(data["length"] / (speed / 3.6), MIN_TRAVEL_TIME_S)
    return used


# -- helpers ----------------------------------------------------------------------------------


def _typed(
    data: dict[str, Any],
    *,
    floats: tuple[str, ...] = (),
    ints: tuple[str, ...] = (),
    bools: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Attributes for GraphML: the named ones as floats/ints/bools, the rest as strings."""
    typed: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if key in floats:
            typed[key] = float(value)
        elif key in ints:
            typed[key] = int(value)
        elif key in bools:
            typed[key] = bool(value)
        else:
            typed[key] = str(value)
    return typed


_XML_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def _xml_attr(value: str) -> str:
    """``value`` as a double-quoted XML attribute value."""
    return '"' + value.translate(_XML_ATTR_ESCAPES) + '"'


def _finished(report: ImportReport, out: str | Path, started: float) -> ImportReport:
    return replace(report, out=str(out), seconds=time.perf_counter() - started)


def _check_network_type(network_type: str) -> None:
    if network_type not in _NETWORK_FILTERS:
        raise InputError(
            f"unknown network type {network_type!r}; use one of {', '.join(NETWORK_TYPES)}"
        )


def _check_speed(speed_kph: float | None) -> None:
    if speed_kph is not None and not (math.isfinite(speed_kph) and 0 < speed_kph <= 200):
        raise InputError(f"default speed must be between 0 and 200 km/h, got {speed_kph}")


def _import_osmnx() -> Any:
    """osmnx, or an `OsmUnavailableError` telling how to install it."""
    try:
        import osmnx
    except ImportError as error:
        raise OsmUnavailableError(
            f"reading OpenStreetMap data needs osmnx ({error}); install it with: {INSTALL_HINT}"
        ) from None
    return osmnx
