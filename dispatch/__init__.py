"""Co-responder dispatch engine.

Pairs behavioral-health 911 calls with officer-clinician teams (`Matcher`), replays call
volumes through the same rules in SimPy, and compares staffing scenarios.
"""

from __future__ import annotations

from dispatch.errors import DispatchError, InputError, OutsideNetworkError, SolverError
from dispatch.model import Call, ReasonCode, RiskLevel, Shift, Team, TeamKind, TeamStatus

__all__ = [
    "Call",
    "DispatchError",
    "InputError",
    "OutsideNetworkError",
    "ReasonCode",
    "RiskLevel",
    "Shift",
    "SolverError",
    "Team",
    "TeamKind",
    "TeamStatus",
]
