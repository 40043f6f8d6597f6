"""``dispatch plan ...``: planning commands (staffing schedules, post siting).

Each verb lives in its own module and registers itself on `plan_app`; this module only holds the
group, so the CLI imports no solver until a verb runs.
"""

from __future__ import annotations

import typer

plan_app = typer.Typer(help="Plan staffing and posts: cheapest plans that meet a target.")
