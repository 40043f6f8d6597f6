"""Where sweep tasks run: in this process, in local worker processes, or on a Dask cluster.

An executor takes a picklable function and a sequence of picklable items and yields
``(position, result)`` pairs **as they complete**, in whatever order that is. Callers that need
a stable order sort by position; nothing downstream may depend on completion order.

Work that must not be repeated per task (loading and preparing a scenario) is cached by the task
function itself in its worker process (see `dispatch.sweep`), so the executors stay generic.

Examples
--------
>>> from dispatch.executors import SerialExecutor
>>> with SerialExecutor() as ex:
...     sorted(ex.map_unordered(abs, [-2, 3]))
[(0, 2), (1, 3)]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol, TypeVar

from dispatch.errors import DispatchError

T = TypeVar("T")
R = TypeVar("R")

#: Modules a new worker process imports before its first task (forkserver start only): the
#: simulator's, so each worker does not pay for pandas, scipy and SimPy on its own.
PRELOAD = ("dispatch.scenario_file", "dispatch.sim.run", "dispatch.sweep")


class Executor(Protocol):
    """Runs ``fn(item)`` for every item; yields ``(position, result)`` in completion order."""

    @property
    def description(self) -> str:
        """A short human-readable name, e.g. ``"2 local worker processes"``."""
        ...

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        """Run ``fn`` on each item. Closing the iterator early cancels the work not started."""
        ...

    def close(self) -> None:
        """Release workers or connections."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _Base:
    def close(self) -> None:
        return None

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SerialExecutor(_Base):
    """Runs every task in this process, one after the other (debugging, tiny sweeps)."""

    description = "serial (this process)"

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        for position, item in enumerate(items):
            yield position, fn(item)


def _ignore_sigint() -> None:
    # Ctrl-C is the parent's to handle: it stops submitting, keeps what is done and exits.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor(_Base):
    """Local worker processes (`concurrent.futures.ProcessPoolExecutor`).

    Parameters
    ----------
    workers
        Number of processes; defaults to the number of CPUs.
    preload
        Modules the fork server imports once, before it forks the workers.

    Workers start with ``forkserver`` where the platform has it (``spawn`` elsewhere): a plain
    ``fork`` of a parent that runs threads (progress bars, Arrow) can deadlock.
    """

    def __init__(self, workers: int | None = None, *, preload: Sequence[str] = PRELOAD) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        if self.workers < 1:
            raise DispatchError(f"workers must be >= 1, got {self.workers}")
        self.preload = list(preload)
        self._pool: Any = None

    @property
    def description(self) -> str:
        return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"

    def _start(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            if "forkserver" in multiprocessing.get_all_start_methods():
                context: Any = multiprocessing.get_context("forkserver")
                if self.preload:
                    context.set_forkserver_preload(self.preload)
            else:
                context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_ignore_sigint,
            )
        return self._pool

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        from concurrent.futures import FIRST_COMPLETED, wait

        if not items:
            return
        pool = self._start()
        # Keep a bounded number of tasks queued so that stopping early wastes little work and
        # tasks start roughly in submission order (good for per-worker caches).
        backlog = 2 * self.workers
        pending: dict[Any, int] = {}
        position = 0
        try:
            while position < len(items) or pending:
                while position < len(items) and len(pending) < self.workers + backlog:
                    pending[pool.submit(fn, items[position])] = position
                    position += 1
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f]):
                    index = pending.pop(future)
                    yield index, future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(_Base):
    """Tasks on an existing Dask distributed cluster.

    Parameters
    ----------
    scheduler
        The scheduler's address (``tcp://host:8786``) or a ``distributed.Client``.

    The workers need this package installed and the scenario's files at the same paths (a shared
    file system); results come back to this process, which writes them.
    """

    def __init__(self, scheduler: Any) -> None:
        try:
            import distributed as _distributed
        except ImportError:
            raise DispatchError(
                "--scheduler needs Dask distributed, which is not installed; install the "
                "'distributed' extra: pip install 'coresponder-dispatch[distributed]'"
            ) from None
        distributed: Any = _distributed
        self._own_client = not isinstance(scheduler, distributed.Client)
        self._client: Any
        if self._own_client:
            try:
                self._client = distributed.Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as error:
                raise DispatchError(
                    f"cannot reach the Dask scheduler at {scheduler!r}: {error}"
                ) from None
        else:
            self._client = scheduler
        self._as_completed: Any = distributed.as_completed
        self.address = str(self._client.scheduler.address)

    @property
    def description(self) -> str:
        workers = len(self._client.scheduler_info().get("workers", {}))
        return f"Dask cluster at {self.address} ({workers} workers)"

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        import uuid

        if not items:
            return
        run = uuid.uuid4().hex[:8]
        futures = [
            # Earlier tasks first (Dask runs higher priority first), so variants finish in order.
            self._client.submit(fn, item, key=f"dispatch-{run}-{i}", pure=False, priority=-i)
            for i, item in enumerate(items)
        ]
        position = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in self._as_completed(futures):
                yield position[future.key], future.result()
        finally:
            remaining = [f for f in futures if not f.done()]
            if remaining:
                self._client.cancel(remaining)

    def close(self) -> None:
        if self._own_client:
            self._client.close()


def make_executor(workers: int | None = None, scheduler: Any = None) -> Executor:
    """The executor the command line asks for.

    ``scheduler``: a Dask cluster; ``workers == 1``: this process; otherwise local worker
    processes (default one per CPU).
    """
    if scheduler is not None:
        if workers is not None:
            raise DispatchError("give either --workers or --scheduler, not both")
        return DaskExecutor(scheduler)
    if workers is not None and workers < 1:
        raise DispatchError(f"--workers must be >= 1, got {workers}")
    if workers == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
