"""Staffing sweeps: many variants of one scenario x replications, resumable, on any executor.

A sweep is a grid of *variants* of one scenario file, each run for the same replications. Every
variant's replication ``k`` draws from the same random streams (common random numbers), so the
differences between variants are the changes, not noise.

Variants are stated with dotted keys into the scenario file:

- ``policy.fallback_after_min``: a key of a table;
- ``teams.CRU-day.count``: an element of a list (``teams``, ``stations``, ``facilities``) by its
  ``id``; ``teams.0.count`` by position (0-based); ``teams[CRU.day].count`` for an id with dots;
- ``shifts.day.start``: the ``day`` entry of ``[shifts]``.

In the file::

    [sweep]
    vary = { "policy.fallback_after_min" = [5, 10] }           # a grid: every combination
    together = { "teams.CRU-day.count" = [2, 3, 4],          # changed in step
                 "teams.CRU-evening.count" = [1, 2, 3] }
    replications = 30
    target_share = 0.9     # smallest staffing with >= 90% of calls ...
    target_min = 20        # ... reached by a specialist within 20 min

On the command line, ``--vary teams.CRU-day.count=2,4,6`` (or a range, ``2..6`` or ``2..12:2``)
adds a grid dimension, replacing the file's list for the same key.

Output directory::

    manifest.json            the variants, the scenario hash: a rerun resumes, other inputs refuse
    parts/v{i}_r{k}.json     one finished (variant, replication), written atomically
    parts/v{i}_r{k}.calls.parquet   its calls, with ``keep_calls``
    variants.parquet         per variant and metric: mean, ci95_low, ci95_high
    replications.parquet     per variant and replication: every metric (for paired comparisons)
    teams.parquet            per variant, replication and team
    duty.parquet             per variant and hour of week: calls per hour, teams on duty
    response_times.parquet   per variant and outcome: response-time histogram (1-minute bins)
    calls.parquet            with ``keep_calls``: every call of every variant and replication
    summary.json             the figures with 95% intervals and the answer to the target
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import re
import sys
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dispatch.errors import DispatchError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from dispatch.executors import Executor
    from dispatch.sim.prepare import Prepared

#: The metric the staffing target is judged on (see `dispatch.sim.results.replication_metrics`).
TARGET_METRIC = "specialist_within_target_share"
#: Response-time histogram: 1-minute bins from 0 to 240 minutes, then one bin for the rest.
HIST_MAX_MIN = 240
MANIFEST_FORMAT = 1
#: Keys a sweep may not vary, and why.
FROZEN_KEYS = {
    "seed": "varying 'seed' would break common random numbers; use more replications instead",
    "replications": "set replications with --replications or [sweep].replications",
    "sweep": "the [sweep] table cannot vary itself",
    "extends": "'extends' cannot be varied; make a scenario file per base instead",
}
FINAL_FILES = (
    "variants.parquet",
    "replications.parquet",
    "teams.parquet",
    "duty.parquet",
    "response_times.parquet",
    "calls.parquet",
    "summary.json",
)


class SweepError(DispatchError):
    """An invalid sweep specification or output directory."""


class SweepInterruptedError(DispatchError):
    """The sweep stopped early; what finished is saved and a rerun resumes."""

    exit_code = 130


# -- keys and values -----------------------------------------------------------------------
_TOKEN = re.compile(r"\[([^\]]+)\]|([^.\[\]]+)")


def parse_key(key: str) -> list[str]:
    """Split a dotted key into its parts: ``"teams.CRU-day.count"`` -> ``["teams", "CRU-day",
    "count"]``; a bracketed part may hold dots: ``"teams[a.b].count"``."""
    key = key.strip()
    tokens: list[str] = []
    position = 0
    while position < len(key):
        match = _TOKEN.match(key, position)
        if match is None:
            raise SweepError(f"sweep key {key!r}: cannot read it at {key[position:]!r}")
        tokens.append((match.group(1) or match.group(2)).strip())
        position = match.end()
        if position < len(key):
            if key[position] == ".":
                position += 1
                if position == len(key) or key[position] == ".":
                    raise SweepError(f"sweep key {key!r}: empty part")
            elif key[position] != "[":
                raise SweepError(f"sweep key {key!r}: cannot read it at {key[position:]!r}")
    if not tokens or any(not t for t in tokens):
        raise SweepError(f"sweep key {key!r}: empty part")
    if tokens[0] in FROZEN_KEYS:
        raise SweepError(f"sweep key {key!r}: {FROZEN_KEYS[tokens[0]]}")
    return tokens


def parse_value(text: str) -> Any:
    """One command-line value: TOML numbers and booleans as such, anything else as text.

    Examples
    --------
    >>> [parse_value(v) for v in ["4", "2.5", "true", "09:00", '"x"', "day"]]
    [4, 2.5, True, '09:00', 'x', 'day']
    """
    text = text.strip()
    if not text:
        raise SweepError("empty value in a --vary list")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, (bool, int, float, str)):
        return value
    return text


_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?::\s*(\d+)\s*)?$")


def parse_vary(option: str) -> tuple[str, list[Any]]:
    """``"KEY=V1,V2,..."`` (or ``"KEY=A..B"``, ``"KEY=A..B:STEP"``, integers, inclusive).

    Examples
    --------
    >>> parse_vary("teams.CRU-day.count=2..8:2")
    ('teams.CRU-day.count', [2, 4, 6, 8])
    >>> parse_vary("policy.fallback_after_min=5,10")
    ('policy.fallback_after_min', [5, 10])
    """
    key, sep, values = option.partition("=")
    if not sep or not key.strip():
        raise SweepError(f"--vary {option!r}: expected KEY=V1,V2,... (e.g. teams.0.count=2,4,6)")
    parse_key(key)
    ranged = _RANGE.match(values)
    if ranged:
        start, stop = int(ranged.group(1)), int(ranged.group(2))
        step = int(ranged.group(3) or 1)
        if step < 1 or stop < start:
            raise SweepError(f"--vary {option!r}: a range A..B:STEP needs A <= B and STEP >= 1")
        return key.strip(), list(range(start, stop + 1, step))
    items = [parse_value(v) for v in values.split(",")]
    if not items:
        raise SweepError(f"--vary {option!r}: no values")
    return key.strip(), items


_PATH_VALUES = {
    ("network", "path"),
    ("network", "nodes"),
    ("calls", "path"),
    ("calls", "synthetic", "profile"),
    ("policy", "rules"),
}


def _set(data: dict[str, Any], key: str, tokens: list[str], value: Any, base: Path) -> None:
    """Set ``value`` at ``tokens`` in the raw scenario table (in place)."""
    if tuple(tokens) in _PATH_VALUES and isinstance(value, str) and value != "default":
        value = str((base / value).resolve())
    node: Any = data
    for depth, token in enumerate(tokens):
        last = depth == len(tokens) - 1
        where = ".".join(tokens[:depth])
        if isinstance(node, dict):
            if last:
                node[token] = copy.deepcopy(value)
                return
            if token not in node:
                if tokens[depth + 1].isdigit():
                    missing = ".".join(tokens[: depth + 1])
                    raise SweepError(f"sweep key {key!r}: the scenario has no list {missing!r}")
                node[token] = {}
            node = node[token]
        elif isinstance(node, list):
            index = _element(node, token, key, where)
            if last:
                node[index] = copy.deepcopy(value)
                return
            node = node[index]
        else:
            raise SweepError(
                f"sweep key {key!r}: {where!r} is a single value ({node!r}), not a table or a list"
            )


def _address(data: dict[str, Any], key: str, tokens: list[str]) -> tuple[str | int, ...]:
    """The key with list elements as positions: ``teams.CRU-day.count`` -> ``("teams", 0,
    "count")``; also checks that every list element it names exists."""
    out: list[str | int] = []
    node: Any = data
    for depth, token in enumerate(tokens):
        if isinstance(node, list):
            index = _element(node, token, key, ".".join(tokens[:depth]))
            out.append(index)
            node = node[index]
        else:
            out.append(token)
            node = node.get(token) if isinstance(node, dict) else None
    return tuple(out)


def _element(items: list[Any], token: str, key: str, where: str) -> int:
    if token.isdigit():
        index = int(token)
        if index >= len(items):
            raise SweepError(
                f"sweep key {key!r}: {where!r} has {len(items)} element(s), "
                f"so index {index} does not exist (indices start at 0)"
            )
        return index
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == token:
            return index
    known = ", ".join(str(i) for i in ids if i is not None) or "none"
    raise SweepError(f"sweep key {key!r}: no element of {where!r} has id {token!r} (ids: {known})")


def _override(modified: dict[str, Any], tokens: list[str]) -> dict[str, Any]:
    """The smallest override that reproduces ``modified`` at ``tokens``: tables key by key,
    a whole list where the path crosses one (a list is replaced, never merged)."""
    out: dict[str, Any] = {}
    target = out
    node: Any = modified
    for depth, token in enumerate(tokens):
        child = node[token]
        if depth == len(tokens) - 1 or not isinstance(child, dict):
            target[token] = copy.deepcopy(child)
            break
        target[token] = {}
        target = target[token]
        node = child
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


# -- the plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One point of the grid: the values of the varied keys and the override they make."""

    index: int
    values: dict[str, Any]
    overrides: dict[str, Any]

    @property
    def label(self) -> str:
        """``"key=value, key=value"``, or ``"baseline"`` when nothing varies."""
        return ", ".join(f"{k}={_show(v)}" for k, v in self.values.items()) or "baseline"


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


