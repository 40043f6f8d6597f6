"""Co-responder dispatch engine.

Pairs behavioral-health 911 calls with officer-clinician teams (`Matcher`), replays call
volumes through the same rules in SimPy, and compares staffing scenarios.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dispatch.errors import DispatchError, InputError, OutsideNetworkError, SolverError
from dispatch.model import Call, ReasonCode, RiskLevel, Shift, Team, TeamKind, TeamStatus

if TYPE_CHECKING:
    from dispatch.calls import load_calls
    from dispatch.match import Matcher
    from dispatch.scenario_file import load_scenario
    from dispatch.sim.run import simulate
    from dispatch.travel import TravelTimes


def __getattr__(name: str) -> object:
    # Heavier entry points load on first use so `import dispatch` stays fast.
    if name == "simulate":
        from dispatch.sim.run import simulate

        return simulate
    if name == "load_scenario":
        from dispatch.scenario_file import load_scenario

        return load_scenario
    if name == "load_calls":
        from dispatch.calls import load_calls

        return load_calls
    if name == "Matcher":
        from dispatch.match import Matcher

        return Matcher
    if name == "TravelTimes":
        from dispatch.travel import TravelTimes

        return TravelTimes
    raise AttributeError(f"module 'dispatch' has no attribute {name!r}")


__all__ = [
    "Call",
    "DispatchError",
    "InputError",
    "Matcher",
    "OutsideNetworkError",
    "ReasonCode",
    "RiskLevel",
    "Shift",
    "SolverError",
    "Team",
    "TeamKind",
    "TeamStatus",
    "TravelTimes",
    "load_calls",
    "load_scenario",
    "simulate",
]
