"""``dispatch data ...``: inspect and validate call logs."""

from __future__ import annotations

import json
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from dispatch.errors import InputError
from dispatch.model import RISK_LEVELS

if TYPE_CHECKING:  # heavy imports stay inside the functions that need them
    import pandas as pd

    from dispatch.calls import CallLog

app = typer.Typer(help="Inspect and validate call logs.", no_args_is_help=True)

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP_CALL_TYPES = 12


class BadRows(StrEnum):
    """What to do with bad rows: stop, or keep the good rows and write the bad ones aside."""

    FAIL = "fail"
    QUARANTINE = "quarantine"


@app.command("check")
def check(
    log: Annotated[Path, typer.Argument(help="Call log: .csv, .csv.gz, .parquet or .pq.")],
    timezone: Annotated[
        str,
        typer.Option(
            "--timezone",
            "-z",
            help="IANA time zone of times without a UTC offset.",
            show_default=True,
        ),
    ] = "UTC",
    maps: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="SRC=DST",
            help="Map source column SRC to contract column DST (repeatable); 'SRC=' ignores SRC.",
        ),
    ] = None,
    mapping_file: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            metavar="FILE",
            help="TOML or JSON file of SRC = DST column pairs (top level or under 'mapping'); "
            "--map entries override it.",
        ),
    ] = None,
    call_types: Annotated[
        list[str] | None,
        typer.Option(
            "--call-type",
            metavar="TYPE",
            help="Keep only calls of this call_type (repeatable); the rest are counted as "
            "filtered out.",
        ),
    ] = None,
    bad_rows: Annotated[
        BadRows,
        typer.Option(
            "--bad-rows",
            case_sensitive=False,
            help="fail: stop on any bad row. quarantine: keep the good rows and write the bad "
            "ones to a file.",
        ),
    ] = BadRows.FAIL,
    quarantine_out: Annotated[
        Path | None,
        typer.Option(
            "--quarantine-out",
            metavar="PATH",
            help="Where quarantined rows go (default: <log stem>.rejected.csv next to the log).",
        ),
    ] = None,
    bounds: Annotated[
        str | None,
        typer.Option(
            "--bounds",
            metavar="MINLAT,MINLON,MAXLAT,MAXLON",
            help="Service area in degrees; points outside it are bad rows.",
        ),
    ] = None,
    repeated_times: Annotated[
        str,
        typer.Option(
            "--repeated-times",
            metavar="error|first|second",
            help="Local times in the fall-back hour happen twice: a bad row (error), or read "
            "every one as its first (daylight) or second (standard) occurrence.",
        ),
    ] = "error",
) -> None:
    """Validate a call log and summarize it: rows, dates, calls per hour of week, shares.

    Exits non-zero when the log is unusable. With --bad-rows fail (the default) one bad row is
    enough; with --bad-rows quarantine the bad rows are written aside and the rest is checked.
    """
    from dispatch.calls import CallLogError, load_calls

    mapping = parse_mapping(maps or [], mapping_file)
    box = parse_bounds(bounds) if bounds is not None else None
    try:
        loaded = load_calls(
            log,
            mapping=mapping or None,
            call_types=call_types or None,
            timezone=timezone,
            bad_rows=bad_rows.value,
            quarantine_path=quarantine_out,
            bounds=box,
            repeated_times=_repeated(repeated_times),
        )
    except CallLogError as error:
        typer.echo(f"{log}: {_plural(error.bad_rows, 'bad row')}; nothing loaded")
        typer.echo("")
        typer.echo(_problem_table(error.problems))
        raise
    typer.echo(summarize(loaded))


# --------------------------------------------------------------------------------------------
# option parsing


def parse_mapping(pairs: list[str], mapping_file: Path | None) -> dict[str, str]:
    """Column mapping from a TOML/JSON file and ``SRC=DST`` pairs (pairs win).

    Parameters
    ----------
    pairs
        ``"SRC=DST"`` strings; ``"SRC="`` maps SRC to ``""`` (ignore the column). The split is
        at the last ``=``, so a source name may contain ``=``.
    mapping_file
        ``.toml`` or ``.json`` file holding ``SRC = "DST"`` pairs, at the top level or under a
        ``mapping`` table.

    Returns
    -------
    dict
        Source column -> contract column.
    """
    mapping: dict[str, str] = {}
    if mapping_file is not None:
        mapping.update(_read_mapping_file(mapping_file))
    for pair in pairs:
        src, sep, dst = pair.rpartition("=")
        if not sep or not src.strip():
            raise InputError(f"--map {pair!r} is not SRC=DST (e.g. --map dispatch_latitude=lat)")
        mapping[src.strip()] = dst.strip()
    return mapping


def _read_mapping_file(path: Path) -> dict[str, str]:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the mapping file: {error}", source=source) from None
    suffix = path.suffix.lower()
    data: Any
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise InputError("a mapping file is .toml or .json", source=source)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"not valid {suffix[1:].upper()}: {error}", source=source) from None
    if isinstance(data, dict) and isinstance(data.get("mapping"), dict):
        data = data["mapping"]
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InputError(
            'expected source = "contract column" string pairs, e.g. dispatch_latitude = "lat"',
            source=source,
        )
    return {str(k): str(v) for k, v in data.items()}


