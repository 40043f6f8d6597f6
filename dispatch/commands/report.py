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
        typer.Option(
            help="Scenario file, for teams on duty and maps when the results do not record it."
        ),
    ] = None,
    maps: Annotated[
        bool | None,
        typer.Option(
            "--maps/--no-maps",
            help="Draw maps (hexagonal cells when the scenario names no [map] areas), or none "
            "(default: when the scenario has a [map] table).",
        ),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            help="Sweeps: BASE,OTHER variant numbers for the difference map "
            "(default: the first variant and the answer).",
        ),
    ] = None,
) -> None:
    """Write a single HTML file (figures embedded) and the PNG figures beside it."""
    from dispatch.errors import InputError
    from dispatch.report import write_report

    pair: tuple[int, int] | None = None
    if compare is not None:
        parts = compare.split(",")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise InputError(f"--compare {compare!r}: give two variant numbers, e.g. 0,7")
        pair = (int(parts[0]), int(parts[1]))
    written = write_report(directory, out=out, scenario=scenario, maps=maps, compare=pair)
    typer.echo(f"report: {written}")
    typer.echo(f"figures: {written.parent / 'figures'}")
