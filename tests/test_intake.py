"""A scenario whose call log has bad rows: quarantine goes on, and the summary says how many."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dispatch.cli import main

BASE = Path(__file__).resolve().parent / "data" / "scenarios" / "base"


def test_quarantined_rows_are_counted_in_the_summary(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    log = pd.read_csv(BASE / "calls.csv", dtype=str)
    log.loc[3, "received_at"] = "not a time"
    log.loc[7, "lat"] = "123.0"
    log.to_csv(tmp_path / "calls.csv", index=False)
    text = (BASE / "scenario.toml").read_text(encoding="utf-8")
    text = text.replace('path = "calls.csv"', 'path = "calls.csv"\nbad_rows = "quarantine"')
    (tmp_path / "scenario.toml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"

    assert main(["simulate", str(tmp_path / "scenario.toml"), "--out", str(out)]) == 0

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["intake"]["input_rows"] == len(log)
    assert summary["intake"]["rejected_rows"] == 2
    rejected = pd.read_csv(summary["intake"]["quarantine_path"])
    assert sorted(rejected["row"].unique().tolist()) == [4, 8]
    calls = pd.read_parquet(out / "calls.parquet")
    # Every good row once per replication; the two bad ones only in the quarantine file.
    assert calls.groupby("replication").size().tolist() == [len(log) - 2] * 2
    assert "2 of" in capsys.readouterr().out


def test_the_default_refuses_a_log_with_bad_rows(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    log = pd.read_csv(BASE / "calls.csv", dtype=str)
    log.loc[3, "received_at"] = "not a time"
    log.to_csv(tmp_path / "calls.csv", index=False)
    shutil.copy(BASE / "scenario.toml", tmp_path / "scenario.toml")
    code = main(["simulate", str(tmp_path / "scenario.toml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code != 0
    assert "row 4" in err and "received_at" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_repeated_fall_back_times_can_be_read_as_first_or_second(tmp_path: Path) -> None:
    from dispatch.calls import CallLogError, load_calls

    log = tmp_path / "fallback.csv"
    log.write_text(
        "call_id,received_at,lat,lon\n"
        "a,2025-11-02T01:30:00,38.63,-90.20\n"
        "b,2025-11-02T03:00:00,38.63,-90.20\n",
        encoding="utf-8",
    )
    with pytest.raises(CallLogError, match=r"row 1.*happens twice"):
        load_calls(log, timezone="America/Chicago")
    first = load_calls(log, timezone="America/Chicago", repeated_times="first").frame
    second = load_calls(log, timezone="America/Chicago", repeated_times="second").frame
    # 01:30 CDT (UTC-5) is an hour before 01:30 CST (UTC-6); 03:00 is the same either way.
    gap = second["received_at"].iloc[0] - first["received_at"].iloc[0]
    assert gap == pd.Timedelta(hours=1)
    assert first["received_at"].iloc[1] == second["received_at"].iloc[1]
    assert main(["data", "check", str(log), "--timezone", "America/Chicago"]) != 0
    assert (
        main(
            [
                "data",
                "check",
                str(log),
                "--timezone",
                "America/Chicago",
                "--repeated-times",
                "second",
            ]
        )
        == 0
    )


def test_a_spring_forward_gap_time_stays_a_bad_row(tmp_path: Path) -> None:
    from dispatch.calls import CallLogError, load_calls

    log = tmp_path / "gap.csv"
    log.write_text("call_id,received_at,lat,lon\na,2025-03-09T02:30:00,38.63,-90.20\n")
    with pytest.raises(CallLogError, match="does not exist"):
        load_calls(log, timezone="America/Chicago", repeated_times="first")
