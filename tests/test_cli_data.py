"""``dispatch data check``: the call-log report and its errors, through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dispatch.cli import app, main

DATA = Path(__file__).parent / "data" / "calls"
GOOD = DATA / "good.csv"
SEATTLE = DATA / "seattle_cfs_sample.csv"
SEATTLE_TOML = DATA / "seattle_mapping.toml"
CHICAGO_DST = DATA / "chicago_dst.csv"
CRISIS = "--CRISIS COMPLAINT - GENERAL"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["data", "check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in err


def test_check_a_good_log_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(GOOD), "--timezone", "America/Denver")

    assert code == 0, err
    assert err == ""
    assert f"{GOOD}: 6 calls from 6 rows, 0 rejected" in out
    assert "time zone America/Denver: 2025-07-01 06:40 to 2025-07-01 09:05" in out
    assert "mean calls per hour, by local weekday and hour" in out
    lines = out.splitlines()
    tuesday = next(line for line in lines if line.startswith("Tue "))
    assert len(tuesday.split()) == 1 + 24 + 1  # day, 24 hours, per-day total
    assert "busiest hour: Tue 08:00" in out
    assert "welfare_check" in out and "33.3%" in out
    risk = lines.index(next(line for line in lines if line.startswith("risk ")))
    assert [line.split()[0] for line in lines[risk + 1 : risk + 4]] == ["low", "standard", "high"]
    assert "on_scene_s given for 66.7% of calls" in out


def test_check_with_mapping_file_and_call_type_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        str(SEATTLE),
        "--mapping",
        str(SEATTLE_TOML),
        "--call-type",
        CRISIS,
        "-z",
        "America/Los_Angeles",
    )
    assert code == 0, err
    assert "2 calls from 5 rows, 3 filtered out by call type, 0 rejected" in out
    assert "cad_event_number -> call_id" in out
    assert CRISIS in out


def test_map_options_override_and_json_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = {
        "cad_event_number": "call_id",
        "cad_event_original_time_queued": "received_at",
        "dispatch_latitude": "lat",
        "dispatch_longitude": "lon",
    }
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")

    code, _, err = run(capsys, str(SEATTLE), "--mapping", str(path))
    assert_user_error(code, err, "priority 7 is not 1..4", "row 4")

    code, out, err = run(
        capsys,
        str(SEATTLE),
        "--mapping",
        str(path),
        "--map",
        "priority=",
        "--map",
        "final_call_type=call_type",
    )
    assert code == 0, err
    assert "5 calls from 5 rows" in out


def test_check_only_with_map_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        str(SEATTLE),
        "--map",
        "cad_event_number=call_id",
        "--map",
        "cad_event_original_time_queued=received_at",
        "--map",
        "dispatch_latitude=lat",
        "--map",
        "dispatch_longitude=lon",
        "--map",
        "priority=",
        "--bounds",
        "47.4,-122.5,47.8,-122.2",
    )
    assert code == 0, err
    assert "5 calls" in out


def test_bad_rows_fail_by_default_with_a_table_and_one_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, str(CHICAGO_DST), "--timezone", "America/Chicago")

    assert_user_error(code, err, str(CHICAGO_DST), "2 bad rows", "row 2, column 'received_at'")
    assert "nothing loaded" in out
    assert "nonexistent_time" in out and "ambiguous_time" in out


def test_quarantine_writes_the_rejected_rows_and_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "rejected.csv"
    code, out, err = run(
        capsys,
        str(CHICAGO_DST),
        "-z",
        "America/Chicago",
        "--bad-rows",
        "quarantine",
        "--quarantine-out",
        str(target),
    )
    assert code == 0, err
    assert "4 calls from 6 rows, 2 rejected" in out
    assert f"rejected rows: 2, written to {target}" in out
    assert "ambiguous_time" in out
    assert pd.read_csv(target)["row"].tolist() == [2, 4]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--bounds", "1,2,3"], ["--bounds '1,2,3' is not MINLAT,MINLON,MAXLAT,MAXLON"]),
        (["--bounds", "39.9,-105,39.6,-104"], ["bounds"]),
        (["--map", "latitude"], ["--map 'latitude' is not SRC=DST"]),
        (["--map", "lat=latitude"], ["'latitude', which is not a call-log column"]),
        (["--timezone", "Denver"], ["unknown time zone 'Denver'"]),
        (["--call-type", "nope"], ["no row has a call_type in ['nope']"]),
    ],
)
def test_option_mistakes_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], words: list[str]
) -> None:
    code, _, err = run(capsys, str(GOOD), *args)
    assert_user_error(code, err, *words)


def test_unusable_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 8)
    code, _, err = run(capsys, str(junk))
    assert_user_error(code, err, str(junk), "binary data")

    code, _, err = run(capsys, str(tmp_path / "missing.csv"))
    assert_user_error(code, err, "no such file")

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = run(capsys, str(empty))
    assert_user_error(code, err, "the file is empty")

    no_lon = tmp_path / "no_lon.csv"
    no_lon.write_text("call_id,received_at,lat\nA,2025-01-01,1\n", encoding="utf-8")
    code, _, err = run(capsys, str(no_lon))
    assert_user_error(code, err, "required column 'lon' is missing", "columns found")
    assert err.count("\n") == 1  # one line


def test_bad_mapping_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("lat = ", encoding="utf-8")
    code, _, err = run(capsys, str(GOOD), "--mapping", str(broken))
    assert_user_error(code, err, "not valid TOML")

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"lat": 1}), encoding="utf-8")
    code, _, err = run(capsys, str(GOOD), "--mapping", str(wrong))
    assert_user_error(code, err, "string pairs")

    other = tmp_path / "mapping.yaml"
    other.write_text("lat: lat", encoding="utf-8")
    code, _, err = run(capsys, str(GOOD), "--mapping", str(other))
    assert_user_error(code, err, ".toml or .json")


def test_bad_choice_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["data", "check", str(GOOD), "--bad-rows", "ignore"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(app, ["data", "check", "--help"])
    assert result.exit_code == 0
    for option in ("--timezone", "--map", "--mapping", "--call-type", "--bad-rows", "--bounds"):
        assert option in result.output
