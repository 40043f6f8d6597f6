"""Replay viewer size and build time: one replication-year of St. Louis.

Simulates the bundled ``stlouis_cru.toml`` for one replication with the event log, then writes
the viewer (``dispatch view``) and prints its size, what the data holds and how long each step
took. Goal (issue): the viewer file for one replication-year of St. Louis under 15 MB. Also the
same for the downtown Denver year on its road network. Sizes are checked, times only printed.

Run: ``.venv/bin/python benchmarks/bench_view.py``
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

GOAL_MB = 15.0


def measure(name: str, directory: Path) -> bool:
    import dispatch
    from dispatch.datasets import example_scenario
    from dispatch.viewer import build_viewer_data, write_viewer

    out = directory / name
    start = time.perf_counter()
    scenario = dispatch.load_scenario(example_scenario(name))
    dispatch.simulate(scenario, replications=1, event_log=True).write(out)
    simulated = time.perf_counter() - start
    start = time.perf_counter()
    page = write_viewer(out)
    built = time.perf_counter() - start
    size_mb = page.stat().st_size / 1e6
    data = build_viewer_data(out)
    rep = data["replications"][0]
    parts = {
        key: len(json.dumps(data[key], separators=(",", ":"))) / 1e6 for key in ("areas", "network")
    }
    parts["calls"] = len(json.dumps(rep["calls"], separators=(",", ":"))) / 1e6
    parts["teams"] = len(json.dumps(rep["teams"], separators=(",", ":"))) / 1e6
    keyframes = sum(len(t) for t in rep["teams"]["t"])
    ok = size_mb < GOAL_MB
    print(
        f"{name}: {len(rep['calls']['id'])} calls, {len(rep['teams']['id'])} teams, "
        f"{keyframes} team keyframes, {len(data['days']['label'])} days"
    )
    print("  data MB: " + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()))
    print(f"  simulate (1 replication, events) {simulated:.1f} s, dispatch view {built:.1f} s")
    print(f"  viewer file {size_mb:.2f} MB (goal < {GOAL_MB:g} MB): {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = [measure(name, Path(tmp)) for name in ("stlouis_cru", "denver_downtown")]
    if not all(results):
        raise SystemExit("viewer size goal missed")


if __name__ == "__main__":
    main()
