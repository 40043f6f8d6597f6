"""Bytecodes one replay loop executes per call, by function: where the interpreter's time goes.

valgrind (`bench_instructions.py`) finds about 93% of a replay loop's machine instructions inside
the CPython interpreter and 6% in numpy, so what a call costs is, to first order, how many
bytecodes the rules and the kernel execute for it. This counts them exactly, with
``sys.settrace`` and ``f_trace_opcodes`` over one replication's event loop (`Replay.run`, after a
first replication has warmed the caches), and splits them into SimPy's kernel (``simpy/``) and
the rest (the dispatch session, the matcher, the oracle, the replay's bookkeeping). The count is
the same on any machine and under any load; the tracing makes the run some 20 times slower.
Bytecodes are a map, not the measure: one that builds a tuple or a list costs more machine
instructions than one that compares two floats, so a change that saves bytecodes by building more
objects can cost time. Judge a change by `bench_instructions.py --against` or by wall time.

Scenarios: M/M/3 with 10,000 calls (the `bench_ciw` workload, smaller) and the St. Louis CRU
baseline (6,947 calls). ``--top N`` lists the N functions with the most.

Run: ``.venv/bin/python benchmarks/bench_bytecodes.py [--top 12]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
CRU = HERE.parent / "scenarios" / "stlouis_cru.toml"


def count(scenario: Path) -> tuple[Counter[tuple[str, str]], int]:
    """Bytecodes by (file, function) of one replication's event loop, and its calls."""
    from bench_instructions import second_loop_inside

    counts: Counter[tuple[str, str]] = Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[(code.co_filename, code.co_name)] += 1
        return trace

    @contextmanager
    def traced() -> Iterator[None]:
        sys.settrace(trace)
        try:
            yield
        finally:
            sys.settrace(None)

    return counts, second_loop_inside(scenario, traced)


def show(name: str, counts: Counter[tuple[str, str]], calls: int, top: int) -> None:
    total = sum(counts.values())
    kernel = sum(n for (path, _), n in counts.items() if Path(path).parent.name == "simpy")
    print(f"  {name}: {total / calls:,.0f} bytecodes a call")
    print(f"    SimPy's kernel {kernel / calls:6,.0f}   the rest {(total - kernel) / calls:6,.0f}")
    for (path, function), n in counts.most_common(top):
        print(f"    {n / calls:8.1f}  {Path(path).name}:{function}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args([] if argv is None else argv)
    sys.path.insert(0, str(HERE))  # the helpers of bench_instructions
    from bench_instructions import mm3_scenario

    print("bytecodes of one replication's event loop (sys.settrace, f_trace_opcodes)")
    with tempfile.TemporaryDirectory(prefix="bench_bytecodes_") as tmp:
        for name, path in (
            ("M/M/3, 10,000 calls", mm3_scenario(Path(tmp))),
            ("St. Louis CRU", CRU),
        ):
            counts, calls = count(path)
            show(name, counts, calls, args.top)


if __name__ == "__main__":
    main(sys.argv[1:])
