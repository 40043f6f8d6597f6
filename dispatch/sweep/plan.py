"""What a sweep runs: the grid of variants of one scenario file, checked and hashed.

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
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.errors import InputError
from dispatch.sweep.errors import SweepError
from dispatch.sweep.keys import (
    PATH_VALUES,
    address,
    canonical,
    override,
    parse_key,
    set_value,
    show,
)

#: The version of ``manifest.json``'s identity; a resumed run of another version refuses.
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Variant:
    """One point of the grid: the values of the varied keys and the override they make."""

    index: int
    values: dict[str, Any]
    overrides: dict[str, Any]

    @property
    def label(self) -> str:
        """``"key=value, key=value"``, or ``"baseline"`` when nothing varies."""
        return ", ".join(f"{k}={show(v)}" for k, v in self.values.items()) or "baseline"


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
        loaded: dict[str, Any] = json.loads(canonical(identity))
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
        where = address(raw, key, parts)
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
            set_value(modified, key, tokens[key], value, path.parent)
        overrides: dict[str, Any] = {}
        for key in values:
            overrides = merge(overrides, override(modified, tokens[key]))
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
    digest = hashlib.sha256(canonical(kept).encode())
    files: list[str] = []
    for table in [raw, *(merge(raw, o) for o in overrides)]:
        for parts in sorted(PATH_VALUES):
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
