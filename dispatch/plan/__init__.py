"""Planning: queueing formulas, required teams by hour, shift schedules, post siting, and plans
verified by simulation.

Numbers in consistent units: rates per hour, times in seconds unless named. The names below are
the public contract (``DESIGN.md``, Planning); each is imported from its module on first use, so
``import dispatch.plan`` loads neither pandas nor OR-Tools.

Examples
--------
>>> from dispatch.plan import erlang_c, servers_needed
>>> round(erlang_c(3, 2.0), 4)
0.4444
>>> servers_needed(6.0, 1200.0, 300.0, 0.8)
4
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Imported now, not on demand: the function shares its module's name, and importing the module
# later would rebind `dispatch.plan.hypercube` to the module.
from dispatch.plan.hypercube import HypercubeResult, hypercube

if TYPE_CHECKING:
    from dispatch.plan.posts import PostsPlan, plan_posts, verify_plan
    from dispatch.plan.queueing import (
        ErlangA,
        erlang_a,
        erlang_b,
        erlang_c,
        mean_wait_s,
        servers_needed,
        servers_needed_fractional,
        service_level,
    )
    from dispatch.plan.requirements import (
        demand_by_hour_of_week,
        offered_load,
        required_teams,
        service_time_s,
    )
    from dispatch.plan.schedule import Schedule, ScheduledShift, ShiftRules, schedule_shifts
    from dispatch.plan.siting import Siting, site_posts
    from dispatch.plan.staffing import StaffingPlan, plan_staffing

#: Public name -> the module that defines it.
_HOMES = {
    "PostsPlan": "posts",
    "plan_posts": "posts",
    "verify_plan": "posts",
    "ErlangA": "queueing",
    "erlang_a": "queueing",
    "erlang_b": "queueing",
    "erlang_c": "queueing",
    "mean_wait_s": "queueing",
    "servers_needed": "queueing",
    "servers_needed_fractional": "queueing",
    "service_level": "queueing",
    "demand_by_hour_of_week": "requirements",
    "offered_load": "requirements",
    "required_teams": "requirements",
    "service_time_s": "requirements",
    "Schedule": "schedule",
    "ScheduledShift": "schedule",
    "ShiftRules": "schedule",
    "schedule_shifts": "schedule",
    "Siting": "siting",
    "site_posts": "siting",
    "StaffingPlan": "staffing",
    "plan_staffing": "staffing",
}

__all__ = [
    "ErlangA",
    "HypercubeResult",
    "PostsPlan",
    "Schedule",
    "ScheduledShift",
    "ShiftRules",
    "Siting",
    "StaffingPlan",
    "demand_by_hour_of_week",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "hypercube",
    "mean_wait_s",
    "offered_load",
    "plan_posts",
    "plan_staffing",
    "required_teams",
    "schedule_shifts",
    "servers_needed",
    "servers_needed_fractional",
    "service_level",
    "service_time_s",
    "site_posts",
    "verify_plan",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dispatch.plan' has no attribute {name!r}")
    value = getattr(import_module(f"dispatch.plan.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
