"""``dispatch simulate SCENARIO --out DIR``: results on success, one clear line on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dispatch.cli import main
from dispatch.sim.results import CALL_COLUMNS

DATA = Path(__file__).parent / "data" / "scenarios"
BASE = DATA / "base" / "scenario.toml"
HEADER = "call_id,received_at,lat,lon,call_type,priority,risk,on_scene_s,transport"
GOOD_ROW = "A1,2025-03-03T09:00:00,38.6300,-90.2100,welfare_check,2,standard,1800,false"


def test_simulate_writes_calls_teams_and_summary(tmp_path: Path, capsys):
    out = tmp_path / "results"
    assert main(["simulate", str(BASE), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "test base: 2 replication(s)" in captured.out
    assert "calls.parquet" in captured.out
    assert captured.err == ""
    calls = pd.read_parquet(out / "calls.parquet")
    assert list(calls.columns) == CALL_COLUMNS
    assert len(calls) == 2 * 40
    teams = pd.read_parquet(out / "teams.parquet")
    assert sorted(teams["team_id"].unique()) == [
        "CR-day-1",
        "CR-day-2",
        "CR-eve",
        "cit",
        "clinician",
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "test base" and summary["replications"] == 2
    assert not (out / "events.parquet").exists()


def test_simulate_options_override_the_file_and_add_the_event_log(tmp_path: Path):
    out = tmp_path / "results"
    argv = ["simulate", str(BASE), "--out", str(out), "--replications", "1", "--seed", "8"]
    assert main([*argv, "--events"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["replications"], summary["seed"]) == (1, 8)
    events = pd.read_parquet(out / "events.parquet")
    assert list(events.columns) == ["replication", "time_s", "event", "call_id", "team_id"]
    assert (events["event"] == "received").sum() == 40


def scenario_with_log(tmp_path: Path, log_text: str | bytes, name: str = "calls.csv") -> Path:
    """The base scenario, with its call log replaced by ``log_text``."""
    log = tmp_path / name
    if isinstance(log_text, bytes):
        log.write_bytes(log_text)
    else:
        log.write_text(log_text, encoding="utf-8")
    text = BASE.read_text(encoding="utf-8").replace('path = "calls.csv"', f'path = "{name}"')
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_failing(path: Path, tmp_path: Path, capsys) -> str:
    code = main(["simulate", str(path), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    assert captured.err.startswith("error: ")
    assert not (tmp_path / "out" / "calls.parquet").exists()
    return captured.err


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # unparseable time in data row 2
        (
            [GOOD_ROW, "A2,next tuesday,38.63,-90.21,welfare_check,2,standard,,"],
            ["row 2", "column 'received_at'", "'next tuesday'"],
        ),
        # longitude out of range in data row 2
        (
            [GOOD_ROW, "A2,2025-03-03T10:00:00,38.63,-290.21,suicidal,1,high,,"],
            ["row 2", "column 'lon'", "-290.21"],
        ),
        # latitude out of range in data row 1
        (
            ["A1,2025-03-03T09:00:00,98.63,-90.21,suicidal,1,high,,", GOOD_ROW.replace("A1", "A2")],
            ["row 1", "column 'lat'", "98.63"],
        ),
        # the same call_id with different details: both rows are named
        (
            [GOOD_ROW, GOOD_ROW.replace("09:00:00", "11:00:00")],
            ["row 1, column 'call_id'", "row 2, column 'call_id'", "'A1'"],
        ),
        # a required value left empty
        (
            [GOOD_ROW, "A2,2025-03-03T10:00:00,,-90.21,suicidal,1,high,,"],
            ["row 2", "column 'lat'"],
        ),
    ],
    ids=["unparseable-time", "lon-out-of-range", "lat-out-of-range", "duplicate-id", "empty-lat"],
)
def test_bad_rows_exit_non_zero_naming_file_row_and_column(tmp_path, capsys, rows, expected):
    path = scenario_with_log(tmp_path, "\n".join([HEADER, *rows]) + "\n")
    err = run_failing(path, tmp_path, capsys)
    assert str(tmp_path / "calls.csv") in err
    for part in expected:
        assert part in err, f"{part!r} not in {err!r}"


def test_missing_required_column_names_file_and_column(tmp_path, capsys):
    header = HEADER.replace("lon,", "")
    row = GOOD_ROW.replace("-90.2100,", "")
    err = run_failing(scenario_with_log(tmp_path, f"{header}\n{row}\n"), tmp_path, capsys)
    assert str(tmp_path / "calls.csv") in err
    assert "column 'lon'" in err and "missing" in err


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (f"{HEADER}\n".encode(), "no data rows")],
    ids=["empty-file", "header-only"],
)
def test_empty_call_log_is_an_error(tmp_path, capsys, content: bytes, words: str):
    err = run_failing(scenario_with_log(tmp_path, content), tmp_path, capsys)
    assert str(tmp_path / "calls.csv") in err and words in err


def test_missing_call_log_is_an_error(tmp_path, capsys):
    path = scenario_with_log(tmp_path, "", name="calls.csv")
    (tmp_path / "calls.csv").unlink()
    err = run_failing(path, tmp_path, capsys)
    assert "calls.csv" in err


def test_bad_scenario_file_is_an_error_without_traceback(tmp_path, capsys):
    shutil.copy(DATA / "base" / "calls.csv", tmp_path / "calls.csv")
    text = BASE.read_text(encoding="utf-8").replace("seed = 3", "seed = 3\nsead = 4")
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    err = run_failing(path, tmp_path, capsys)
    assert str(path) in err and "sead: unknown key" in err
    err = run_failing(tmp_path / "nowhere.toml", tmp_path, capsys)
    assert "nowhere.toml" in err
