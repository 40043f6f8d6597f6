"""Travel bands: the weekly band lookup (daylight saving included), travel times under each band
against networkx, identical answers without bands, the scenario keys and their errors."""

from __future__ import annotations

import hashlib
import itertools
import math
import pickle
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.errors import InputError
from dispatch.networks import denver_network
from dispatch.scenario_file import load_scenario
from dispatch.travel import RoadNetworkTimes, StraightLineTimes, TravelTimes, road_class_of
from dispatch.travel_bands import DAY_NAMES, TravelBand, TravelBands

WEIGHT = "travel_time"
DATA = Path(__file__).parent / "data" / "scenarios"
RUSH = DATA / "rush_hour" / "scenario.toml"
BASE_TEXT = (DATA / "base" / "scenario.toml").read_text(encoding="utf-8")
MONDAY = pd.Timestamp("2025-03-03", tz="UTC")  # engine time 0 in the oracle tests
HOUR = 3600.0
DAY = 86400.0
CLASSES = ("primary", "secondary", "residential")


def band(band_id: str, days: str | list[str], start: str, end: str, **kw: object) -> TravelBand:
    return TravelBand.weekly(band_id, days=days, start=start, end=end, **kw)


def reference_band(bands: TravelBands, instant_utc_s: float) -> int:
    """The band by the local wall clock, read with zoneinfo (not the code under test)."""
    local = datetime.fromtimestamp(instant_utc_s, ZoneInfo(bands.timezone))
    for k, b in enumerate(bands.bands, start=1):
        minute = local.hour * 60 + local.minute
        length = (b.end_min - b.start_min) % 1440
        for day in b.days:
            # minutes since the band's start on ``day``, counted round the week
            since = ((local.weekday() - day) % 7) * 1440 + minute - b.start_min
            if 0 <= since % 10080 < length:
                return k
    return 0


# -- bands and their weekly table ------------------------------------------------------------


def test_a_band_covers_its_days_and_hours_and_nothing_else():
    bands = TravelBands((band("rush", "weekdays", "07:00", "09:30", speed_factor=0.5),))
    assert bands.at_local("mon", "06:59") == 0
    assert bands.at_local("mon", "07:00") == 1
    assert bands.at_local("fri", "09:29") == 1
    assert bands.at_local("fri", "09:30") == 0
    assert bands.at_local("sat", "08:00") == 0
    assert int((bands.by_minute_of_week() == 1).sum()) == 5 * 150


def test_a_band_ending_at_or_before_its_start_runs_past_midnight():
    bands = TravelBands(
        (
            band("late", ["fri"], "22:00", "06:00", speed_factor=1.2),
            band("sunday_night", ["sun"], "23:00", "01:00", speed_factor=1.1),
            band("to_midnight", ["wed"], "20:00", "24:00", speed_factor=0.9),
        )
    )
    assert [bands.at_local("fri", t) for t in ("21:59", "22:00", "23:59")] == [0, 1, 1]
    assert [bands.at_local("sat", t) for t in ("00:00", "05:59", "06:00")] == [1, 1, 0]
    # Sunday night wraps round the week into Monday morning.
    assert [bands.at_local("sun", "23:30"), bands.at_local("mon", "00:30")] == [2, 2]
    assert bands.at_local("mon", "01:00") == 0
    assert [bands.at_local("wed", "23:59"), bands.at_local("thu", "00:00")] == [3, 0]


@pytest.mark.parametrize(
    ("first", "second", "where"),
    [
        (("a", "weekdays", "07:00", "09:00"), ("b", ["fri"], "08:30", "10:00"), "fri 08:30"),
        (("a", ["sun"], "23:00", "01:00"), ("b", ["mon"], "00:30", "02:00"), "mon 00:30"),
        (("a", "all", "22:00", "06:00"), ("b", ["sat"], "05:00", "05:30"), "sat 05:00"),
    ],
)
def test_overlapping_bands_are_an_error_naming_both(first, second, where):
    with pytest.raises(InputError) as caught:
        TravelBands(
            (band(*first, speed_factor=0.5), band(*second, speed_factor=0.7)),
        )
    message = str(caught.value)
    assert f"{first[0]} (" in message and f"{second[0]} (" in message
    assert "overlap" in message and where in message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"speed_factor": 0.0}, "> 0"),
        ({"speed_factor": -1.0}, "> 0"),
        ({"speed_factor": math.nan}, "> 0"),
        ({"speed_factor": {"primary": math.inf}}, "> 0"),
        ({}, "exactly one"),
        ({"speed_factor": 0.5, "weight_column": "night_s"}, "exactly one"),
        ({"speed_factor": {}}, "names no road class"),
    ],
)
def test_band_values_are_checked(kwargs, match):
    with pytest.raises(InputError, match=match):
        band("b", "all", "07:00", "09:00", **kwargs)


