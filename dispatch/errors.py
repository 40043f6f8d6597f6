"""Errors a user can cause and fix. The CLI prints them without a traceback and exits non-zero."""

from __future__ import annotations


class DispatchError(Exception):
    """Base class for every error that is the user's to fix (bad input, bad configuration)."""

    exit_code: int = 2


class InputError(DispatchError, ValueError):
    """Invalid input data: a call, a team, a coordinate, a rule set.

    Parameters
    ----------
    message
        What is wrong, in words a dispatcher or analyst can act on.
    source
        Where the bad value came from (file name, ``"team 'T7'"``), when known.
    row
        1-based data row number in that file, when the input is a table.
    field
        Column or field name, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.field = field
        where = ", ".join(
            part
            for part in (
                source,
                f"row {row}" if row is not None else None,
                f"column '{field}'" if field is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class OutsideNetworkError(InputError):
    """A coordinate lies farther from the road network than the snapping tolerance."""


class SolverError(DispatchError, RuntimeError):
    """An optimisation solver returned a status other than optimal/feasible."""
