"""Staffing plans verified by simulation (`dispatch.plan.staffing`, `dispatch plan staffing`).

A small city: synthetic calls shaped by the St. Louis hour-of-week profile, one station, 8-hour
shifts on six allowed start times, so each CP-SAT solve is proven optimal in well under a second
and each replay takes a moment.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dispatch
from dispatch.errors import InputError
from dispatch.plan.schedule import HOURS_PER_WEEK, ShiftRules
from dispatch.plan.staffing import (
    evaluate,
    plan_scenario_table,
    plan_staffing,
    search_uniform,
    uniform_shifts,
    write_scenario,
)
from dispatch.scenario_file import read_raw

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "data" / "stlouis" / "bh_demand_profile.csv"
RULES = ShiftRules(lengths_h=(8,), start_hours=(3, 7, 11, 15, 19, 23), break_min=0)

CITY = f"""
name = "small city"
seed = 11
replications = 4
timezone = "America/Chicago"

[network]
kind = "straight_line"
speed_kph = 40

[calls.synthetic]
calls_per_day = 14
days = 28
profile = "{PROFILE}"
locations = [[38.630, -90.200, 1.0], [38.610, -90.230, 1.0], [38.650, -90.190, 1.0]]

[service]
transport_share = 0

[service.on_scene.default]
dist = "lognormal"
median = 40
p95 = 90

[shifts.day]
start = "07:00"
hours = 8

[[stations]]
id = "hq"
lat = 38.6332
lon = -90.2164

[[teams]]
id = "CR"
count = 2
kind = "co_responder"
cit = true
station = "hq"
shift = "day"

