"""``--workers`` and ``--scheduler``: where the replays of a command run.

`dispatch sweep` defaults to a worker process per CPU; the commands that replay one scenario at a
time (`dispatch simulate`, `dispatch plan staffing`, `dispatch plan posts`) default to this
process, and run their replications side by side when asked to. The results are the same either
way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from dispatch.executors import Executor

Scheduler = Annotated[
    str | None,
    typer.Option(help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786."),
]

ReplayWorkers = Annotated[
    int | None,
    typer.Option(
        help="Local worker processes that run the replications side by side (default: 1, "
        "this process). The results are the same for any number.",
        min=1,
    ),
]


@contextmanager
def replay_executor(
    workers: int | None, scheduler: str | None, *, default: int | None = 1
) -> Iterator[Executor]:
    """The executor ``--workers`` and ``--scheduler`` ask for; ``default`` workers when neither
    is given (1: this process; None: one per CPU).

    Local worker processes are started at once, so that they import the simulator while this
    process reads its files. Leaving the block on an error (Ctrl-C included) ends them first.
    """
    from dispatch.executors import ProcessExecutor, make_executor

    if workers is None and scheduler is None:
        workers = default
    with make_executor(workers=workers, scheduler=scheduler) as executor:
        if isinstance(executor, ProcessExecutor):
            executor.warm_up()
        yield executor
