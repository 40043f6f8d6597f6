"""The ``dispatch`` command line. Each verb lives in ``dispatch/commands/``; this module wires them.

User mistakes (`DispatchError`) print one clear line on stderr and exit non-zero, no traceback.
"""

from __future__ import annotations

import sys

import click
import typer

from dispatch.commands import data as data_commands
from dispatch.commands import demo as demo_command
from dispatch.commands import network as network_commands
from dispatch.commands import report as report_command
from dispatch.commands import simulate as simulate_command
from dispatch.commands import sweep as sweep_command
from dispatch.errors import DispatchError

app = typer.Typer(
    name="dispatch",
    help="Co-responder dispatch engine: match, simulate, plan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command(name="demo")(demo_command.demo)
app.command(name="simulate")(simulate_command.simulate)
app.command(name="sweep")(sweep_command.sweep)
app.command(name="report")(report_command.report)
app.add_typer(data_commands.app, name="data")
app.add_typer(network_commands.app, name="network")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except DispatchError as error:
        click.echo(f"error: {error}", err=True)
        return error.exit_code
    except click.exceptions.Exit as done:
        return int(done.exit_code or 0)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
