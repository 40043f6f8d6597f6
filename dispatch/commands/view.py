"""``dispatch view DIR``: an offline replay viewer (one HTML file) for a simulate output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def view(
    directory: Annotated[
        Path, typer.Argument(help="Output directory of `dispatch simulate ... --events`.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: DIRECTORY/viewer.html).")
    ] = None,
    replication: Annotated[
        list[int] | None,
        typer.Option(
            "--replication",
            help="Replication to include; repeat for several (default: the first).",
            min=0,
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario file, when the results do not record it or it has moved."),
    ] = None,
) -> None:
    """Write a self-contained HTML page that replays the calls and teams on a map, offline."""
    from dispatch.viewer import write_viewer

    written = write_viewer(directory, out=out, replications=replication, scenario=scenario)
    size_mb = written.stat().st_size / 1e6
    typer.echo(f"viewer: {written} ({size_mb:.1f} MB)")
