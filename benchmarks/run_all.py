"""Run every benchmark: each ``benchmarks/bench_*.py`` module's ``main()``, in name order.

Run: ``.venv/bin/python benchmarks/run_all.py`` (or ``make bench``). Name benchmarks to run a
subset: ``.venv/bin/python benchmarks/run_all.py match sim``. Timings are printed, never
asserted; a benchmark that fails is reported and the others still run (exit status 1).
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(names: list[str]) -> list[Path]:
    """Benchmark files, all or those named (``match`` or ``bench_match``)."""
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    by_name = {path.stem.removeprefix("bench_"): path for path in found}
    missing = [n for n in names if n.removeprefix("bench_") not in by_name]
    if missing:
        raise SystemExit(
            f"unknown benchmark(s) {', '.join(missing)}; found {', '.join(sorted(by_name))}"
        )
    return [by_name[n.removeprefix("bench_")] for n in names]


def run(path: Path) -> bool:
    """Import ``path`` as a module and call its ``main()``; False when it raised."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
        module.main()
    except SystemExit as stop:  # a benchmark that checks a goal (a size) exits when missed
        if stop.code not in (None, 0):
            print(f"{path.stem}: {stop.code}", file=sys.stderr)
            return False
    except Exception:
        traceback.print_exc()
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    paths = discover(list(sys.argv[1:] if argv is None else argv))
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))  # benchmarks may share helpers
    failed: list[str] = []
    for path in paths:
        print(f"\n=== {path.stem} {'=' * max(3, 72 - len(path.stem))}", flush=True)
        start = time.perf_counter()
        ok = run(path)
        print(
            f"--- {path.stem}: {'done' if ok else 'FAILED'} in {time.perf_counter() - start:.1f} s"
        )
        if not ok:
            failed.append(path.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
