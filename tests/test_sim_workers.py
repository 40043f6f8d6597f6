"""Replications on worker processes or a Dask cluster give what this process gives, bit for bit."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

import dispatch
from dispatch.cli import main
from dispatch.datasets import example_scenario
from dispatch.errors import InputError
from dispatch.executors import ProcessExecutor, SerialExecutor
from dispatch.sim.results import SimulationResult

BASE = Path(__file__).parent / "data" / "scenarios" / "base" / "scenario.toml"


def assert_same(a: SimulationResult, b: SimulationResult) -> None:
    pd.testing.assert_frame_equal(a.calls, b.calls)
    pd.testing.assert_frame_equal(a.teams, b.teams)
    assert (a.events is None) == (b.events is None)
    if a.events is not None and b.events is not None:
        pd.testing.assert_frame_equal(a.events, b.events)
    assert a.summary == b.summary


def test_worker_processes_and_dask_give_what_this_process_gives(dask_scheduler: str) -> None:
    from dispatch.executors import DaskExecutor

    scenario = dispatch.load_scenario(BASE)
    here = dispatch.simulate(scenario, replications=4, event_log=True)
    assert sorted(here.calls["replication"].unique()) == [0, 1, 2, 3]
    finished: list[int] = []
    with ProcessExecutor(workers=2) as pool:
        pool.warm_up()
        on_pool = dispatch.simulate(
            scenario, replications=4, event_log=True, executor=pool, progress=finished.append
        )
    assert sorted(finished) == [0, 1, 2, 3]
    assert_same(on_pool, here)
    with DaskExecutor(dask_scheduler) as dask:
        on_dask = dispatch.simulate(scenario, replications=4, event_log=True, executor=dask)
    assert_same(on_dask, here)
    with SerialExecutor() as serial:
        assert_same(
            dispatch.simulate(scenario, replications=4, event_log=True, executor=serial), here
        )


def test_the_replications_run_in_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    import dispatch.sim.run as run_module

    scenario = dispatch.load_scenario(BASE)
    here = dispatch.simulate(scenario, replications=2)

    def nowhere(scn: object) -> object:
        raise AssertionError("the scenario was prepared in this process")

    monkeypatch.setattr(run_module, "prepare", nowhere)
    with ProcessExecutor(workers=2) as pool:
        assert_same(dispatch.simulate(scenario, replications=2, executor=pool), here)


class Backwards:
    """An executor that finishes the last task first (in this process)."""

    description = "backwards"

    def map_unordered(self, fn, items):  # type: ignore[no-untyped-def]
        for position in reversed(range(len(items))):
            yield position, fn(items[position])

    def close(self) -> None:
        return None

    def terminate(self) -> None:
        return None

    def __enter__(self) -> Backwards:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_results_are_in_replication_order_whatever_order_they_finish_in() -> None:
    scenario = dispatch.load_scenario(BASE)
    finished: list[int] = []
    backwards = dispatch.simulate(
        scenario, replications=3, executor=Backwards(), progress=finished.append
    )
    assert finished == [2, 1, 0]
    assert_same(backwards, dispatch.simulate(scenario, replications=3))


def test_a_scenario_changed_in_python_reaches_the_workers_as_it_is() -> None:
    scenario = dispatch.load_scenario(BASE)
    fewer = dataclasses.replace(scenario, teams=scenario.teams[:1], seed=11)
    with ProcessExecutor(workers=2) as pool:
        on_pool = dispatch.simulate(fewer, replications=3, executor=pool)
    assert_same(on_pool, dispatch.simulate(fewer, replications=3))
    assert set(on_pool.teams["team_id"]) != set(dispatch.simulate(scenario).teams["team_id"])


def test_an_input_error_in_a_worker_reads_as_it_does_here() -> None:
    scenario = dispatch.load_scenario(example_scenario("denver_downtown"))
    far = dataclasses.replace(scenario.stations[0], lat=40.5, lon=-104.0)
    broken = dataclasses.replace(scenario, stations=(far, *scenario.stations[1:]))
    with pytest.raises(InputError) as here:
        dispatch.simulate(broken, replications=2)
    with ProcessExecutor(workers=2) as pool, pytest.raises(InputError) as there:
        dispatch.simulate(broken, replications=2, executor=pool)
    assert str(there.value) == str(here.value)
    assert "stations" in str(there.value) and "nearest road node" in str(there.value)


def test_one_replication_runs_here_whatever_the_executor() -> None:
    class Refusing(ProcessExecutor):
        def map_unordered(self, fn, items):  # type: ignore[no-untyped-def]
            raise AssertionError("one replication was sent to a worker")

    scenario = dispatch.load_scenario(BASE)
    with Refusing(workers=2) as pool:
        result = dispatch.simulate(scenario, replications=1, executor=pool)
    assert_same(result, dispatch.simulate(scenario, replications=1))
    with Refusing(workers=2) as pool, pytest.raises(AssertionError, match="sent to a worker"):
        dispatch.simulate(scenario, replications=2, executor=pool)  # the refusal is live


def test_cli_workers_write_the_same_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    assert main(["simulate", str(BASE), "--out", str(here), "--replications", "3"]) == 0
    argv = ["simulate", str(BASE), "--out", str(there), "--replications", "3", "--workers", "2"]
    assert main([*argv, "--events"]) == 0
    capsys.readouterr()
    for name in ("calls.parquet", "teams.parquet"):
        assert (there / name).read_bytes() == (here / name).read_bytes(), name
    assert json.loads((here / "summary.json").read_text()) == json.loads(
        (there / "summary.json").read_text()
    )
    assert len(pd.read_parquet(there / "events.parquet")) > 0


def test_cli_workers_and_scheduler_together_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", str(BASE), "--out", str(tmp_path / "x"), "--workers", "2"]
    assert main([*argv, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "not both" in err and "Traceback" not in err
    assert main(["simulate", str(BASE), "--out", str(tmp_path / "y"), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_a_bad_scenario_with_workers_is_one_clear_error_and_no_worker_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import multiprocessing

    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.read_text().replace('path = "calls.csv"', 'path = "missing.csv"'))
    argv = ["simulate", str(bad), "--out", str(tmp_path / "out"), "--workers", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "missing.csv" in err and "Traceback" not in err
    assert multiprocessing.active_children() == []
