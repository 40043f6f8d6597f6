"""A sweep's output directory: the manifest, one file per finished run, atomic writes.

Layout::

    manifest.json            the variants, the scenario hash: a rerun resumes, other inputs refuse
    parts/v{i}_r{k}.json     one finished (variant, replication), written atomically
    parts/v{i}_r{k}.calls.parquet   its calls, with ``keep_calls``
    variants.parquet, replications.parquet, teams.parquet, duty.parquet,
    response_times.parquet, calls.parquet, summary.json   the results (`FINAL_FILES`)

Every write goes to a temporary file that replaces the target, with stop signals held (see
`dispatch.sweep.stop`), so a file is either whole or absent and no temporary is left behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch.sweep.errors import SweepError
from dispatch.sweep.stop import held

if TYPE_CHECKING:
    import pandas as pd

    from dispatch.sweep.plan import SweepPlan

#: The results, written by `dispatch.sweep.aggregate` once every run is done.
FINAL_FILES = (
    "variants.parquet",
    "replications.parquet",
    "teams.parquet",
    "duty.parquet",
    "response_times.parquet",
    "calls.parquet",
    "summary.json",
)


def part_name(variant: int, replication: int) -> str:
    """The file stem of one finished run: ``v{variant}_r{replication}``."""
    return f"v{variant}_r{replication}"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole (flushed to disk) or not at all."""
    tmp = _temporary(path)
    with held():
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def atomic_write_json(path: Path, value: Any, *, indent: int | None = 1) -> None:
    """`atomic_write_bytes` of ``value`` as JSON (indented unless ``indent`` is None) and a final
    newline. Without an indent the json module's C encoder writes it, about ten times faster."""
    atomic_write_bytes(path, (json.dumps(value, indent=indent) + "\n").encode("utf-8"))


def atomic_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` to ``path`` (Parquet, no index) whole or not at all."""
    from dispatch.parquet_out import write_parquet

    tmp = _temporary(path)
    with held():
        write_parquet(frame, tmp)
        os.replace(tmp, path)


def check_out_dir(plan: SweepPlan, out: Path) -> None:
    """Refuse a directory that holds another sweep's runs or files that are not a sweep."""
    manifest = out / "manifest.json"
    if manifest.is_file():
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SweepError(f"{manifest}: unreadable sweep manifest") from None
        old = previous.get("identity", {})
        new = plan.identity()
        if old == new:
            return
        if old.get("format") != new["format"]:
            why = "it was written by another version of the sweep format"
        elif old.get("scenario_hash") != new["scenario_hash"]:
            why = "the scenario file or a data file it names has changed since"
        elif old.get("target_min") != new["target_min"]:
            why = (
                f"its target was {old.get('target_min')} min, this run asks {new['target_min']} min"
            )
        else:
            why = "its variants differ from this run's"
        raise SweepError(
            f"{out} holds a sweep of different inputs ({why}); refusing to mix them. "
            "Use a new --out directory, or delete this one to start over"
        )
    if out.exists() and any(p.name != "parts" for p in out.iterdir()):
        raise SweepError(
            f"{out} already holds files that are not a sweep (no manifest.json); "
            "use a new or empty --out directory"
        )


def write_manifest(plan: SweepPlan, out: Path) -> None:
    """``manifest.json``: the plan's identity and what a reader needs to name the sweep."""
    atomic_write_json(
        out / "manifest.json",
        {
            "kind": "sweep",
            "scenario": plan.name,
            "scenario_path": str(plan.scenario_path),
            "seed": plan.seed,
            "replications": plan.replications,
            "identity": plan.identity(),
        },
    )


def is_done(parts: Path, variant: int, replication: int, keep_calls: bool) -> bool:
    """True when the run's part (and, with ``keep_calls``, its calls) is on disk."""
    name = part_name(variant, replication)
    if not (parts / f"{name}.json").is_file():
        return False
    return not keep_calls or (parts / f"{name}.calls.parquet").is_file()


def count_done(plan: SweepPlan, parts: Path) -> int:
    """How many of the plan's runs are on disk."""
    return sum(
        is_done(parts, v.index, k, plan.keep_calls)
        for v in plan.variants
        for k in range(plan.replications)
    )


def save_part(parts: Path, result: dict[str, Any]) -> None:
    """Write one run's result (`dispatch.sweep.tasks.run_task`); its calls go first, then the
    JSON, whose presence means the whole part is on disk."""
    name = part_name(result["variant"], result["replication"])
    calls = result.pop("calls", None)
    with held():
        if calls is not None:
            atomic_parquet(parts / f"{name}.calls.parquet", calls)
        # One line: the sweep's own process writes a part per run while its workers compute,
        # and the indented form took it 2 ms of CPU each (same values either way).
        atomic_write_json(parts / f"{name}.json", result, indent=None)


def read_part(parts: Path, variant: int, replication: int) -> dict[str, Any]:
    """One run's result as `save_part` wrote it (without its calls)."""
    text = (parts / f"{part_name(variant, replication)}.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
