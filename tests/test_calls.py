"""Call-log loading and validation: `dispatch.calls.load_calls`.

Each test reads as a rule of the call-log contract: what a good log turns into, and how every
kind of bad input is reported (file, row, column, value) or quarantined.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from dispatch.calls import (
    FRAME_COLUMNS,
    PROBLEM_CODES,
    PROBLEM_COLUMNS,
    CallLog,
    CallLogError,
    load_calls,
    problem_counts,
)
from dispatch.errors import InputError
from dispatch.model import RiskLevel

DATA = Path(__file__).parent / "data" / "calls"
GOOD = DATA / "good.csv"
SEATTLE = DATA / "seattle_cfs_sample.csv"
CHICAGO_DST = DATA / "chicago_dst.csv"
HEADER = "call_id,received_at,lat,lon"
SEATTLE_MAPPING = {
    "cad_event_number": "call_id",
    "cad_event_original_time_queued": "received_at",
    "dispatch_latitude": "lat",
    "dispatch_longitude": "lon",
    "final_call_type": "call_type",
    "priority": "",
}
CRISIS = "--CRISIS COMPLAINT - GENERAL"
SUICIDE = "--SUICIDE - IP/JO SUICIDAL PERSON AND ATTEMPTS"
DENVER_BOUNDS = (39.6, -105.1, 39.9, -104.6)


def write(tmp_path: Path, text: str, name: str = "calls.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_rows(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def problem_rows(error: CallLogError, code: str) -> list[int]:
    return sorted(error.problems.loc[error.problems["code"] == code, "row"].tolist())


# --------------------------------------------------------------------------------------------
# a good log


def test_good_log_has_the_contract_columns_and_dtypes() -> None:
    log = load_calls(GOOD, timezone="America/Denver")

    assert isinstance(log, CallLog)
    assert list(log.frame.columns) == list(FRAME_COLUMNS)
    dtypes = log.frame.dtypes
    assert pd.api.types.is_string_dtype(dtypes["call_id"])
    assert str(dtypes["received_at"]) == "datetime64[ns, America/Denver]"
    assert dtypes["lat"] == np.float64
    assert dtypes["lon"] == np.float64
    assert pd.api.types.is_string_dtype(dtypes["call_type"])
    assert dtypes["priority"] == np.int8
    assert pd.api.types.is_string_dtype(dtypes["risk"])
    assert dtypes["on_scene_s"] == np.float64
    assert str(dtypes["transport"]) == "boolean"
    assert dtypes["row"] == np.int64
    assert len(log) == 6
    assert log.input_rows == 6
    assert log.filtered_out == 0
    assert log.rejected.empty
    assert log.problems.empty
    assert log.source == str(GOOD)
    assert log.timezone == "America/Denver"


def test_good_log_is_sorted_by_time_and_keeps_file_order_on_ties() -> None:
    frame = load_calls(GOOD, timezone="America/Denver").frame

    assert frame["received_at"].is_monotonic_increasing
    assert frame["call_id"].tolist() == [
        "DEN-0002",  # 06:40
        "DEN-0004",  # 07:00
        "DEN-0005",  # 14:00Z = 08:00 MDT
        "DEN-0001",  # 08:15, row 1
        "DEN-0006",  # 08:15, row 6
        "DEN-0003",  # 09:05:30-06:00 = 09:05:30 MDT
    ]
    assert frame["row"].tolist() == [2, 4, 5, 1, 6, 3]
    assert frame.index.equals(pd.RangeIndex(6))


def test_good_log_normalizes_values_and_fills_defaults() -> None:
    frame = load_calls(GOOD, timezone="America/Denver").frame.set_index("call_id")

    assert "DEN-0004" in frame.index  # whitespace trimmed
    assert frame.loc["DEN-0002", "priority"] == 2
    assert frame.loc["DEN-0002", "risk"] == "standard"
    assert frame.loc["DEN-0002", "call_type"] == "welfare_check"
    assert frame.loc["DEN-0004", "call_type"] == ""
    assert math.isnan(frame.loc["DEN-0002", "on_scene_s"])
    assert frame.loc["DEN-0003", "on_scene_s"] == 1800.5
    assert frame.loc["DEN-0003", "risk"] == "low"  # " Low " -> low
    assert frame.loc["DEN-0004", "risk"] == "standard"  # STANDARD -> standard
    transport = frame["transport"]
    assert bool(transport["DEN-0001"]) is True
    assert bool(transport["DEN-0003"]) is False  # "No"
    assert bool(transport["DEN-0004"]) is True  # "1"
    assert bool(transport["DEN-0005"]) is False  # "FALSE"
    assert bool(transport["DEN-0006"]) is True  # "yes"
    assert transport.isna()["DEN-0002"]
    assert "narrative" not in frame.columns  # extra columns are dropped, not an error


def test_times_without_offset_are_local_and_times_with_offset_are_converted() -> None:
    frame = load_calls(GOOD, timezone="America/Denver").frame.set_index("call_id")
    at = frame["received_at"]

    assert at["DEN-0001"] == pd.Timestamp("2025-07-01 08:15", tz="America/Denver")
    assert at["DEN-0001"].tz_convert("UTC") == pd.Timestamp("2025-07-01 14:15", tz="UTC")
    assert at["DEN-0004"] == pd.Timestamp("2025-07-01 07:00", tz="America/Denver")
    # 14:00Z is 08:00 MDT; 09:05:30-06:00 is 09:05:30 MDT.
    assert at["DEN-0005"] == pd.Timestamp("2025-07-01 08:00", tz="America/Denver")
    assert at["DEN-0003"] == pd.Timestamp("2025-07-01 09:05:30", tz="America/Denver")


def test_the_same_file_in_utc_reads_naive_times_as_utc(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,39.7,-104.9"))
    log = load_calls(path)
    assert log.frame["received_at"].iloc[0] == pd.Timestamp("2025-07-01 08:15", tz="UTC")
    assert str(log.frame["received_at"].dtype) == "datetime64[ns, UTC]"


def test_received_s_counts_seconds_from_local_midnight_by_default() -> None:
    log = load_calls(GOOD, timezone="America/Denver")

    seconds = log.received_s()
    assert seconds.dtype == np.float64
    assert seconds[0] == 6 * 3600 + 40 * 60  # 06:40 local
    assert np.all(np.diff(seconds) >= 0)
    from_utc = log.received_s("2025-07-01T12:00:00Z")  # 06:00 MDT
    assert from_utc[0] == 40 * 60


def test_to_calls_gives_model_calls() -> None:
    calls = load_calls(GOOD, timezone="America/Denver").to_calls()
    assert [c.call_id for c in calls][:2] == ["DEN-0002", "DEN-0004"]
    assert calls[0].risk is RiskLevel.STANDARD
    assert calls[0].received_s == 6 * 3600 + 40 * 60


def test_gzip_csv_and_utf8_byte_order_mark_are_read(tmp_path: Path) -> None:
    text = csv_rows("A,2025-07-01T08:15:00,39.7,-104.9", "B,2025-07-01T08:16:00,39.7,-104.9")
    gz = tmp_path / "calls.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())

    assert len(load_calls(gz)) == 2
    assert load_calls(bom).frame["call_id"].tolist() == ["A", "B"]


def test_blank_lines_are_skipped_and_rows_still_match_lines(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,39.7,-104.9", "", "B,bad,39.7,-104.9"))
    with pytest.raises(CallLogError) as caught:
        load_calls(path)
    assert caught.value.problems["row"].tolist() == [3]  # line 4 of the file
    log = load_calls(path, bad_rows="quarantine")
    assert log.input_rows == 2


# --------------------------------------------------------------------------------------------
# Parquet


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "call_id": [101, 102],
            "received_at": pd.to_datetime(["2025-07-01 14:15", "2025-07-01 15:00"]).tz_localize(
                "UTC"
            ),
            "lat": [39.7, 39.8],
            "lon": [-104.9, -104.95],
            "priority": [1, 4],
            "transport": [True, False],
            "on_scene_s": [60.0, None],
        }
    )
    path = tmp_path / "calls.parquet"
    frame.to_parquet(path)

    log = load_calls(path, timezone="America/Denver")

    assert log.frame["call_id"].tolist() == ["101", "102"]
    assert log.frame["received_at"].iloc[0] == pd.Timestamp("2025-07-01 08:15", tz="America/Denver")
    assert log.frame["priority"].tolist() == [1, 4]
    assert log.frame["transport"].tolist() == [True, False]
    assert str(log.frame["received_at"].dtype) == "datetime64[ns, America/Denver]"


def test_parquet_with_naive_timestamps_and_text(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "call_id": ["a", "b", "c"],
            "received_at": pd.to_datetime(
                ["2025-03-09 01:30", "2025-03-09 02:30", "2025-03-09 00:00"]
            ),
            "lat": ["41.9", "41.9", "91"],
            "lon": [-87.6, -87.6, -104.9],
        }
    )
    path = tmp_path / "calls.pq"
    frame.to_parquet(path)

    with pytest.raises(CallLogError) as caught:
        load_calls(path, timezone="America/Chicago")
    assert problem_rows(caught.value, "nonexistent_time") == [2]
    assert problem_rows(caught.value, "out_of_range") == [3]


# --------------------------------------------------------------------------------------------
# mapping and call-type filter


def test_mapping_reads_an_open_data_export() -> None:
    log = load_calls(SEATTLE, mapping=SEATTLE_MAPPING, timezone="America/Los_Angeles")

    assert len(log) == 5
    assert log.frame["call_id"].iloc[0] == "2024000012345"
    assert log.frame["call_type"].iloc[0] == CRISIS  # the mapped column wins over `call_type`
    assert set(log.frame["priority"]) == {2}  # the export's priority is ignored
    assert log.frame["lat"].iloc[0] == 47.69
    assert log.frame["received_at"].iloc[0] == pd.Timestamp(
        "2024-01-05 13:22:04", tz="America/Los_Angeles"
    )
    assert log.columns["lat"] == "dispatch_latitude"


def test_without_ignoring_the_export_priority_the_bad_scale_is_reported() -> None:
    mapping = {k: v for k, v in SEATTLE_MAPPING.items() if k != "priority"}
    with pytest.raises(CallLogError) as caught:
        load_calls(SEATTLE, mapping=mapping)
    assert caught.value.row == 4
    assert caught.value.field == "priority"
    assert "priority 7 is not 1..4" in str(caught.value)


def test_problems_name_the_source_column_of_a_mapped_log() -> None:
    with pytest.raises(CallLogError) as caught:
        load_calls(SEATTLE, mapping=SEATTLE_MAPPING, bounds=(47.6, -122.4, 47.7, -122.3))
    assert (caught.value.row, caught.value.field) == (3, "dispatch_latitude/dispatch_longitude")
    assert "point 47.5400,-122.2900 is outside the bounds" in str(caught.value)


def test_mapping_can_fix_swapped_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,-104.9,39.7"))
    log = load_calls(path, mapping={"lat": "lon", "lon": "lat"})
    assert (log.frame["lat"].iloc[0], log.frame["lon"].iloc[0]) == (39.7, -104.9)


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"dispatch_latitude": "latitude"}, "'latitude', which is not a call-log column"),
        ({"no_such_column": "lat"}, "'no_such_column', which is not in the file"),
        (
            {"dispatch_latitude": "lat", "dispatch_longitude": "lat"},
            "both 'dispatch_latitude' and 'dispatch_longitude'",
        ),
    ],
)
def test_bad_mappings_are_input_errors(mapping: dict[str, str], words: str) -> None:
    full = {**SEATTLE_MAPPING, **mapping}
    with pytest.raises(InputError, match=words):
        load_calls(SEATTLE, mapping=full)


def test_call_type_filter_counts_what_it_drops() -> None:
    log = load_calls(SEATTLE, mapping=SEATTLE_MAPPING, call_types={CRISIS, SUICIDE})

    assert len(log) == 3
    assert log.filtered_out == 2
    assert set(log.frame["call_type"]) == {CRISIS, SUICIDE}
    assert log.rejected.empty
    assert len(log) + log.filtered_out + len(log.rejected) == log.input_rows


def test_filtered_rows_are_not_validated() -> None:
    # Row 4 has priority 7, but it is a disturbance call, filtered out before validation.
    mapping = {k: v for k, v in SEATTLE_MAPPING.items() if k != "priority"}
    log = load_calls(SEATTLE, mapping=mapping, call_types=[CRISIS])
    assert log.frame["row"].tolist() == [1, 5]


def test_a_filter_that_matches_nothing_lists_the_call_types_found() -> None:
    with pytest.raises(InputError, match="most common call types") as caught:
        load_calls(SEATTLE, mapping=SEATTLE_MAPPING, call_types=["crisis"])
    assert CRISIS in str(caught.value)
    assert str(SEATTLE) in str(caught.value)


def test_a_filter_needs_a_call_type_column(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,39.7,-104.9"))
    with pytest.raises(InputError, match="no call_type column"):
        load_calls(path, call_types=["suicidal"])


# --------------------------------------------------------------------------------------------
# file-level problems


def test_missing_required_column_names_file_column_and_columns_found(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,39.7", header="call_id,received_at,lat"))
    with pytest.raises(InputError) as caught:
        load_calls(path)
    message = str(caught.value)
    assert str(path) in message
    assert "required column 'lon' is missing" in message
    assert "columns found: 'call_id', 'received_at', 'lat'" in message
    assert caught.value.field == "lon"
    assert not isinstance(caught.value, CallLogError)


def test_missing_column_suggests_a_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_rows("A,2025-07-01T08:15:00,39.7,-104.9", header="call_id,received_at,Latitude,lng"),
    )
    with pytest.raises(InputError) as caught:
        load_calls(path)
    assert "--map Latitude=lat --map lng=lon" in str(caught.value)


def test_semicolon_separated_file_gets_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "call_id;received_at;lat;lon\nA;2025-07-01T08:15:00;39.7;-104.9\n")
    with pytest.raises(InputError, match="does not seem to be comma-separated"):
        load_calls(path)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "the file is empty"),
        (b"\n\n  \n", "the file is empty"),
        (HEADER.encode() + b"\n", "header but no data rows"),
        (HEADER.encode() + b"\n\n\n", "header but no data rows"),
        (bytes(range(256)) * 20, "binary data"),
        (b"PAR1" + bytes(100), "Parquet file, not CSV"),
        (b"PK\x03\x04" + bytes(100), "zip archive"),
        ("call_id,received_at\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_unusable_files_are_clear_input_errors(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=words) as caught:
        load_calls(path)
    assert str(path) in str(caught.value)


def test_non_utf8_file_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    text = csv_rows(
        "A,2025-07-01T08:15:00,39.7,-104.9",
        "Peña-2,2025-07-01T08:16:00,39.7,-104.9",
    )
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError) as caught:
        load_calls(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, row 2, column 'call_id': not UTF-8 text")
    assert "0xf1" in message
    assert caught.value.row == 2


def test_non_utf8_header(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes("call_id,r\xe9ceived_at,lat,lon\nA,2025-07-01,1,1\n".encode("latin-1"))
    with pytest.raises(InputError, match="header is not UTF-8"):
        load_calls(path)


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,39.7,-104.9"), name="calls.parquet")
    with pytest.raises(InputError, match="cannot read as Parquet") as caught:
        load_calls(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "words"),
    [("calls.xlsx", "unsupported file type"), ("missing.csv", "no such file")],
)
def test_unsupported_or_missing_file(tmp_path: Path, name: str, words: str) -> None:
    path = tmp_path / name
    if name.endswith(".xlsx"):
        path.write_bytes(b"x")
    with pytest.raises(InputError, match=words):
        load_calls(path)


def test_duplicate_header_names(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01,1,1,1", header=HEADER + ",lat"))
    with pytest.raises(InputError, match="column 'lat' appears twice"):
        load_calls(path)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"bounds": (40.0, -105.0, 39.0, -104.0)}, "bounds"),
        ({"bounds": (1.0, 2.0, 3.0)}, "four numbers"),
        ({"bad_rows": "ignore"}, "bad_rows must be"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(InputError, match=words):
        load_calls(GOOD, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# row-level problems


def test_unparseable_time_names_file_row_column_and_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_rows("A,2025-07-01T08:15:00,39.7,-104.9", "B,07/01/2025 8:16 AM,39.7,-104.9"),
    )
    with pytest.raises(CallLogError) as caught:
        load_calls(path)
    error = caught.value
    assert str(error).startswith(f"{path}, row 2, column 'received_at': '07/01/2025 8:16 AM'")
    assert "is not an ISO 8601 time" in str(error)
    assert (error.row, error.field, error.bad_rows) == (2, "received_at", 1)
    assert list(error.problems.columns) == list(PROBLEM_COLUMNS)
    assert error.problems.iloc[0].to_dict() == {
        "row": 2,
        "column": "received_at",
        "value": "07/01/2025 8:16 AM",
        "problem": "'07/01/2025 8:16 AM' is not an ISO 8601 time "
        "(e.g. 2025-03-09T14:30:00 or 2025-03-09T14:30:00-05:00)",
        "code": "unparseable",
    }


def test_daylight_saving_gap_and_repeated_hour_are_bad_rows() -> None:
    with pytest.raises(CallLogError) as caught:
        load_calls(CHICAGO_DST, timezone="America/Chicago")
    error = caught.value
    assert problem_rows(error, "nonexistent_time") == [2]  # 2025-03-09 02:30
    assert problem_rows(error, "ambiguous_time") == [4]  # 2025-11-02 01:30
    assert error.bad_rows == 2
    message = str(error)
    assert (
        "row 2, column 'received_at': '2025-03-09T02:30:00' does not exist in America/Chicago"
        in message
    )
    assert "row 4, column 'received_at': '2025-11-02T01:30:00' happens twice" in message
    assert "(-05:00 the first time, -06:00 the second)" in message


def test_quarantine_keeps_the_offset_qualified_fall_back_times(tmp_path: Path) -> None:
    log = load_calls(
        CHICAGO_DST,
        timezone="America/Chicago",
        bad_rows="quarantine",
        quarantine_path=tmp_path / "rejected.csv",
    )
    frame = log.frame.set_index("call_id")
    assert sorted(frame.index) == ["CHI-1", "CHI-3", "CHI-5", "CHI-6"]
    first, second = frame.loc["CHI-5", "received_at"], frame.loc["CHI-6", "received_at"]
    assert second - first == pd.Timedelta(hours=1)
    assert first.strftime("%H:%M%z") == "01:30-0500"
    assert second.strftime("%H:%M%z") == "01:30-0600"
    assert frame.loc["CHI-3", "received_at"] - frame.loc["CHI-1", "received_at"] == pd.Timedelta(
        seconds=1
    )
    assert log.rejected["row"].tolist() == [2, 4]


def test_conflicting_duplicate_ids_name_both_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_rows(
            "A,2025-07-01T08:15:00,39.7,-104.9",
            "B,2025-07-01T08:16:00,39.7,-104.9",
            "A,2025-07-01T09:00:00,39.8,-104.9",
        ),
    )
    with pytest.raises(CallLogError) as caught:
        load_calls(path)
    message = str(caught.value)
    assert "row 1, column 'call_id': call_id 'A' is also used by row 3" in message
    assert "row 3, column 'call_id': call_id 'A' is also used by row 1" in message
    assert problem_rows(caught.value, "duplicate_id") == [1, 3]


def test_exact_duplicate_rows_keep_the_first_copy_in_quarantine(tmp_path: Path) -> None:
    row = "A,2025-07-01T08:15:00,39.7,-104.9"
    path = write(tmp_path, csv_rows(row, "B,2025-07-01T08:16:00,39.7,-104.9", row, row))
    log = load_calls(path, bad_rows="quarantine")
    assert log.frame["row"].tolist() == [1, 2]
    assert log.rejected["row"].tolist() == [3, 4]
    assert set(log.rejected["code"]) == {"duplicate_row"}
    assert "repeats row 1 field for field" in log.rejected["problem"].iloc[0]


def test_three_versions_of_an_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_rows(
            "A,2025-07-01T08:00:00,39.7,-104.9",
            "A,2025-07-01T09:00:00,39.7,-104.9",
            "A,2025-07-01T10:00:00,39.7,-104.9",
            "A,2025-07-01T09:00:00,39.7,-104.9",
        ),
    )
    with pytest.raises(CallLogError) as caught:
        load_calls(path)
    problems = caught.value.problems.set_index("row")
    assert (
        problems.loc[1, "problem"]
        == "call_id 'A' is also used by row 2 and 1 more with different details"
    )
    assert problems.loc[2, "problem"].startswith("call_id 'A' is also used by row 1")
    assert problems.loc[4, "code"] == "duplicate_row"


def test_latitude_out_of_range_that_fits_as_longitude_is_reported_as_swapped(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,-104.99,39.74"))
    with pytest.raises(CallLogError) as caught:
        load_calls(path)
    error = caught.value
    assert error.problems["code"].tolist() == ["swapped"]
    assert "latitude and longitude look swapped" in str(error)
    assert (error.row, error.field) == (1, "lat/lon")
    assert error.problems["value"].iloc[0] == "-104.99,39.74"


def test_swapped_points_inside_the_bounds_when_swapped(tmp_path: Path) -> None:
    # Chicago swapped: both numbers are valid latitudes, so only the bounds can tell.
    chicago = (41.6, -87.95, 42.05, -87.5)
    path = write(
        tmp_path,
        csv_rows("A,2025-07-01T08:15:00,41.88,-87.63", "B,2025-07-01T08:16:00,-87.63,41.88"),
    )
    assert len(load_calls(path, bad_rows="quarantine")) == 2  # no bounds: cannot tell
    with pytest.raises(CallLogError, match="inside them with latitude and longitude swapped") as c:
        load_calls(path, bounds=chicago)
    assert problem_rows(c.value, "swapped") == [2]


def test_points_outside_bounds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_rows("A,2025-07-01T08:15:00,39.74,-104.99", "B,2025-07-01T08:16:00,40.59,-105.08"),
    )
    with pytest.raises(CallLogError) as caught:
        load_calls(path, bounds=DENVER_BOUNDS)
    assert str(caught.value) == (
        f"{path}, row 2, column 'lat/lon': point 40.59,-105.08 is outside the bounds "
        "(lat 39.6..39.9, lon -105.1..-104.6)"
    )
    assert caught.value.problems["code"].tolist() == ["outside_bounds"]


@pytest.mark.parametrize(
    ("fields", "column", "code"),
    [
        ("A,2025-07-01T08:15:00,95.5,-104.9", "lat", "out_of_range"),
        ("A,2025-07-01T08:15:00,39.7,-190", "lon", "out_of_range"),
        ("A,2025-07-01T08:15:00,north,-104.9", "lat", "unparseable"),
        ("A,2025-07-01T08:15:00,nan,-104.9", "lat", "unparseable"),
        ("A,2025-07-01T08:15:00,39.7,", "lon", "missing"),
        ("A,2025-07-01T08:15:00,0,0", "lat/lon", "zero_point"),
        ("A,,39.7,-104.9", "received_at", "missing"),
        ("A,1850-07-01T08:15:00,39.7,-104.9", "received_at", "out_of_range"),
        ("A,3025-07-01T08:15:00,39.7,-104.9", "received_at", "out_of_range"),
        ("A,2025-02-30T08:15:00,39.7,-104.9", "received_at", "unparseable"),
        (",2025-07-01T08:15:00,39.7,-104.9", "call_id", "missing"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,0", "priority", "out_of_range"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,2.5", "priority", "out_of_range"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,high", "priority", "unparseable"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,,medium", "risk", "bad_value"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,,,-5", "on_scene_s", "out_of_range"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,,,40 min", "on_scene_s", "unparseable"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,,,,maybe", "transport", "bad_value"),
        ("A,2025-07-01T08:15:00,39.7,-104.9,,,,,extra", "", "field_count"),
    ],
)
def test_each_bad_value_is_reported_with_its_column_and_code(
    tmp_path: Path, fields: str, column: str, code: str
) -> None:
    header = HEADER + ",priority,risk,on_scene_s,transport"
    padded = fields + "," * max(0, 7 - fields.count(","))
    path = write(tmp_path, csv_rows(padded, header=header))
    with pytest.raises(CallLogError) as caught:
        load_calls(path)
    problems = caught.value.problems
    assert problems[["row", "column", "code"]].values.tolist() == [[1, column, code]]
    assert code in PROBLEM_CODES
    assert str(path) in str(caught.value)
    assert "row 1" in str(caught.value)


def test_priority_accepts_integral_numbers(tmp_path: Path) -> None:
    header = HEADER + ",priority"
    path = write(tmp_path, csv_rows("A,2025-07-01,39.7,-104.9,3.0", header=header))
    assert load_calls(path).frame["priority"].tolist() == [3]


def test_failure_message_lists_the_first_ten_and_the_totals(tmp_path: Path) -> None:
    rows = [f"C{i},not-a-time,39.7,-104.9" for i in range(25)]
    path = write(tmp_path, csv_rows("OK,2025-07-01,39.7,-104.9", *rows))
    with pytest.raises(CallLogError) as caught:
        load_calls(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 25 bad rows (received_at unparseable: 25)")
    assert message.count("\n  row ") == 10
    assert "... and 15 more" in message
    assert "bad_rows='quarantine'" in message
    assert len(caught.value.problems) == 25


def test_ragged_rows_do_not_shift_later_row_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_rows(
            "A,2025-07-01T08:15:00,39.7,-104.9",
            "B,2025-07-01T08:16:00,39.7,-104.9,extra",
            "C,2025-07-01T08:17:00,39.7",
            'D,"2025-07-01T08:18:00",39.7,-104.9',
            "E,bad,39.7,-104.9",
        ),
    )
    log = load_calls(path, bad_rows="quarantine")
    assert log.frame["row"].tolist() == [1, 4]
    assert log.rejected["row"].tolist() == [2, 3, 5]
    assert log.rejected["code"].tolist() == ["field_count", "field_count", "unparseable"]
    assert log.rejected["value"].iloc[0] == "B,2025-07-01T08:16:00,39.7,-104.9,extra"


# --------------------------------------------------------------------------------------------
# quarantine


def test_quarantine_keeps_good_rows_and_writes_every_bad_one(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_rows(
            "A,2025-07-01T08:15:00,39.7,-104.9,ok",
            "B,2025-07-01T08:16:00,139.7,-104.9,bad lat",
            "C,soon,39.7,-104.9,bad time",
            "D,2025-07-01T08:18:00,39.7,-104.9,ok",
            ",later,,-104.9,three problems",
            header=HEADER + ",note",
        ),
    )
    log = load_calls(path, bad_rows="quarantine")

    assert log.frame["call_id"].tolist() == ["A", "D"]
    assert log.quarantine_path == tmp_path / "calls.rejected.csv"
    written = pd.read_csv(log.quarantine_path, dtype=str, keep_default_na=False)
    assert len(log) + len(written) == log.input_rows == 5
    assert written["row"].tolist() == ["2", "3", "5"]
    assert list(written.columns) == [
        *PROBLEM_COLUMNS,
        "call_id",
        "received_at",
        "lat",
        "lon",
        "note",
    ]
    several = written.iloc[2]
    assert several["column"] == "call_id; received_at; lat"
    assert several["code"] == "missing; unparseable; missing"
    assert (
        several["problem"] == "call_id is empty; 'later' is not an ISO 8601 time "
        "(e.g. 2025-03-09T14:30:00 or 2025-03-09T14:30:00-05:00); latitude is empty"
    )
    assert several["note"] == "three problems"  # the raw fields travel with the problem
    assert written.iloc[0]["lat"] == "139.7"
    assert log.rejected["row"].tolist() == [2, 3, 5]
    assert len(log.problems) == 5


def test_quarantine_file_once_fixed_loads_again(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,2025-07-01T08:15:00,39.7,-104.9", "B,soon,39.7,-104.9"))
    log = load_calls(path, bad_rows="quarantine")
    assert log.quarantine_path is not None
    fixed = pd.read_csv(log.quarantine_path, dtype=str)
    fixed.loc[0, "received_at"] = "2025-07-01T08:20:00"
    fixed.to_csv(tmp_path / "fixed.csv", index=False)
    again = load_calls(tmp_path / "fixed.csv")
    assert again.frame["call_id"].tolist() == ["B"]


def test_quarantine_file_is_written_even_when_nothing_is_rejected(tmp_path: Path) -> None:
    target = tmp_path / "out" / "rejected.csv"
    log = load_calls(GOOD, bad_rows="quarantine", quarantine_path=target)
    assert log.quarantine_path == target
    written = pd.read_csv(target)
    assert written.empty
    assert list(written.columns)[:5] == list(PROBLEM_COLUMNS)


def test_quarantine_default_name_for_gzip_and_parquet(tmp_path: Path) -> None:
    gz = tmp_path / "calls_2025.csv.gz"
    gz.write_bytes(gzip.compress(csv_rows("A,bad,1,1", "B,2025-01-01,1,1").encode()))
    assert load_calls(gz, bad_rows="quarantine").quarantine_path == (
        tmp_path / "calls_2025.rejected.csv"
    )


def test_every_row_rejected_is_an_error_even_in_quarantine(tmp_path: Path) -> None:
    path = write(tmp_path, csv_rows("A,bad,1,1", "B,worse,1,1"))
    with pytest.raises(CallLogError, match="no good row is left"):
        load_calls(path, bad_rows="quarantine")
    assert (tmp_path / "calls.rejected.csv").exists()


def test_problem_counts() -> None:
    with pytest.raises(CallLogError) as caught:
        load_calls(CHICAGO_DST, timezone="America/Chicago")
    counts = problem_counts(caught.value.problems)
    assert sorted(counts["code"]) == ["ambiguous_time", "nonexistent_time"]
    assert counts["rows"].tolist() == [1, 1]


# --------------------------------------------------------------------------------------------
# property: quarantine accounts for every row exactly once

GOOD_ROW = "{id},2025-07-01T{h:02d}:{m:02d}:00,39.7,-104.9,2,low"
BAD_ROWS = {
    "time": "{id},not a time,39.7,-104.9,2,low",
    "gap": "{id},2025-03-09T02:{m:02d}:00,39.7,-104.9,2,low",
    "repeat": "{id},2025-11-02T01:{m:02d}:00,39.7,-104.9,2,low",
    "lat": "{id},2025-07-01T10:00:00,95,-104.9,2,low",
    "swapped": "{id},2025-07-01T10:00:00,-104.9,39.7,2,low",
    "priority": "{id},2025-07-01T10:00:00,39.7,-104.9,9,low",
    "risk": "{id},2025-07-01T10:00:00,39.7,-104.9,2,extreme",
    "no_id": ",2025-07-01T10:00:00,39.7,-104.9,2,low",
    "fields": "{id},2025-07-01T10:00:00,39.7,-104.9,2,low,extra",
    "outside": "{id},2025-07-01T10:00:00,45.0,-104.9,2,low",
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kinds=st.lists(st.sampled_from(["good", *BAD_ROWS]), min_size=1, max_size=40),
    duplicate=st.booleans(),
    minutes=st.integers(0, 59),
)
def test_quarantine_accounts_for_every_row_once(
    tmp_path: Path, kinds: list[str], duplicate: bool, minutes: int
) -> None:
    lines = []
    expected_bad = set()
    for i, kind in enumerate(kinds, start=1):
        template = GOOD_ROW if kind == "good" else BAD_ROWS[kind]
        lines.append(template.format(id=f"C{i}", h=i % 24, m=(minutes + i) % 60))
        if kind != "good":
            expected_bad.add(i)
    if duplicate:  # a different call reusing the first id: both rows are bad
        lines.append(GOOD_ROW.format(id="C1", h=23, m=59))
        if kinds[0] not in ("no_id", "fields"):  # those rows have no usable id to clash with
            expected_bad |= {1, len(kinds) + 1}
    n = len(lines)
    path = write(tmp_path, csv_rows(*lines, header=HEADER + ",priority,risk"), name="prop.csv")
    quarantine = tmp_path / "prop.rejected.csv"

    if len(expected_bad) == n:
        with pytest.raises(CallLogError):
            load_calls(path, bad_rows="quarantine", bounds=DENVER_BOUNDS, timezone="America/Denver")
        return
    log = load_calls(path, bad_rows="quarantine", bounds=DENVER_BOUNDS, timezone="America/Denver")

    kept = set(log.frame["row"].tolist())
    rejected = log.rejected["row"].tolist()
    written = pd.read_csv(quarantine)["row"].tolist()
    assert len(rejected) == len(set(rejected))  # once each, problems joined
    assert sorted(written) == sorted(rejected)
    assert kept.isdisjoint(rejected)
    assert kept | set(rejected) == set(range(1, n + 1))
    assert set(rejected) == expected_bad
    assert len(log) + len(log.rejected) == log.input_rows == n
    assert set(log.problems["row"]) == expected_bad
    if expected_bad:
        with pytest.raises(CallLogError) as caught:
            load_calls(path, bounds=DENVER_BOUNDS, timezone="America/Denver")
        assert caught.value.bad_rows == len(expected_bad)
