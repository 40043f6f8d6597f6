"""Maps in `dispatch report`: binning, "no data", the figures of a St. Louis replay and a sweep."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dispatch
from dispatch.cli import main
from dispatch.errors import InputError
from dispatch.maps import (
    NO_DATA,
    NO_DATA_FACE,
    Areas,
    HexGrid,
    area_figures,
    call_locations,
    hex_areas,
    reach_seconds,
)
from dispatch.report import write_report
from dispatch.sweep import plan_sweep, run_sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
MAPS = {
    "map_response.png",
    "map_specialist_share.png",
    "map_no_specialist.png",
    "map_sites.png",
}

CITY = """
name = "map city"
seed = 3
replications = 2
timezone = "America/Chicago"

[network]
kind = "straight_line"

[calls.synthetic]
calls_per_day = 30
days = 7
locations = [[38.63, -90.20, 1.0], [38.60, -90.26, 1.0], [38.66, -90.24, 0.02]]
risk_mix = { low = 0.5, standard = 0.5 }

[service]
transport_share = 0

[map]
hex_size_km = 1.0
min_calls = 5

[shifts.day]
start = "09:00"
hours = 8

[[stations]]
id = "hq"
lat = 38.6332
lon = -90.2164

[[teams]]
id = "D"
count = 1
kind = "co_responder"
cit = true
station = "hq"
shift = "day"
"""


def not_blank(path: Path) -> tuple[float, float]:
    """Share of pixels that are not the white background, and the pixel standard deviation."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(path)[..., :3]
    ink = np.any(pixels < 0.94, axis=-1).mean()
    return float(ink), float(pixels.std())


# -- hexagonal cells ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    lat0=st.floats(-60, 60),
    size_m=st.floats(50, 5000),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_place_lies_in_exactly_one_cell(lat0: float, size_m: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lats = lat0 + rng.uniform(-0.2, 0.2, 300)
    lons = -90.0 + rng.uniform(-0.2, 0.2, 300)
    grid = HexGrid(size_m=size_m, lat0=lat0)
    q, r = grid.cells(lats, lons)
    x, y = grid.project(lats, lons)
    cx, cy = grid.centre(q, r)
    own = np.hypot(x - cx, y - cy)
    # Inside its hexagon: no farther from the centre than a corner ...
    assert (own <= size_m * (1 + 1e-9)).all()
    # ... and no nearer to any neighbour's centre (a hexagon is its centre's Voronoi cell),
    # so no second cell holds the place.
    for dq, dr in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)):
        nx_, ny_ = grid.centre(q + dq, r + dr)
        assert (own <= np.hypot(x - nx_, y - ny_) + 1e-6 * size_m).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size_km=st.floats(0.2, 3.0))
def test_hex_areas_hold_every_place_and_only_cells_with_places(seed: int, size_km: float) -> None:
    rng = np.random.default_rng(seed)
    lats = 38.6 + rng.normal(0, 0.03, 200)
    lons = -90.2 + rng.normal(0, 0.03, 200)
    areas = hex_areas(lats, lons, size_km)
    found = areas.locate(lats, lons)
    assert (found >= 0).all()
    assert set(found.tolist()) == set(range(len(areas)))
    for k in range(len(areas)):
        (ring,) = areas.rings[k]
        assert ring.shape == (7, 2) and np.allclose(ring[0], ring[-1])


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(0, 40), min_size=1, max_size=8),
    replications=st.integers(1, 4),
    min_calls=st.floats(1, 12),
)
def test_an_area_gets_a_figure_only_from_the_minimum_count(
    counts: list[int], replications: int, min_calls: float
) -> None:
    area = np.repeat(np.arange(len(counts)), counts)
    figures = area_figures(
        area,
        np.full(len(area), 600.0),
        np.ones(len(area), dtype=bool),
        n_areas=len(counts),
        replications=replications,
        target_min=20.0,
        min_calls=min_calls,
    )
    per_rep = np.asarray(counts, dtype=float) / replications
    assert np.array_equal(figures.calls, per_rep)
    enough = per_rep >= min_calls
    for values in (figures.median_response_min, figures.p90_response_min):
        assert np.array_equal(np.isfinite(values), enough)
        assert np.allclose(values[enough], 10.0)
    assert np.array_equal(np.isfinite(figures.specialist_share), enough)


