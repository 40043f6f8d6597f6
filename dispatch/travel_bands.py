"""Travel bands: road speeds that depend on the local time of the week (rush hour, nights).

A `TravelBand` is a weekly window of local wall-clock time (the days it starts on, a start and
an end time) with its own edge weights: a speed factor per road class, or an edge-weight column
of the network. `TravelBands` holds a scenario's bands and its time zone; at most one band is in
force at any local minute of the week, and outside every band the network's own weights apply.

Band indices: 0 is the network's own weights, ``k`` the ``k``-th band (1-based, file order).

Engine time is seconds since the scenario start. `TravelBands.clock` anchors the bands at that
start and gives a `BandClock`, whose `BandClock.band_at` maps engine seconds to a band index with
one comparison and a bisection over precomputed change points. Bands follow the local wall
clock through daylight-saving changes: a band from 01:00 to 02:00 on the night the clocks go back
lasts two real hours, and a band inside the hour that is skipped in spring never applies.

Examples
--------
>>> import pandas as pd
>>> rush = TravelBand.weekly("rush", days="weekdays", start="07:00", end="09:00",
...                          speed_factor={"default": 0.8, "primary": 0.5})
>>> bands = TravelBands((rush,), timezone="America/Chicago")
>>> bands.at_local("tue", "08:30"), bands.at_local("sat", "08:30")
(1, 0)
>>> clock = bands.clock(pd.Timestamp("2025-03-03", tz="America/Chicago"))  # a Monday
>>> clock.band_at(6.5 * 3600), clock.band_at(7.5 * 3600), clock.band_at(9 * 3600)
(0, 1, 0)
>>> rush.factor("primary"), rush.factor("residential")
(0.5, 0.8)
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError

FloatArray = npt.NDArray[np.float64]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {"all": tuple(range(7)), "weekdays": tuple(range(5)), "weekends": (5, 6)}
DEFAULT_CLASS = "default"  # the speed-factor key for every road class not named
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
MAX_BANDS = 254  # band indices fit in a byte with 0 for the base weights
_CHUNK_S = 8 * 7 * 86400.0  # a clock works out change points for at least 8 weeks at a time


def parse_days(days: str | Iterable[str]) -> frozenset[int]:
    """Weekday numbers (Monday 0) from names: ``mon``..``sun``, ``all``, ``weekdays``, ``weekends``.

    Examples
    --------
    >>> sorted(parse_days(["sat", "sun"])), sorted(parse_days("weekdays"))
    ([5, 6], [0, 1, 2, 3, 4])
    """
    names = [days] if isinstance(days, str) else list(days)
    out: set[int] = set()
    for name in names:
        key = str(name).lower()
        if key in DAY_SETS:
            out.update(DAY_SETS[key])
        elif key in DAY_NAMES:
            out.add(DAY_NAMES.index(key))
        else:
            raise ValueError(f"unknown day {name!r}; use mon..sun, 'all', 'weekdays' or 'weekends'")
    if not out:
        raise ValueError("a band needs at least one day")
    return frozenset(out)


def parse_clock(value: str, *, allow_24: bool = False) -> int:
    """Minutes after midnight of a local clock time ``HH:MM`` (``24:00`` when ``allow_24``).

    Examples
    --------
    >>> parse_clock("07:30"), parse_clock("24:00", allow_24=True)
    (450, 1440)
    """
    parts = value.split(":")
    ok = len(parts) == 2 and all(p.isdigit() and len(p) == 2 for p in parts)
    if ok:
        hours, minutes = int(parts[0]), int(parts[1])
        if 0 <= hours < 24 and 0 <= minutes < 60:
            return hours * 60 + minutes
        if allow_24 and (hours, minutes) == (24, 0):
            return MINUTES_PER_DAY
    upper = "24:00" if allow_24 else "23:59"
    raise ValueError(f"{value!r} is not a clock time HH:MM (00:00-{upper})")


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class TravelBand:
    """A weekly window of local time with its own travel speeds.

    Attributes
    ----------
    band_id
        Name, unique among a scenario's bands.
    days
        Weekdays the window starts on (Monday 0 .. Sunday 6).
    start_min, end_min
        Local wall-clock minutes after midnight, ``0 <= start_min < 1440`` and
        ``0 < end_min <= 1440``; an end at or before the start runs past midnight into the next
        day (22:00-06:00 on Friday covers Friday night up to Saturday 06:00).
    speed_factor
        Speed multiplier per road class (travel seconds are divided by it), each > 0; key
        ``"default"`` for every class not named (1.0 when absent). None when ``weight_column``
        gives the band's seconds.
    weight_column
        Name of an edge attribute (graph) or column (edge CSV) holding the band's travel seconds.
    """

    band_id: str
    days: frozenset[int]
    start_min: int
    end_min: int
    speed_factor: Mapping[str, float] | None = None
    weight_column: str | None = None

    def __post_init__(self) -> None:
        where = f"band {self.band_id!r}"
        if not self.band_id:
            raise InputError("a travel band needs a non-empty id")
        if not self.days or not set(self.days) <= set(range(7)):
            raise InputError(f"{where}: days must be weekday numbers 0 (Monday) to 6")
        if not 0 <= self.start_min < MINUTES_PER_DAY:
            raise InputError(f"{where}: start_min must be in 0..1439, got {self.start_min!r}")
        if not 0 < self.end_min <= MINUTES_PER_DAY:
            raise InputError(f"{where}: end_min must be in 1..1440, got {self.end_min!r}")
        if self.end_min % MINUTES_PER_DAY == self.start_min:
            raise InputError(f"{where}: start and end are the same time (an empty or 24 h band)")
        if (self.speed_factor is None) == (self.weight_column is None):
            raise InputError(f"{where}: give exactly one of speed_factor or weight_column")
        if self.speed_factor is not None:
            if not self.speed_factor:
                raise InputError(f"{where}: speed_factor names no road class")
            for road_class, value in self.speed_factor.items():
                if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                    raise InputError(
                        f"{where}: speed factor for {road_class!r} must be a finite number > 0, "
                        f"got {value!r}"
                    )
        if self.weight_column is not None and not self.weight_column:
            raise InputError(f"{where}: weight_column must name a column")

    @staticmethod
    def weekly(
        band_id: str,
        *,
        days: str | Iterable[str] = "all",
        start: str,
        end: str,
        speed_factor: float | Mapping[str, float] | None = None,
        weight_column: str | None = None,
    ) -> TravelBand:
        """A band from day names and ``HH:MM`` clock times (``end`` may be ``24:00``).

        A single ``speed_factor`` number applies to every road class.

        Examples
        --------
        >>> night = TravelBand.weekly("night", start="22:00", end="06:00", speed_factor=1.2)
        >>> night.start_min, night.end_min, night.factor("motorway")
        (1320, 360, 1.2)
        """
        factors = (
            {DEFAULT_CLASS: float(speed_factor)}
            if isinstance(speed_factor, int | float)
            else None
            if speed_factor is None
            else dict(speed_factor)
        )
        return TravelBand(
            band_id,
            parse_days(days),
            parse_clock(start),
            parse_clock(end, allow_24=True),
            speed_factor=factors,
            weight_column=weight_column,
        )

    @property
    def road_classes(self) -> frozenset[str]:
        """Road classes the speed factors name (``"default"`` excluded)."""
        return frozenset(self.speed_factor or ()) - {DEFAULT_CLASS}

    def factor(self, road_class: str) -> float:
        """Speed factor for a road class (the default for classes not named)."""
        factors = self.speed_factor or {}
        return float(factors.get(road_class, factors.get(DEFAULT_CLASS, 1.0)))

    def minutes_of_week(self) -> npt.NDArray[np.int64]:
        """Local minutes of the week (Monday 00:00 = 0) the band covers, ascending."""
        length = (self.end_min - self.start_min) % MINUTES_PER_DAY
        starts = np.array(sorted(self.days), dtype=np.int64) * MINUTES_PER_DAY + self.start_min
        covered = (starts[:, None] + np.arange(length, dtype=np.int64)) % MINUTES_PER_WEEK
        return np.sort(covered.ravel())

    def describe(self) -> str:
        """``"rush (mon,tue 07:00-09:00)"``: the band as a person would read it."""
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        end = _clock_text(self.end_min)
        return f"{self.band_id} ({days} {_clock_text(self.start_min)}-{end})"


@dataclass(frozen=True)
class TravelBands:
    """A scenario's travel bands in its time zone; at most one in force at any local minute.

    Parameters
    ----------
    bands
        The bands; band ``k`` (1-based) is ``bands[k - 1]``.
    timezone
        IANA zone of the bands' wall-clock times.

    Raises
    ------
    InputError
        For an unknown time zone, repeated ids, or two bands that overlap (naming both and the
        first shared local minute).
    """

    bands: tuple[TravelBand, ...]
    timezone: str = "UTC"
    _week: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InputError(f"unknown time zone {self.timezone!r}") from None
        object.__setattr__(self, "bands", tuple(self.bands))
        if len(self.bands) > MAX_BANDS:
            raise InputError(f"at most {MAX_BANDS} travel bands, got {len(self.bands)}")
        ids = [b.band_id for b in self.bands]
        for band_id in ids:
            if ids.count(band_id) > 1:
                raise InputError(f"travel band id {band_id!r} is used twice")
        week = np.zeros(MINUTES_PER_WEEK, dtype=np.uint8)
        for k, band in enumerate(self.bands, start=1):
            minutes = band.minutes_of_week()
            taken = minutes[week[minutes] != 0]
            if len(taken):
                first = int(taken[0])
                other = self.bands[int(week[first]) - 1]
                day, minute = divmod(first, MINUTES_PER_DAY)
                raise InputError(
                    f"travel bands {other.describe()} and {band.describe()} overlap "
                    f"(both cover {DAY_NAMES[day]} {_clock_text(minute)})"
                )
            week[minutes] = k
        object.__setattr__(self, "_week", week.tobytes())

    def __len__(self) -> int:
        return len(self.bands)

    @property
    def n_bands(self) -> int:
        """Number of weight sets: the base weights plus one per band."""
        return len(self.bands) + 1

    @property
    def road_classes(self) -> frozenset[str]:
        """Road classes any band's speed factors name."""
        return frozenset().union(*(b.road_classes for b in self.bands))

    @property
    def weight_columns(self) -> tuple[str, ...]:
        """Edge columns the bands read their seconds from, in band order, without repeats."""
        seen = [b.weight_column for b in self.bands if b.weight_column is not None]
        return tuple(dict.fromkeys(seen))

    def at_local(self, day: str | int, clock: str) -> int:
        """Band index in force at a local weekday (``"mon"`` or 0..6) and ``HH:MM``; 0 for none."""
        d = DAY_NAMES.index(day.lower()) if isinstance(day, str) else int(day)
        return self._week[d * MINUTES_PER_DAY + parse_clock(clock)]

    def by_minute_of_week(self) -> npt.NDArray[np.uint8]:
        """Band index for each local minute of the week (Monday 00:00 first)."""
        return np.frombuffer(self._week, dtype=np.uint8).copy()

    def clock(self, epoch: Any) -> BandClock:
        """These bands anchored at ``epoch``: engine seconds since ``epoch`` -> band index.

        Parameters
        ----------
        epoch
            The instant engine time 0 stands for: a time-zone-aware `datetime` or pandas
            `Timestamp` (any zone; wall-clock times are read in ``timezone``).
        """
        return BandClock(self, epoch)

    def edge_seconds(
        self,
        base_s: FloatArray,
        *,
        road_class: Sequence[str] | None = None,
        columns: Mapping[str, FloatArray] | None = None,
        source: str = "road network",
    ) -> list[FloatArray]:
        """Travel seconds of every edge under each band (band 1 first).

        Parameters
        ----------
        base_s
            The network's own edge seconds.
        road_class
            Each edge's road class (such as OpenStreetMap ``highway``); None when the network
            has none, which is an error only for bands whose factors name classes.
        columns
            Edge-weight columns (seconds) by name, for bands with a ``weight_column``.
        source
            Named in errors.

        Raises
        ------
        InputError
            When a band names a road class the network lacks, or a column it does not carry, or
            a column holds a value that is not a finite number >= 0.

        Examples
        --------
        >>> import numpy as np
        >>> bands = TravelBands((TravelBand.weekly("rush", start="07:00", end="09:00",
        ...                                        speed_factor={"primary": 0.5}),))
        >>> bands.edge_seconds(np.array([10.0, 10.0]), road_class=["primary", "residential"])
        [array([20., 10.])]
        """
        base = np.asarray(base_s, dtype=float)
        classes: npt.NDArray[np.str_] | None = None
        if road_class is not None:
            classes = np.asarray(list(road_class), dtype=str)
            if len(classes) != len(base):
                raise ValueError("road_class needs one entry per edge")
        known = frozenset(np.unique(classes).tolist()) if classes is not None else frozenset()
        out: list[FloatArray] = []
        for band in self.bands:
            if band.weight_column is not None:
                column = (columns or {}).get(band.weight_column)
                if column is None:
                    raise InputError(
                        f"band {band.band_id!r}: the network has no edge column "
                        f"{band.weight_column!r}",
                        source=source,
                    )
                seconds = np.asarray(column, dtype=float)
                bad = ~np.isfinite(seconds) | (seconds < 0)
                if bad.any():
                    raise InputError(
                        f"band {band.band_id!r}: edge {int(np.flatnonzero(bad)[0]) + 1} has "
                        f"{band.weight_column!r} = {seconds[bad][0]!r}; travel seconds must be "
                        "finite and >= 0",
                        source=source,
                    )
                out.append(seconds)
                continue
            named = band.road_classes
            if named and classes is None:
                raise InputError(
                    f"band {band.band_id!r}: speed_factor names road classes "
                    f"({', '.join(sorted(named))}) but the network carries none",
                    source=source,
                )
            missing = named - known
            if missing:
                raise InputError(
                    f"band {band.band_id!r}: no edge has road class "
                    f"{', '.join(repr(c) for c in sorted(missing))} "
                    f"(classes: {', '.join(sorted(known)) or 'none'})",
                    source=source,
                )
            factor = np.full(len(base), band.factor(DEFAULT_CLASS))
            if classes is not None:
                for road_class_name in named:
                    factor[classes == road_class_name] = band.factor(road_class_name)
            out.append(base / factor)
        return out


