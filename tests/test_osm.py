"""OpenStreetMap import, offline: a real extract (West Oakland) and small made-up files."""

from __future__ import annotations

import bz2
import gzip
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import networkx as nx
import pytest

from dispatch.cli import main
from dispatch.errors import DispatchError, InputError
from dispatch.osm import (
    MIN_TRAVEL_TIME_S,
    TYPICAL_SPEEDS_KPH,
    UNKNOWN_HIGHWAY_SPEED_KPH,
    ImportReport,
    OsmFetchError,
    OsmUnavailableError,
    fetch_place,
    graph_from_osm_xml,
    import_osm,
)

DATA = Path(__file__).parent / "data"
WEST_OAKLAND = DATA / "West-Oakland.osm.bz2"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to open a network connection during the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def oakland(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImportReport, Path]:
    out = tmp_path_factory.mktemp("oakland") / "west-oakland.graphml"
    return import_osm(WEST_OAKLAND, out), out


@pytest.fixture(scope="module")
def oakland_graph(oakland: tuple[ImportReport, Path]) -> nx.MultiDiGraph[Any]:
    """The written GraphML, read back with plain networkx (no osmnx)."""
    return nx.read_graphml(oakland[1])


# -- a real extract ---------------------------------------------------------------------------


def test_west_oakland_imports_offline(offline: None, tmp_path: Path) -> None:
    out = tmp_path / "net" / "wo.graphml"
    report = import_osm(WEST_OAKLAND, out)
    assert out.is_file()
    assert report.out == str(out)
    assert report.source == str(WEST_OAKLAND)
    assert report.network_type == "drive"
    assert report.nodes_kept >= 15
    assert report.edges_kept >= 30
    assert report.seconds is not None


def test_west_oakland_report_adds_up(oakland: tuple[ImportReport, Path]) -> None:
    report, _ = oakland
    assert report.nodes_kept + report.nodes_dropped == report.nodes_read
    assert report.edges_kept + report.edges_dropped == report.edges_read
    assert report.nodes_dropped > 0  # the extract's edge cuts off one-way fragments
    assert report.components > 1
    # No way in this extract has a maxspeed tag: every speed is imputed by highway type.
    assert report.edges_speed_imputed == report.edges_kept
    assert dict(report.imputed_speeds_kph) == {
        hwy: TYPICAL_SPEEDS_KPH[hwy] for hwy in ("residential", "secondary", "unclassified")
    }
    west, south, east, north = report.bbox
    assert -122.31 < west < east < -122.28
    assert 37.80 < south < north < 37.82
    text = str(report)
    assert f"{report.nodes_kept:,} nodes, {report.edges_kept:,} edges" in text
    assert f"{report.nodes_dropped:,} nodes, {report.edges_dropped:,} edges" in text
    assert report.out is not None
    assert report.out in text


def test_graphml_has_the_contract_attributes_as_floats(
    oakland: tuple[ImportReport, Path], oakland_graph: nx.MultiDiGraph[Any]
) -> None:
    report, _ = oakland
    G = oakland_graph
    assert G.is_directed()
    assert G.number_of_nodes() == report.nodes_kept
    assert G.number_of_edges() == report.edges_kept
    for _, data in G.nodes(data=True):
        assert isinstance(data["y"], float)
        assert isinstance(data["x"], float)
        assert 37.7 < data["y"] < 37.9
        assert -122.4 < data["x"] < -122.2
    for _, _, data in G.edges(data=True):
        assert isinstance(data["travel_time"], float)
        assert isinstance(data["length"], float)
        assert isinstance(data["speed_kph"], float)
        assert isinstance(data["speed_imputed"], bool)
        assert data["travel_time"] > 0
        assert data["length"] >= 0


def test_kept_graph_is_strongly_connected(
    oakland_graph: nx.MultiDiGraph[Any],
) -> None:
    assert nx.is_strongly_connected(oakland_graph)