def test_an_area_with_no_calls_is_no_data_not_zero() -> None:
    # Area 0: 12 calls, 4 in time by a specialist; area 1: none; area 2: 3 (below 10).
    area = np.array([0] * 12 + [2] * 3)
    response = np.array([300.0] * 4 + [1800.0] * 6 + [np.nan] * 2 + [300.0] * 3)
    specialist = np.array([True] * 4 + [False] * 8 + [True] * 3)
    figures = area_figures(
        area, response, specialist, n_areas=3, replications=1, target_min=20.0, min_calls=10
    )
    assert figures.calls.tolist() == [12.0, 0.0, 3.0]
    assert figures.specialist_share[0] == pytest.approx(4 / 12)
    # the median of the ten answered calls; the two nobody reached do not count as times
    assert figures.median_response_min[0] == pytest.approx(30.0)
    for values in (
        figures.median_response_min,
        figures.p90_response_min,
        figures.specialist_share,
    ):
        assert math.isnan(values[1]) and math.isnan(values[2])
    assert figures.has_data.tolist() == [True, False, False]


def test_no_data_is_drawn_grey_and_hatched_and_named_in_the_legend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dispatch.maps as maps

    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float) * 0.01
    corner = np.array([[-90.2, 38.6]])
    areas = Areas(("A", "B"), ((square + corner,), (square + corner + [[0.01, 0.0]],)))
    figures = area_figures(
        [0] * 20, [600.0] * 20, [True] * 20, n_areas=2, replications=1, target_min=20.0
    )
    ctx = maps.MapContext(areas=areas, extent=(-90.205, 38.595, -90.175, 38.615))
    seen: dict[str, Any] = {}
    real_save = maps.save_map

    def keep(fig: Any, path: Path) -> Path:
        ax = fig.axes[0]
        seen["legend"] = [t.get_text() for t in ax.get_legend().get_texts()]
        seen["faces"] = [c.get_facecolor()[0].tolist() for c in ax.collections]
        seen["hatches"] = [c.get_hatch() for c in ax.collections]
        return real_save(fig, path)

    monkeypatch.setattr(maps, "save_map", keep)
    maps.figure_share(ctx, figures, 20.0, "share", tmp_path / "share.png")
    assert any(text.startswith(NO_DATA) for text in seen["legend"])
    from matplotlib.colors import to_rgba

    # B (no calls) is its own grey hatched layer, not the colour scale's zero.
    assert seen["faces"][1] == pytest.approx(list(to_rgba(NO_DATA_FACE)))
    assert seen["hatches"] == [None, "////"]
    import matplotlib.pyplot as plt

    zero = list(plt.get_cmap("cividis")(0.0))
    assert seen["faces"][1] != pytest.approx(zero)


# -- the report --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stlouis_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One replication of the St. Louis CRU baseline and its report."""
    out = tmp_path_factory.mktemp("stl") / "out"
    scenario = dispatch.load_scenario(SCENARIOS / "stlouis_cru.toml", overrides={"replications": 1})
    dispatch.simulate(scenario).write(out)
    return write_report(out)


def test_the_st_louis_report_has_its_maps_inline_and_beside_it(stlouis_report: Path) -> None:
    page = stlouis_report.read_text(encoding="utf-8")
    figures = stlouis_report.parent / "figures"
    drawn = {p.name for p in figures.glob("map_*.png")}
    assert drawn == MAPS
    embedded = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    import base64

    inline = {base64.b64decode(data) for data in embedded}
    for name in MAPS:
        assert (figures / name).read_bytes() in inline
        ink, spread = not_blank(figures / name)
        assert ink > 0.15 and spread > 0.05, name
    assert "<script" not in page.lower() and "https://" not in page