def parse_bounds(text: str) -> tuple[float, float, float, float]:
    """``"MINLAT,MINLON,MAXLAT,MAXLON"`` as four floats (degrees)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4:
        raise InputError(
            f"--bounds {text!r} is not MINLAT,MINLON,MAXLAT,MAXLON "
            "(e.g. --bounds 39.6,-105.1,39.9,-104.6)"
        )
    return (values[0], values[1], values[2], values[3])


# --------------------------------------------------------------------------------------------
# summary


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def summarize(log: CallLog) -> str:
    """A plain-text report of a loaded call log: counts, dates, hour-of-week load, shares."""
    frame = log.frame
    lines: list[str] = []
    parts = [f"{_plural(len(frame), 'call')} from {_plural(log.input_rows, 'row')}"]
    if log.filtered_out:
        parts.append(f"{log.filtered_out:,} filtered out by call type")
    parts.append(f"{len(log.rejected):,} rejected")
    lines.append(f"{log.source}: " + ", ".join(parts))
    mapped = {k: v for k, v in log.columns.items() if k != v}
    if mapped:
        lines.append("columns: " + ", ".join(f"{v} -> {k}" for k, v in mapped.items()))
    if len(frame):
        start, end = log.start, log.end
        days = max((end - start).total_seconds() / 86400.0, 1.0 / 24.0)
        lines.append(
            f"time zone {log.timezone}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} "
            f"({days:,.1f} days, {len(frame) / days:,.1f} calls/day)"
        )
        lines += ["", *_hour_of_week(frame["received_at"])]
        lines += ["", *_share_table("call type", frame["call_type"], TOP_CALL_TYPES)]
        lines += ["", *_share_table("risk", frame["risk"], 3, order=RISK_LEVELS)]
        priority = frame["priority"].astype("str")
        lines += ["", *_share_table("priority", priority, 4, order=("1", "2", "3", "4"))]
        on_scene = float(frame["on_scene_s"].notna().mean())
        transport = frame["transport"]
        known = int(transport.notna().sum())
        taken = int(transport.fillna(False).astype(bool).sum())
        extra = f", transported {taken / known:.1%} of {known:,} known" if known else ""
        lines += ["", f"on_scene_s given for {on_scene:.1%} of calls{extra}"]
    if log.quarantine_path is not None:
        lines += ["", f"rejected rows: {len(log.rejected):,}, written to {log.quarantine_path}"]
        if len(log.rejected):
            lines.append(_problem_table(log.problems))
    return "\n".join(lines)


def _hour_of_week(received: pd.Series) -> list[str]:
    """Mean calls per clock hour, by local weekday (rows) and hour (columns)."""
    import numpy as np
    import pandas as pd

    slot = received.dt.day_of_week.to_numpy() * 24 + received.dt.hour.to_numpy()
    counts = np.bincount(slot, minlength=168).astype(np.float64)
    utc = received.dt.tz_convert("UTC")
    hours = pd.date_range(utc.min().floor("h"), utc.max().floor("h"), freq="h")
    local = hours.tz_convert(received.dt.tz)
    seen = np.bincount(local.day_of_week * 24 + local.hour, minlength=168).astype(np.float64)
    mean = np.divide(counts, seen, out=np.zeros(168), where=seen > 0).reshape(7, 24)
    per_day = mean.sum(axis=1)
    top = float(mean.max())
    digits = 1 if top < 10 else 0
    width = max(len(f"{top:.{digits}f}"), 2)
    header = "     " + " ".join(f"{h:02d}".rjust(width) for h in range(24)) + "    day"
    lines = ["mean calls per hour, by local weekday and hour", header]
    for d, name in enumerate(DAYS):
        cells = " ".join(f"{v:{width}.{digits}f}" for v in mean[d])
        lines.append(f"{name}  {cells} {per_day[d]:6.1f}")
    busiest = int(mean.argmax())
    lines.append(
        f"busiest hour: {DAYS[busiest // 24]} {busiest % 24:02d}:00 "
        f"({mean.flat[busiest]:.{digits + 1}f} calls/hour on average)"
    )
    return lines


def _share_table(
    title: str, values: pd.Series, top: int, order: tuple[str, ...] | None = None
) -> list[str]:
    counts = values.where(values != "", "(none)").value_counts()
    if order is not None:
        counts = counts.reindex([k for k in order if k in counts.index])
    total = int(counts.sum())
    shown = counts.head(top)
    width = max([len(title), *(len(str(k)) for k in shown.index)])
    lines = [f"{title:<{width}}  {'calls':>9}  share"]
    for key, n in shown.items():
        lines.append(f"{key!s:<{width}}  {n:>9,}  {n / total:6.1%}")
    rest = counts.iloc[top:]
    if len(rest):
        other = f"({len(rest)} more)"
        lines.append(f"{other:<{width}}  {int(rest.sum()):>9,}  {rest.sum() / total:6.1%}")
    return lines


def _problem_table(problems: pd.DataFrame) -> str:
    from dispatch.calls import problem_counts

    counts = problem_counts(problems)
    columns = [str(c) or "(record)" for c in counts["column"]]
    width_c = max(6, *(len(c) for c in columns))
    width_k = max(7, *(len(str(k)) for k in counts["code"]))
    lines = [f"{'column':<{width_c}}  {'problem':<{width_k}}  {'rows':>9}  first example"]
    for column, code, rows, example in zip(
        columns, counts["code"], counts["rows"], counts["example"], strict=True
    ):
        short = example if len(example) <= 90 else example[:87] + "..."
        lines.append(f"{column:<{width_c}}  {code!s:<{width_k}}  {int(rows):>9,}  {short}")
    return "\n".join(lines)


def _repeated(value: str) -> Literal["error", "first", "second"]:
    if value == "first":
        return "first"
    if value == "second":
        return "second"
    if value == "error":
        return "error"
    raise typer.BadParameter(
        f"{value!r}: use error, first or second", param_hint="--repeated-times"
    )
