"""Builders for small simulator scenarios in tests.

Geometry: everything sits on one meridian through ``LAT0, LON0``. `TRAVEL` is a straight-line
oracle whose speed makes 0.01 degree of latitude exactly `STEP_S` seconds (circuity 1), so
``north(k)``, a point ``k`` steps north of ``LAT0``, is ``k * STEP_S`` seconds from ``LAT0`` and
travel times are round numbers (up to floating-point error; `event_rows` rounds to a
microsecond).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dispatch.calls import CONTRACT_COLUMNS
from dispatch.distributions import Distribution
from dispatch.model import Shift, TeamKind
from dispatch.scenario import PolicySpec, Scenario, ServiceSpec, Site, TeamSpec
from dispatch.travel import TravelTimes, haversine_m

LAT0, LON0 = 38.60, -90.20
STEP_DEG = 0.01
STEP_S = 300.0
SPEED_KPH = float(haversine_m(LAT0, LON0, LAT0 + STEP_DEG, LON0)) / STEP_S * 3.6

LOG_COLUMNS = CONTRACT_COLUMNS


def travel() -> TravelTimes:
    """A fresh straight-line oracle with `STEP_S` seconds per 0.01 degree of latitude."""
    return TravelTimes.straight_line(speed_kph=SPEED_KPH, circuity=1.0, cutoff_s=6 * 3600.0)


def north(k: float) -> tuple[float, float]:
    """The point ``k`` steps (``k * STEP_S`` seconds) north of ``LAT0, LON0``."""
    return (LAT0 + k * STEP_DEG, LON0)


def site(site_id: str, k: float = 0.0) -> Site:
    """A station or facility ``k`` steps north of ``LAT0``."""
    lat, lon = north(k)
    return Site(site_id, lat, lon)


def log_frame(rows: Iterable[dict[str, Any]], timezone: str = "UTC") -> pd.DataFrame:
    """A normalized call-log frame (the `dispatch.calls.CallLog.frame` columns).

    Each row needs ``call_id``, ``at`` (local time text, e.g. ``"2025-01-06 09:30"``) and
    ``k`` (steps north, see `north`); ``on_scene_s`` (default 1200), ``transport`` (default
    False), ``risk`` (``standard``), ``priority`` (2) and ``call_type`` (``mental_health``) are
    optional. Monday 2025-01-06 is a convenient first day.
    """
    records = []
    for i, row in enumerate(rows):
        lat, lon = north(row["k"])
        records.append(
            {
                "call_id": row["call_id"],
                "received_at": pd.Timestamp(row["at"]).tz_localize(timezone),
                "lat": lat,
                "lon": lon,
                "call_type": row.get("call_type", "mental_health"),
                "priority": row.get("priority", 2),
                "risk": row.get("risk", "standard"),
                "on_scene_s": row.get("on_scene_s", 1200.0),
                "transport": row.get("transport", False),
                "row": i + 1,
            }
        )
    return typed_log(pd.DataFrame.from_records(records), timezone)


def typed_log(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Give a log frame the normalized dtypes (`CallLog.frame`)."""
    out = frame.copy()
    out["received_at"] = pd.to_datetime(out["received_at"]).dt.tz_convert(timezone)
    out["lat"] = out["lat"].astype(float)
    out["lon"] = out["lon"].astype(float)
    out["priority"] = out["priority"].astype(np.int8)
    out["on_scene_s"] = out["on_scene_s"].astype(float)
    out["transport"] = out["transport"].astype("boolean")
    if "row" not in out.columns:
        out["row"] = np.arange(1, len(out) + 1, dtype=np.int64)
    return out


def team(
    team_id: str,
    station: str = "S",
    *,
    kind: TeamKind = TeamKind.CO_RESPONDER,
    cit: bool = True,
    shifts: Sequence[Shift] = (),
) -> TeamSpec:
    """A team; no shifts means on duty around the clock."""
    return TeamSpec(team_id, kind, station, cit=cit, shifts=tuple(shifts))


