"""`simulate`: replay a scenario's calls, replication by replication."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from dispatch.scenario import Scenario, SyntheticCalls
from dispatch.sim.engine import Records, Replay
from dispatch.sim.prepare import (
    HORIZON_PAD_S,
    Prepared,
    call_zones,
    critical_calls,
    draw,
    effective_risks,
    prepare,
    replication_calls,
    streams,
)
from dispatch.sim.replications import (
    ReplicationResult,
    replicate,
    replication_tasks,
    run_replication_task,
)
from dispatch.sim.results import (
    SimulationResult,
    calls_frame,
    events_frame,
    summarize,
    teams_frame,
)

if TYPE_CHECKING:
    from dispatch.executors import Executor


def run_replication(
    prep: Prepared, replication: int, *, event_log: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Replay one replication; return its calls, teams and (optionally) events tables."""
    scenario = prep.scenario
    rngs = streams(scenario.seed, replication)
    calls = replication_calls(prep, rngs["calls"])
    draws = draw(prep, calls, rngs)
    policy = scenario.policy
    critical = critical_calls(prep, calls)
    replay = Replay(
        prep.matcher,
        prep.setup,
        call_ids=calls.call_id,
        received_s=calls.received_s,
        place=scenario.travel.snap_many(calls.lat, calls.lon),
        risk=effective_risks(prep, calls),
        priority=calls.priority,
        simulated=calls.simulated,
        draws=draws,
        fallback_after_s=None
        if policy.fallback_after_min is None
        else policy.fallback_after_min * 60.0,
        pool_fallback=policy.fallback == "pool",
        horizon_s=_horizon(prep, calls.received_s.max() if len(calls) else 0.0),
        event_log=event_log,
        critical=critical,
        meal_break=policy.meal_break,
        zone=call_zones(prep, calls),
        call_type=calls.call_type,
    )
    rec: Records = replay.run()
    calls_end = _period_end(prep, calls.received_s)
    return (
        calls_frame(prep, calls, rec, replication, critical),
        teams_frame(prep, rec, replication, calls_end, critical),
        events_frame(prep, rec, replication) if event_log else None,
    )


def _period_end(prep: Prepared, received_s: npt.NDArray[np.float64]) -> float:
    """End of the replayed period, seconds: the generator's days, or local midnight after the
    last call's day. Team on-duty hours (the utilization denominator) count up to here; cutting
    them at the last call's receipt instead made utilization explode in short logs."""
    scenario = prep.scenario
    if isinstance(scenario.calls, SyntheticCalls):
        return scenario.calls.days * 86400.0
    if not len(received_s):
        return 0.0
    last = prep.epoch + pd.to_timedelta(float(received_s.max()), unit="s")
    next_day = last.tz_localize(None).normalize() + pd.Timedelta(days=1)
    end = next_day.tz_localize(prep.epoch.tz, ambiguous=False, nonexistent="shift_forward")
    return float((end - prep.epoch).total_seconds())


def _horizon(prep: Prepared, last_received_s: float) -> float:
    return max(prep.horizon_s, float(last_received_s) + HORIZON_PAD_S)


def simulate(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    event_log: bool = False,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> SimulationResult:
    """Replay ``scenario`` and collect the results.

    Parameters
    ----------
    scenario
        What to simulate (`dispatch.load_scenario` reads one from TOML).
    replications, seed
        Override the scenario's own.
    event_log
        Also keep one row per state change (``events`` table) for audits.
    progress
        Called with the replication number after each one finishes.
    executor
        Where the replications run (`dispatch.executors`): local worker processes or a Dask
        cluster. None (the default) runs them here, one after the other. The results are the
        same either way: each replication draws from its own seeded streams.

    Returns
    -------
    SimulationResult
        ``calls`` (every input call exactly once per replication), ``teams``, ``summary``.

    Examples
    --------
    >>> import dispatch
    >>> from dispatch.datasets import example_scenario
    >>> scenario = dispatch.load_scenario(example_scenario("stlouis_cru"))
    >>> result = dispatch.simulate(scenario, replications=1)
    >>> len(result.calls)
    6947
    >>> 0.0 < result.summary["metrics"]["specialist_share"]["mean"] < 1.0
    True
    """
    from dataclasses import replace

    if replications is not None or seed is not None:
        scenario = replace(
            scenario,
            replications=replications if replications is not None else scenario.replications,
            seed=seed if seed is not None else scenario.seed,
        )
    done: list[ReplicationResult] = []
    for result in _replications(scenario, event_log=event_log, executor=executor):
        done.append(result)
        if progress is not None:
            progress(result.replication)
    done.sort(key=lambda result: result.replication)  # workers finish in any order
    target = scenario.policy.target_response_min
    event_parts = [result.events for result in done if result.events is not None]
    return SimulationResult(
        calls=pd.concat([result.calls for result in done], ignore_index=True),
        teams=pd.concat([result.teams for result in done], ignore_index=True),
        summary=summarize(
            [result.metrics for result in done],
            name=scenario.name,
            seed=scenario.seed,
            target_min=target,
            intake=dict(scenario.intake),
            scenario_path=str(scenario.source.resolve()) if scenario.source else None,
        ),
        events=pd.concat(event_parts, ignore_index=True) if event_parts else None,
    )


def _replications(
    scenario: Scenario, *, event_log: bool, executor: Executor | None
) -> Iterator[ReplicationResult]:
    """Every replication's result, in the order they finish."""
    from dispatch.executors import SerialExecutor

    replications = range(scenario.replications)
    if executor is None or isinstance(executor, SerialExecutor) or len(replications) == 1:
        # One replication gains nothing from a worker; it would only pay for sending it.
        prep = prepare(scenario)
        for k in replications:
            yield replicate(prep, k, event_log=event_log)
        return
    tasks = replication_tasks(scenario, replications, event_log=event_log)
    for _, result in executor.map_unordered(run_replication_task, tasks):
        yield result