@dataclass(frozen=True)
class SweepPlan:
    """What to run: made by `plan_sweep`, executed by `run_sweep`.

    Attributes
    ----------
    scenario_path
        The scenario file (absolute).
    scenario_hash
        SHA-256 of the resolved file (``extends`` merged) and of every data file it names.
    name, seed
        From the file.
    variants
        The grid, in order (the first dimension changes slowest).
    replications
        Replications per variant.
    target_min
        The response target (minutes) of the ``specialist_within_target_share`` metric.
    target_share
        The share that metric must reach on its interval's lower side; None states no target.
    keep_calls
        Also keep every call (``calls.parquet``).
    """

    scenario_path: Path
    scenario_hash: str
    name: str
    seed: int
    variants: tuple[Variant, ...]
    replications: int
    target_min: float
    target_share: float | None = None
    keep_calls: bool = False

    @property
    def keys(self) -> list[str]:
        """The varied keys, in column order."""
        return list(self.variants[0].values) if self.variants else []

    def identity(self) -> dict[str, Any]:
        """What must match for a rerun to reuse finished parts (JSON types only)."""
        identity = {
            "format": MANIFEST_FORMAT,
            "scenario_hash": self.scenario_hash,
            "target_min": self.target_min,
            "variants": [{"values": v.values, "overrides": v.overrides} for v in self.variants],
        }
        loaded: dict[str, Any] = json.loads(_canonical(identity))
        return loaded


