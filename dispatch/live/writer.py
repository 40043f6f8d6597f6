"""Group commit: many journal rows, one transaction, nothing acknowledged before it is durable.

Request handlers hand their rows to `GroupWriter.submit` and wait on the future it returns.
One writer thread takes every row submitted since its last commit and writes them in a single
transaction; while it waits for the disk, new rows gather for the next one. So a burst of
requests costs one commit per disk round trip instead of one per request, and each request is
answered only once its own rows are on disk.

When a commit fails (the database is unreachable) every row submitted so far fails with it:
they were applied in memory in order, so none after a lost one may stand. The service then
rebuilds its state from the journal before it accepts anything again.
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import asyncio
import contextlib
import threading
from collections.abc import Sequence

from dispatch.live.store import JournalRow, Store


class GroupWriter:
    """A writer thread that commits submitted journal rows in batches.

    Parameters
    ----------
    store
        Where the rows go.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[list[JournalRow], asyncio.Future[None]]] = []
        self._cond = threading.Condition()
        self._stopping = False
        # Set by a failed commit, cleared by `reset` once the service has rebuilt its state:
        # until then nothing more may be written on top of a journal that lost rows.
        self.failed: BaseException | None = None
        self.commits = 0
        self.rows_written = 0
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    def submit(self, rows: Sequence[JournalRow]) -> asyncio.Future[None]:
        """Queue ``rows``; the future is done when they are durable (or failed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not rows:
            future.set_result(None)
            return future
        with self._cond:
            if self.failed is not None:
                future.set_exception(self.failed)
                return future
            self._pending.append((list(rows), future))
            self._cond.notify()
        return future

    def reset(self) -> None:
        """Accept rows again (after the service rebuilt its state from the journal)."""
        with self._cond:
            self.failed = None

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending and self._stopping:
                    return
                batch, self._pending = self._pending, []
            rows = [row for part, _ in batch for row in part]
            error: BaseException | None = None
            try:
                self.store.append(rows)
                self.commits += 1
                self.rows_written += len(rows)
            except Exception as exc:  # the database refused: every queued row fails with it
                error = exc
                with self._cond:
                    self.failed = exc
                    batch.extend(self._pending)
                    self._pending = []
            _settle([future for _, future in batch], error)


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Settle ``futures`` from the writer thread: one wake-up of each event loop, not one each."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for future in futures:
        by_loop.setdefault(future.get_loop(), []).append(future)

    def done(waiting: list[asyncio.Future[None]]) -> None:
        for future in waiting:
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    for loop, waiting in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed event loop: nobody waits any more
            loop.call_soon_threadsafe(done, waiting)
