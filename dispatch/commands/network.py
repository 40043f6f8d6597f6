"""``dispatch network ...``: build road networks for the travel-time oracle."""

from __future__ import annotations

import typer

app = typer.Typer(help="Import road networks.", no_args_is_help=True)
