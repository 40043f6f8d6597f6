"""What a `Dispatcher` answers: decisions about calls, notices about teams, and timer requests.

Every answer is a small immutable tuple. A caller applies them in the order given: the order is
part of the answer (a dispatch made while a team clears comes after the timers that team's
wellness bookkeeping asks for, as the replay's event log records).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from dispatch.match.holds import WellnessOutcome
from dispatch.model import ReasonCode

if TYPE_CHECKING:
    from dispatch.match.explain import Recommendation

#: A call's key in a session: the CAD's call id, or a row number in a replay.
CallKey: TypeAlias = str | int


class Dispatch(NamedTuple):
    """Send team ``team_id`` to call ``call_id``.

    Attributes
    ----------
    call_id, team_id
        The call and the team.
    eta_s
        Travel seconds from the team's position to the call (turnout not included).
    specialist
        True when the team is in a specialist tier for the call's risk; False for a fallback
        unit of the fleet.
    wellness
        What the wellness rules did to the choice (None: nothing); its ``label`` is the
        ``wellness`` column of ``calls.parquet``.
    explanation
        The ranked alternatives, when the session was asked to explain (``explain=True``).
    """

    call_id: CallKey
    team_id: str
    eta_s: float
    specialist: bool
    wellness: WellnessOutcome | None = None
    explanation: Recommendation | None = None


class Queue(NamedTuple):
    """Call ``call_id`` waits: no team can go now.

    ``specialist_only`` is True while it waits for a specialist (until ``fallback_at_s``, or
    for ever when that is None) and False once it waits for any unit of the fleet.
    """

    call_id: CallKey
    reason: ReasonCode
    fallback_at_s: float | None
    specialist_only: bool = True
    wellness: WellnessOutcome | None = None


class Fallback(NamedTuple):
    """Call ``call_id`` goes to the fallback response (no specialist, for ``reason``).

    With a fallback pool the call leaves the session here; with the fleet's own fallback units
    a `Dispatch` or a `Queue` (``specialist_only=False``) follows at once.
    """

    call_id: CallKey
    reason: ReasonCode
    wellness: WellnessOutcome | None = None


class Held(NamedTuple):
    """A waiting call was offered again and wellness holds still kept every team back."""

    call_id: CallKey
    wellness: WellnessOutcome


class Unserved(NamedTuple):
    """A call still waiting when the session closed."""

    call_id: CallKey
    at_s: float


class BreakStarted(NamedTuple):
    """Team ``team_id`` starts its meal break at ``at_s``."""

    team_id: str
    at_s: float


class BreakEnded(NamedTuple):
    """Team ``team_id`` ends its meal break at ``at_s`` and is dispatchable again."""

    team_id: str
    at_s: float


class OffDuty(NamedTuple):
    """Team ``team_id`` goes off duty at ``at_s`` (later than now when it drives home first)."""

    team_id: str
    at_s: float


class Timer(NamedTuple):
    """Wake the session at ``at_s`` with `Dispatcher.timer_due` ``(timer_id, at_s)``."""

    timer_id: str
    at_s: float


Decision: TypeAlias = (
    Dispatch | Queue | Fallback | Held | Unserved | BreakStarted | BreakEnded | OffDuty | Timer
)
