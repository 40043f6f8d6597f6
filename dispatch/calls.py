"""Call logs: load, validate and normalize historical behavioral-health calls.

A call log is a CSV or Parquet file with one row per call (see the call-log contract in the
design notes): ``call_id``, ``received_at``, ``lat``, ``lon`` are required; ``call_type``,
``priority``, ``risk``, ``on_scene_s`` and ``transport`` are optional. `load_calls` reads such a
file (or an open-data calls-for-service export, through a column ``mapping``), checks every row
with vectorized operations, and returns a `CallLog` whose ``frame`` has one normalized row per
good call.

Nothing is dropped silently. A row is either

* kept (in ``CallLog.frame``),
* filtered out because its ``call_type`` is not among the requested ones (counted in
  ``CallLog.filtered_out``), or
* rejected, with a reason naming file, row and column: ``bad_rows="fail"`` (the default) raises
  `CallLogError` listing the problems; ``bad_rows="quarantine"`` keeps the good rows and writes
  the bad ones to a file.

Row numbers are 1-based *data* rows: row 1 is the first record after the header, so in a file
without multi-line quoted fields row ``n`` is on line ``n + 1``.

Problem codes (column ``code`` of `CallLog.problems` and `CallLogError.problems`):

``missing``
    A required value (``call_id``, ``received_at``, ``lat``, ``lon``) is empty.
``unparseable``
    A time that is not ISO 8601, or a number that is not a number.
``nonexistent_time``
    A local time inside the daylight-saving spring-forward gap of the time zone.
``ambiguous_time``
    A local time inside the fall-back hour, which happens twice; give its UTC offset.
``out_of_range``
    Latitude outside -90..90, longitude outside -180..180, priority not 1..4, negative
    ``on_scene_s``, a time outside 1900..2200.
``swapped``
    Latitude and longitude look swapped (with the ``bounds``, or because the latitude is out of
    range while the longitude would be a valid latitude).
``outside_bounds``
    A valid point outside the ``bounds`` box.
``zero_point``
    Latitude and longitude both exactly 0, the usual placeholder for "no location".
``bad_value``
    A ``risk`` or ``transport`` value outside its vocabulary.
``duplicate_id``
    Several rows share a ``call_id`` with different details; all of them are rejected.
``duplicate_row``
    A row repeats an earlier row with the same ``call_id`` field for field; the first copy is
    kept (unless it has problems of its own), the later copies are rejected.
``field_count``
    A CSV record with more or fewer fields than the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import gzip
import io
import re
import zoneinfo
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dispatch.errors import InputError
from dispatch.model import RISK_LEVELS, Call, RiskLevel

__all__ = [
    "CONTRACT_COLUMNS",
    "FRAME_COLUMNS",
    "KEPT_COLUMNS",
    "PROBLEM_CODES",
    "PROBLEM_COLUMNS",
    "REQUIRED_COLUMNS",
    "CallLog",
    "CallLogError",
    "load_calls",
    "problem_counts",
]

CONTRACT_COLUMNS: Final[tuple[str, ...]] = (
    "call_id",
    "received_at",
    "lat",
    "lon",
    "call_type",
    "priority",
    "risk",
    "on_scene_s",
    "transport",
)
"""Columns of the call-log contract, in order."""

KEPT_COLUMNS: Final[tuple[str, ...]] = ("zone",)
"""Columns outside the contract that the loader keeps when a log has them: ``zone`` (the
dispatch district of the call, read by district-first run cards)."""

REQUIRED_COLUMNS: Final[tuple[str, ...]] = ("call_id", "received_at", "lat", "lon")
"""Contract columns a call log must have."""

FRAME_COLUMNS: Final[tuple[str, ...]] = (*CONTRACT_COLUMNS, *KEPT_COLUMNS, "row")
"""Columns of `CallLog.frame`: the contract columns, the kept ones, then the source ``row``."""

PROBLEM_COLUMNS: Final[tuple[str, ...]] = ("row", "column", "value", "problem", "code")
"""Columns describing a problem, in `CallLog.problems` and at the front of `CallLog.rejected`."""

PROBLEM_CODES: Final[tuple[str, ...]] = (
    "missing",
    "unparseable",
    "nonexistent_time",
    "ambiguous_time",
    "out_of_range",
    "swapped",
    "outside_bounds",
    "zero_point",
    "bad_value",
    "duplicate_id",
    "duplicate_row",
    "field_count",
)
"""Every value the ``code`` column can take; see the module documentation."""

DEFAULT_PRIORITY: Final = 2
DEFAULT_RISK: Final = "standard"
MAX_LISTED: Final = 10
"""How many problems a `CallLogError` message lists before "... and N more"."""

TRUE_WORDS: Final = ("true", "1", "yes")
FALSE_WORDS: Final = ("false", "0", "no")

_CSV_SUFFIXES: Final = (".csv", ".csv.gz")
_PARQUET_SUFFIXES: Final = (".parquet", ".pq")
_SNIFF_BYTES: Final = 1 << 16
_EARLIEST: Final = pd.Timestamp("1900-01-01")
_LATEST: Final = pd.Timestamp("2200-01-01")
# An ISO 8601 time of day followed by a UTC offset: "T14:30:00Z", " 14:30-06:00", "T143000+0100".
_OFFSET_PATTERN: Final = r"[T ]\d\d(:?\d\d){0,2}([.,]\d+)?\s*([Zz]|[+-]\d\d(:?\d\d)?)$"
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "call_id": ("id", "incident", "incident_number", "event_number", "cad_event_number", "callid"),
    "received_at": ("received", "time", "timestamp", "datetime", "call_time", "time_queued"),
    "lat": ("latitude", "y", "lat_dd"),
    "lon": ("longitude", "lng", "long", "x", "lon_dd"),
}

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
IntArray: TypeAlias = npt.NDArray[np.int64]


class CallLogError(InputError):
    """A call log has bad rows and ``bad_rows="fail"`` was asked for.

    The message lists the first few problems and the totals. Every problem is in ``problems``.

    Attributes
    ----------
    problems
        One row per problem, sorted by row, columns `PROBLEM_COLUMNS`: ``row`` (1-based data
        row), ``column`` (the file's column name; ``"<lat column>/<lon column>"`` for a problem
        of the point, ``""`` for a record that could not be split into fields), ``value`` (as
        text), ``problem`` (words), ``code`` (see `PROBLEM_CODES`).
    bad_rows
        Number of distinct rows with at least one problem.
    """

    def __init__(self, message: str, *, source: str, problems: pd.DataFrame) -> None:
        rows = problems["row"].to_numpy()
        single = len(problems) == 1
        super().__init__(
            message,
            source=source,
            row=int(rows[0]) if single else None,
            field=(str(problems["column"].iloc[0]) or None) if single else None,
        )
        self.problems = problems
        self.bad_rows = _distinct(rows)


@dataclass(frozen=True, eq=False)
class CallLog:
    """A validated, normalized call log.

    Attributes
    ----------
    frame
        One row per good call, sorted by ``received_at`` (stable: ties keep file order), with a
        fresh ``RangeIndex``. Columns `FRAME_COLUMNS`:

        ============  ==================================  ========================================
        column        dtype                               meaning
        ============  ==================================  ========================================
        call_id       str                                 unique identifier
        received_at   datetime64[ns, `timezone`]          when the call came in
        lat, lon      float64                             WGS84 degrees
        call_type     str                                 ``""`` when the log has none
        priority      int8                                1 (highest) to 4, default 2
        risk          str                                 ``low``, ``standard`` (default), ``high``
        on_scene_s    float64                             seconds on scene, NaN when unknown
        transport     boolean (nullable)                  taken to a facility, <NA> when unknown
        zone          str                                 dispatch district, ``""`` when none
        row           int64                               1-based data row in the source file
        ============  ==================================  ========================================

        Source columns outside the contract and `KEPT_COLUMNS` are not kept.
    source
        The file path as given.
    timezone
        IANA time zone of ``received_at`` (and of times that had no UTC offset in the file).
    rejected
        One row per rejected source row, sorted by ``row``: the `PROBLEM_COLUMNS` (a row with
        several problems appears once, its columns, values, problems and codes joined with
        ``"; "``), then the row's raw source fields under their original names. Empty unless
        loaded with ``bad_rows="quarantine"``.
    problems
        The same problems in long form, one row per problem (see `CallLogError.problems`).
    filtered_out
        Rows dropped because their ``call_type`` was not in ``call_types``. Filtered is not
        rejected: those rows are not validated.
    input_rows
        Data rows in the source file. ``len(log) + len(log.rejected) + log.filtered_out``
        equals it.
    quarantine_path
        Where the rejected rows were written, when ``bad_rows="quarantine"``.
    columns
        Which source column fed each contract column (contract name -> source name).
    """

    frame: pd.DataFrame
    source: str
    timezone: str
    rejected: pd.DataFrame
    problems: pd.DataFrame
    filtered_out: int = 0
    input_rows: int = 0
    quarantine_path: Path | None = None
    columns: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def start(self) -> pd.Timestamp:
        """The earliest ``received_at`` (NaT for an empty log)."""
        return pd.Timestamp(self.frame["received_at"].min())

    @property
    def end(self) -> pd.Timestamp:
        """The latest ``received_at`` (NaT for an empty log)."""
        return pd.Timestamp(self.frame["received_at"].max())

    def origin(self, origin: str | dt.datetime | pd.Timestamp | None = None) -> pd.Timestamp:
        """Resolve ``origin`` to a time-zone aware timestamp in `timezone`.

        Parameters
        ----------
        origin
            A time; without a UTC offset it is local time in `timezone`. ``None`` means local
            midnight at the start of the day of the first call.

        Returns
        -------
        pandas.Timestamp
            Aware, in `timezone`.
        """
        if origin is None:
            if not len(self.frame):
                raise InputError(
                    "the call log is empty; give an explicit origin", source=self.source
                )
            day = pd.Timestamp(self.start.date())
            return day.tz_localize(self.timezone, ambiguous=False, nonexistent="shift_forward")
        stamp = pd.Timestamp(origin)
        if stamp.tzinfo is None:
            return stamp.tz_localize(self.timezone, ambiguous=False, nonexistent="shift_forward")
        return stamp.tz_convert(self.timezone)

    def received_s(self, origin: str | dt.datetime | pd.Timestamp | None = None) -> FloatArray:
        """Seconds from ``origin`` to each call's ``received_at``, in ``frame`` order.

        Parameters
        ----------
        origin
            The scenario start; see `origin` (default: local midnight of the first call's day).

        Returns
        -------
        numpy.ndarray
            float64 seconds, one per row of ``frame`` (negative for calls before ``origin``).

        Examples
        --------
        >>> from dispatch.calls import load_calls
        >>> from dispatch.datasets import stlouis
        >>> log = load_calls(stlouis().calls, timezone="America/Chicago")
        >>> log.received_s("2025-01-01")[:3]
        array([  886.,  8939., 25128.])
        """
        start = self.origin(origin)
        stamps = pd.DatetimeIndex(self.frame["received_at"]).as_unit("ns")
        ns = stamps.asi8 - start.as_unit("ns").value
        return ns.astype(np.float64) / 1e9

    def to_calls(self, origin: str | dt.datetime | pd.Timestamp | None = None) -> list[Call]:
        """The calls as `dispatch.model.Call` values, ``received_s`` counted from ``origin``.

        Meant for small logs and examples; the simulator reads ``frame`` columns directly.
        """
        received = self.received_s(origin).tolist()
        f = self.frame
        return [
            Call(
                call_id=cid,
                lat=lat,
                lon=lon,
                received_s=t,
                call_type=ct,
                priority=p,
                risk=RiskLevel(r),
            )
            for cid, lat, lon, t, ct, p, r in zip(
                f["call_id"].tolist(),
                f["lat"].tolist(),
                f["lon"].tolist(),
                received,
                f["call_type"].tolist(),
                f["priority"].tolist(),
                f["risk"].tolist(),
                strict=True,
            )
        ]


# --------------------------------------------------------------------------------------------
# public entry point


def load_calls(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    call_types: Collection[str] | None = None,
    timezone: str = "UTC",
    bad_rows: Literal["fail", "quarantine"] = "fail",
    quarantine_path: str | Path | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    repeated_times: Literal["error", "first", "second"] = "error",
) -> CallLog:
    """Load a call log, validate every row and return the normalized calls.

    Parameters
    ----------
    path
        A ``.csv``, ``.csv.gz``, ``.parquet`` or ``.pq`` file. CSV must be UTF-8 (a byte-order
        mark is fine) with a header row.
    mapping
        Source column -> contract column, for logs with other column names, e.g. a Seattle
        calls-for-service export: ``{"cad_event_number": "call_id",
        "cad_event_original_time_queued": "received_at", "dispatch_latitude": "lat",
        "dispatch_longitude": "lon", "final_call_type": "call_type"}``. A mapped column takes
        precedence over a source column that already has the contract name; map a source column
        to ``""`` to ignore it (e.g. ``{"priority": ""}`` when the export's priority scale is not
        1..4). Contract columns not mentioned are taken by name.
    call_types
        Keep only rows whose ``call_type`` (whitespace-trimmed, case-sensitive) is one of these;
        the rest are counted in `CallLog.filtered_out` and not validated.
    timezone
        IANA time zone name, e.g. ``"America/Chicago"``. Times without a UTC offset are local
        times there; times with an offset are converted to it.
    bad_rows
        ``"fail"``: raise `CallLogError` if any row is bad. ``"quarantine"``: keep the good rows
        and write the bad ones, with the reasons, to ``quarantine_path``.
    quarantine_path
        Where to write rejected rows (CSV, always written in quarantine mode, header only when
        nothing was rejected). Default: next to the source, ``<stem>.rejected.csv``.
    bounds
        ``(min_lat, min_lon, max_lat, max_lon)`` in degrees, inclusive: the service area. Points
        outside are rejected, with a hint when swapping latitude and longitude would put them
        inside.
    repeated_times
        Local times without an offset in the hour the clocks fall back happen twice. By default
        (``"error"``) such a row is bad, since nothing says which was meant; ``"first"`` or
        ``"second"`` reads every one as its first (daylight) or second (standard) occurrence,
        for exports known to write local time that way. Times in the spring-forward gap are
        always bad.

    Returns
    -------
    CallLog
        The good calls (``frame``), the rejected rows, and counts.

    Raises
    ------
    InputError
        The file is unusable: missing, empty, header only, not CSV/Parquet, not UTF-8, a
        required column is missing, a bad ``mapping``/``timezone``/``bounds``, or no row is left
        after the ``call_types`` filter.
    CallLogError
        Some rows are bad and ``bad_rows="fail"``; or every row is bad.

    Notes
    -----
    Values are trimmed of surrounding whitespace. ``risk`` and ``transport`` are
    case-insensitive; ``transport`` accepts true/false, 1/0 and yes/no. ``priority`` accepts
    integral numbers 1..4 (``"2"``, ``"2.0"``). A row with several problems is reported once per
    problem in ``problems`` and appears once in ``rejected`` and in the quarantine file.

    Examples
    --------
    >>> from dispatch.datasets import stlouis
    >>> log = load_calls(stlouis().calls, timezone="America/Chicago")
    >>> len(log.frame), log.frame.dtypes["received_at"]
    (6947, datetime64[ns, America/Chicago])
    """
    source = str(path)
    file = Path(path)
    tz = _check_timezone(timezone)
    box = _check_bounds(bounds)
    if bad_rows not in ("fail", "quarantine"):
        raise InputError(f"bad_rows must be 'fail' or 'quarantine', not {bad_rows!r}")
    quarantine = _quarantine_target(file, quarantine_path) if bad_rows == "quarantine" else None

    table = _read(file, source)
    columns = _resolve_columns(list(table.raw.columns), mapping, source)
    if call_types is not None and "call_type" not in columns:
        raise InputError(
            "a call-type filter was given but the log has no call_type column; "
            f"columns found: {_names(table.raw.columns)}",
            source=source,
            field="call_type",
        )

    raw, rows, filtered_out = _filter(table, columns, call_types, source)
    frame, problems = _validate(raw, rows, columns, tz, box, source, repeated_times)

    problems = (
        pd.concat([table.invalid, problems], ignore_index=True) if len(table.invalid) else problems
    )
    problems = problems.sort_values("row", kind="stable", ignore_index=True)
    good_rows = len(frame)

    if len(problems) and (bad_rows == "fail" or good_rows == 0):
        if quarantine is not None:
            _write_quarantine(quarantine, _rejected(problems, table, raw, rows), source)
        raise CallLogError(
            _failure_message(problems, tz, quarantine, good_rows), source=source, problems=problems
        )

    rejected = (
        _rejected(problems, table, raw, rows) if quarantine is not None else _empty_rejected(table)
    )
    if quarantine is not None:
        _write_quarantine(quarantine, rejected, source)
    return CallLog(
        frame=frame,
        source=source,
        timezone=tz,
        rejected=rejected,
        problems=problems,
        filtered_out=filtered_out,
        input_rows=table.total_rows,
        quarantine_path=quarantine,
        columns=dict(columns),
    )


# --------------------------------------------------------------------------------------------
# arguments


def _check_timezone(timezone: str) -> str:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise InputError(
            f"unknown time zone {timezone!r}; use an IANA name such as 'America/Chicago' or 'UTC'"
        ) from None
    return timezone


def _check_bounds(
    bounds: tuple[float, float, float, float] | None,
) -> tuple[float, float, float, float] | None:
    if bounds is None:
        return None
    try:
        min_lat, min_lon, max_lat, max_lon = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise InputError(
            f"bounds must be four numbers (min_lat, min_lon, max_lat, max_lon), not {bounds!r}"
        ) from None
    ok = (
        all(np.isfinite([min_lat, min_lon, max_lat, max_lon]))
        and -90.0 <= min_lat <= max_lat <= 90.0
        and -180.0 <= min_lon <= max_lon <= 180.0
    )
    if not ok:
        raise InputError(
            f"bounds {bounds!r} must be (min_lat, min_lon, max_lat, max_lon) with "
            "-90 <= min_lat <= max_lat <= 90 and -180 <= min_lon <= max_lon <= 180"
        )
    return (min_lat, min_lon, max_lat, max_lon)


def _stem(file: Path) -> str:
    name = file.name
    for suffix in (".csv.gz", ".parquet", ".csv", ".pq", ".gz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return file.stem


def _quarantine_target(file: Path, quarantine_path: str | Path | None) -> Path:
    target = (
        Path(quarantine_path)
        if quarantine_path is not None
        else file.with_name(f"{_stem(file)}.rejected.csv")
    )
    if target.exists() and file.exists() and target.resolve() == file.resolve():
        raise InputError("the quarantine file would overwrite the call log", source=str(file))
    return target


# --------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True, eq=False)
class _Table:
    raw: pd.DataFrame  # source columns under their own names, RangeIndex
    rows: IntArray  # 1-based data row of each raw row
    invalid: pd.DataFrame  # problems (PROBLEM_COLUMNS) for records that could not be split
    total_rows: int  # data rows in the file, including invalid records


def _read(file: Path, source: str) -> _Table:
    name = file.name.lower()
    if not file.exists():
        raise InputError("no such file", source=source)
    if file.is_dir():
        raise InputError("is a directory, not a call log file", source=source)
    if name.endswith(_PARQUET_SUFFIXES):
        return _read_parquet(file, source)
    if name.endswith(_CSV_SUFFIXES):
        return _read_csv(file, source)
    raise InputError(
        "unsupported file type; a call log is .csv, .csv.gz, .parquet or .pq", source=source
    )


def _names(columns: Collection[Any]) -> str:
    shown = [repr(str(c)) for c in list(columns)[:30]]
    more = len(columns) - len(shown)
    return ", ".join(shown) + (f", ... ({more} more)" if more > 0 else "") if shown else "(none)"


def _open_head(file: Path, source: str) -> tuple[bytes, bool]:
    """First bytes of the (decompressed) file and whether it is gzip-compressed."""
    try:
        with file.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        gzipped = head[:2] == b"\x1f\x8b"
        if gzipped:
            with gzip.open(file, "rb") as handle:
                head = handle.read(_SNIFF_BYTES)
    except (OSError, EOFError) as error:
        raise InputError(f"cannot read the file: {error}", source=source) from None
    return head, gzipped


def _sniff_csv(file: Path, source: str) -> tuple[list[str], bool]:
    """Check that ``file`` looks like UTF-8 CSV text; return its header names and compression."""
    head, gzipped = _open_head(file, source)
    if not head.strip():
        raise InputError("the file is empty", source=source)
    if head.startswith(b"PAR1"):
        raise InputError("is a Parquet file, not CSV; name it .parquet", source=source)
    if head.startswith(b"PK\x03\x04"):
        raise InputError(
            "is a zip archive (an Excel workbook?), not CSV; export or unzip it to CSV",
            source=source,
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 text; save it as UTF-8 CSV", source=source)
    if b"\x00" in head:
        raise InputError("is not a CSV text file (it holds binary data)", source=source)
    first, newline, _ = head.partition(b"\n")
    if not newline and len(head) == _SNIFF_BYTES:
        raise InputError("the first line is longer than 64 KiB; is this a CSV file?", source=source)
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"the header is not UTF-8 text (byte 0x{first[error.start]:02x}); "
            "save the file as UTF-8",
            source=source,
        ) from None
    names = [n.strip() for n in next(csv.reader(io.StringIO(line)), [])]
    names = [n or f"unnamed_{i + 1}" for i, n in enumerate(names)]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InputError(f"column {n!r} appears twice in the header", source=source, field=n)
        seen.add(n)
    return names, gzipped


def _read_csv(file: Path, source: str) -> _Table:
    names, gzipped = _sniff_csv(file, source)
    skipped: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        # ``number`` counts records from 1 including the header: data row = number - 1.
        skipped.append((int(row.number) - 1 if row.number is not None else -1, str(row.text)))
        return "skip"

    try:
        stream = pa.input_stream(str(file), compression="gzip" if gzipped else None)
        table = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        message = str(error)
        if "UTF8" in message or "UTF-8" in message:
            raise _utf8_error(file, gzipped, names, source) from None
        raise InputError(f"cannot read as CSV: {message.splitlines()[0]}", source=source) from None
    except (OSError, EOFError) as error:
        raise InputError(f"cannot read the file: {error}", source=source) from None

    # Row numbers count every record after the header, so row n is line n + 1 unless a quoted
    # field spans lines. Records with every field empty (blank lines, bare commas) carry no call:
    # they keep their number but are skipped and not counted as input rows.
    invalid = [(number, text) for number, text in skipped if text.strip()]
    records = table.num_rows + len(skipped)
    if skipped:
        gaps = np.array([n for n, _ in skipped], dtype=np.int64)
        rows = np.setdiff1d(np.arange(1, records + 1, dtype=np.int64), gaps)[: table.num_rows]
    else:
        rows = np.arange(1, records + 1, dtype=np.int64)
    raw = table.to_pandas()
    blank = _blank_records(raw)
    if blank.any():
        raw = raw.loc[~blank].reset_index(drop=True)
        rows = rows[~blank]
    if len(raw) + len(invalid) == 0:
        raise InputError("the file has a header but no data rows", source=source)
    expected = len(names)
    bad = pd.DataFrame(
        {
            "row": np.array([n for n, _ in invalid], dtype=np.int64),
            "column": "",
            "value": [t for _, t in invalid],
            "problem": [_field_count_problem(expected, len(_split(t))) for _, t in invalid],
            "code": "field_count",
        },
        columns=list(PROBLEM_COLUMNS),
    )
    return _Table(raw=raw, rows=rows, invalid=bad, total_rows=len(raw) + len(invalid))


def _blank_records(raw: pd.DataFrame) -> BoolArray:
    """Rows whose every field is empty or whitespace."""
    blank = np.ones(len(raw), dtype=bool)
    for name in raw.columns:
        where = np.flatnonzero(blank)
        if not where.size:
            break
        blank[where] = (raw[name].iloc[where].str.strip() == "").to_numpy()
    return blank


def _field_count_problem(expected: int, found: int) -> str:
    hint = "; quote values that contain commas" if found > expected else ""
    return f"expected {expected} fields, found {found}{hint}"


def _split(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)), [])


def _utf8_error(file: Path, gzipped: bool, names: list[str], source: str) -> InputError:
    """Locate the first byte that is not UTF-8 and describe it with its row and column."""
    try:
        opener = gzip.open if gzipped else open
        with opener(file, "rb") as handle:
            data = handle.read()
        data.decode("utf-8")  # a byte-order mark is valid UTF-8: offsets stay absolute
    except UnicodeDecodeError as error:
        start = error.start
        line_no = data.count(b"\n", 0, start) + 1
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start)
        line = data[line_start : line_end if line_end >= 0 else len(data)]
        fields = _split(line.decode("utf-8", errors="replace"))
        column = next(
            (names[i] for i, f in enumerate(fields) if "\ufffd" in f and i < len(names)), None
        )
        return InputError(
            f"not UTF-8 text (byte 0x{data[start]:02x} on line {line_no}); save the file as UTF-8, "
            "e.g. `iconv -f latin1 -t utf-8`",
            source=source,
            row=line_no - 1,
            field=column,
        )
    except (OSError, EOFError):
        pass
    return InputError("not UTF-8 text; save the file as UTF-8", source=source)


def _read_parquet(file: Path, source: str) -> _Table:
    try:
        table = pq.read_table(file)
    except (pa.ArrowException, OSError, ValueError) as error:
        with file.open("rb") as handle:
            magic = handle.read(4)
        if not magic:
            raise InputError("the file is empty", source=source) from None
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"cannot read as Parquet: {text}", source=source) from None
    names = [str(n) for n in table.column_names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(
            f"column {duplicated[0]!r} appears twice", source=source, field=duplicated[0]
        )
    if table.num_rows == 0:
        raise InputError("the file has no rows", source=source)
    raw = table.to_pandas(ignore_metadata=True)
    raw.columns = pd.Index(names)
    rows = np.arange(1, len(raw) + 1, dtype=np.int64)
    return _Table(raw=raw, rows=rows, invalid=_empty_problems(), total_rows=len(raw))


# --------------------------------------------------------------------------------------------
# columns


def _resolve_columns(
    names: list[str], mapping: Mapping[str, str] | None, source: str
) -> dict[str, str]:
    """Contract column -> source column."""
    given = dict(mapping or {})
    resolved: dict[str, str] = {}
    for src, dst in given.items():
        if dst and dst not in CONTRACT_COLUMNS + KEPT_COLUMNS:
            raise InputError(
                f"the mapping sends {src!r} to {dst!r}, which is not a call-log column; "
                f"expected one of {', '.join(CONTRACT_COLUMNS + KEPT_COLUMNS)} "
                "(or '' to ignore the column)"
            )
        if src not in names:
            raise InputError(
                f"the mapping names column {src!r}, which is not in the file; "
                f"columns found: {_names(names)}",
                source=source,
                field=src,
            )
        if dst:
            if dst in resolved:
                raise InputError(f"the mapping sends both {resolved[dst]!r} and {src!r} to {dst!r}")
            resolved[dst] = src
    for column in CONTRACT_COLUMNS + KEPT_COLUMNS:
        if column not in resolved and column in names and column not in given:
            resolved[column] = column
    missing = [c for c in REQUIRED_COLUMNS if c not in resolved]
    if missing:
        hints = _column_hints(missing, names)
        what = (
            f"required column {missing[0]!r} is missing"
            if len(missing) == 1
            else f"required columns {', '.join(map(repr, missing))} are missing"
        )
        raise InputError(
            f"{what}; columns found: {_names(names)}{hints}",
            source=source,
            field=missing[0] if len(missing) == 1 else None,
        )
    return resolved


def _column_hints(missing: list[str], names: list[str]) -> str:
    lowered = {n.lower().strip(): n for n in names}
    pairs: list[tuple[str, str]] = []
    for column in missing:
        candidates = [column, *_ALIASES.get(column, ())]
        match = next((lowered[c] for c in candidates if c in lowered), None)
        if match is None:
            close = difflib.get_close_matches(column, names, n=1, cutoff=0.75)
            match = close[0] if close else None
        if match is not None and match != column:
            pairs.append((match, column))
    hint = ""
    if pairs:
        as_dict = ", ".join(f"{src!r}: {dst!r}" for src, dst in pairs)
        as_options = " ".join(f"--map {src}={dst}" for src, dst in pairs)
        hint = f"; map them with mapping={{{as_dict}}} (CLI: {as_options})"
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t", "|")):
        hint += "; the file does not seem to be comma-separated"
    elif names and all(re.fullmatch(r"[-+]?\d[\d.:T -]*", n) for n in names[:3]):
        hint += "; the first line looks like data: the file needs a header row"
    return hint


def _text(series: pd.Series) -> pd.Series:
    """Values as trimmed strings, ``""`` for missing."""
    if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        shown = series.astype("str")
        return shown.where(series.notna(), "")
    return series.astype("str").fillna("").str.strip()


def _filter(
    table: _Table, columns: Mapping[str, str], call_types: Collection[str] | None, source: str
) -> tuple[pd.DataFrame, IntArray, int]:
    if call_types is None:
        return table.raw, table.rows, 0
    if isinstance(call_types, str):  # one type given as a bare string, not its characters
        call_types = [call_types]
    wanted = sorted({str(c).strip() for c in call_types})
    types = _text(table.raw[columns["call_type"]])
    keep = types.isin(wanted).to_numpy()
    kept = int(keep.sum())
    if kept == 0:
        common = types.value_counts().head(8)
        listing = ", ".join(f"{t!r} ({n})" for t, n in common.items())
        raise InputError(
            f"no row has a call_type in {wanted!r}; the most common call types are: {listing}",
            source=source,
            field=columns["call_type"],
        )
    raw = table.raw.loc[keep].reset_index(drop=True)
    return raw, table.rows[keep], len(table.raw) - kept


# --------------------------------------------------------------------------------------------
# validation


class _Problems:
    """Collects problems as small DataFrames, one per check, built only for the failing rows."""

    def __init__(self, rows: IntArray) -> None:
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        mask: BoolArray,
        column: str,
        value: Callable[[IntArray], pd.Series | str],
        problem: Callable[[IntArray], pd.Series | str],
        code: str,
    ) -> None:
        """Record ``problem`` for the rows in ``mask``; the callables get their positions."""
        if not mask.any():
            return
        where = np.flatnonzero(mask)
        self.bad |= mask
        self.parts.append(
            pd.DataFrame(
                {
                    "row": self.rows[where],
                    "column": column,
                    "value": _aligned(value(where)),
                    "problem": _aligned(problem(where)),
                    "code": code,
                },
                index=pd.RangeIndex(len(where)),
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return _empty_problems()
        return pd.concat(self.parts, ignore_index=True).astype(
            {"column": "str", "value": "str", "problem": "str", "code": "str"}
        )


def _aligned(values: pd.Series | str) -> pd.Series | str:
    return values if isinstance(values, str) else values.reset_index(drop=True)


def _quoted(values: pd.Series) -> pd.Series:
    """Text values in single quotes, for messages."""
    return "'" + values + "'"


def _empty_problems() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series(dtype=np.int64),
            "column": pd.Series(dtype="str"),
            "value": pd.Series(dtype="str"),
            "problem": pd.Series(dtype="str"),
            "code": pd.Series(dtype="str"),
        }
    )


def _shown(series: pd.Series) -> Callable[[IntArray], pd.Series]:
    """A function giving the trimmed text of ``series`` at some positions (RangeIndex)."""

    def show(where: IntArray) -> pd.Series:
        return _text(series.iloc[where]).reset_index(drop=True)

    return show


def _validate(
    raw: pd.DataFrame,
    rows: IntArray,
    columns: Mapping[str, str],
    tz: str,
    bounds: tuple[float, float, float, float] | None,
    source: str,
    repeated_times: str = "error",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(raw)
    problems = _Problems(rows)

    def column(name: str) -> pd.Series | None:
        return raw[columns[name]] if name in columns else None

    # call_id
    id_raw = raw[columns["call_id"]]
    ids = _text(id_raw)
    empty_id = (ids == "").to_numpy()
    problems.add(empty_id, "call_id", lambda w: "", lambda w: "call_id is empty", "missing")

    # received_at
    received = _parse_times(
        raw[columns["received_at"]], tz, problems, source, columns["received_at"], repeated_times
    )

    # lat, lon
    lat, lat_ok = _parse_float(raw[columns["lat"]], "lat", "latitude", problems, required=True)
    lon, lon_ok = _parse_float(raw[columns["lon"]], "lon", "longitude", problems, required=True)
    _check_point(lat, lon, lat_ok & lon_ok, raw, columns, bounds, problems)

    # call_type
    ct = column("call_type")
    call_type = _text(ct) if ct is not None else pd.Series([""] * n, dtype="str")

    # zone (kept, not validated: any text names a district; empty is none)
    zn = column("zone")
    zone = _text(zn) if zn is not None else pd.Series([""] * n, dtype="str")

    # priority
    priority = np.full(n, DEFAULT_PRIORITY, dtype=np.int8)
    pr = column("priority")
    if pr is not None:
        values, ok = _parse_float(pr, "priority", "priority", problems, required=False)
        present = ok & ~np.isnan(values)
        good = present & np.isin(values, (1.0, 2.0, 3.0, 4.0))
        problems.add(
            present & ~good,
            "priority",
            _shown(pr),
            lambda w: "priority " + _text(pr.iloc[w]).reset_index(drop=True) + " is not 1..4",
            "out_of_range",
        )
        priority[good] = values[good].astype(np.int8)

    # risk
    rk = column("risk")
    if rk is not None:
        risk = _text(rk).str.lower()
        risk = risk.where(risk != "", DEFAULT_RISK)
        bad_risk = (~risk.isin(RISK_LEVELS)).to_numpy()
        problems.add(
            bad_risk,
            "risk",
            _shown(rk),
            lambda w: (
                "risk "
                + _quoted(_text(rk.iloc[w]).reset_index(drop=True))
                + f" is not one of {', '.join(RISK_LEVELS)}"
            ),
            "bad_value",
        )
    else:
        risk = pd.Series([DEFAULT_RISK] * n, dtype="str")

    # on_scene_s
    on_scene = np.full(n, np.nan)
    os_ = column("on_scene_s")
    if os_ is not None:
        on_scene, ok = _parse_float(os_, "on_scene_s", "on_scene_s", problems, required=False)
        negative = ok & (on_scene < 0)
        problems.add(
            negative,
            "on_scene_s",
            _shown(os_),
            lambda w: "on_scene_s " + _text(os_.iloc[w]).reset_index(drop=True) + " is negative",
            "out_of_range",
        )

    # transport
    tr = column("transport")
    if tr is not None:
        transport = _parse_transport(tr, problems)
    else:
        transport = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))

    _check_duplicates(ids, empty_id, raw, columns, problems)

    good = ~problems.bad
    frame = pd.DataFrame(
        {
            "call_id": ids.reset_index(drop=True),
            "received_at": received,
            "lat": lat,
            "lon": lon,
            "call_type": call_type.reset_index(drop=True),
            "priority": priority,
            "risk": risk.reset_index(drop=True),
            "on_scene_s": on_scene,
            "transport": transport,
            "zone": zone.reset_index(drop=True),
            "row": rows,
        }
    )
    frame = frame.loc[good]
    frame = frame.sort_values("received_at", kind="stable", ignore_index=True)
    frame = frame.astype(
        {
            "call_id": "str",
            "call_type": "str",
            "risk": "str",
            "zone": "str",
            "lat": np.float64,
            "lon": np.float64,
            "on_scene_s": np.float64,
            "priority": np.int8,
            "row": np.int64,
            "transport": "boolean",
        }
    )
    # Report problems under the source file's column names (they differ when mapped).
    labels = {contract: name for contract, name in columns.items() if contract != name}
    if "lat" in labels or "lon" in labels:
        labels["lat/lon"] = f"{columns['lat']}/{columns['lon']}"
    found = problems.frame()
    if labels and len(found):
        found["column"] = found["column"].replace(labels)
    return frame, found


def _parse_float(
    series: pd.Series, column: str, noun: str, problems: _Problems, *, required: bool
) -> tuple[FloatArray, BoolArray]:
    """Numbers as float64 (NaN where empty or bad) and a mask of usable (not bad) values."""
    if pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = series.isna().to_numpy()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(values)
    else:
        text = _text(series)
        empty = (text == "").to_numpy()
        values = _floats_from_text(text)
    bad = ~empty & ~np.isfinite(values)
    show = _shown(series)
    problems.add(bad, column, show, lambda w: _quoted(show(w)) + " is not a number", "unparseable")
    if required:
        problems.add(empty, column, lambda w: "", lambda w: f"{noun} is empty", "missing")
        return values, ~bad & ~empty
    values = np.where(bad, np.nan, values)
    return values, ~bad


def _floats_from_text(text: pd.Series) -> FloatArray:
    """Parse trimmed strings to float64; ``""`` and unparseable text become NaN."""
    array = pa.array(text, type=pa.large_string(), from_pandas=True)
    nulled = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.large_string()), array)
    try:
        parsed = pc.cast(nulled, pa.float64())
        return np.asarray(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)
    except pa.ArrowInvalid:
        coerced = pd.to_numeric(text.where(text != "", None), errors="coerce")
        return np.asarray(coerced, dtype=np.float64)


def _parse_times(
    series: pd.Series,
    tz: str,
    problems: _Problems,
    source: str,
    field: str,
    repeated_times: str = "error",
) -> pd.Series:
    """Times as a datetime64[ns, tz] Series (NaT where bad); problems recorded.

    Text with a UTC offset is an instant; text without one is wall-clock time in ``tz``, which
    may fall in a daylight-saving gap (does not exist) or repeat (ambiguous).
    """
    n = len(series)
    local = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")  # wall clock in tz
    instant = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")  # UTC
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        is_instant = series.notna().to_numpy()
        is_local = np.zeros(n, dtype=bool)
        instant[:] = _wall(series.dt.tz_convert("UTC"))
        empty = ~is_instant
    elif pd.api.types.is_datetime64_dtype(series.dtype):
        is_local = series.notna().to_numpy()
        is_instant = np.zeros(n, dtype=bool)
        local[:] = _wall(series)
        empty = ~is_local
    elif pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise InputError(
            f"the column holds {series.dtype} values; expected ISO 8601 text such as "
            "2025-03-09T14:30:00 or a timestamp column",
            source=source,
            field=field,
        )
    else:
        text = _text(series)
        empty = (text == "").to_numpy()
        array = pa.array(text, type=pa.large_string(), from_pandas=True)
        offset = pc.match_substring_regex(array, _OFFSET_PATTERN).to_numpy(zero_copy_only=False)
        is_instant = np.asarray(offset, dtype=bool) & ~empty
        is_local = ~is_instant & ~empty
        if is_local.any():
            wall, moved = _parse_local_text(text[is_local])
            local[is_local] = wall
            if moved is not None:  # text the pattern missed but the parser found an offset in
                took = ~np.isnat(moved)
                where = np.flatnonzero(is_local)[took]
                instant[where] = moved[took]
                is_local[where] = False
                is_instant[where] = True
        if is_instant.any():
            parsed = pd.to_datetime(text[is_instant], format="ISO8601", utc=True, errors="coerce")
            instant[is_instant] = _wall(parsed.dt.tz_localize(None))
    unparseable = (is_local & np.isnat(local)) | (is_instant & np.isnat(instant))

    problems.add(empty, "received_at", lambda w: "", lambda w: "received_at is empty", "missing")
    show = _shown(series)
    problems.add(
        unparseable,
        "received_at",
        show,
        lambda w: (
            _quoted(show(w))
            + " is not an ISO 8601 time (e.g. 2025-03-09T14:30:00 or 2025-03-09T14:30:00-05:00)"
        ),
        "unparseable",
    )
    wall = np.where(is_local, local, instant)
    too_far = ~np.isnat(wall) & ((wall < _EARLIEST) | (wall >= _LATEST))
    problems.add(
        too_far,
        "received_at",
        show,
        lambda w: _quoted(show(w)) + " is not between 1900 and 2200",
        "out_of_range",
    )
    result = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")  # UTC
    keep = is_instant & ~np.isnat(instant) & ~too_far
    result[keep] = instant[keep].astype("datetime64[ns]")
    keep = is_local & ~np.isnat(local) & ~too_far
    if keep.any():
        wall_ns = pd.DatetimeIndex(local[keep].astype("datetime64[ns]"))
        localized = wall_ns.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        failed = np.asarray(localized.isna())
        if failed.any() and repeated_times != "error":
            # Read repeated (fall-back) times as asked; gaps stay NaT and stay problems.
            first = repeated_times == "first"
            again = wall_ns.tz_localize(
                tz, ambiguous=np.full(len(wall_ns), first), nonexistent="NaT"
            )
            localized = localized.where(~pd.Index(failed), again)
            failed = np.asarray(localized.isna())
        result[keep] = localized.tz_convert("UTC").tz_localize(None).to_numpy()
        if failed.any():
            _local_time_problems(
                wall_ns[failed], np.flatnonzero(keep)[failed], series, tz, problems
            )
    stamps = pd.DatetimeIndex(result).tz_localize("UTC").tz_convert(tz)
    return pd.Series(stamps, index=range(n))


def _wall(series: pd.Series) -> npt.NDArray[np.datetime64]:
    """Naive datetimes as datetime64[us] (NaT kept)."""
    return np.asarray(series.to_numpy(dtype="datetime64[us]"))


def _parse_local_text(
    text: pd.Series,
) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.datetime64] | None]:
    """Parse offset-free ISO 8601 text to wall-clock datetime64[us] (NaT where unparseable).

    Returns the wall-clock values and, when some text carried a UTC offset after all, their UTC
    instants (NaT elsewhere).
    """
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed offsets the offset pattern did not catch
        has_tz = text.map(_has_tz).to_numpy(dtype=bool)
        naive = pd.to_datetime(text.where(~has_tz, ""), format="ISO8601", errors="coerce")
        aware = pd.to_datetime(text.where(has_tz, ""), format="ISO8601", utc=True, errors="coerce")
        return _wall(naive), _wall(aware.dt.tz_localize(None))
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        nat = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
        return nat, _wall(parsed.dt.tz_convert("UTC").dt.tz_localize(None))
    return _wall(parsed), None


def _has_tz(value: str) -> bool:
    try:
        return pd.Timestamp(value).tzinfo is not None
    except (ValueError, TypeError):
        return False


def _local_time_problems(
    wall: pd.DatetimeIndex, where: IntArray, series: pd.Series, tz: str, problems: _Problems
) -> None:
    """Split local times that failed to localize into daylight-saving gaps and repeats."""
    shifted = wall.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    ambiguous = np.asarray(shifted.isna())
    gap = np.zeros(len(series), dtype=bool)
    gap[where[~ambiguous]] = True
    repeat = np.zeros(len(series), dtype=bool)
    repeat[where[ambiguous]] = True
    show = _shown(series)
    problems.add(
        gap,
        "received_at",
        show,
        lambda w: (
            _quoted(show(w))
            + f" does not exist in {tz}: the clocks spring forward over it (daylight saving); "
            "check it or give its UTC offset"
        ),
        "nonexistent_time",
    )
    if repeat.any():
        twice = wall[ambiguous]
        offsets = []
        for dst in (True, False):
            flags = np.full(len(twice), dst, dtype=bool)
            z = pd.Series(twice.tz_localize(tz, ambiguous=flags).strftime("%z"), dtype="str")
            offsets.append(z.str[:3] + ":" + z.str[3:])
        first_off, second_off = offsets

        def message(w: IntArray) -> pd.Series:
            return (
                _quoted(show(w))
                + f" happens twice in {tz}: the clocks fall back over it (daylight saving); "
                + "give its UTC offset ("
                + first_off
                + " the first time, "
                + second_off
                + " the second)"
            )

        problems.add(repeat, "received_at", show, message, "ambiguous_time")


def _check_point(
    lat: FloatArray,
    lon: FloatArray,
    parsed: BoolArray,
    raw: pd.DataFrame,
    columns: Mapping[str, str],
    bounds: tuple[float, float, float, float] | None,
    problems: _Problems,
) -> None:
    lat_text, lon_text = raw[columns["lat"]], raw[columns["lon"]]
    show_lat, show_lon = _shown(lat_text), _shown(lon_text)

    def both(w: IntArray) -> pd.Series:
        return show_lat(w) + "," + show_lon(w)

    lat_range = np.abs(lat) <= 90.0
    lon_range = np.abs(lon) <= 180.0
    swapped = parsed & ~lat_range & (np.abs(lat) <= 180.0) & (np.abs(lon) <= 90.0)
    problems.add(
        swapped,
        "lat/lon",
        both,
        lambda w: (
            "latitude "
            + show_lat(w)
            + " is outside -90..90 but would fit as a longitude, and longitude "
            + show_lon(w)
            + " as a latitude: latitude and longitude look swapped"
        ),
        "swapped",
    )
    problems.add(
        parsed & ~lat_range & ~swapped,
        "lat",
        show_lat,
        lambda w: "latitude " + show_lat(w) + " is outside -90..90",
        "out_of_range",
    )
    problems.add(
        parsed & lat_range & ~lon_range,
        "lon",
        show_lon,
        lambda w: "longitude " + show_lon(w) + " is outside -180..180",
        "out_of_range",
    )
    in_range = parsed & lat_range & lon_range
    zero = in_range & (lat == 0.0) & (lon == 0.0)
    problems.add(
        zero,
        "lat/lon",
        both,
        lambda w: "0,0 is the usual placeholder for a missing location",
        "zero_point",
    )
    if bounds is None:
        return
    min_lat, min_lon, max_lat, max_lon = bounds
    inside = (lat >= min_lat) & (lat <= max_lat) & (lon >= min_lon) & (lon <= max_lon)
    inside_swapped = (lon >= min_lat) & (lon <= max_lat) & (lat >= min_lon) & (lat <= max_lon)
    box = f"lat {min_lat:g}..{max_lat:g}, lon {min_lon:g}..{max_lon:g}"
    outside = in_range & ~zero & ~inside
    problems.add(
        outside & inside_swapped,
        "lat/lon",
        both,
        lambda w: (
            "point "
            + both(w)
            + f" is outside the bounds ({box}) but inside them with latitude and longitude swapped"
        ),
        "swapped",
    )
    problems.add(
        outside & ~inside_swapped,
        "lat/lon",
        both,
        lambda w: "point " + both(w) + f" is outside the bounds ({box})",
        "outside_bounds",
    )


def _parse_transport(series: pd.Series, problems: _Problems) -> pd.arrays.BooleanArray:
    """true/false, 1/0, yes/no (any case) as a nullable boolean array; <NA> where empty or bad."""
    if pd.api.types.is_bool_dtype(series.dtype):
        missing = series.isna().to_numpy()
        return pd.arrays.BooleanArray(series.fillna(False).to_numpy(dtype=bool), missing)
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        empty = np.isnan(numbers)
        yes = numbers == 1.0
        no = numbers == 0.0
    else:
        words = _text(series).str.lower()
        empty = (words == "").to_numpy()
        yes = words.isin(TRUE_WORDS).to_numpy()
        no = words.isin(FALSE_WORDS).to_numpy()
    bad = ~empty & ~yes & ~no
    show = _shown(series)
    problems.add(
        bad,
        "transport",
        show,
        lambda w: "transport " + _quoted(show(w)) + " is not true/false, 1/0 or yes/no",
        "bad_value",
    )
    return pd.arrays.BooleanArray(np.asarray(yes, dtype=bool), np.asarray(empty | bad, dtype=bool))


def _check_duplicates(
    ids: pd.Series,
    empty_id: BoolArray,
    raw: pd.DataFrame,
    columns: Mapping[str, str],
    problems: _Problems,
) -> None:
    """Reject copies of an earlier row (keep the first) and every row of a conflicting id.

    Rows sharing a ``call_id`` are grouped into versions (equal contract fields). Later rows of
    a version are copies; when an id has more than one version, the first row of each version is
    a conflict. Pure numpy on the duplicated subset.
    """
    dup = ids.duplicated(keep=False).to_numpy() & ~empty_id
    if not dup.any():
        return
    where = np.flatnonzero(dup)
    parts = [
        pa.array(_text(raw[columns[c]].iloc[where]), type=pa.large_string(), from_pandas=True)
        for c in columns
    ]
    content = pc.binary_join_element_wise(*parts, pa.scalar("\x1f", pa.large_string()))
    id_code = pd.factorize(ids.iloc[where])[0].astype(np.int64)
    version = pd.factorize(content.to_numpy(zero_copy_only=False))[0].astype(np.int64)
    rows = problems.rows[where]

    order = np.lexsort((rows, id_code))  # by id, then row
    s_id, s_row, s_pos = id_code[order], rows[order], where[order]
    s_pair = s_id * (int(version.max()) + 1) + version[order]
    _, first_of_pair, pair_index = np.unique(s_pair, return_index=True, return_inverse=True)
    version_first = s_row[first_of_pair][pair_index]  # first row of each row's version
    is_first = s_row == version_first
    versions = np.bincount(s_id, weights=is_first)[s_id].astype(np.int64)

    f_id, f_row = s_id[is_first], s_row[is_first]  # first rows of versions, by id then row
    starts = np.flatnonzero(np.r_[True, f_id[1:] != f_id[:-1]])
    first = np.zeros(int(s_id.max()) + 1, dtype=np.int64)
    second = np.zeros_like(first)
    first[f_id[starts]] = f_row[starts]
    has_second = starts + 1 < len(f_id)
    has_second[has_second] &= f_id[starts[has_second] + 1] == f_id[starts[has_second]]
    second[f_id[starts[has_second]]] = f_row[starts[has_second] + 1]

    n = len(ids)
    copy_mask = np.zeros(n, dtype=bool)
    copy_mask[s_pos[~is_first]] = True
    conflict_mask = np.zeros(n, dtype=bool)
    conflict_mask[s_pos[is_first & (versions > 1)]] = True
    # Per-position lookups for the messages.
    earlier = np.zeros(n, dtype=np.int64)
    earlier[s_pos] = version_first
    other = np.zeros(n, dtype=np.int64)
    other[s_pos] = np.where(s_row == first[s_id], second[s_id], first[s_id])
    more = np.zeros(n, dtype=np.int64)
    more[s_pos] = versions - 2

    def show(w: IntArray) -> pd.Series:
        return ids.iloc[w].reset_index(drop=True)

    def copy_message(w: IntArray) -> pd.Series:
        row = pd.Series(earlier[w]).astype("str")
        return "call_id " + _quoted(show(w)) + " repeats row " + row + " field for field"

    def conflict_message(w: IntArray) -> pd.Series:
        tail = pd.Series(np.where(more[w] > 0, " and " + more[w].astype(str) + " more", ""))
        return (
            "call_id "
            + _quoted(show(w))
            + " is also used by row "
            + pd.Series(other[w]).astype("str")
            + tail.astype("str")
            + " with different details"
        )

    problems.add(conflict_mask, "call_id", show, conflict_message, "duplicate_id")
    problems.add(copy_mask, "call_id", show, copy_message, "duplicate_row")


# --------------------------------------------------------------------------------------------
# reporting


def _rejected(
    problems: pd.DataFrame, table: _Table, raw: pd.DataFrame, rows: IntArray
) -> pd.DataFrame:
    """One row per rejected source row: joined problem columns, then the raw source fields."""
    if problems.empty:
        return _empty_rejected(table)
    # ``problems`` is sorted by row; a row's problems are consecutive. Join them level by level
    # (first problem of each row, then "; " + second, ...) so the work stays vectorized.
    row_values = problems["row"].to_numpy()
    starts = np.r_[True, row_values[1:] != row_values[:-1]]
    group = np.cumsum(starts) - 1
    rank = np.arange(len(row_values)) - np.flatnonzero(starts)[group]
    summary = problems.loc[starts].reset_index(drop=True)
    for level in range(1, int(rank.max()) + 1):
        at = rank == level
        target = group[at]
        extra = problems.loc[at]
        for name in PROBLEM_COLUMNS[1:]:
            joined = summary[name].iloc[target].to_numpy(dtype=object)
            added = extra[name].to_numpy(dtype=object)
            column = summary[name].to_numpy(dtype=object)
            column[target] = (pd.Series(joined) + "; " + pd.Series(added)).to_numpy(dtype=object)
            summary[name] = pd.Series(column, dtype="str")
    fields = raw.set_axis(rows).reindex(summary["row"].to_numpy()).reset_index(drop=True)
    fields.columns = pd.Index(_raw_names(list(raw.columns)))
    return pd.concat([summary, fields], axis=1)


def _raw_names(names: list[str]) -> list[str]:
    return [f"{n}_raw" if n in PROBLEM_COLUMNS else n for n in names]


def _empty_rejected(table: _Table) -> pd.DataFrame:
    fields = pd.DataFrame(columns=_raw_names(list(table.raw.columns)), dtype=object)
    return pd.concat([_empty_problems(), fields], axis=1)


def _write_quarantine(target: Path, rejected: pd.DataFrame, source: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:  # pyarrow writes CSV several times faster than pandas
            table = pa.Table.from_pandas(rejected, preserve_index=False)
            options = pacsv.WriteOptions(quoting_style="needed")
            pacsv.write_csv(table, str(target), write_options=options)
        except (pa.ArrowException, TypeError, ValueError):  # mixed-type raw fields
            rejected.to_csv(target, index=False)
    except OSError as error:
        raise InputError(
            f"cannot write the quarantine file {str(target)!r}: {error}", source=source
        ) from None


def problem_counts(problems: pd.DataFrame) -> pd.DataFrame:
    """Count problems by column and code, most frequent first.

    Parameters
    ----------
    problems
        Long-form problems, as in `CallLog.problems` or `CallLogError.problems`.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``code``, ``rows`` (how many rows have that problem) and ``example``
        (the first such problem, in words).
    """
    if problems.empty:
        return pd.DataFrame(
            {
                "column": pd.Series(dtype="str"),
                "code": pd.Series(dtype="str"),
                "rows": pd.Series(dtype=np.int64),
                "example": pd.Series(dtype="str"),
            }
        )
    grouped = problems.groupby(["column", "code"], sort=False)
    # A check reports a row at most once, so a group's size is its number of rows.
    counts = pd.DataFrame(
        {"rows": grouped.size(), "example": grouped["problem"].first()}
    ).reset_index()
    return counts.sort_values(["rows", "column"], ascending=[False, True], ignore_index=True)


def _distinct(rows: npt.NDArray[Any]) -> int:
    """Number of distinct values in an integer array."""
    if not len(rows):
        return 0
    ordered = np.sort(rows)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1


def _failure_message(
    problems: pd.DataFrame, tz: str, quarantine: Path | None, good_rows: int
) -> str:
    if len(problems) == 1:
        return str(problems["problem"].iloc[0])
    bad = _distinct(problems["row"].to_numpy())
    head = problems.head(MAX_LISTED)
    lines = [
        f"  row {r}, column {c!r}: {p}" if c else f"  row {r}: {p}"
        for r, c, p in zip(head["row"], head["column"], head["problem"], strict=True)
    ]
    if len(problems) > MAX_LISTED:
        lines.append(f"  ... and {len(problems) - MAX_LISTED} more")
    counts = problem_counts(problems)
    summary = ", ".join(
        f"{col or 'record'} {code}: {k}"
        for col, code, k in zip(counts["column"], counts["code"], counts["rows"], strict=True)
    )
    if good_rows == 0:
        advice = "no good row is left"
        if quarantine is not None:
            advice += f"; the rejected rows are in {str(quarantine)!r}"
    else:
        advice = (
            "fix them, or load with bad_rows='quarantine' (CLI: --bad-rows quarantine) to keep "
            "the good rows and write the bad ones to a file"
        )
    zone = ""
    if problems["code"].isin(["nonexistent_time", "ambiguous_time"]).any():
        zone = f"; times without a UTC offset are read as local time in {tz}"
    return f"{bad} bad row{'s' if bad != 1 else ''} ({summary}){zone}; {advice}:\n" + "\n".join(
        lines
    )
