"""The replay viewer's data, and the page that carries it.

Inputs: a ``dispatch simulate --events`` output directory (``calls.parquet``, ``events.parquet``,
``summary.json``) and the scenario it records (``summary.json`` ``scenario_path``, or one given).
The results carry no coordinates: each replication's calls are drawn again from the random
stream the replay used (`dispatch.sim.prepare.replication_calls`), which gives the same calls
with their places, and are joined on ``call_id``.

Team movements are not in the event log either, only their turning points (dispatched, on
scene, at facility, cleared, breaks, shifts). They are rebuilt the way the dispatch session
moves teams: a dispatched team sets off from its place (its station, or the last place it
passed on its way home) after turnout and drives the oracle's route to the scene, arriving at
the recorded time; a transport drives the route to the facility; a cleared team drives home
and is available there, unless a dispatch, a break or the end of its shift comes first. A route
is the road network's fastest path on a graph and a straight line otherwise.

The data is compact and columnar (see `build_viewer_data`): integer seconds since the
scenario start, coordinates as integers of 1e-5 degree (about a metre), ids and labels
dictionary-encoded, each team's track and each outline delta-encoded, the road network as
polylines through its intersections.
"""

from __future__ import annotations

import html
import json
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dispatch.errors import DispatchError

if TYPE_CHECKING:
    import pandas as pd

    from dispatch.scenario import Scenario
    from dispatch.sim.prepare import Prepared
    from dispatch.travel import RoadNetworkTimes, TravelTimes

#: Team statuses, in the order of their codes in the data.
STATUSES = (
    "available",
    "dispatched",
    "on_scene",
    "transporting",
    "at_facility",
    "returning",
    "on_break",
    "off_duty",
)
AVAILABLE, DISPATCHED, ON_SCENE, TRANSPORTING, AT_FACILITY, RETURNING, ON_BREAK, OFF_DUTY = range(
    len(STATUSES)
)
#: Call outcomes, in the order of their codes (thinned calls never ran and are left out).
OUTCOMES = ("specialist", "fallback", "unserved")
#: Coordinates are stored as integers of 1/SCALE degree.
SCALE = 100_000
TEMPLATE = "viewer.html"
DATA_TOKEN = "__VIEWER_DATA__"
TITLE_TOKEN = "__VIEWER_TITLE__"


class ViewerError(DispatchError):
    """The directory cannot be replayed: not a simulate output, no event log, no scenario."""


# -- team tracks -------------------------------------------------------------------------------
@dataclass
class Track:
    """One team's keyframes: from ``t[k]`` it has status ``s[k]`` and moves in a straight line
    from ``(x[k], y[k])`` to the next keyframe's position, reached at ``t[k + 1]``.

    Times are integer seconds since the scenario start, non-decreasing; coordinates integer
    1e-5 degrees of longitude (``x``) and latitude (``y``).
    """

    t: list[int] = field(default_factory=list)
    x: list[int] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    s: list[int] = field(default_factory=list)

    def add(self, t: float, xy: tuple[int, int], status: int) -> None:
        """Append a keyframe; one at the same time and place replaces the last (a new status)."""
        ti = round(t)
        if self.t:
            ti = max(ti, self.t[-1])  # rounding never runs time backwards
            if ti == self.t[-1] and xy == (self.x[-1], self.y[-1]):
                self.s[-1] = status
                return
        self.t.append(ti)
        self.x.append(xy[0])
        self.y.append(xy[1])
        self.s.append(status)

    def simplified(self) -> Track:
        """The same movement without keyframes that lie on the line between their neighbours
        (a straight-line route's evenly spaced places, a road's collinear nodes)."""
        t, x, y, s = self.t, self.x, self.y, self.s
        n = len(t)
        if n < 3:
            return Track(list(t), list(x), list(y), list(s))
        out = Track([t[0]], [x[0]], [y[0]], [s[0]])
        for k in range(1, n - 1):
            a = len(out.t) - 1  # the last kept keyframe
            if s[k] == s[k - 1] == out.s[a] and out.t[a] < t[k] < t[k + 1]:
                f = (t[k] - out.t[a]) / (t[k + 1] - out.t[a])
                ex = out.x[a] + (x[k + 1] - out.x[a]) * f
                ey = out.y[a] + (y[k + 1] - out.y[a]) * f
                if abs(ex - x[k]) <= 1.0 and abs(ey - y[k]) <= 1.0:
                    continue
            out.t.append(t[k])
            out.x.append(x[k])
            out.y.append(y[k])
            out.s.append(s[k])
        out.t.append(t[-1])
        out.x.append(x[-1])
        out.y.append(y[-1])
        out.s.append(s[-1])
        return out


