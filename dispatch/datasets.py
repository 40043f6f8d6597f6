"""Bundled data sets and example scenarios: where they are and small validated readers.

The package ships two data sets in ``dispatch/data/`` (package data, found through
`importlib.resources`, so they are there after ``pip install coresponder-dispatch`` as well as
in a checkout, where ``data/`` at the top is a link to the same folder):

- ``stlouis/``: St. Louis City neighbourhoods and wards (real, 2020 census population),
  SLMPD stations and crisis facilities (real addresses, approximate coordinates), an hour-of-week
  demand profile derived from real NYC EMS psychiatric call counts, and a **synthetic** one-year
  behavioral-health call log that follows published St. Louis figures. ``stlouis/README.md``
  says which figure each part follows; ``scripts/build_stlouis.py`` rebuilds it.
- ``denver/``: a small downtown Denver road network (vertices and edges) from OpenStreetMap;
  ``denver/README.md`` gives its origin and licence.

The example scenarios live in ``dispatch/scenarios/`` (``scenarios/`` in a checkout) and name
their data by relative paths (``../data/stlouis/calls_2025.csv``), so a copy of both folders
side by side (``dispatch init DIR``) still resolves.

Examples
--------
>>> from dispatch import datasets
>>> stl = datasets.stlouis()
>>> stl.timezone
'America/Chicago'
>>> sites = datasets.read_sites(stl.stations)
>>> list(sites.columns)
['id', 'name', 'kind', 'lat', 'lon', 'approximate', 'source']
>>> datasets.example_scenario("stlouis_cru").name
'stlouis_cru.toml'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Final

import pandas as pd

from dispatch.errors import InputError

__all__ = [
    "DATA_DIR",
    "PROFILE_COLUMNS",
    "SCENARIOS_DIR",
    "SITE_COLUMNS",
    "DenverData",
    "StLouisData",
    "data_dir",
    "denver",
    "example_scenario",
    "example_scenarios",
    "read_demand_profile",
    "read_sites",
    "stlouis",
]


def _package_folder(name: str) -> Path:
    """A folder shipped inside the ``dispatch`` package, as a file-system path.

    An ordinary install (wheel, editable or checkout) keeps package data as plain files; a
    package imported from a zip archive does not, and `data_dir` then reports the folder as
    missing.
    """
    return Path(str(files("dispatch").joinpath(name)))


DATA_DIR: Final[Path] = _package_folder("data")
"""The bundled ``data/`` folder inside the installed ``dispatch`` package."""

SCENARIOS_DIR: Final[Path] = _package_folder("scenarios")
"""The bundled example scenarios (``*.toml``) inside the installed ``dispatch`` package."""

SITE_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "name",
    "kind",
    "lat",
    "lon",
    "approximate",
    "source",
)
"""Columns of a stations or facilities CSV, in order."""

PROFILE_COLUMNS: Final[tuple[str, ...]] = ("hour_of_week", "weight")
"""Columns a demand profile CSV must have (others, such as ``day`` and ``hour``, may follow)."""

_REBUILD = "reinstall coresponder-dispatch, or in a checkout run scripts/build_stlouis.py"
_REINSTALL = "reinstall coresponder-dispatch"
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class StLouisData:
    """Paths of the St. Louis data set (``data/stlouis/``).

    Attributes
    ----------
    calls
        Synthetic one-year call log (``calls_2025.csv``) in the call-log contract; local times
        without zone, in `timezone`.
    neighborhoods
        GeoJSON, 88 neighbourhood outlines plus one placeholder without geometry, with
        ``total_population`` (2020 census; 301,578 in all).
    wards
        GeoJSON, the 14 wards in effect since 2023, with ``TOT_POP``.
    boundary
        GeoJSON, the city limit (one polygon, WGS84).
    stations
        SLMPD headquarters and patrol-division stations (`read_sites`).
    facilities
        Crisis centre and hospitals that take behavioral-health patients (`read_sites`).
    demand_profile
        Hour-of-week weights, Monday 00:00 = 0, summing to 1 (`read_demand_profile`).
    nyc_hourly
        The real NYC EMS hourly psychiatric call counts the profile is derived from.
    timezone
        IANA time zone of the local times, ``"America/Chicago"``.
    """

    calls: Path
    neighborhoods: Path
    wards: Path
    boundary: Path
    stations: Path
    facilities: Path
    demand_profile: Path
    nyc_hourly: Path
    timezone: str = "America/Chicago"


@dataclass(frozen=True)
class DenverData:
    """Paths of the downtown Denver road network (``data/denver/``).

    Attributes
    ----------
    vertices
        ``vertices-complete.csv.gz``: node id and coordinates.
    edges
        ``edges-complete.csv.gz``: directed edges with length and speed.
    """

    vertices: Path
    edges: Path


def data_dir() -> Path:
    """Return `DATA_DIR`, checking that it exists.

    Returns
    -------
    pathlib.Path
        The bundled ``data/`` folder.

    Raises
    ------
    InputError
        If the folder is missing (a broken install, or a package imported from a zip archive).
    """
    if not DATA_DIR.is_dir():
        raise InputError(f"bundled data folder not found; {_REINSTALL}", source=str(DATA_DIR))
    return DATA_DIR


def example_scenarios() -> list[Path]:
    """The bundled example scenario files, sorted by name.

    Returns
    -------
    list of pathlib.Path
        The ``*.toml`` files of `SCENARIOS_DIR`; each names its data by a path relative to
        itself (``../data/...``).

    Raises
    ------
    InputError
        If the folder is missing or holds no scenario.

    Examples
    --------
    >>> from dispatch.datasets import example_scenarios
    >>> [path.stem for path in example_scenarios()][:2]
    ['denver_downtown', 'stlouis_clinicians']
    """
    found = sorted(SCENARIOS_DIR.glob("*.toml")) if SCENARIOS_DIR.is_dir() else []
    if not found:
        raise InputError(
            f"bundled example scenarios not found; {_REINSTALL}", source=str(SCENARIOS_DIR)
        )
    return found


def example_scenario(name: str) -> Path:
    """One bundled example scenario, by name.

    Parameters
    ----------
    name
        File name with or without ``.toml``, e.g. ``"stlouis_cru"``.

    Returns
    -------
    pathlib.Path
        The scenario file, ready for `dispatch.load_scenario`.

    Raises
    ------
    InputError
        If there is no such example; the message lists the ones there are.

    Examples
    --------
    >>> import dispatch
    >>> from dispatch.datasets import example_scenario
    >>> dispatch.load_scenario(example_scenario("denver_downtown")).name
    'Denver downtown co-responders'
    """
    wanted = name.removesuffix(".toml")
    scenarios = example_scenarios()
    for path in scenarios:
        if path.stem == wanted:
            return path
    names = ", ".join(path.stem for path in scenarios)
    raise InputError(f"no example scenario {name!r}; there are: {names}")


def _existing(path: Path, hint: str) -> Path:
    if not path.is_file():
        raise InputError(f"bundled data file missing; {hint}", source=str(path))
    return path


def stlouis() -> StLouisData:
    """Locate the St. Louis data set.

    Returns
    -------
    StLouisData
        Paths of every file, each checked to exist.

    Raises
    ------
    InputError
        If ``data/`` or any file of the set is missing.

    Examples
    --------
    >>> from dispatch.datasets import stlouis
    >>> stlouis().calls.name
    'calls_2025.csv'
    """
    root = data_dir() / "stlouis"

    def path(name: str) -> Path:
        return _existing(root / name, _REBUILD)

    return StLouisData(
        calls=path("calls_2025.csv"),
        neighborhoods=path("stl_neighborhoods.geojson"),
        wards=path("stl_wards.geojson"),
        boundary=path("stl_boundary_wgs84.geojson"),
        stations=path("stations.csv"),
        facilities=path("facilities.csv"),
        demand_profile=path("bh_demand_profile.csv"),
        nyc_hourly=path("nyc_psychiatric_hourly.csv"),
    )


def denver() -> DenverData:
    """Locate the downtown Denver road network.

    Returns
    -------
    DenverData
        Paths of the vertex and edge tables, each checked to exist.

    Raises
    ------
    InputError
        If ``data/`` or either file is missing.
    """
    root = data_dir() / "denver"
    return DenverData(
        vertices=_existing(root / "vertices-complete.csv.gz", _REINSTALL),
        edges=_existing(root / "edges-complete.csv.gz", _REINSTALL),
    )


def _read_csv(path: str | Path) -> tuple[pd.DataFrame, str]:
    source = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file: {exc}", source=source) from None
    return frame, source


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(columns)}",
            source=source,
        )


def _float(value: str, *, source: str, row: int, field: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"not a number: {value!r}", source=source, row=row, field=field) from None
    if not (math.isfinite(number) and low <= number <= high):
        raise InputError(
            f"{number} is outside [{low}, {high}]", source=source, row=row, field=field
        )
    return number


def read_sites(path: str | Path) -> pd.DataFrame:
    """Read a stations or facilities CSV and validate it.

    Parameters
    ----------
    path
        CSV with the columns `SITE_COLUMNS`: ``id`` (unique, non-empty), ``name``, ``kind``,
        ``lat`` and ``lon`` (WGS84 degrees), ``approximate`` (``true``/``false``: the point
        stands for an area such as a ZIP-code centroid, not the building) and ``source``.

    Returns
    -------
    pandas.DataFrame
        One row per site with exactly the `SITE_COLUMNS`, in order; ``lat`` and ``lon`` are
        float, ``approximate`` is bool, the rest str.

    Raises
    ------
    InputError
        Naming the file, the 1-based data row and the column of the first bad value.

    Examples
    --------
    >>> from dispatch.datasets import read_sites, stlouis
    >>> read_sites(stlouis().facilities)["kind"].isin(["crisis_center", "hospital"]).all()
    np.True_
    """
    frame, source = _read_csv(path)
    _require_columns(frame, SITE_COLUMNS, source)
    if frame.empty:
        raise InputError("no sites in the file", source=source)
    lat: list[float] = []
    lon: list[float] = []
    approximate: list[bool] = []
    seen: set[str] = set()
    columns = [frame[c].tolist() for c in ("id", "lat", "lon", "approximate")]
    for row, (site_id, lat_s, lon_s, approx_s) in enumerate(zip(*columns, strict=True), 1):
        site_id = site_id.strip()
        if not site_id:
            raise InputError("empty id", source=source, row=row, field="id")
        if site_id in seen:
            raise InputError(f"duplicate id {site_id!r}", source=source, row=row, field="id")
        seen.add(site_id)
        lat.append(_float(lat_s, source=source, row=row, field="lat", low=-90, high=90))
        lon.append(_float(lon_s, source=source, row=row, field="lon", low=-180, high=180))
        flag = approx_s.strip().lower()
        if flag not in _TRUE | _FALSE:
            raise InputError(
                f"expected true or false, got {approx_s!r}",
                source=source,
                row=row,
                field="approximate",
            )
        approximate.append(flag in _TRUE)
    out = frame.loc[:, list(SITE_COLUMNS)].copy()
    out["id"] = out["id"].str.strip()
    out["lat"] = pd.Series(lat, index=out.index, dtype=float)
    out["lon"] = pd.Series(lon, index=out.index, dtype=float)
    out["approximate"] = pd.Series(approximate, index=out.index, dtype=bool)
    return out.reset_index(drop=True)


def read_demand_profile(path: str | Path, *, tolerance: float = 1e-6) -> pd.DataFrame:
    """Read an hour-of-week demand profile and validate it.

    Parameters
    ----------
    path
        CSV with ``hour_of_week`` (each of 0..167 once; Monday 00:00 local time = 0) and
        ``weight`` (non-negative, summing to 1). Other columns are kept.
    tolerance
        How far the weights may sum from 1 (they are written rounded).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``hour_of_week`` (int) with ``weight`` as float, renormalised to sum to 1.

    Raises
    ------
    InputError
        If a column is missing, an hour is missing, repeated or out of range, or a weight is
        negative or the weights do not sum to 1.
    """
    frame, source = _read_csv(path)
    _require_columns(frame, PROFILE_COLUMNS, source)
    hours: list[int] = []
    weights: list[float] = []
    pairs = zip(frame["hour_of_week"].tolist(), frame["weight"].tolist(), strict=True)
    for row, (hour_s, weight_s) in enumerate(pairs, 1):
        hour = _float(hour_s, source=source, row=row, field="hour_of_week", low=0, high=167)
        if hour != int(hour):
            raise InputError(
                f"not a whole hour: {hour_s!r}", source=source, row=row, field="hour_of_week"
            )
        hours.append(int(hour))
        weights.append(_float(weight_s, source=source, row=row, field="weight", low=0, high=1))
    if sorted(hours) != list(range(168)):
        raise InputError("hour_of_week must list each of 0..167 exactly once", source=source)
    total = math.fsum(weights)
    if abs(total - 1.0) > tolerance:
        raise InputError(f"weights sum to {total}, not 1", source=source, field="weight")
    out = frame.copy()
    out["hour_of_week"] = pd.Series(hours, index=out.index, dtype="int64")
    out["weight"] = pd.Series([w / total for w in weights], index=out.index, dtype=float)
    return out.sort_values("hour_of_week", kind="stable").reset_index(drop=True)
