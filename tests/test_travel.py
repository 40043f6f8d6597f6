"""Travel-time oracles: snapping, shortest times against networkx, routes, cache, loaders."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.errors import InputError, OutsideNetworkError
from dispatch.networks import road_grid
from dispatch.travel import RoadNetworkTimes, TravelTimes

WEIGHT = "travel_time"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Reference great-circle metres, written out with math (not the code under test)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def reference_times(G: nx.MultiDiGraph, destination: int) -> dict[int, float]:
    """networkx shortest seconds from every node to ``destination``; missing = no path."""
    return {
        int(u): float(t)
        for u, t in nx.shortest_path_length(G, target=destination, weight=WEIGHT).items()
    }


@st.composite
def random_graphs(draw: st.DrawFn) -> nx.MultiDiGraph:
    """Small directed multigraphs: parallel edges, self-loops, zero and fractional weights."""
    n = draw(st.integers(1, 9))
    G = nx.MultiDiGraph()
    for i in range(n):
        G.add_node(i, y=39.7 + 0.001 * (i % 3), x=-105.0 + 0.001 * (i // 3))
    weights = st.one_of(st.just(0.0), st.integers(1, 50).map(float), st.floats(0.01, 100.0))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), weights)))
    for u, v, w in edges:
        G.add_edge(u, v, travel_time=w)
    return G


# -- snapping ---------------------------------------------------------------------------


@given(
    lat=st.floats(39.698, 39.716, allow_nan=False),
    lon=st.floats(-105.002, -104.981, allow_nan=False),
)
@settings(max_examples=100, deadline=None)
def test_snap_picks_the_nearest_node(city, lat, lon):
    place = city.travel.snap(lat, lon)
    distances = [haversine_m(lat, lon, la, lo) for la, lo in city.coords]
    # The oracle snaps in a local projection; within a few km it agrees with great circles
    # to well under a metre, so only near-ties may pick a different (equally near) node.
    assert distances[place] <= min(distances) + 0.5


@given(
    # downtown Denver and up to about 1 km around it, so some points are off the network
    lat=st.floats(39.730, 39.780, allow_nan=False),
    lon=st.floats(-105.014, -104.959, allow_nan=False),
)
@settings(max_examples=100, deadline=None)
def test_snap_and_snap_many_agree(denver, lat, lon):
    try:
        one = denver.snap(lat, lon)
    except OutsideNetworkError as error:
        with pytest.raises(OutsideNetworkError) as again:
            denver.snap_many([lat], [lon])
        assert str(again.value) == str(error)
        return
    assert denver.snap_many([lat, lat], [lon, lon]).tolist() == [one, one]


def test_snap_of_a_node_coordinate_is_that_node(city):
    lats, lons = zip(*city.coords, strict=True)
    assert city.travel.snap_many(lats, lons).tolist() == list(range(len(city.coords)))


def test_snapping_skips_dead_end_fragments():
    # A one-way spur b -> c -> d leaves the loop a <-> b with no way back: a call or team near
    # d snaps to the nearest node of the loop instead, from where every place is reachable.
    G = nx.DiGraph()
    for name, lat in (("a", 39.700), ("b", 39.701), ("c", 39.702), ("d", 39.703)):
        G.add_node(name, y=lat, x=-105.0)
    G.add_edge("a", "b", travel_time=10.0)
    G.add_edge("b", "a", travel_time=10.0)
    G.add_edge("b", "c", travel_time=10.0)
    G.add_edge("c", "d", travel_time=10.0)
    travel = TravelTimes.from_graph(G, max_snap_m=1000.0)
    assert travel.snap(39.7031, -105.0) == travel.node_ids.index("b")
    assert travel.time(travel.node_ids.index("a"), travel.node_ids.index("d")) == 30.0


def test_far_coordinate_is_outside_the_network_and_says_how_far(city):
    lat, lon = city.coords[-1][0] + 0.045, city.coords[-1][1]  # 5.0 km north of the top row
    with pytest.raises(OutsideNetworkError, match=r"km from the nearest road node") as error:
        city.travel.snap(lat, lon)
    reported_km = float(re.search(r"is ([\d.]+) km", str(error.value)).group(1))
    assert reported_km == pytest.approx(haversine_m(lat, lon, *city.coords[-1]) / 1000, abs=0.02)
    assert "swapped" not in str(error.value)


def test_outside_error_is_an_input_error(city):
    assert issubclass(OutsideNetworkError, InputError)
    with pytest.raises(InputError):
        city.travel.snap(0.0, 0.0)


def test_swapped_latitude_and_longitude_get_a_hint(city):
    lat, lon = city.coords[0]
    with pytest.raises(InputError, match="swapped"):
        city.travel.snap(lon, lat)  # latitude -105 is not a latitude


def test_swapped_coordinates_that_are_both_valid_get_a_hint():
    # Near (10 N, 20 E) the swapped pair (20, 10) is a valid place, just far away.
    G = nx.DiGraph()
    G.add_node("a", y=10.0, x=20.0)
    G.add_node("b", y=10.001, x=20.0)
    G.add_edge("a", "b", travel_time=10.0)
    travel = TravelTimes.from_graph(G)
    with pytest.raises(OutsideNetworkError, match="swapped"):
        travel.snap(20.0, 10.0005)


def test_snap_rejects_non_finite_coordinates(city):
    with pytest.raises(InputError, match="latitude"):
        city.travel.snap(float("nan"), -105.0)


# -- shortest times against networkx -----------------------------------------------------


@given(G=random_graphs(), data=st.data())
@settings(max_examples=150, deadline=None)
def test_times_to_equals_networkx_shortest_path_length(G, data):
    destination = data.draw(st.integers(0, G.number_of_nodes() - 1))
    travel = TravelTimes.from_graph(G, cutoff_s=1e9)
    origins = np.arange(G.number_of_nodes(), dtype=np.int64)
    times = travel.times_to(origins, destination)
    expected = reference_times(G, destination)
    for u in origins.tolist():
        assert times[u] == pytest.approx(expected.get(u, math.inf), rel=1e-9, abs=1e-9), u


def test_times_to_against_networkx_on_a_random_gnp_graph():
    G = nx.gnp_random_graph(60, 0.08, seed=7, directed=True)
    rng = np.random.default_rng(7)
    for i in G.nodes:
        G.nodes[i].update(y=39.7 + 0.0005 * (i % 8), x=-105.0 + 0.0005 * (i // 8))
    for u, v in G.edges:
        G.edges[u, v][WEIGHT] = float(rng.uniform(5, 120))
    travel = TravelTimes.from_graph(G, cutoff_s=1e9)
    origins = np.arange(60, dtype=np.int64)
    for destination in range(60):
        expected = reference_times(G, destination)
        got = travel.times_to(origins, destination)
        np.testing.assert_allclose(got, [expected.get(u, np.inf) for u in range(60)], rtol=1e-12)


def test_undirected_graph_counts_each_edge_both_ways():
    G = nx.Graph()
    G.add_node(0, y=39.7, x=-105.0)
    G.add_node(1, y=39.701, x=-105.0)
    G.add_edge(0, 1, travel_time=42.0)
    travel = TravelTimes.from_graph(G)
    assert travel.time(0, 1) == travel.time(1, 0) == 42.0


@given(G=random_graphs(), data=st.data())
@settings(max_examples=100, deadline=None)
def test_route_is_a_path_whose_elapsed_times_add_up(G, data):
    n = G.number_of_nodes()
    origin = data.draw(st.integers(0, n - 1))
    destination = data.draw(st.integers(0, n - 1))
    travel = TravelTimes.from_graph(G, cutoff_s=1e9)
    total = travel.time(origin, destination)
    if not math.isfinite(total):
        with pytest.raises(InputError, match="no route"):
            travel.route(origin, destination)
        return
    route = travel.route(origin, destination)
    places = route.places.tolist()
    assert places[0] == origin and places[-1] == destination
    assert len(places) == len(set(places))  # no cycles
    assert route.elapsed_s[0] == 0.0
    assert route.duration_s == pytest.approx(total, abs=1e-9)
    for k, (u, v) in enumerate(itertools.pairwise(places)):
        fastest = min(d[WEIGHT] for d in G.get_edge_data(u, v).values())
        assert route.elapsed_s[k + 1] - route.elapsed_s[k] == pytest.approx(fastest, abs=1e-9)
    for t in [*route.elapsed_s.tolist(), route.duration_s + 1.0]:
        # the last place reached by then (zero-time edges are passed at once)
        reached = [p for p, e in zip(places, route.elapsed_s.tolist(), strict=True) if e <= t]
        assert route.place_at(t) == reached[-1]


def test_cutoff_makes_far_nodes_unreachable(city):
    cutoff_s = 400.0
    travel = TravelTimes.from_graph(city.G, cutoff_s=cutoff_s)
    origins = np.arange(city.G.number_of_nodes(), dtype=np.int64)
    for destination in (0, 14, 35):
        times = travel.times_to(origins, destination)
        for u in origins.tolist():
            expected = city.eta(u, destination)
            if expected <= cutoff_s:
                assert times[u] == expected
            else:
                assert times[u] == math.inf


def test_bad_cutoff_is_an_input_error(city):
    with pytest.raises(InputError, match="cutoff_s"):
        TravelTimes.from_graph(city.G, cutoff_s=0)


def test_negative_edge_time_is_an_input_error():
    G = nx.DiGraph()
    G.add_node(0, y=39.7, x=-105.0)
    G.add_node(1, y=39.701, x=-105.0)
    G.add_edge(0, 1, travel_time=-1.0)
    with pytest.raises(InputError, match=">= 0"):
        TravelTimes.from_graph(G)


# -- cache ----------------------------------------------------------------------------------


def test_cache_gives_the_same_answer_and_counts_hits(city):
    travel = TravelTimes.from_graph(city.G)
    origins = np.arange(36, dtype=np.int64)
    first = travel.times_to(origins, 7)
    assert (travel.hits, travel.misses) == (0, 1)
    second = travel.times_to(origins, 7)
    assert (travel.hits, travel.misses) == (1, 1)
    np.testing.assert_array_equal(first, second)
    travel.times_to(origins, 8)
    assert (travel.hits, travel.misses) == (1, 2)


def test_an_evicted_row_is_recomputed_identically(city):
    travel = TravelTimes.from_graph(city.G, cache_mb=1e-9)  # room for one row only
    origins = np.arange(36, dtype=np.int64)
    first = travel.times_to(origins, 3)
    travel.times_to(origins, 4)  # evicts 3
    again = travel.times_to(origins, 3)
    assert travel.misses == 3 and travel.hits == 0
    np.testing.assert_array_equal(first, again)


def test_pinned_rows_survive_eviction_and_a_pickle(city):
    import pickle

    travel = TravelTimes.from_graph(city.G, cache_mb=1e-9)  # room for one row only
    cold = TravelTimes.from_graph(city.G)
    origins = np.arange(36, dtype=np.int64)
    travel.times_to(origins, 3)  # in the cache first: pinning moves it
    travel.warm([3, 9], pin=True)
    misses = travel.misses
    for destination in (4, 5, 6):  # each evicts the last unpinned row
        travel.times_to(origins, destination)
    for destination in (3, 9):
        np.testing.assert_array_equal(
            travel.times_to(origins, destination), cold.times_to(origins, destination)
        )
    assert travel.misses == misses + 3  # 3 and 9 came from the pinned rows
    clone = pickle.loads(pickle.dumps(travel))
    clone.times_to(origins, 3)
    clone.times_to(origins, 4)
    clone.times_to(origins, 5)
    before = clone.misses
    clone.times_to(origins, 3)  # computed again after the pickle, and pinned again
    assert clone.misses == before


def test_returned_rows_do_not_alias_the_cache(city):
    travel = TravelTimes.from_graph(city.G)
    origins = np.arange(36, dtype=np.int64)
    travel.times_to(origins, 5)[:] = -1.0
    assert (travel.times_to(origins, 5) >= 0).all()


def test_warm_gives_identical_rows(city):
    cold = TravelTimes.from_graph(city.G)
    warm = TravelTimes.from_graph(city.G)
    warm.warm(range(36))
    misses_after_warm = warm.misses
    origins = np.arange(36, dtype=np.int64)
    for destination in range(36):
        np.testing.assert_array_equal(
            warm.times_to(origins, destination), cold.times_to(origins, destination)
        )
        warm_route, cold_route = warm.route(35, destination), cold.route(35, destination)
        np.testing.assert_array_equal(warm_route.places, cold_route.places)
        np.testing.assert_array_equal(warm_route.elapsed_s, cold_route.elapsed_s)
    assert warm.misses == misses_after_warm  # every row came from the cache
    assert warm.hits >= 36


def test_pickled_oracle_drops_its_cache(city):
    import pickle

    travel = TravelTimes.from_graph(city.G)
    travel.warm(range(10))
    clone = pickle.loads(pickle.dumps(travel))
    assert len(clone._cache) == 0
    origins = np.arange(36, dtype=np.int64)
    np.testing.assert_array_equal(clone.times_to(origins, 2), travel.times_to(origins, 2))


# -- straight line --------------------------------------------------------------------------


@given(
    a=st.tuples(st.floats(-60, 60), st.floats(-179, 179)),
    b=st.tuples(st.floats(-0.2, 0.2), st.floats(-0.2, 0.2)),
    speed_kph=st.floats(5, 120),
    circuity=st.floats(1.0, 2.0),
)
@settings(max_examples=100, deadline=None)
def test_straight_line_time_is_haversine_times_circuity_over_speed(a, b, speed_kph, circuity):
    travel = TravelTimes.straight_line(speed_kph=speed_kph, circuity=circuity, cutoff_s=1e12)
    lat2, lon2 = a[0] + b[0], a[1] + b[1]
    p, q = travel.snap(*a), travel.snap(lat2, lon2)
    expected = haversine_m(*a, lat2, lon2) * circuity / (speed_kph / 3.6)
    assert travel.time(p, q) == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_straight_line_cutoff_and_places():
    travel = TravelTimes.straight_line(speed_kph=36.0, circuity=1.0, cutoff_s=100.0)
    here = travel.snap(39.70, -105.0)
    assert travel.snap(39.70, -105.0) == here  # the same coordinate is the same place
    near = travel.snap(39.7005, -105.0)  # about 56 m: 5.6 s at 10 m/s
    far = travel.snap(39.71, -105.0)  # about 1.1 km: past the 100 s cut-off
    times = travel.times_to(np.array([here, near, far]), here)
    assert times[0] == 0.0
    assert times[1] == pytest.approx(haversine_m(39.7005, -105.0, 39.70, -105.0) / 10.0)
    assert times[2] == math.inf
    route = travel.route(near, here)
    assert route.places[0] == near and route.places[-1] == here
    assert route.duration_s == pytest.approx(times[1])


@pytest.mark.parametrize(("speed_kph", "circuity"), [(0.0, 1.3), (40.0, 0.9)])
def test_straight_line_rejects_bad_parameters(speed_kph, circuity):
    with pytest.raises(InputError):
        TravelTimes.straight_line(speed_kph=speed_kph, circuity=circuity)


def test_straight_line_rejects_swapped_coordinates():
    travel = TravelTimes.straight_line()
    with pytest.raises(InputError, match="swapped"):
        travel.snap(-105.0, 39.7)


# -- loaders --------------------------------------------------------------------------------


def test_graphml_roundtrip(tmp_path, city):
    path = tmp_path / "city.graphml"
    nx.write_graphml(city.G, path)
    travel = TravelTimes.from_graphml(path)
    assert travel.n_places == city.travel.n_places
    assert travel.n_edges == city.G.number_of_edges()
    # GraphML node ids come back as strings; map them to the original nodes.
    place_of = {int(node): i for i, node in enumerate(travel.node_ids)}
    for destination in (0, 17, 35):
        got = travel.times_to(
            np.array([place_of[u] for u in range(36)], dtype=np.int64), place_of[destination]
        )
        np.testing.assert_array_equal(
            got, city.travel.times_to(np.arange(36, dtype=np.int64), destination)
        )
    lats, lons = travel.coordinates([place_of[7]])
    assert (lats[0], lons[0]) == city.coords[7]


def test_graphml_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.graphml"
    with pytest.raises(InputError, match=r"missing\.graphml"):
        TravelTimes.from_graphml(missing)
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph>", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.graphml"):
        TravelTimes.from_graphml(broken)


def test_graph_without_coordinates_or_times_is_an_input_error():
    G = nx.DiGraph()
    G.add_node(0)
    with pytest.raises(InputError, match="coordinates"):
        TravelTimes.from_graph(G)
    G = nx.DiGraph()
    G.add_node(0, y=39.7, x=-105.0)
    G.add_node(1, y=39.7, x=-105.001)
    G.add_edge(0, 1)
    with pytest.raises(InputError, match="travel_time"):
        TravelTimes.from_graph(G)
    with pytest.raises(InputError, match="no nodes"):
        TravelTimes.from_graph(nx.DiGraph())


def write_csvs(tmp_path: Path, *, edges: str, nodes: str) -> tuple[Path, Path]:
    edge_path, node_path = tmp_path / "edges.csv", tmp_path / "nodes.csv"
    edge_path.write_text(edges, encoding="utf-8")
    node_path.write_text(nodes, encoding="utf-8")
    return edge_path, node_path


NODES_CSV = "node,lat,lon\na,39.700,-105.000\nb,39.701,-105.000\nc,39.702,-105.000\n"


def test_edge_csv_loads_times_from_length_and_speed(tmp_path):
    edges, nodes = write_csvs(
        tmp_path,
        edges="source,target,length_m,speed_kph\na,b,100,36\nb,c,50,18\nc,a,1000,36\n",
        nodes=NODES_CSV,
    )
    travel = TravelTimes.from_edge_csv(edges, nodes)
    assert travel.node_ids == ["a", "b", "c"]
    np.testing.assert_allclose(travel.times_to(np.arange(3), 2), [20.0, 10.0, 0.0])
    assert travel.time(2, 0) == pytest.approx(100.0)


def test_edge_csv_seconds_column(tmp_path):
    edges, nodes = write_csvs(tmp_path, edges="source,target,secs\na,b,7\nb,c,8\n", nodes=NODES_CSV)
    travel = TravelTimes.from_edge_csv(edges, nodes, seconds="secs")
    assert travel.time(0, 2) == 15.0
    assert travel.time(2, 0) == math.inf


def test_edge_csv_unknown_node_names_file_row_and_column(tmp_path):
    edges, nodes = write_csvs(
        tmp_path,
        edges="source,target,length_m,speed_kph\na,b,100,36\nb,zz,50,18\n",
        nodes=NODES_CSV,
    )
    with pytest.raises(InputError, match="unknown node 'zz'") as error:
        TravelTimes.from_edge_csv(edges, nodes)
    assert str(edges) in str(error.value)
    assert "row 2" in str(error.value) and "'target'" in str(error.value)


@pytest.mark.parametrize("speed", ["0", "-5", "nan"])
def test_edge_csv_bad_speed_names_the_file(tmp_path, speed):
    edges, nodes = write_csvs(
        tmp_path,
        edges=f"source,target,length_m,speed_kph\na,b,100,36\nb,c,50,{speed}\n",
        nodes=NODES_CSV,
    )
    with pytest.raises(InputError, match="speed must be > 0") as error:
        TravelTimes.from_edge_csv(edges, nodes)
    assert str(edges) in str(error.value) and "row 2" in str(error.value)


def test_edge_csv_missing_column_names_the_file(tmp_path):
    edges, nodes = write_csvs(tmp_path, edges="source,target,length_m\na,b,100\n", nodes=NODES_CSV)
    with pytest.raises(InputError, match="missing column") as error:
        TravelTimes.from_edge_csv(edges, nodes)
    assert str(edges) in str(error.value) and "speed_kph" in str(error.value)
    edges, nodes = write_csvs(
        tmp_path,
        edges="source,target,length_m,speed_kph\na,b,100,36\n",
        nodes="node,latitude,lon\na,39.7,-105\n",
    )
    with pytest.raises(InputError, match="missing column") as error:
        TravelTimes.from_edge_csv(edges, nodes)
    assert str(nodes) in str(error.value) and "lat" in str(error.value)


def test_edge_csv_missing_file_and_duplicate_nodes(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        TravelTimes.from_edge_csv(tmp_path / "no-edges.csv", tmp_path / "no-nodes.csv")
    edges, nodes = write_csvs(
        tmp_path,
        edges="source,target,length_m,speed_kph\na,b,100,36\n",
        nodes="node,lat,lon\na,39.7,-105\na,39.8,-105\nb,39.7,-105.1\n",
    )
    with pytest.raises(InputError, match="not unique") as error:
        TravelTimes.from_edge_csv(edges, nodes)
    assert str(nodes) in str(error.value)


def test_denver_network_loads(denver):
    assert denver.n_places == 482
    assert denver.n_edges == 1342
    # Downtown Denver (16th Street Mall) snaps; the whole network is a few minutes across.
    place = denver.snap(39.7475, -104.9950)
    times = denver.times_to(np.arange(482, dtype=np.int64), place)
    finite = times[np.isfinite(times)]
    assert len(finite) > 400
    assert 60.0 < finite.max() < 1800.0


# -- synthetic road grid ---------------------------------------------------------------------


def test_road_grid_shape_and_spacing():
    grid = road_grid(3, 4, spacing_m=200.0, jitter=0.0, arterial_every=0, oneway_every=0)
    assert grid.n_places == 12
    assert grid.n_edges == 2 * (3 * 3 + 4 * 2)
    lats, lons = grid.coordinates([0, 1, 4])
    assert haversine_m(lats[0], lons[0], lats[1], lons[1]) == pytest.approx(200.0, rel=1e-3)
    assert haversine_m(lats[0], lons[0], lats[2], lons[2]) == pytest.approx(200.0, rel=1e-6)
    assert np.mean(grid.lats) == pytest.approx(39.70)
    assert np.mean(grid.lons) == pytest.approx(-105.05)
    assert grid.time(0, 1) == pytest.approx(200.0 / (40.0 / 3.6))


def test_road_grid_arterials_are_faster_and_jitter_is_seeded():
    plain = dict(jitter=0.0, oneway_every=0, arterial_every=3, arterial_speed_kph=60.0)
    grid = road_grid(5, 5, **plain)
    assert grid.time(0, 1) == pytest.approx(150.0 / (60.0 / 3.6))  # row 0 is an arterial
    assert grid.time(5, 6) == pytest.approx(150.0 / (40.0 / 3.6))  # row 1 is not
    origins = np.arange(100, dtype=np.int64)
    a = road_grid(10, 10, seed=3).times_to(origins, 55)
    b = road_grid(10, 10, seed=3).times_to(origins, 55)
    c = road_grid(10, 10, seed=4).times_to(origins, 55)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    jittered = road_grid(10, 10, jitter=0.2, seed=5, oneway_every=0)
    base = 150.0 / (40.0 / 3.6)
    step = jittered.time(11, 12)  # row 1, an ordinary two-way street
    assert base / 1.2 <= step <= base / 0.8


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (1, 7), (3, 3), (6, 9), (13, 11)])
def test_road_grid_is_strongly_connected_with_one_way_streets(rows, cols):
    grid = road_grid(rows, cols, seed=rows * cols, cutoff_s=1e9)
    n = rows * cols
    origins = np.arange(n, dtype=np.int64)
    for destination in range(n):
        assert np.isfinite(grid.times_to(origins, destination)).all()


def test_road_grid_has_one_way_streets():
    grid = road_grid(6, 6, jitter=0.0, arterial_every=0, oneway_every=5)
    # Row 2 and column 2 are one-way: 6 fewer segments each than a two-way grid.
    assert grid.n_edges == 2 * (6 * 5 + 6 * 5) - 2 * 5
    block_s = 150.0 / (40.0 / 3.6)
    # Row 2 runs east only, column 2 north only: going against them takes a detour.
    assert grid.time(12, 13) == pytest.approx(block_s)
    assert grid.time(13, 12) == pytest.approx(3 * block_s)
    assert grid.time(2, 8) == pytest.approx(block_s)
    assert grid.time(8, 2) == pytest.approx(3 * block_s)


def test_road_grid_matches_networkx_on_its_own_edges():
    grid = road_grid(7, 8, seed=11, cutoff_s=1e9)
    G = nx.DiGraph()
    coo = grid._forward.tocoo()
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True), weight=WEIGHT
    )
    origins = np.arange(56, dtype=np.int64)
    for destination in (0, 27, 55):
        expected = reference_times(G, destination)
        np.testing.assert_allclose(
            grid.times_to(origins, destination), [expected[u] for u in range(56)], rtol=1e-12
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rows": 0, "cols": 3},
        {"rows": 3, "cols": 3, "spacing_m": 0.0},
        {"rows": 3, "cols": 3, "speed_kph": -1.0},
        {"rows": 3, "cols": 3, "jitter": 1.0},
        {"rows": 3, "cols": 3, "arterial_every": -1},
        {"rows": 3, "cols": 3, "origin": (-105.0, 39.7)},
    ],
)
def test_road_grid_rejects_bad_parameters(kwargs):
    with pytest.raises(InputError):
        road_grid(**kwargs)


def test_road_grid_oracle_takes_oracle_options():
    grid = road_grid(4, 4, cutoff_s=30.0, max_snap_m=50.0)
    assert isinstance(grid, RoadNetworkTimes)
    assert grid.cutoff_s == 30.0 and grid.max_snap_m == 50.0
    assert math.isinf(grid.time(0, 15))


_COORDS = st.sampled_from([0.0, -0.0, 38.6, 38.61, 38.6, -90.0, 90.0, 91.0, math.nan, math.inf])


@given(points=st.lists(st.tuples(_COORDS, _COORDS), max_size=30))
@settings(max_examples=200, deadline=None)
def test_straight_line_snap_many_numbers_places_as_one_by_one_snapping(points):
    # Whole columns, checked at once: the same place numbers, in the same first-appearance
    # order, and the same first bad coordinate, as one call per row.
    from dispatch.model import check_coordinate
    from dispatch.travel import StraightLineTimes

    def oracle() -> StraightLineTimes:
        return StraightLineTimes(speed_kph=40.0, circuity=1.3)

    one_by_one, many = oracle(), oracle()
    expected: list[int] | str = []
    try:  # each row checked by the scalar rule itself, then snapped alone
        for la, lo in points:
            check_coordinate(la, lo)
            expected.append(one_by_one.snap(la, lo))
    except InputError as error:
        expected = str(error)
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    try:
        got: list[int] | str = many.snap_many(lats, lons).tolist()
    except InputError as error:
        got = str(error)
    assert got == expected
    if isinstance(expected, list):
        assert many.n_places == one_by_one.n_places
        assert many.coordinates(np.arange(many.n_places))[0].tolist() == (
            one_by_one.coordinates(np.arange(one_by_one.n_places))[0].tolist()
        )


@settings(max_examples=50, deadline=None)
@given(
    st.floats(38.5, 38.8),
    st.floats(-90.4, -90.1),
    st.floats(38.5, 38.8),
    st.floats(-90.4, -90.1),
    st.lists(st.floats(-10.0, 3000.0), min_size=1, max_size=12),
)
def test_a_straight_leg_passes_the_places_of_its_route(lat0, lon0, lat1, lon1, asked):
    # A leg numbers its inner places only when asked about them; where it is at each moment,
    # and those places' coordinates, are the eager route's.
    lazy = TravelTimes.straight_line(cutoff_s=1e9)
    eager = TravelTimes.straight_line(cutoff_s=1e9)
    ends = lazy.snap_many([lat0, lat1], [lon0, lon1]).tolist()
    assert eager.snap_many([lat0, lat1], [lon0, lon1]).tolist() == ends
    known = lazy.n_places
    leg = lazy.leg(ends[0], ends[1])
    route = eager.route(ends[0], ends[1])
    assert leg.elapsed == route.elapsed_s.tolist() and leg.duration_s == route.duration_s
    for elapsed in asked:
        got, want = leg.place_at(elapsed), route.place_at(elapsed)
        (got_lat, got_lon), (want_lat, want_lon) = lazy.coordinates(got), eager.coordinates(want)
        assert (float(got_lat), float(got_lon)) == (float(want_lat), float(want_lon))
    reached = {int(np.searchsorted(route.elapsed_s, e, side="right")) - 1 for e in asked}
    inner = {k for k in reached if 0 < k < 9}
    assert lazy.n_places <= known + len(inner)  # no place numbered that nobody asked about