def test_travel_time_is_length_over_speed(oakland_graph: nx.MultiDiGraph[Any]) -> None:
    for _, _, data in oakland_graph.edges(data=True):
        expected = max(data["length"] / (data["speed_kph"] / 3.6), MIN_TRAVEL_TIME_S)
        assert data["travel_time"] == pytest.approx(expected, rel=1e-12)


def test_one_way_streets_stay_one_way(oakland_graph: nx.MultiDiGraph[Any]) -> None:
    one_way = [(u, v, d) for u, v, d in oakland_graph.edges(data=True) if d["oneway"] == "True"]
    assert one_way  # the secondary streets in this extract are one-way couplets
    for u, v, data in one_way:
        back = (oakland_graph.get_edge_data(v, u) or {}).values()
        assert all(other["osmid"] != data["osmid"] for other in back)


def test_graph_from_osm_xml_returns_the_report_too(offline: None) -> None:
    G = graph_from_osm_xml(WEST_OAKLAND)
    report = G.graph["import_report"]
    assert isinstance(report, ImportReport)
    assert (G.number_of_nodes(), G.number_of_edges()) == (report.nodes_kept, report.edges_kept)
    assert report.out is None


def test_travel_times_oracle_reads_the_graphml(
    oakland: tuple[ImportReport, Path], oakland_graph: nx.MultiDiGraph[Any]
) -> None:
    from dispatch.travel import TravelTimes

    times = TravelTimes.from_graphml(oakland[1])
    assert times.n_places == oakland_graph.number_of_nodes()
    index = {node: i for i, node in enumerate(times.node_ids)}
    reference = dict(nx.all_pairs_dijkstra_path_length(oakland_graph, weight="travel_time"))
    checked = 0
    for source, row in reference.items():
        for target, seconds in row.items():
            assert times.time(index[source], index[target]) == pytest.approx(seconds, abs=1e-6)
            checked += 1
    assert checked == oakland_graph.number_of_nodes() ** 2
    # and one answer the way the brief of the oracle states it: shortest_path_length
    nodes = list(oakland_graph.nodes)
    a, b = nodes[0], nodes[-1]
    expected = nx.shortest_path_length(oakland_graph, a, b, weight="travel_time")
    assert times.time(index[a], index[b]) == pytest.approx(expected, abs=1e-6)


# -- made-up files: filters, speeds, clipping -------------------------------------------------

LAT0, LON0, STEP = 37.80, -122.27, 0.001


