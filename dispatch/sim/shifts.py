"""Turn recurring `Shift` patterns into on-duty intervals in scenario seconds.

Shift clocks are local: a 09:00 shift starts at 09:00 local time on both sides of a
daylight-saving change, so intervals are computed through the scenario's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from dispatch.model import Shift


def duty_intervals(
    shifts: Sequence[Shift], epoch: pd.Timestamp, horizon_s: float
) -> list[tuple[float, float]]:
    """On-duty intervals ``(start_s, end_s)`` overlapping ``[0, horizon_s]``, merged and sorted.

    Parameters
    ----------
    shifts
        The team's shift patterns; an empty sequence means always on duty.
    epoch
        Scenario start, a time-zone-aware timestamp (local midnight of the first day).
    horizon_s
        Scenario length in seconds.
    """
    if not shifts:
        return [(0.0, float("inf"))]
    tz = epoch.tz
    first_day = epoch.tz_localize(None).normalize() - timedelta(days=1)
    days = pd.date_range(first_day, periods=int(horizon_s // 86400) + 3, freq="D")
    weekday = days.day_of_week.to_numpy()
    # Every shift's starts and ends as local wall times, localized in one call each (a call
    # per day costs tens of microseconds); offsets are `timedelta`s, whose microsecond
    # rounding of fractional hours is the contract.
    starts, ends = [], []
    for shift in shifts:
        on = days[np.isin(weekday, sorted(shift.days))]
        start_local = on + pd.Timedelta(timedelta(hours=shift.start_hour))
        starts.append(start_local)
        ends.append(start_local + pd.Timedelta(timedelta(hours=shift.hours)))
    start_at = _local(starts, tz, ambiguous=True)
    end_at = _local(ends, tz, ambiguous=False)
    s_all = _seconds_since(start_at, epoch)
    e_all = _seconds_since(end_at, epoch)
    keep = (e_all > 0) & (s_all < horizon_s)
    raw = list(zip(np.maximum(s_all[keep], 0.0).tolist(), e_all[keep].tolist(), strict=True))
    raw.sort()
    merged: list[tuple[float, float]] = []
    for s, e in raw:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _local(parts: list[pd.DatetimeIndex], tz: Any, *, ambiguous: bool) -> pd.DatetimeIndex:
    """Local wall times in ``tz``: a time skipped by a clock change moves forward to the
    change; a repeated one is its first (``ambiguous``) or second occurrence."""
    local = pd.DatetimeIndex(np.concatenate([p.to_numpy() for p in parts]))
    flags = np.full(len(local), ambiguous)
    return local.tz_localize(tz, nonexistent="shift_forward", ambiguous=flags)


def _seconds_since(at: pd.DatetimeIndex, epoch: pd.Timestamp) -> npt.NDArray[np.float64]:
    """Seconds from ``epoch`` to each of ``at``, as `pandas.Timedelta.total_seconds` gives."""
    return np.array([t.total_seconds() for t in at - epoch], dtype=float)


def on_duty_seconds(
    intervals: Sequence[tuple[float, float]], start_s: float, end_s: float
) -> float:
    """Seconds of ``intervals`` inside ``[start_s, end_s]``."""
    return sum(max(0.0, min(e, end_s) - max(s, start_s)) for s, e in intervals)
