"""Required teams by hour of week: demand from a call log, busy time per call, staffing per hour.

Hour of week ``h`` is ``24 * weekday + hour`` in local time, Monday 00:00 = 0 (the same
convention as the scenario's demand profile). The first estimate of the teams each hour
needs treats every hour as its own stationary M/M/c queue, with a correction for the
time-varying demand (L. V. Green, P. J. Kolesar and J. Soares, "Improving the SIPP approach
for staffing service systems that have cyclic demands", Operations Research 49(4), 2001):

- ``"sipp"``: the hour's own arrival rate (stationary independent period by period);
- ``"lagged_sipp"``: the arrival rate over the hour shifted back by the mean service time,
  since the calls in service at a time arrived about one service time earlier;
- ``"mol"``: the modified offered load, the mean number of busy teams with unlimited teams,
  ``m(t) = integral lambda(u) P(S > t - u) du``, averaged over the hour. With exponential
  service it solves ``m' = lambda(t) - m / s``, exact hour by hour for a rate that is
  constant within each hour, and the week is its periodic steady state.

The hour's staffing is then `servers_needed` for the load of that hour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from dispatch.errors import InputError
from dispatch.plan.queueing import servers_needed

if TYPE_CHECKING:
    from dispatch.scenario import Scenario

__all__ = [
    "HOURS_PER_WEEK",
    "TRAVEL_S",
    "Method",
    "demand_by_hour_of_week",
    "offered_load",
    "required_teams",
    "service_time_s",
]

HOURS_PER_WEEK = 168
Method = Literal["sipp", "lagged_sipp", "mol"]
_METHODS = ("sipp", "lagged_sipp", "mol")

#: Default travel time to a call, seconds: 15 min. NYC B-HEARD's mean response was 13:41 in
#: its first half-year and 15:30 over FY22 (``shared/reference/domain-figures.md`` 1.2); that
#: figure also holds call handling, so it errs long for the drive alone.
TRAVEL_S = 900.0


def _local_times(received_at_local: pd.Series | Sequence[datetime] | npt.ArrayLike) -> pd.Series:
    times = pd.Series(received_at_local)
    if times.empty:
        return pd.Series(pd.DatetimeIndex([]))
    if not pd.api.types.is_datetime64_any_dtype(times):
        times = pd.to_datetime(times)
    if times.isna().any():
        raise InputError("received_at has missing or unreadable times")
    return times


def demand_by_hour_of_week(
    received_at_local: pd.Series | Sequence[datetime] | npt.ArrayLike,
    weeks: float | None = None,
    *,
    timezone: str | None = None,
) -> npt.NDArray[np.float64]:
    """Mean calls per hour for each hour of the week, from a call log's local times.

    Parameters
    ----------
    received_at_local
        When each call came in, as local wall-clock times (naive, or zone-aware: then their
        own zone's wall clock, or ``timezone``'s when given).
    weeks
        Length of the observed period in weeks; each hour's count is divided by it. None:
        each hour of the week is divided by how often it occurred from the first call's local
        midnight to the midnight after the last call (for zone-aware times or with
        ``timezone``, in real hours, so the hour skipped when clocks go forward counts once
        less and the repeated one once more).
    timezone
        IANA zone of the times; zone-aware times are converted to it, naive ones read in it.

    Returns
    -------
    numpy.ndarray
        168 floats, calls per hour, Monday 00:00 first.

    Raises
    ------
    InputError
        If a time is missing, ``weeks`` is not positive, or (``weeks`` None) the period does
        not cover every hour of the week.

    Examples
    --------
    >>> times = ["2025-01-06 09:15", "2025-01-06 09:40", "2025-01-07 10:05"]
    >>> rates = demand_by_hour_of_week(times, weeks=2.0)
    >>> rates[9], rates[24 + 10], rates.sum()
    (np.float64(1.0), np.float64(0.5), np.float64(1.5))
    """
    times = _local_times(received_at_local)
    if timezone is not None and not times.empty:
        if times.dt.tz is None:
            times = times.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
            if times.isna().any():
                raise InputError(f"some local times are ambiguous or do not exist in {timezone}")
        else:
            times = times.dt.tz_convert(timezone)
    counts = np.zeros(HOURS_PER_WEEK)
    if not times.empty:
        slot = (times.dt.day_of_week * 24 + times.dt.hour).to_numpy(dtype=np.int64)
        counts = np.bincount(slot, minlength=HOURS_PER_WEEK).astype(float)
    if weeks is not None:
        if not (math.isfinite(weeks) and weeks > 0):
            raise InputError(f"weeks must be a finite number > 0, got {weeks!r}")
        return counts / weeks
    if times.empty:
        raise InputError("an empty log needs weeks to say how long it covers")
    first = times.min().normalize()
    last = times.max().normalize() + pd.DateOffset(days=1)  # a calendar day, 23 to 25 hours
    days = pd.date_range(first.tz_localize(None), last.tz_localize(None), freq="D")[:-1]
    exposure = np.bincount(
        (np.asarray(days.day_of_week)[:, None] * 24 + np.arange(24)[None, :]).ravel(),
        minlength=HOURS_PER_WEEK,
    ).astype(float)
    if (exposure == 0).any():
        covered = int((exposure > 0).sum())
        raise InputError(f"the log covers {covered} of the 168 hours of the week; pass weeks")
    if times.dt.tz is not None:
        # Real hours between the two local midnights, labelled by their local hour of week.
        hours = pd.date_range(first, last, freq="h", inclusive="left")
        real = np.bincount(
            np.asarray(hours.day_of_week * 24 + hours.hour, dtype=np.int64),
            minlength=HOURS_PER_WEEK,
        ).astype(float)
        # An hour that never occurred (the one skipped in a one-week log) had no calls either.
        exposure = np.where(real > 0, real, exposure)
    return np.asarray(counts / exposure, dtype=float)


def service_time_s(
    scenario: Scenario,
    *,
    travel_s: float = TRAVEL_S,
    transport_travel_s: float | None = None,
) -> float:
    """Mean busy time of a team per call in a scenario, seconds.

    ``turnout + travel + on scene + transport share * (drive to the facility + hand-off)``,
    the phases the simulator keeps a team busy for. On-scene times and transports come from
    the call log where it has them; otherwise from the scenario's distributions (by call
    type) and its transport share. Travel is not in the scenario's service distributions (the
    simulator takes it from the road network), so a representative mean is a parameter.

    Parameters
    ----------
    scenario
        The scenario.
    travel_s
        Mean drive to a call, seconds; default `TRAVEL_S` (15 min).
    transport_travel_s
        Mean drive from a scene to the facility, seconds; ``travel_s`` when None.

    Returns
    -------
    float
        Mean service time, seconds.

    Examples
    --------
    >>> import dispatch
    >>> from dispatch.datasets import example_scenario
    >>> scenario = dispatch.load_scenario(example_scenario("stlouis_cru"))
    >>> 3600 < service_time_s(scenario) < 3 * 3600
    True
    """
    from dispatch.scenario import SyntheticCalls

    service = scenario.service
    drive_back = travel_s if transport_travel_s is None else transport_travel_s
    for name, value in (("travel_s", travel_s), ("transport_travel_s", drive_back)):
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
    default = service.on_scene["default"]
    calls = scenario.calls
    if isinstance(calls, pd.DataFrame) and len(calls):
        types = calls["call_type"].astype(str) if "call_type" in calls else pd.Series([""])
        by_type = types.map(lambda t: service.on_scene.get(t, default).mean_s).astype(float)
        if "on_scene_s" in calls:
            known = calls["on_scene_s"].astype(float)
            on_scene = float(known.fillna(by_type).mean())
        else:
            on_scene = float(by_type.mean())
        if "transport" in calls:
            transport = calls["transport"].astype("Float64").fillna(service.transport_share)
            share = float(transport.mean())
        else:
            share = service.transport_share
    else:
        # synthetic calls share one call type; an empty log falls back on the default
        call_type = calls.call_type if isinstance(calls, SyntheticCalls) else "default"
        on_scene = service.on_scene.get(call_type, default).mean_s
        share = service.transport_share
    return (
        service.turnout.mean_s + travel_s + on_scene + share * (drive_back + service.handoff.mean_s)
    )


def _check_rates(rates_per_h: npt.ArrayLike) -> npt.NDArray[np.float64]:
    rates = np.asarray(rates_per_h, dtype=float)
    if rates.ndim != 1 or rates.size == 0:
        raise InputError("rates_per_h must be a non-empty 1-d array (168 hours of the week)")
    if not (np.isfinite(rates).all() and (rates >= 0).all()):
        raise InputError("rates_per_h must be finite and >= 0")
    return rates


def _shifted_average(rates: npt.NDArray[np.float64], lag_h: float) -> npt.NDArray[np.float64]:
    """Mean rate over ``[h - lag, h + 1 - lag)`` for each hour ``h``, the week wrapping round."""
    n = rates.size
    whole, part = divmod(lag_h % n, 1.0)
    back = np.roll(rates, int(whole))  # back[h] = rates[h - whole]
    return np.asarray((1.0 - part) * back + part * np.roll(back, 1))


def _modified_offered_load(
    rates: npt.NDArray[np.float64], service_s: float
) -> npt.NDArray[np.float64]:
    """Hourly mean of the infinite-server mean ``m(t)`` (erlangs), periodic steady state."""
    s_h = service_s / 3600.0
    decay = math.exp(-1.0 / s_h)
    level = rates * s_h  # where m(t) heads within each hour
    # m at the start of each hour, from m0: m_{h+1} = level_h + (m_h - level_h) decay.
    # Over the cycle m_n = decay^n m_0 + sum_h level_h (1 - decay) decay^(n-1-h).
    n = rates.size
    powers = decay ** np.arange(n - 1, -1, -1, dtype=float)
    cycle = float(np.sum(level * (1.0 - decay) * powers))
    m = cycle / (1.0 - decay**n)
    starts = np.empty(n)
    for h in range(n):
        starts[h] = m
        m = level[h] + (m - level[h]) * decay
    # Mean over the hour of level + (start - level) e^(-t/s), t in [0, 1 h).
    return np.asarray(level + (starts - level) * s_h * (1.0 - decay))


def offered_load(
    rates_per_h: npt.ArrayLike, service_s: float, *, method: Method = "mol"
) -> npt.NDArray[np.float64]:
    """Offered load each hour, erlangs, under a time-varying correction.

    Parameters
    ----------
    rates_per_h
        Arrival rate each hour, calls per hour (168 values, Monday 00:00 first; any length
        is read as one cycle).
    service_s
        Mean service time, seconds.
    method
        ``"sipp"``, ``"lagged_sipp"`` or ``"mol"`` (see the module notes).

    Returns
    -------
    numpy.ndarray
        Load per hour in erlangs.

    Examples
    --------
    >>> rates = np.r_[np.zeros(84), np.full(84, 2.0)]
    >>> offered_load(rates, 7200.0, method="lagged_sipp")[84:88]
    array([0., 0., 4., 4.])
    """
    rates = _check_rates(rates_per_h)
    if not (math.isfinite(service_s) and service_s > 0):
        raise InputError(f"service_s must be a finite number > 0, got {service_s!r}")
    if method not in _METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {_METHODS}")
    s_h = service_s / 3600.0
    if method == "sipp":
        return rates * s_h
    if method == "lagged_sipp":
        return _shifted_average(rates, s_h) * s_h
    return _modified_offered_load(rates, service_s)


def required_teams(
    rates_per_h: npt.ArrayLike,
    service_s: float,
    target_s: float,
    level: float,
    *,
    method: Method = "mol",
    shrinkage: float = 0.0,
    max_occupancy: float | None = None,
    patience_s: float | None = None,
) -> npt.NDArray[np.int64]:
    """Teams each hour of the week needs for a service level.

    Each hour's load (`offered_load` with ``method``) is staffed as a stationary queue with
    `servers_needed`: the smallest number of teams whose share of calls reached within
    ``target_s`` is at least ``level``, then grossed up for shrinkage.

    Parameters
    ----------
    rates_per_h
        Arrival rate each hour, calls per hour (168 values, Monday 00:00 first, e.g. from
        `demand_by_hour_of_week`).
    service_s
        Mean busy time per call, seconds (e.g. from `service_time_s`).
    target_s
        Target wait for a team, seconds.
    level
        Required share of calls within the target, strictly between 0 and 1.
    method
        ``"sipp"``, ``"lagged_sipp"`` or ``"mol"`` (default).
    shrinkage, max_occupancy, patience_s
        As in `servers_needed`.

    Returns
    -------
    numpy.ndarray
        Teams per hour (int64), same length as ``rates_per_h``; 0 in hours without load.

    Examples
    --------
    >>> teams = required_teams(np.full(168, 1.0), 5400.0, 1200.0, 0.8)
    >>> teams.shape, int(teams.min()), int(teams.max())
    ((168,), 3, 3)
    """
    loads = offered_load(rates_per_h, service_s, method=method)
    # An equivalent stationary rate that gives the hour's load with the same service time.
    per_h = loads * 3600.0 / service_s
    out = np.zeros(loads.size, dtype=np.int64)
    cache: dict[float, int] = {}
    for h, rate in enumerate(per_h.tolist()):
        if rate not in cache:
            cache[rate] = servers_needed(
                rate,
                service_s,
                target_s,
                level,
                shrinkage=shrinkage,
                max_occupancy=max_occupancy,
                patience_s=patience_s,
            )
        out[h] = cache[rate]
    return out
