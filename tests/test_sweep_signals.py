"""A multi-worker sweep stopped by SIGINT or SIGTERM leaves no process behind and resumes.

The sweeps here are the installed ``dispatch`` command, started in a session of their own, so
their process group holds the command, its fork server, its worker processes and
multiprocessing's resource tracker. After a stop, the group must empty (zombies, which run
nothing, are left for the container's init to reap).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest
from test_sweep import SMALL, result_bytes

from dispatch.executors import ProcessExecutor, TaskCancelledError

DISPATCH = Path(sys.executable).with_name("dispatch")
#: Generous: a loaded two-core machine is slow, and these are deadlines, not measurements.
DEADLINE_S = 120.0
#: About a third of a second per run on an idle machine: after three stops, each as soon as a
#: run has finished, a dozen of the 16 runs are still to do.
BUSY = SMALL.replace("calls_per_day = 30", "calls_per_day = 400").replace("days = 14", "days = 28")
RUNS = 2 * 8
SWEEP_ARGS = ["--vary", "teams.T.count=1,2", "--replications", "8", "--target-share", "0.6"]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up after {DEADLINE_S:.0f} s waiting for {what}")
        time.sleep(0.05)


def alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group(pgid: int) -> list[psutil.Process]:
    """The live processes of process group ``pgid``."""
    members = []
    for process in psutil.process_iter():
        with suppress(ProcessLookupError, psutil.NoSuchProcess):
            if os.getpgid(process.pid) == pgid and alive(process):
                members.append(process)
    return members


def workers_of(pid: int) -> list[psutil.Process]:
    """Live processes started by ``pid``'s children (the fork server's workers)."""
    return [p for p in psutil.Process(pid).children(recursive=True) if p.ppid() != pid and alive(p)]


class Started:
    """A command started in its own session, its output in files."""

    def __init__(self, args: list[str], logs: Path) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.stdout, self.stderr = logs / "stdout", logs / "stderr"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(args, stdout=out, stderr=err, start_new_session=True)
        self.pid = self.process.pid

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.pid} still running {DEADLINE_S:.0f} s after it was stopped")

    def err(self) -> str:
        return self.stderr.read_text(encoding="utf-8")


@contextmanager
def started(args: list[str], logs: Path) -> Iterator[Started]:
    """Start ``args``; whatever is left of its process group at the end is killed."""
    command = Started(args, logs)
    try:
        yield command
    finally:
        with suppress(ProcessLookupError):
            os.killpg(command.pid, signal.SIGKILL)
        command.process.wait()


def finished_parts(out: Path) -> int:
    return len(list((out / "parts").glob("v*_r*.json")))


def more_parts_than(out: Path, count: int) -> Callable[[], bool]:
    return lambda: finished_parts(out) > count


def test_sigint_and_sigterm_stop_a_multiworker_sweep_that_resumes_identically(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "busy.toml"
    scenario.write_text(BUSY, encoding="utf-8")
    command = [str(DISPATCH), "sweep", str(scenario), *SWEEP_ARGS, "--workers", "2"]

    with started([*command, "--out", str(tmp_path / "whole")], tmp_path / "logs-whole") as whole:
        assert whole.wait() == 0, whole.err()

    cut = tmp_path / "cut"
    saved = 0
    stops = [(signal.SIGINT, "process"), (signal.SIGTERM, "process"), (signal.SIGTERM, "group")]
    for number, (signum, to) in enumerate(stops):
        name = f"{signal.Signals(signum).name} to the {to}"
        with started([*command, "--out", str(cut)], tmp_path / f"logs-stop{number}") as sweep:
            wait_for(more_parts_than(cut, saved), f"a new finished run before {name}")
            children = psutil.Process(sweep.pid).children(recursive=True)
            assert len(workers_of(sweep.pid)) == 2, name
            assert len(group(sweep.pid)) >= 4, name  # the command, fork server, two workers
            if to == "group":
                os.killpg(sweep.pid, signum)
            else:
                os.kill(sweep.pid, signum)
            code = sweep.wait()
            err = sweep.err()
            assert code == 128 + signum, (name, err)
            wait_for(lambda: not group(sweep.pid), f"every process of the sweep to end ({name})")
            assert not any(alive(c) for c in children), name
        now = finished_parts(cut)
        assert now > saved, name
        saved = now
        assert f"of {RUNS} runs are saved in {cut}; run the same command again to resume" in err
        assert f": {saved} of {RUNS} runs are saved" in err, (name, err)
        assert ("interrupted by SIGTERM" in err) == (signum == signal.SIGTERM), err
        assert "Traceback" not in err, err
        assert not (cut / "summary.json").exists()
        assert not [p.name for p in (cut / "parts").iterdir() if p.name.startswith(".")]
    assert saved < RUNS

    with started([*command, "--out", str(cut)], tmp_path / "logs-resume") as last:
        assert last.wait() == 0, last.err()
        assert f"{saved} run(s) were already in {cut}" in last.err()
    assert result_bytes(cut) == result_bytes(tmp_path / "whole")


def test_terminate_cancels_running_tasks_and_ends_the_workers() -> None:
    executor = ProcessExecutor(workers=2)
    outcome: dict[str, object] = {}

    def consume() -> None:
        try:
            outcome["results"] = list(executor.map_unordered(time.sleep, [120.0, 120.0]))
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=consume)
    thread.start()
    try:
        wait_for(lambda: len(workers_of(os.getpid())) == 2, "two worker processes")
        workers = workers_of(os.getpid())
    finally:
        executor.terminate()
        thread.join(DEADLINE_S)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), TaskCancelledError), outcome
    assert not any(alive(w) for w in workers)


KILLED_PARENT = """
import time
from dispatch.executors import ProcessExecutor
for _ in ProcessExecutor(workers=2, preload=()).map_unordered(time.sleep, [3600.0] * 2):
    pass
"""


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    with started([sys.executable, "-c", KILLED_PARENT], tmp_path / "logs") as parent:
        wait_for(lambda: len(workers_of(parent.pid)) == 2, "two worker processes")
        assert len(group(parent.pid)) >= 4
        os.kill(parent.pid, signal.SIGKILL)
        assert parent.wait() == -signal.SIGKILL
        wait_for(lambda: not group(parent.pid), "the workers of a killed parent to end")