def plan_sweep(
    path: str | Path,
    vary: Mapping[str, Sequence[Any]] | Iterable[tuple[str, Sequence[Any]]] | None = None,
    *,
    replications: int | None = None,
    target_share: float | None = None,
    target_min: float | None = None,
    keep_calls: bool = False,
) -> SweepPlan:
    """Read a scenario file and its ``[sweep]`` table; check every variant against the schema.

    Parameters
    ----------
    path
        The scenario TOML file.
    vary
        Extra grid dimensions ``{key: values}`` (the command line's ``--vary``); a key the
        file's ``vary`` also has replaces it there.
    replications
        Replications per variant; default the file's ``[sweep].replications``, else its
        ``replications``.
    target_share, target_min
        The target: ``target_share`` of calls reached by a specialist within ``target_min``
        minutes; defaults ``[sweep].target_share`` and ``[sweep].target_min``, else the file's
        ``policy.target_response_min``.
    keep_calls
        Keep every call of every replication (large).

    Raises
    ------
    SweepError
        An unknown key, an element that does not exist, an empty list, or a variant the
        scenario schema rejects (the message names the variant and the key).
    """
    from dispatch.scenario_file import merge, parse, read_raw

    path = Path(path).resolve()
    raw = read_raw(path)
    spec = parse(raw, source=str(path))
    sweep = spec.sweep
    cli = list(vary.items()) if isinstance(vary, Mapping) else list(vary or [])
    grid: dict[str, list[Any]] = {k: list(v) for k, v in sweep.vary.items()}
    together = {k: list(v) for k, v in sweep.together.items()}
    for key, listed in cli:
        if not listed:
            raise SweepError(f"--vary {key}: no values")
        if key in together:
            raise SweepError(
                f"--vary {key}: this key changes together with others in the file's "
                "[sweep].together; change it there"
            )
        grid[key] = list(listed)
    tokens = {key: parse_key(key) for key in [*together, *grid]}
    seen: dict[tuple[str | int, ...], str] = {}
    for key, parts in tokens.items():
        where = _address(raw, key, parts)
        if where in seen:
            raise SweepError(f"sweep keys {seen[where]!r} and {key!r} name the same value")
        seen[where] = key

    dimensions: list[list[dict[str, Any]]] = []
    if together:
        n = len(next(iter(together.values())))
        dimensions.append([{k: v[i] for k, v in together.items()} for i in range(n)])
    dimensions.extend([{key: value} for value in items] for key, items in grid.items())

    variants: list[Variant] = []
    for index, combo in enumerate(itertools.product(*dimensions)):
        values: dict[str, Any] = {}
        for part in combo:
            values.update(part)
        modified = copy.deepcopy(raw)
        for key, value in values.items():
            _set(modified, key, tokens[key], value, path.parent)
        overrides: dict[str, Any] = {}
        for key in values:
            overrides = merge(overrides, _override(modified, tokens[key]))
        variant = Variant(index=index, values=values, overrides=overrides)
        try:
            parse(merge(raw, overrides), source=f"{path} (sweep variant {index}: {variant.label})")
        except InputError as error:
            raise SweepError(str(error)) from None
        variants.append(variant)

    reps = replications if replications is not None else sweep.replications or spec.replications
    if reps < 1:
        raise SweepError(f"replications must be >= 1, got {reps}")
    share = target_share if target_share is not None else sweep.target_share
    if share is not None and not 0 < share <= 1:
        raise SweepError(f"target share must be in (0, 1], got {share}")
    minutes = target_min if target_min is not None else sweep.target_min
    if minutes is None:
        minutes = spec.policy.target_response_min
    if not minutes > 0:
        raise SweepError(f"target minutes must be > 0, got {minutes}")
    return SweepPlan(
        scenario_path=path,
        scenario_hash=scenario_hash(path, raw, [v.overrides for v in variants]),
        name=spec.name,
        seed=spec.seed,
        variants=tuple(variants),
        replications=reps,
        target_min=float(minutes),
        target_share=share,
        keep_calls=keep_calls,
    )