def position_at(track: Track, t: float) -> tuple[float, float, int]:
    """Where a team is at ``t`` and its status, as the page computes it.

    Parameters
    ----------
    track
        The team's keyframes.
    t
        Seconds since the scenario start.

    Returns
    -------
    tuple
        ``(x, y, status)``: integer-degree coordinates (1e-5 degree) interpolated between
        keyframes, and the status code (an index into `STATUSES`). Before the first keyframe,
        the first one.

    Examples
    --------
    >>> track = Track([0, 100, 200], [0, 0, 1000], [0, 0, 0], [AVAILABLE, DISPATCHED, ON_SCENE])
    >>> position_at(track, 150.0)
    (500.0, 0.0, 1)
    """
    k = bisect_right(track.t, t) - 1
    if k < 0:
        return float(track.x[0]), float(track.y[0]), track.s[0]
    if k + 1 < len(track.t) and track.t[k + 1] > track.t[k]:
        f = (t - track.t[k]) / (track.t[k + 1] - track.t[k])
        return (
            track.x[k] + (track.x[k + 1] - track.x[k]) * f,
            track.y[k] + (track.y[k + 1] - track.y[k]) * f,
            track.s[k],
        )
    return float(track.x[k]), float(track.y[k]), track.s[k]


@dataclass
class _Job:
    """What the calls table says about one call a team answered (engine seconds)."""

    scene: int
    arrived_s: float
    leaves_scene_s: float
    facility: int


