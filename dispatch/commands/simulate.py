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
) -> None:
    """Replay SCENARIO's calls through the matcher; write calls, teams and summary to OUT."""
    import dispatch
    from dispatch.sim.results import format_summary

    loaded = dispatch.load_scenario(scenario)
    result = dispatch.simulate(loaded, replications=replications, seed=seed, event_log=events)
    written = result.write(out)
    typer.echo(format_summary(result.summary))
    typer.echo(f"\nresults: {written}/calls.parquet, teams.parquet, summary.json")
