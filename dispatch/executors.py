"""Where sweep tasks run: in this process, in local worker processes, or on a Dask cluster.

An executor takes a picklable function and a sequence of picklable items and yields
``(position, result)`` pairs **as they complete**, in whatever order that is. Callers that need
a stable order sort by position; nothing downstream may depend on completion order.

Work that must not be repeated per task (loading and preparing a scenario) is cached by the task
function itself in its worker process (see `dispatch.sweep.tasks`), so the executors stay generic.

Leaving a ``with`` block on an error (a `KeyboardInterrupt` included) calls `terminate`: work in
progress is abandoned and the workers end before the block is left, so nothing outlives the
program. Leaving it normally calls `close`, which lets running tasks finish.

Examples
--------
>>> from dispatch.executors import SerialExecutor
>>> with SerialExecutor() as ex:
...     sorted(ex.map_unordered(abs, [-2, 3]))
[(0, 2), (1, 3)]
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, Generic, Protocol, TypeVar

from dispatch.errors import DispatchError

T = TypeVar("T")
R = TypeVar("R")

#: Modules a new worker process imports before its first task (forkserver start only): the
#: simulator's, so each worker does not pay for pandas, scipy and SimPy on its own.
#: ``scipy.special`` is the log-normal's quantile (`dispatch.distributions`), imported lazily
#: elsewhere because a single replay of other kinds never needs it.
PRELOAD = (
    "dispatch.scenario_file",
    "dispatch.sim.run",
    "dispatch.sim.replications",
    "dispatch.sweep.tasks",
    "scipy.special",
)


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
        """Release workers or connections once running tasks are done."""
        ...

    def terminate(self) -> None:
        """Release them now, abandoning running tasks."""
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

    def terminate(self) -> None:
        self.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            self.terminate()


class SerialExecutor(_Base):
    """Runs every task in this process, one after the other (debugging, tiny sweeps)."""

    description = "serial (this process)"

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        for position, item in enumerate(items):
            yield position, fn(item)


class TaskCancelledError(BaseException):
    """Raised in a worker's task when its pool is terminated or its parent process has gone."""


#: Seconds a worker waits, once told to stop, for its pool to collect it before it exits itself.
STOP_GRACE_S = 3.0


class _WorkerState:
    """This worker process's side of a stop (set by `_worker_start`)."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.in_task = False


_WORKER = _WorkerState()


@dataclass(frozen=True)
class _Guarded(Generic[T, R]):
    """A task function that a stop interrupts only while it runs, never while its result is
    sent back (an interrupted send would leave the pool reading half a message)."""

    fn: Callable[[T], R]

    def __call__(self, item: T) -> R:
        if _WORKER.stopping.is_set():
            raise TaskCancelledError
        _WORKER.in_task = True
        try:
            return self.fn(item)
        finally:
            _WORKER.in_task = False


def _interrupt_task(signum: int, frame: FrameType | None) -> None:
    if _WORKER.stopping.is_set() and _WORKER.in_task:
        raise TaskCancelledError


def _watch_stop(stop: Any, parent: int) -> None:
    """Wait until every copy of the pipe's other end is closed (`terminate`, or the parent
    process has ended however it ended); then cancel the task in progress and refuse the rest.

    The pool normally collects the worker within milliseconds. The worker exits by itself once
    ``parent`` (the process that started it: the fork server, or the pool's process) is gone,
    since nothing reads its results then, or after `STOP_GRACE_S` in any case.
    """
    with contextlib.suppress(EOFError, OSError):
        stop.recv_bytes()
    _WORKER.stopping.set()
    if hasattr(signal, "pthread_kill"):
        # A real signal to the main thread also cuts short a blocking call (sleep, select).
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
    else:
        _thread.interrupt_main(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.05)
    os._exit(1)


def _worker_start(stop: Any) -> None:
    # SIGINT and SIGTERM are the parent's to handle: a terminal's Ctrl-C and `timeout` or
    # systemd reach the whole process group, and the parent stops its workers itself. SIGINT
    # gets a handler only so that `_watch_stop` can interrupt the task in progress.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, _interrupt_task)
    watch = threading.Thread(
        target=_watch_stop, args=(stop, os.getppid()), name="stop-watch", daemon=True
    )
    watch.start()


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

    Workers ignore SIGINT and SIGTERM. Each holds one end of a pipe whose other end only this
    process holds: when `terminate` closes it, or this process ends in any way (SIGKILL
    included), every worker cancels its task and exits, so no worker outlives its parent. The
    fork server then ends with this process.
    """

    def __init__(self, workers: int | None = None, *, preload: Sequence[str] = PRELOAD) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        if self.workers < 1:
            raise DispatchError(f"workers must be >= 1, got {self.workers}")
        self.preload = list(preload)
        self._pool: Any = None
        self._stop: Any = None
        self._context: Any = None

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
            self._context = context
            listen, self._stop = multiprocessing.Pipe(duplex=False)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_worker_start,
                initargs=(listen,),
            )
        return self._pool

    def warm_up(self) -> None:
        """Start the fork server now, without waiting for it.

        It then imports the simulator (`PRELOAD`) while this process goes on, say with loading
        the scenario, instead of after the first task is handed out. Nothing happens where
        workers start with ``spawn``.
        """
        self._start()
        if self._context.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        from concurrent.futures import FIRST_COMPLETED, wait

        if not items:
            return
        pool = self._start()
        guarded = _Guarded(fn)
        # Keep a bounded number of tasks queued so that stopping early wastes little work and
        # tasks start roughly in submission order (good for per-worker caches).
        backlog = 2 * self.workers
        pending: dict[Any, int] = {}
        position = 0
        try:
            while position < len(items) or pending:
                while position < len(items) and len(pending) < self.workers + backlog:
                    pending[pool.submit(guarded, items[position])] = position
                    position += 1
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f]):
                    index = pending.pop(future)
                    yield index, future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Cancel queued tasks, let running ones finish, then end the workers."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._release()

    def terminate(self) -> None:
        """Cancel every task, running ones included; return once the workers have ended."""
        if self._pool is not None:
            self._stop.close()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._release()

    def _release(self) -> None:
        self._pool = None
        if not self._stop.closed:
            self._stop.close()
        self._stop = None


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
