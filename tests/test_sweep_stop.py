"""Stop signals in this process: SIGINT and SIGTERM raise one `Stopped`, never inside a write."""

from __future__ import annotations

import os
import signal

import pytest

from dispatch.sweep import Stopped, SweepInterruptedError, held, stop_on_signals


def send(signum: int) -> None:
    """Signal this process; Python runs the handler before the next line."""
    os.kill(os.getpid(), signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_raises_stopped_and_the_old_handlers_come_back(signum: int) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(Stopped) as caught, stop_on_signals():
        send(signum)
        pytest.fail("the signal did not stop the block")
    assert caught.value.signum == signum
    assert isinstance(caught.value, KeyboardInterrupt)
    assert {s: signal.getsignal(s) for s in before} == before


def test_a_signal_during_a_held_write_is_raised_when_the_write_is_done() -> None:
    steps: list[str] = []
    with pytest.raises(Stopped) as caught, stop_on_signals():
        with held():
            with held():
                send(signal.SIGTERM)
                steps.append("inner write finished")
            steps.append("outer write finished")
        steps.append("after the writes")
    assert steps == ["inner write finished", "outer write finished"]
    assert caught.value.signum == signal.SIGTERM


def test_further_signals_do_not_cut_the_stop_short() -> None:
    cleaned: list[str] = []
    with pytest.raises(Stopped) as caught, stop_on_signals():
        try:
            send(signal.SIGINT)
        finally:
            send(signal.SIGTERM)
            send(signal.SIGINT)
            cleaned.append("clean-up done")
    assert caught.value.signum == signal.SIGINT
    assert cleaned == ["clean-up done"]


def test_the_exit_status_names_the_signal() -> None:
    assert SweepInterruptedError.from_signal(signal.SIGINT).exit_code == 130
    stopped = SweepInterruptedError.from_signal(signal.SIGTERM, "1 of 4 runs are saved in out")
    assert stopped.exit_code == 143
    assert str(stopped) == (
        "sweep interrupted by SIGTERM: 1 of 4 runs are saved in out; "
        "run the same command again to resume"
    )
