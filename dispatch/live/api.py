"""Request and response bodies of the HTTP API (pydantic), as in DESIGN.md's table.

Unknown fields are refused (422 naming the field), so a misspelt ``lattitude`` is not silently
dropped. Times are ISO 8601 with a time zone; seconds fields end in ``_s``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ID = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")


class Strict(BaseModel):
    """Refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class UnitEvent(Strict):
    """A unit status (and optional position) change reported by the CAD system."""

    event_id: str = ID
    unit_id: str = ID
    at: AwareDatetime
    status: str = Field(min_length=1, max_length=64)
    lat: float | None = Field(default=None, ge=-90.0, le=90.0)
    lon: float | None = Field(default=None, ge=-180.0, le=180.0)


class EventBatch(Strict):
    """Many events in one request, each answered on its own."""

    events: list[UnitEvent] = Field(min_length=1, max_length=1000)


class EventResult(BaseModel):
    """What happened to one event."""

    event_id: str
    result: Literal["applied", "duplicate", "stale", "rejected"]
    reason: str | None = None
    field: str | None = None
    decisions: list[dict[str, Any]] = Field(default_factory=list)


class BatchResult(BaseModel):
    """Answers of a batch, in its order."""

    results: list[EventResult]


class CallIn(Strict):
    """A behavioral-health call, as in the call-log contract."""

    call_id: str = ID
    received_at: AwareDatetime
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    call_type: str = Field(default="", max_length=100)
    priority: int = Field(default=2, ge=1, le=4)
    risk: Literal["low", "standard", "high"] = "standard"
    flags: list[str] = Field(default_factory=list, max_length=20)
    zone: str | None = Field(default=None, max_length=200)


class AlternativeOut(BaseModel):
    """A team the matcher considered, with its verdict."""

    team_id: str
    kind: str
    eta_s: float | None
    verdict: str
    detail: str


class CallDecision(BaseModel):
    """The decision about a call."""

    call_id: str
    state: str
    decision: Literal["recommended", "queued", "fallback"]
    team_id: str | None = None
    eta_s: float | None = None
    specialist: bool | None = None
    reason: str | None = None
    wellness: str | None = None
    fallback_at: str | None = None
    alternatives: list[AlternativeOut] = Field(default_factory=list)
    explanation: str | None = None
    inputs_digest: str | None = None
    scenario_digest: str | None = None
    rules_digest: str | None = None
    decisions: list[dict[str, Any]] = Field(default_factory=list)


class CallRecord(BaseModel):
    """A call's state and every decision about it."""

    call_id: str
    state: str
    call: dict[str, Any]
    team_id: str | None
    recommended: str | None
    history: list[dict[str, Any]]


class AssignIn(Strict):
    """Confirm the recommendation (same team) or override it (another team, reason required)."""

    team_id: str = ID
    by: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class CancelIn(Strict):
    """Withdraw a waiting call."""

    by: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class AssignResult(BaseModel):
    """What an assignment did."""

    call_id: str
    action: Literal["confirmed", "override"]
    team_id: str
    decisions: list[dict[str, Any]]


class CancelResult(BaseModel):
    """A withdrawn call."""

    call_id: str
    state: str


class Unit(BaseModel):
    """A unit as the service sees it."""

    unit_id: str
    kind: str
    cit: bool
    status: str
    lat: float
    lon: float
    on_duty: bool
    updated_at: str | None


class Pending(BaseModel):
    """A waiting call."""

    call_id: str
    state: str
    reason: str | None
    priority: int
    received_at: str | None
    fallback_at: str | None


class Health(BaseModel):
    """Service and database health."""

    status: Literal["ok", "unavailable"]
    db: Literal["ok", "unreachable"]
    version: str


class AuditRecord(BaseModel):
    """One journal record."""

    seq: int
    kind: str
    at: str | None
    event_id: str | None
    unit_id: str | None
    call_id: str | None
    input: dict[str, Any]
    output: dict[str, Any]


class AuditPage(BaseModel):
    """A page of the journal; ask again with ``after=next_after`` for more."""

    records: list[AuditRecord]
    next_after: int | None


class KeyIn(Strict):
    """A key to create."""

    role: Literal["reader", "dispatcher", "admin"]
    label: str | None = Field(default=None, max_length=200)


class KeyCreated(BaseModel):
    """A new key: shown this once."""

    key_id: str
    role: str
    key: str


class KeyOut(BaseModel):
    """A stored key, without its secret."""

    key_id: str
    role: str
    label: str | None
    created_at: str | None
    revoked_at: str | None


class Problem(BaseModel):
    """An error body: what is wrong and, for bad input, the field."""

    detail: str
    field: str | None = None
