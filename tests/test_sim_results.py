"""The results contract: conservation, consistency, determinism and common random numbers."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simhelpers import log_frame, random_log, scenario, site, team

from dispatch.distributions import Distribution
from dispatch.model import ReasonCode, Shift, TeamKind
from dispatch.scenario import PolicySpec, Scenario, ServiceSpec
from dispatch.sim.results import CALL_COLUMNS, _text, _text_of, replication_metrics
from dispatch.sim.run import simulate
from dispatch.travel import TravelTimes

OUTCOMES = {"specialist", "fallback", "unserved", "thinned"}
REASONS = {r.value for r in ReasonCode}
SPECIALIST_KINDS = {"co_responder", "clinician"}  # the specialist tiers of the default rules
DURATIONS = ["processing_s", "queue_s", "travel_s", "response_s", "on_scene_s"]
MS = pd.Timedelta(milliseconds=1)  # timestamps are stored to the millisecond


def city_scenario(
    log: pd.DataFrame,
    *,
    extra_teams: tuple = (),
    seed: int = 11,
    replications: int = 3,
    volume: float = 1.0,
    policy: PolicySpec | None = None,
) -> Scenario:
    """A mixed fleet on shifts around two stations, two facilities, random service times."""
    day, night = Shift(8.0, 10.0), Shift(20.0, 10.0)  # a 06:00-08:00 gap every day
    teams = [
        team("CR-1", "S", shifts=[day]),
        team("CR-2", "N", cit=False, shifts=[day]),
        team("CR-3", "S", shifts=[night]),
        team("CL-1", "N", kind=TeamKind.CLINICIAN, cit=False, shifts=[Shift(10.0, 8.0)]),
        team("CIT-1", "N", kind=TeamKind.CIT_OFFICER),
        team("P-1", "S", kind=TeamKind.PATROL, cit=False),
        *extra_teams,
    ]
    return scenario(
        log,
        teams,
        stations=[site("S", -2), site("N", 2)],
        facilities=[site("F1", -1), site("F2", 3)],
        service=ServiceSpec(
            on_scene={
                "default": Distribution.lognormal_from_quantile(40 * 60.0, 120 * 60.0),
                "welfare_check": Distribution.exponential(30 * 60.0),
            },
            transport_share=0.4,
        ),
        policy=policy or PolicySpec(fallback_after_min=10.0),
        oracle=TravelTimes.straight_line(speed_kph=30.0, circuity=1.3),
        seed=seed,
        replications=replications,
        volume=volume,
    )


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return random_log(np.random.default_rng(5), 400, days=4.0)


@pytest.fixture(scope="module")
def result(log):  # -> SimulationResult
    return simulate(city_scenario(log))


def check_calls(calls: pd.DataFrame, log: pd.DataFrame, replications: int) -> None:
    """Invariants every calls table must satisfy (one row per input call per replication)."""
    assert list(calls.columns) == CALL_COLUMNS
    input_ids = sorted(log["call_id"])
    for k in range(replications):
        ids = calls.loc[calls["replication"] == k, "call_id"]
        assert sorted(ids) == input_ids, f"replication {k}: calls missing or repeated"
    assert len(calls) == replications * len(log)

    assert set(calls["outcome"]) <= OUTCOMES
    specialist = calls["outcome"] == "specialist"
    fallback = calls["outcome"] == "fallback"
    unserved = calls["outcome"] == "unserved"
    assert (calls.loc[specialist, "reason"] == "").all()
    assert (calls.loc[specialist, "team_id"] != "").all()
    assert set(calls.loc[specialist, "responder_kind"]) <= SPECIALIST_KINDS
    assert calls.loc[fallback, "reason"].isin(REASONS).all()
    assert calls.loc[fallback, "responder_kind"].isin(["cit_officer", "patrol"]).all()
    assert calls.loc[unserved, "reason"].isin(REASONS).all()
    assert calls.loc[unserved, "dispatched_at"].isna().all()
    assert (calls.loc[unserved, "team_id"] == "").all()

    for column in DURATIONS:
        values = calls[column].dropna()
        assert (values >= 0).all(), f"negative {column}"
    served = specialist | fallback
    assert calls.loc[served, ["dispatched_at", "arrived_at", "cleared_at"]].notna().all().all()
    assert calls.loc[served, DURATIONS].notna().all().all()
    # response = processing + queue + travel = arrived_at - received_at
    parts = calls["processing_s"] + calls["queue_s"] + calls["travel_s"]
    assert np.allclose(calls.loc[served, "response_s"], parts[served], rtol=0, atol=1e-6)
    elapsed = (calls["arrived_at"] - calls["received_at"]).dt.total_seconds()
    assert np.allclose(calls.loc[served, "response_s"], elapsed[served], rtol=0, atol=1e-3)
    to_dispatch = (calls["dispatched_at"] - calls["received_at"]).dt.total_seconds()
    before = calls["processing_s"] + calls["queue_s"]
    assert np.allclose(to_dispatch[served], before[served], rtol=0, atol=1e-3)
    assert (calls.loc[served, "received_at"] <= calls.loc[served, "dispatched_at"]).all()
    assert (calls.loc[served, "dispatched_at"] <= calls.loc[served, "arrived_at"]).all()
    scene_end = calls["arrived_at"] + pd.to_timedelta(calls["on_scene_s"], unit="s")
    assert (scene_end[served] <= calls.loc[served, "cleared_at"] + MS).all()
    # transported calls name their facility; the others none
    moved = served & calls["transported"].fillna(False).astype(bool)
    assert (calls.loc[moved, "facility_id"] != "").all()
    assert (calls.loc[served & ~moved, "facility_id"] == "").all()


def check_teams_never_double_booked(calls: pd.DataFrame) -> None:
    """Per team and replication, dispatched..cleared intervals do not overlap."""
    by_team = calls[calls["team_id"] != ""].sort_values(["replication", "team_id", "dispatched_at"])
    for _, group in by_team.groupby(["replication", "team_id"]):
        starts = group["dispatched_at"].to_numpy()[1:]
        ends = group["cleared_at"].to_numpy()[:-1]
        assert (starts >= ends).all(), f"team {group['team_id'].iloc[0]} on two calls at once"


def check_dispatched_on_duty(calls: pd.DataFrame, sc: Scenario) -> None:
    """A team is only ever dispatched while on shift (shift clocks are local)."""
    shifts = {t.team_id: t.shifts for t in sc.teams}
    served = calls[calls["team_id"] != ""]
    local = served["dispatched_at"].dt.tz_convert(sc.timezone)
    # exact dispatch time from the float columns (the timestamps are rounded to a millisecond)
    exact = local.dt.floor("D") + pd.to_timedelta(
        (local - local.dt.floor("D")).dt.total_seconds().round(3), unit="s"
    )
    for team_id, at, processing, queue, received in zip(
        served["team_id"],
        exact,
        served["processing_s"],
        served["queue_s"],
        served["received_at"].dt.tz_convert(sc.timezone),
        strict=True,
    ):
        when = received + pd.to_timedelta(processing + queue, unit="s")
        assert abs((when - at).total_seconds()) < 2e-3
        patterns = shifts[team_id]
        if not patterns:
            continue
        hour = when.hour + when.minute / 60 + (when.second + when.microsecond / 1e6) / 3600
        assert any(s.on_duty_at(when.weekday(), hour) for s in patterns), (
            f"{team_id} dispatched off duty at {when}"
        )


# -- one mixed scenario ---------------------------------------------------------------------------
def test_every_call_once_per_replication_and_consistent_durations(result, log):
    check_calls(result.calls, log, replications=3)
    assert set(result.calls["outcome"]) >= {"specialist", "fallback"}  # the scenario uses both


def test_teams_are_never_double_booked_or_dispatched_off_duty(result, log):
    check_teams_never_double_booked(result.calls)
    check_dispatched_on_duty(result.calls, city_scenario(log))


def test_teams_table_agrees_with_the_calls(result):
    calls, teams = result.calls, result.teams
    assert len(teams) == 3 * 6
    served = calls[calls["team_id"] != ""]
    counted = served.groupby(["replication", "team_id"]).size()
    busy = (
        (served["cleared_at"] - served["dispatched_at"])
        .dt.total_seconds()
        .groupby([served["replication"], served["team_id"]])
        .sum()
    )
    for row in teams.itertuples():
        key = (row.replication, row.team_id)
        assert row.calls == counted.get(key, 0)
        assert row.busy_hours == pytest.approx(busy.get(key, 0.0) / 3600, abs=1e-5)
        assert row.overtime_hours >= 0
        if row.on_duty_hours > 0:
            assert row.utilization == pytest.approx(row.busy_hours / row.on_duty_hours)


def test_on_duty_hours_cover_the_whole_days_of_the_log(result, log):
    # The log starts on Monday 2025-01-06; the replayed period runs to midnight after its last
    # day, so each team's on-duty hours are its whole shifts over those days.
    days = (log["received_at"].max().normalize() - pd.Timestamp("2025-01-06", tz="UTC")).days + 1
    teams = result.teams[result.teams["replication"] == 0].set_index("team_id")
    assert teams.loc["CIT-1", "on_duty_hours"] == pytest.approx(24.0 * days)  # always on
    assert teams.loc["CR-1", "on_duty_hours"] == pytest.approx(10.0 * days)  # 08:00-18:00
    assert teams.loc["CL-1", "on_duty_hours"] == pytest.approx(8.0 * days)  # 10:00-18:00
    # 20:00-06:00: Sunday night's shift reaches into Monday, the last night is cut at midnight
    assert teams.loc["CR-3", "on_duty_hours"] == pytest.approx(6.0 + 10.0 * (days - 1) + 4.0)


def test_utilization_of_a_short_log_is_over_its_day_not_up_to_the_last_call():
    # One call at 08:01 keeps the day team busy for 3.1 h (60 s processing, 60 s turnout, 300 s
    # travel, 3 h on scene). On duty 08:00-16:00 that day: utilization 3.1 / 8.
    log = log_frame([{"call_id": "c1", "at": "2025-01-06 08:01", "k": 1, "on_scene_s": 10800.0}])
    teams = simulate(scenario(log, [team("T1", shifts=[Shift(8.0, 8.0)])])).teams
    assert teams["busy_hours"].iloc[0] == pytest.approx(3.1)
    assert teams["on_duty_hours"].iloc[0] == pytest.approx(8.0)
    assert teams["utilization"].iloc[0] == pytest.approx(3.1 / 8.0)


def test_summary_has_mean_and_ci95_for_every_metric(result):
    summary = result.summary
    assert summary["replications"] == 3
    metrics = summary["metrics"]
    for key in ("calls", "mean_response_min", "specialist_share", "fallback_share"):
        assert key in metrics
    for key, entry in metrics.items():
        assert set(entry) == {"mean", "ci95"}, key
        lo, hi = entry["ci95"]
        if entry["mean"] is not None and lo is not None:
            assert lo <= entry["mean"] + 1e-9 and entry["mean"] <= hi + 1e-9, key
    # the headline shares are the replication means of the calls table
    shares = (result.calls["outcome"] == "specialist").groupby(result.calls["replication"]).mean()
    assert metrics["specialist_share"]["mean"] == pytest.approx(shares.mean(), abs=1e-6)
    assert metrics["calls"]["mean"] == 400


def test_written_files_are_byte_identical_for_the_same_seed(log, tmp_path: Path):
    first = simulate(city_scenario(log)).write(tmp_path / "a")
    second = simulate(city_scenario(log)).write(tmp_path / "b")
    for name in ("calls.parquet", "teams.parquet", "summary.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    written = pd.read_parquet(first / "calls.parquet")
    assert len(written) == 3 * len(log)
    assert written.groupby("replication")["call_id"].nunique().tolist() == [len(log)] * 3
    assert written["call_id"].groupby(written["replication"]).size().tolist() == [len(log)] * 3
    summary = json.loads((first / "summary.json").read_text(encoding="utf-8"))
    assert all(set(v) == {"mean", "ci95"} for v in summary["metrics"].values())


def test_different_seeds_give_different_results(log, tmp_path: Path):
    a = simulate(city_scenario(log, seed=1, replications=1)).write(tmp_path / "a")
    b = simulate(city_scenario(log, seed=2, replications=1)).write(tmp_path / "b")
    assert (a / "calls.parquet").read_bytes() != (b / "calls.parquet").read_bytes()
    ca, cb = pd.read_parquet(a / "calls.parquet"), pd.read_parquet(b / "calls.parquet")
    assert not np.allclose(ca["processing_s"], cb["processing_s"])


def test_replications_differ_but_each_is_reproducible(log):
    calls = simulate(city_scenario(log, replications=2)).calls
    r0 = calls[calls["replication"] == 0].reset_index(drop=True)
    r1 = calls[calls["replication"] == 1].reset_index(drop=True)
    assert not np.allclose(r0["processing_s"], r1["processing_s"])
    again = simulate(city_scenario(log, replications=2), replications=1).calls
    pd.testing.assert_frame_equal(again, r0)


def test_common_random_numbers_adding_a_team_keeps_each_calls_draws(log):
    base = simulate(city_scenario(log)).calls
    more = simulate(city_scenario(log, extra_teams=(team("CR-4", "N", shifts=[Shift(6.0, 4.0)]),)))
    more_calls = more.calls
    key = ["replication", "call_id"]
    joined = base.merge(more_calls, on=key, suffixes=("", "_more"))
    assert len(joined) == len(base)
    # every call is served in both runs (pool fallback after 10 min), so every draw is visible
    assert joined["on_scene_s"].notna().all() and joined["on_scene_s_more"].notna().all()
    assert (joined["on_scene_s"] == joined["on_scene_s_more"]).all()
    assert (joined["processing_s"] == joined["processing_s_more"]).all()
    assert (joined["transported"] == joined["transported_more"]).all()
    # ...while the staffing change does change who answers
    assert (joined["team_id"] != joined["team_id_more"]).any()


def test_volume_below_one_thins_but_keeps_every_call(log):
    calls = simulate(city_scenario(log, volume=0.5)).calls
    check_calls(calls, log, replications=3)
    thinned = calls["outcome"] == "thinned"
    assert (calls.loc[thinned, "reason"] == "volume").all()
    assert calls.loc[thinned, ["dispatched_at", "processing_s", "response_s"]].isna().all().all()
    share = thinned.groupby(calls["replication"]).mean()
    # each call is kept with probability 0.5: 400 calls, 5 standard deviations
    assert (abs(share - 0.5) < 5 * math.sqrt(0.25 / 400)).all()
    summary_calls = calls[~thinned].groupby("replication").size().mean()
    assert simulate(city_scenario(log, volume=0.5)).summary["metrics"]["calls"]["mean"] == (
        pytest.approx(summary_calls)
    )


def test_volume_above_one_adds_calls_copied_from_real_ones(log):
    calls = simulate(city_scenario(log, volume=1.5)).calls
    input_ids = set(log["call_id"])
    assert (calls["outcome"] != "thinned").all()
    for k, part in calls.groupby("replication"):
        assert part["call_id"].is_unique, k
        assert input_ids <= set(part["call_id"]), f"replication {k} lost input calls"
        original = part["call_id"].isin(input_ids)
        assert (part.loc[original, "source_call_id"] == part.loc[original, "call_id"]).all()
        extra = part[~original]
        assert extra["source_call_id"].isin(input_ids).all()
        # about 0.5 x 400 extra calls (Poisson): within 5 standard deviations
        assert abs(len(extra) - 200) < 5 * math.sqrt(200)
        # extra calls fall inside the log's span and copy their source's call type
        assert extra["received_at"].min() >= log["received_at"].min()
        assert extra["received_at"].max() <= log["received_at"].max()
        types = log.set_index("call_id")["call_type"]
        assert (extra["call_type"].to_numpy() == types[extra["source_call_id"]].to_numpy()).all()
    check_teams_never_double_booked(calls)


# -- random small fleets -------------------------------------------------------------------------
KINDS = [TeamKind.CO_RESPONDER, TeamKind.CLINICIAN, TeamKind.CIT_OFFICER, TeamKind.PATROL]

shift_strategy = st.builds(
    Shift,
    start_hour=st.sampled_from([0.0, 6.0, 7.5, 9.0, 14.0, 21.0, 23.5]),
    hours=st.sampled_from([1.0, 4.0, 8.0, 10.0, 12.0]),
    days=st.frozensets(st.integers(0, 6), min_size=1),
)
team_strategy = st.tuples(
    st.sampled_from(KINDS),
    st.booleans(),
    st.sampled_from(["S", "N"]),
    st.lists(shift_strategy, max_size=2),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    fleet=st.lists(team_strategy, min_size=1, max_size=4),
    fallback_after=st.sampled_from([None, 0.0, 5.0, 30.0]),
    teams_fallback=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    log_seed=st.integers(0, 10_000),
)
def test_random_fleets_keep_every_invariant(fleet, fallback_after, teams_fallback, seed, log_seed):
    log = random_log(np.random.default_rng(log_seed), 60, days=2.0)
    teams = [
        team(f"T{i}", station, kind=kind, cit=cit, shifts=shifts)
        for i, (kind, cit, station, shifts) in enumerate(fleet)
    ]
    has_fallback_team = any(k in (TeamKind.CIT_OFFICER, TeamKind.PATROL) for k, *_ in fleet)
    sc = scenario(
        log,
        teams,
        stations=[site("S", -1), site("N", 2)],
        facilities=[site("F", 0)],
        service=ServiceSpec(transport_share=0.3),
        policy=PolicySpec(
            fallback_after_min=fallback_after,
            fallback="teams" if teams_fallback and has_fallback_team else "pool",
        ),
        oracle=TravelTimes.straight_line(speed_kph=30.0),
        seed=seed,
        replications=1,
    )
    calls = simulate(sc).calls
    check_calls(calls, log, replications=1)
    check_teams_never_double_booked(calls)
    check_dispatched_on_duty(calls, sc)


def test_wellness_shares_count_every_call_by_its_label():
    # 7 calls: 2 overrides (of two rules), a hold that left nobody, a fairness pick, a held
    # team passed over, and 2 untouched; one thinned call that counts for nothing.
    labels = ["override:recovery", "", "hold:streak", "override:streak", "fairness", "", "recovery"]
    calls = pd.DataFrame(
        {
            "outcome": ["specialist"] * 7 + ["thinned"],
            "response_s": [600.0] * 8,
            "queue_s": [0.0] * 8,
            "reason": [""] * 8,
            "wellness": [*labels, "override:recovery"],
        }
    )
    metrics = replication_metrics(calls, 20.0)
    assert metrics["wellness_changed_share"] == 5 / 7
    assert metrics["wellness_override_share"] == 2 / 7


@given(
    names=st.lists(st.text(max_size=6), min_size=1, max_size=8),
    picks=st.lists(st.integers(min_value=-1, max_value=7), max_size=40),
)
def test_text_of_equals_the_strings_it_codes(names: list[str], picks: list[int]) -> None:
    """Columns decoded from codes equal the Python strings they stand for, Parquet bytes too."""
    codes = np.array([k % len(names) if k >= 0 else -1 for k in picks], dtype=np.int64)
    want = _text(np.array(names, dtype=object)[codes])
    got = _text_of(names, codes)
    assert got.dtype == want.dtype
    assert got.tolist() == want.tolist()
    files = []
    for column in (want, got):
        buffer = io.BytesIO()
        pd.DataFrame({"x": column}).to_parquet(buffer)
        files.append(buffer.getvalue())
    assert files[0] == files[1]
