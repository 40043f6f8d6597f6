"""Staffing sweeps: many variants of one scenario x replications, resumable, on any executor.

A sweep is a grid of *variants* of one scenario file, each run for the same replications. Every
variant's replication ``k`` draws from the same random streams (common random numbers), so the
differences between variants are the changes, not noise.

One module per job:

- `dispatch.sweep.keys`: the dotted-key language (``teams.CRU-day.count=2..6``);
- `dispatch.sweep.plan`: the grid of variants, checked against the schema, and its hash;
- `dispatch.sweep.tasks`: one (variant, replication) in a worker, and the prepared-variant cache;
- `dispatch.sweep.profiles`: hour-of-week duty and demand, shared with the report;
- `dispatch.sweep.store`: the output directory (manifest, parts, atomic writes);
- `dispatch.sweep.stop`: SIGINT and SIGTERM as one resumable stop;
- `dispatch.sweep.runner`: `run_sweep`, resumable;
- `dispatch.sweep.aggregate`: result tables and the answer to the target;
- `dispatch.sweep.summary`: the summary as typed records (``summary.json``);
- `dispatch.sweep.text`: the variant table and the answer in words.

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

from dispatch.sweep.aggregate import aggregate, judge
from dispatch.sweep.errors import SweepError, SweepInterruptedError
from dispatch.sweep.keys import FROZEN_KEYS, parse_key, parse_value, parse_vary
from dispatch.sweep.plan import MANIFEST_FORMAT, SweepPlan, Variant, plan_sweep, scenario_hash
from dispatch.sweep.profiles import (
    HIST_MAX_MIN,
    DutyProfile,
    demand_counts,
    duty_profile,
    response_histogram,
    staffing,
)
from dispatch.sweep.runner import SweepResult, run_sweep
from dispatch.sweep.stop import Stopped, held, stop_on_signals
from dispatch.sweep.store import FINAL_FILES
from dispatch.sweep.summary import TARGET_METRIC, Estimate, SweepSummary, Target, VariantSummary
from dispatch.sweep.tasks import PREPARED, Task, run_task
from dispatch.sweep.text import answer_text, format_sweep, variant_table

__all__ = [
    "FINAL_FILES",
    "FROZEN_KEYS",
    "HIST_MAX_MIN",
    "MANIFEST_FORMAT",
    "PREPARED",
    "TARGET_METRIC",
    "DutyProfile",
    "Estimate",
    "Stopped",
    "SweepError",
    "SweepInterruptedError",
    "SweepPlan",
    "SweepResult",
    "SweepSummary",
    "Target",
    "Task",
    "Variant",
    "VariantSummary",
    "aggregate",
    "answer_text",
    "demand_counts",
    "duty_profile",
    "format_sweep",
    "held",
    "judge",
    "parse_key",
    "parse_value",
    "parse_vary",
    "plan_sweep",
    "response_histogram",
    "run_sweep",
    "run_task",
    "scenario_hash",
    "staffing",
    "stop_on_signals",
    "variant_table",
]
