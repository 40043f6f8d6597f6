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
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from dispatch.errors import InputError
from dispatch.match.fleet import Fleet
from dispatch.match.rules import TIER_GAP_S, RuleSet
from dispatch.model import RiskLevel
from dispatch.travel_bands import BandClock, TravelBand, TravelBands

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
        self,
        fleet: Fleet,
        risk: RiskLevel,
        zone: str | None = None,
        call_type: str = "",
        now_s: float | None = None,
    ) -> Offsets:
        """Per team: ``(any_tier, specialist_only, is_specialist)`` for a call at ``now_s``.

        ``any_tier`` is the score offset (seconds) before the ETA, ``inf`` for teams that may
        not take the call; ``specialist_only`` the same with non-specialist tiers ``inf`` too;
        ``is_specialist`` whether each team is in a specialist tier for ``risk``.
        """
        ...

    def rank_note(
        self,
        fleet: Fleet,
        row: int,
        chosen: int,
        zone: str | None,
        call_type: str,
        now_s: float | None = None,
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
        self,
        fleet: Fleet,
        risk: RiskLevel,
        zone: str | None = None,
        call_type: str = "",
        now_s: float | None = None,
    ) -> Offsets:
        """Tier offset plus CIT penalty (zone, call type and time do not matter)."""
        lookup: dict[RiskLevel, BoolArray] = self._specialist_lookup  # type: ignore[attr-defined]
        return fleet.base_scores(self.rules, risk, lookup[risk])

    def rank_note(
        self,
        fleet: Fleet,
        row: int,
        chosen: int,
        zone: str | None,
        call_type: str,
        now_s: float | None = None,
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
        Call types this card is for; empty for every type.
    days, start_min, end_min
        The weekly window of local time the card is for (weekdays it starts on, Monday 0;
        minutes after midnight, an end at or before the start running past midnight); the
        default is all week. A card in force for the call's type wins over one for every type,
        and a card with a window in force wins over one without.
    """

    zone: str
    districts: tuple[str, ...]
    call_types: frozenset[str] = frozenset()
    days: frozenset[int] = frozenset(range(7))
    start_min: int = 0
    end_min: int = 1440

    def __post_init__(self) -> None:
        if len(set(self.districts)) != len(self.districts):
            raise InputError(f"run card for zone {self.zone!r} repeats a district")
        if len(self.districts) * DISTRICT_GAP_S >= TIER_GAP_S:
            raise InputError(f"run card for zone {self.zone!r} lists too many districts")

    @property
    def timed(self) -> bool:
        """True when the card is for a window of the week, not all of it."""
        return not (
            self.days == frozenset(range(7)) and self.start_min == 0 and self.end_min == 1440
        )

    def window(self, window_id: str) -> TravelBand:
        """The card's window as a weekly band (for the clock that tells when it is in force)."""
        return TravelBand(
            window_id, self.days, self.start_min, self.end_min, speed_factor={"default": 1.0}
        )


@dataclass(frozen=True)
class _Cards:
    """The run cards of one (zone, call type): the all-week one and the timed ones."""

    always: tuple[str, ...] | None
    timed: tuple[tuple[str, ...], ...]
    windows: TravelBands | None
    clock: BandClock | None = None


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
        Run cards by zone, call type and window of the week.
    timezone
        IANA zone of the cards' windows; a policy with timed cards is `anchored` at the clock's
        time 0 before use.

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
    timezone: str = "UTC"
    _cards: dict[tuple[str, str], _Cards] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tiered", TieredNearest(self.rules))
        always: dict[tuple[str, str], tuple[str, ...]] = {}
        timed: dict[tuple[str, str], list[RunCard]] = {}
        for card in self.run_cards:
            for call_type in card.call_types or {""}:
                key = (card.zone, call_type)
                if card.timed:
                    timed.setdefault(key, []).append(card)
                    continue
                if key in always:
                    what = f"call type {call_type!r}" if call_type else "every call type"
                    raise InputError(f"two run cards for zone {card.zone!r} and {what}")
                always[key] = card.districts
        cards: dict[tuple[str, str], _Cards] = {}
        for key in always.keys() | timed.keys():
            listed = timed.get(key, [])
            windows = None
            if listed:
                try:
                    windows = TravelBands(
                        tuple(
                            c.window(f"run card {n + 1} of zone {key[0]}")
                            for n, c in enumerate(listed)
                        ),
                        self.timezone,
                    )
                except InputError as error:
                    raise InputError(
                        f"run cards: {error}".replace("travel bands", "cards")
                    ) from None
            cards[key] = _Cards(always.get(key), tuple(c.districts for c in listed), windows)
        object.__setattr__(self, "_cards", cards)

    def anchored(self, epoch: Any) -> DistrictFirst:
        """This policy with time 0 at ``epoch`` (time-zone aware), so timed cards can apply."""
        anchored = replace(self)
        clocked = {
            key: replace(c, clock=c.windows.clock(epoch)) if c.windows is not None else c
            for key, c in self._cards.items()
        }
        object.__setattr__(anchored, "_cards", clocked)
        return anchored

    def card(self, zone: str, call_type: str = "", now_s: float | None = None) -> tuple[str, ...]:
        """The districts answering a call of ``call_type`` from ``zone`` at ``now_s``, in order.

        Raises
        ------
        InputError
            When a timed card could apply but the policy is not `anchored`.
        """
        for key in ((zone, call_type), (zone, "")) if call_type else ((zone, ""),):
            cards = self._cards.get(key)
            if cards is None:
                continue
            if cards.timed and now_s is not None:
                if cards.clock is None:
                    raise InputError(
                        "run cards with time windows need the policy anchored at the clock's "
                        "time 0: DistrictFirst.anchored(epoch)"
                    )
                k = cards.clock.band_at(now_s)
                if k:
                    return cards.timed[k - 1]
            if cards.always is not None:
                return cards.always
        return (zone,)

    def _ranks(self, fleet: Fleet, order: tuple[str, ...]) -> FloatArray:
        key = ("district_first", id(self), order)
        found = fleet.cache.get(key)
        if found is None:
            position = {district: k for k, district in enumerate(order)}
            last = len(order)
            found = np.array(
                [position.get(self.team_district.get(t, ""), last) for t in fleet.team_ids],
                dtype=np.float64,
            )
            fleet.cache[key] = found
        return found

    def offsets(
        self,
        fleet: Fleet,
        risk: RiskLevel,
        zone: str | None = None,
        call_type: str = "",
        now_s: float | None = None,
    ) -> Offsets:
        """Tier offset, plus the run-card rank of the team's district times `DISTRICT_GAP_S`."""
        tiered: TieredNearest = self._tiered  # type: ignore[attr-defined]
        any_tier, specialist_only, is_specialist = tiered.offsets(fleet, risk)
        if zone is None:
            return any_tier, specialist_only, is_specialist
        order = self.card(zone, call_type, now_s)
        key = ("district_first_offsets", id(self), order, risk)
        found = fleet.cache.get(key)
        if found is None:
            extra = self._ranks(fleet, order) * DISTRICT_GAP_S
            found = (any_tier + extra, specialist_only + extra, is_specialist)
            fleet.cache[key] = found
        return found

    def rank_note(
        self,
        fleet: Fleet,
        row: int,
        chosen: int,
        zone: str | None,
        call_type: str,
        now_s: float | None = None,
    ) -> str | None:
        """Names the run-card places of the two teams' districts when they differ."""
        if zone is None:
            return None
        ranks = self._ranks(fleet, self.card(zone, call_type, now_s))
        if ranks[row] == ranks[chosen]:
            return None
        theirs = self.team_district.get(fleet.team_ids[row], "no district")
        ours = self.team_district.get(fleet.team_ids[chosen], "no district")
        return f"district {theirs} answers zone {zone} after district {ours} on its run card"
