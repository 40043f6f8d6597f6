"""What the matcher returns: the choice, the alternatives and why each one lost."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from dispatch.model import ReasonCode, RiskLevel, TeamKind

if TYPE_CHECKING:
    from dispatch.match.holds import WellnessOutcome


class Verdict(StrEnum):
    """Why a team was or was not the one sent."""

    CHOSEN = "chosen"
    SLOWER = "slower"
    LOWER_PREFERENCE = "lower_preference"
    BUSY = "busy"
    OFF_DUTY = "off_duty"
    INELIGIBLE = "ineligible"
    TOO_FAR = "too_far"
    HELD = "held"
    MORE_LOADED = "more_loaded"


@dataclass(frozen=True, slots=True)
class Alternative:
    """One team the matcher considered.

    Attributes
    ----------
    team_id, kind
        The team.
    eta_s
        Travel seconds to the call; ``inf`` when unreachable within the oracle's cut-off.
    verdict
        Why it was not sent (or `Verdict.CHOSEN`).
    detail
        The same in words, with the figures that decided it.
    """

    team_id: str
    kind: TeamKind
    eta_s: float
    verdict: Verdict
    detail: str


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The matcher's answer for one call.

    Attributes
    ----------
    call_id
        The call.
    team_id
        Team to send, or None when no team in the fleet can go.
    eta_s
        Its travel seconds, or None.
    tier
        Label of the rule tier the team was chosen from.
    specialist
        True when the chosen team is a specialist (co-responder program) response.
    reason
        When no specialist can go: why (`ReasonCode`); None when a specialist was chosen.
    risk
        The risk the rules acted on (a weapon flag makes a call high risk).
    alternatives
        The closest contenders and the nearest excluded teams, each with its verdict.
    wellness
        What the wellness rules did to the choice (`dispatch.match.holds.WellnessOutcome`; its
        ``label`` is the text of the ``wellness`` column), or None.
    """

    call_id: str
    team_id: str | None
    eta_s: float | None
    tier: str | None
    specialist: bool
    reason: ReasonCode | None
    risk: RiskLevel
    alternatives: tuple[Alternative, ...] = ()
    wellness: WellnessOutcome | None = None

    def explain(self) -> str:
        """A few lines a dispatcher can read."""
        if self.team_id is None:
            head = f"call {self.call_id} ({self.risk.value} risk): no team can go"
        else:
            head = (
                f"call {self.call_id} ({self.risk.value} risk): send {self.team_id} "
                f"[{self.tier}], ETA {format_minutes(self.eta_s)}"
            )
        if self.reason is not None:
            head += f"; no specialist: {self.reason.value}"
        if self.wellness:
            head += f"; wellness: {self.wellness.label}"
        lines = [head]
        lines.extend(
            f"  - {a.team_id:<10} {a.kind.value:<13} {format_minutes(a.eta_s):>9}  "
            f"{a.verdict.value}: {a.detail}"
            for a in self.alternatives
        )
        return "\n".join(lines)


def format_minutes(seconds: float | None) -> str:
    """``"4.3 min"``, or ``"unreachable"`` for None/inf."""
    if seconds is None or not math.isfinite(seconds):
        return "unreachable"
    return f"{seconds / 60.0:.1f} min"
