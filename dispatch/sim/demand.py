"""The calls one replication replays: the log as given, scaled by volume, or a synthetic stream.

Everything here returns a `CallTable`, plain numpy columns in scenario seconds, so the event loop
never touches pandas.

Volume scaling: below 1 each call is kept with probability ``volume`` (thinned calls still
appear in the results, with outcome ``thinned``, so every input call is accounted for); above 1
extra calls are resampled from the log itself: each copies a random call's type, priority, risk
and recorded service, takes the place of another random call, and a random time in the same hour
of the week in a random week of the log's span.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from dispatch.errors import InputError
from dispatch.model import RiskLevel
from dispatch.scenario import SyntheticCalls

WEEK_S = 7 * 86400.0
RISK_BY_NAME = {r.value: r for r in RiskLevel}


@dataclass(frozen=True)
class CallTable:
    """Columns of the calls to replay, sorted by receipt time.

    ``transport`` is 1/0 from the log, -1 when unknown; ``on_scene_s`` NaN when unknown;
    ``simulated`` False for calls thinned away by a volume below 1.
    """

    call_id: npt.NDArray[np.str_]
    received_s: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    call_type: npt.NDArray[np.str_]
    priority: npt.NDArray[np.int64]
    risk: npt.NDArray[np.str_]
    flags: npt.NDArray[np.str_]
    on_scene_s: npt.NDArray[np.float64]
    transport: npt.NDArray[np.int8]
    simulated: npt.NDArray[np.bool_]
    source_call_id: npt.NDArray[np.str_]
    #: Dispatch district of each call from the log's ``zone`` column (``""``: none).
    zone: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.received_s)

    def take(self, index: npt.NDArray[np.int64]) -> CallTable:
        """Rows ``index`` in that order."""
        return CallTable(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})


def epoch_of(frame: pd.DataFrame, timezone: str) -> pd.Timestamp:
    """Local midnight of the first call's day: the scenario's time zero."""
    if frame.empty:
        raise InputError("the call log has no calls")
    first: pd.Timestamp = pd.Timestamp(frame["received_at"].min()).tz_convert(timezone)
    return first.normalize()


def table_from_log(frame: pd.DataFrame, epoch: pd.Timestamp) -> CallTable:
    """Columns from a normalized call-log frame (see `dispatch.calls.load_calls`)."""
    n = len(frame)
    received = np.asarray((frame["received_at"] - epoch).dt.total_seconds(), dtype=np.float64)
    transport = np.full(n, -1, dtype=np.int8)
    if "transport" in frame.columns:
        col = frame["transport"]
        known = col.notna().to_numpy()
        transport[known] = col[known].astype(bool).to_numpy().astype(np.int8)
    on_scene = (
        frame["on_scene_s"].to_numpy(dtype=float, na_value=np.nan)
        if "on_scene_s" in frame.columns
        else np.full(n, np.nan)
    )

    def text(column: str, default: str) -> npt.NDArray[np.str_]:
        if column not in frame.columns:
            return np.full(n, default, dtype=object)
        return frame[column].fillna(default).astype(str).to_numpy(dtype=object)

    ids = frame["call_id"].astype(str).to_numpy(dtype=object)
    table = CallTable(
        call_id=ids,
        received_s=received,
        lat=frame["lat"].to_numpy(dtype=float),
        lon=frame["lon"].to_numpy(dtype=float),
        call_type=text("call_type", ""),
        priority=frame["priority"].to_numpy(dtype=np.int64)
        if "priority" in frame.columns
        else np.full(n, 2, dtype=np.int64),
        risk=text("risk", RiskLevel.STANDARD.value),
        flags=text("flags", ""),
        zone=text("zone", ""),
        on_scene_s=on_scene,
        transport=transport,
        simulated=np.ones(n, dtype=bool),
        source_call_id=ids,
    )
    order = np.argsort(received, kind="stable")
    return table.take(order)


def scale_volume(table: CallTable, volume: float, rng: np.random.Generator) -> CallTable:
    """Thin (``volume`` < 1) or resample extra calls (``volume`` > 1); 1 returns ``table``."""
    if volume == 1.0 or len(table) == 0:
        return table
    if volume < 1.0:
        keep = rng.random(len(table)) < volume
        return CallTable(
            **{k: getattr(table, k) for k in table.__dataclass_fields__ if k != "simulated"},
            simulated=keep,
        )
    n_extra = int(rng.poisson((volume - 1.0) * len(table)))
    like = rng.integers(0, len(table), n_extra)
    place = rng.integers(0, len(table), n_extra)
    t0, t1 = float(table.received_s.min()), float(table.received_s.max())
    n_weeks = max(1, int((t1 - t0) // WEEK_S) + 1)
    hour_of_week_s = np.floor(np.mod(table.received_s[like], WEEK_S) / 3600.0) * 3600.0
    week0 = np.floor(t0 / WEEK_S) * WEEK_S
    received = week0 + rng.integers(0, n_weeks, n_extra) * WEEK_S + hour_of_week_s
    received += rng.uniform(0.0, 3600.0, n_extra)
    received = np.clip(received, t0, t1).astype(np.float64)
    extra = CallTable(
        call_id=np.array(
            [f"{table.call_id[s]}+x{k}" for k, s in enumerate(like.tolist())], dtype=object
        ),
        received_s=received,
        lat=table.lat[place],
        lon=table.lon[place],
        call_type=table.call_type[like],
        priority=table.priority[like],
        risk=table.risk[like],
        flags=table.flags[like],
        on_scene_s=table.on_scene_s[like],
        transport=table.transport[like],
        simulated=np.ones(n_extra, dtype=bool),
        source_call_id=table.call_id[like],
        zone=table.zone[place],  # the zone of the place the extra call copies
    )
    merged = CallTable(
        **{
            k: np.concatenate([getattr(table, k), getattr(extra, k)])
            for k in table.__dataclass_fields__
        }
    )
    return merged.take(np.argsort(merged.received_s, kind="stable"))


def synthetic_epoch(spec: SyntheticCalls, timezone: str) -> pd.Timestamp:
    """Local midnight of the generator's first day."""
    return pd.Timestamp(datetime.combine(spec.start, datetime.min.time())).tz_localize(timezone)


