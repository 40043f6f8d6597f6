"""Shift changes come one at a time yet land on their instants, first among its events."""

from __future__ import annotations

import math

import hypothesis.strategies as st
from hypothesis import given, settings
from simhelpers import log_frame, scenario, team

from dispatch.model import Shift
from dispatch.sim.engine import exact_delay
from dispatch.sim.prepare import prepare
from dispatch.sim.run import simulate

seconds = st.floats(0.0, 4e7, allow_nan=False, allow_infinity=False)


@settings(max_examples=500, deadline=None)
@given(now=seconds, ahead=seconds)
def test_a_delay_lands_on_its_instant_whenever_one_can_and_never_past_it(
    now: float, ahead: float
) -> None:
    at = now + ahead
    delay = exact_delay(now, at)
    assert delay >= 0.0
    assert now + delay <= at
    if now + (at - now) == at:
        assert now + delay == at
    else:  # nothing lands on it: the last instant before it that can be reached
        assert now + math.nextafter(delay, math.inf) > at


def test_fractional_shift_times_are_logged_and_heard_exactly_as_planned() -> None:
    # Starts and lengths in odd fractions of an hour, over three weeks; A's first shift ends
    # at 59546.4048 s, which no delay from its start at 13515.5592 s (the change before it)
    # lands on exactly.
    shifts = [Shift(3.754322, 12.786346, frozenset({0})), Shift(15.4321, 7.7777, frozenset({1, 3}))]
    log = log_frame(
        [
            {"call_id": f"c{k}", "at": f"2025-01-{6 + k:02d} 12:00", "k": 1, "on_scene_s": 900.0}
            for k in range(21)
        ]
    )
    sc = scenario(log, [team("A", shifts=shifts[:1]), team("B", shifts=shifts[1:])])
    setup = prepare(sc).setup
    planned = sorted(
        (t, what, team_id)
        for team_id, intervals in zip(setup.team_ids, setup.duty, strict=True)
        for start, end in intervals
        for t, what in ((start, "shift_start"), (end, "shift_end"))
    )
    result = simulate(sc, event_log=True)
    assert result.events is not None
    events = result.events[result.events["event"].isin(["shift_start", "shift_end"])]
    logged = sorted(
        zip(
            events["time_s"].tolist(),
            events["event"].tolist(),
            events["team_id"].tolist(),
            strict=True,
        )
    )
    horizon = max(t for t, _, _ in logged)
    assert logged == [p for p in planned if p[0] <= horizon]  # bit for bit
    assert len(logged) > 15
    assert (13515.5592, "shift_start", "A") in logged
    assert (59546.4048, "shift_end", "A") in logged
    assert 13515.5592 + (59546.4048 - 13515.5592) != 59546.4048
