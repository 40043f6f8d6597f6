"""A scenario whose call log has bad rows: quarantine goes on, and the summary says how many."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

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