def scenario_hash(
    path: Path, raw: dict[str, Any] | None = None, overrides: Iterable[dict[str, Any]] = ()
) -> str:
    """SHA-256 of the resolved scenario table and the bytes of every file it or a variant names.

    ``replications`` and the ``[sweep]`` table are left out: they do not change a finished
    (variant, replication), so a rerun may add replications or restate the target.
    """
    from dispatch.scenario_file import merge, read_raw

    raw = read_raw(path) if raw is None else raw
    kept = {k: v for k, v in raw.items() if k not in ("replications", "sweep")}
    digest = hashlib.sha256(_canonical(kept).encode())
    files: list[str] = []
    for table in [raw, *(merge(raw, o) for o in overrides)]:
        for parts in sorted(_PATH_VALUES):
            node: Any = table
            for token in parts:
                node = node.get(token) if isinstance(node, dict) else None
            if isinstance(node, str) and Path(node).is_file() and node not in files:
                files.append(node)
    for name in files:
        digest.update(name.encode())
        with open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


# -- one task (runs in a worker) -----------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One (variant, replication); everything a worker needs, picklable."""

    scenario_path: str
    scenario_hash: str
    variant: int
    overrides: dict[str, Any]
    replication: int
    target_min: float
    keep_calls: bool
    label: str = ""


@dataclass
class _Ready:
    prep: Prepared
    profile: DutyProfile
    staffing: dict[str, Any]


#: Prepared variants of this worker process, most recently used last.
_PREPARED: OrderedDict[tuple[str, str, str], _Ready] = OrderedDict()
_PREPARED_MAX = 8


def _ready(task: Task) -> _Ready:
    key = (task.scenario_path, task.scenario_hash, _canonical(task.overrides))
    entry = _PREPARED.get(key)
    if entry is not None:
        _PREPARED.move_to_end(key)
        return entry
    from dispatch.scenario_file import load_scenario
    from dispatch.sim.prepare import prepare

    prep = prepare(load_scenario(task.scenario_path, overrides=task.overrides))
    profile = duty_profile(prep)
    entry = _Ready(prep=prep, profile=profile, staffing=staffing(prep, profile))
    _PREPARED[key] = entry
    while len(_PREPARED) > _PREPARED_MAX:
        _PREPARED.popitem(last=False)
    return entry


def run_task(task: Task) -> dict[str, Any]:
    """Run one replication of one variant; return its figures (JSON-ready) and maybe calls.

    The scenario is loaded and prepared once per variant per worker process (cached), so only
    the replication itself is paid per task.
    """
    from dispatch.sim.results import replication_metrics
    from dispatch.sim.run import run_replication

    try:
        ready = _ready(task)
    except InputError as error:
        raise InputError(f"sweep variant {task.variant} ({task.label}): {error}") from None
    calls, teams, _ = run_replication(ready.prep, task.replication)
    result: dict[str, Any] = {
        "variant": task.variant,
        "replication": task.replication,
        "metrics": replication_metrics(calls, task.target_min, teams),
        "teams": {column: teams[column].tolist() for column in teams.columns},
        "response_hist": response_histogram(calls),
        "demand": demand_counts(ready.profile, ready.prep.epoch, calls).tolist(),
        "hours": ready.profile.hours.tolist(),
        "duty": {kind: row.tolist() for kind, row in ready.profile.duty.items()},
        "staffing": ready.staffing,
        "calls": calls if task.keep_calls else None,
    }
    return result


