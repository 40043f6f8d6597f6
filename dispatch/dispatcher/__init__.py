"""The dispatch session: queue, fallback, shifts, breaks and wellness bookkeeping, clock-free.

`Dispatcher` is driven by events with their times and answers with decisions
(`dispatch.dispatcher.decisions`). The SimPy replay drives it on a simulated clock, a live
service on the wall clock: what an analyst simulates is what the dispatch floor runs.
"""

from __future__ import annotations

from dispatch.dispatcher.decisions import (
    BreakEnded,
    BreakStarted,
    CallKey,
    Decision,
    Dispatch,
    Fallback,
    Held,
    OffDuty,
    Queue,
    Timer,
    Unserved,
)
from dispatch.dispatcher.session import Dispatcher, DispatchSettings, TeamTally, status_problem

__all__ = [
    "BreakEnded",
    "BreakStarted",
    "CallKey",
    "Decision",
    "Dispatch",
    "DispatchSettings",
    "Dispatcher",
    "Fallback",
    "Held",
    "OffDuty",
    "Queue",
    "TeamTally",
    "Timer",
    "Unserved",
    "status_problem",
]
