"""From the finished runs to the result tables and the summary, and the answer to the target.

Parts are read in (variant, replication) order whatever order they finished in, so the files
are byte-identical whatever the executor, the number of workers, the completion order or the
number of interruptions.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dispatch.sweep.keys import canonical, show
from dispatch.sweep.plan import SweepPlan
from dispatch.sweep.profiles import HIST_MAX_MIN
from dispatch.sweep.store import atomic_parquet, atomic_write_json, part_name, read_part
from dispatch.sweep.summary import (
    TARGET_METRIC,
    Estimate,
    SweepSummary,
    Target,
    VariantSummary,
)

if TYPE_CHECKING:
    import pandas as pd


def aggregate(plan: SweepPlan, out_dir: str | Path) -> SweepSummary:
    """Read every part; write the result tables and ``summary.json``; return the summary.

    Parameters
    ----------
    plan
        The plan whose runs are all in ``out_dir/parts``.
    out_dir
        The sweep's output directory.
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
    summaries: list[VariantSummary] = []
    keys = plan.keys
    lower = np.arange(HIST_MAX_MIN + 1, dtype=float)
    upper = np.append(lower[1:], np.inf)
    for variant in plan.variants:
        loaded = [read_part(parts, variant.index, k) for k in range(plan.replications)]
        if plan.keep_calls:
            calls_frames.extend(
                pd.read_parquet(parts / f"{part_name(variant.index, k)}.calls.parquet").assign(
                    variant=variant.index
                )
                for k in range(plan.replications)
            )
        first = loaded[0]
        per_replication.extend(
            {"variant": variant.index, "replication": k, **p["metrics"]}
            for k, p in enumerate(loaded)
        )
        metrics: dict[str, Estimate] = {}
        for metric in first["metrics"]:
            mean, lo, hi = confidence_interval([p["metrics"][metric] for p in loaded])
            metrics[metric] = Estimate(_clean(mean), _clean(lo), _clean(hi))
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
        duty_rows.append(_duty_frame(variant.index, loaded, plan.replications))
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
        summaries.append(
            VariantSummary(
                variant=variant.index,
                label=variant.label,
                values=json.loads(canonical(variant.values)),
                teams=first["staffing"]["teams"],
                teams_by_kind=first["staffing"]["teams_by_kind"],
                team_hours_week=first["staffing"]["team_hours_week"],
                metrics=metrics,
            )
        )

    target, judged = judge(plan.target_share, plan.target_min, summaries)
    variants_frame = pd.DataFrame(rows)
    for key in keys:
        variants_frame[key] = _column(variants_frame[key])
    atomic_parquet(out / "variants.parquet", variants_frame)
    atomic_parquet(out / "replications.parquet", pd.DataFrame(per_replication))
    atomic_parquet(out / "teams.parquet", pd.concat(teams_frames, ignore_index=True))
    duty_all = pd.concat(duty_rows, ignore_index=True)
    duty_all = duty_all.fillna({c: 0.0 for c in duty_all.columns if c.startswith("on_duty_")})
    atomic_parquet(out / "duty.parquet", duty_all)
    atomic_parquet(out / "response_times.parquet", pd.concat(hist_rows, ignore_index=True))
    if plan.keep_calls:
        calls = pd.concat(calls_frames, ignore_index=True)
        calls = calls[["variant", *[c for c in calls.columns if c != "variant"]]]
        atomic_parquet(out / "calls.parquet", calls)
    summary = SweepSummary(
        scenario=plan.name,
        scenario_path=str(plan.scenario_path),
        seed=plan.seed,
        replications=plan.replications,
        target_response_min=plan.target_min,
        varied=tuple(keys),
        target=target,
        variants=judged,
    )
    atomic_write_json(out / "summary.json", summary.to_dict())
    return summary


def _duty_frame(variant: int, loaded: list[dict[str, Any]], replications: int) -> pd.DataFrame:
    """Per hour of week: mean calls per hour and teams on duty, in all and per kind."""
    import pandas as pd

    first = loaded[0]
    demand = np.sum([p["demand"] for p in loaded], axis=0) / replications
    hours = np.asarray(first["hours"], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_hour = np.where(hours > 0, demand / np.maximum(hours, 1), np.nan)
    duty = {kind: np.asarray(row, dtype=float) for kind, row in first["duty"].items()}
    frame = pd.DataFrame(
        {
            "variant": variant,
            "hour_of_week": np.arange(168),
            "calls_per_hour": per_hour,
            "teams_on_duty": np.nansum(list(duty.values()), axis=0) if duty else 0.0,
        }
    )
    for kind, row in duty.items():
        frame[f"on_duty_{kind}"] = row
    return frame


def judge(
    share: float | None, response_min: float, variants: Sequence[VariantSummary]
) -> tuple[Target, tuple[VariantSummary, ...]]:
    """Mark each variant against the target; find the smallest staffing that meets it.

    A variant meets the target when the lower end of its `TARGET_METRIC` interval reaches
    ``share``. The answer is the first that meets it by (team-hours a week, teams, index).

    Returns
    -------
    Target
        The target with its answer (and the closest variant, or the next smaller one).
    tuple of VariantSummary
        The variants with ``meets_target`` set (None without a target).
    """
    target = Target(metric=TARGET_METRIC, response_min=response_min, share=share)
    if share is None:
        return target, tuple(dataclasses.replace(v, meets_target=None) for v in variants)
    judged = tuple(dataclasses.replace(v, meets_target=_meets(v, share)) for v in variants)
    order = sorted(judged, key=lambda v: (v.team_hours_week, v.teams, v.variant))
    meeting = [v for v in order if v.meets_target]
    if not meeting:
        best = max(judged, key=_closeness)
        return dataclasses.replace(target, best=best.variant), judged
    chosen = meeting[0]
    smaller = [
        v for v in order if (v.team_hours_week, v.teams) < (chosen.team_hours_week, chosen.teams)
    ]
    answered = dataclasses.replace(
        target,
        answer=chosen.variant,
        next_smaller=smaller[-1].variant if smaller else None,
    )
    return answered, judged


def _meets(v: VariantSummary, share: float) -> bool:
    low = v.metrics[TARGET_METRIC].low
    return low is not None and low >= share


def _closeness(v: VariantSummary) -> float:
    low = v.metrics[TARGET_METRIC].low
    return -1.0 if low is None else low


def _column(values: pd.Series) -> pd.Series:
    kinds = {type(v) for v in values}
    if kinds <= {int} or kinds <= {int, float} or kinds <= {str} or kinds <= {bool}:
        return values
    return values.map(show)


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)