# -- profiles shared with the report -------------------------------------------------------
@dataclass
class DutyProfile:
    """Hour-of-week view of a prepared scenario over its call period.

    Attributes
    ----------
    hour_of_week
        For each hour since the epoch, its local hour of the week (Monday 00:00 = 0).
    hours
        How many hours of each hour of week the period has (168 values).
    duty
        Per team kind, mean teams on duty in each hour of week (168 values each).
    """

    hour_of_week: np.ndarray
    hours: np.ndarray
    duty: dict[str, np.ndarray] = field(default_factory=dict)


def duty_profile(prep: Prepared) -> DutyProfile:
    """Teams on duty by hour of week, averaged over the scenario's call period."""
    import pandas as pd

    period_s = max(prep.horizon_s - _pad_s(), 3600.0)
    n = math.ceil(period_s / 3600.0)
    starts = prep.epoch + pd.to_timedelta(np.arange(n) * 3600, unit="s")
    how = np.asarray(starts.day_of_week * 24 + starts.hour, dtype=np.int64)
    hours = np.bincount(how, minlength=168)
    middle = np.arange(n) * 3600.0 + 1800.0
    duty: dict[str, np.ndarray] = {}
    for kind, intervals in zip(prep.setup.kinds, prep.setup.duty, strict=True):
        on = np.zeros(n, dtype=bool)
        if intervals:
            begin = np.array([s for s, _ in intervals], dtype=float)
            end = np.array([e for _, e in intervals], dtype=float)
            i = np.searchsorted(begin, middle, side="right") - 1
            on = (i >= 0) & (middle < end[np.maximum(i, 0)])
        name = kind.value
        row = duty.setdefault(name, np.zeros(168, dtype=float))
        row += np.bincount(how, weights=on.astype(float), minlength=168)
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in duty:
            duty[name] = np.where(hours > 0, duty[name] / np.maximum(hours, 1), np.nan)
    return DutyProfile(hour_of_week=how, hours=hours, duty=dict(sorted(duty.items())))


def _pad_s() -> float:
    from dispatch.sim.prepare import HORIZON_PAD_S

    return HORIZON_PAD_S


