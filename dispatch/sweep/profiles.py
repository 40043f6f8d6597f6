"""Hour-of-week profiles of a prepared scenario and its calls, shared by sweeps and the report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from dispatch.sim.prepare import Prepared

#: Response-time histogram: 1-minute bins from 0 to 240 minutes, then one bin for the rest.
HIST_MAX_MIN = 240


@dataclass
class DutyProfile:
    """Hour-of-week view of a prepared scenario over its call period.

    Attributes
    ----------
    hour_of_week
        For each hour since the epoch, its local hour of the week (Monday 00:00 = 0).
    hours
        How many hours of each hour of week the period has (168 values).
    duty
        Per team kind, mean teams on duty in each hour of week (168 values each).
    """

    hour_of_week: np.ndarray
    hours: np.ndarray
    duty: dict[str, np.ndarray] = field(default_factory=dict)


def duty_profile(prep: Prepared) -> DutyProfile:
    """Teams on duty by hour of week, averaged over the scenario's call period."""
    import pandas as pd

    from dispatch.sim.prepare import HORIZON_PAD_S

    period_s = max(prep.horizon_s - HORIZON_PAD_S, 3600.0)
    n = math.ceil(period_s / 3600.0)
    starts = prep.epoch + pd.to_timedelta(np.arange(n) * 3600, unit="s")
    how = np.asarray(starts.day_of_week * 24 + starts.hour, dtype=np.int64)
    hours = np.bincount(how, minlength=168)
    middle = np.arange(n) * 3600.0 + 1800.0
    duty: dict[str, np.ndarray] = {}
    for kind, intervals in zip(prep.setup.kinds, prep.setup.duty, strict=True):
        on = np.zeros(n, dtype=bool)
        if intervals:
            begin = np.array([s for s, _ in intervals], dtype=float)
            end = np.array([e for _, e in intervals], dtype=float)
            i = np.searchsorted(begin, middle, side="right") - 1
            on = (i >= 0) & (middle < end[np.maximum(i, 0)])
        name = kind.value
        row = duty.setdefault(name, np.zeros(168, dtype=float))
        row += np.bincount(how, weights=on.astype(float), minlength=168)
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in duty:
            duty[name] = np.where(hours > 0, duty[name] / np.maximum(hours, 1), np.nan)
    return DutyProfile(hour_of_week=how, hours=hours, duty=dict(sorted(duty.items())))


def demand_counts(profile: DutyProfile, epoch: pd.Timestamp, calls: pd.DataFrame) -> np.ndarray:
    """Calls received in each hour of week (168 counts; thinned calls left out)."""
    sim = calls[calls["outcome"] != "thinned"]
    seconds = (sim["received_at"] - epoch).dt.total_seconds().to_numpy(dtype=float)
    index = np.clip((seconds // 3600).astype(np.int64), 0, len(profile.hour_of_week) - 1)
    return np.bincount(profile.hour_of_week[index], minlength=168).astype(np.int64)


def staffing(prep: Prepared, profile: DutyProfile) -> dict[str, Any]:
    """Team count (all and by kind) and team-hours on duty per week."""
    kinds = [k.value for k in prep.setup.kinds]
    by_kind = {kind: kinds.count(kind) for kind in sorted(set(kinds))}
    hours = sum(float(np.nansum(row)) for row in profile.duty.values())
    return {"teams": len(kinds), "teams_by_kind": by_kind, "team_hours_week": round(hours, 3)}


def response_histogram(calls: pd.DataFrame) -> dict[str, list[int]]:
    """Response-time counts per outcome in 1-minute bins, 0..HIST_MAX_MIN, then the rest."""
    out: dict[str, list[int]] = {}
    edges = np.arange(HIST_MAX_MIN + 2, dtype=float)
    edges[-1] = np.inf
    for outcome in ("specialist", "fallback"):
        minutes = calls.loc[calls["outcome"] == outcome, "response_s"].to_numpy(dtype=float) / 60
        minutes = minutes[~np.isnan(minutes)]
        counts, _ = np.histogram(minutes, bins=edges)
        out[outcome] = [int(c) for c in counts]
    return out
