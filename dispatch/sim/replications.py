"""Replications as tasks an executor can run anywhere: in this process or in worker processes.

A `ReplicationTask` carries the scenario pickled once by the caller, so that a scenario built or
changed in Python reaches the workers exactly as it is (a path would only give the file). Each
worker process prepares a scenario once, keyed by the digest of its bytes, and then pays only for
the replications themselves. Each replication draws from its own seeded streams
(`dispatch.sim.prepare.streams`), so which process runs it, and in what order, changes nothing.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from dispatch.scenario import Scenario
    from dispatch.sim.prepare import Prepared


@dataclass(frozen=True)
class ReplicationTask:
    """One replication of one scenario; everything a worker needs, picklable."""

    scenario: bytes
    digest: str
    replication: int
    event_log: bool


@dataclass(frozen=True)
class ReplicationResult:
    """What one replication gives back: its tables and its headline figures."""

    replication: int
    calls: pd.DataFrame
    teams: pd.DataFrame
    events: pd.DataFrame | None
    metrics: dict[str, Any]


def replication_tasks(
    scenario: Scenario, replications: range, *, event_log: bool
) -> list[ReplicationTask]:
    """A task per replication, the scenario pickled once for all of them."""
    payload = pickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL)
    digest = hashlib.sha256(payload).hexdigest()
    return [ReplicationTask(payload, digest, k, event_log) for k in replications]


def replicate(prep: Prepared, replication: int, *, event_log: bool) -> ReplicationResult:
    """Run one replication of a prepared scenario (in whatever process holds ``prep``)."""
    from dispatch.sim.results import replication_metrics
    from dispatch.sim.run import run_replication

    calls, teams, events = run_replication(prep, replication, event_log=event_log)
    target = prep.scenario.policy.target_response_min
    return ReplicationResult(
        replication, calls, teams, events, replication_metrics(calls, target, teams)
    )


class _PreparedScenarios:
    """The scenarios this process has prepared, by digest; the least recently used goes first."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._entries: OrderedDict[str, Prepared] = OrderedDict()

    def get(self, task: ReplicationTask) -> Prepared:
        entry = self._entries.get(task.digest)
        if entry is not None:
            self._entries.move_to_end(task.digest)
            return entry
        from dispatch.sim.prepare import prepare

        entry = prepare(pickle.loads(task.scenario))
        self._entries[task.digest] = entry
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry


#: The scenarios prepared in this process.
PREPARED = _PreparedScenarios()


def run_replication_task(task: ReplicationTask) -> ReplicationResult:
    """Run ``task`` in this process; the scenario is prepared once per process (`PREPARED`)."""
    return replicate(PREPARED.get(task), task.replication, event_log=task.event_log)
