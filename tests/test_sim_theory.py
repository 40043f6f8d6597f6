"""The simulator against queueing theory, and `dispatch.erlang` against published values.

With one location (every call and every station at the same point, so travel is 0), no call
processing, no turnout, no transport, Poisson arrivals and exponential time on scene, the
specialist fleet is an M/M/c queue (``fallback_after_min = None``: calls wait as long as it
takes) or an M/M/c/c loss system (``fallback_after_min = 0``: a call that finds every team busy
goes to the fallback pool at once).

Each check builds a 99% Student-t interval from independent replications and asserts that the
theoretical value lies inside it. Replications start empty; the runs are thousands of mean
service times long, so the start-up bias is far below the interval's width.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dispatch import erlang
from dispatch.distributions import Distribution
from dispatch.model import TeamKind
from dispatch.scenario import PolicySpec, Scenario, ServiceSpec, Site, SyntheticCalls, TeamSpec
from dispatch.sim.run import simulate
from dispatch.travel import TravelTimes

LAT, LON = 38.6270, -90.1994
MEAN_SERVICE_S = 3600.0
SEED = 2025  # one seed for every run in this module


def queue_scenario(
    c: int,
    a: float,
    *,
    days: float,
    replications: int,
    fallback_after_min: float | None,
    seed: int,
    on_scene: Distribution | None = None,
) -> Scenario:
    """``c`` co-responder teams, offered load ``a`` erlangs, one location, no travel."""
    calls_per_day = a / MEAN_SERVICE_S * 86400.0  # lambda = a * mu
    return Scenario(
        name=f"M/M/{c} a={a}",
        travel=TravelTimes.straight_line(),
        calls=SyntheticCalls(calls_per_day=calls_per_day, days=days, locations=[(LAT, LON, 1.0)]),
        teams=tuple(TeamSpec(f"T{i}", TeamKind.CO_RESPONDER, "HQ", cit=True) for i in range(c)),
        stations=(Site("HQ", LAT, LON),),
        service=ServiceSpec(
            processing=Distribution.fixed(0.0),
            turnout=Distribution.fixed(0.0),
            on_scene={"default": on_scene or Distribution.exponential(MEAN_SERVICE_S)},
            transport_share=0.0,
        ),
        policy=PolicySpec(fallback_after_min=fallback_after_min),
        seed=seed,
        replications=replications,
    )


def ci99(values: pd.Series | np.ndarray) -> tuple[float, float]:
    """99% Student-t interval for the mean of independent replication values."""
    x = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.995, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def assert_inside(name: str, theory: float, values: pd.Series) -> None:
    lo, hi = ci99(values)
    assert lo <= theory <= hi, (
        f"{name}: theory {theory:.5f} outside the 99% interval [{lo:.5f}, {hi:.5f}] "
        f"of {len(values)} replications (mean {np.mean(values):.5f})"
    )


# -- simulator vs Erlang C (M/M/c) --------------------------------------------------------------
@pytest.mark.parametrize(
    ("c", "a", "days"),
    [
        (3, 1.5, 400),  # rho 0.5, 36 calls a day: 14,400 calls per replication
        (5, 4.0, 300),  # rho 0.8, 96 calls a day: 28,800 calls per replication
    ],
)
def test_mmc_wait_matches_erlang_c(c: int, a: float, days: float) -> None:
    result = simulate(
        queue_scenario(c, a, days=days, replications=10, fallback_after_min=None, seed=SEED)
    )
    calls = result.calls
    assert (calls["outcome"] == "specialist").all()  # nobody falls back, nobody is left over
    assert (calls["travel_s"] == 0).all() and (calls["processing_s"] == 0).all()
    by_rep = calls.groupby("replication")
    wait_h = calls["queue_s"] / MEAN_SERVICE_S

    # P(wait > 0) = C(c, a)
    assert_inside(
        "P(wait)",
        erlang.erlang_c(c, a),
        (calls["queue_s"] > 0).groupby(calls["replication"]).mean(),
    )
    # mean wait Wq = C / (c mu - lambda), in mean service times
    assert_inside(
        "Wq", erlang.mmc_mean_wait(c, a, 1.0), wait_h.groupby(calls["replication"]).mean()
    )
    # tail: P(Wq > t) = C exp(-(c - a) mu t), at a quarter of a mean service time
    t = 0.25
    assert_inside(
        "P(Wq > 0.25)",
        erlang.erlang_c(c, a) * math.exp(-(c - a) * t),
        (wait_h > t).groupby(calls["replication"]).mean(),
    )
    # teams are busy a / c of the time (a call's time on scene is all of its service)
    teams = result.teams
    util = (teams["busy_hours"].groupby(teams["replication"]).sum()) / (
        teams["on_duty_hours"].groupby(teams["replication"]).sum()
    )
    assert_inside("utilization", a / c, util)
    # the summary reports the same waited share
    waited = result.summary["metrics"]["waited_share"]
    assert waited["mean"] == pytest.approx((calls["queue_s"] > 0).mean(), abs=1e-3)
    assert by_rep.size().min() > 0.95 * a / MEAN_SERVICE_S * days * 86400


# -- simulator vs Erlang B (M/M/c/c, and M/G/c/c) ----------------------------------------------
@pytest.mark.parametrize(
    ("c", "a", "days", "on_scene"),
    [
        (3, 1.5, 400, None),
        (5, 4.0, 150, None),
        # Erlang B holds for any service-time distribution with the same mean (insensitivity):
        # log-normal with sigma 1 and mean 3600 s.
        (3, 1.5, 400, Distribution.lognormal(MEAN_SERVICE_S / math.exp(0.5), 1.0)),
    ],
    ids=["c3-a1.5-exp", "c5-a4-exp", "c3-a1.5-lognormal"],
)
def test_loss_system_blocking_matches_erlang_b(
    c: int, a: float, days: float, on_scene: Distribution | None
) -> None:
    if on_scene is not None:
        assert on_scene.mean_s == pytest.approx(MEAN_SERVICE_S)
    result = simulate(
        queue_scenario(
            c, a, days=days, replications=8, fallback_after_min=0.0, seed=SEED, on_scene=on_scene
        )
    )
    calls = result.calls
    rep = calls["replication"]
    all_busy = calls["reason"] == "all_busy"
    # blocked calls go to the pool at once; the others to a team at once
    assert (calls.loc[all_busy, "outcome"] == "fallback").all()
    assert (calls.loc[~all_busy, "outcome"] == "specialist").all()
    assert (calls["queue_s"] == 0).all()
    assert_inside("P(all busy)", erlang.erlang_b(c, a), all_busy.groupby(rep).mean())
    # carried load: each team is busy a (1 - B) / c of the time
    teams = result.teams
    util = teams["busy_hours"].groupby(teams["replication"]).sum() / (
        teams["on_duty_hours"].groupby(teams["replication"]).sum()
    )
    assert_inside("utilization", a * (1 - erlang.erlang_b(c, a)) / c, util)
    reason_share = result.summary["metrics"]["reason_all_busy_share"]["mean"]
    assert reason_share == pytest.approx(all_busy.groupby(rep).mean().mean(), abs=1e-6)


# -- dispatch.erlang against published values ---------------------------------------------------
# shared/reference/domain-figures.md, "V3. Erlang-C / M/M/c formulas": P(wait) and Wq (in mean
# service times), and a call-centre worked example (mitan.co.uk).
@pytest.mark.parametrize(
    ("c", "a", "p_wait", "wq"),
    [
        (3, 1.5, 9 / 38, 3 / 19),
        (2, 1.25, 0.48077, 0.64103),
        (2, 1.0, 1 / 3, 1 / 3),
        (5, 4.0, 0.55411, 0.55411),
    ],
)
def test_erlang_c_reference_values(c: int, a: float, p_wait: float, wq: float) -> None:
    assert erlang.erlang_c(c, a) == pytest.approx(p_wait, abs=5e-6)
    assert erlang.mmc_mean_wait(c, a, 1.0) == pytest.approx(wq, abs=5e-6)


def test_mmc_p0_reference_value() -> None:
    # M/M/3, a = 1.5: P0 = 4/19 and C = (a^c / c!) / (1 - rho) * P0
    c, a = 3, 1.5
    p0 = 4 / 19
    assert erlang.erlang_c(c, a) == pytest.approx(a**c / math.factorial(c) / (1 - a / c) * p0)


@pytest.mark.parametrize(
    ("agents", "p_wait", "asa_s", "sl"),
    [
        (55, 0.2387, 8.18, 0.8459),  # service level at 15 s
        (54, 0.3013, 12.05, None),
        (56, 0.1872, 5.61, None),
    ],
)
def test_erlang_c_call_centre_example(agents: int, p_wait: float, asa_s: float, sl) -> None:
    # 48 erlangs offered (360 calls in 30 min, 240 s handling time)
    a, aht = 48.0, 240.0
    assert erlang.erlang_c(agents, a) == pytest.approx(p_wait, abs=5e-5)
    assert erlang.mmc_mean_wait(agents, a, aht) == pytest.approx(asa_s, abs=5e-3)
    if sl is not None:
        # SL(t) = 1 - C exp(-(c - a) t / AHT)
        level = 1 - erlang.erlang_c(agents, a) * math.exp(-(agents - a) * 15.0 / aht)
        assert level == pytest.approx(sl, abs=5e-5)


def test_erlang_b_known_values() -> None:
    assert erlang.erlang_b(0, 2.0) == 1.0  # no server: every call is lost
    assert erlang.erlang_b(1, 1.0) == pytest.approx(0.5)  # B(1, a) = a / (1 + a)
    assert erlang.erlang_b(3, 1.5) == pytest.approx(9 / 67)  # 0.5625 / 4.1875
    assert erlang.erlang_b(5, 4.0) == pytest.approx(0.199067, abs=1e-6)
    assert erlang.erlang_b(4, 0.0) == 0.0


def exact_b(c: int, a: Fraction) -> Fraction:
    """Erlang B from its definition, in exact arithmetic."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


