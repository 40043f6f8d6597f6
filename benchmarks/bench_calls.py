"""Call-log load-and-validate speed: `dispatch.calls.load_calls` on a 1M-row log.

Writes a synthetic call log (CSV and Parquet) to a temporary directory, then times, in the same
run, `load_calls` and a plain pandas read of the same file as the baseline:

* CSV, clean, ``bad_rows="fail"``                       vs ``pd.read_csv(path)``
* Parquet, clean                                        vs ``pd.read_parquet(path)``
* CSV with 1% bad values, ``bad_rows="quarantine"``,
  naive local times in America/Denver (so the daylight-saving hours are rejected too)

Goal: under 5 s per 1M-row load on a 2-core machine. Run::

    .venv/bin/python benchmarks/bench_calls.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dispatch.calls import load_calls

CALL_TYPES = np.array(["mental_health", "welfare_check", "suicidal", "substance_use"])
RISKS = np.array(["low", "standard", "high"])
TRANSPORT = np.array(["true", "false", ""])
DENVER = (39.6, -105.1, 39.9, -104.6)


def make_log(rows: int, seed: int = 2025, bad_share: float = 0.0) -> pa.Table:
    """A synthetic year of calls as a table of strings, as a CAD export would have them."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "s")
    offsets = np.sort(rng.integers(0, 365 * 86400, rows)).astype("timedelta64[s]")
    received = np.datetime_as_string(start + offsets, unit="s")
    lat = rng.uniform(DENVER[0], DENVER[2], rows).round(6).astype(str)
    lon = rng.uniform(DENVER[1], DENVER[3], rows).round(6).astype(str)
    priority = rng.integers(1, 5, rows).astype(str)
    on_scene = rng.gamma(2.0, 1200.0, rows).round(0).astype(str)
    columns = {
        "call_id": np.char.add("DEN25-", np.arange(rows).astype(str)),
        "received_at": received,
        "lat": lat,
        "lon": lon,
        "call_type": CALL_TYPES[rng.integers(0, len(CALL_TYPES), rows)],
        "priority": priority,
        "risk": RISKS[rng.integers(0, len(RISKS), rows)],
        "on_scene_s": on_scene,
        "transport": TRANSPORT[rng.integers(0, len(TRANSPORT), rows)],
    }
    if bad_share:
        for name, bad_value in (
            ("received_at", "yesterday"),
            ("lat", "139.7"),
            ("priority", "9"),
            ("call_id", ""),
        ):
            hit = rng.random(rows) < bad_share / 4
            columns[name] = np.where(hit, bad_value, columns[name])
    return pa.table({k: pa.array(v.tolist(), pa.string()) for k, v in columns.items()})


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def report(label: str, ours: list[float], base: list[float] | None, base_label: str) -> None:
    best, median = min(ours), statistics.median(ours)
    line = f"{label:<48} best {best:6.2f} s  median {median:6.2f} s"
    if base:
        line += f"   {base_label} {min(base):5.2f} s  ratio x{best / min(base):4.1f}"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        clean = make_log(args.rows)
        csv_path, pq_path, dirty_path = (
            folder / "calls.csv",
            folder / "calls.parquet",
            folder / "dirty.csv",
        )
        pacsv.write_csv(clean, csv_path)
        pq.write_table(clean, pq_path)
        pacsv.write_csv(make_log(args.rows, bad_share=0.01), dirty_path)
        size_mb = csv_path.stat().st_size / 1e6
        written_s = time.perf_counter() - t0
        print(
            f"{args.rows:,} rows, CSV {size_mb:.0f} MB, written in {written_s:.1f} s; "
            f"best and median of {args.repeat}",
            flush=True,
        )

        base = timed(lambda: pd.read_csv(csv_path), args.repeat)
        ours = timed(lambda: load_calls(csv_path, bounds=DENVER), args.repeat)
        report("load_calls CSV (clean, fail mode)", ours, base, "pd.read_csv")

        base = timed(lambda: pd.read_parquet(pq_path), args.repeat)
        ours = timed(lambda: load_calls(pq_path, bounds=DENVER), args.repeat)
        report("load_calls Parquet (clean)", ours, base, "pd.read_parquet")

        base = timed(lambda: pd.read_csv(dirty_path), args.repeat)
        quarantine = folder / "dirty.rejected.csv"
        ours = timed(
            lambda: load_calls(
                dirty_path,
                bounds=DENVER,
                timezone="America/Denver",
                bad_rows="quarantine",
                quarantine_path=quarantine,
            ),
            args.repeat,
        )
        log = load_calls(
            dirty_path,
            bounds=DENVER,
            timezone="America/Denver",
            bad_rows="quarantine",
            quarantine_path=quarantine,
        )
        report(
            f"load_calls CSV (1% bad, quarantine {len(log.rejected):,} rows)",
            ours,
            base,
            "pd.read_csv",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
