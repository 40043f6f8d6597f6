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
from dispatch.match.holds import Book
from dispatch.match.wellness import WellnessRules


class WellnessTracker:
    """Keeps a fleet's wellness columns current as a dispatch session runs.

    The shared history (when each team was last free, since when it is busy, its load this
    shift) is kept here; each hold rule of ``rules`` keeps its own column through its hooks
    (`dispatch.match.holds.HoldRule`).

    Parameters
    ----------
    rules
        The wellness rules (the rules that are on decide what is tracked).
    fleet
        The session's fleet; its wellness columns are written in place.
    """

    def __init__(self, rules: WellnessRules, fleet: Fleet) -> None:
        self.rules = rules
        self.fleet = fleet
        self.book = Book(fleet)
        self.holds = rules.hold_rules

    def refresh(self, now: float) -> None:
        """Bring the columns to ``now`` before a decision."""
        for rule in self.holds:
            rule.refresh(self.book, now)

    def dispatched(self, i: int, now: float) -> None:
        """Team ``i`` takes a call."""
        for rule in self.holds:
            rule.dispatched(self.book, i, now)
        self.book.busy_since[i] = now

    def cleared(self, i: int, now: float, *, critical: bool) -> list[float]:
        """Team ``i`` is free again; returns delays (s) after which a hold it now has ends."""
        book = self.book
        self.fleet.load_s[i] += now - book.busy_since[i]
        book.last_free[i] = now
        wake: list[float] = []
        for rule in self.holds:
            wake.extend(rule.cleared(book, i, now, critical=critical))
        return wake

    def rested(self, i: int, now: float) -> None:
        """Team ``i`` ends a break."""
        for rule in self.holds:
            rule.rested(self.book, i, now)
        self.book.last_free[i] = now

    def shift_started(self, i: int, now: float) -> None:
        """A new shift: no load yet, and the time off counts as a break."""
        self.fleet.load_s[i] = 0.0
        for rule in self.holds:
            rule.shift_started(self.book, i, now)
        self.book.last_free[i] = now

    def snapshot(self) -> dict[str, Any]:
        """The shared history as plain values (the fleet columns are the session's)."""
        book = self.book
        return {
            "last_free": book.last_free.tolist(),
            "busy_since": book.busy_since.tolist(),
            "busy": [[list(pair) for pair in intervals] for intervals in book.busy],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Put back what `snapshot` returned."""
        book = self.book
        book.last_free = np.asarray(state["last_free"], dtype=np.float64)
        book.busy_since = np.asarray(state["busy_since"], dtype=np.float64)
        book.busy = [deque((float(s), float(e)) for s, e in rows) for rows in state["busy"]]
