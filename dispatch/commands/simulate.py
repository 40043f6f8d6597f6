"""``dispatch simulate SCENARIO --out DIR``: replay a scenario and write the results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dispatch.commands.executor_options import ReplayWorkers, Scheduler, replay_executor


def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the results.")],
    replications: Annotated[
        int | None, typer.Option(help="Replications (overrides the file).", min=1)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Base seed (overrides the file).")] = None,
    events: Annotated[
        bool, typer.Option("--events/--no-events", help="Also write events.parquet.")
    ] = False,
    workers: ReplayWorkers = None,
    scheduler: Scheduler = None,
) -> None:
    """Replay SCENARIO's calls through the matcher; write calls, teams and summary to OUT."""
    import dispatch
    from dispatch.sim.results import format_summary

    with replay_executor(workers, scheduler) as executor:
        loaded = dispatch.load_scenario(scenario)
        result = dispatch.simulate(
            loaded, replications=replications, seed=seed, event_log=events, executor=executor
        )
    written = result.write(out)
    typer.echo(format_summary(result.summary))
    typer.echo(f"\nresults: {written}/calls.parquet, teams.parquet, summary.json")
