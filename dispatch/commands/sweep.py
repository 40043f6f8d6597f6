"""``dispatch sweep SCENARIO --out DIR``: variants x replications, resumable, on any executor.

SIGINT (Ctrl-C) and SIGTERM (``timeout``, systemd, batch schedulers, Kubernetes) stop a sweep
the same way: no new run starts, runs in progress are abandoned and their worker processes end,
finished runs stay on disk, and the command prints how many are saved and that running it again
resumes. The exit status is 128 plus the signal's number, as a shell reports a command ended by
that signal: 130 for SIGINT, 143 for SIGTERM.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from dispatch.commands.executor_options import Scheduler, replay_executor


def sweep(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario TOML file (its [sweep] table, if any).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Directory for parts and results; a rerun resumes here.")
    ],
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary",
            help="KEY=V1,V2,... or KEY=A..B[:STEP]; repeat for a grid. KEY is a dotted path: "
            "teams.CRU-day.count, teams.0.count, policy.fallback_after_min.",
        ),
    ] = None,
    replications: Annotated[
        int | None, typer.Option(help="Replications per variant (overrides the file).", min=1)
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Local worker processes (default: one per CPU; 1 runs in-process).", min=1
        ),
    ] = None,
    scheduler: Scheduler = None,
    target_share: Annotated[
        float | None,
        typer.Option(
            help="Target share of calls reached by a specialist within --target-min (e.g. 0.9).",
            min=0.0,
            max=1.0,
        ),
    ] = None,
    target_min: Annotated[
        float | None, typer.Option(help="Target response time, minutes (default: the policy's).")
    ] = None,
    calls: Annotated[
        bool, typer.Option("--calls/--no-calls", help="Also write every call (calls.parquet).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the variants and stop.")] = False,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="Progress bar on stderr (default: on a TTY)."
        ),
    ] = None,
) -> None:
    """Run every variant of SCENARIO for the same replications; answer the staffing target."""
    from dispatch.sweep import (
        Stopped,
        SweepInterruptedError,
        format_sweep,
        parse_vary,
        plan_sweep,
        run_sweep,
        stop_on_signals,
    )

    with stop_on_signals(), contextlib.ExitStack() as stack:
        try:
            if not dry_run:  # the workers start now and import the simulator while this plans
                executor = stack.enter_context(replay_executor(workers, scheduler, default=None))
            plan = plan_sweep(
                scenario,
                [parse_vary(option) for option in vary or []],
                replications=replications,
                target_share=target_share,
                target_min=target_min,
                keep_calls=calls,
            )
            total = len(plan.variants) * plan.replications
            if dry_run:
                typer.echo(
                    f"{plan.name}: {len(plan.variants)} variant(s) x "
                    f"{plan.replications} replication(s)"
                )
                for variant in plan.variants:
                    typer.echo(f"  {variant.index}: {variant.label}")
                return
            typer.echo(
                f"{plan.name}: {len(plan.variants)} variant(s) x {plan.replications} "
                f"replication(s) = {total} runs on {executor.description}",
                err=True,
            )
            result = run_sweep(
                plan,
                out,
                executor=executor,
                progress=sys.stderr.isatty() if progress is None else progress,
            )
            # The workers end inside the `try`: a stop while they close reads as a stop.
            stack.close()
        except Stopped as stop:
            # Stopped outside the runs themselves (planning, starting or closing the workers).
            raise SweepInterruptedError.from_signal(stop.signum) from None
    assert result.summary is not None
    if result.computed < result.total:
        typer.echo(f"{result.total - result.computed} run(s) were already in {out}", err=True)
    typer.echo(format_sweep(result.summary))
    extra = ", calls.parquet" if plan.keep_calls else ""
    typer.echo(
        f"\nresults: {out}/summary.json, variants.parquet, replications.parquet, teams.parquet, "
        f"duty.parquet, "
        f"response_times.parquet{extra}\nreport: dispatch report {out}"
    )
