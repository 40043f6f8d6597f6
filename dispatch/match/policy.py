"""Dispatch policies: the static part of each team's score for a call, and what it means.

A policy answers one question for the `Matcher`: before travel time, how does each team rank
for this call? It returns, per fleet row, an offset in seconds (``inf`` when the team may not
go) to which the matcher adds the ETA; the lowest total wins. Everything else (masks for busy
and off-duty teams, the travel limit, wellness holds and the fairness tie-break, reason codes,
explanations) is the matcher's, shared by every policy.

- `TieredNearest` (the default): the rule set's tiers in preference order, a CIT penalty where
  certification is preferred, then the nearest.
- `DistrictFirst`: within a tier, the teams of the call's district first, then those of the
  districts its run card names next, in order, then the rest; nearest within each.

A new policy is one class with ``offsets`` and ``rank_note``, passed as ``Matcher(policy=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.match.fleet import Fleet
from dispatch.match.rules import TIER_GAP_S, RuleSet
from dispatch.model import RiskLevel

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Offsets = tuple[FloatArray, FloatArray, BoolArray]

#: Score gap between run-card ranks inside a tier, seconds: above any ETA plus CIT penalty.
DISTRICT_GAP_S = 1.0e4


class Policy(Protocol):
    """What the matcher asks of a dispatch policy."""

    @property
    def rules(self) -> RuleSet:
        """Eligibility and tiers; the matcher's reason codes and labels come from them."""
        ...

    def offsets(
        self, fleet: Fleet, risk: RiskLevel, zone: str | None = None, call_type: str = ""
    ) -> Offsets:
        """Per team: ``(any_tier, specialist_only, is_specialist)``.

        ``any_tier`` is the score offset (seconds) before the ETA, ``inf`` for teams that may
        not take the call; ``specialist_only`` the same with non-specialist tiers ``inf`` too;
        ``is_specialist`` whether each team is in a specialist tier for ``risk``.
        """
        ...

    def rank_note(
        self, fleet: Fleet, row: int, chosen: int, zone: str | None, call_type: str
    ) -> str | None:
        """Why team ``row`` ranks below the chosen team inside their common tier, if the
        policy ranks them apart (None when only the ETA separates them)."""
        ...


@dataclass(frozen=True)
class TieredNearest:
    """The rule set's tiers in preference order, then the nearest team.

    Examples
    --------
    >>> from dispatch.match.rules import default_rules
    >>> from dispatch.model import TeamKind
    >>> fleet = Fleet(["CR", "P"], [TeamKind.CO_RESPONDER, TeamKind.PATROL], [True, False],
    ...               [0, 0])
    >>> any_tier, specialist_only, _ = TieredNearest(default_rules()).offsets(
    ...     fleet, RiskLevel.STANDARD)
    >>> any_tier.tolist(), specialist_only.tolist()
    ([0.0, 2000000.0], [0.0, inf])
    """

    rules: RuleSet

    def __post_init__(self) -> None:
        lookup = {r: np.append(self.rules.specialist_tiers(r), False) for r in RiskLevel}
        object.__setattr__(self, "_specialist_lookup", lookup)

    def offsets(
        self, fleet: Fleet, risk: RiskLevel, zone: str | None = None, call_type: str = ""
    ) -> Offsets:
        """Tier offset plus CIT penalty (zone and call type do not matter)."""
        lookup: dict[RiskLevel, BoolArray] = self._specialist_lookup  # type: ignore[attr-defined]
        return fleet.base_scores(self.rules, risk, lookup[risk])

    def rank_note(
        self, fleet: Fleet, row: int, chosen: int, zone: str | None, call_type: str
    ) -> str | None:
        """Inside a tier only the ETA (and CIT penalty) separates teams."""
        return None


@dataclass(frozen=True)
class RunCard:
    """The order in which districts answer calls from one zone, as on a CAD run card.

    Parameters
    ----------
    zone
        The zone (district) the calls come from.
    districts
        Districts in the order they answer; the zone's own is usually first. Teams of
        districts not listed come after all listed ones.
    call_types
        Call types this card is for; empty for every type. A card for the call's type wins
        over a card for every type.
    """

    zone: str
    districts: tuple[str, ...]
    call_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if len(set(self.districts)) != len(self.districts):
            raise InputError(f"run card for zone {self.zone!r} repeats a district")
        if len(self.districts) * DISTRICT_GAP_S >= TIER_GAP_S:
            raise InputError(f"run card for zone {self.zone!r} lists too many districts")


