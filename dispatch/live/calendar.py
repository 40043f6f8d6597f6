"""Shift starts and ends of a scenario's teams on the wall clock (Unix seconds).

The replay reads duty intervals relative to its scenario start; the service needs the same
shifts as absolute times, found afresh as the days go by. Both come from one function,
`dispatch.sim.shifts.duty_intervals`, so a shift means the same in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import pandas as pd

from dispatch.scenario import TeamSpec
from dispatch.sim.shifts import duty_intervals

DAY_S = 86400.0


class Boundary(NamedTuple):
    """Team ``team_id``'s shift starts (``start``) or ends at ``at_s`` (Unix seconds)."""

    at_s: float
    team_id: str
    start: bool


class ShiftCalendar:
    """Shift boundaries of a fleet, in the scenario's time zone.

    Parameters
    ----------
    teams
        The scenario's teams; a team without shifts is on duty around the clock.
    timezone
        IANA time zone the shift hours are in.

    Examples
    --------
    >>> from dispatch.model import Shift, TeamKind
    >>> team = TeamSpec("CR-1", TeamKind.CO_RESPONDER, "S1", shifts=(Shift(8.0, 10.0),))
    >>> cal = ShiftCalendar([team], "UTC")
    >>> cal.on_duty("CR-1", 9 * 3600.0), cal.on_duty("CR-1", 19 * 3600.0)
    (True, False)
    >>> cal.between(0.0, 86400.0)
    [Boundary(at_s=28800.0, team_id='CR-1', start=True), \
Boundary(at_s=64800.0, team_id='CR-1', start=False)]
    """

    def __init__(self, teams: Sequence[TeamSpec], timezone: str) -> None:
        self.teams = sorted(teams, key=lambda t: t.team_id)
        self.timezone = timezone

    def _intervals(self, team: TeamSpec, t0: float, t1: float) -> list[tuple[float, float]]:
        """On-duty intervals of ``team`` overlapping ``[t0, t1]``, Unix seconds."""
        if not team.shifts:
            return [(-math.inf, math.inf)]
        day = pd.Timestamp(t0, unit="s", tz="UTC").tz_convert(self.timezone).normalize()
        origin = day.timestamp()
        out = []
        for s, e in duty_intervals(team.shifts, day, t1 - origin + DAY_S):
            # duty_intervals clips at its epoch; an interval clipped there started earlier
            start = -math.inf if s <= 0.0 else origin + s
            out.append((start, origin + e))
        return out

    def on_duty(self, team_id: str, at_s: float) -> bool:
        """True when ``team_id`` is on duty at ``at_s`` by the schedule."""
        team = next(t for t in self.teams if t.team_id == team_id)
        return any(s <= at_s < e for s, e in self._intervals(team, at_s - DAY_S, at_s + DAY_S))

    def between(self, after_s: float, until_s: float) -> list[Boundary]:
        """Boundaries with ``after_s < at_s <= until_s``, in time order (ends before starts)."""
        found: list[Boundary] = []
        for team in self.teams:
            for s, e in self._intervals(team, after_s - DAY_S, until_s):
                if after_s < s <= until_s:
                    found.append(Boundary(s, team.team_id, True))
                if after_s < e <= until_s:
                    found.append(Boundary(e, team.team_id, False))
        found.sort(key=lambda b: (b.at_s, b.start, b.team_id))
        return found

    def next_after(self, after_s: float) -> float | None:
        """Time of the first boundary after ``after_s`` (within a week), or None."""
        found = self.between(after_s, after_s + 8 * DAY_S)
        return found[0].at_s if found else None