def _utc_seconds(epoch: Any) -> float:
    if isinstance(epoch, datetime):
        if epoch.tzinfo is None or epoch.tzinfo.utcoffset(epoch) is None:
            raise ValueError("the epoch must be time-zone aware (a naive time has no instant)")
        return float(epoch.timestamp())
    raise TypeError(f"the epoch must be a datetime or pandas Timestamp, got {type(epoch).__name__}")


class BandClock:
    """`TravelBands` anchored at an instant: engine seconds -> band index.

    Change points (the engine seconds at which the band in force changes) are worked out from
    the local wall clock minute by minute, a few weeks at a time as queries reach them, so a
    lookup is a range check and a bisection.

    Parameters
    ----------
    bands
        The bands and their time zone.
    epoch
        The time-zone-aware instant engine time 0 stands for.
    """

    __slots__ = ("_band", "_hi", "_lo", "_starts", "bands", "epoch_utc_s")

    def __init__(self, bands: TravelBands, epoch: Any) -> None:
        self.bands = bands
        self.epoch_utc_s = _utc_seconds(epoch)
        self._starts: list[float] = []
        self._band: list[int] = []
        self._lo = math.inf  # covered engine seconds: [_lo, _hi)
        self._hi = -math.inf

    def band_at(self, at_s: float) -> int:
        """Index of the band in force ``at_s`` engine seconds after the epoch (0 for none)."""
        if not self._lo <= at_s < self._hi:
            self._cover(at_s)
        return self._band[bisect_right(self._starts, at_s) - 1]

    def segments(self, start_s: float, end_s: float) -> list[tuple[float, float, int]]:
        """``(from_s, to_s, band)`` stretches of constant band covering ``[start_s, end_s)``.

        Examples
        --------
        >>> import pandas as pd
        >>> bands = TravelBands((TravelBand.weekly("rush", start="07:00", end="09:00",
        ...                                        speed_factor=0.5),), timezone="UTC")
        >>> bands.clock(pd.Timestamp("2025-03-03", tz="UTC")).segments(0, 86400)
        [(0.0, 25200.0, 0), (25200.0, 32400.0, 1), (32400.0, 86400.0, 0)]
        """
        if not end_s > start_s:
            return []
        self.band_at(start_s)
        self.band_at(math.nextafter(end_s, -math.inf))
        i = bisect_right(self._starts, start_s) - 1
        out: list[tuple[float, float, int]] = []
        from_s = float(start_s)
        while from_s < end_s:
            to_s = self._starts[i + 1] if i + 1 < len(self._starts) else self._hi
            out.append((from_s, float(min(to_s, end_s)), self._band[i]))
            from_s, i = to_s, i + 1
        return out

    def _cover(self, at_s: float) -> None:
        if not math.isfinite(at_s):
            raise ValueError(f"at_s must be finite seconds, got {at_s!r}")
        if self._lo > self._hi:  # nothing covered yet
            lo, hi = at_s - 86400.0, at_s + _CHUNK_S
        else:
            grow = max(self._hi - self._lo, _CHUNK_S)  # doubling: amortised linear work
            lo = min(self._lo, at_s - grow) if at_s < self._lo else self._lo
            hi = max(self._hi, at_s + grow) if at_s >= self._hi else self._hi
        self._compute(lo, hi)

    def _compute(self, lo_s: float, hi_s: float) -> None:
        import pandas as pd

        first = math.floor((self.epoch_utc_s + lo_s) / 60.0)
        last = math.ceil((self.epoch_utc_s + hi_s) / 60.0) + 1
        minutes = np.arange(first, last, dtype=np.int64)  # UTC minutes since 1970
        local = pd.DatetimeIndex(minutes * 60_000_000_000, tz="UTC").tz_convert(self.bands.timezone)
        minute_of_week = (
            local.day_of_week.to_numpy(dtype=np.int64) * MINUTES_PER_DAY
            + local.hour.to_numpy(dtype=np.int64) * 60
            + local.minute.to_numpy(dtype=np.int64)
        )
        week = np.frombuffer(self.bands._week, dtype=np.uint8)
        band = week[minute_of_week]
        change = np.flatnonzero(np.diff(band) != 0) + 1
        index = np.concatenate([[0], change])
        # Boundaries are whole UTC minutes (every zone's offset is whole minutes), as engine
        # seconds; the first is the start of the covered range.
        starts = minutes[index] * 60.0 - self.epoch_utc_s
        self._starts = starts.tolist()
        self._band = band[index].astype(int).tolist()
        self._lo = float(starts[0])
        self._hi = float(last * 60.0 - self.epoch_utc_s)
