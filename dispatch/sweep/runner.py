"""Run a plan's (variant, replication) pairs that are not on disk yet, then aggregate.

Every finished pair is saved as it completes (`dispatch.sweep.store`), so a sweep stopped by
Ctrl-C, SIGTERM (inside `dispatch.sweep.stop.stop_on_signals`) or ``max_tasks`` resumes where
it stopped when run again with the same plan and directory.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch.sweep.aggregate import aggregate
from dispatch.sweep.errors import SweepInterruptedError
from dispatch.sweep.plan import SweepPlan
from dispatch.sweep.stop import Stopped
from dispatch.sweep.store import (
    FINAL_FILES,
    check_out_dir,
    count_done,
    is_done,
    save_part,
    write_manifest,
)
from dispatch.sweep.summary import SweepSummary
from dispatch.sweep.tasks import Task, run_task

if TYPE_CHECKING:
    from dispatch.executors import Executor


@dataclass
class SweepResult:
    """What `run_sweep` returns.

    Attributes
    ----------
    out_dir
        The output directory.
    complete
        False when the sweep stopped early (``max_tasks``); the finished parts are on disk.
    done, total
        Finished and planned (variant, replication) pairs.
    computed
        Pairs computed by this call (the rest were already on disk).
    summary
        What ``summary.json`` holds (None when incomplete).
    """

    out_dir: Path
    complete: bool
    done: int
    total: int
    computed: int
    summary: SweepSummary | None = None


def run_sweep(
    plan: SweepPlan,
    out_dir: str | Path,
    *,
    executor: Executor | None = None,
    progress: bool = False,
    max_tasks: int | None = None,
    on_result: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run the plan's (variant, replication) pairs not yet on disk, then aggregate.

    Parameters
    ----------
    plan
        From `plan_sweep`.
    out_dir
        Where parts and results go; a rerun with the same plan resumes here.
    executor
        Where tasks run (`dispatch.executors`); default this process. Not closed here.
    progress
        Show a progress bar on stderr.
    max_tasks
        Stop after computing this many pairs (the rest is left for a rerun).
    on_result
        Called with ``(variant, replication)`` after each pair is saved.

    Raises
    ------
    SweepInterruptedError
        On a `KeyboardInterrupt` (Ctrl-C, or `dispatch.sweep.stop.Stopped` for SIGTERM): what
        finished is saved and the same call resumes. Its ``signum`` names the signal.
    """
    from dispatch.executors import SerialExecutor

    out = Path(out_dir)
    check_out_dir(plan, out)
    parts = out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    write_manifest(plan, out)
    total = len(plan.variants) * plan.replications
    todo = [
        Task(
            scenario_path=str(plan.scenario_path),
            scenario_hash=plan.scenario_hash,
            variant=v.index,
            overrides=v.overrides,
            replication=k,
            target_min=plan.target_min,
            keep_calls=plan.keep_calls,
            label=v.label,
        )
        for v in plan.variants
        for k in range(plan.replications)
        if not is_done(parts, v.index, k, plan.keep_calls)
    ]
    if todo:
        for name in FINAL_FILES:
            (out / name).unlink(missing_ok=True)
    done_before = total - len(todo)
    if max_tasks is not None:
        todo = todo[: max(max_tasks, 0)]
    runner = executor if executor is not None else SerialExecutor()
    try:
        computed = _compute(todo, parts, runner, on_result, progress, total, done_before)
        if done_before + computed < total:
            return SweepResult(
                out, complete=False, done=done_before + computed, total=total, computed=computed
            )
        summary = aggregate(plan, out)
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
        saved = f"{count_done(plan, parts)} of {total} runs are saved in {out}"
        raise SweepInterruptedError.from_signal(signum, saved) from None
    return SweepResult(
        out, complete=True, done=total, total=total, computed=computed, summary=summary
    )


def _compute(
    todo: Sequence[Task],
    parts: Path,
    executor: Executor,
    on_result: Callable[[int, int], None] | None,
    progress: bool,
    total: int,
    done_before: int,
) -> int:
    """Run ``todo`` on ``executor``, saving each result as it arrives; return how many."""
    bar: Any = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=done_before, desc="sweep", unit="run", file=sys.stderr)
    computed = 0
    results = executor.map_unordered(run_task, todo)
    try:
        for position, result in results:
            save_part(parts, result)
            computed += 1
            if bar is not None:
                bar.update(1)
            if on_result is not None:
                task = todo[position]
                on_result(task.variant, task.replication)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
        if bar is not None:
            bar.close()
    return computed
