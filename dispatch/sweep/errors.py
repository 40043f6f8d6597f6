"""What a sweep raises for its user: a bad specification, or a stop that a rerun resumes."""

from __future__ import annotations

import signal

from dispatch.errors import DispatchError


class SweepError(DispatchError):
    """An invalid sweep specification or output directory."""


class SweepInterruptedError(DispatchError):
    """The sweep stopped early; what finished is saved and a rerun resumes.

    Parameters
    ----------
    message
        What stopped and what is saved.
    signum
        The signal that stopped it (SIGINT for Ctrl-C). The exit status is ``128 + signum``, as a
        shell reports a command ended by that signal: 130 for SIGINT, 143 for SIGTERM.
    """

    def __init__(self, message: str, signum: int = signal.SIGINT) -> None:
        super().__init__(message)
        self.signum = int(signum)
        self.exit_code = 128 + self.signum

    @classmethod
    def from_signal(cls, signum: int, saved: str = "") -> SweepInterruptedError:
        """The error for a stop by ``signum``.

        Parameters
        ----------
        signum
            The signal that stopped the sweep.
        saved
            What is on disk (``"2 of 6 runs are saved in out"``); empty when not known.

        Examples
        --------
        >>> error = SweepInterruptedError.from_signal(signal.SIGTERM, "2 of 6 runs are saved")
        >>> print(error)
        sweep interrupted by SIGTERM: 2 of 6 runs are saved; run the same command again to resume
        >>> error.exit_code
        143
        """
        by = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
        what = f": {saved}" if saved else ""
        return cls(f"sweep interrupted{by}{what}; run the same command again to resume", signum)
