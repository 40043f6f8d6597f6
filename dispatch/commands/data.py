"""``dispatch data ...``: inspect and validate call logs."""

from __future__ import annotations

import typer

app = typer.Typer(help="Inspect and validate call logs.", no_args_is_help=True)
