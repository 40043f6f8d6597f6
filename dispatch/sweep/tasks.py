"""One (variant, replication) as a worker runs it, and the worker's cache of prepared variants.

Everything here runs in the worker process (or in this one, serially): a `Task` is picklable,
`run_task` returns JSON-ready figures, and `PREPARED` keeps each variant's prepared scenario so
that only the replication itself is paid per task.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dispatch.errors import InputError
from dispatch.sweep.keys import canonical
from dispatch.sweep.profiles import (
    DutyProfile,
    demand_counts,
    duty_profile,
    response_histogram,
    staffing,
)

if TYPE_CHECKING:
    from dispatch.sim.prepare import Prepared


@dataclass(frozen=True)
class Task:
    """One (variant, replication); everything a worker needs, picklable."""

    scenario_path: str
    scenario_hash: str
    variant: int
    overrides: dict[str, Any]
    replication: int
    target_min: float
    keep_calls: bool
    label: str = ""


@dataclass
class Ready:
    """A variant prepared once: the scenario, its duty profile and its staffing figures."""

    prep: Prepared
    profile: DutyProfile
    staffing: dict[str, Any]


class PreparedCache:
    """Prepared variants of this process, least recently used dropped first.

    Parameters
    ----------
    size
        How many variants to keep.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str, str], Ready] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every prepared variant."""
        self._entries.clear()

    def get(self, task: Task) -> Ready:
        """The task's variant, prepared now if it is not kept."""
        key = (task.scenario_path, task.scenario_hash, canonical(task.overrides))
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry
        from dispatch.scenario_file import load_scenario
        from dispatch.sim.prepare import prepare

        prep = prepare(load_scenario(task.scenario_path, overrides=task.overrides))
        profile = duty_profile(prep)
        entry = Ready(prep=prep, profile=profile, staffing=staffing(prep, profile))
        self._entries[key] = entry
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry


#: The prepared variants of this process.
PREPARED = PreparedCache()


def run_task(task: Task) -> dict[str, Any]:
    """Run one replication of one variant; return its figures (JSON-ready) and maybe calls.

    The scenario is loaded and prepared once per variant per process (`PREPARED`).
    """
    from dispatch.sim.results import replication_metrics
    from dispatch.sim.run import run_replication

    try:
        ready = PREPARED.get(task)
    except InputError as error:
        raise InputError(f"sweep variant {task.variant} ({task.label}): {error}") from None
    calls, teams, _ = run_replication(ready.prep, task.replication)
    result: dict[str, Any] = {
        "variant": task.variant,
        "replication": task.replication,
        "metrics": replication_metrics(calls, task.target_min, teams),
        "teams": {column: teams[column].tolist() for column in teams.columns},
        "response_hist": response_histogram(calls),
        "demand": demand_counts(ready.profile, ready.prep.epoch, calls).tolist(),
        "hours": ready.profile.hours.tolist(),
        "duty": {kind: row.tolist() for kind, row in ready.profile.duty.items()},
        "staffing": ready.staffing,
        "calls": calls if task.keep_calls else None,
    }
    return result
