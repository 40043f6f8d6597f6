"""Stop signals: SIGINT and SIGTERM end a sweep the same way, never halfway through a write.

A program that owns its process (the ``dispatch sweep`` command) runs inside `stop_on_signals`:
SIGINT (Ctrl-C) and SIGTERM (``timeout``, systemd, batch schedulers, Kubernetes) then both raise
`Stopped`, a `KeyboardInterrupt`, in the main thread, so the one path that handles Ctrl-C
handles both. Writes that must not be cut short run inside `held`: a signal that arrives
meanwhile is raised when the write is done. Once a stop is under way, further stop signals are
ignored so that the clean-up (ending the worker processes) completes.

Examples
--------
>>> with stop_on_signals():
...     with held():
...         pass  # a signal here is raised after the block
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

#: The signals `stop_on_signals` turns into `Stopped` by default.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived.

    Attributes
    ----------
    signum
        The signal's number (``signal.SIGINT``, ``signal.SIGTERM``).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


class _State:
    """The handler's state; signal handlers run only in the main thread."""

    def __init__(self) -> None:
        self.active = False
        self.stopping = False
        self.holds = 0
        self.pending: int | None = None


_STATE = _State()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _handle(signum: int, frame: FrameType | None) -> None:
    if _STATE.stopping:
        return
    if _STATE.holds:
        if _STATE.pending is None:
            _STATE.pending = signum
        return
    _STATE.stopping = True
    raise Stopped(signum)


@contextmanager
def stop_on_signals(signals: Sequence[int] = STOP_SIGNALS) -> Iterator[None]:
    """Within the block, each of ``signals`` raises `Stopped` once in the main thread.

    The previous handlers come back at the end. Outside the main thread, or inside another
    `stop_on_signals`, this does nothing (Python runs signal handlers in the main thread only).

    Parameters
    ----------
    signals
        Signal numbers; default SIGINT and SIGTERM.
    """
    if not _in_main_thread() or _STATE.active:
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in signals}
    _STATE.active, _STATE.stopping, _STATE.pending = True, False, None
    try:
        for signum in signals:
            signal.signal(signum, _handle)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        _STATE.active, _STATE.stopping, _STATE.pending = False, False, None


@contextmanager
def held() -> Iterator[None]:
    """Hold stop signals while the block runs; one that arrived is raised as it ends.

    Blocks may nest; the signal is raised when the outermost ends without an error of its own.
    Outside the main thread this does nothing.
    """
    if not _in_main_thread():
        yield
        return
    _STATE.holds += 1
    try:
        yield
    finally:
        _STATE.holds -= 1
    if not _STATE.holds and _STATE.pending is not None and not _STATE.stopping:
        signum, _STATE.pending = _STATE.pending, None
        _STATE.stopping = True
        raise Stopped(signum)
