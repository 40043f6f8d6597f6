"""Workload and wellness figures from a replay's records: stretches, hourly load, fairness."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def team_intervals(
    team: npt.NDArray[np.int64],
    start_s: FloatArray,
    end_s: FloatArray,
    n_teams: int,
) -> list[tuple[FloatArray, FloatArray]]:
    """Per team, its busy intervals ``(starts, ends)`` sorted by start (seconds)."""
    out = []
    served = team >= 0
    for i in range(n_teams):
        rows = np.flatnonzero(served & (team == i))
        order = np.argsort(start_s[rows], kind="stable")
        out.append((start_s[rows][order], end_s[rows][order]))
    return out


def longest_stretch_s(starts: FloatArray, ends: FloatArray, break_s: float) -> float:
    """Longest run of calls without an idle gap of at least ``break_s`` seconds between them."""
    if len(starts) == 0:
        return 0.0
    gaps = starts[1:] - ends[:-1]
    cut = np.flatnonzero(gaps >= break_s)
    first = np.concatenate([[0], cut + 1])
    last = np.concatenate([cut, [len(starts) - 1]])
    return float(np.max(ends[last] - starts[first]))


def covered_by_hour(
    starts: Sequence[float] | FloatArray, ends: Sequence[float] | FloatArray, n_hours: int
) -> FloatArray:
    """Seconds of ``[starts, ends)`` intervals falling in each hour ``0..n_hours-1``.

    Intervals of one team never overlap, so the covered time up to ``t`` is the integral of an
    indicator, computed for all hour boundaries at once.
    """
    s = np.clip(np.asarray(starts, dtype=float), 0.0, n_hours * 3600.0)
    e = np.clip(np.asarray(ends, dtype=float), 0.0, n_hours * 3600.0)
    bounds = np.arange(n_hours + 1) * 3600.0
    # covered(t) = sum(min(t, e) - min(t, s)) over intervals, evaluated at each boundary.
    order_s, order_e = np.sort(s), np.sort(e)
    cum_s = np.concatenate([[0.0], np.cumsum(order_s)])
    cum_e = np.concatenate([[0.0], np.cumsum(order_e)])
    k_s = np.searchsorted(order_s, bounds, side="right")
    k_e = np.searchsorted(order_e, bounds, side="right")
    below_s = cum_s[k_s] + bounds * (len(order_s) - k_s)  # sum of min(t, s)
    below_e = cum_e[k_e] + bounds * (len(order_e) - k_e)  # sum of min(t, e)
    return np.diff(below_e - below_s)


def by_hour_of_day(per_hour: FloatArray) -> FloatArray:
    """Fold an hourly series starting at local midnight into 24 hour-of-day totals."""
    n = len(per_hour)
    padded = np.concatenate([per_hour, np.zeros((-n) % 24)])
    return np.asarray(padded.reshape(-1, 24).sum(axis=0))


def gini(values: Sequence[float] | FloatArray) -> float:
    """Gini coefficient of non-negative values (0 = perfectly even); NaN when all are zero."""
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() <= 0:
        return float("nan")
    n = len(x)
    return float((2.0 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum())) - (n + 1.0) / n)


def busiest_to_least(values: Sequence[float] | FloatArray) -> float:
    """Ratio of the largest to the smallest value; inf when the smallest is zero."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return float("nan")
    low = float(x.min())
    return float("inf") if low <= 0 else float(x.max()) / low