def _osm_xml(
    nodes: dict[int, tuple[int, int]], ways: list[tuple[int, list[int], dict[str, str]]]
) -> str:
    """OSM XML text; node positions are grid steps (row, column) from (LAT0, LON0)."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", '<osm version="0.6" generator="test">']
    for node_id, (row, col) in nodes.items():
        lat, lon = LAT0 + row * STEP, LON0 + col * STEP
        lines.append(f'  <node id="{node_id}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}">')
        lines.extend(f'    <nd ref="{ref}"/>' for ref in refs)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


# Two junctions (1 and 2) joined by three parallel residential streets (top, middle, bottom),
# a two-way secondary stub at each end (to 40 and 41), and ways the drive network must not take.
# Junctions and stub ends are the only nodes left once chains of degree-2 nodes are merged.
GRID = {
    1: (1, 0),
    2: (1, 4),
    **{10 + k: (0, 1 + k) for k in range(3)},
    **{20 + k: (1, 1 + k) for k in range(3)},
    **{30 + k: (2, 1 + k) for k in range(3)},
    40: (1, -1),
    41: (1, 5),
}
RESIDENTIAL = {"highway": "residential"}
GRID_WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (100, [1, 10, 11, 12, 2], {**RESIDENTIAL, "maxspeed": "20 mph"}),
    (101, [1, 20, 21, 22, 2], {**RESIDENTIAL, "maxspeed": "40"}),
    (102, [1, 30, 31, 32, 2], RESIDENTIAL),
    (103, [40, 1], {"highway": "secondary", "name": 'West <&> "Stub"'}),
    (104, [2, 41], {"highway": "secondary"}),
    (200, [11, 21], {"highway": "footway"}),
    (201, [21, 31], {"highway": "service", "service": "parking_aisle"}),
    (202, [10, 20], {"highway": "residential", "access": "private"}),
    (203, [20, 30], {"highway": "residential", "motor_vehicle": "no"}),
    (204, [10, 11, 21, 20, 10], {"highway": "pedestrian", "area": "yes"}),
    (205, [12, 22, 32, 12], {"building": "yes"}),
]
DRIVABLE_WAYS = {"100", "101", "102", "103", "104"}


def _write(path: Path, text: str) -> Path:
    if path.suffix == ".bz2":
        path.write_bytes(bz2.compress(text.encode()))
    elif path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "grid.osm", _osm_xml(GRID, GRID_WAYS))


def _edges_by_way(G: nx.MultiDiGraph[Any]) -> dict[str, list[dict[str, Any]]]:
    by_way: dict[str, list[dict[str, Any]]] = {}
    for _, _, data in G.edges(data=True):
        by_way.setdefault(str(data["osmid"]), []).append(data)
    return by_way


def test_drive_network_keeps_only_drivable_public_streets(offline: None, grid_file: Path) -> None:
    G = graph_from_osm_xml(grid_file)
    assert set(_edges_by_way(G)) == DRIVABLE_WAYS
    assert set(G.nodes) == {1, 2, 40, 41}  # no excluded way made a junction
    assert G.number_of_edges() == 2 * len(DRIVABLE_WAYS)
    assert nx.is_strongly_connected(G)
    assert G.edges[40, 1, 0]["name"] == 'West <&> "Stub"'


def test_tagged_speeds_are_used_and_the_rest_imputed(offline: None, grid_file: Path) -> None:
    G = graph_from_osm_xml(grid_file)
    by_way = _edges_by_way(G)
    mph20 = 20 * 1.60934
    assert [d["speed_kph"] for d in by_way["100"]] == pytest.approx([mph20, mph20])
    assert [d["speed_kph"] for d in by_way["101"]] == [40.0, 40.0]
    assert not any(d["speed_imputed"] for d in by_way["100"] + by_way["101"])
    # untagged residential: the mean tagged residential speed in this network
    assert all(d["speed_imputed"] for d in by_way["102"])
    assert [d["speed_kph"] for d in by_way["102"]] == pytest.approx([(mph20 + 40) / 2] * 2)
    # no secondary street is tagged: the typical secondary speed
    for way in ("103", "104"):
        assert [d["speed_kph"] for d in by_way[way]] == [TYPICAL_SPEEDS_KPH["secondary"]] * 2
    report = G.graph["import_report"]
    assert report.edges_speed_imputed == 6
    assert dict(report.imputed_speeds_kph) == {
        "residential": pytest.approx((mph20 + 40) / 2),
        "secondary": TYPICAL_SPEEDS_KPH["secondary"],
    }


def test_default_speed_replaces_the_typical_speed(offline: None, grid_file: Path) -> None:
    G = graph_from_osm_xml(grid_file, default_speed_kph=18.0)
    by_way = _edges_by_way(G)
    assert all(d["speed_kph"] == 18.0 for d in by_way["103"] + by_way["104"])
    assert all(d["speed_kph"] != 18.0 for d in by_way["102"])  # residential has tagged peers


def test_untagged_network_with_unknown_highway_type(tmp_path: Path) -> None:
    ways = [
        (1, [1, 10, 11, 12, 2], {"highway": "road"}),
        (2, [2, 22, 21, 20, 1], RESIDENTIAL),
        (3, [40, 1], RESIDENTIAL),
        (4, [2, 41], RESIDENTIAL),
    ]
    path = _write(tmp_path / "odd.osm", _osm_xml(GRID, ways))
    G = graph_from_osm_xml(path)
    by_way = _edges_by_way(G)
    assert [d["speed_kph"] for d in by_way["1"]] == [UNKNOWN_HIGHWAY_SPEED_KPH] * 2
    assert [d["speed_kph"] for d in by_way["2"]] == [TYPICAL_SPEEDS_KPH["residential"]] * 2


def test_drive_service_network_adds_service_roads(tmp_path: Path) -> None:
    ways = [*GRID_WAYS[:5], (300, [21, 31], {"highway": "service"})]
    path = _write(tmp_path / "service.osm", _osm_xml(GRID, ways))
    assert "300" not in _edges_by_way(graph_from_osm_xml(path))
    assert "300" in _edges_by_way(graph_from_osm_xml(path, network_type="drive_service"))


def test_one_way_dead_ends_are_dropped_and_reported(tmp_path: Path) -> None:
    nodes = {**GRID, 50: (1, 6), 51: (1, -2)}
    ways = [
        *GRID_WAYS[:5],
        (400, [41, 50], {"highway": "residential", "oneway": "yes"}),  # 41 -> 50, no way back
        (401, [51, 40], {"highway": "residential", "oneway": "-1"}),  # reversed: 40 -> 51
    ]
    path = _write(tmp_path / "dead-ends.osm", _osm_xml(nodes, ways))
    G = graph_from_osm_xml(path)
    report = G.graph["import_report"]
    assert (report.nodes_read, report.edges_read) == (6, 12)
    assert (report.nodes_dropped, report.edges_dropped) == (2, 2)
    assert report.components == 3
    assert set(G.nodes) == {1, 2, 40, 41}
    assert nx.is_strongly_connected(G)


def test_ways_clipped_by_the_extract_are_split(tmp_path: Path) -> None:
    # the extract lacks node 99 in the middle of the top street: two pieces remain
    ways = [(100, [1, 10, 11, 99, 12, 2], RESIDENTIAL), *GRID_WAYS[1:5]]
    path = _write(tmp_path / "clipped.osm", _osm_xml(GRID, ways))
    G = graph_from_osm_xml(path)
    assert {11, 12} <= set(G.nodes)  # the pieces' loose ends
    assert G.has_edge(1, 11) and G.has_edge(12, 2) and not G.has_edge(11, 12)
    by_way = _edges_by_way(G)
    assert "100" in by_way  # the first piece keeps the OSM id
    assert "-1" in by_way  # the second gets a new one
    assert nx.is_strongly_connected(G)


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2", ".osm.gz", ".xml"])
def test_plain_and_compressed_files_read_alike(tmp_path: Path, suffix: str) -> None:
    path = _write(tmp_path / f"grid{suffix}", _osm_xml(GRID, GRID_WAYS))
    G = graph_from_osm_xml(path)
    assert set(_edges_by_way(G)) == DRIVABLE_WAYS


# -- errors -----------------------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    yield tmp_path / "missing.osm", "file not found"
    yield _write(tmp_path / "text.osm", "hello, not xml\n"), "not OpenStreetMap XML"
    yield _write(tmp_path / "empty.osm", ""), "not OpenStreetMap XML"
    yield _write(tmp_path / "html.osm", "<html><body/></html>\n"), "root element <html>"
    footpaths = _osm_xml(GRID, [(1, [1, 10, 11], {"highway": "footway"})])
    yield _write(tmp_path / "footpaths.osm.bz2", footpaths), "no drivable streets"
    truncated = tmp_path / "truncated.osm.bz2"
    truncated.write_bytes(WEST_OAKLAND.read_bytes()[:3000])
    yield truncated, "cannot read the file"
    yield _write(tmp_path / "city.osm.pbf", "binary"), "PBF files are not supported"
    yield tmp_path, "not a file"


def test_bad_files_give_clear_errors_naming_the_file(tmp_path: Path) -> None:
    for path, message in _bad_files(tmp_path):
        with pytest.raises(InputError) as caught:
            import_osm(path, tmp_path / "out.graphml")
        assert str(path) in str(caught.value)
        assert message in str(caught.value)
    assert not (tmp_path / "out.graphml").exists()


def test_bad_options_are_input_errors(grid_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown network type 'walk'"):
        import_osm(grid_file, tmp_path / "out.graphml", network_type="walk")
    with pytest.raises(InputError, match="default speed"):
        import_osm(grid_file, tmp_path / "out.graphml", default_speed_kph=0)


def test_missing_osmnx_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, grid_file: Path, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "osmnx", None)  # makes `import osmnx` fail
    with pytest.raises(OsmUnavailableError, match=r"pip install 'coresponder-dispatch\[osm\]'"):
        import_osm(grid_file, tmp_path / "out.graphml")
    with pytest.raises(OsmUnavailableError):
        fetch_place("Oakland, California, USA", tmp_path / "out.graphml")
    assert issubclass(OsmUnavailableError, DispatchError)


def test_importing_dispatch_does_not_import_osmnx() -> None:
    code = textwrap.dedent(
        """
        import sys
        import dispatch, dispatch.cli, dispatch.osm
        heavy = {"osmnx", "geopandas", "shapely", "pyproj"} & set(sys.modules)
        assert not heavy, heavy
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- fetching a place (no network here: osmnx's download is replaced) -------------------------


def test_fetch_turns_a_network_failure_into_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, offline: None, tmp_path: Path
) -> None:
    import osmnx

    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")

    monkeypatch.setattr(osmnx, "graph_from_place", no_connection)
    with pytest.raises(OsmFetchError, match="could not fetch the road network of 'Oakland, CA'"):
        fetch_place("Oakland, CA", tmp_path / "out.graphml")


