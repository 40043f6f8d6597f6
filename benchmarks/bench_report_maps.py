"""Report with maps for a 30-replication St. Louis sweep: under 30 s (issue 13).

The sweep is ``scenarios/stlouis_staffing_sweep.toml`` (10 staffing levels x 30 replications of
the 2025 call year, every call kept: about 2.1 million rows of ``calls.parquet``), run once on
two worker processes into a cache folder, then reused. Only ``write_report`` is timed: the whole
page, its usual figures and the maps (by neighbourhood, the answer against the first variant).

Run: ``.venv/bin/python benchmarks/bench_report_maps.py`` (``--cache DIR`` keeps the sweep
between runs; ``--replications 5`` for a quick look).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dispatch.executors import ProcessExecutor
from dispatch.report import write_report
from dispatch.sweep import plan_sweep, run_sweep

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "stlouis_staffing_sweep.toml"
GOAL_S = 30.0


def sweep_output(out: Path, replications: int | None) -> Path:
    """The sweep with its calls in ``out`` (a finished one there is reused, not rerun)."""
    plan = plan_sweep(SCENARIO, replications=replications, keep_calls=True)
    if not (out / "summary.json").is_file():
        start = time.perf_counter()
        with ProcessExecutor(workers=2) as executor:
            run_sweep(plan, out, executor=executor)
        print(f"sweep (2 workers, not timed) {time.perf_counter() - start:6.1f} s")
    print(f"sweep runs                   {len(plan.variants)} x {plan.replications}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=None, help="default: the file's 30")
    parser.add_argument("--cache", type=Path, default=None, help="folder to keep the sweep in")
    args = parser.parse_args([] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="bench_report_maps_") as tmp:
        root = args.cache if args.cache is not None else Path(tmp)
        out = sweep_output(root / f"sweep_{args.replications or 'file'}", args.replications)
        rows = (out / "calls.parquet").stat().st_size / 2**20
        print(f"calls.parquet                {rows:6.1f} MB")
        start = time.perf_counter()
        page = write_report(out, out=Path(tmp) / "report.html")
        report_s = time.perf_counter() - start
        maps = sorted(p.name for p in (page.parent / "figures").glob("map_*.png"))
        print(f"report with maps             {report_s:6.1f} s")
        print(f"maps                         {', '.join(maps)}")
        print(f"page                         {page.stat().st_size / 2**20:6.1f} MB")
    print(f"goal < {GOAL_S:.0f} s: {'PASS' if report_s < GOAL_S and maps else 'MISS'}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
