"""``dispatch simulate SCENARIO --out DIR``: replay a scenario and write the results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


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
    workers: Annotated[
        int | None,
        typer.Option(
            help="Local worker processes that run the replications side by side (default: 1, "
            "this process). The results are the same for any number.",
            min=1,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
) -> None:
    """Replay SCENARIO's calls through the matcher; write calls, teams and summary to OUT."""
    import dispatch
    from dispatch.executors import ProcessExecutor, make_executor
    from dispatch.sim.results import format_summary

    # Leaving this block on an error (Ctrl-C included) ends the workers first.
    one_process = workers is None and scheduler is None  # the default: no worker to start
    with make_executor(workers=1 if one_process else workers, scheduler=scheduler) as pool:
        if isinstance(pool, ProcessExecutor):
            pool.warm_up()  # the workers import the simulator while this process reads files
        loaded = dispatch.load_scenario(scenario)
        result = dispatch.simulate(
            loaded, replications=replications, seed=seed, event_log=events, executor=pool
        )
    written = result.write(out)
    typer.echo(format_summary(result.summary))
    typer.echo(f"\nresults: {written}/calls.parquet, teams.parquet, summary.json")
