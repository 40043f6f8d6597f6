"""The fleet as columns: the matcher's hot path reads numpy arrays, not `Team` objects.

A `Fleet` holds one row per team, sorted by team id (so ties break the same way everywhere):
kind code, CIT flag, current place, on-duty and dispatchable flags. A CAD integration builds it
once from `Team` values and updates the state columns as units change status; the simulator
does the same from its event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.match.rules import KIND_CODES, TIER_GAP_S, RuleSet
from dispatch.model import RiskLevel, Team, TeamKind, TeamStatus
from dispatch.travel import TravelTimes

KINDS_BY_CODE: tuple[TeamKind, ...] = tuple(TeamKind)


class Fleet:
    """Columnar state of every team.

    Attributes
    ----------
    team_ids
        Team ids, sorted; row ``i`` of every column describes ``team_ids[i]``.
    kind
        Kind codes (index into `KINDS_BY_CODE`).
    cit
        CIT certification (0/1).
    place
        Current place (travel-oracle index) of each team.
    on_duty
        True while a team is on shift (a team finishing a call past its shift end counts as on
        duty until it clears).
    dispatchable
        True when a team may be given a new call (on duty and available or returning).
    """

    def __init__(
        self,
        team_ids: Sequence[str],
        kinds: Sequence[TeamKind],
        cit: Sequence[bool],
        places: npt.ArrayLike,
        *,
        on_duty: npt.ArrayLike | None = None,
        dispatchable: npt.ArrayLike | None = None,
    ) -> None:
        n = len(team_ids)
        if not (len(kinds) == len(cit) == n):
            raise InputError("team columns differ in length")
        order = sorted(range(n), key=lambda i: team_ids[i])
        ids = [str(team_ids[i]) for i in order]
        seen: set[str] = set()
        for team_id in ids:
            if team_id in seen:
                raise InputError(f"duplicate team id {team_id!r}", field="team_id")
            seen.add(team_id)
        self.team_ids: list[str] = ids
        self.index: dict[str, int] = {team_id: i for i, team_id in enumerate(ids)}
        idx = np.asarray(order, dtype=np.int64)
        self.kind = np.asarray([KIND_CODES[kinds[i]] for i in order], dtype=np.int64)
        self.cit = np.asarray([1 if cit[i] else 0 for i in order], dtype=np.int64)
        self.place = (
            np.asarray(places, dtype=np.int64).reshape(-1)[idx] if n else np.zeros(0, np.int64)
        )
        self.on_duty = (
            np.ones(n, dtype=bool)
            if on_duty is None
            else np.asarray(on_duty, dtype=bool).reshape(-1)[idx]
        )
        self.dispatchable = (
            self.on_duty.copy()
            if dispatchable is None
            else np.asarray(dispatchable, dtype=bool).reshape(-1)[idx] & self.on_duty
        )
        # Wellness state, read only when the matcher has wellness rules (see match/wellness.py).
        self.recovering_until_s = np.full(n, -np.inf)
        self.streak = np.zeros(n, dtype=np.int64)
        self.recent_utilization = np.zeros(n)
        self.load_s = np.zeros(n)
        #: Static per-team answers a policy computes once per fleet (kinds, CIT, districts).
        self.cache: dict[tuple[object, ...], Any] = {}
        self._tiers_rules: RuleSet | None = None
        self._tiers: dict[RiskLevel, tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]] = {}
        self._base: dict[
            tuple[RiskLevel, str],
            tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]],
        ] = {}

    @classmethod
    def from_teams(cls, teams: Sequence[Team], travel: TravelTimes) -> Fleet:
        """Build the columns from `Team` values, snapping each position onto ``travel``."""
        places = (
            travel.snap_many([t.lat for t in teams], [t.lon for t in teams])
            if teams
            else np.zeros(0, dtype=np.int64)
        )
        fleet = cls(
            [t.team_id for t in teams],
            [t.kind for t in teams],
            [t.cit for t in teams],
            places,
            on_duty=[t.status is not TeamStatus.OFF_DUTY for t in teams],
            dispatchable=[t.status.dispatchable for t in teams],
        )
        for team in teams:
            i = fleet.index[team.team_id]
            fleet.recovering_until_s[i] = team.recovering_until_s
            fleet.streak[i] = team.consecutive_calls
            fleet.recent_utilization[i] = team.recent_utilization
            fleet.load_s[i] = team.shift_busy_s
        return fleet

    def __len__(self) -> int:
        return len(self.team_ids)

    def kind_of(self, i: int) -> TeamKind:
        """Kind of the team in row ``i``."""
        return KINDS_BY_CODE[int(self.kind[i])]

    def tiers(
        self, rules: RuleSet, risk: RiskLevel
    ) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.float64]]:
        """Per team: tier index for ``risk`` under ``rules`` (-1 ineligible) and penalty seconds.

        Kind and CIT do not change, so this is computed once per rule set and risk.
        """
        if rules is not self._tiers_rules:
            self._tiers_rules = rules
            self._tiers = {}
            self._base = {}
        found = self._tiers.get(risk)
        if found is None:
            tier_of, penalty = rules.tables(risk)
            found = (tier_of[self.kind, self.cit], penalty[self.kind, self.cit])
            self._tiers[risk] = found
        return found

    def base_scores(
        self, rules: RuleSet, risk: RiskLevel, specialist_tiers: npt.NDArray[np.bool_]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Static part of each team's score for ``risk``: tier offset plus CIT penalty.

        Returns ``(any_tier, specialist_only, is_specialist)``: the first is ``inf`` for
        ineligible teams, the second also for teams outside the specialist tiers.
        ``specialist_tiers`` flags each tier of ``risk`` with a trailing False for tier -1.
        """
        key = (risk, "base")
        found = self._base.get(key) if rules is self._tiers_rules else None
        if found is None:
            tier, penalty = self.tiers(rules, risk)
            is_specialist = specialist_tiers[tier]
            any_tier = np.where(tier >= 0, tier * TIER_GAP_S + penalty, np.inf)
            found = (any_tier, np.where(is_specialist, any_tier, np.inf), is_specialist)
            self._base[key] = found
        return found

    def set_state(
        self,
        team_id: str,
        *,
        place: int | None = None,
        on_duty: bool | None = None,
        dispatchable: bool | None = None,
    ) -> None:
        """Update one team's state columns (what a CAD status message does)."""
        try:
            i = self.index[team_id]
        except KeyError:
            raise InputError(f"unknown team id {team_id!r}", field="team_id") from None
        if place is not None:
            self.place[i] = place
        if on_duty is not None:
            self.on_duty[i] = on_duty
        if dispatchable is not None:
            self.dispatchable[i] = dispatchable
        self.dispatchable[i] &= self.on_duty[i]