def test_band_times_days_ids_and_zone_are_checked():
    with pytest.raises(InputError, match="same time"):
        band("b", "all", "07:00", "07:00", speed_factor=0.5)
    with pytest.raises(ValueError, match="clock time"):
        band("b", "all", "7:00", "09:00", speed_factor=0.5)
    with pytest.raises(ValueError, match="clock time"):
        band("b", "all", "24:00", "09:00", speed_factor=0.5)  # 24:00 only ends a band
    with pytest.raises(ValueError, match="unknown day"):
        band("b", ["monday"], "07:00", "09:00", speed_factor=0.5)
    one = band("b", ["mon"], "07:00", "09:00", speed_factor=0.5)
    other = band("b", ["tue"], "07:00", "09:00", speed_factor=0.5)
    with pytest.raises(InputError, match="used twice"):
        TravelBands((one, other))
    with pytest.raises(InputError, match="time zone"):
        TravelBands((one,), timezone="Mars/Olympus")


def test_speed_factors_by_road_class_with_a_default():
    b = band("b", "all", "07:00", "09:00", speed_factor={"default": 0.8, "primary": 0.5})
    assert (b.factor("primary"), b.factor("residential"), b.factor("")) == (0.5, 0.8, 0.8)
    assert b.road_classes == {"primary"}
    without_default = band("c", "all", "07:00", "09:00", speed_factor={"primary": 0.5})
    assert without_default.factor("residential") == 1.0


# -- the clock: engine seconds -> band ----------------------------------------------------------


def chicago_bands() -> TravelBands:
    return TravelBands(
        (
            band("rush", "weekdays", "07:00", "09:00", speed_factor=0.5),
            band("small_hours", ["sun"], "01:00", "02:00", speed_factor=1.2),
            band("skipped", ["sun"], "02:15", "02:45", speed_factor=1.1),
        ),
        timezone="America/Chicago",
    )


def test_bands_follow_the_local_clock_when_daylight_saving_starts():
    # America/Chicago: Sunday 2025-03-09 02:00 CST jumps to 03:00 CDT.
    bands = chicago_bands()
    epoch = pd.Timestamp("2025-03-07", tz="America/Chicago")  # Friday 00:00 CST = 06:00 UTC
    clock = bands.clock(epoch)
    stretches = [(a / HOUR, b / HOUR, k) for a, b, k in clock.segments(0.0, 4 * DAY) if k]
    assert stretches == [
        (7.0, 9.0, 1),  # Friday rush, 13:00-15:00 UTC
        (49.0, 50.0, 2),  # Sunday 01:00-02:00 CST; 02:15-02:45 does not exist that night
        # Monday rush at 07:00 CDT: Monday starts 71 real hours after Friday midnight CST
        (78.0, 80.0, 1),
    ]
    assert 3 not in {k for _, _, k in clock.segments(0.0, 4 * DAY)}


def test_bands_follow_the_local_clock_when_daylight_saving_ends():
    # America/Chicago: Sunday 2025-11-02 02:00 CDT goes back to 01:00 CST; 01:00-02:00 twice.
    bands = chicago_bands()
    epoch = pd.Timestamp("2025-11-01", tz="America/Chicago")  # Saturday 00:00 CDT
    clock = bands.clock(epoch)
    stretches = [(a / HOUR, b / HOUR, k) for a, b, k in clock.segments(0.0, 3 * DAY) if k]
    assert stretches == [
        (25.0, 27.0, 2),  # Sunday 01:00-02:00 local lasts two real hours (CDT, then CST)
        (27.25, 27.75, 3),  # 02:15-02:45 CST
        (56.0, 58.0, 1),  # Monday rush at 07:00 CST: Monday starts 49 real hours after Saturday
    ]
    assert clock.band_at(25.5 * HOUR) == clock.band_at(26.5 * HOUR) == 2


@given(at_s=st.floats(-30 * DAY, 800 * DAY, allow_nan=False))
@settings(max_examples=400, deadline=None)
def test_band_at_agrees_with_the_local_wall_clock(at_s):
    bands = chicago_bands()
    epoch = pd.Timestamp("2025-01-06 05:17:30", tz="America/Chicago")
    clock = bands.clock(epoch)
    assert clock.band_at(at_s) == reference_band(bands, epoch.timestamp() + at_s)


def test_a_clock_reaches_far_and_back_and_refuses_what_is_not_a_time():
    bands = chicago_bands()
    epoch = datetime(2025, 3, 3, tzinfo=ZoneInfo("America/Chicago"))
    clock = bands.clock(epoch)
    for at_s in (0.0, 3 * 365 * DAY + 7.5 * HOUR, -400 * DAY, 10.0):
        assert clock.band_at(at_s) == reference_band(bands, epoch.timestamp() + at_s)
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="finite"):
            clock.band_at(bad)
    with pytest.raises(ValueError, match="time-zone aware"):
        bands.clock(datetime(2025, 3, 3))
    # any zone names the same instant
    utc = bands.clock(epoch.astimezone(UTC))
    assert utc.segments(0, 7 * DAY) == clock.segments(0, 7 * DAY)


# -- oracles under bands against networkx -------------------------------------------------------