def synthetic_table(
    spec: SyntheticCalls, epoch: pd.Timestamp, rng: np.random.Generator
) -> CallTable:
    """Draw calls from a non-homogeneous Poisson process by hour of week.

    Hours are taken in scenario time (local clock at the epoch; a daylight-saving change shifts
    the profile by an hour for part of the year, which the generator ignores).
    """
    horizon_s = spec.days * 86400.0
    weights = np.ones(168) if spec.hour_of_week is None else np.asarray(spec.hour_of_week, float)
    rate_per_hour = weights / weights.mean() * spec.calls_per_day / 24.0
    start_how = epoch.weekday() * 24  # hour-of-week of the epoch
    n_hours = int(np.ceil(horizon_s / 3600.0))
    hours = np.arange(n_hours)
    lam = rate_per_hour[(start_how + hours) % 168]
    counts = rng.poisson(lam)
    received = np.repeat(hours * 3600.0, counts) + rng.uniform(0.0, 3600.0, int(counts.sum()))
    received = np.sort(received[received < horizon_s])
    n = len(received)
    loc = np.asarray(spec.locations, dtype=float)
    pick = rng.choice(len(loc), size=n, p=loc[:, 2] / loc[:, 2].sum())
    risks = list(spec.risk_mix)
    shares = np.asarray([spec.risk_mix[r] for r in risks], dtype=float)
    risk = np.asarray([r.value for r in risks], dtype=object)[
        rng.choice(len(risks), size=n, p=shares / shares.sum())
    ]
    ids = np.array([f"S{k:07d}" for k in range(n)], dtype=object)
    return CallTable(
        call_id=ids,
        received_s=received,
        lat=loc[pick, 0],
        lon=loc[pick, 1],
        call_type=np.full(n, spec.call_type, dtype=object),
        priority=np.full(n, spec.priority, dtype=np.int64),
        risk=risk,
        flags=np.full(n, "", dtype=object),
        zone=np.full(n, "", dtype=object),
        on_scene_s=np.full(n, np.nan),
        transport=np.full(n, -1, dtype=np.int8),
        simulated=np.ones(n, dtype=bool),
        source_call_id=ids,
    )
