"""``dispatch report DIR``: one self-contained HTML page with figures, from simulate or sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report(
    directory: Annotated[
        Path, typer.Argument(help="Output directory of `dispatch simulate` or `dispatch sweep`.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML file (default: DIRECTORY/report.html).")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario file, for teams on duty when the results do not record it."),
    ] = None,
) -> None:
    """Write a single HTML file (figures embedded) and the PNG figures beside it."""
    from dispatch.report import write_report

    written = write_report(directory, out=out, scenario=scenario)
    typer.echo(f"report: {written}")
    typer.echo(f"figures: {written.parent / 'figures'}")