@pytest.fixture(scope="module")
def classed(city):
    """The test city with a road class on every street, and a parallel slow lane or two."""
    G = nx.MultiDiGraph()
    G.add_nodes_from(city.G.nodes(data=True))
    for k, (u, v, t) in enumerate(city.G.edges(data=WEIGHT)):
        G.add_edge(u, v, travel_time=float(t), highway=CLASSES[k % 3], night_s=float(t // 2 + 7))
    # Parallel edges whose classes differ: which of them is fastest depends on the band.
    G.add_edge(0, 1, travel_time=float(city.eta(0, 1)) + 1.0, highway="residential", night_s=1.0)
    G.add_edge(7, 8, travel_time=5.0, highway="primary", night_s=500.0)
    return G


def band_graph(G: nx.MultiDiGraph, b: TravelBand | None) -> nx.DiGraph:
    """A plain DiGraph with each edge's band seconds (the fastest of parallel edges)."""
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    for u, v, data in G.edges(data=True):
        if u == v:
            continue
        if b is None:
            w = data[WEIGHT]
        elif b.weight_column is not None:
            w = data[b.weight_column]
        else:
            w = data[WEIGHT] / b.factor(data["highway"])
        if not H.has_edge(u, v) or w < H[u][v]["w"]:
            H.add_edge(u, v, w=w)
    return H


def nx_times(H: nx.DiGraph, destination: int, n: int) -> list[float]:
    found = nx.shortest_path_length(H, target=destination, weight="w")
    return [float(found.get(u, math.inf)) for u in range(n)]


factors = st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0])  # exact in binary: sums agree exactly


@st.composite
def band_sets(draw: st.DrawFn) -> TravelBands:
    """One to three bands on separate days: class factors, a single factor or a column."""
    n = draw(st.integers(1, 3))
    days = draw(st.permutations(DAY_NAMES))[:n]
    out = []
    for k, day in enumerate(days):
        kind = draw(st.sampled_from(["classes", "single", "column"]))
        if kind == "classes":
            table = {c: draw(factors) for c in draw(st.sets(st.sampled_from(CLASSES), min_size=1))}
            if draw(st.booleans()):
                table["default"] = draw(factors)
            spec: dict[str, object] = {"speed_factor": table}
        elif kind == "single":
            spec = {"speed_factor": draw(factors)}
        else:
            spec = {"weight_column": "night_s"}
        out.append(band(f"b{k}", [day], "06:00", "20:00", **spec))
    return TravelBands(tuple(out), timezone="UTC")


def in_band(bands: TravelBands, k: int) -> float:
    """Engine seconds (epoch `MONDAY`) at 12:00 on the day band ``k`` covers."""
    (day,) = bands.bands[k - 1].days
    return day * DAY + 12 * HOUR


