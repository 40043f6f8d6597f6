"""Results of a simulation: the contract tables, the summary with confidence intervals, files."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from dispatch.match.holds import WellnessOutcome
from dispatch.model import ReasonCode
from dispatch.parquet_out import write_parquet
from dispatch.sim.demand import CallTable
from dispatch.sim.engine import FALLBACK, NOT_SIMULATED, OUTCOMES, REASONS, SPECIALIST, Records
from dispatch.sim.prepare import Prepared
from dispatch.sim.shifts import on_duty_seconds

CALL_COLUMNS = [
    "call_id",
    "replication",
    "received_at",
    "priority",
    "risk",
    "call_type",
    "team_id",
    "responder_kind",
    "dispatched_at",
    "arrived_at",
    "cleared_at",
    "processing_s",
    "queue_s",
    "travel_s",
    "response_s",
    "on_scene_s",
    "transported",
    "outcome",
    "reason",
    "facility_id",
    "source_call_id",
    "critical",
    "wellness",
]


def calls_frame(
    prep: Prepared,
    calls: CallTable,
    rec: Records,
    replication: int,
    critical: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per call of the replication, in the results contract's columns.

    Beyond the contract: ``facility_id`` (transport destination), ``source_call_id`` (the log
    call a resampled call copies), ``critical`` (a critical incident under the wellness
    definition) and ``wellness`` (the wellness rule that changed the choice, if any).
    """
    if critical is None:
        critical = np.zeros(len(calls), dtype=bool)
    epoch = prep.epoch
    setup = prep.setup
    fallback_kind = prep.scenario.policy.fallback_kind.value

    def stamp(seconds: np.ndarray) -> pd.Series:
        return pd.Series(
            epoch + pd.to_timedelta(np.round(seconds * 1e3), unit="ms"), dtype=epoch_dtype(epoch)
        )

    # Text columns by code: each code indexes a short list of names (-1: the last, "")
    team_ids = [*setup.team_ids, ""]
    outcome = rec.outcome
    kinds = [*(k.value for k in setup.kinds), "", fallback_kind]
    kind = np.where(rec.team >= 0, rec.team, len(kinds) - 2)
    kind[(outcome == FALLBACK) & (rec.team < 0)] = len(kinds) - 1  # the fallback pool
    reasons = [*(r.value for r in REASONS), "", "volume"]
    reason = np.where(rec.reason >= 0, rec.reason, len(reasons) - 2)
    reason[outcome == SPECIALIST] = len(reasons) - 2
    reason[outcome == NOT_SIMULATED] = len(reasons) - 1
    facilities = [*prep.facility_ids, ""]
    processing = rec.ready_s - calls.received_s
    transported = pd.array(
        np.where(rec.transported >= 0, rec.transported == 1, False), dtype="boolean"
    )
    transported[rec.transported < 0] = pd.NA
    return pd.DataFrame(
        {
            "call_id": _text(calls.call_id),
            "replication": np.full(len(calls), replication, dtype=np.int32),
            "received_at": stamp(calls.received_s),
            "priority": calls.priority.astype(np.int8),
            "risk": _text(calls.risk),
            "call_type": _text(calls.call_type),
            "team_id": _text_of(team_ids, rec.team),
            "responder_kind": _text_of(kinds, kind),
            "dispatched_at": stamp(rec.dispatched_s),
            "arrived_at": stamp(rec.arrived_s),
            "cleared_at": stamp(rec.cleared_s),
            "processing_s": processing,
            "queue_s": rec.dispatched_s - rec.ready_s,
            "travel_s": rec.travel_s,
            "response_s": rec.arrived_s - calls.received_s,
            "on_scene_s": rec.on_scene_s,
            "transported": transported,
            "outcome": _text_of(OUTCOMES, outcome),
            "reason": _text_of(reasons, reason),
            "facility_id": _text_of(facilities, rec.facility),
            "source_call_id": _text(calls.source_call_id),
            "critical": np.asarray(critical, dtype=bool),
            "wellness": _text(rec.wellness),
        },
        columns=CALL_COLUMNS,
    )