def fixed_service(
    *,
    processing_s: float = 60.0,
    turnout_s: float = 60.0,
    handoff_s: float = 600.0,
    on_scene: Distribution | None = None,
    transport_share: float = 0.0,
) -> ServiceSpec:
    """Fixed processing, turnout and hand-off times (seconds)."""
    return ServiceSpec(
        processing=Distribution.fixed(processing_s),
        turnout=Distribution.fixed(turnout_s),
        on_scene={"default": on_scene or Distribution.fixed(1200.0)},
        transport_share=transport_share,
        handoff=Distribution.fixed(handoff_s),
    )


def scenario(
    calls: Any,
    teams: Sequence[TeamSpec],
    *,
    stations: Sequence[Site] = (),
    facilities: Sequence[Site] = (),
    service: ServiceSpec | None = None,
    policy: PolicySpec | None = None,
    seed: int = 1,
    replications: int = 1,
    timezone: str = "UTC",
    volume: float = 1.0,
    name: str = "test",
    oracle: TravelTimes | None = None,
) -> Scenario:
    """A scenario on ``oracle`` (a fresh `travel` by default); one station ``S`` at ``LAT0``."""
    return Scenario(
        name=name,
        travel=oracle or travel(),
        calls=calls,
        teams=tuple(teams),
        stations=tuple(stations) or (site("S"),),
        facilities=tuple(facilities),
        service=service or fixed_service(),
        policy=policy or PolicySpec(fallback_response=Distribution.fixed(900.0)),
        seed=seed,
        replications=replications,
        timezone=timezone,
        volume=volume,
    )


def event_rows(events: pd.DataFrame) -> list[tuple[int, float, str, str, str]]:
    """The event log as ``(replication, time_s, event, call_id, team_id)`` tuples.

    Times are rounded to a microsecond: straight-line travel times are round only up to
    floating-point error.
    """
    return [
        (int(r), round(float(t), 6), str(e), str(c), str(m))
        for r, t, e, c, m in zip(
            events["replication"].tolist(),
            events["time_s"].tolist(),
            events["event"].tolist(),
            events["call_id"].tolist(),
            events["team_id"].tolist(),
            strict=True,
        )
    ]


def random_log(
    rng: np.random.Generator,
    n: int,
    *,
    days: float = 3.0,
    start: str = "2025-01-06",
    spread_deg: float = 0.04,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """``n`` calls at whole seconds over ``days``, around ``LAT0, LON0``, with every kind of row.

    Risk, priority and call type vary; about half the calls have no ``on_scene_s`` and a third
    no ``transport`` (the scenario's distributions fill them in).
    """
    seconds = np.sort(rng.integers(0, int(days * 86400), n))
    on_scene = rng.uniform(300.0, 5400.0, n).round()
    on_scene[rng.random(n) < 0.5] = np.nan
    transport = pd.array(rng.random(n) < 0.3, dtype="boolean")
    transport[rng.random(n) < 0.33] = pd.NA
    frame = pd.DataFrame(
        {
            "call_id": [f"C{k:04d}" for k in range(n)],
            "received_at": pd.Timestamp(start, tz=timezone) + pd.to_timedelta(seconds, unit="s"),
            "lat": LAT0 + rng.uniform(-spread_deg, spread_deg, n).round(5),
            "lon": LON0 + rng.uniform(-spread_deg, spread_deg, n).round(5),
            "call_type": rng.choice(["mental_health", "welfare_check", "suicidal"], n),
            "priority": rng.integers(1, 5, n),
            "risk": rng.choice(["low", "standard", "high"], n, p=[0.3, 0.5, 0.2]),
            "on_scene_s": on_scene,
            "transport": transport,
        }
    )
    return typed_log(frame, timezone)


def line_street() -> TravelTimes:
    """Five intersections in a row, 60 s apart both ways: every ETA is ``|a - b| * 60`` s."""
    import networkx as nx

    G = nx.DiGraph()
    for k in range(5):
        G.add_node(k, y=39.70, x=-105.00 + 0.005 * k)
    for k in range(4):
        G.add_edge(k, k + 1, travel_time=60.0)
        G.add_edge(k + 1, k, travel_time=60.0)
    return TravelTimes.from_graph(G)