def test_the_neighbourhoods_carry_their_figures_and_empty_ones_say_no_data(
    stlouis_report: Path,
) -> None:
    page = stlouis_report.read_text(encoding="utf-8")
    rows = dict(
        re.findall(r"<tr><td>([^<]+)</td>((?:<td>[^<]*</td>){4})</tr>", page.replace("&#x27;", "'"))
    )
    assert len(rows) == 88  # every outline of the GeoJSON
    cells = {name: re.findall(r"<td>([^<]*)</td>", rest) for name, rest in rows.items()}
    # O'Fallon Park has no residents, so the synthetic log has no call there.
    assert cells["O'Fallon Park"] == ["0.0", NO_DATA, NO_DATA, NO_DATA]
    busy = cells["Dutchtown"]
    assert float(busy[0]) >= 10 and float(busy[1]) > 0 and busy[3].endswith("%")
    with_figures = [c for c in cells.values() if c[1] != NO_DATA]
    assert len(with_figures) > 60


def test_call_locations_come_from_the_log_or_the_replays_own_draws(tmp_path: Path) -> None:
    import pandas as pd

    scenario = dispatch.load_scenario(SCENARIOS / "stlouis_cru.toml", overrides={"replications": 1})
    calls = pd.DataFrame({"call_id": ["STL25-00002", "nope"], "replication": [0, 0]})
    lat, lon = call_locations(scenario, calls)
    log = scenario.calls
    assert isinstance(log, pd.DataFrame)
    row = log[log["call_id"] == "STL25-00002"].iloc[0]
    assert (lat[0], lon[0]) == (row["lat"], row["lon"]) and math.isnan(lat[1])

    path = tmp_path / "city.toml"
    path.write_text(CITY, encoding="utf-8")
    city = dispatch.load_scenario(path)
    result = dispatch.simulate(city)
    lat, lon = call_locations(city, result.calls)
    places = {(38.63, -90.20), (38.60, -90.26), (38.66, -90.24)}
    assert set(zip(lat.tolist(), lon.tolist(), strict=True)) <= places
    assert np.isfinite(lat).all()


def test_a_sweep_maps_the_answer_against_the_baseline(tmp_path: Path) -> None:
    path = tmp_path / "city.toml"
    path.write_text(CITY, encoding="utf-8")
    kept = tmp_path / "kept"
    run_sweep(
        plan_sweep(
            path, {"teams.D.count": [1, 2, 3]}, replications=2, target_share=0.2, keep_calls=True
        ),
        kept,
    )
    page = write_report(kept).read_text(encoding="utf-8")
    drawn = {p.name for p in (kept / "figures").glob("map_*.png")}
    assert drawn == MAPS | {"map_difference.png"}
    ink, spread = not_blank(kept / "figures" / "map_difference.png")
    assert ink > 0.05 and spread > 0.05  # three cells of the small city, colour bars and text
    assert "minus #0 (1)" in page
    # another pair on request, and a clear error for a variant that does not exist
    assert main(["report", str(kept), "--compare", "2,1", "--out", str(tmp_path / "b.html")]) == 0
    assert "#1 (2) minus #2 (3)" in (tmp_path / "b.html").read_text(encoding="utf-8")
    assert main(["report", str(kept), "--compare", "0,9"]) == 2

    # Without its calls a sweep has no maps, and the page says how to get them.
    bare = tmp_path / "bare"
    run_sweep(plan_sweep(path, {"teams.D.count": [1, 2]}, replications=2), bare)
    page = write_report(bare).read_text(encoding="utf-8")
    assert not list((bare / "figures").glob("map_*.png"))
    assert "--calls" in page


