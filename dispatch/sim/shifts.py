"""Turn recurring `Shift` patterns into on-duty intervals in scenario seconds.

Shift clocks are local: a 09:00 shift starts at 09:00 local time on both sides of a
daylight-saving change, so intervals are computed through the scenario's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

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
    n_days = int(horizon_s // 86400) + 3
    raw: list[tuple[float, float]] = []
    for k in range(n_days):
        day = first_day + timedelta(days=k)
        for shift in shifts:
            if day.weekday() not in shift.days:
                continue
            start_local = datetime.combine(day.date(), datetime.min.time()) + timedelta(
                hours=shift.start_hour
            )
            start = pd.Timestamp(start_local).tz_localize(
                tz, nonexistent="shift_forward", ambiguous=True
            )
            end = pd.Timestamp(start_local + timedelta(hours=shift.hours)).tz_localize(
                tz, nonexistent="shift_forward", ambiguous=False
            )
            s = (start - epoch).total_seconds()
            e = (end - epoch).total_seconds()
            if e > 0 and s < horizon_s:
                raw.append((max(s, 0.0), e))
    raw.sort()
    merged: list[tuple[float, float]] = []
    for s, e in raw:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def on_duty_seconds(
    intervals: Sequence[tuple[float, float]], start_s: float, end_s: float
) -> float:
    """Seconds of ``intervals`` inside ``[start_s, end_s]``."""
    return sum(max(0.0, min(e, end_s) - max(s, start_s)) for s, e in intervals)
