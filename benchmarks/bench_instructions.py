"""Instructions one replay loop executes, counted by valgrind: a figure a busy machine cannot move.

Wall and CPU times on a shared 2-core machine swing by 20-100% within minutes; valgrind's count
of the instructions the interpreter executes for the same work repeats to 0.05-0.4% (six counts
of one St. Louis loop on 2026-12-04 spanned 918.2-921.7 M). Each
scenario is prepared and replayed once outside the count (imports, caches, first touches), then
one more replication's event loop (`Replay.run`, the replay alone, no tables) is counted, with
callgrind's instrumentation switched on and off around it (``callgrind_control``).

Scenarios: the St. Louis CRU baseline (6,947 calls, shifts, transports, the fairness
tie-break, the fallback pool) and M/M/3 with 10,000 calls (the `bench_ciw` workload, smaller).
``--against DIR`` counts a checkout of another commit the same way (``git worktree add DIR REV``)
and prints the ratio. About a minute a scenario and checkout; skipped without valgrind (Debian
package ``valgrind``).

``--whole CALLS`` counts whole processes instead, from start to exit: ``dispatch simulate`` on the
`bench_ciw` M/M/3 workload of CALLS calls (imports, tables and files included; with
``--against``, for both checkouts) and Ciw's script on the same workload, with their ratios: a
figure the machine's load cannot move, for changes outside the event loop. It is not the goal's
time ratio, only near it: at 49,737 calls the counts came to 0.99x Ciw's and the times (`bench_ciw`
``--calls 50000``) to 1.09x. About five minutes at 50,000 calls.

Run: ``.venv/bin/python benchmarks/bench_instructions.py [--against /tmp/wt0] [--whole 50000]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CRU = ROOT / "scenarios" / "stlouis_cru.toml"
MM3_CALLS = 10_000


def second_loop_inside(
    scenario: str | Path, around: Callable[[], AbstractContextManager[Any]]
) -> int:
    """Replay ``scenario`` once to warm up (imports, caches, first touches), then once more with
    only its event loop (`Replay.run`) inside ``around()``; the calls of that replication."""
    import dispatch
    from dispatch.sim import engine
    from dispatch.sim.prepare import prepare
    from dispatch.sim.run import run_replication

    prep = prepare(dispatch.load_scenario(scenario))
    run_replication(prep, 0)
    loop = engine.Replay.run

    def inside(self: engine.Replay) -> engine.Records:
        with around():
            return loop(self)

    engine.Replay.run = inside  # type: ignore[method-assign]
    try:
        calls, _, _ = run_replication(prep, 1)
    finally:
        engine.Replay.run = loop  # type: ignore[method-assign]
    return len(calls)


def child(scenario: str) -> None:
    """In the counted process: warm up, then count one replication's event loop."""
    me = str(os.getpid())

    @contextmanager
    def counted() -> Iterator[None]:
        subprocess.run(["callgrind_control", "-i", "on", me], capture_output=True, check=True)
        try:
            yield
        finally:
            subprocess.run(["callgrind_control", "-i", "off", me], capture_output=True, check=True)

    print(f"calls {second_loop_inside(scenario, counted)}")


def count(scenario: Path, checkout: Path) -> tuple[int, int]:
    """Instructions of one replication's event loop of ``scenario`` run from ``checkout``."""
    with tempfile.TemporaryDirectory(prefix="bench_instructions_") as tmp:
        env = dict(os.environ, PYTHONPATH=str(checkout))
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={tmp}/out.%p",
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                str(scenario),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
            env=env,
        )
    calls = re.search(r"calls (\d+)", done.stdout)
    if calls is None:
        raise SystemExit(f"the counted replay printed no calls:\n{done.stdout[-2000:]}")
    return valgrind_refs(done.stderr), int(calls.group(1))


def mm3_scenario(folder: Path, calls: int = MM3_CALLS) -> Path:
    sys.path.insert(0, str(HERE))
    from bench_ciw import RATE_PER_H, SCENARIO, SERVERS

    per_day = RATE_PER_H * 24.0
    path = folder / "mm3.toml"
    path.write_text(
        SCENARIO.format(per_day=per_day, days=calls / per_day, servers=SERVERS),
        encoding="utf-8",
    )
    return path


def valgrind_refs(valgrind_stderr: str) -> int:
    """The instruction count valgrind prints at exit (``I refs: 1,234``)."""
    refs = re.search(r"I\s+refs:\s+([\d,]+)", valgrind_stderr)
    if refs is None:
        raise SystemExit(f"valgrind gave no count:\n{valgrind_stderr[-2000:]}")
    return int(refs.group(1).replace(",", ""))


def count_process(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> int:
    """Instructions of a whole process, from start to exit (valgrind's callgrind).

    Only the total is read: callgrind's per-function file goes nowhere, whatever ``cwd`` is.
    """
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env=env,
    )
    return valgrind_refs(done.stderr)


def whole(calls: int, against: Path | None) -> None:
    """Whole-process instructions of `dispatch simulate` and of Ciw on one M/M/3 workload."""
    sys.path.insert(0, str(HERE))
    from bench_ciw import CIW, RATE_PER_H, SERVERS, calls_in

    with tempfile.TemporaryDirectory(prefix="bench_instructions_") as tmp:
        folder = Path(tmp)
        scenario = mm3_scenario(folder, calls)
        n = calls_in(scenario)
        script = folder / "ciw_mm3.py"
        script.write_text(CIW.format(rate=RATE_PER_H, servers=SERVERS), encoding="utf-8")
        print(f"instructions of whole processes, M/M/3 with {n:,} calls (valgrind callgrind)")
        ciw = count_process([sys.executable, str(script), str(n)], folder)
        checkouts = [ROOT, *([against.resolve()] if against is not None else [])]
        for checkout in checkouts:
            env = dict(os.environ, PYTHONPATH=str(checkout))
            cmd = [sys.executable, "-m", "dispatch", "simulate", str(scenario)]
            ours = count_process([*cmd, "--out", str(folder / "out")], checkout, env)
            print(
                f"  dispatch simulate ({checkout}) {ours / 1e6:8.1f} M = {ours / n / 1e3:5.1f} k a "
                f"call; Ciw {ciw / 1e6:.1f} M; ratio {ours / ciw:.3f}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--against", type=Path, help="a checkout of another commit to count too")
    parser.add_argument("--whole", type=int, metavar="CALLS", help="whole processes against Ciw")
    args = parser.parse_args([] if argv is None else argv)
    if args.child:
        child(args.child)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("bench_instructions: valgrind is not installed (apt-get install valgrind); skipped")
        return
    if args.whole is not None:
        whole(args.whole, args.against)
        return
    with tempfile.TemporaryDirectory(prefix="bench_instructions_") as tmp:
        scenarios = {"St. Louis CRU": CRU, f"M/M/3, {MM3_CALLS:,} calls": mm3_scenario(Path(tmp))}
        print("instructions of one replication's event loop (valgrind callgrind)")
        for name, path in scenarios.items():
            here, calls = count(path, ROOT)
            line = f"  {name:<22} {here / 1e6:8.1f} M = {here / calls / 1e3:6.1f} k a call"
            if args.against is not None:
                there, _ = count(path, args.against.resolve())
                line += f"; {args.against}: {there / 1e6:.1f} M, ratio {here / there:.3f}"
            print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