def test_maps_can_be_asked_for_or_turned_off(tmp_path: Path) -> None:
    plain = CITY.split("[map]")[0] + CITY.split("min_calls = 5\n")[1]
    path = tmp_path / "plain.toml"
    path.write_text(plain, encoding="utf-8")
    out = tmp_path / "out"
    dispatch.simulate(dispatch.load_scenario(path)).write(out)
    page = write_report(out).read_text(encoding="utf-8")
    assert not list((out / "figures").glob("map_*.png"))
    assert "no [map] table" in page
    write_report(out, maps=True)
    assert {p.name for p in (out / "figures").glob("map_*.png")} == MAPS
    page = write_report(out, out=tmp_path / "none" / "r.html", maps=False)
    assert not list((tmp_path / "none" / "figures").glob("map_*.png"))
    assert "no [map] table" not in page.read_text(encoding="utf-8")


# -- road network reach ------------------------------------------------------------------------
def test_a_stations_reach_is_the_networks_own_shortest_times() -> None:
    import networkx as nx

    rng = np.random.default_rng(4)
    G = nx.DiGraph()
    for k in range(60):
        G.add_node(k, y=39.74 + rng.uniform(0, 0.02), x=-104.99 + rng.uniform(0, 0.02))
    for _ in range(240):
        a, b = (int(v) for v in rng.integers(0, 60, 2))
        if a != b:
            G.add_edge(a, b, travel_time=float(rng.uniform(10, 200)))
    travel = dispatch.TravelTimes.from_graph(G)
    reference = nx.single_source_dijkstra_path_length(G, 0, cutoff=400, weight="travel_time")
    seconds = reach_seconds(travel, travel.node_ids.index(0), 400)
    for k, node in enumerate(travel.node_ids):
        if node in reference:
            assert seconds[k] == pytest.approx(reference[node])
        else:
            assert not np.isfinite(seconds[k]) or seconds[k] > 400


def test_the_denver_maps_draw_the_network_and_what_the_station_reaches(tmp_path: Path) -> None:
    scenario = dispatch.load_scenario(
        SCENARIOS / "denver_downtown.toml", overrides={"replications": 1}
    )
    out = tmp_path / "denver"
    dispatch.simulate(scenario).write(out)
    page = write_report(out, maps=True).read_text(encoding="utf-8")
    assert "network edges each station reaches" in page
    ink, spread = not_blank(out / "figures" / "map_sites.png")
    assert ink > 0.1 and spread > 0.05


# -- the scenario file's [map] table -----------------------------------------------------------
def test_the_map_table_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "city.toml"
    path.write_text(CITY.replace("min_calls = 5", 'areas = "missing.geojson"'), encoding="utf-8")
    with pytest.raises(InputError, match=r"map\.areas"):
        dispatch.load_scenario(path)
    path.write_text(CITY.replace("min_calls = 5", "colour = 1"), encoding="utf-8")
    with pytest.raises(InputError, match=r"map\.colour: unknown key"):
        dispatch.load_scenario(path)
    bundled = dispatch.load_scenario(SCENARIOS / "stlouis_overnight.toml").map
    assert bundled is not None and bundled.areas is not None
    assert bundled.areas.name == "stl_neighborhoods.geojson"
    assert bundled.area_property == "neighborhood_name"


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([("label", "A")], "feature 1 has no property 'name'"),
        ([("name", "A"), ("name", "A")], "'A' appears twice"),
    ],
)
def test_a_bad_areas_file_is_one_line_naming_it_and_status_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    features: list[tuple[str, str]],
    message: str,
) -> None:
    import json

    square = [[-90.3, 38.5], [-90.1, 38.5], [-90.1, 38.7], [-90.3, 38.7], [-90.3, 38.5]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {key: value},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            }
            for key, value in features
        ],
    }
    (tmp_path / "areas.geojson").write_text(json.dumps(collection), encoding="utf-8")
    path = tmp_path / "city.toml"
    path.write_text(CITY.replace("min_calls = 5", 'areas = "areas.geojson"'), encoding="utf-8")
    out = tmp_path / "out"
    dispatch.simulate(dispatch.load_scenario(path)).write(out)
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "areas.geojson" in err and message in err