class _TeamReplay:
    """Rebuilds one team's track from its events, moving it as the dispatch session does."""

    def __init__(self, places: _Places, station: int) -> None:
        self.places = places
        self.station = station
        self.place = station
        self.track = Track()
        self.home: tuple[list[int], list[float], float] | None = None  # route home, set off at
        self.job: _Job | None = None
        self.shift_over = False  # the shift ended during the current call
        self.going_off = False  # an off-duty notice is due
        self.track.add(0.0, places.xy(station), OFF_DUTY)

    def _catch_up(self, now: float) -> None:
        """Drive the route home up to ``now``; stop at the last place passed (the session's
        place for a returning team) or at the station, available, once there."""
        if self.home is None:
            return
        route, elapsed, start = self.home
        self.home = None
        reached = now - start
        xy = self.places.xy
        if reached >= elapsed[-1]:
            for place, e in zip(route[1:], elapsed[1:], strict=True):
                self.track.add(start + e, xy(place), RETURNING)
            self.track.add(start + elapsed[-1], xy(self.station), AVAILABLE)
            self.place = self.station
            return
        k = max(0, bisect_right(elapsed, reached) - 1)
        for place, e in zip(route[1 : k + 1], elapsed[1 : k + 1], strict=True):
            self.track.add(start + e, xy(place), RETURNING)
        self.place = route[k]
        self.track.add(now, xy(self.place), RETURNING)

    def _drive(
        self,
        origin: int,
        destination: int,
        leave_s: float,
        arrive_s: float,
        status: int,
        end_status: int,
    ) -> None:
        """Drive ``origin`` -> ``destination`` on the oracle's route, fitted to the interval."""
        route, elapsed = self.places.route(origin, destination, leave_s)
        total = elapsed[-1]
        span = max(arrive_s - leave_s, 0.0)
        xy = self.places.xy
        self.track.add(leave_s, xy(origin), status)
        for place, e in zip(route[1:-1], elapsed[1:-1], strict=True):
            self.track.add(leave_s + (span * e / total if total > 0 else 0.0), xy(place), status)
        self.track.add(arrive_s, xy(destination), end_status)

    def _head_home(self, now: float) -> None:
        route, elapsed = self.places.route(self.place, self.station, now)
        if elapsed[-1] > 0:
            self.home = (route, elapsed, now)
            self.track.add(now, self.places.xy(self.place), RETURNING)
        else:
            self.track.add(now, self.places.xy(self.place), AVAILABLE)

    def dispatched(self, now: float, job: _Job) -> None:
        self._catch_up(now)
        self.job = job
        origin = self.place
        self.track.add(now, self.places.xy(origin), DISPATCHED)
        # Turnout first, at the place of dispatch; then the drive, ending at the arrival.
        _, elapsed = self.places.route(origin, job.scene, now)
        leave = min(max(now, job.arrived_s - elapsed[-1]), job.arrived_s)
        self._drive(origin, job.scene, leave, job.arrived_s, DISPATCHED, ON_SCENE)
        self.place = job.scene

    def at_facility(self, now: float) -> None:
        job = self.job
        if job is None or job.facility < 0:
            return
        leave = min(job.leaves_scene_s, now)
        self._drive(job.scene, job.facility, leave, now, TRANSPORTING, AT_FACILITY)
        self.place = job.facility

    def cleared(self, now: float) -> None:
        if self.job is None:
            return
        self.job = None
        if self.shift_over:  # drives home on overtime, then goes off duty
            self.shift_over = False
            self.going_off = True
        self._head_home(now)

    def break_start(self, now: float) -> None:
        self._catch_up(now)
        self.track.add(now, self.places.xy(self.place), ON_BREAK)

    def break_end(self, now: float) -> None:
        self._head_home(now)

    def shift_start(self, now: float) -> None:
        if self.job is not None:  # still on the last shift's call: it carries on
            self.shift_over = False
            return
        self._catch_up(now)
        self.going_off = False
        self.place = self.station
        self.track.add(now, self.places.xy(self.station), AVAILABLE)

    def shift_end(self, now: float) -> None:
        if self.job is not None:
            self.shift_over = True
        else:
            self.going_off = True

    def off_duty(self, now: float) -> None:
        if not self.going_off:  # a later shift started first: the notice is out of date
            return
        self.going_off = False
        self._catch_up(now)
        self.place = self.station
        self.track.add(now, self.places.xy(self.station), OFF_DUTY)


class _Places:
    """Coordinates and routes of the oracle's places, each asked once."""

    def __init__(self, travel: TravelTimes) -> None:
        self.travel = travel
        self._xy: dict[int, tuple[int, int]] = {}
        self._routes: dict[tuple[int, int, int], tuple[list[int], list[float]]] = {}

    def xy(self, place: int) -> tuple[int, int]:
        found = self._xy.get(place)
        if found is None:
            lat, lon = self.travel.coordinates(np.array([place], dtype=np.int64))
            found = (round(float(lon[0]) * SCALE), round(float(lat[0]) * SCALE))
            self._xy[place] = found
        return found

    def route(self, origin: int, destination: int, at_s: float) -> tuple[list[int], list[float]]:
        """Places and elapsed seconds of the way, as the session routes a team."""
        travel = self.travel
        key = (origin, destination, travel.band_at(at_s))
        found = self._routes.get(key)
        if found is None:
            if origin == destination:
                found = ([origin, destination], [0.0, 0.0])
            elif math.isfinite(travel.time(origin, destination, at_s)):
                route = travel.route(origin, destination, at_s)
                found = (route.places.tolist(), route.elapsed_s.tolist())
            else:  # beyond the oracle's cut-off: the session counts the cut-off
                found = ([origin, destination], [0.0, float(travel.cutoff_s)])
            self._routes[key] = found
        return found


