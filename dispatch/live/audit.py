"""The audit trail: export the journal, and re-derive every decision from its inputs.

``dispatch audit replay`` builds a fresh session from the scenario the journal was started with
and applies every journal input again, in order, at its recorded time; each output (every
decision, every recommendation with its alternatives and digests, every event's answer) must
equal the recorded one. A difference means the journal was tampered with or the scenario or
code changed under it; each is reported with its journal row.
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.errors import InputError
from dispatch.live.state import LiveConfig, LiveState, iso
from dispatch.live.store import Store

EXPORT_COLUMNS = (
    "seq",
    "kind",
    "at",
    "now_s",
    "event_id",
    "unit_id",
    "call_id",
    "input",
    "output",
    "recorded_at_s",
)


def export(store: Store, out: str | Path) -> int:
    """Write the whole journal to a Parquet file; return the number of rows.

    Columns: `EXPORT_COLUMNS`; ``input`` and ``output`` are JSON text, ``at`` ISO 8601 UTC.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {name: [] for name in EXPORT_COLUMNS}
    for row in store.rows():
        columns["seq"].append(row.seq)
        columns["kind"].append(row.kind)
        columns["at"].append(iso(row.now_s))
        columns["now_s"].append(row.now_s)
        columns["event_id"].append(row.event_id)
        columns["unit_id"].append(row.unit_id)
        columns["call_id"].append(row.call_id)
        columns["input"].append(json.dumps(row.input, sort_keys=True))
        columns["output"].append(json.dumps(row.output, sort_keys=True))
        columns["recorded_at_s"].append(row.recorded_at_s)
    schema = pa.schema(
        [
            ("seq", pa.int64()),
            ("kind", pa.string()),
            ("at", pa.string()),
            ("now_s", pa.float64()),
            ("event_id", pa.string()),
            ("unit_id", pa.string()),
            ("call_id", pa.string()),
            ("input", pa.string()),
            ("output", pa.string()),
            ("recorded_at_s", pa.float64()),
        ]
    )
    pq.write_table(pa.table(columns, schema=schema), str(out))
    return len(columns["seq"])


@dataclass(frozen=True)
class Difference:
    """A journal row whose output the replay does not reproduce."""

    seq: int
    kind: str
    recorded: Any
    replayed: Any


@dataclass(frozen=True)
class ReplayReport:
    """What a replay found."""

    rows: int
    recommendations: int
    differences: list[Difference]


def replay(store: Store, config: LiveConfig) -> ReplayReport:
    """Apply every journal input to a fresh session and compare each output with the record."""
    recorded_digest = store.get_meta("scenario_digest")
    if recorded_digest is not None and recorded_digest != config.scenario_digest:
        raise InputError(
            "the scenario differs from the one the journal was started with "
            f"(digest {config.scenario_digest[:12]} vs {recorded_digest[:12]})",
            field="--scenario",
        )
    state = LiveState(config)
    differences: list[Difference] = []
    rows = recommendations = 0
    for row in store.rows():
        try:
            again = _normal(state.apply(row.input))
        except InputError as error:
            again = {"error": str(error)}
        rows += 1
        recommendations += row.kind == "call"
        if again != _normal(row.output):
            differences.append(Difference(row.seq, row.kind, row.output, again))
    return ReplayReport(rows, recommendations, differences)


def _normal(value: Any) -> Any:
    """The value as JSON gives it back (tuples become lists)."""
    return json.loads(json.dumps(value))
