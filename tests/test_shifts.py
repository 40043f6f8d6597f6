"""`duty_intervals` against a day-by-day reference: each shift start localized on its own, as a
clock on the wall reads it, across daylight-saving changes and fractional hours."""

from __future__ import annotations

from datetime import datetime, timedelta

import hypothesis.strategies as st
import pandas as pd
from hypothesis import given, settings

from dispatch.model import Shift
from dispatch.sim.shifts import duty_intervals

ZONES = ["UTC", "America/Chicago", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]


def reference(
    shifts: list[Shift], epoch: pd.Timestamp, horizon_s: float
) -> list[tuple[float, float]]:
    """One shift on one day at a time: the local start and end, localized one by one (a time
    a clock change skips moves forward; a repeated start is its first occurrence, a repeated
    end its second), clipped to the horizon and merged."""
    first_day = epoch.tz_localize(None).normalize() - timedelta(days=1)
    raw = []
    for k in range(int(horizon_s // 86400) + 3):
        day = first_day + timedelta(days=k)
        for shift in shifts:
            if day.weekday() not in shift.days:
                continue
            local = datetime.combine(day.date(), datetime.min.time()) + timedelta(
                hours=shift.start_hour
            )
            start = pd.Timestamp(local).tz_localize(
                epoch.tz, nonexistent="shift_forward", ambiguous=True
            )
            end = pd.Timestamp(local + timedelta(hours=shift.hours)).tz_localize(
                epoch.tz, nonexistent="shift_forward", ambiguous=False
            )
            s, e = (start - epoch).total_seconds(), (end - epoch).total_seconds()
            if e > 0 and s < horizon_s:
                raw.append((max(s, 0.0), e))
    merged: list[tuple[float, float]] = []
    for s, e in sorted(raw):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


shift = st.builds(
    Shift,
    start_hour=st.one_of(st.sampled_from([0.0, 1.5, 2.0, 7.0, 23.0]), st.floats(0.0, 23.99)),
    hours=st.one_of(st.sampled_from([0.5, 8.0, 12.0, 24.0]), st.floats(0.1, 24.0)),
    days=st.frozensets(st.integers(0, 6), min_size=1),
)


@settings(max_examples=150, deadline=None)
@given(
    shifts=st.lists(shift, min_size=1, max_size=3),
    zone=st.sampled_from(ZONES),
    first=st.dates(
        min_value=pd.Timestamp("2024-01-01").date(), max_value=pd.Timestamp("2026-12-31").date()
    ),
    horizon_s=st.one_of(
        st.sampled_from([3 * 86400.0, 366 * 86400.0]), st.floats(600.0, 60 * 86400.0)
    ),
)
def test_duty_intervals_are_the_day_by_day_answer(
    shifts: list[Shift], zone: str, first: object, horizon_s: float
) -> None:
    epoch = pd.Timestamp(first).tz_localize(zone)
    assert duty_intervals(shifts, epoch, horizon_s) == reference(shifts, epoch, horizon_s)


def test_no_shift_is_always_on_duty() -> None:
    assert duty_intervals([], pd.Timestamp("2025-01-06", tz="UTC"), 86400.0) == [
        (0.0, float("inf"))
    ]