def team_tracks(
    prep: Prepared,
    events: pd.DataFrame,
    calls: pd.DataFrame,
    call_place: dict[str, int],
) -> dict[str, Track]:
    """Every team's track in one replication.

    Parameters
    ----------
    prep
        The prepared scenario (stations, facilities, the anchored travel oracle).
    events
        The replication's rows of ``events.parquet``, in their order.
    calls
        The replication's rows of ``calls.parquet`` with ``arrived_s`` and ``on_scene_s``.
    call_place
        The oracle place of each call's scene, by ``call_id``.
    """
    travel = prep.matcher.travel
    places = _Places(travel)
    setup = prep.setup
    replays = {
        team: _TeamReplay(places, int(station))
        for team, station in zip(setup.team_ids, setup.station_place.tolist(), strict=True)
    }
    facility_place = dict(zip(prep.facility_ids, setup.facility_place.tolist(), strict=True))
    jobs: dict[str, tuple[float, float, str]] = {
        call_id: (arrived, arrived + (on_scene if math.isfinite(on_scene) else 0.0), facility)
        for call_id, arrived, on_scene, facility in zip(
            calls["call_id"].tolist(),
            calls["arrived_s"].tolist(),
            calls["on_scene_s"].fillna(0.0).tolist(),
            calls["facility_id"].fillna("").tolist(),
            strict=True,
        )
    }
    team_rows = events[events["team_id"] != ""]
    for now, kind, call_id, team_id in zip(
        team_rows["time_s"].tolist(),
        team_rows["event"].tolist(),
        team_rows["call_id"].tolist(),
        team_rows["team_id"].tolist(),
        strict=True,
    ):
        replay = replays.get(team_id)
        if replay is None:
            continue
        if kind == "dispatched":
            arrived, leaves, facility = jobs[call_id]
            replay.dispatched(
                now,
                _Job(call_place[call_id], arrived, leaves, facility_place.get(facility, -1)),
            )
        elif kind in _TEAM_EVENTS:
            getattr(replay, kind)(now)
    return {team: replay.track.simplified() for team, replay in replays.items()}


_TEAM_EVENTS = frozenset(
    {"at_facility", "cleared", "break_start", "break_end", "shift_start", "shift_end", "off_duty"}
)


# -- reading the results -----------------------------------------------------------------------
@dataclass
class _Results:
    out: Path
    summary: dict[str, Any]
    calls: pd.DataFrame
    events: pd.DataFrame
    scenario: Scenario


