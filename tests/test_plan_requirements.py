"""Required teams by hour of week: demand from a log, busy time per call, time-varying loads."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import dispatch
from dispatch import datasets
from dispatch.distributions import Distribution
from dispatch.errors import InputError
from dispatch.plan.queueing import servers_needed
from dispatch.plan.requirements import (
    TRAVEL_S,
    Method,
    demand_by_hour_of_week,
    offered_load,
    required_teams,
    service_time_s,
)
from dispatch.scenario import Scenario, ServiceSpec

METHODS: tuple[Method, ...] = ("sipp", "lagged_sipp", "mol")


# -- constant and stepped demand --------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "options",
    [{}, {"shrinkage": 0.2}, {"max_occupancy": 0.6}, {"patience_s": 900.0}],
)
def test_constant_demand_needs_the_stationary_staffing_every_hour(
    method: Method, options: dict[str, float]
) -> None:
    teams = required_teams(np.full(168, 1.3), 6000.0, 1200.0, 0.8, method=method, **options)
    expected = servers_needed(1.3, 6000.0, 1200.0, 0.8, **options)
    assert teams.dtype == np.int64
    assert teams.shape == (168,)
    assert (teams == expected).all(), (teams, expected)


def stepped(low: float = 0.5, high: float = 3.0) -> np.ndarray:
    """Low demand for the first half of the week, high for the second."""
    return np.concatenate((np.full(84, low), np.full(84, high)))


@pytest.mark.parametrize("service_h", [0.5, 2.0, 3.7])
def test_modified_offered_load_lags_a_step_by_the_service_time(service_h: float) -> None:
    rates = stepped()
    load = offered_load(rates, service_h * 3600.0, method="mol")
    low, high = 0.5 * service_h, 3.0 * service_h
    # The infinite-server mean approaches the new level as 1 - exp(-t / s): the area between
    # the step and the response is exactly the service time (the mean of the exponential).
    lag_h = float(np.sum((high - load[84:]) / (high - low)))
    assert lag_h == pytest.approx(service_h, rel=1e-9)
    lag_down_h = float(np.sum((load[:84] - low) / (high - low)))
    assert lag_down_h == pytest.approx(service_h, rel=1e-9)
    # half-way about s ln 2 after the step; the week's offered work is unchanged
    half = 84 + int(np.argmax(load[84:] >= (low + high) / 2))
    assert abs((half - 84 + 0.5) - service_h * math.log(2)) <= 1.0
    assert load.sum() == pytest.approx((rates * service_h).sum(), rel=1e-12)
    assert (np.diff(load[84:]) >= 0).all()


def test_mol_teams_follow_a_step_after_the_service_time() -> None:
    rates, service_s = stepped(), 7200.0
    sipp = required_teams(rates, service_s, 1200.0, 0.8, method="sipp")
    mol = required_teams(rates, service_s, 1200.0, 0.8, method="mol")
    assert sipp[84] > sipp[83]  # stationary staffing jumps with the demand
    assert mol[84] < sipp[84]  # the calls in service at the step arrived before it
    assert (mol[84 + 8 :] == sipp[84 + 8 :]).all()  # four service times later it has caught up
    assert mol[0] > sipp[0]  # and the busy teams outlast the drop back
    assert (mol[12:84] == sipp[12:84]).all()


@pytest.mark.parametrize("service_h", [1.0, 2.0, 5.0])
def test_lagged_sipp_shifts_the_staffing_by_the_service_time(service_h: float) -> None:
    rng = np.random.default_rng(12)
    rates = rng.uniform(0.0, 4.0, 168)
    service_s = service_h * 3600.0
    sipp = required_teams(rates, service_s, 1200.0, 0.8, method="sipp")
    lagged = required_teams(rates, service_s, 1200.0, 0.8, method="lagged_sipp")
    assert (lagged == np.roll(sipp, int(service_h))).all()


def test_lagged_sipp_with_a_fractional_lag_averages_the_shifted_hour() -> None:
    rates = stepped()
    load = offered_load(rates, 1.5 * 3600.0, method="lagged_sipp")
    # hours [84 - 1.5, 85 - 1.5): all low; [85 - 1.5, 86 - 1.5): half low, half high
    assert load[84] == pytest.approx(0.5 * 1.5)
    assert load[85] == pytest.approx((0.5 + 3.0) / 2 * 1.5)
    assert load[86] == pytest.approx(3.0 * 1.5)
    assert load.sum() == pytest.approx(rates.sum() * 1.5)


def test_required_teams_rejects_bad_input() -> None:
    with pytest.raises(InputError):
        required_teams(np.full(168, -1.0), 3600.0, 1200.0, 0.8)
    with pytest.raises(InputError):
        required_teams(np.full(168, 1.0), 0.0, 1200.0, 0.8)
    with pytest.raises(InputError):
        required_teams(np.full(168, 1.0), 3600.0, 1200.0, 0.8, method="psa")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        required_teams(np.array([]), 3600.0, 1200.0, 0.8)


def test_hours_without_calls_need_no_team() -> None:
    rates = np.zeros(168)
    rates[10] = 2.0
    teams = required_teams(rates, 3600.0, 1200.0, 0.8, method="sipp")
    assert teams[10] > 0 and teams.sum() == teams[10]


# -- demand by hour of week -------------------------------------------------------------------


def test_demand_counts_calls_by_local_hour_of_week() -> None:
    # Monday 2025-01-06 .. Sunday 2025-01-19: two whole weeks
    times = pd.Series(
        pd.to_datetime(
            [
                "2025-01-06 00:05",  # Monday 00 -> hour 0
                "2025-01-13 00:59",  # Monday 00 again, next week
                "2025-01-08 14:30",  # Wednesday 14 -> 2 * 24 + 14 = 62
                "2025-01-08 14:31",
                "2025-01-08 14:32",
                "2025-01-19 23:59",  # Sunday 23 -> 167
            ]
        )
    )
    rates = demand_by_hour_of_week(times)
    expected = np.zeros(168)
    expected[0], expected[62], expected[167] = 2 / 2, 3 / 2, 1 / 2
    assert rates == pytest.approx(expected)
    assert demand_by_hour_of_week(times, weeks=4.0) == pytest.approx(expected / 2)
    # plain datetimes and strings are read the same way
    as_text = times.dt.strftime("%Y-%m-%dT%H:%M").tolist()
    assert demand_by_hour_of_week(as_text) == pytest.approx(expected)


def test_demand_needs_the_whole_week_or_weeks() -> None:
    with pytest.raises(InputError, match="pass weeks"):
        demand_by_hour_of_week(pd.Series(pd.to_datetime(["2025-01-06 10:00"])))
    with pytest.raises(InputError):
        demand_by_hour_of_week(pd.Series(pd.to_datetime(["2025-01-06 10:00"])), weeks=0.0)
    with pytest.raises(InputError):
        demand_by_hour_of_week(pd.Series(dtype="datetime64[ns]"))
    assert demand_by_hour_of_week(pd.Series(dtype="datetime64[ns]"), weeks=1.0).sum() == 0.0


def test_demand_in_a_daylight_saving_week_uses_local_hours() -> None:
    # America/Chicago falls back on Sunday 2025-11-02: 01:00-02:00 CDT, then 01:00-02:00 CST.
    utc = pd.Series(
        pd.to_datetime(
            [
                "2025-10-27T05:30Z",  # Monday 00:30 CDT -> hour 0 (05 in UTC)
                "2025-11-02T06:15Z",  # Sunday 01:15 CDT -> 6 * 24 + 1 = 145
                "2025-11-02T07:15Z",  # Sunday 01:15 CST, the repeated hour -> 145
                "2025-11-03T05:30Z",  # Sunday 23:30 CST -> 167 (Monday in UTC)
            ]
        )
    )
    rates = demand_by_hour_of_week(utc, timezone="America/Chicago")
    assert rates[0] == 1.0
    assert rates[145] == 1.0  # two calls in two real hours labelled Sunday 01
    assert rates[167] == 1.0
    assert rates[5] == 0.0 and rates[6 * 24 + 6] == 0.0  # not binned by UTC hour
    assert rates.sum() == 3.0
    # the same calls as naive local times: one wall-clock Sunday 01 hour, so 2 calls per hour
    local = utc.dt.tz_convert("America/Chicago").dt.tz_localize(None)
    naive = demand_by_hour_of_week(local)
    assert naive[145] == 2.0 and naive[0] == 1.0 and naive[167] == 1.0
    # and naive local times read in the zone give the real-hour answer again, except that a
    # repeated wall-clock time is ambiguous
    with pytest.raises(InputError, match="ambiguous"):
        demand_by_hour_of_week(local, timezone="America/Chicago")


def test_demand_in_a_spring_forward_week() -> None:
    # 2025-03-09 02:00 CST jumps to 03:00 CDT: in two weeks, Sunday 02 occurred once.
    local = pd.Series(
        pd.to_datetime(
            ["2025-03-03 00:10", "2025-03-09 03:30", "2025-03-16 02:30", "2025-03-16 23:00"]
        )
    ).dt.tz_localize("America/Chicago")
    rates = demand_by_hour_of_week(local)
    assert rates[6 * 24 + 2] == 1.0  # one call in the one real Sunday 02 hour
    assert rates[6 * 24 + 3] == 0.5  # 03:30 CDT is local hour 3 (08:30 UTC)
    assert rates[0] == 0.5 and rates[167] == 0.5


# -- service time -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cru() -> Scenario:
    return dispatch.load_scenario(datasets.example_scenario("stlouis_cru"))


def test_service_time_adds_the_busy_phases(cru: Scenario) -> None:
    service = ServiceSpec(
        turnout=Distribution.fixed(60.0),
        on_scene={"default": Distribution.fixed(1800.0), "suicidal": Distribution.uniform(0, 7200)},
        transport_share=0.25,
        handoff=Distribution.exponential(1200.0),
    )
    calls = pd.DataFrame(
        {
            "call_type": ["welfare_check", "suicidal", "suicidal", "other"],
            "on_scene_s": [600.0, np.nan, 900.0, np.nan],  # unknown: 3600 and 1800
            "transport": pd.array([True, pd.NA, False, pd.NA], dtype="boolean"),
        }
    )
    scenario = dataclasses.replace(cru, service=service, calls=calls)
    on_scene = (600.0 + 3600.0 + 900.0 + 1800.0) / 4
    share = (1 + 0.25 + 0 + 0.25) / 4
    expected = 60.0 + 700.0 + on_scene + share * (500.0 + 1200.0)
    got = service_time_s(scenario, travel_s=700.0, transport_travel_s=500.0)
    assert got == pytest.approx(expected)
    assert service_time_s(scenario, travel_s=700.0) == pytest.approx(
        expected + share * (700.0 - 500.0)
    )
    assert service_time_s(scenario) == pytest.approx(
        60.0 + TRAVEL_S + on_scene + share * (TRAVEL_S + 1200.0)
    )


def test_service_time_without_a_log_uses_the_distributions(cru: Scenario) -> None:
    default = ServiceSpec()
    scenario = dataclasses.replace(cru, service=default, calls=pd.DataFrame({"call_type": []}))
    expected = (
        default.turnout.mean_s
        + TRAVEL_S
        + default.on_scene["default"].mean_s
        + default.transport_share * (TRAVEL_S + default.handoff.mean_s)
    )
    assert service_time_s(scenario) == pytest.approx(expected)
    # the defaults: 1 min turnout, 15 min travel, 57 min on scene, half transported
    assert 95 * 60 < expected < 110 * 60


# -- St. Louis --------------------------------------------------------------------------------


def test_stlouis_required_teams_are_plausible(cru: Scenario) -> None:
    stl = datasets.stlouis()
    log = pd.read_csv(stl.calls, usecols=["received_at"], parse_dates=["received_at"])
    rates = demand_by_hour_of_week(log["received_at"])
    # 6,947 calls over 2025: about 133 a week
    assert rates.sum() == pytest.approx(len(log) / (365 / 7), rel=0.01)
    service_s = service_time_s(cru)
    teams = {m: required_teams(rates, service_s, 20 * 60.0, 0.8, method=m) for m in METHODS}
    mol = teams["mol"]
    grid = "\n".join(" ".join(f"{n}" for n in day) for day in mol.reshape(7, 24))
    message = (
        f"service {service_s / 60:.1f} min; calls/week {rates.sum():.1f}; MOL teams by hour "
        f"(Mon..Sun rows): min {mol.min()}, max {mol.max()}, team-hours/week {mol.sum()}; "
        f"SIPP {teams['sipp'].sum()}, lagged SIPP {teams['lagged_sipp'].sum()}\n{grid}"
    )
    for found in teams.values():
        assert ((found >= 1) & (found <= 10)).all(), message
    # shaped to demand: fewer team-hours than the busiest hour's staffing round the clock
    assert mol.sum() < 168 * mol.max(), message
    # busier afternoons than small hours (domain figures 1.4: mid-afternoon peak)
    assert mol.reshape(7, 24)[:, 13:18].mean() > mol.reshape(7, 24)[:, 3:6].mean(), message
