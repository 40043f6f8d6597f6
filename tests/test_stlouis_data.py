"""The bundled St. Louis data set matches the real figures it is built from.

``data/stlouis/calls_2025.csv`` is synthetic; these tests check that it follows its sources:
the NYC EMS hourly psychiatric call profile, 2020 census population by neighbourhood, BHR's
estimate of about 7,000 behavioral-health calls a year and the 43-minute median time on scene.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.path import Path as MplPath
from scipy import stats

from dispatch import datasets
from dispatch.errors import InputError

STL = datasets.stlouis()
CALL_TYPES = {"mental_health", "welfare_check", "suicidal", "substance_use"}


@pytest.fixture(scope="module")
def calls() -> pd.DataFrame:
    from dispatch.calls import load_calls

    return load_calls(STL.calls, timezone=STL.timezone).frame


def _rings(geometry: dict[str, Any]) -> list[tuple[MplPath, list[MplPath]]]:
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    return [
        (MplPath(np.asarray(p[0])[:, :2]), [MplPath(np.asarray(h)[:, :2]) for h in p[1:]])
        for p in polygons
    ]


def _inside(geometry: dict[str, Any], xy: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(xy), dtype=bool)
    for exterior, holes in _rings(geometry):
        here = exterior.contains_points(xy)
        for hole in holes:
            here &= ~hole.contains_points(xy)
        mask |= here
    return mask


def _geojson(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _xy(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)])


def _local(frame: pd.DataFrame) -> pd.Series:
    local: pd.Series = frame["received_at"].dt.tz_convert(STL.timezone)
    return local


# --- the real inputs ---------------------------------------------------------------------------


def test_neighborhoods_and_wards_carry_the_2020_census_population() -> None:
    hoods = _geojson(STL.neighborhoods)["features"]
    wards = _geojson(STL.wards)["features"]
    assert len(hoods) == 89
    assert sum(f["properties"]["total_population"] for f in hoods) == 301_578
    assert len(wards) == 14
    assert sum(f["properties"]["TOT_POP"] for f in wards) == 301_578


def test_demand_profile_is_the_nyc_hour_of_day_shape_times_a_weekday_weighting() -> None:
    profile = datasets.read_demand_profile(STL.demand_profile)
    nyc = pd.read_csv(STL.nyc_hourly)
    assert profile["hour_of_week"].tolist() == list(range(168))
    assert math.isclose(profile["weight"].sum(), 1.0, abs_tol=1e-12)
    by_hour = profile["weight"].to_numpy().reshape(7, 24).sum(axis=0)
    share = nyc["psychiatric_calls_per_year"] / nyc["psychiatric_calls_per_year"].sum()
    np.testing.assert_allclose(by_hour, share, rtol=1e-6)
    by_day = profile["weight"].to_numpy().reshape(7, 24).sum(axis=1)
    assert by_day[:5].min() > by_day[5:].max(), "weekdays weigh more than the weekend"
    assert int(np.argmax(by_day)) in (1, 2, 3), "the peak is mid-week"


def test_nyc_hourly_counts_are_the_packaged_yearly_averages() -> None:
    nyc = pd.read_csv(STL.nyc_hourly)
    assert nyc["hour"].tolist() == list(range(24))
    assert nyc["psychiatric_calls_per_year"].sum() == pytest.approx(85_309.33, abs=0.01)
    per_hour = nyc["psychiatric_calls_per_year"].to_numpy(float)
    peak, trough = int(np.argmax(per_hour)), int(np.argmin(per_hour))
    assert 11 <= peak <= 16
    assert 3 <= trough <= 6


# --- the synthetic log follows them ------------------------------------------------------------


def test_yearly_volume_is_near_the_bhr_estimate(calls: pd.DataFrame) -> None:
    assert abs(len(calls) - 7000) <= 0.05 * 7000
    assert calls["call_id"].is_unique
    local = _local(calls)
    assert (local.dt.year == 2025).all()
    assert local.is_monotonic_increasing


def test_hour_of_day_profile_correlates_with_the_real_nyc_profile(calls: pd.DataFrame) -> None:
    counts = _local(calls).dt.hour.value_counts().reindex(range(24), fill_value=0)
    nyc = pd.read_csv(STL.nyc_hourly)["psychiatric_calls_per_year"]
    r = stats.pearsonr(counts.to_numpy(float), nyc.to_numpy(float)).statistic
    assert r > 0.9


def test_hour_of_week_counts_follow_the_profile(calls: pd.DataFrame) -> None:
    local = _local(calls)
    how = local.dt.day_of_week * 24 + local.dt.hour
    counts = how.value_counts().reindex(range(168), fill_value=0).to_numpy(float)
    weights = datasets.read_demand_profile(STL.demand_profile)["weight"].to_numpy()
    assert stats.pearsonr(counts, weights).statistic > 0.9


def test_every_call_is_inside_the_city_limit(calls: pd.DataFrame) -> None:
    boundary = _geojson(STL.boundary)["features"][0]["geometry"]
    assert _inside(boundary, _xy(calls)).all()


def test_counts_per_neighborhood_follow_population(calls: pd.DataFrame) -> None:
    hoods = [f for f in _geojson(STL.neighborhoods)["features"] if f["geometry"]]
    xy = _xy(calls)
    membership = np.column_stack([_inside(f["geometry"], xy) for f in hoods])
    assert (membership.sum(axis=1) == 1).all(), "each call lies in exactly one neighbourhood"
    counts = membership.sum(axis=0).astype(float)
    population = np.asarray([f["properties"]["total_population"] for f in hoods], float)
    assert counts[population == 0].sum() == 0
    populated = population > 0
    rho = stats.spearmanr(counts[populated], population[populated]).statistic
    assert rho > 0.9
    expected = counts.sum() * population[populated] / population[populated].sum()
    assert stats.chisquare(counts[populated], expected).pvalue > 0.001


def test_on_scene_time_has_the_published_median(calls: pd.DataFrame) -> None:
    minutes = calls["on_scene_s"].to_numpy(float) / 60
    assert not np.isnan(minutes).any()
    assert abs(np.median(minutes) - 43) < 2
    assert minutes.min() >= 2
    assert minutes.max() <= 642


def test_call_mix_values_are_in_the_contract(calls: pd.DataFrame) -> None:
    assert set(calls["call_type"]) == CALL_TYPES
    assert set(calls["risk"]) == {"low", "standard", "high"}
    assert set(calls["priority"]) <= {1, 2, 3, 4}
    high = calls["risk"] == "high"
    assert (calls.loc[high, "priority"] == 1).all()
    assert calls["transport"].notna().all()
    assert 0.4 < calls["transport"].astype(bool).mean() < 0.6
    assert 0.4 < (calls["risk"] == "low").mean() < 0.6


def test_no_local_time_is_in_a_daylight_saving_gap_or_repeated_hour() -> None:
    raw = pd.read_csv(STL.calls, dtype=str)["received_at"]
    assert not raw.str.startswith("2025-03-09T02:").any()
    assert not raw.str.startswith("2025-11-02T01:").any()
    assert not raw.str.contains(r"[zZ+]|-\d\d:\d\d$", regex=True).any(), "local, no zone"


def test_stations_and_facilities_are_inside_the_city_bounding_box() -> None:
    ring = np.asarray(_geojson(STL.boundary)["features"][0]["geometry"]["coordinates"][0])
    (lon_min, lat_min), (lon_max, lat_max) = ring.min(axis=0), ring.max(axis=0)
    for path, kinds in (
        (STL.stations, {"headquarters", "patrol_station"}),
        (STL.facilities, {"crisis_center", "hospital"}),
    ):
        sites = datasets.read_sites(path)
        assert set(sites["kind"]) <= kinds
        assert sites["lat"].between(lat_min, lat_max).all()
        assert sites["lon"].between(lon_min, lon_max).all()
        assert (sites["source"].str.len() > 20).all()
        # every coordinate is a ZIP centroid and says so
        assert sites["approximate"].all()
    assert "slmpd_hq" in set(datasets.read_sites(STL.stations)["id"])


# --- the readers -------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "id,name,kind,lat,lon,approximate,source\n"


@pytest.mark.parametrize(
    ("body", "row", "field"),
    [
        ("a,A,hospital,38.6,-90.2,true,s\na,B,hospital,38.6,-90.2,true,s\n", 2, "id"),
        ("a,A,hospital,north,-90.2,true,s\n", 1, "lat"),
        ("a,A,hospital,38.6,-190.2,true,s\n", 1, "lon"),
        ("a,A,hospital,38.6,-90.2,maybe,s\n", 1, "approximate"),
    ],
)
def test_read_sites_names_row_and_column_of_a_bad_value(
    tmp_path: Path, body: str, row: int, field: str
) -> None:
    with pytest.raises(InputError) as err:
        datasets.read_sites(_write(tmp_path, HEADER + body))
    assert err.value.row == row
    assert err.value.field == field
    assert "sites.csv" in str(err.value)


def test_read_sites_requires_the_columns(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing column"):
        datasets.read_sites(_write(tmp_path, "id,name,lat,lon\na,A,38.6,-90.2\n"))


def test_missing_data_folder_is_a_clear_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path / "absent")
    with pytest.raises(InputError, match="data folder not found"):
        datasets.stlouis()
    with pytest.raises(InputError):
        datasets.denver()


def test_denver_network_files_are_located() -> None:
    denver = datasets.denver()
    assert denver.vertices.name == "vertices-complete.csv.gz"
    assert denver.edges.name == "edges-complete.csv.gz"
