"""Wellness bookkeeping of a dispatch session: the fleet columns the wellness rules read.

The rules themselves live in `dispatch.match.wellness` and are applied by the matcher; this
module only keeps, for each team, what those rules look at: when its recovery window ends, its
run of crisis calls since the last break, its busy share over the rolling window, and its load
this shift. The `Dispatcher` calls it as teams are dispatched, clear, rest and start shifts.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from dispatch.match.fleet import Fleet
from dispatch.match.wellness import WellnessRules


class WellnessTracker:
    """Keeps a fleet's wellness columns current as a dispatch session runs.

    Parameters
    ----------
    rules
        The wellness rules (which parameters are on decides what is tracked).
    fleet
        The replay's fleet; its wellness columns are written in place.
    """

    def __init__(self, rules: WellnessRules, fleet: Fleet) -> None:
        m = len(fleet)
        self.rules = rules
        self.fleet = fleet
        self.break_s = rules.break_min * 60.0
        self.window_s = rules.utilization_window_h * 3600.0
        self.last_free = np.full(m, -np.inf)
        self.busy_since = np.zeros(m)
        self.busy: list[deque[tuple[float, float]]] = [deque() for _ in range(m)]

    def refresh(self, now: float) -> None:
        """Bring the columns to ``now`` before a decision."""
        fleet = self.fleet
        if self.rules.max_consecutive is not None:
            rested = fleet.dispatchable & (now - self.last_free >= self.break_s)
            fleet.streak[rested] = 0
        if self.rules.utilization_cap is None:
            return
        start = now - self.window_s
        for i in np.flatnonzero(fleet.dispatchable).tolist():
            intervals = self.busy[i]
            while intervals and intervals[0][1] <= start:
                intervals.popleft()
            busy = sum(min(e, now) - max(s, start) for s, e in intervals)
            fleet.recent_utilization[i] = busy / self.window_s

    def dispatched(self, i: int, now: float) -> None:
        """Team ``i`` takes a call: its streak grows unless it has rested since the last one."""
        if now - self.last_free[i] >= self.break_s:
            self.fleet.streak[i] = 0
        self.fleet.streak[i] += 1
        self.busy_since[i] = now

    def cleared(self, i: int, now: float, *, critical: bool) -> list[float]:
        """Team ``i`` is free again; returns delays (s) after which a hold it now has ends."""
        fleet = self.fleet
        self.busy[i].append((float(self.busy_since[i]), now))
        fleet.load_s[i] += now - self.busy_since[i]
        self.last_free[i] = now
        wake = []
        if critical and self.rules.recovery_min is not None:
            fleet.recovering_until_s[i] = now + self.rules.recovery_min * 60.0
            wake.append(self.rules.recovery_min * 60.0)
        limit = self.rules.max_consecutive
        if limit is not None and fleet.streak[i] >= limit:
            wake.append(self.break_s)
        return wake

    def rested(self, i: int, now: float) -> None:
        """Team ``i`` ends a break: the streak starts again."""
        self.fleet.streak[i] = 0
        self.last_free[i] = now

    def shift_started(self, i: int, now: float) -> None:
        """A new shift: no load yet, and the time off counts as a break."""
        self.fleet.load_s[i] = 0.0
        self.fleet.streak[i] = 0
        self.last_free[i] = now

    def snapshot(self) -> dict[str, Any]:
        """The tracker's own state as plain values (the fleet columns are the session's)."""
        return {
            "last_free": self.last_free.tolist(),
            "busy_since": self.busy_since.tolist(),
            "busy": [[list(pair) for pair in intervals] for intervals in self.busy],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Put back what `snapshot` returned."""
        self.last_free = np.asarray(state["last_free"], dtype=np.float64)
        self.busy_since = np.asarray(state["busy_since"], dtype=np.float64)
        self.busy = [deque((float(s), float(e)) for s, e in rows) for rows in state["busy"]]