def read_results(directory: str | Path, scenario: str | Path | None = None) -> _Results:
    """Read a ``dispatch simulate --events`` directory and load its scenario.

    Raises
    ------
    ViewerError
        When the directory, its tables, its event log or its scenario file is missing.
    """
    import pandas as pd

    from dispatch.scenario_file import load_scenario

    out = Path(directory)
    if not out.is_dir():
        raise ViewerError(f"{out}: no such directory; give a `dispatch simulate --out` folder")
    summary_path = out / "summary.json"
    if not summary_path.is_file() or not (out / "calls.parquet").is_file():
        raise ViewerError(
            f"{out}: no summary.json or calls.parquet; is it a `dispatch simulate` output?"
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ViewerError(f"{summary_path}: not a readable summary") from None
    if summary.get("kind") == "sweep":
        raise ViewerError(f"{out}: a sweep output; the viewer replays `dispatch simulate` outputs")
    if not (out / "events.parquet").is_file():
        raise ViewerError(
            f"{out}: no events.parquet; rerun `dispatch simulate SCENARIO --out {out} --events` "
            "to record the event log the viewer replays"
        )
    path = scenario if scenario is not None else summary.get("scenario_path")
    if path is None:
        raise ViewerError(
            f"{out}: the results do not record their scenario file; give it with --scenario FILE"
        )
    if not Path(path).is_file():
        raise ViewerError(f"{path}: scenario file not found; give it with --scenario FILE")
    loaded = load_scenario(path)
    from dataclasses import replace

    seed = summary.get("seed")
    if isinstance(seed, int) and seed != loaded.seed:  # `dispatch simulate --seed`
        loaded = replace(loaded, seed=seed)
    return _Results(
        out=out,
        summary=summary,
        calls=pd.read_parquet(out / "calls.parquet"),
        events=pd.read_parquet(out / "events.parquet"),
        scenario=loaded,
    )


def _seconds(stamps: pd.Series, epoch: pd.Timestamp) -> np.ndarray:
    """Engine seconds of timestamps (NaN where missing)."""
    return np.array((stamps - epoch).dt.total_seconds(), dtype=float)


def _ints(values: np.ndarray) -> list[int]:
    """Rounded whole seconds, -1 where missing."""
    out: list[int] = np.where(np.isfinite(values), np.round(values), -1).astype(np.int64).tolist()
    return out


class _Codes:
    """Dictionary encoding: each distinct label gets the next integer."""

    def __init__(self, first: Sequence[str] = ()) -> None:
        self.labels: list[str] = []
        self._index: dict[str, int] = {}
        for label in first:
            self.code(label)

    def code(self, label: str) -> int:
        found = self._index.get(label)
        if found is None:
            found = self._index[label] = len(self.labels)
            self.labels.append(label)
        return found

    def codes(self, labels: Sequence[str]) -> list[int]:
        return [self.code(label) for label in labels]


def _delta(values: Sequence[int]) -> list[int]:
    """First value, then differences: short numbers for tracks and outlines."""
    out = list(values)
    for k in range(len(out) - 1, 0, -1):
        out[k] -= out[k - 1]
    return out


def _outline(lons: np.ndarray, lats: np.ndarray) -> list[int]:
    """A ring or polyline as interleaved delta-encoded integer coordinates ``x0, y0, dx, dy...``,
    repeated vertices after rounding left out."""
    x = np.round(np.asarray(lons, dtype=float) * SCALE).astype(np.int64)
    y = np.round(np.asarray(lats, dtype=float) * SCALE).astype(np.int64)
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = (np.diff(x) != 0) | (np.diff(y) != 0)
    x, y = x[keep], y[keep]
    flat = np.empty(2 * len(x), dtype=np.int64)
    flat[0::2] = np.diff(x, prepend=0)
    flat[1::2] = np.diff(y, prepend=0)
    return flat.tolist()


def network_polylines(travel: RoadNetworkTimes) -> list[list[int]]:
    """The road network as polylines: each runs between intersections (nodes that do not have
    exactly two neighbours) through the nodes in between, every street drawn once."""
    coo = travel._forward.tocoo()  # the oracle's forward graph: one entry per directed edge
    a = np.minimum(coo.row, coo.col).astype(np.int64)
    b = np.maximum(coo.row, coo.col).astype(np.int64)
    pairs = np.unique(np.column_stack([a, b]), axis=0)
    neighbours: dict[int, list[int]] = {}
    for u, v in pairs.tolist():
        neighbours.setdefault(u, []).append(v)
        neighbours.setdefault(v, []).append(u)
    seen: set[tuple[int, int]] = set()
    lines: list[list[int]] = []

    def walk(start: int, nxt: int) -> list[int]:
        path = [start, nxt]
        seen.add((min(start, nxt), max(start, nxt)))
        prev, node = start, nxt
        while len(neighbours[node]) == 2:
            step = neighbours[node][0] if neighbours[node][1] == prev else neighbours[node][1]
            edge = (min(node, step), max(node, step))
            if edge in seen:
                break
            seen.add(edge)
            path.append(step)
            prev, node = node, step
        return path

    ends = [n for n, nb in neighbours.items() if len(nb) != 2]
    for node in [*ends, *neighbours]:  # intersections first, then loops with none
        for nxt in neighbours[node]:
            if (min(node, nxt), max(node, nxt)) not in seen:
                lines.append(walk(node, nxt))
    return [_outline(travel.lons[line], travel.lats[line]) for line in lines]


def _sites(
    ids: Sequence[str], names: Sequence[str], lats: Sequence[float], lons: Sequence[float]
) -> dict[str, list[Any]]:
    return {
        "id": list(ids),
        "name": list(names),
        "x": [round(v * SCALE) for v in lons],
        "y": [round(v * SCALE) for v in lats],
    }


def _day_starts(epoch: pd.Timestamp, last_s: float) -> tuple[list[int], list[str]]:
    """Local midnights from the epoch's day through the day of ``last_s`` (and the next one),
    as engine seconds, and their dates."""
    import pandas as pd

    naive = epoch.tz_localize(None)
    starts: list[int] = []
    labels: list[str] = []
    k = 0
    while True:
        day = (naive + pd.Timedelta(days=k)).tz_localize(
            epoch.tz, ambiguous=False, nonexistent="shift_forward"
        )
        s = round((day - epoch).total_seconds())
        starts.append(s)
        labels.append(day.strftime("%Y-%m-%d %a"))
        if s > last_s:
            return starts, labels  # the last entry only closes the day before it
        k += 1


def build_viewer_data(
    directory: str | Path,
    *,
    replications: Sequence[int] | None = None,
    scenario: str | Path | None = None,
) -> dict[str, Any]:
    """The viewer's data for a ``dispatch simulate --events`` output, as JSON-ready values.

    Parameters
    ----------
    directory
        The output directory.
    replications
        The replications to include (default: the first one in the results).
    scenario
        The scenario file, when the results do not record it or it has moved.

    Returns
    -------
    dict
        ``title``, ``epoch`` (ISO 8601), ``scale`` (coordinates are integers of ``1/scale``
        degree), ``days`` (``start``: engine seconds of local midnights, one more than there
        are days; ``label``), ``areas`` (``name``, ``ring`` -> area index, ``rings``),
        ``network`` (polylines), ``stations`` and ``facilities`` (``id``, ``name``, ``x``,
        ``y``), ``statuses``, ``outcomes``, ``labels`` (dictionaries of the coded call
        columns), ``attribution``, and ``replications``: per replication its ``calls``
        (columns sorted by receipt: ``id``, ``x``, ``y``, ``received``, ``dispatched``,
        ``arrived``, ``cleared`` in whole seconds, -1 when it never happened; ``processing``,
        ``queue``, ``travel``, ``on_scene``; coded ``outcome``, ``reason``, ``team``, ``kind``,
        ``risk``, ``call_type``, ``wellness``, ``facility``; ``priority``, ``transported``) and
        its ``teams`` (``id``, ``kind``, and delta-encoded keyframes ``t``, ``x``, ``y`` with
        statuses ``s``).

    Raises
    ------
    ViewerError
        See `read_results`; also for a replication not in the results, or results that do
        not match the scenario's calls.
    """
    import pandas as pd

    from dispatch.districts import Districts
    from dispatch.sim.prepare import prepare, replication_calls, streams
    from dispatch.travel import RoadNetworkTimes

    res = read_results(directory, scenario)
    prep = prepare(res.scenario)
    epoch = prep.epoch
    travel = prep.matcher.travel
    present = sorted(set(res.calls["replication"].astype(int).tolist()))
    wanted = list(replications) if replications else present[:1]
    missing = [k for k in wanted if k not in present]
    if missing:
        raise ViewerError(
            f"{res.out}: no replication {missing[0]} in the results "
            f"(they hold {', '.join(map(str, present))})"
        )
    has_events = set(res.events["replication"].astype(int).tolist())
    labels = {
        "reason": _Codes([""]),
        "team": _Codes(),
        "kind": _Codes([""]),
        "risk": _Codes(),
        "call_type": _Codes([""]),
        "wellness": _Codes([""]),
        "facility": _Codes([""]),
    }
    setup = prep.setup
    team_kinds = {t: k.value for t, k in zip(setup.team_ids, setup.kinds, strict=True)}
    for team in setup.team_ids:
        labels["team"].code(team)
    last_s = 0.0
    reps: list[dict[str, Any]] = []
    for k in wanted:
        if k not in has_events:
            raise ViewerError(f"{res.out}: events.parquet has no rows of replication {k}")
        table = replication_calls(prep, streams(res.scenario.seed, k)["calls"])
        calls = res.calls[(res.calls["replication"] == k) & (res.calls["outcome"] != "thinned")]
        calls = calls.sort_values("received_at", kind="stable").reset_index(drop=True)
        where = pd.Index(table.call_id.astype(str)).get_indexer(calls["call_id"].astype(str))
        if (where < 0).any():
            lost = calls["call_id"].iloc[int(np.flatnonzero(where < 0)[0])]
            raise ViewerError(
                f"{res.out}: call {lost!r} of replication {k} is not among the scenario's calls; "
                "were the results made from another version of the scenario?"
            )
        lat, lon = table.lat[where], table.lon[where]
        scene = travel.snap_many(lat, lon)
        received = _seconds(calls["received_at"], epoch)
        dispatched = _seconds(calls["dispatched_at"], epoch)
        arrived = _seconds(calls["arrived_at"], epoch)
        cleared = _seconds(calls["cleared_at"], epoch)
        events = res.events[res.events["replication"] == k]
        # An unserved call is closed when the session gives it up.
        gave_up = events[events["event"] == "unserved"].groupby("call_id")["time_s"].min()
        unserved = calls["outcome"].to_numpy() == "unserved"
        cleared[unserved] = gave_up.reindex(calls["call_id"][unserved]).to_numpy(dtype=float)
        finite = np.concatenate([received, cleared[np.isfinite(cleared)]])
        last_s = max(last_s, float(finite.max()) if len(finite) else 0.0)
        calls = calls.assign(arrived_s=arrived)
        tracks = team_tracks(
            prep, events, calls, dict(zip(calls["call_id"].tolist(), scene.tolist(), strict=True))
        )
        outcome_code = {o: i for i, o in enumerate(OUTCOMES)}

        def floats(column: str, frame: pd.DataFrame = calls) -> list[int]:
            return _ints(frame[column].to_numpy(dtype=float, na_value=np.nan))

        transported = calls["transported"]
        reps.append(
            {
                "replication": k,
                "calls": {
                    "id": calls["call_id"].astype(str).tolist(),
                    "x": np.round(lon * SCALE).astype(np.int64).tolist(),
                    "y": np.round(lat * SCALE).astype(np.int64).tolist(),
                    "received": _ints(received),
                    "dispatched": _ints(dispatched),
                    "arrived": _ints(arrived),
                    "cleared": _ints(cleared),
                    "processing": floats("processing_s"),
                    "queue": floats("queue_s"),
                    "travel": floats("travel_s"),
                    "on_scene": floats("on_scene_s"),
                    "outcome": [outcome_code[o] for o in calls["outcome"].tolist()],
                    "reason": labels["reason"].codes(calls["reason"].fillna("").tolist()),
                    "team": [
                        labels["team"].code(t) if t else -1
                        for t in calls["team_id"].fillna("").tolist()
                    ],
                    "kind": labels["kind"].codes(calls["responder_kind"].fillna("").tolist()),
                    "risk": labels["risk"].codes(calls["risk"].fillna("").tolist()),
                    "call_type": labels["call_type"].codes(calls["call_type"].fillna("").tolist()),
                    "wellness": labels["wellness"].codes(
                        calls["wellness"].fillna("").tolist()
                        if "wellness" in calls.columns
                        else [""] * len(calls)
                    ),
                    "facility": labels["facility"].codes(calls["facility_id"].fillna("").tolist()),
                    "priority": calls["priority"].astype(int).tolist(),
                    "transported": [
                        -1 if v is pd.NA else int(bool(v)) for v in transported.tolist()
                    ],
                },
                "teams": {
                    "id": list(tracks),
                    "kind": [team_kinds[t] for t in tracks],
                    "t": [_delta(tr.t) for tr in tracks.values()],
                    "x": [_delta(tr.x) for tr in tracks.values()],
                    "y": [_delta(tr.y) for tr in tracks.values()],
                    "s": [tr.s for tr in tracks.values()],
                },
            }
        )
    starts, day_labels = _day_starts(epoch, last_s)
    sc = res.scenario
    map_spec = getattr(sc, "map", None)
    areas: dict[str, list[Any]] = {"name": [], "ring": [], "rings": []}
    if map_spec is not None and getattr(map_spec, "areas", None) is not None:
        districts = Districts.from_geojson(map_spec.areas, map_spec.area_property)
        for a, (name, rings) in enumerate(zip(districts.names, districts.rings, strict=True)):
            areas["name"].append(name)
            for ring in rings:
                areas["ring"].append(a)
                areas["rings"].append(_outline(ring[:, 0], ring[:, 1]))
    network = network_polylines(travel) if isinstance(travel, RoadNetworkTimes) else []
    attribution = [str(getattr(map_spec, "attribution", "") or "")] if map_spec else []
    if network:
        attribution.append("Streets: OpenStreetMap contributors, ODbL 1.0")
    return {
        "title": str(res.summary.get("scenario") or sc.name),
        "epoch": epoch.isoformat(),
        "timezone": sc.timezone,
        "scale": SCALE,
        "target_min": float(res.summary.get("target_response_min") or 0.0),
        "days": {"start": starts, "label": day_labels[:-1]},
        "areas": areas,
        "network": network,
        "stations": _sites(
            [s.site_id for s in sc.stations],
            [getattr(s, "name", "") or s.site_id for s in sc.stations],
            [s.lat for s in sc.stations],
            [s.lon for s in sc.stations],
        ),
        "facilities": _sites(
            [f.site_id for f in sc.facilities],
            [getattr(f, "name", "") or f.site_id for f in sc.facilities],
            [f.lat for f in sc.facilities],
            [f.lon for f in sc.facilities],
        ),
        "statuses": list(STATUSES),
        "outcomes": list(OUTCOMES),
        "labels": {name: codes.labels for name, codes in labels.items()},
        "attribution": "; ".join(a for a in attribution if a),
        "replications": reps,
    }


def page(data: dict[str, Any]) -> str:
    """The viewer page with ``data`` inlined."""
    template = resources.files("dispatch.viewer").joinpath(TEMPLATE).read_text(encoding="utf-8")
    # Inside a <script> element only "</" can end it early; JSON allows "<\/" for it.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return template.replace(TITLE_TOKEN, html.escape(str(data.get("title", "")))).replace(
        DATA_TOKEN, payload
    )


def write_viewer(
    directory: str | Path,
    *,
    out: str | Path | None = None,
    replications: Sequence[int] | None = None,
    scenario: str | Path | None = None,
) -> Path:
    """Write the replay viewer for a ``dispatch simulate --events`` output.

    Parameters
    ----------
    directory
        The output directory.
    out
        The HTML file; default ``DIRECTORY/viewer.html``.
    replications
        The replications the page can play (default: the first one).
    scenario
        The scenario file, when the results do not record it or it has moved.

    Returns
    -------
    Path
        The HTML file written.
    """
    data = build_viewer_data(directory, replications=replications, scenario=scenario)
    path = Path(out) if out is not None else Path(directory) / "viewer.html"
    path.write_text(page(data), encoding="utf-8")
    return path