[[teams]]
id = "PATROL"
count = 3
kind = "patrol"
station = "hq"
"""


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("city") / "city.toml"
    path.write_text(CITY)
    return path


@pytest.fixture(scope="module")
def planned(city: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("plan")
    plan = plan_staffing(city, out, target_share=0.8, target_min=20, rules=RULES, time_limit_s=5)
    return out, plan


def on_duty_by_hour(scenario: dispatch.Scenario, kind: str) -> np.ndarray:
    """Teams of ``kind`` on duty at the middle of each hour of the week, from the scenario."""
    counts = np.zeros(HOURS_PER_WEEK, dtype=int)
    for team in scenario.teams:
        if team.kind.value != kind:
            continue
        for h in range(HOURS_PER_WEEK):
            if not team.shifts or any(s.on_duty_at(h // 24, h % 24 + 0.5) for s in team.shifts):
                counts[h] += 1
    return counts


def test_the_plan_meets_its_target_in_an_independent_replay_with_new_seeds(planned) -> None:
    out, plan = planned
    assert plan.met
    # Not the loop's own check: another seed and more replications, through the public API.
    scenario = dispatch.load_scenario(out / "plan.toml")
    result = dispatch.simulate(scenario, replications=8, seed=98765)
    check = evaluate(result.calls, 20.0)
    assert check.replications == 8
    assert check.meets(0.8), (check.share, check.low)
    # Every call of every replication is accounted for.
    assert len(result.calls) == result.calls.groupby("replication").size().sum()


def test_the_written_roster_puts_on_duty_exactly_the_planned_teams(planned) -> None:
    out, plan = planned
    scenario = dispatch.load_scenario(out / "plan.toml")
    assert list(on_duty_by_hour(scenario, "co_responder")) == list(plan.schedule.on_duty)
    # The teams not planned (patrol) are kept as they were.
    assert list(on_duty_by_hour(scenario, "patrol")) == [3] * HOURS_PER_WEEK
    assert plan.schedule.team_hours == int(plan.schedule.on_duty.sum())


def test_the_live_service_accepts_the_plan(planned) -> None:
    from dispatch.live.state import LiveConfig

    out, _ = planned
    config = LiveConfig.from_scenario(
        dispatch.load_scenario(out / "plan.toml"), read_raw(out / "plan.toml")
    )
    planned_ids = {t.team_id for t in dispatch.load_scenario(out / "plan.toml").teams}
    assert set(config.team_ids) == planned_ids


def test_a_roster_varying_by_day_keeps_one_clock_start_per_team(city: Path, tmp_path: Path) -> None:
    # Two teams from 07:00 on weekdays, one at weekends; three from 15:00 on Friday only.
    shifts = [(24 * d + 7, 8, 2 if d < 5 else 1) for d in range(7)] + [(24 * 4 + 15, 8, 3)]
    table = plan_scenario_table(read_raw(city), shifts, name="varying", target_min=20, rules=RULES)
    path = write_scenario(table, tmp_path / "varying.toml")
    scenario = dispatch.load_scenario(path)
    duty = on_duty_by_hour(scenario, "co_responder")
    expected = np.zeros(HOURS_PER_WEEK, dtype=int)
    for start, length, count in shifts:
        expected[start : start + length] += count
    assert list(duty) == list(expected)
    planned_teams = [t for t in scenario.teams if t.kind.value == "co_responder"]
    assert len(planned_teams) == 5  # 2 (07:00) + 3 (Friday 15:00): never more than needed
    for team in planned_teams:
        assert len({s.start_hour for s in team.shifts}) == 1
        assert team.cit and team.station_id == "hq"


def test_written_scenarios_read_back_equal_and_relative(city: Path, tmp_path: Path) -> None:
    table = plan_scenario_table(
        read_raw(city), uniform_shifts(2), name="u", target_min=15, rules=RULES
    )
    path = write_scenario(table, tmp_path / "deep" / "u.toml", header="a plan\nline two")
    text = path.read_text()
    assert text.startswith("# a plan\n# line two\n")
    data = tomllib.loads(text)
    assert data["policy"]["target_response_min"] == 15.0
    assert not Path(data["calls"]["synthetic"]["profile"]).is_absolute()
    assert dispatch.load_scenario(path).calls.days == 28


def test_the_loop_keeps_the_cheapest_plan_that_met_and_moves_one_team_per_hour(planned) -> None:
    _, plan = planned
    its = plan.iterations
    for before, after in itertools.pairwise(its):
        step = after.required - (
            before.required if not before.lowered else _origin(its, before).required
        )
        raised = np.zeros(HOURS_PER_WEEK, dtype=int)
        raised[list(before.raised)] = 1
        lowered = np.zeros(HOURS_PER_WEEK, dtype=int)
        lowered[list(before.lowered)] = 1
        assert list(step) == list(raised - lowered)
    met = [it for it in its if it.evaluation.meets(0.8)]
    assert met
    # The answer is the cheapest plan that met the target and met it again on new seeds; every
    # cheaper one that met it was checked and failed the check.
    assert its[plan.chosen].evaluation.meets(0.8) and plan.checks[plan.chosen].meets(0.8)
    assert plan.check is plan.checks[plan.chosen]
    for it in met:
        if it.schedule.team_hours < plan.team_hours:
            assert not plan.checks[it.iteration].meets(0.8)
    table = plan.iterations_table()
    assert table["chosen"].sum() == 1 and bool(table["chosen"][plan.chosen])


def _origin(its, it):  # type: ignore[no-untyped-def]
    """The plan a trim starts from: the cheapest that met the target up to ``it``."""
    met = [x for x in its[: it.iteration + 1] if x.evaluation.meets(0.8)]
    return min(met, key=lambda x: (x.schedule.team_hours, x.iteration))


def test_a_first_estimate_that_fails_is_raised_where_teams_were_short(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dispatch.plan.requirements as requirements

    # A first estimate of one team an hour falls short of 80% here (two teams are on the day
    # shift today): the loop must raise the hours that failed until the target holds.
    monkeypatch.setattr(
        requirements, "required_teams", lambda demand, *a, **k: np.ones(len(demand), dtype=int)
    )
    plan = plan_staffing(
        city, tmp_path, rules=RULES, time_limit_s=5, trim=False, uniform=False, iterations=6
    )
    first = plan.iterations[0]
    assert not first.evaluation.meets(0.8)
    assert first.raised, "a failing plan must raise some hours"
    failing = set(np.flatnonzero(np.nan_to_num(first.evaluation.hourly_low, nan=1.0) < 0.8))
    assert set(first.raised) <= failing
    assert plan.iterations[1].required.sum() == first.required.sum() + len(first.raised)
    assert plan.met and plan.iterations[plan.chosen].evaluation.meets(0.8)


def test_the_uniform_search_finds_the_fewest_teams_that_meet(city: Path, tmp_path: Path) -> None:
    uniform = search_uniform(
        read_raw(city),
        tmp_path,
        target_share=0.8,
        target_min=20,
        replications=4,
        rules=RULES,
        start=3,
    )
    assert uniform.teams_per_hour is not None
    tried = {n: low for n, _, low, _ in uniform.tried}
    n = uniform.teams_per_hour
    assert tried[n] >= 0.8
    assert n == 1 or tried[n - 1] < 0.8
    assert uniform.team_hours == 168 * n


def test_the_plan_costs_no_more_than_the_best_uniform_plan(planned) -> None:
    _, plan = planned
    assert plan.uniform is not None and plan.uniform.team_hours is not None
    assert plan.team_hours <= plan.uniform.team_hours


def test_evaluate_counts_each_hour_of_the_week_and_excludes_thinned_calls() -> None:
    calls = pd.DataFrame(
        {
            "replication": [0, 0, 0, 1, 1, 1],
            "received_at": pd.to_datetime(
                [
                    "2025-01-06 00:05",  # Monday 00h
                    "2025-01-12 23:50",  # Sunday 23h: hour 167
                    "2025-01-12 23:55",
                    "2025-01-06 00:30",
                    "2025-01-12 23:10",
                    "2025-01-12 23:20",
                ]
            ),
            "outcome": [
                "specialist",
                "specialist",
                "fallback",
                "specialist",
                "thinned",
                "unserved",
            ],
            "response_s": [600.0, 1300.0, 900.0, 500.0, np.nan, np.nan],
            "queue_s": [0.0, 0.0, 700.0, 0.0, np.nan, np.nan],
            "reason": ["", "", "all_busy", "", "", "off_shift"],
        }
    )
    ev = evaluate(calls, 20.0)
    assert list(ev.calls[[0, 167]]) == [2, 3]
    assert ev.hourly[0] == 1.0
    # Hour 167 reaches no one within the target: replication 0's two calls miss (1,300 s is
    # past 1,200 s; the other got the fallback), replication 1's simulated call was unserved.
    assert ev.hourly[167] == 0.0
    assert bool(ev.raisable[167]) and not bool(ev.raisable[0])
    assert np.isnan(ev.hourly[1:167]).all()
    assert ev.share == pytest.approx(((1 / 3) + (1 / 2)) / 2)


def test_bad_targets_are_input_errors(city: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="target share"):
        plan_staffing(city, tmp_path, target_share=1.5)
    with pytest.raises(InputError, match="target minutes"):
        plan_staffing(city, tmp_path, target_min=0)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("dispatch")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600)


def test_the_command_writes_the_plan_its_tables_and_report(city: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli(
        "plan", "staffing", str(city), "--out", str(out), "--lengths", "8",
        "--starts", "3,7,11,15,19,23", "--break-min", "0", "--time-limit-s", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "team-hours/week" in done.stdout
    for name in ("plan.toml", "iterations.csv", "hours.csv", "shifts.csv", "staffing.html"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "staffing.json").read_text())
    assert summary["met"] is True
    assert summary["team_hours_week"] <= summary["uniform_team_hours_week"]
    hours = pd.read_csv(out / "hours.csv")
    assert len(hours) == HOURS_PER_WEEK
    assert hours["teams_on_duty"].sum() == summary["team_hours_week"]
    page = (out / "staffing.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    saved = summary["uniform_team_hours_week"] - summary["team_hours_week"]
    assert f"({saved:,.0f} fewer" in page
    from PIL import Image

    for png in sorted((out / "figures").glob("staffing_*.png")):
        pixels = np.asarray(Image.open(png).convert("L"), dtype=float)
        assert pixels.std() > 10, f"{png.name} looks blank"
    # The plan is a scenario the other commands accept.
    again = run_cli("simulate", str(out / "plan.toml"), "--out", str(tmp_path / "sim"))
    assert again.returncode == 0, again.stderr
    swept = run_cli(
        "sweep", str(out / "plan.toml"), "--out", str(tmp_path / "sweep"),
        "--vary", "policy.fallback_after_min=10,15", "--replications", "1",
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lengths", "8,x"], "--lengths"),
        (["--break-window", "3"], "--break-window"),
        (["--starts", "25"], "start hours"),
        (["--target-share", "2"], "target share"),
    ],
)
def test_bad_options_are_named_and_exit_2(
    city: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    done = run_cli("plan", "staffing", str(city), "--out", str(tmp_path), *args)
    assert done.returncode == 2
    assert message in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_missing_scenario_is_named(tmp_path: Path) -> None:
    done = run_cli("plan", "staffing", str(tmp_path / "nope.toml"), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "nope.toml" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def assert_same_figures(a: object, b: object) -> None:
    """Equal field by field, NaN equal to NaN, arrays by value; file paths aside."""
    import dataclasses

    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        for f in dataclasses.fields(a):
            if f.name != "scenario_path":
                assert_same_figures(getattr(a, f.name), getattr(b, f.name))
    else:
        np.testing.assert_equal(a, b)


def test_worker_processes_give_the_same_plan(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dispatch.sim.run as run_module
    from dispatch.executors import ProcessExecutor

    def plan(out: Path, executor: object = None) -> object:
        return plan_staffing(
            city, out, target_share=0.8, target_min=20, rules=RULES, time_limit_s=5,
            iterations=2, executor=executor,  # type: ignore[arg-type]
        )  # fmt: skip

    here = plan(tmp_path / "here")
    assert here.uniform is not None  # type: ignore[attr-defined]

    def nowhere(scn: object) -> object:
        raise AssertionError("a replay was prepared in this process")

    monkeypatch.setattr(run_module, "prepare", nowhere)  # the workers replay, not this process
    with ProcessExecutor(workers=2) as pool:
        there = plan(tmp_path / "there", pool)
    wall = ["solve_s"]  # the solver's wall time: the one column that may differ
    pd.testing.assert_frame_equal(
        there.iterations_table().drop(columns=wall),  # type: ignore[attr-defined]
        here.iterations_table().drop(columns=wall),  # type: ignore[attr-defined]
    )
    pd.testing.assert_frame_equal(there.hours_table(), here.hours_table())  # type: ignore[attr-defined]
    assert_same_figures(there.check, here.check)  # type: ignore[attr-defined]
    assert_same_figures(there.uniform, here.uniform)  # type: ignore[attr-defined]
    assert (tmp_path / "there" / "plan.toml").read_text().replace("there", "here") == (
        tmp_path / "here" / "plan.toml"
    ).read_text()
