"""Sweeps: the variant grammar, common random numbers, executors that agree, resuming."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from dispatch.cli import main
from dispatch.executors import ProcessExecutor, SerialExecutor, make_executor
from dispatch.sweep import (
    SweepError,
    SweepInterruptedError,
    parse_key,
    parse_value,
    parse_vary,
    plan_sweep,
    run_sweep,
)

RESULT_FILES = (
    "variants.parquet",
    "replications.parquet",
    "teams.parquet",
    "duty.parquet",
    "response_times.parquet",
    "summary.json",
)

SMALL = """
name = "small city"
seed = 11
replications = 3
timezone = "America/Chicago"

[network]
kind = "straight_line"
speed_kph = 40
circuity = 1.3

[calls.synthetic]
calls_per_day = 30
days = 14
locations = [[38.63, -90.20, 1.0], [38.60, -90.26, 1.0], [38.67, -90.24, 1.0]]
risk_mix = { low = 0.4, standard = 0.45, high = 0.15 }

[service]
transport_share = 0

[policy]
fallback_after_min = 10
target_response_min = 20

[shifts.day]
start = "08:00"
hours = 12

[[stations]]
id = "hq"
lat = 38.6332
lon = -90.2164

[[teams]]
id = "T"
count = 1
kind = "co_responder"
cit = true
station = "hq"
shift = "day"

[[teams]]
id = "N"
count = 1
kind = "co_responder"
cit = true
station = "hq"
"""


def write_scenario(folder: Path, extra: str = "", name: str = "small.toml") -> Path:
    path = folder / name
    path.write_text(SMALL + extra, encoding="utf-8")
    return path


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return write_scenario(tmp_path)


def result_bytes(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in RESULT_FILES}


# -- the grammar ---------------------------------------------------------------------------
def test_keys_split_on_dots_and_brackets() -> None:
    assert parse_key("teams.CRU-day.count") == ["teams", "CRU-day", "count"]
    assert parse_key("teams.0.count") == ["teams", "0", "count"]
    assert parse_key("teams[unit.a].count") == ["teams", "unit.a", "count"]
    assert parse_key("policy.fallback_after_min") == ["policy", "fallback_after_min"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("teams..count", "empty part"),
        ("seed", "common random numbers"),
        ("sweep.vary", "cannot vary itself"),
        ("replications", "--replications"),
    ],
)
def test_bad_keys_are_refused(key: str, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        parse_key(key)


def test_values_are_toml_scalars_or_text() -> None:
    assert parse_value("4") == 4
    assert parse_value("0.5") == 0.5
    assert parse_value("false") is False
    assert parse_value("09:00") == "09:00"
    assert parse_value("'day'") == "day"
    assert parse_vary("teams.0.count=2..12:5") == ("teams.0.count", [2, 7, 12])
    assert parse_vary(" policy.fallback_after_min = 5, 10 ") == (
        "policy.fallback_after_min",
        [5, 10],
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("teams.0.count", "expected KEY=V1,V2"),
        ("=1,2", "expected KEY=V1,V2"),
        ("teams.0.count=5..2", "A <= B"),
        ("teams.0.count=1,,2", "empty value"),
    ],
)
def test_bad_vary_options_are_refused(option: str, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        parse_vary(option)


# -- planning ------------------------------------------------------------------------------
def test_grid_is_every_combination_first_key_slowest(scenario: Path) -> None:
    plan = plan_sweep(
        scenario,
        {"teams.T.count": [1, 2, 3], "policy.fallback_after_min": [5, 10]},
        replications=2,
    )
    assert [v.values for v in plan.variants] == [
        {"teams.T.count": t, "policy.fallback_after_min": f} for t in (1, 2, 3) for f in (5, 10)
    ]
    assert plan.variants[3].label == "teams.T.count=2, policy.fallback_after_min=10"
    # a table key overrides only itself; a list element replaces the whole list
    assert plan.variants[3].overrides["policy"] == {"fallback_after_min": 10}
    assert [g["count"] for g in plan.variants[3].overrides["teams"]] == [2, 1]


def test_list_elements_by_id_and_by_position_are_the_same(scenario: Path) -> None:
    by_id = plan_sweep(scenario, {"teams.N.count": [3]})
    by_index = plan_sweep(scenario, {"teams.1.count": [3]})
    assert by_id.variants[0].overrides == by_index.variants[0].overrides


def test_file_sweep_table_with_together_and_cli_grid(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path,
        """