def test_fetch_converts_like_import(
    monkeypatch: pytest.MonkeyPatch, offline: None, tmp_path: Path, grid_file: Path
) -> None:
    import osmnx

    from dispatch.osm import _write_drivable_subset

    drivable = tmp_path / "drivable.osm"
    _write_drivable_subset(grid_file, drivable, "drive")
    calls: list[tuple[Any, ...]] = []

    def download(query: str, **kwargs: Any) -> nx.MultiDiGraph[Any]:
        calls.append((query, kwargs))
        return osmnx.graph_from_xml(drivable, simplify=True, retain_all=True)

    monkeypatch.setattr(osmnx, "graph_from_place", download)
    fetched = fetch_place("Gridville", tmp_path / "fetched.graphml")
    imported = import_osm(grid_file, tmp_path / "imported.graphml")
    assert calls == [("Gridville", {"network_type": "drive", "simplify": True, "retain_all": True})]
    assert fetched.source == "Gridville"
    for field in ("nodes_read", "edges_read", "nodes_kept", "edges_kept", "edges_speed_imputed"):
        assert getattr(fetched, field) == getattr(imported, field), field
    assert fetched.imputed_speeds_kph == imported.imputed_speeds_kph
    G = nx.read_graphml(tmp_path / "fetched.graphml")
    assert all(isinstance(d["travel_time"], float) for _, _, d in G.edges(data=True))


