"""The post plan's maps: the posts against today's sites, the calls reached within a travel time
before and after by area, and the replay's change; figures checked on three clusters of calls."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from postshelpers import CLUSTERS, SCENARIO, write_city

import dispatch
from dispatch.cli import main
from dispatch.maps import NO_DATA
from dispatch.plan.posts import aggregate_demand, area_reach, plan_posts, read_candidates

MAP = """
[map]
areas = "areas.geojson"
area_property = "name"
attribution = "Boxes drawn for the test"
"""

PNGS = (
    "map_posts.png",
    "map_posts_reach.png",
    "map_posts_replay.png",
    "posts_reached.png",
    "posts_response.png",
)


def box(lat: float, lon: float, half_lat: float, half_lon: float) -> list[list[float]]:
    return [
        [lon - half_lon, lat - half_lat],
        [lon + half_lon, lat - half_lat],
        [lon + half_lon, lat + half_lat],
        [lon - half_lon, lat + half_lat],
        [lon - half_lon, lat - half_lat],
    ]


def write_areas(path: Path) -> None:
    """A box around each cluster, and one to the west where no call is."""
    boxes = {name: box(lat, lon, 0.025, 0.03) for name, (lat, lon) in CLUSTERS.items()}
    boxes["Empty West"] = box(38.63, -90.34, 0.02, 0.02)
    features = [
        {
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for name, ring in boxes.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_city(tmp_path, extra_toml=MAP)
    (tmp_path / "plain.toml").write_text(SCENARIO, encoding="utf-8")
    write_areas(tmp_path / "areas.geojson")
    return tmp_path


def travel_min(lat: float, lon: float, site: tuple[float, float]) -> float:
    """Straight-line minutes at 40 km/h with circuity 1.3, computed here from the haversine."""
    p1, p2 = math.radians(lat), math.radians(site[0])
    dphi, dlmb = p2 - p1, math.radians(site[1] - lon)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    km = 2 * 6371.0088 * math.asin(math.sqrt(a))
    return km * 1.3 / 40.0 * 60.0


def not_blank(path: Path) -> tuple[float, float]:
    """Share of pixels that are not the white background, and the pixel standard deviation."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(path)[..., :3]
    return float(np.any(pixels < 0.94, axis=-1).mean()), float(pixels.std())


def pixels_of(path: Path, colour: str) -> int:
    """Pixels within a small distance of ``colour`` (a dot drawn half transparent on white is
    lighter, so the opaque stars and the densest dots count)."""
    import matplotlib.image as mpimg
    from matplotlib.colors import to_rgb

    pixels = mpimg.imread(path)[..., :3]
    return int((np.abs(pixels - np.array(to_rgb(colour))).max(axis=-1) < 0.08).sum())


def area_rows(page: str) -> dict[str, list[str]]:
    table = page.split("<h2>Calls within")[1]
    rows = re.findall(r"<tr><td>([^<]+)</td>((?:<td>[^<]*</td>){4})</tr>", table)
    return {name: re.findall(r"<td>([^<]*)</td>", rest) for name, rest in rows}