@given(bands=band_sets(), data=st.data())
@settings(max_examples=60, deadline=None)
def test_times_equal_networkx_shortest_paths_under_each_band(classed, bands, data):
    travel = TravelTimes.from_graph(classed, bands=bands, cutoff_s=1e9).anchored(MONDAY)
    n = classed.number_of_nodes()
    origins = np.arange(n, dtype=np.int64)
    destination = data.draw(st.integers(0, n - 1))
    for k in range(bands.n_bands):
        b = bands.bands[k - 1] if k else None
        at_s = in_band(bands, k) if k else None
        expected = nx_times(band_graph(classed, b), destination, n)
        assert travel.times_to(origins, destination, at_s).tolist() == expected, k
        origin = data.draw(st.integers(0, n - 1))
        assert travel.time(origin, destination, at_s) == expected[origin]


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_arbitrary_factors_agree_with_networkx_to_rounding(classed, data):
    table = {c: data.draw(st.floats(0.05, 5.0)) for c in CLASSES}
    bands = TravelBands((band("b", "all", "00:00", "12:00", speed_factor=table),))
    travel = TravelTimes.from_graph(classed, bands=bands, cutoff_s=1e9).anchored(MONDAY)
    n = classed.number_of_nodes()
    destination = data.draw(st.integers(0, n - 1))
    expected = nx_times(band_graph(classed, bands.bands[0]), destination, n)
    got = travel.times_to(np.arange(n, dtype=np.int64), destination, 6 * HOUR)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@given(bands=band_sets(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_routes_under_a_band_follow_that_bands_edges(classed, bands, data):
    travel = TravelTimes.from_graph(classed, bands=bands, cutoff_s=1e9).anchored(MONDAY)
    k = data.draw(st.integers(1, len(bands)))
    H = band_graph(classed, bands.bands[k - 1])
    origin, destination = data.draw(st.integers(0, 35)), data.draw(st.integers(0, 35))
    at_s = in_band(bands, k)
    total = travel.time(origin, destination, at_s)
    if not math.isfinite(total):
        with pytest.raises(InputError, match="no route"):
            travel.route(origin, destination, at_s)
        return
    route = travel.route(origin, destination, at_s)
    places = route.places.tolist()
    assert (places[0], places[-1]) == (origin, destination)
    assert route.duration_s == total
    for j, (u, v) in enumerate(itertools.pairwise(places)):
        assert route.elapsed_s[j + 1] - route.elapsed_s[j] == pytest.approx(H[u][v]["w"])


def test_parallel_edges_each_band_takes_its_own_fastest(classed):
    bands = TravelBands((band("night", "all", "00:00", "06:00", weight_column="night_s"),))
    travel = TravelTimes.from_graph(classed, bands=bands).anchored(MONDAY)
    # 7 -> 8: the primary lane (5 s) by day, the other lane (night_s) at night
    day, night = travel.time(7, 8, 12 * HOUR), travel.time(7, 8, 3 * HOUR)
    assert day == 5.0
    assert night == min(d["night_s"] for d in classed.get_edge_data(7, 8).values())
    assert night != 500.0
    assert travel.time(0, 1, 3 * HOUR) == 1.0


def test_the_cut_off_applies_to_band_times(classed):
    bands = TravelBands((band("slow", "all", "00:00", "12:00", speed_factor=0.25),))
    travel = TravelTimes.from_graph(classed, bands=bands, cutoff_s=400.0).anchored(MONDAY)
    H = band_graph(classed, bands.bands[0])
    times = travel.times_to(np.arange(36, dtype=np.int64), 14, 3 * HOUR)
    expected = np.array(nx_times(H, 14, 36))
    np.testing.assert_array_equal(times, np.where(expected <= 400.0, expected, np.inf))


# -- no bands: today's answers --------------------------------------------------------------

#: SHA-256 of every Denver row (times and predecessors), of routes between sampled pairs, and of
#: straight-line answers, as the oracle gave them before travel bands existed (see `_digests`).
TODAY = {
    "denver": "4b76c40607ee8307d34c4d8e062e7dc627329336308398f99afeaa18157dc327",
    "denver routes": "00041f8b8cdee0a650a29238d94646e21060872f60b7fd036094db4e14b8548b",
    "straight": "567434294e051affb4c4c3f939404a9c74e5aa4c384ef3675aaaea727980b318",
}


def _digests(net: RoadNetworkTimes, sl: StraightLineTimes, at_s: float | None) -> dict[str, str]:
    h = hashlib.sha256()
    origins = np.arange(net.n_places, dtype=np.int64)
    for d in range(net.n_places):
        h.update(np.ascontiguousarray(net.times_to(origins, d, at_s), dtype="<f8").tobytes())
        h.update(np.ascontiguousarray(net._band_row(d, net.band_at(at_s))[1], "<i4").tobytes())
    out = {"denver": h.hexdigest()}
    h = hashlib.sha256()
    for d in range(0, net.n_places, 7):
        for o in range(0, net.n_places, 11):
            if np.isfinite(net.time(o, d, at_s)):
                r = net.route(o, d, at_s)
                h.update(r.places.astype("<i8").tobytes())
                h.update(r.elapsed_s.astype("<f8").tobytes())
    out["denver routes"] = h.hexdigest()
    rng = np.random.default_rng(5)
    lats, lons = 38.6 + rng.random(100) * 0.1, -90.3 + rng.random(100) * 0.1
    places = sl.snap_many(lats, lons)
    h = hashlib.sha256()
    for d in places.tolist():
        h.update(sl.times_to(places[:10], d, at_s).astype("<f8").tobytes())
        h.update(sl.times_to(places, d, at_s).astype("<f8").tobytes())
        h.update(np.float64(sl.time(int(places[3]), d, at_s)).tobytes())
    r = sl.route(int(places[0]), int(places[1]), at_s)
    h.update(r.places.astype("<i8").tobytes())
    h.update(r.elapsed_s.astype("<f8").tobytes())
    out["straight"] = h.hexdigest()
    return out


@pytest.mark.parametrize("at_s", [None, 0.0, 8 * HOUR, 123_456.5])
def test_without_bands_every_answer_is_todays(at_s):
    net = denver_network()
    sl = TravelTimes.straight_line(speed_kph=36, circuity=1.25)
    assert net.anchored(MONDAY) is net and sl.anchored(MONDAY) is sl
    assert _digests(net, sl, at_s) == TODAY


def test_with_bands_the_base_hours_and_no_time_give_todays_answers():
    bands = TravelBands((band("rush", "weekdays", "07:00", "09:00", speed_factor=0.5),))
    net = denver_network(bands=bands).anchored(MONDAY)
    sl = TravelTimes.straight_line(speed_kph=36, circuity=1.25, bands=bands).anchored(MONDAY)
    assert _digests(net, sl, None) == TODAY
    assert _digests(net, sl, 12 * HOUR) == TODAY  # Monday noon: no band in force
    assert _digests(net, sl, 8 * HOUR)["denver"] != TODAY["denver"]


# -- anchoring, caching, pickling ---------------------------------------------------------------


def test_an_oracle_with_bands_needs_an_epoch_for_a_time(classed):
    bands = TravelBands((band("rush", "all", "07:00", "09:00", speed_factor=0.5),))
    travel = TravelTimes.from_graph(classed, bands=bands)
    assert travel.band_at(None) == 0
    travel.times_to(np.arange(3, dtype=np.int64), 5)  # no time: the network's own weights
    with pytest.raises(ValueError, match=r"anchored\(epoch\)"):
        travel.times_to(np.arange(3, dtype=np.int64), 5, 8 * HOUR)
    with pytest.raises(ValueError, match=r"anchored\(epoch\)"):
        TravelTimes.straight_line(bands=bands).time(0, 0, 8 * HOUR)


def test_views_share_snaps_and_rows_but_not_their_epoch(classed):
    bands = TravelBands((band("rush", "weekdays", "07:00", "09:00", speed_factor=0.5),))
    travel = TravelTimes.from_graph(classed, bands=bands)
    monday = travel.anchored(MONDAY)
    sunday = travel.anchored(MONDAY - pd.Timedelta(days=1))
    origins = np.arange(36, dtype=np.int64)
    rush = monday.times_to(origins, 9, 8 * HOUR)
    assert sunday.band_at(8 * HOUR) == 0 and monday.band_at(8 * HOUR) == 1
    np.testing.assert_array_equal(sunday.times_to(origins, 9, DAY + 8 * HOUR), rush)
    assert sunday.misses == 0 and sunday.hits == 1  # the row monday computed
    assert (rush >= travel.times_to(origins, 9)).all()


def test_warm_every_band_and_rows_per_band(classed):
    bands = TravelBands(
        (
            band("rush", "weekdays", "07:00", "09:00", speed_factor=0.5),
            band("night", "all", "22:00", "05:00", weight_column="night_s"),
        )
    )
    cold = TravelTimes.from_graph(classed, bands=bands).anchored(MONDAY)
    warm = TravelTimes.from_graph(classed, bands=bands).anchored(MONDAY)
    warm.warm(range(36), every_band=True)
    assert len(warm._cache) == 3 * 36
    misses = warm.misses
    origins = np.arange(36, dtype=np.int64)
    for at_s in (None, 8 * HOUR, 23 * HOUR, 12 * HOUR):
        for d in range(36):
            np.testing.assert_array_equal(
                warm.times_to(origins, d, at_s), cold.times_to(origins, d, at_s)
            )
    assert warm.misses == misses
    one = TravelTimes.from_graph(classed, bands=bands).anchored(MONDAY)
    one.warm([3, 4], 23 * HOUR)
    assert sorted(one._cache) == [2 * 36 + 3, 2 * 36 + 4]


def test_a_pickled_view_keeps_its_bands_and_epoch_and_drops_its_cache(classed):
    bands = TravelBands((band("rush", "weekdays", "07:00", "09:00", speed_factor=0.5),))
    view = TravelTimes.from_graph(classed, bands=bands).anchored(MONDAY)
    view.warm(range(5), 8 * HOUR)
    clone = pickle.loads(pickle.dumps(view))
    assert len(clone._cache) == 0
    origins = np.arange(36, dtype=np.int64)
    for at_s in (8 * HOUR, 12 * HOUR):
        np.testing.assert_array_equal(
            clone.times_to(origins, 2, at_s), view.times_to(origins, 2, at_s)
        )


# -- straight line ------------------------------------------------------------------------------


@given(
    factor=st.floats(0.1, 3.0),
    speed_kph=st.floats(10, 80),
    points=st.lists(
        st.tuples(st.floats(38.55, 38.70), st.floats(-90.35, -90.15)), min_size=2, max_size=60
    ),
)
@settings(max_examples=60, deadline=None)
def test_a_straight_line_band_is_the_same_line_at_another_speed(factor, speed_kph, points):
    bands = TravelBands((band("b", "all", "06:00", "10:00", speed_factor=factor),))
    far = 1e7  # seconds: no cut-off in reach
    banded = TravelTimes.straight_line(speed_kph=speed_kph, bands=bands, cutoff_s=far)
    banded = banded.anchored(MONDAY)
    plain = TravelTimes.straight_line(speed_kph=speed_kph, cutoff_s=far)
    faster = TravelTimes.straight_line(speed_kph=speed_kph * factor, cutoff_s=far)
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    places = banded.snap_many(lats, lons)
    plain.snap_many(lats, lons)
    faster.snap_many(lats, lons)
    for d in places.tolist():
        for at_s, reference in ((7 * HOUR, faster), (12 * HOUR, plain), (None, plain)):
            np.testing.assert_array_equal(
                banded.times_to(places, d, at_s), reference.times_to(places, d)
            )
            assert banded.time(int(places[0]), d, at_s) == reference.time(int(places[0]), d)
    route = banded.route(int(places[0]), int(places[-1]), 7 * HOUR)
    assert route.duration_s == faster.time(int(places[0]), int(places[-1]))


def test_straight_line_bands_have_no_roads():
    bands = TravelBands((band("b", "all", "06:00", "10:00", speed_factor={"primary": 0.5}),))
    with pytest.raises(InputError, match="no roads"):
        TravelTimes.straight_line(bands=bands)
    column = TravelBands((band("b", "all", "06:00", "10:00", weight_column="night_s"),))
    with pytest.raises(InputError, match="no roads"):
        TravelTimes.straight_line(bands=column)


# -- loaders ------------------------------------------------------------------------------------


def test_road_classes_read_as_osmnx_and_graphml_write_them():
    assert road_class_of("primary") == "primary"
    assert road_class_of(["secondary", "primary"]) == "secondary"
    assert road_class_of("['residential', 'tertiary']") == "residential"
    assert road_class_of("[not a list") == "[not a list"
    assert road_class_of(None) == road_class_of(math.nan) == road_class_of([]) == ""


def test_graphml_road_classes_and_weight_columns(tmp_path, classed):
    G = classed.copy()
    for k, (_, _, data) in enumerate(G.edges(data=True)):
        if k % 5 == 0:
            data["highway"] = str([data["highway"], "tertiary"])  # as GraphML stores a list
    path = tmp_path / "city.graphml"
    nx.write_graphml(G, path)
    bands = TravelBands(
        (
            band("rush", "all", "07:00", "09:00", speed_factor={"primary": 0.5, "default": 0.8}),
            band("night", "all", "22:00", "05:00", weight_column="night_s"),
        )
    )
    travel = TravelTimes.from_graphml(path, bands=bands, cutoff_s=1e9).anchored(MONDAY)
    place_of = {int(node): i for i, node in enumerate(travel.node_ids)}
    origins = np.array([place_of[u] for u in range(36)], dtype=np.int64)
    for d in (0, 17, 35):
        for k, at_s in ((1, 8 * HOUR), (2, 23 * HOUR)):
            H = band_graph(classed, bands.bands[k - 1])
            got = travel.times_to(origins, place_of[d], at_s)
            np.testing.assert_allclose(got, nx_times(H, d, 36), rtol=1e-12)


def test_graph_band_errors_name_what_is_missing(classed):
    plain = nx.DiGraph()
    plain.add_nodes_from(classed.nodes(data=True))
    for u, v, t in classed.edges(data=WEIGHT):
        plain.add_edge(u, v, travel_time=t)
    named = TravelBands((band("rush", "all", "07:00", "09:00", speed_factor={"primary": 0.5}),))
    with pytest.raises(InputError, match="carries none"):
        TravelTimes.from_graph(plain, bands=named)
    typo = TravelBands((band("rush", "all", "07:00", "09:00", speed_factor={"primray": 0.5}),))
    with pytest.raises(InputError, match=r"'primray' \(classes: primary, residential, second"):
        TravelTimes.from_graph(classed, bands=typo)
    column = TravelBands((band("night", "all", "22:00", "05:00", weight_column="night_s"),))
    with pytest.raises(InputError, match="night_s"):
        TravelTimes.from_graph(plain, bands=column)


def test_openstreetmap_highway_classes_in_xml_and_the_graphml_import_writes(tmp_path):
    from dispatch.osm import graph_from_osm_xml, write_graphml

    xml = Path(__file__).parent / "data" / "West-Oakland.osm.bz2"
    G = graph_from_osm_xml(xml)
    graphml = tmp_path / "oakland.graphml"
    write_graphml(G, graphml)
    b = band("rush", "weekdays", "07:00", "09:00", speed_factor={"secondary": 0.5, "default": 0.9})
    bands = TravelBands((b,))
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    for u, v, data in G.edges(data=True):
        w = data[WEIGHT] / b.factor(road_class_of(data["highway"]))
        if u != v and (not H.has_edge(u, v) or w < H[u][v]["w"]):
            H.add_edge(u, v, w=w)
    for travel in (
        TravelTimes.from_osm_xml(xml, bands=bands).anchored(MONDAY),
        TravelTimes.from_graphml(graphml, bands=bands).anchored(MONDAY),
    ):
        index = {str(node): i for i, node in enumerate(travel.node_ids)}
        nodes = list(G.nodes)
        origins = np.array([index[str(u)] for u in nodes], dtype=np.int64)
        for d in nodes[::4]:
            found = nx.shortest_path_length(H, target=d, weight="w")
            expected = [float(found.get(u, math.inf)) for u in nodes]
            got = travel.times_to(origins, index[str(d)], 8 * HOUR)
            np.testing.assert_allclose(got, expected, rtol=1e-12)


def denver_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    from dispatch.datasets import denver

    paths = denver()
    return pd.read_csv(paths.edges), pd.read_csv(paths.vertices)


def test_denver_bands_by_highway_class_equal_networkx():
    edges, _ = denver_frames()
    bands = TravelBands(
        (
            band(
                "rush",
                "weekdays",
                "07:00",
                "09:00",
                speed_factor={"primary": 0.5, "secondary": 0.6, "default": 0.9},
            ),
        )
    )
    travel = denver_network(bands=bands, road_class="highway").anchored(MONDAY)
    b = bands.bands[0]
    H = nx.DiGraph()
    H.add_nodes_from(range(travel.n_places))
    base = edges["distance"] / (edges["speed_kph"] / 3.6)
    for u, v, s, hwy in zip(
        edges["src_vertex_id"], edges["dst_vertex_id"], base, edges["highway"], strict=True
    ):
        w = s / b.factor(road_class_of(hwy))
        if u != v and (not H.has_edge(u, v) or w < H[u][v]["w"]):
            H.add_edge(u, v, w=w)
    # vertex_id values are the places in file order
    origins = np.arange(travel.n_places, dtype=np.int64)
    slower = 0
    for d in travel.snappable[::23].tolist():
        expected = nx_times(H, d, travel.n_places)
        got = travel.times_to(origins, d, 8 * HOUR)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        slower += int((got > travel.times_to(origins, d) + 1e-9).sum())
    assert slower > 0


def test_edge_csv_weight_columns_and_their_errors(tmp_path):
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("node,lat,lon\na,39.700,-105.000\nb,39.701,-105.000\n", encoding="utf-8")
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,secs,rush_s\na,b,10,25\nb,a,10,12\n", encoding="utf-8")
    bands = TravelBands((band("rush", "all", "07:00", "09:00", weight_column="rush_s"),))
    travel = TravelTimes.from_edge_csv(edges, nodes, seconds="secs", bands=bands).anchored(MONDAY)
    assert (travel.time(0, 1), travel.time(0, 1, 8 * HOUR), travel.time(1, 0, 8 * HOUR)) == (
        10.0,
        25.0,
        12.0,
    )
    missing = TravelBands((band("rush", "all", "07:00", "09:00", weight_column="night_s"),))
    with pytest.raises(InputError, match=r"edges\.csv.*night_s"):
        TravelTimes.from_edge_csv(edges, nodes, seconds="secs", bands=missing)
    edges.write_text("source,target,secs,rush_s\na,b,10,25\nb,a,10,-1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"edges\.csv, row 2, column 'rush_s'"):
        TravelTimes.from_edge_csv(edges, nodes, seconds="secs", bands=bands)
    classes = TravelBands((band("rush", "all", "07:00", "09:00", speed_factor={"primary": 0.5}),))
    with pytest.raises(InputError, match=r"edges\.csv.*highway"):
        TravelTimes.from_edge_csv(edges, nodes, seconds="secs", bands=classes)


# -- the scenario file --------------------------------------------------------------------------


def local_band(when: datetime) -> str | None:
    """Which of the rush-hour scenario's bands the local time falls in, by hand."""
    minute = when.hour * 60 + when.minute
    if when.weekday() < 5 and 7 * 60 <= minute < 9 * 60 + 30:
        return "am_rush"
    if when.weekday() < 5 and 16 * 60 <= minute < 18 * 60 + 30:
        return "pm_rush"
    if minute >= 22 * 60 or minute < 5 * 60:
        return "night"
    return None


def test_a_rush_hour_scenario_is_slower_in_exactly_its_rush_hours():
    scenario = load_scenario(RUSH)
    travel = scenario.travel
    assert isinstance(travel, RoadNetworkTimes)
    assert travel.bands is not None
    assert [b.band_id for b in travel.bands.bands] == ["am_rush", "pm_rush", "night"]
    assert travel.bands.timezone == "America/Denver"
    # Engine time 0: local midnight of the first call's day (Monday 2025-03-03).
    epoch = pd.Timestamp(scenario.calls["received_at"].min()).normalize()
    view = travel.anchored(epoch)
    stations = travel.snap_many(
        [s.lat for s in scenario.stations], [s.lon for s in scenario.stations]
    )
    scenes = travel.snap_many(scenario.calls["lat"], scenario.calls["lon"])
    pairs = [(o, d) for o in stations.tolist() for d in scenes.tolist() if o != d]
    base = np.array([view.time(o, d) for o, d in pairs])
    tz = ZoneInfo("America/Denver")
    seen = set()
    # every 10 minutes for two weeks, across the change to daylight saving time on 2025-03-09
    end_s = (pd.Timestamp("2025-03-17", tz="America/Denver") - epoch).total_seconds()
    assert end_s == 14 * DAY - HOUR
    for at_s in np.arange(0.0, end_s, 600.0).tolist():
        local = (epoch + timedelta(seconds=at_s)).astimezone(tz)
        expected = local_band(local)
        times = np.array([view.time(o, d, at_s) for o, d in pairs])
        if expected in ("am_rush", "pm_rush"):
            assert (times >= base).all() and (times > base).any(), local
        elif expected == "night":
            assert (times <= base).all() and (times < base).any(), local
        else:
            np.testing.assert_array_equal(times, base, err_msg=str(local))
        seen.add((local.date(), expected))
    # The Monday after the change: the rush starts at 07:00 MDT (13:00 UTC; 14:00 UTC a week
    # before), 7 days less an hour after the first Monday's.
    for when, expected_band in (("06:59", 0), ("07:00", 1), ("09:29", 1), ("09:30", 0)):
        at = pd.Timestamp(f"2025-03-10 {when}", tz="America/Denver")
        assert view.band_at((at - epoch).total_seconds()) == expected_band, when
    first_rush = min(a for a, _, k in view._clock.segments(0, DAY) if k == 1)
    second_rush = min(a for a, _, k in view._clock.segments(7 * DAY - 2 * HOUR, 8 * DAY) if k == 1)
    assert second_rush - first_rush == 7 * DAY - HOUR
    assert len({d for d, _ in seen}) == 14


def test_a_rush_hour_scenario_replays():
    import dispatch

    result = dispatch.simulate(load_scenario(RUSH))
    assert len(result.calls) == 12
    assert set(result.calls["outcome"]) <= {"specialist", "fallback"}


def write(tmp_path: Path, text: str) -> Path:
    shutil.copy(DATA / "base" / "calls.csv", tmp_path / "calls.csv")
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def with_bands(bands_toml: str) -> str:
    anchor = "circuity = 1.25\n"
    assert anchor in BASE_TEXT
    return BASE_TEXT.replace(anchor, anchor + bands_toml + "\n", 1)


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message, message
    return message


def test_straight_line_scenario_bands_load():
    text = with_bands(
        '[[network.bands]]\nid = "rush"\ndays = ["mon", "fri"]\nstart = "07:30"\n'
        'end = "09:00"\nspeed_factor = 0.6\n\n'
        '[[network.bands]]\nid = "night"\nstart = "23:00"\nend = "24:00"\n'
        "speed_factor = { default = 1.25 }\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        scenario = load_scenario(write(Path(folder), text))
    travel = scenario.travel
    assert isinstance(travel, StraightLineTimes)
    assert travel.bands == TravelBands(
        (
            band("rush", ["mon", "fri"], "07:30", "09:00", speed_factor=0.6),
            band("night", "all", "23:00", "24:00", speed_factor=1.25),
        ),
        timezone="America/Chicago",
    )


RUSH_BAND = '[[network.bands]]\nid = "rush"\nstart = "07:00"\nend = "09:00"\n'


@pytest.mark.parametrize(
    ("bands_toml", "key", "words"),
    [
        (RUSH_BAND + "speed_factor = 0.5\nlanes = 2\n", "network.bands.0.lanes", "unknown key"),
        (RUSH_BAND + "speed_factor = 0\n", "network.bands.0.speed_factor", "> 0"),
        (
            RUSH_BAND + "speed_factor = { default = -0.5 }\n",
            "network.bands.0.speed_factor",
            "'default' must be a finite number > 0",
        ),
        (RUSH_BAND, "network.bands.0", "exactly one of 'speed_factor' or 'weight_column'"),
        (
            RUSH_BAND + 'speed_factor = 0.5\nweight_column = "rush_s"\n',
            "network.bands.0",
            "exactly one",
        ),
        (
            '[[network.bands]]\nid = "rush"\nstart = "7:00"\nend = "09:00"\nspeed_factor = 0.5\n',
            "network.bands.0.start",
            "not a clock time",
        ),
        (
            '[[network.bands]]\nid = "x"\ndays = ["mon", "funday"]\nstart = "07:00"\n'
            'end = "09:00"\nspeed_factor = 0.5\n',
            "network.bands.0.days",
            "unknown day 'funday'",
        ),
        (
            RUSH_BAND
            + "speed_factor = 0.5\n"
            + '[[network.bands]]\nid = "school"\ndays = ["wed"]\nstart = "08:45"\n'
            'end = "09:15"\nspeed_factor = 0.7\n',
            "network.bands",
            "rush (mon,tue,wed,thu,fri,sat,sun 07:00-09:00) and school (wed 08:45-09:15) overlap",
        ),
        (
            RUSH_BAND
            + "speed_factor = 0.5\n"
            + RUSH_BAND.replace("07:00", "10:00")
            + "speed_factor = 0.5\n",
            "network.bands",
            "'rush' is used twice",
        ),
        (
            RUSH_BAND + "speed_factor = { primary = 0.5 }\n",
            "network",
            "straight-line travel has no roads",
        ),
        (
            RUSH_BAND + 'weight_column = "rush_s"\n',
            "network",
            "straight-line travel has no roads",
        ),
    ],
)
def test_scenario_band_errors_name_the_file_and_key(tmp_path, bands_toml, key, words):
    message = load_error(write(tmp_path, with_bands(bands_toml)))
    assert f"{key}:" in message and words in message, message


def test_a_band_naming_a_road_class_the_network_lacks_is_an_error(tmp_path):
    text = RUSH.read_text(encoding="utf-8").replace("primary = 0.5", "motorway = 0.5", 1)
    shutil.copy(RUSH.parent / "calls.csv", tmp_path / "calls.csv")
    (tmp_path / "scenario.toml").write_text(
        text.replace("../../../../data/", str(RUSH.parents[4] / "data") + "/"), encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"am_rush.*'motorway' \(classes: primary"):
        load_scenario(tmp_path / "scenario.toml")


def test_edge_csv_column_keys_are_checked(tmp_path):
    text = RUSH.read_text(encoding="utf-8").replace('road_class = "highway"', 'class = "x"', 1)
    shutil.copy(RUSH.parent / "calls.csv", tmp_path / "calls.csv")
    path = tmp_path / "scenario.toml"
    path.write_text(
        text.replace("../../../../data/", str(RUSH.parents[4] / "data") + "/"), encoding="utf-8"
    )
    message = load_error(path)
    assert "network.columns:" in message and "unknown column key(s) 'class'" in message