def _text(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A text column straight from Python strings (a numpy ``str`` copy first is 4x slower)."""
    return pd.array(values, dtype="str")


def _text_of(names: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """The text column ``names[codes]``; a negative code counts from the end, as in numpy.

    Decoded by Arrow from dictionary codes: a tenth of the cost of a Python string per row
    (200,000 rows: 5 against 45 ms). The same values, type and Parquet bytes as `_text`.
    """
    k = np.asarray(codes, dtype=np.int64)
    k = np.where(k < 0, k + len(names), k).astype(np.int32)
    coded = pa.DictionaryArray.from_arrays(
        pa.array(k), pa.array(list(names), type=pa.large_string()), safe=True
    )
    text: pd.api.extensions.ExtensionArray = pd.array(coded.cast(pa.large_string()), dtype="str")
    return text


def epoch_dtype(epoch: pd.Timestamp) -> pd.DatetimeTZDtype:
    """Millisecond timestamps in the scenario's zone."""
    return pd.DatetimeTZDtype(unit="ms", tz=epoch.tz)


def teams_frame(
    prep: Prepared,
    rec: Records,
    replication: int,
    calls_end_s: float,
    critical: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per team: workload, overtime and wellness figures.

    Columns: ``calls``, ``critical_incidents``, ``busy_hours``, ``on_duty_hours``,
    ``utilization`` (busy hours, overtime included, over on-duty hours), ``overtime_hours``,
    ``longest_stretch_hours`` (longest run of calls with no idle gap of a break's length),
    ``peak_hour_utilization`` (the busiest hour of the day across the run),
    ``utilization_by_hour`` (24 values: share of on-duty time spent on calls by local hour of
    day, counted from the scenario's first midnight; NaN for hours never on duty), ``breaks``,
    ``breaks_deferred``, ``break_delay_min``, ``breaks_missed`` and ``wellness_overrides``.
    """
    from dispatch.sim.workload import (
        by_hour_of_day,
        covered_by_hour,
        longest_stretch_s,
        team_intervals,
    )

    setup = prep.setup
    m = len(setup.team_ids)
    on_duty_h = np.array(
        [on_duty_seconds(d, 0.0, calls_end_s) / 3600.0 for d in setup.duty], dtype=float
    )
    busy_h = rec.team_busy_s / 3600.0
    with np.errstate(divide="ignore", invalid="ignore"):
        utilization = np.where(on_duty_h > 0, busy_h / on_duty_h, np.nan)
    wellness = prep.scenario.policy.wellness
    break_s = (wellness.break_min if wellness is not None else 30.0) * 60.0
    intervals = team_intervals(rec.team, rec.dispatched_s, rec.cleared_s, m)
    n_hours = int(np.ceil(max(calls_end_s, 1.0) / 3600.0))
    horizon = n_hours * 3600.0
    by_hour: list[list[float]] = []
    peak: list[float] = []
    for (starts, ends), duty in zip(intervals, setup.duty, strict=True):
        # Calls start on duty; the part of a call past its shift's end is overtime, not
        # counted against on-duty hours here.
        duty_start = np.array([a for a, _ in duty])
        duty_end = np.array([b for _, b in duty])
        k = np.clip(np.searchsorted(duty_start, starts, side="right") - 1, 0, None)
        on_duty_ends = np.minimum(ends, duty_end[k]) if len(duty) else ends
        busy = by_hour_of_day(covered_by_hour(starts, on_duty_ends, n_hours))
        bounded = [(a, min(b, horizon)) for a, b in duty if a < horizon]
        duty_h = by_hour_of_day(
            covered_by_hour([a for a, _ in bounded], [b for _, b in bounded], n_hours)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(duty_h > 0, busy / duty_h, np.nan)
        by_hour.append([round(float(v), 6) for v in share])
        peak.append(float(np.nanmax(share)) if np.isfinite(share).any() else float("nan"))
    team = rec.team
    crit = np.zeros(len(team), dtype=bool) if critical is None else np.asarray(critical, bool)
    overrides = rec.overridden
    served = team >= 0
    return pd.DataFrame(
        {
            "team_id": setup.team_ids,
            "replication": np.full(m, replication, dtype=np.int32),
            "kind": [k.value for k in setup.kinds],
            "cit": setup.cit,
            "station_id": prep.station_ids,
            "calls": rec.team_calls,
            "critical_incidents": np.bincount(team[served & crit], minlength=m),
            "busy_hours": busy_h,
            "on_duty_hours": on_duty_h,
            "utilization": utilization,
            "overtime_hours": rec.team_overtime_s / 3600.0,
            "longest_stretch_hours": [
                longest_stretch_s(a, b, break_s) / 3600.0 for a, b in intervals
            ],
            "peak_hour_utilization": peak,
            "utilization_by_hour": by_hour,
            "breaks": rec.team_breaks,
            "breaks_deferred": rec.team_breaks_deferred,
            "break_delay_min": rec.team_break_delay_s / 60.0,
            "breaks_missed": rec.team_breaks_missed,
            "wellness_overrides": np.bincount(team[served & overrides], minlength=m),
        }
    )


def events_frame(prep: Prepared, rec: Records, replication: int) -> pd.DataFrame:
    """The audit log: one row per state change, in time order."""
    rows = sorted(rec.events)
    frame = pd.DataFrame(rows, columns=["time_s", "seq", "event", "call_id", "team_id"])
    frame.insert(0, "replication", np.int32(replication))
    return frame.drop(columns="seq")


# -- summary ------------------------------------------------------------------------------
def replication_metrics(
    calls: pd.DataFrame, target_min: float, teams: pd.DataFrame | None = None
) -> dict[str, float]:
    """Headline figures of one replication (response times in minutes, shares in 0..1).

    With ``teams``, also workload fairness across the specialist teams that were on duty:
    the busiest team's busy hours over the least busy one's, the Gini coefficient of busy
    hours, the highest utilization and the longest stretch without a break.
    """
    sim = calls[calls["outcome"] != "thinned"]
    n = len(sim)
    response_min = sim["response_s"].dropna() / 60.0
    spec = sim["outcome"] == "specialist"
    spec_min = sim.loc[spec, "response_s"] / 60.0
    out: dict[str, float] = {
        "calls": float(n),
        "mean_response_min": _mean(response_min),
        "median_response_min": _quantile(response_min, 0.5),
        "p90_response_min": _quantile(response_min, 0.9),
        "specialist_mean_response_min": _mean(spec_min),
        "specialist_share": _share(spec.sum(), n),
        "fallback_share": _share((sim["outcome"] == "fallback").sum(), n),
        "unserved_share": _share((sim["outcome"] == "unserved").sum(), n),
        "specialist_within_target_share": _share((spec_min <= target_min).sum(), n),
        "mean_queue_min": _mean(sim["queue_s"].dropna() / 60.0),
        "waited_share": _share((sim["queue_s"] > 0).sum(), n),
    }
    for reason in ReasonCode:
        out[f"reason_{reason.value}_share"] = _share((sim["reason"] == reason.value).sum(), n)
    if "wellness" in sim.columns:
        out["wellness_changed_share"] = _share((sim["wellness"] != "").sum(), n)
        # each distinct label read once: a year of calls carries a handful of them
        overridden = sum(
            count
            for label, count in Counter(sim["wellness"].tolist()).items()
            if (outcome := WellnessOutcome.from_label(label)) is not None
            and outcome.override is not None
        )
        out["wellness_override_share"] = _share(overridden, n)
    if teams is not None:
        from dispatch.sim.workload import busiest_to_least, gini

        worked = teams[(teams["on_duty_hours"] > 0) & (teams["kind"] != "patrol")]
        out["busiest_to_least_busy"] = busiest_to_least(worked["busy_hours"].to_numpy(dtype=float))
        out["gini_busy_hours"] = gini(worked["busy_hours"].to_numpy(dtype=float))
        out["max_utilization"] = float(worked["utilization"].max()) if len(worked) else math.nan
        out["max_longest_stretch_hours"] = (
            float(worked["longest_stretch_hours"].max()) if len(worked) else math.nan
        )
    return out


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else math.nan


def _quantile(values: pd.Series, q: float) -> float:
    return float(values.quantile(q)) if len(values) else math.nan


def _share(count: Any, n: int) -> float:
    return float(count) / n if n else math.nan


def confidence_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the Student-t confidence interval across replications (NaN bounds for one).

    The quantile is `scipy.special.stdtrit`, the function ``scipy.stats.t.ppf`` evaluates
    (equal to the last bit), imported only when there are two replications or more:
    ``scipy.stats`` alone takes longer to import than a replay of 100,000 calls.
    """
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    if not np.isfinite(x).all():
        return float(np.mean(x)), math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    from scipy.special import stdtrit

    half = float(stdtrit(len(x) - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def summarize(
    per_replication: Sequence[dict[str, float]],
    *,
    name: str,
    seed: int,
    target_min: float,
    intake: dict[str, Any] | None = None,
    scenario_path: str | None = None,
) -> dict[str, Any]:
    """The ``summary.json`` content: each figure's mean and 95% CI across replications.

    ``intake`` (input rows, rejected rows, the quarantine file) is reported as given.
    """
    metrics: dict[str, Any] = {}
    for key in per_replication[0]:
        mean, lo, hi = confidence_interval([m[key] for m in per_replication])
        if key.endswith("_share"):  # a share's interval stays inside 0..1
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        metrics[key] = {"mean": _clean(mean), "ci95": [_clean(lo), _clean(hi)]}
    return {
        "scenario": name,
        "scenario_path": scenario_path,
        "seed": seed,
        "replications": len(per_replication),
        "target_response_min": target_min,
        "intake": intake or {},
        "metrics": metrics,
    }


HEADLINES = (
    ("mean_response_min", "mean response", "min"),
    ("median_response_min", "median response", "min"),
    ("p90_response_min", "90th percentile response", "min"),
    ("specialist_mean_response_min", "specialist mean response", "min"),
    ("specialist_share", "calls reached by a specialist team", "%"),
    ("specialist_within_target_share", "specialist within target", "%"),
    ("fallback_share", "fallback response", "%"),
    ("unserved_share", "unserved", "%"),
    ("waited_share", "waited for a team", "%"),
    ("reason_off_shift_share", "no specialist: off shift", "%"),
    ("reason_all_busy_share", "no specialist: all busy", "%"),
    ("reason_too_far_share", "no specialist: too far", "%"),
    ("reason_ineligible_share", "no specialist: ineligible", "%"),
    ("max_utilization", "highest team utilization", "%"),
    ("busiest_to_least_busy", "busiest / least busy team (hours)", "x"),
    ("gini_busy_hours", "Gini of team busy hours", ""),
    ("max_longest_stretch_hours", "longest stretch without a break", "h"),
    ("wellness_changed_share", "choices changed by a wellness rule", "%"),
    ("wellness_override_share", "wellness holds overridden", "%"),
)


def format_summary(summary: dict[str, Any]) -> str:
    """The headline figures as aligned text lines, each with its 95% interval."""
    metrics = summary["metrics"]
    intake = summary.get("intake") or {}
    notes = []
    if intake.get("rejected_rows"):
        notes.append(
            f"  {intake['rejected_rows']} of {intake['input_rows']} log rows rejected, "
            f"written to {intake['quarantine_path']}"
        )
    if intake.get("filtered_out"):
        notes.append(f"  {intake['filtered_out']} log rows filtered out by call type")
    lines = [
        f"{summary['scenario']}: {summary['replications']} replication(s), seed {summary['seed']}, "
        f"{metrics['calls']['mean']:.0f} calls per replication, "
        f"target {summary['target_response_min']:g} min"
    ]
    lines.extend(notes)
    for key, label, unit in HEADLINES:
        entry = metrics.get(key)
        if entry is None or entry["mean"] is None:
            continue
        k = 100.0 if unit == "%" else 1.0
        digits = 2 if unit in ("", "x") else 1
        lo, hi = entry["ci95"]
        ci = (
            f"  [{lo * k:.{digits}f}, {hi * k:.{digits}f}]"
            if lo is not None and hi is not None
            else ""
        )
        lines.append(f"  {label:<36} {entry['mean'] * k:7.{digits}f} {unit}{ci}")
    return "\n".join(lines)


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)


@dataclass
class SimulationResult:
    """What `dispatch.simulate` returns.

    Attributes
    ----------
    calls
        One row per input call per replication (the results contract).
    teams
        One row per team per replication.
    summary
        Headline figures with 95% confidence intervals across replications.
    events
        The audit log when requested, else None.
    """

    calls: pd.DataFrame
    teams: pd.DataFrame
    summary: dict[str, Any]
    events: pd.DataFrame | None = None

    def write(self, out_dir: str | Path) -> Path:
        """Write ``calls.parquet``, ``teams.parquet``, ``summary.json`` (and ``events.parquet``)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_parquet(self.calls, out / "calls.parquet")
        write_parquet(self.teams, out / "teams.parquet")
        if self.events is not None:
            write_parquet(self.events, out / "events.parquet")
        (out / "summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        return out