@settings(max_examples=60, deadline=None)
@given(
    c=st.integers(min_value=1, max_value=40),
    a=st.fractions(min_value=Fraction(1, 100), max_value=60, max_denominator=100),
)
def test_erlang_formulas_match_their_definitions(c: int, a: Fraction) -> None:
    b = exact_b(c, a)
    assert erlang.erlang_b(c, float(a)) == pytest.approx(float(b), rel=1e-9, abs=1e-300)
    if a < c:
        # C(c, a) = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) c / (c - a))
        top = a**c / math.factorial(c) * c / (c - a)
        expected = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
        assert erlang.erlang_c(c, float(a)) == pytest.approx(float(expected), rel=1e-9)
        assert erlang.erlang_c(c, float(a)) >= erlang.erlang_b(c, float(a))
    # one more server never blocks more
    assert erlang.erlang_b(c + 1, float(a)) <= erlang.erlang_b(c, float(a))


@pytest.mark.parametrize(("c", "a"), [(3, 3.0), (3, 4.0), (2, -0.5)])
def test_erlang_c_rejects_unstable_or_negative_load(c: int, a: float) -> None:
    with pytest.raises(ValueError):
        erlang.erlang_c(c, a)


def test_erlang_b_rejects_negative_arguments() -> None:
    with pytest.raises(ValueError):
        erlang.erlang_b(-1, 1.0)
    with pytest.raises(ValueError):
        erlang.erlang_b(2, -1.0)
