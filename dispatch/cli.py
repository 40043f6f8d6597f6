"""The ``dispatch`` command line. Each verb lives in ``dispatch/commands/``; this module wires them.

User mistakes never show a traceback. A `DispatchError` (bad input, bad configuration, a missing
extra) prints one line on stderr and exits with its code (2); a usage error (missing argument,
unknown command or option, a value of the wrong type) prints the usage line, the error and where
to get help, and exits with 2; a file that cannot be read or written prints one line and exits
with 2. Bugs still show their traceback.

Typer (0.28 and later) parses the command line with its own copy of click and raises its own
exception classes, all derived from `typer.TyperException`; click itself is not a dependency.
"""

from __future__ import annotations

import gc
import sys
from typing import Annotated, NoReturn

import typer

from dispatch.commands import data as data_commands
from dispatch.commands import demo as demo_command
from dispatch.commands import init as init_command
from dispatch.commands import live as live_commands
from dispatch.commands import network as network_commands
from dispatch.commands import (
    plan_posts,  # noqa: F401  (registers `dispatch plan posts`)
    plan_staffing,  # noqa: F401  (registers `dispatch plan staffing`)
)
from dispatch.commands import report as report_command
from dispatch.commands import simulate as simulate_command
from dispatch.commands import sweep as sweep_command
from dispatch.commands import view as view_command
from dispatch.commands.plan import plan_app
from dispatch.errors import DispatchError

DISTRIBUTION = "coresponder-dispatch"
"""The name the package is installed under (``pip install coresponder-dispatch``)."""

USAGE_EXIT = 2
"""Exit status of a usage error, and of a file that cannot be read or written."""


def package_version() -> str:
    """The installed version of ``coresponder-dispatch``.

    Returns
    -------
    str
        The version from the installed package's metadata, or ``"unknown"`` when ``dispatch``
        is imported from a source tree that was never installed.
    """
    # imported here: `importlib.metadata` brings the email package, 20-30 ms of every command
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dispatch {package_version()}")
        raise typer.Exit()


app = typer.Typer(
    name="dispatch",
    help="Co-responder dispatch engine: match, simulate, plan.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Co-responder dispatch engine: match, simulate, plan."""


app.command(name="demo")(demo_command.demo)
app.command(name="init")(init_command.init)
app.command(name="simulate")(simulate_command.simulate)
app.command(name="sweep")(sweep_command.sweep)
app.command(name="report")(report_command.report)
app.command(name="view")(view_command.view)
app.add_typer(data_commands.app, name="data")
app.add_typer(network_commands.app, name="network")
app.command(name="serve")(live_commands.serve)
app.add_typer(live_commands.keys_app, name="keys")
app.add_typer(live_commands.audit_app, name="audit")
app.add_typer(plan_app, name="plan")


def _command_path(argv: list[str]) -> str:
    """``dispatch`` and the verbs at the start of ``argv`` (``"dispatch data check"``)."""
    words = ["dispatch"]
    group: typer.Typer | None = app
    for token in argv:
        if group is None or token.startswith("-"):
            break
        sub = next((g.typer_instance for g in group.registered_groups if g.name == token), None)
        if sub is None:
            if any(c.name == token for c in group.registered_commands):
                words.append(token)
            break
        words.append(token)
        group = sub
    return " ".join(words)


def _show_usage_error(error: typer.TyperException, argv: list[str]) -> None:
    show = getattr(error, "show", None)  # typer's click exceptions print usage and help hint
    if callable(show):
        show()
    else:
        typer.echo(f"Error: {error.format_message()}", err=True)
    if getattr(error, "ctx", None) is None:  # raised without a context: no hint printed yet
        typer.echo(f"Try '{_command_path(argv)} --help' for help.", err=True)


def _file_error(error: OSError) -> str:
    what = error.strerror or str(error)
    if error.filename is None:
        return f"error: {what}"
    names = [str(error.filename)]
    if error.filename2 is not None:
        names.append(str(error.filename2))
    return f"error: {' -> '.join(names)}: {what}"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the process exit code.

    Parameters
    ----------
    argv
        Arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; `DispatchError.exit_code` (2) for a user mistake; 2 for a usage error or a
        file that cannot be read or written; 130 when interrupted.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    dispatch ...
    0
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        result = app(args=args, standalone_mode=False)
    except DispatchError as error:
        typer.echo(f"error: {error}", err=True)
        return error.exit_code
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except typer.TyperException as error:
        _show_usage_error(error, args)
        return USAGE_EXIT
    except OSError as error:
        typer.echo(_file_error(error), err=True)
        return USAGE_EXIT
    return result if isinstance(result, int) else 0


def run() -> NoReturn:
    """The ``dispatch`` command (and ``python -m dispatch``): `main`, then exit with its status.

    Before the process exits, every object still alive is moved out of the garbage collector's
    reach (`gc.freeze`). The interpreter's shutdown then skips its full collections over what
    pandas, scipy and pyarrow keep in their modules: about 0.15 s of every command here, a
    twentieth of a whole replay of the Minneapolis log. Nothing is left unfinished by it: the
    commands close their files, connections and worker processes before they return, and
    objects are still freed as their last reference goes.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