def test_the_plans_maps_show_the_calls_reached_before_and_after_by_area(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = folder / "plan"
    code = main(
        [
            "plan", "posts", str(folder / "scenario.toml"),
            "--candidates", str(folder / "candidates.csv"),
            "--k", "3", "--cover-min", "5", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    page = (out / "posts.html").read_text(encoding="utf-8")
    inline = {
        base64.b64decode(data)
        for data in re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    }
    for name in PNGS:
        path = out / "figures" / name
        assert path.read_bytes() in inline, name  # the page embeds the file written beside it
        ink, spread = not_blank(path)
        assert ink > 0.03 and spread > 0.05, name
    # Each post's calls in its own colour (Okabe-Ito blue, vermillion, green), not one grey.
    for colour in ("#0072B2", "#D55E00", "#009E73"):
        assert pixels_of(out / "figures" / "map_posts.png", colour) > 30, colour
    assert "Boxes drawn for the test" in page

    # The figures, against minutes computed here: 5 min of travel reaches the middle cluster
    # from hq (about 1 km away) and neither outer one (9 and 7 km away); the plan has a post
    # at each cluster.
    calls = pd.read_csv(folder / "calls.csv").merge(pd.read_csv(folder / "clusters.csv"))
    hq = (38.6332, -90.2164)
    minutes = [travel_min(a, b, hq) for a, b in zip(calls["lat"], calls["lon"], strict=True)]
    calls["today"] = np.array(minutes) <= 5.0
    assert calls.groupby("cluster")["today"].all().to_dict() == {
        "Middle": True,
        "North": False,
        "South": False,
    }
    summary = json.loads((out / "siting.json").read_text())
    assert sorted(summary["posts"]) == ["hq", "north", "south"]
    assert summary["reached_within_min"] == 5.0
    assert summary["reached_today"] == pytest.approx(calls["today"].mean())
    assert summary["reached_plan"] == pytest.approx(1.0)
    rows = area_rows(page)
    count = calls["cluster"].value_counts()
    assert rows["Middle"] == [f"{count['Middle']}", "100 %", "100 %", "+0"]
    assert rows["North"] == [f"{count['North']}", "0 %", "100 %", "+100"]
    assert rows["South"] == [f"{count['South']}", "0 %", "100 %", "+100"]
    # No call in the west box: no data, never 0 %.
    assert rows["Empty West"] == ["0", NO_DATA, NO_DATA, NO_DATA]
    # The largest gain first, the area without data last.
    assert list(rows) == ["North", "South", "Middle", "Empty West"]


def test_without_areas_the_maps_use_hexagonal_cells_and_add_up(folder: Path) -> None:
    scenario = dispatch.load_scenario(folder / "plain.toml")
    plan = plan_posts(scenario, read_candidates(folder / "candidates.csv"), 3)
    from dispatch.plan.posts_report import posts_maps, write_posts_report

    maps = posts_maps(plan, scenario, 5.0)
    assert maps.ctx.areas.kind == "hexagons"
    reach = maps.reach
    # Every call is in a cell, and the cells' calls and calls reached add up to the plan's.
    assert reach.calls.sum() == pytest.approx(240.0)
    data = reach.calls >= reach.min_calls
    assert np.array_equal(np.isfinite(reach.today), data)
    assert np.array_equal(np.isfinite(reach.plan), data)
    assert np.all(reach.plan[data] == 1.0)
    page = write_posts_report(
        plan, None, folder / "out", scenario=scenario, title="t", command="c", within_min=5.0
    )
    assert (folder / "out" / "figures" / "map_posts_reach.png").is_file()
    assert not (folder / "out" / "figures" / "map_posts_replay.png").exists()  # no replay
    assert "Calls within 5.0 min of travel of the nearest site" in page.read_text()
    # One post by maximal covering leaves two clusters beyond 3 min: their cells at 0 %.
    one = plan_posts(scenario, read_candidates(folder / "candidates.csv"), 1, objective="mclp",
                     cover_min=3.0)  # fmt: skip
    write_posts_report(
        one, None, folder / "one", scenario=scenario, title="t", command="c", within_min=3.0
    )
    reach = posts_maps(one, scenario, 3.0).reach
    data = reach.calls >= reach.min_calls
    assert set(reach.plan[data].tolist()) == {0.0, 1.0}
    ink, spread = not_blank(folder / "one" / "figures" / "map_posts.png")
    assert ink > 0.03 and spread > 0.05


def test_each_call_points_to_the_demand_point_of_its_cell(folder: Path) -> None:
    scenario = dispatch.load_scenario(folder / "plain.toml")
    for cell_m in (0.0, 500.0, 2000.0):
        demand = aggregate_demand(scenario, cell_m=cell_m)
        assert len(demand.source_point) == 240
        # The calls pooled into each point are its weight ...
        pooled = np.bincount(demand.source_point, weights=demand.source_weight)
        assert np.allclose(pooled, demand.weight)
        # ... and each lies within a cell's diagonal of it (at its own place without pooling).
        lat, lon = demand.lat[demand.source_point], demand.lon[demand.source_point]
        dy = (demand.source_lat - lat) * 111_195.0
        dx = (demand.source_lon - lon) * 111_195.0 * math.cos(math.radians(38.63))
        assert np.all(np.hypot(dx, dy) <= max(cell_m, 1.0) * math.sqrt(2) + 1.0)


def test_area_reach_leaves_out_calls_in_no_area_and_small_areas(folder: Path) -> None:
    scenario = dispatch.load_scenario(folder / "plain.toml")
    plan = plan_posts(scenario, read_candidates(folder / "candidates.csv"), 3, cell_m=0)
    cluster = pd.read_csv(folder / "clusters.csv")["cluster"].to_numpy()
    # Area 0 holds the middle cluster, area 1 the first five north calls; the rest in none.
    area = np.full(240, -1)
    area[cluster == "Middle"] = 0
    area[np.flatnonzero(cluster == "North")[:5]] = 1
    reach = area_reach(plan, area, 3, 300.0, min_calls=10)
    assert reach.calls.tolist() == [float((cluster == "Middle").sum()), 5.0, 0.0]
    assert reach.today[0] == 1.0 and reach.plan[0] == 1.0
    assert np.isnan(reach.today[1:]).all() and np.isnan(reach.plan[1:]).all()
    # With a lower minimum the five north calls have figures: unreached today, reached after.
    small = area_reach(plan, area, 3, 300.0, min_calls=1)
    assert (small.today[1], small.plan[1], small.change[1]) == (0.0, 1.0, 1.0)


def test_a_bad_areas_file_fails_before_the_solve_naming_it(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "areas.geojson").write_text("{not json", encoding="utf-8")
    code = main(
        [
            "plan", "posts", str(folder / "scenario.toml"),
            "--candidates", str(folder / "candidates.csv"), "--k", "2",
            "--out", str(folder / "plan"),
        ]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "areas.geojson" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (folder / "plan" / "posts_scenario.toml").exists()


def test_an_area_without_calls_is_drawn_as_no_data_on_the_reach_map(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.colors import to_rgba

    import dispatch.plan.posts_report as page
    from dispatch.maps import NO_DATA_FACE

    scenario = dispatch.load_scenario(folder / "scenario.toml")
    plan = plan_posts(scenario, read_candidates(folder / "candidates.csv"), 3)
    maps = page.posts_maps(plan, scenario, 5.0)
    empty = maps.ctx.areas.names.index("Empty West")
    assert maps.reach.calls[empty] == 0.0 and np.isnan(maps.reach.change[empty])
    seen: list[list[tuple[np.ndarray, str | None]]] = []
    real = page.save_png

    def keep(fig: Any, path: Path) -> Path:
        for ax in fig.axes[:3]:
            seen.append([(np.asarray(c.get_facecolor()), c.get_hatch()) for c in ax.collections])
        return real(fig, path)

    monkeypatch.setattr(page, "save_png", keep)
    page.figure_reach_map(maps, plan, folder / "reach.png")
    grey = np.array(to_rgba(NO_DATA_FACE))
    # Each of the three panels: the three boxes with calls in colour, the empty one in its own
    # grey hatched layer, never in the scale's colour for 0 % (or for no change).
    assert len(seen) == 3
    for (faces, hatch), (no_data, no_data_hatch) in (layers[:2] for layers in seen):
        assert len(faces) == 3 and hatch is None
        assert not np.any(np.all(np.isclose(faces, grey), axis=1))
        assert len(no_data) == 1 and no_data_hatch == "////"
        assert np.allclose(no_data[0], grey)