@dataclass(frozen=True)
class DistrictFirst:
    """District-first dispatch with run cards, inside the rule set's tiers.

    A call from zone ``z`` is answered, within each tier of the rules, by the teams of the
    districts its run card lists, in that order; nearest within a district. A zone without a
    card is answered by its own district first, then by the nearest team. A call with no zone
    is dispatched as `TieredNearest` would.

    Parameters
    ----------
    rules
        Eligibility and tiers, as for `TieredNearest`.
    team_district
        District of each team id; teams not named belong to no district (they answer after
        every listed district).
    run_cards
        Run cards by zone and call type.

    Examples
    --------
    >>> from dispatch.match.rules import default_rules
    >>> from dispatch.model import TeamKind
    >>> co = TeamKind.CO_RESPONDER
    >>> fleet = Fleet(["A1", "B1", "C1"], [co, co, co], [True] * 3, [0, 0, 0])
    >>> policy = DistrictFirst(default_rules(), {"A1": "A", "B1": "B", "C1": "C"},
    ...                        [RunCard("A", ("A", "C", "B"))])
    >>> policy.offsets(fleet, RiskLevel.STANDARD, zone="A")[0].tolist()
    [0.0, 20000.0, 10000.0]
    >>> policy.offsets(fleet, RiskLevel.STANDARD, zone="B")[0].tolist()  # no card: own first
    [10000.0, 0.0, 10000.0]
    """

    rules: RuleSet
    team_district: Mapping[str, str]
    run_cards: Sequence[RunCard] = ()
    _cards: dict[tuple[str, str], tuple[str, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tiered", TieredNearest(self.rules))
        cards: dict[tuple[str, str], tuple[str, ...]] = {}
        for card in self.run_cards:
            for call_type in card.call_types or {""}:
                key = (card.zone, call_type)
                if key in cards:
                    what = f"call type {call_type!r}" if call_type else "every call type"
                    raise InputError(f"two run cards for zone {card.zone!r} and {what}")
                cards[key] = card.districts
        object.__setattr__(self, "_cards", cards)

    def card(self, zone: str, call_type: str = "") -> tuple[str, ...]:
        """The districts answering a call of ``call_type`` from ``zone``, in order."""
        found = self._cards.get((zone, call_type)) or self._cards.get((zone, ""))
        return found if found is not None else (zone,)

    def _ranks(self, fleet: Fleet, zone: str, call_type: str) -> FloatArray:
        key = ("district_first", id(self), zone, call_type)
        found = fleet.cache.get(key)
        if found is None:
            order = self.card(zone, call_type)
            position = {district: k for k, district in enumerate(order)}
            last = len(order)
            found = np.array(
                [position.get(self.team_district.get(t, ""), last) for t in fleet.team_ids],
                dtype=np.float64,
            )
            fleet.cache[key] = found
        return found

    def offsets(
        self, fleet: Fleet, risk: RiskLevel, zone: str | None = None, call_type: str = ""
    ) -> Offsets:
        """Tier offset, plus the run-card rank of the team's district times `DISTRICT_GAP_S`."""
        tiered: TieredNearest = self._tiered  # type: ignore[attr-defined]
        any_tier, specialist_only, is_specialist = tiered.offsets(fleet, risk)
        if zone is None:
            return any_tier, specialist_only, is_specialist
        key = ("district_first_offsets", id(self), zone, call_type, risk)
        found = fleet.cache.get(key)
        if found is None:
            extra = self._ranks(fleet, zone, call_type) * DISTRICT_GAP_S
            found = (any_tier + extra, specialist_only + extra, is_specialist)
            fleet.cache[key] = found
        return found

    def rank_note(
        self, fleet: Fleet, row: int, chosen: int, zone: str | None, call_type: str
    ) -> str | None:
        """Names the run-card places of the two teams' districts when they differ."""
        if zone is None:
            return None
        ranks = self._ranks(fleet, zone, call_type)
        if ranks[row] == ranks[chosen]:
            return None
        theirs = self.team_district.get(fleet.team_ids[row], "no district")
        ours = self.team_district.get(fleet.team_ids[chosen], "no district")
        return f"district {theirs} answers zone {zone} after district {ours} on its run card"