[sweep]
together = { "teams.T.count" = [1, 2], "teams.N.count" = [2, 3] }
vary = { "policy.fallback_after_min" = [5, 10, 15] }
replications = 4
target_share = 0.6
target_min = 25
""",
    )
    plan = plan_sweep(path, [("policy.fallback_after_min", [0, 30])])
    assert plan.replications == 4
    assert (plan.target_share, plan.target_min) == (0.6, 25.0)
    assert [
        (
            v.values["teams.T.count"],
            v.values["teams.N.count"],
            v.values["policy.fallback_after_min"],
        )
        for v in plan.variants
    ] == [(1, 2, 0), (1, 2, 30), (2, 3, 0), (2, 3, 30)]
    with pytest.raises(SweepError, match="together"):
        plan_sweep(path, {"teams.T.count": [4]})


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ({"teams.X.count": [2]}, r"no element of 'teams' has id 'X' \(ids: T, N\)"),
        ({"teams.5.count": [2]}, "has 2 element"),
        ({"teams.T.count": ["many"]}, r"sweep variant 0: teams.T.count=many\).*teams.0.count"),
        ({"policy.fallbak_after_min": [5]}, "policy.fallbak_after_min: unknown key"),
        ({"policy.fallback_after_min.x": [5]}, "is a single value"),
        ({"teams.T.count": []}, "no values"),
        ({"shifts.day.start": ["25:00"]}, "not a clock time"),
        ({"teams.T.count": [1], "teams.0.count": [2]}, "name the same value"),
    ],
)
def test_invalid_sweeps_say_what_and_where(
    scenario: Path, vary: dict[str, list[object]], message: str
) -> None:
    with pytest.raises(SweepError, match=message):
        plan_sweep(scenario, vary)


def test_invalid_sweep_table_in_the_file(tmp_path: Path) -> None:
    path = write_scenario(
        tmp_path, '\n[sweep]\ntogether = { "teams.T.count" = [1, 2], "teams.N.count" = [1] }\n'
    )
    with pytest.raises(Exception, match="same length"):
        plan_sweep(path)
    path = write_scenario(tmp_path, '\n[sweep]\nvary = { "teams.T.count" = [] }\n', "b.toml")
    with pytest.raises(Exception, match=r"sweep\.vary\.teams\.T\.count"):
        plan_sweep(path)
    path = write_scenario(tmp_path, "\n[sweep]\nvaries = {}\n", "c.toml")
    with pytest.raises(Exception, match=r"sweep\.varies: unknown key"):
        plan_sweep(path)


def test_a_variant_with_a_missing_station_fails_clearly(scenario: Path) -> None:
    plan = plan_sweep(scenario, {"teams.T.station": ["hq", "nowhere"]}, replications=1)
    with pytest.raises(Exception, match=r"sweep variant 1 .*station 'nowhere' does not exist"):
        run_sweep(plan, scenario.parent / "out")


# -- common random numbers -----------------------------------------------------------------
def test_adding_a_team_never_makes_the_mean_response_worse_beyond_noise(
    scenario: Path,
) -> None:
    plan = plan_sweep(scenario, {"teams.T.count": [1, 2, 3, 4]}, replications=6)
    out = scenario.parent / "out"
    run_sweep(plan, out)
    reps = pd.read_parquet(out / "replications.parquet")
    table = reps.pivot_table(index="replication", columns="variant", values="mean_response_min")
    for v in range(3):
        diff = (table[v + 1] - table[v]).to_numpy()  # paired: same streams, one more team
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
        assert diff.mean() <= half + 1e-9, (v, diff)
    # and more teams reach more calls, replication by replication, at the first steps
    share = reps.pivot_table(index="replication", columns="variant", values="specialist_share")
    assert (share[1] >= share[0]).all()


def test_replication_k_of_every_variant_sees_the_same_calls(scenario: Path) -> None:
    plan = plan_sweep(scenario, {"teams.T.count": [1, 3]}, replications=2)
    out = scenario.parent / "out"
    run_sweep(plan, out)
    reps = pd.read_parquet(out / "replications.parquet")
    calls = reps.pivot_table(index="replication", columns="variant", values="calls")
    assert (calls[0] == calls[1]).all()
    assert calls[0].nunique() == 2  # but replications differ


# -- executors -----------------------------------------------------------------------------
def test_serial_process_pool_and_dask_give_identical_results(
    scenario: Path, dask_scheduler: str
) -> None:
    from dispatch.executors import DaskExecutor

    plan = plan_sweep(scenario, {"teams.T.count": [1, 2, 3]}, replications=3, target_share=0.5)
    root = scenario.parent
    run_sweep(plan, root / "serial", executor=SerialExecutor())
    with ProcessExecutor(workers=2) as pool:
        run_sweep(plan, root / "pool", executor=pool)
    with DaskExecutor(dask_scheduler) as dask:
        assert "2 workers" in dask.description
        run_sweep(plan, root / "dask", executor=dask)
    serial = result_bytes(root / "serial")
    assert result_bytes(root / "pool") == serial
    assert result_bytes(root / "dask") == serial


def test_prepare_runs_once_per_variant_per_worker(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dispatch.sim.prepare as prepare_module
    import dispatch.sweep.tasks as tasks_module

    calls: list[int] = []
    real = prepare_module.prepare

    def counting(scn: object) -> object:
        calls.append(1)
        return real(scn)  # type: ignore[arg-type]

    monkeypatch.setattr(prepare_module, "prepare", counting)
    monkeypatch.setattr(tasks_module, "PREPARED", tasks_module.PreparedCache())
    plan = plan_sweep(scenario, {"teams.T.count": [1, 2]}, replications=4)
    run_sweep(plan, scenario.parent / "out")
    assert len(calls) == 2


def test_executor_choice() -> None:
    assert isinstance(make_executor(workers=1), SerialExecutor)
    assert isinstance(make_executor(workers=3), ProcessExecutor)
    with pytest.raises(Exception, match="not both"):
        make_executor(workers=2, scheduler="tcp://127.0.0.1:1")


# -- resuming ------------------------------------------------------------------------------
def test_an_interrupted_sweep_resumes_and_matches_an_uninterrupted_one(scenario: Path) -> None:
    plan = plan_sweep(scenario, {"teams.T.count": [1, 2, 3]}, replications=3, target_share=0.5)
    root = scenario.parent
    whole = run_sweep(plan, root / "whole")
    assert whole.complete and whole.computed == 9

    first = run_sweep(plan, root / "cut", max_tasks=4)
    assert not first.complete and first.done == 4
    assert not (root / "cut" / "summary.json").exists()

    seen: list[tuple[int, int]] = []

    def ctrl_c(variant: int, replication: int) -> None:
        seen.append((variant, replication))
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterruptedError, match="6 of 9 runs are saved"):
        run_sweep(plan, root / "cut", on_result=ctrl_c)
    assert seen == [(1, 1), (1, 2)]
    assert len(list((root / "cut" / "parts").glob("*.json"))) == 6
    assert not list((root / "cut" / "parts").glob(".*tmp"))

    last = run_sweep(plan, root / "cut")
    assert last.complete and last.computed == 3
    assert result_bytes(root / "cut") == result_bytes(root / "whole")

    again = run_sweep(plan, root / "cut")  # nothing left to do: same files again
    assert again.computed == 0
    assert result_bytes(root / "cut") == result_bytes(root / "whole")


def test_more_replications_reuse_the_ones_done(scenario: Path) -> None:
    out = scenario.parent / "out"
    run_sweep(plan_sweep(scenario, {"teams.T.count": [1, 2]}, replications=2), out)
    more = run_sweep(plan_sweep(scenario, {"teams.T.count": [1, 2]}, replications=3), out)
    assert more.computed == 2
    assert more.summary is not None and more.summary.replications == 3


def test_a_rerun_with_other_inputs_refuses(scenario: Path) -> None:
    out = scenario.parent / "out"
    run_sweep(plan_sweep(scenario, {"teams.T.count": [1, 2]}, replications=1), out)
    with pytest.raises(SweepError, match="variants differ"):
        run_sweep(plan_sweep(scenario, {"teams.T.count": [1, 3]}, replications=1), out)
    with pytest.raises(SweepError, match=r"target was 20\.0 min"):
        run_sweep(
            plan_sweep(scenario, {"teams.T.count": [1, 2]}, replications=1, target_min=15), out
        )
    scenario.write_text(scenario.read_text().replace("seed = 11", "seed = 12"))
    with pytest.raises(SweepError, match="scenario file or a data file it names has changed"):
        run_sweep(plan_sweep(scenario, {"teams.T.count": [1, 2]}, replications=1), out)


def test_a_directory_with_other_files_is_refused(scenario: Path) -> None:
    out = scenario.parent / "sim"
    out.mkdir()
    (out / "calls.parquet").write_bytes(b"")
    with pytest.raises(SweepError, match="not a sweep"):
        run_sweep(plan_sweep(scenario, replications=1), out)


# -- outputs and the answer ----------------------------------------------------------------
def test_outputs_and_the_smallest_staffing_meeting_the_target(scenario: Path) -> None:
    plan = plan_sweep(
        scenario, {"teams.T.count": [1, 2, 3]}, replications=3, target_share=0.62, keep_calls=True
    )
    out = scenario.parent / "out"
    result = run_sweep(plan, out)
    summary = json.loads((out / "summary.json").read_text())
    assert result.summary is not None and summary == result.summary.to_dict()
    variants = pd.read_parquet(out / "variants.parquet")
    assert set(variants.columns) >= {
        "variant",
        "label",
        "teams.T.count",
        "teams",
        "team_hours_week",
        "metric",
        "mean",
        "ci95_low",
        "ci95_high",
    }
    within = variants[variants["metric"] == "specialist_within_target_share"].set_index("variant")
    meets = within["ci95_low"] >= 0.62
    expected = next((v for v in within.index if meets[v]), None)
    assert summary["target"]["answer"] == expected
    assert [v["meets_target"] for v in summary["variants"]] == meets.tolist()
    assert [v["teams"] for v in summary["variants"]] == [2, 3, 4]
    # T works 12 h a day, N around the clock
    assert summary["variants"][0]["team_hours_week"] == pytest.approx(168 + 84, abs=1)
    calls = pd.read_parquet(out / "calls.parquet")
    assert list(calls.columns[:3]) == ["variant", "call_id", "replication"]
    assert len(calls) == 3 * 3 * int(summary["variants"][0]["metrics"]["calls"]["mean"] or 0)
    duty = pd.read_parquet(out / "duty.parquet")
    day = duty[(duty["variant"] == 2) & (duty["hour_of_week"] == 10)]  # Monday 10:00
    night = duty[(duty["variant"] == 2) & (duty["hour_of_week"] == 2)]  # Monday 02:00
    assert float(day["teams_on_duty"].iloc[0]) == 4.0
    assert float(night["teams_on_duty"].iloc[0]) == 1.0


def test_cli_sweep_prints_the_table_and_the_answer(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = scenario.parent / "out"
    code = main(
        [
            "sweep",
            str(scenario),
            "--vary",
            "teams.T.count=1..2",
            "--replications",
            "3",
            "--workers",
            "1",
            "--target-share",
            "0.3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "teams.T.count" in printed.out
    assert "Smallest staffing that meets it: variant " in printed.out
    assert (out / "summary.json").is_file()


def test_cli_sweep_errors_are_one_line(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sweep", str(scenario), "--vary", "teams.Z.count=1", "--out", "x"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: sweep key 'teams.Z.count': no element of 'teams' has id 'Z'")
    assert "Traceback" not in err


def test_restating_the_target_or_replications_in_the_file_still_resumes(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, '\n[sweep]\nvary = { "teams.T.count" = [1, 2] }\n')
    out = tmp_path / "out"
    run_sweep(plan_sweep(path, replications=2), out)
    path.write_text(path.read_text() + "replications = 3\ntarget_share = 0.4\n")
    again = run_sweep(plan_sweep(path), out)
    assert again.computed == 2
    assert again.summary is not None and again.summary.target.share == 0.4


def test_scheduler_without_dask_installed_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(Exception, match=r"install the 'distributed' extra"):
        make_executor(scheduler="tcp://127.0.0.1:8786")


def test_cli_dry_run_lists_the_variants(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--vary", "policy.fallback_after_min=0,10", "--out", "unused", "--dry-run"]
    code = main(["sweep", str(scenario), *args])
    assert code == 0
    out = capsys.readouterr().out
    assert "2 variant(s) x 3 replication(s)" in out
    assert "1: policy.fallback_after_min=10" in out
    assert not Path("unused").exists()
