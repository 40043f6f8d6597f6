"""Domain types: calls, teams, shifts, risk levels and reason codes.

All times inside the engine are float seconds since the scenario start (``*_s``); positions are
WGS84 degrees. Types are frozen: a state change is a new value, never a mutation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from dispatch.errors import InputError


class RiskLevel(StrEnum):
    """Assessed risk of a behavioral-health call, set by the call taker."""

    LOW = "low"
    STANDARD = "standard"
    HIGH = "high"


class TeamKind(StrEnum):
    """What kind of unit a team is.

    ``co_responder`` is a police officer riding with a behavioral-health clinician;
    ``clinician`` a clinician-only mobile crisis team; ``cit_officer`` a patrol officer with
    Crisis Intervention Team training; ``patrol`` any patrol unit.
    """

    CO_RESPONDER = "co_responder"
    CLINICIAN = "clinician"
    CIT_OFFICER = "cit_officer"
    PATROL = "patrol"


class TeamStatus(StrEnum):
    """Where a team is in its lifecycle. Only ``available`` and ``returning`` are dispatchable."""

    AVAILABLE = "available"
    RETURNING = "returning"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    ON_BREAK = "on_break"
    OUT_OF_SERVICE = "out_of_service"
    OFF_DUTY = "off_duty"

    @property
    def dispatchable(self) -> bool:
        """True when a new call may be given to a team in this status."""
        return self in (TeamStatus.AVAILABLE, TeamStatus.RETURNING)

    @property
    def committed(self) -> bool:
        """True while a team is on a call: dispatched, en route, on scene or transporting."""
        return self in _COMMITTED


_COMMITTED = frozenset(
    {TeamStatus.DISPATCHED, TeamStatus.EN_ROUTE, TeamStatus.ON_SCENE, TeamStatus.TRANSPORTING}
)


class CallState(StrEnum):
    """Where a call is in the dispatch session (`dispatch.dispatcher.Dispatcher`).

    ``queued`` waits for a specialist until its fallback deadline; ``waiting_any`` has fallen
    back to the fleet's own fallback units and waits for any of them; ``fallback`` was handed
    to the fallback response outside the fleet; ``thinned`` was removed by a volume below 1.
    """

    PENDING = "pending"
    QUEUED = "queued"
    WAITING_ANY = "waiting_any"
    DISPATCHED = "dispatched"
    FALLBACK = "fallback"
    UNSERVED = "unserved"
    CANCELLED = "cancelled"
    THINNED = "thinned"


class Outcome(StrEnum):
    """How a call ended, as written to ``calls.parquet``."""

    SPECIALIST = "specialist"
    FALLBACK = "fallback"
    UNSERVED = "unserved"
    THINNED = "thinned"


class ReasonCode(StrEnum):
    """Why no specialist team was sent to a call.

    ``off_shift``: every team that could answer is off duty. ``all_busy``: the ones on duty are
    all committed. ``too_far``: some are free but none within the travel limit. ``ineligible``:
    the fleet has no team of a kind the rules allow for this risk.
    """

    OFF_SHIFT = "off_shift"
    ALL_BUSY = "all_busy"
    TOO_FAR = "too_far"
    INELIGIBLE = "ineligible"


TEAM_KINDS: tuple[str, ...] = tuple(k.value for k in TeamKind)
RISK_LEVELS: tuple[str, ...] = tuple(r.value for r in RiskLevel)


def parse_team_kind(value: str, *, source: str | None = None) -> TeamKind:
    """Return the `TeamKind` named ``value`` or raise `InputError` listing the valid kinds."""
    try:
        return TeamKind(value)
    except ValueError:
        raise InputError(
            f"unknown team kind {value!r}; expected one of {', '.join(TEAM_KINDS)}",
            source=source,
            field="kind",
        ) from None


def parse_risk(value: str, *, source: str | None = None) -> RiskLevel:
    """Return the `RiskLevel` named ``value`` or raise `InputError` listing the valid levels."""
    try:
        return RiskLevel(value)
    except ValueError:
        raise InputError(
            f"unknown risk {value!r}; expected one of {', '.join(RISK_LEVELS)}",
            source=source,
            field="risk",
        ) from None


def check_coordinate(lat: float, lon: float, *, source: str | None = None) -> None:
    """Raise `InputError` unless ``lat`` and ``lon`` are finite WGS84 degrees in range."""
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        hint = " (latitude and longitude swapped?)" if -180.0 <= lat <= 180.0 else ""
        raise InputError(f"latitude {lat!r} is outside -90..90{hint}", source=source, field="lat")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InputError(f"longitude {lon!r} is outside -180..180", source=source, field="lon")


@dataclass(frozen=True, slots=True)
class Call:
    """One behavioral-health call for service.

    Parameters
    ----------
    call_id
        Unique identifier (the CAD incident number).
    lat, lon
        Location in WGS84 degrees.
    received_s
        When the call was received, seconds since the scenario start (0 for a live query).
    call_type
        Free text or code, e.g. ``"suicidal"`` or ``"welfare_check"``.
    priority
        1 (highest) to 4.
    risk
        Assessed risk; ``high`` calls need an officer.
    flags
        Extra facts such as ``"weapon"`` or ``"violence"``; rule sets may raise risk on them.
    zone
        The dispatch zone (district) the call is in, for district-first run cards; None when
        unknown.
    """

    call_id: str
    lat: float
    lon: float
    received_s: float = 0.0
    call_type: str = ""
    priority: int = 2
    risk: RiskLevel = RiskLevel.STANDARD
    flags: frozenset[str] = field(default_factory=frozenset)
    zone: str | None = None

    def __post_init__(self) -> None:
        source = f"call {self.call_id!r}"
        if not self.call_id:
            raise InputError("call_id is empty", field="call_id")
        check_coordinate(self.lat, self.lon, source=source)
        if self.priority not in (1, 2, 3, 4):
            raise InputError(
                f"priority {self.priority!r} is not 1..4", source=source, field="priority"
            )
        if not isinstance(self.risk, RiskLevel):
            object.__setattr__(self, "risk", parse_risk(str(self.risk), source=source))
        if not isinstance(self.flags, frozenset):
            object.__setattr__(self, "flags", frozenset(self.flags))


@dataclass(frozen=True, slots=True)
class Shift:
    """A recurring duty period.

    Parameters
    ----------
    start_hour
        Local clock hour the shift starts, e.g. ``9.0`` for 09:00 or ``21.5`` for 21:30.
    hours
        Length in hours; a shift may run past midnight.
    days
        Weekdays the shift *starts* on, Monday = 0; all seven by default.
    """

    start_hour: float
    hours: float
    days: frozenset[int] = frozenset(range(7))

    def __post_init__(self) -> None:
        if not 0.0 <= self.start_hour < 24.0:
            raise InputError(f"shift start hour {self.start_hour!r} is not in 0..24")
        if not 0.0 < self.hours <= 24.0:
            raise InputError(f"shift length {self.hours!r} h is not in (0, 24]")
        if not self.days or not set(self.days) <= set(range(7)):
            raise InputError(f"shift days {sorted(self.days)!r} must be a non-empty subset of 0..6")
        if not isinstance(self.days, frozenset):
            object.__setattr__(self, "days", frozenset(self.days))

    def on_duty_at(self, weekday: int, hour: float) -> bool:
        """True when a team on this shift is on duty at local ``weekday`` (Mon=0) and ``hour``."""
        for start_day in self.days:
            offset_h = ((weekday - start_day) % 7) * 24.0 + hour - self.start_hour
            if 0.0 <= offset_h < self.hours:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Team:
    """One dispatchable unit and its state at the time of a query.

    Parameters
    ----------
    team_id
        Unique identifier (the CAD unit id).
    kind
        What the team is; see `TeamKind`.
    lat, lon
        Current position in WGS84 degrees (the station when idle there).
    cit
        True when the officer in the team holds Crisis Intervention Team certification.
        Always False for clinician-only teams.
    station_id
        Home station.
    status
        Lifecycle state; only ``available`` and ``returning`` teams may be sent.
    shift
        Duty pattern, informational for the matcher (``status`` is what counts at query time).
    recovering_until_s
        End of the recovery window after a critical incident, seconds on the caller's clock
        (the one `Call.received_s` uses); read only by wellness rules.
    consecutive_calls
        Crisis calls in a row since the team's last break; read only by wellness rules.
    recent_utilization
        Share of the recent rolling window (e.g. 8 h) spent on calls, 0..1.
    shift_busy_s
        Seconds spent on calls this shift, for the fairness tie-break.
    """

    team_id: str
    kind: TeamKind
    lat: float
    lon: float
    cit: bool = False
    station_id: str = ""
    status: TeamStatus = TeamStatus.AVAILABLE
    shift: Shift | None = None
    recovering_until_s: float = float("-inf")
    consecutive_calls: int = 0
    recent_utilization: float = 0.0
    shift_busy_s: float = 0.0

    def __post_init__(self) -> None:
        source = f"team {self.team_id!r}"
        if not self.team_id:
            raise InputError("team_id is empty", field="team_id")
        if not isinstance(self.kind, TeamKind):
            object.__setattr__(self, "kind", parse_team_kind(str(self.kind), source=source))
        if not isinstance(self.status, TeamStatus):
            try:
                object.__setattr__(self, "status", TeamStatus(str(self.status)))
            except ValueError:
                raise InputError(
                    f"unknown status {self.status!r}", source=source, field="status"
                ) from None
        check_coordinate(self.lat, self.lon, source=source)
        if self.kind is TeamKind.CIT_OFFICER and not self.cit:
            raise InputError(
                "a cit_officer team must be CIT certified (cit = true); use kind 'patrol'",
                source=source,
                field="cit",
            )
        if self.kind is TeamKind.CLINICIAN and self.cit:
            raise InputError(
                "a clinician-only team has no officer to hold CIT certification",
                source=source,
                field="cit",
            )

    @property
    def on_duty(self) -> bool:
        """True unless the team is off duty."""
        return self.status is not TeamStatus.OFF_DUTY


@dataclass(frozen=True, slots=True)
class MealBreak:
    """A meal break per shift, taken when the team is free inside a window.

    Parameters
    ----------
    length_min
        Break length, minutes.
    window_start_h, window_end_h
        Hours after shift start between which the break should start. A team busy when the
        window opens takes it as soon as it clears (recorded as deferred); a team busy until
        its shift ends misses it (recorded).
    """

    length_min: float = 30.0
    window_start_h: float = 3.0
    window_end_h: float = 6.0

    def __post_init__(self) -> None:
        if not self.length_min > 0:
            raise InputError("meal_break.length_min must be > 0")
        if not 0 <= self.window_start_h <= self.window_end_h:
            raise InputError("meal_break needs 0 <= window_start_h <= window_end_h")