def demand_counts(profile: DutyProfile, epoch: pd.Timestamp, calls: pd.DataFrame) -> np.ndarray:
    """Calls received in each hour of week (168 counts; thinned calls left out)."""
    sim = calls[calls["outcome"] != "thinned"]
    seconds = (sim["received_at"] - epoch).dt.total_seconds().to_numpy(dtype=float)
    index = np.clip((seconds // 3600).astype(np.int64), 0, len(profile.hour_of_week) - 1)
    return np.bincount(profile.hour_of_week[index], minlength=168).astype(np.int64)


def staffing(prep: Prepared, profile: DutyProfile) -> dict[str, Any]:
    """Team count (all and by kind) and team-hours on duty per week."""
    kinds = [k.value for k in prep.setup.kinds]
    by_kind = {kind: kinds.count(kind) for kind in sorted(set(kinds))}
    hours = sum(float(np.nansum(row)) for row in profile.duty.values())
    return {"teams": len(kinds), "teams_by_kind": by_kind, "team_hours_week": round(hours, 3)}


def response_histogram(calls: pd.DataFrame) -> dict[str, list[int]]:
    """Response-time counts per outcome in 1-minute bins, 0..HIST_MAX_MIN, then the rest."""
    out: dict[str, list[int]] = {}
    edges = np.arange(HIST_MAX_MIN + 2, dtype=float)
    edges[-1] = np.inf
    for outcome in ("specialist", "fallback"):
        minutes = calls.loc[calls["outcome"] == outcome, "response_s"].to_numpy(dtype=float) / 60
        minutes = minutes[~np.isnan(minutes)]
        counts, _ = np.histogram(minutes, bins=edges)
        out[outcome] = [int(c) for c in counts]
    return out


# -- running -------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """What `run_sweep` returns.

    Attributes
    ----------
    out_dir
        The output directory.
    complete
        False when the sweep stopped early (``max_tasks``); the finished parts are on disk.
    done, total
        Finished and planned (variant, replication) pairs.
    computed
        Pairs computed by this call (the rest were already on disk).
    summary
        The ``summary.json`` content (None when incomplete).
    """

    out_dir: Path
    complete: bool
    done: int
    total: int
    computed: int
    summary: dict[str, Any] | None = None


def _part_name(variant: int, replication: int) -> str:
    return f"v{variant}_r{replication}"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _atomic_write_json(path: Path, value: Any) -> None:
    _atomic_write_bytes(path, (json.dumps(value, indent=1) + "\n").encode("utf-8"))


def _atomic_parquet(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False, engine="pyarrow")
    os.replace(tmp, path)


def _check_out_dir(plan: SweepPlan, out: Path) -> None:
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


def _is_done(parts: Path, variant: int, replication: int, keep_calls: bool) -> bool:
    name = _part_name(variant, replication)
    if not (parts / f"{name}.json").is_file():
        return False
    return not keep_calls or (parts / f"{name}.calls.parquet").is_file()


def _save_part(parts: Path, result: dict[str, Any]) -> None:
    name = _part_name(result["variant"], result["replication"])
    calls = result.pop("calls", None)
    if calls is not None:
        _atomic_parquet(parts / f"{name}.calls.parquet", calls)
    # The JSON goes last: its presence means the whole part is on disk.
    _atomic_write_json(parts / f"{name}.json", result)


def run_sweep(
    plan: SweepPlan,
    out_dir: str | Path,
    *,
    executor: Executor | None = None,
    progress: bool = False,
    max_tasks: int | None = None,
    on_result: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run the plan's (variant, replication) pairs not yet on disk, then aggregate.

    Parameters
    ----------
    plan
        From `plan_sweep`.
    out_dir
        Where parts and results go; a rerun with the same plan resumes here.
    executor
        Where tasks run (`dispatch.executors`); default this process. Not closed here.
    progress
        Show a progress bar on stderr.
    max_tasks
        Stop after computing this many pairs (the rest is left for a rerun).
    on_result
        Called with ``(variant, replication)`` after each pair is saved.

    Raises
    ------
    SweepInterrupted
        On Ctrl-C: what finished is saved; the same call resumes.
    """
    from dispatch.executors import SerialExecutor

    out = Path(out_dir)
    _check_out_dir(plan, out)
    parts = out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    _atomic_write_json(
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
    total = len(plan.variants) * plan.replications
    todo = [
        Task(
            scenario_path=str(plan.scenario_path),
            scenario_hash=plan.scenario_hash,
            variant=v.index,
            overrides=v.overrides,
            replication=k,
            target_min=plan.target_min,
            keep_calls=plan.keep_calls,
            label=v.label,
        )
        for v in plan.variants
        for k in range(plan.replications)
        if not _is_done(parts, v.index, k, plan.keep_calls)
    ]
    if todo:
        for name in FINAL_FILES:
            (out / name).unlink(missing_ok=True)
    done_before = total - len(todo)
    if max_tasks is not None:
        todo = todo[: max(max_tasks, 0)]
    computed = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=done_before, desc="sweep", unit="run", file=sys.stderr)
    runner = executor if executor is not None else SerialExecutor()
    try:
        results = runner.map_unordered(run_task, todo)
        try:
            for position, result in results:
                _save_part(parts, result)
                computed += 1
                if bar is not None:
                    bar.update(1)
                if on_result is not None:
                    task = todo[position]
                    on_result(task.variant, task.replication)
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
    except KeyboardInterrupt:
        done = sum(
            _is_done(parts, v.index, k, plan.keep_calls)
            for v in plan.variants
            for k in range(plan.replications)
        )
        raise SweepInterruptedError(
            f"sweep interrupted: {done} of {total} runs are saved in {out}; "
            "run the same command again to resume"
        ) from None
    finally:
        if bar is not None:
            bar.close()
    done = done_before + computed
    if done < total:
        return SweepResult(out, complete=False, done=done, total=total, computed=computed)
    summary = aggregate(plan, out)
    return SweepResult(
        out, complete=True, done=total, total=total, computed=computed, summary=summary
    )


# -- aggregation ---------------------------------------------------------------------------
def aggregate(plan: SweepPlan, out_dir: str | Path) -> dict[str, Any]:
    """Read every part in (variant, replication) order; write the result tables and summary.

    The order of reading is fixed, so the files are byte-identical whatever the executor, the
    number of workers, the completion order or the number of interruptions.
    """
    import pandas as pd

    from dispatch.sim.results import confidence_interval

    out = Path(out_dir)
    parts = out / "parts"
    rows: list[dict[str, Any]] = []
    per_replication: list[dict[str, Any]] = []
    teams_frames: list[pd.DataFrame] = []
    duty_rows: list[pd.DataFrame] = []
    hist_rows: list[pd.DataFrame] = []
    calls_frames: list[pd.DataFrame] = []
    variants_out: list[dict[str, Any]] = []
    keys = plan.keys
    lower = np.arange(HIST_MAX_MIN + 1, dtype=float)
    upper = np.append(lower[1:], np.inf)
    for variant in plan.variants:
        loaded = []
        for k in range(plan.replications):
            name = _part_name(variant.index, k)
            loaded.append(json.loads((parts / f"{name}.json").read_text(encoding="utf-8")))
            if plan.keep_calls:
                calls_frames.append(
                    pd.read_parquet(parts / f"{name}.calls.parquet").assign(variant=variant.index)
                )
        first = loaded[0]
        per_replication.extend(
            {"variant": variant.index, "replication": k, **p["metrics"]}
            for k, p in enumerate(loaded)
        )
        stats: dict[str, Any] = {}
        for metric in first["metrics"]:
            mean, lo, hi = confidence_interval([p["metrics"][metric] for p in loaded])
            stats[metric] = {"mean": _clean(mean), "ci95": [_clean(lo), _clean(hi)]}
            rows.append(
                {
                    "variant": variant.index,
                    "label": variant.label,
                    **{key: variant.values[key] for key in keys},
                    "teams": first["staffing"]["teams"],
                    "team_hours_week": first["staffing"]["team_hours_week"],
                    "metric": metric,
                    "mean": mean,
                    "ci95_low": lo,
                    "ci95_high": hi,
                    "replications": plan.replications,
                }
            )
        for p in loaded:
            frame = pd.DataFrame(p["teams"])
            frame.insert(0, "variant", variant.index)
            teams_frames.append(frame)
        demand = np.sum([p["demand"] for p in loaded], axis=0) / plan.replications
        hours = np.asarray(first["hours"], dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_hour = np.where(hours > 0, demand / np.maximum(hours, 1), np.nan)
        duty = {kind: np.asarray(row, dtype=float) for kind, row in first["duty"].items()}
        duty_frame = pd.DataFrame(
            {
                "variant": variant.index,
                "hour_of_week": np.arange(168),
                "calls_per_hour": per_hour,
                "teams_on_duty": np.nansum(list(duty.values()), axis=0) if duty else 0.0,
            }
        )
        for kind, row in duty.items():
            duty_frame[f"on_duty_{kind}"] = row
        duty_rows.append(duty_frame)
        for outcome in ("specialist", "fallback"):
            counts = np.sum([p["response_hist"][outcome] for p in loaded], axis=0)
            hist_rows.append(
                pd.DataFrame(
                    {
                        "variant": variant.index,
                        "outcome": outcome,
                        "lower_min": lower,
                        "upper_min": upper,
                        "calls": counts.astype(np.int64),
                    }
                )
            )
        variants_out.append(
            {
                "variant": variant.index,
                "label": variant.label,
                "values": json.loads(_canonical(variant.values)),
                **first["staffing"],
                "metrics": stats,
            }
        )

    target = _judge(plan, variants_out)
    variants_frame = pd.DataFrame(rows)
    for key in keys:
        variants_frame[key] = _column(variants_frame[key])
    _atomic_parquet(out / "variants.parquet", variants_frame)
    _atomic_parquet(out / "replications.parquet", pd.DataFrame(per_replication))
    teams = pd.concat(teams_frames, ignore_index=True)
    _atomic_parquet(out / "teams.parquet", teams)
    duty_all = pd.concat(duty_rows, ignore_index=True)
    duty_all = duty_all.fillna({c: 0.0 for c in duty_all.columns if c.startswith("on_duty_")})
    _atomic_parquet(out / "duty.parquet", duty_all)
    _atomic_parquet(out / "response_times.parquet", pd.concat(hist_rows, ignore_index=True))
    if plan.keep_calls:
        calls = pd.concat(calls_frames, ignore_index=True)
        calls = calls[["variant", *[c for c in calls.columns if c != "variant"]]]
        _atomic_parquet(out / "calls.parquet", calls)
    summary = {
        "kind": "sweep",
        "scenario": plan.name,
        "scenario_path": str(plan.scenario_path),
        "seed": plan.seed,
        "replications": plan.replications,
        "target_response_min": plan.target_min,
        "varied": keys,
        "target": target,
        "variants": variants_out,
    }
    _atomic_write_json(out / "summary.json", summary)
    return summary


def _column(values: pd.Series) -> pd.Series:
    kinds = {type(v) for v in values}
    if kinds <= {int} or kinds <= {int, float} or kinds <= {str} or kinds <= {bool}:
        return values
    return values.map(_show)


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)


def _judge(plan: SweepPlan, variants: list[dict[str, Any]]) -> dict[str, Any]:
    """Mark each variant against the target; find the smallest staffing that meets it."""
    target: dict[str, Any] = {
        "metric": TARGET_METRIC,
        "response_min": plan.target_min,
        "share": plan.target_share,
        "judged_on": "ci95_low",
        "answer": None,
    }
    if plan.target_share is None:
        for v in variants:
            v["meets_target"] = None
        return target
    for v in variants:
        low = v["metrics"][TARGET_METRIC]["ci95"][0]
        v["meets_target"] = bool(low is not None and low >= plan.target_share)
    order = sorted(variants, key=lambda v: (v["team_hours_week"], v["teams"], v["variant"]))
    meeting = [v for v in order if v["meets_target"]]
    if not meeting:
        best = max(
            variants,
            key=lambda v: (
                v["metrics"][TARGET_METRIC]["ci95"][0]
                if v["metrics"][TARGET_METRIC]["ci95"][0] is not None
                else -1.0
            ),
        )
        target["answer"] = None
        target["best"] = best["variant"]
        return target
    chosen = meeting[0]
    smaller = [
        v
        for v in order
        if (v["team_hours_week"], v["teams"]) < (chosen["team_hours_week"], chosen["teams"])
    ]
    target["answer"] = chosen["variant"]
    target["next_smaller"] = smaller[-1]["variant"] if smaller else None
    return target


# -- text ----------------------------------------------------------------------------------
def _pct(entry: dict[str, Any]) -> str:
    return _estimate(entry, 100.0)


def _minutes(entry: dict[str, Any]) -> str:
    return _estimate(entry, 1.0)


def _estimate(entry: dict[str, Any], scale: float) -> str:
    """``mean [low, high]`` of a summary entry, times ``scale``, one decimal."""
    mean = entry["mean"]
    lo, hi = entry["ci95"]
    if mean is None:
        return "-"
    text = f"{mean * scale:5.1f}"
    if lo is not None and hi is not None:
        text += f" [{lo * scale:.1f}, {hi * scale:.1f}]"
    return text


def variant_table(summary: dict[str, Any]) -> list[list[str]]:
    """The evidence as rows of text cells, header first."""
    keys: list[str] = summary["varied"]
    target = summary["target"]
    within = f"within {target['response_min']:g} min %"
    header = [
        "#",
        *keys,
        "teams",
        "team-h/wk",
        "mean response min",
        "specialist %",
        within,
    ]
    if target["share"] is not None:
        header.append("meets")
    rows = [header]
    for v in summary["variants"]:
        m = v["metrics"]
        row = [
            str(v["variant"]),
            *[_show(v["values"][k]) for k in keys],
            str(v["teams"]),
            f"{v['team_hours_week']:.0f}",
            _minutes(m["mean_response_min"]),
            _pct(m["specialist_share"]),
            _pct(m[TARGET_METRIC]),
        ]
        if target["share"] is not None:
            row.append("yes" if v["meets_target"] else "no")
        rows.append(row)
    return rows


def answer_text(summary: dict[str, Any]) -> str:
    """One paragraph: the smallest staffing meeting the target, and the evidence next to it."""
    target = summary["target"]
    if target["share"] is None:
        return "No target stated (give --target-share, or target_share in [sweep])."
    goal = (
        f"{target['share'] * 100:g}% of calls reached by a specialist team within "
        f"{target['response_min']:g} min, judged on the lower end of the 95% interval "
        f"({summary['replications']} replications)"
    )
    by_index = {v["variant"]: v for v in summary["variants"]}

    def describe(v: dict[str, Any]) -> str:
        entry = v["metrics"][TARGET_METRIC]
        mean, (lo, hi) = entry["mean"], entry["ci95"]
        figure = "no figure" if mean is None else f"{mean * 100:.1f}%"
        if lo is not None and hi is not None:
            figure += f" (95% interval {lo * 100:.1f} to {hi * 100:.1f}%)"
        return (
            f"variant {v['variant']} ({v['label']}): {v['teams']} teams, "
            f"{v['team_hours_week']:.0f} team-hours a week, {figure}"
        )

    if target["answer"] is None:
        best = by_index.get(target.get("best", -1))
        text = f"No variant meets the target ({goal})."
        if best is not None:
            text += f" Closest: {describe(best)}."
        return text
    text = (
        f"Target: {goal}.\nSmallest staffing that meets it: {describe(by_index[target['answer']])}."
    )
    smaller = target.get("next_smaller")
    if smaller is not None:
        text += f"\nNext smaller, which does not: {describe(by_index[smaller])}."
    return text


def format_sweep(summary: dict[str, Any]) -> str:
    """The variant table and the answer, as aligned text."""
    rows = variant_table(summary)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"{summary['scenario']}: {len(summary['variants'])} variant(s) x "
        f"{summary['replications']} replication(s), seed {summary['seed']}, "
        "95% intervals in brackets"
    ]
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for cell, w in zip(row, widths, strict=True)
            )
        )
    lines.append("")
    lines.append(answer_text(summary))
    return "\n".join(lines)