# -- command line -----------------------------------------------------------------------------


def test_cli_import(offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "wo.graphml"
    assert main(["network", "import", str(WEST_OAKLAND), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "kept:" in printed
    assert str(out) in printed
    assert nx.is_strongly_connected(nx.read_graphml(out))


def test_cli_import_with_default_speed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "wo.graphml"
    argv = ["network", "import", str(WEST_OAKLAND), "-o", str(out), "--default-speed-kph", "30"]
    assert main(argv) == 0
    assert "residential 30, secondary 30, unclassified 30" in capsys.readouterr().out
    G = nx.read_graphml(out)
    assert {d["speed_kph"] for _, _, d in G.edges(data=True)} == {30.0}


def test_cli_bad_files_exit_non_zero_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path, message in _bad_files(tmp_path):
        code = main(["network", "import", str(path), "--out", str(tmp_path / "out.graphml")])
        err = capsys.readouterr().err
        assert code != 0
        assert err.startswith("error: ")
        assert str(path) in err
        assert message in err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_cli_fetch_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    offline: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import osmnx

    def timeout(*args: Any, **kwargs: Any) -> None:
        raise TimeoutError("read timed out")

    monkeypatch.setattr(osmnx, "graph_from_place", timeout)
    code = main(["network", "fetch", "Oakland, CA", "--out", str(tmp_path / "o.graphml")])
    err = capsys.readouterr().err
    assert code != 0
    assert "could not fetch the road network of 'Oakland, CA': read timed out" in err
    assert "Traceback" not in err
