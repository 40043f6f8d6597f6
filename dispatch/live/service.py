"""The running service: one `LiveState`, its journal, its timers, on the wall clock.

Every change goes through `LiveService.execute`: under one lock it applies, at ``now`` (the
wall clock, never earlier than the session's clock), first every timer and shift boundary that
has come due, then the request's own inputs; it hands their journal rows to the group writer,
releases the lock and answers once the rows are durable. Reads answer from memory.

A failed commit leaves memory ahead of the journal: the service then refuses writes (503) until
it has rebuilt its state from the journal, which it tries on the next request once the
database answers again.
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from dispatch.errors import DispatchError, InputError
from dispatch.live.keys import KeyRing
from dispatch.live.state import LiveConfig, LiveState
from dispatch.live.store import JournalRow, Store
from dispatch.live.writer import GroupWriter

log = logging.getLogger("dispatch.live")
T = TypeVar("T")
TIMER_POLL_S = 0.25


class DatabaseUnavailableError(DispatchError):
    """The database cannot be reached (HTTP 503); the service recovers by itself."""


class JournalMismatchError(DispatchError):
    """The database holds the journal of another scenario."""


class LiveService:
    """A dispatch session on the wall clock with a durable journal.

    Parameters
    ----------
    config
        The scenario's rules, fleet and schedule.
    store
        The (migrated) database.
    clock
        Wall clock, Unix seconds (tests pass their own).
    """

    def __init__(
        self, config: LiveConfig, store: Store, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.keys = KeyRing(store)
        self.state = LiveState(config)
        self.writer: GroupWriter | None = None
        self._lock: asyncio.Lock | None = None
        self._timer_task: asyncio.Task[None] | None = None

    # -- life cycle ----------------------------------------------------------------------
    def load(self) -> None:
        """Rebuild the state from the journal (checks it is this scenario's journal)."""
        recorded = self.store.get_meta("scenario_digest")
        if recorded is None:
            self.store.set_meta("scenario_digest", self.config.scenario_digest)
        elif recorded != self.config.scenario_digest:
            raise JournalMismatchError(
                "the database holds the journal of another scenario (or of this one before it "
                "was edited); serve it with the scenario it was started with, or use a new --db"
            )
        state = LiveState(self.config)
        for row in self.store.rows():
            if row.seq != state.applied:
                raise JournalMismatchError(f"journal row {row.seq} follows row {state.applied - 1}")
            state.apply(row.input)
        self.state = state

    async def start(self) -> None:
        """Load the journal, start the writer and the timer loop; first start begins the day."""
        self._lock = asyncio.Lock()
        await asyncio.to_thread(self.load)
        # The rebuilt state is long-lived: keep the collector from walking it on every full
        # collection (those pauses are what a request's tail latency would wait on).
        gc.collect()
        gc.freeze()
        self.writer = GroupWriter(self.store)
        if self.state.calendar is None:
            await self.execute(lambda now: self.apply({"kind": "start", "now": now}))
        self._timer_task = asyncio.create_task(self._timer_loop())

    async def stop(self) -> None:
        """Stop the timer loop and the writer (queued rows are written first)."""
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
        if self.writer is not None:
            await asyncio.to_thread(self.writer.close)

    # -- changes -------------------------------------------------------------------------
    async def execute(self, build: Callable[[float], T]) -> T:
        """Apply due timers, then ``build(now)`` (which calls `apply`); answer once durable.

        Raises
        ------
        InputError
            From ``build``: nothing of the request was applied (due timers still were).
        DatabaseUnavailableError
            When the database cannot be reached; nothing was acknowledged.
        """
        assert self._lock is not None and self.writer is not None, "start() first"
        async with self._lock:
            if self.writer.failed is not None:
                await self._recover()
            self._rows: list[JournalRow] = []
            now = max(self.state.now_s, self.clock())
            try:
                self._apply_due(now)
                answer = build(now)
            finally:
                future = self.writer.submit(self._rows)
                self._rows = []
        try:
            await future
        except SQLAlchemyError as error:
            log.error("journal commit failed: %s", type(error).__name__)
            raise DatabaseUnavailableError(
                "the database is unavailable; nothing was recorded"
            ) from None
        return answer

    def apply(self, inp: dict[str, Any]) -> dict[str, Any]:
        """Apply one journal input inside `execute`; returns its output."""
        seq = self.state.applied
        out = self.state.apply(inp)
        event = inp.get("event") or {}
        self._rows.append(
            JournalRow(
                seq=seq,
                kind=inp["kind"],
                now_s=float(inp["now"]),
                input=inp,
                output=out,
                event_id=event.get("event_id"),
                unit_id=event.get("unit_id") or inp.get("unit_id") or inp.get("team_id"),
                call_id=(inp.get("call") or {}).get("call_id") or inp.get("call_id"),
                recorded_at_s=time.time(),
            )
        )
        return out

    def _apply_due(self, now: float) -> None:
        while (due := self.state.due_input(now)) is not None:
            self.apply(due)

    async def tick(self) -> None:
        """Fire every timer and shift boundary due by now."""
        due = self.state.next_due_s()
        if due is not None and due <= self.clock():
            await self.execute(lambda now: None)

    async def _recover(self) -> None:
        """Rebuild from the journal after a failed commit (the lock is held)."""
        assert self.writer is not None
        try:
            await asyncio.to_thread(self.load)
        except SQLAlchemyError:
            raise DatabaseUnavailableError("the database is unavailable") from None
        self.writer.reset()
        log.warning("state rebuilt from the journal after a failed commit")

    async def _timer_loop(self) -> None:
        while True:
            due = self.state.next_due_s()
            wait = TIMER_POLL_S if due is None else min(max(due - self.clock(), 0.0), TIMER_POLL_S)
            await asyncio.sleep(wait)
            try:
                await self.tick()
            except (DatabaseUnavailableError, SQLAlchemyError):
                await asyncio.sleep(TIMER_POLL_S)  # recovers when the database is back
            except InputError as error:  # a bug if it happens; keep the service up
                log.error("timer input refused: %s", error)

    # -- checks --------------------------------------------------------------------------
    def db_ok(self) -> bool:
        """True when the database answers."""
        try:
            self.store.ping()
        except SQLAlchemyError:
            return False
        return True
