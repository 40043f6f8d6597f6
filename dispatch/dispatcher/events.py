"""Events a `Dispatcher` takes through `Dispatcher.handle`, each with an id and its time.

A replay calls the session's methods directly; a live service turns what a CAD system sends
into these values, so that the session can refuse an event it has already applied (same
``event_id``) and a review can replay an audit trail event by event.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from dispatch.dispatcher.decisions import CallKey
from dispatch.model import RiskLevel, TeamStatus


class CallReady(NamedTuple):
    """A call is ready for dispatch at ``at_s`` (see `Dispatcher.call_ready`)."""

    event_id: str
    at_s: float
    call_id: CallKey
    place: int
    risk: RiskLevel = RiskLevel.STANDARD
    priority: int = 2
    critical: bool = False
    zone: str | None = None
    call_type: str = ""


class UnitStatus(NamedTuple):
    """A unit reports a status (and optionally its place) at ``at_s``."""

    event_id: str
    at_s: float
    team_id: str
    status: TeamStatus
    place: int | None = None


class UnitCleared(NamedTuple):
    """A unit finished its call at ``place`` at ``at_s``."""

    event_id: str
    at_s: float
    team_id: str
    place: int


class ShiftBoundary(NamedTuple):
    """A unit's shift starts (``start=True``) or ends at ``at_s``."""

    event_id: str
    at_s: float
    team_id: str
    start: bool


class TimerDue(NamedTuple):
    """A timer the session asked for is due at ``at_s``."""

    event_id: str
    at_s: float
    timer_id: str


class CancelCall(NamedTuple):
    """A waiting call is withdrawn at ``at_s``."""

    event_id: str
    at_s: float
    call_id: CallKey


Event: TypeAlias = CallReady | UnitStatus | UnitCleared | ShiftBoundary | TimerDue | CancelCall
