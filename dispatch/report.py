"""``dispatch report DIR``: one self-contained HTML page and its PNG figures.

Works on the output of ``dispatch simulate`` (one scenario) and of ``dispatch sweep`` (many
variants). The page has no external scripts, fonts, styles or map tiles: every figure is a PNG
embedded as a ``data:`` URI, and the same PNGs are written next to it for slides.

Figures:

- ``response_times.png``: share of calls reached within t minutes, per variant;
- ``staffing_curve.png`` (sweeps): the target share and the mean response against staffing, with
  95% interval bands;
- ``demand_duty.png``: calls per hour by hour of the week against teams on duty;
- ``no_specialist_reasons.png``: why calls got no specialist team, per variant;
- ``team_utilization.png``: share of on-duty time teams spent on calls;
- ``wellness_tradeoff.png`` (sweeps over wellness rules): response time and specialist share
  against workload evenness and peak utilization, per variant;
- ``map_*.png`` (when the scenario has a ``[map]`` table, or with ``maps=True``): response and
  specialist share by neighbourhood or hexagonal cell, where no specialist came and why, the
  stations' reach, and for sweeps what a variant changes; see `dispatch.maps`.

The page also tabulates per-team workload and wellness figures (critical incidents, overtime,
longest stretch without a break, breaks taken, deferred and missed, wellness overrides).

Matplotlib (Agg backend) is imported inside the functions that draw.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dispatch.errors import DispatchError
from dispatch.figures import PAGE_CSS, figure_html, html_table, pyplot, save_png

if TYPE_CHECKING:
    import pandas as pd

    from dispatch.sweep import SweepSummary

REASONS = (
    ("off_shift", "off shift"),
    ("all_busy", "all busy"),
    ("too_far", "too far"),
    ("ineligible", "ineligible"),
)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: At most this many variants get their own line in a figure; the rest are thinned evenly.
MAX_LINES = 12


class ReportError(DispatchError):
    """The directory is not a simulate or sweep output, or lacks a file the report needs."""


@dataclass
class ReportData:
    """Results normalised for the report, whatever command wrote them.

    Attributes
    ----------
    kind
        ``"sweep"`` or ``"simulate"``.
    summary
        The directory's ``summary.json``.
    variants
        Per variant: ``variant``, ``label``, ``values``, ``teams``, ``team_hours_week`` (None
        when unknown), ``metrics`` ({name: {mean, ci95}}), ``meets_target``.
    response
        Response-time histogram: ``variant``, ``outcome``, ``lower_min``, ``upper_min``,
        ``calls``.
    duty
        Per variant and hour of week: ``calls_per_hour``, ``teams_on_duty`` (NaN when the
        scenario is not available), or None.
    teams
        Per variant, team and replication: ``utilization`` and the rest of ``teams.parquet``.
    notes
        Caveats to print on the page.
    sweep
        A sweep's summary as typed records (None for ``simulate``).
    """

    kind: str
    summary: dict[str, Any]
    variants: list[dict[str, Any]]
    response: pd.DataFrame
    duty: pd.DataFrame | None
    teams: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    sweep: SweepSummary | None = None

    @property
    def title(self) -> str:
        return str(self.summary.get("scenario", "dispatch results"))

    @property
    def target_min(self) -> float:
        return float(self.summary.get("target_response_min") or 20.0)


def load_results(directory: str | Path, *, scenario: str | Path | None = None) -> ReportData:
    """Read a ``simulate`` or ``sweep`` output directory.

    Parameters
    ----------
    directory
        The ``--out`` directory of ``dispatch simulate`` or ``dispatch sweep``.
    scenario
        The scenario file, for the teams-on-duty line of a ``simulate`` directory whose summary
        does not record it.
    """
    import pandas as pd

    out = Path(directory)
    summary_path = out / "summary.json"
    if not summary_path.is_file():
        if (out / "manifest.json").is_file():
            raise ReportError(
                f"{out}: the sweep has not finished (no summary.json); "
                "rerun the same `dispatch sweep` command to complete it"
            )
        raise ReportError(f"{out}: no summary.json; is this a `dispatch simulate` or sweep output?")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ReportError(f"{summary_path}: not a readable summary") from None
    if summary.get("kind") == "sweep":
        from dispatch.sweep import SweepSummary

        try:
            sweep = SweepSummary.from_dict(summary)
        except (KeyError, TypeError, ValueError) as error:
            raise ReportError(f"{summary_path}: not a readable sweep summary ({error!r})") from None
        for name in ("response_times.parquet", "teams.parquet", "duty.parquet"):
            if not (out / name).is_file():
                raise ReportError(f"{out}: {name} is missing; rerun the sweep to rebuild it")
        return ReportData(
            kind="sweep",
            summary=summary,
            variants=summary["variants"],
            response=pd.read_parquet(out / "response_times.parquet"),
            duty=pd.read_parquet(out / "duty.parquet"),
            teams=pd.read_parquet(out / "teams.parquet"),
            sweep=sweep,
        )
    return _simulate_results(out, summary, scenario)


def _simulate_results(
    out: Path, summary: dict[str, Any], scenario: str | Path | None
) -> ReportData:
    import pandas as pd

    from dispatch.sweep import response_histogram

    for name in ("calls.parquet", "teams.parquet"):
        if not (out / name).is_file():
            raise ReportError(f"{out}: {name} is missing; is this a `dispatch simulate` output?")
    calls = pd.read_parquet(
        out / "calls.parquet", columns=["replication", "received_at", "response_s", "outcome"]
    )
    teams = pd.read_parquet(out / "teams.parquet")
    teams.insert(0, "variant", 0)
    hist = response_histogram(calls)
    lower = np.arange(len(hist["specialist"]), dtype=float)
    upper = np.append(lower[1:], np.inf)
    response = pd.concat(
        [
            pd.DataFrame(
                {
                    "variant": 0,
                    "outcome": outcome,
                    "lower_min": lower,
                    "upper_min": upper,
                    "calls": counts,
                }
            )
            for outcome, counts in hist.items()
        ],
        ignore_index=True,
    )
    notes: list[str] = []
    replications = max(int(calls["replication"].nunique()), 1)
    hours, demand = _hour_of_week_demand(calls)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_hour = np.where(hours > 0, demand / replications / np.maximum(hours, 1), np.nan)
    duty = pd.DataFrame(
        {
            "variant": 0,
            "hour_of_week": np.arange(168),
            "calls_per_hour": per_hour,
            "teams_on_duty": np.nan,
        }
    )
    path = scenario if scenario is not None else summary.get("scenario_path")
    team_hours: float | None = None
    if path is not None:
        from dispatch.scenario_file import load_scenario
        from dispatch.sim.prepare import prepare
        from dispatch.sweep import duty_profile

        profile = duty_profile(prepare(load_scenario(path)))
        rows = list(profile.duty.values())
        duty["teams_on_duty"] = np.nansum(rows, axis=0) if rows else 0.0
        for kind, row in profile.duty.items():
            duty[f"on_duty_{kind}"] = row
        team_hours = float(np.nansum(rows)) if rows else 0.0
    else:
        notes.append(
            "Teams on duty are not shown: the results do not record their scenario file. "
            "Run `dispatch report DIR --scenario FILE` to add them."
        )
    variant = {
        "variant": 0,
        "label": str(summary.get("scenario", "scenario")),
        "values": {},
        "teams": int(teams["team_id"].nunique()),
        "team_hours_week": team_hours,
        "metrics": summary["metrics"],
        "meets_target": None,
    }
    return ReportData(
        kind="simulate",
        summary=summary,
        variants=[variant],
        response=response,
        duty=duty,
        teams=teams,
        notes=notes,
    )


def _hour_of_week_demand(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Hours of each hour of week in the calls' span, and calls received in each (all reps)."""
    import pandas as pd

    sim = calls[calls["outcome"] != "thinned"]
    received = pd.DatetimeIndex(sim["received_at"])
    if len(received) == 0:
        return np.zeros(168), np.zeros(168)
    span = pd.date_range(received.min().floor("h"), received.max().floor("h"), freq="h")
    hours = np.bincount(np.asarray(span.day_of_week * 24 + span.hour), minlength=168)
    demand = np.bincount(np.asarray(received.day_of_week * 24 + received.hour), minlength=168)
    return hours.astype(float), demand.astype(float)


# -- figures -------------------------------------------------------------------------------
def _shown(variants: list[dict[str, Any]], keep: int | None = None) -> list[dict[str, Any]]:
    """At most MAX_LINES variants, evenly spread, always with the first, last and ``keep``."""
    if len(variants) <= MAX_LINES:
        return variants
    picks = set(np.linspace(0, len(variants) - 1, MAX_LINES - 1).round().astype(int).tolist())
    if keep is not None:
        picks.add(next(i for i, v in enumerate(variants) if v["variant"] == keep))
    return [variants[i] for i in sorted(picks)]


def _short(v: dict[str, Any], keys: list[str]) -> str:
    """The variant's values only (``"3 / 3 / 2"``); `_keys_title` names them."""
    if not keys:
        return str(v["label"])
    return " / ".join(str(v["values"][k]) for k in keys)


def _keys_title(keys: list[str]) -> str:
    return " / ".join(_last(k) for k in keys)


def _last(key: str) -> str:
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 else key


def figure_response_times(data: ReportData, path: Path) -> Path:
    """Share of calls reached within t minutes (all responses, specialist or fallback)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.6))
    keys = data.summary.get("varied", [])
    answer = (data.summary.get("target") or {}).get("answer")
    shown = _shown(data.variants, answer)
    cmap = plt.get_cmap("viridis")
    total_calls = 0.0
    for i, v in enumerate(shown):
        rows = data.response[data.response["variant"] == v["variant"]]
        counts = rows.groupby("lower_min", sort=True)["calls"].sum()
        n = float(v["metrics"]["calls"]["mean"] or 0.0) * max(data.summary["replications"], 1)
        total = n if n > 0 else float(counts.sum())
        if total <= 0:
            continue
        total_calls += total
        share = np.cumsum(counts.to_numpy(dtype=float)) / total * 100
        x = counts.index.to_numpy(dtype=float) + 1.0
        color = cmap(i / max(len(shown) - 1, 1)) if len(shown) > 1 else "#1f5f8b"
        width = 2.4 if v["variant"] == answer else 1.4
        ax.step(x, share, where="post", color=color, lw=width, label=_short(v, keys))
    ax.axvline(data.target_min, color="#b03030", ls="--", lw=1)
    ax.text(data.target_min + 1, 3, f"target {data.target_min:g} min", color="#b03030")
    ax.set_xlim(0, max(90.0, data.target_min * 3))
    ax.set_ylim(0, 100)
    ax.set_xlabel("minutes from the 911 call to a team on scene")
    ax.set_ylabel("% of calls reached")
    ax.set_title("Response times (any responder; unserved calls never reach 100%)")
    ax.grid(alpha=0.3)
    if len(shown) > 1 or keys:
        ax.legend(fontsize=8, loc="lower right", title=_keys_title(keys) or None)
    return save_png(fig, path)


def _staffing_axis(variants: list[dict[str, Any]]) -> tuple[np.ndarray, str, list[str] | None]:
    teams = [v["teams"] for v in variants]
    hours = [v.get("team_hours_week") for v in variants]
    if len(set(teams)) == len(teams):
        return np.asarray(teams, dtype=float), "teams on the roster", None
    if None not in hours and len(set(hours)) == len(hours):
        return np.asarray(hours, dtype=float), "team-hours on duty per week", None
    return np.arange(len(variants), dtype=float), "variant", [str(v["variant"]) for v in variants]


def figure_staffing_curve(data: ReportData, path: Path) -> Path:
    """The target share and the mean response against staffing, with 95% interval bands."""
    plt = pyplot()
    from dispatch.sweep import TARGET_METRIC

    target = data.summary.get("target") or {}
    x, xlabel, ticks = _staffing_axis(data.variants)
    order = np.argsort(x, kind="stable")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True)
    panels = (
        (top, TARGET_METRIC, 100.0, f"% reached by a specialist within {data.target_min:g} min"),
        (bottom, "mean_response_min", 1.0, "mean response, min"),
    )
    for ax, metric, k, label in panels:
        mean = np.array([_num(v["metrics"][metric]["mean"]) for v in data.variants]) * k
        lo = np.array([_num(v["metrics"][metric]["ci95"][0]) for v in data.variants]) * k
        hi = np.array([_num(v["metrics"][metric]["ci95"][1]) for v in data.variants]) * k
        ax.fill_between(x[order], lo[order], hi[order], color="#1f5f8b", alpha=0.25, lw=0)
        ax.plot(x[order], mean[order], "o-", color="#1f5f8b", ms=4)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    share = target.get("share")
    if share is not None:
        top.axhline(share * 100, color="#b03030", ls="--", lw=1)
        top.text(x.min(), share * 100 + 0.8, f"target {share * 100:g}%", color="#b03030")
    answer = target.get("answer")
    if answer is not None:
        i = next(j for j, v in enumerate(data.variants) if v["variant"] == answer)
        value = _num(data.variants[i]["metrics"][TARGET_METRIC]["mean"]) * 100
        top.plot([x[i]], [value], "o", ms=11, mfc="none", mec="#b03030", mew=2)
        top.annotate(
            "smallest that meets the target",
            (x[i], value),
            xytext=(10, -22),
            textcoords="offset points",
            color="#b03030",
        )
    top.set_title("Staffing curve (bands: 95% confidence intervals)")
    bottom.set_xlabel(xlabel)
    if ticks is not None:
        bottom.set_xticks(x, ticks)
    return save_png(fig, path)


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def figure_demand_duty(data: ReportData, path: Path) -> Path:
    """Calls per hour by hour of week (bars) against teams on duty (lines)."""
    plt = pyplot()
    assert data.duty is not None
    fig, ax = plt.subplots(figsize=(10, 4.2))
    first = data.duty[data.duty["variant"] == data.variants[0]["variant"]]
    hours = np.arange(168)
    ax.bar(hours, first["calls_per_hour"].to_numpy(), width=1.0, color="#c9c9c9", label="calls")
    ax.set_ylabel("calls per hour (mean)")
    ax.set_xlabel("hour of the week (local time)")
    ax.set_xticks(np.arange(0, 168, 24) + 12, DAYS)
    for day in range(1, 7):
        ax.axvline(day * 24, color="#888888", lw=0.5)
    ax.set_xlim(0, 168)
    lines: list[Any] = []
    if not first["teams_on_duty"].isna().all():
        twin = ax.twinx()
        target = data.summary.get("target") or {}
        picks = [data.variants[0]]
        answer = target.get("answer")
        for v in (
            next((v for v in data.variants if v["variant"] == answer), None),
            data.variants[-1],
        ):
            if v is not None and v not in picks:
                picks.append(v)
        keys = data.summary.get("varied", [])
        cmap = plt.get_cmap("viridis")
        for i, v in enumerate(picks):
            rows = data.duty[data.duty["variant"] == v["variant"]]
            color = cmap(i / max(len(picks) - 1, 1)) if len(picks) > 1 else "#1f5f8b"
            label = "teams on duty" + (
                f" ({_keys_title(keys)} = {_short(v, keys)})" if keys else ""
            )
            (line,) = twin.step(
                hours, rows["teams_on_duty"].to_numpy(), where="mid", color=color, label=label
            )
            lines.append(line)
        twin.set_ylabel("teams on duty")
        twin.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    handles += lines
    labels += [line.get_label() for line in lines]
    ax.legend(handles, labels, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    ax.set_title("Demand by hour of the week against teams on duty")
    return save_png(fig, path)


def figure_reasons(data: ReportData, path: Path) -> Path:
    """Share of calls with no specialist team, by reason, per variant (stacked bars)."""
    plt = pyplot()
    keys = data.summary.get("varied", [])
    shown = data.variants
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.38 * len(shown)))
    y = np.arange(len(shown))
    left = np.zeros(len(shown))
    colors = ("#7a7a7a", "#d08c2b", "#4f86b0", "#a34a4a")
    for (reason, label), color in zip(REASONS, colors, strict=True):
        values = np.array(
            [_num(v["metrics"].get(f"reason_{reason}_share", {}).get("mean")) * 100 for v in shown]
        )
        values = np.nan_to_num(values)
        ax.barh(y, values, left=left, color=color, label=label, height=0.7)
        left += values
    ax.set_yticks(y, [_short(v, keys) for v in shown], fontsize=8)
    ax.set_ylabel(_keys_title(keys))
    ax.invert_yaxis()
    ax.set_xlim(0, max(float(left.max()) * 1.08, 1.0))
    ax.set_xlabel("% of calls that got no specialist team")
    ax.set_title("Why calls got no specialist team")
    ax.legend(fontsize=8, loc="lower right", ncols=4)
    ax.grid(axis="x", alpha=0.3)
    return save_png(fig, path)


def figure_utilization(data: ReportData, path: Path) -> Path:
    """Per team, share of on-duty time spent on calls (mean over replications)."""
    plt = pyplot()
    per_team = (
        data.teams.groupby(["variant", "team_id"], sort=True)["utilization"].mean().reset_index()
    )
    if data.kind == "simulate" or len(data.variants) == 1:
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.3 * len(per_team)))
        ax.barh(per_team["team_id"], per_team["utilization"].to_numpy() * 100, color="#1f5f8b")
        ax.invert_yaxis()
        ax.set_xlabel("% of on-duty time on calls (mean over replications)")
        ax.tick_params(axis="y", labelsize=8)
    else:
        keys = data.summary.get("varied", [])
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.38 * len(data.variants)))
        groups = [
            per_team.loc[per_team["variant"] == v["variant"], "utilization"].dropna().to_numpy()
            * 100
            for v in data.variants
        ]
        ax.boxplot(groups, orientation="horizontal", widths=0.6)
        ax.set_yticks(np.arange(1, len(groups) + 1), [_short(v, keys) for v in data.variants])
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylabel(_keys_title(keys))
        ax.invert_yaxis()
        ax.set_xlabel("% of on-duty time on calls, per team (mean over replications)")
    ax.set_title("Team utilization")
    ax.grid(axis="x", alpha=0.3)
    return save_png(fig, path)


WELLNESS_COLUMNS = (
    ("calls", "calls", "{:.0f}"),
    ("critical_incidents", "critical incidents", "{:.0f}"),
    ("utilization", "utilization %", "{:.0%}"),
    ("peak_hour_utilization", "peak hour %", "{:.0%}"),
    ("overtime_hours", "overtime h", "{:.1f}"),
    ("longest_stretch_hours", "longest stretch h", "{:.1f}"),
    ("breaks", "breaks", "{:.1f}"),
    ("breaks_deferred", "deferred", "{:.1f}"),
    ("breaks_missed", "missed", "{:.1f}"),
    ("wellness_overrides", "overrides", "{:.1f}"),
)


def wellness_rows(teams: pd.DataFrame) -> list[list[str]]:
    """Per team (first variant), wellness figures as table rows: means over replications."""
    first = teams[teams["variant"] == teams["variant"].min()]
    present = [c for c in WELLNESS_COLUMNS if c[0] in first.columns]
    means = first.groupby("team_id", sort=True)[[c[0] for c in present]].mean(numeric_only=True)
    rows = [["team", *[label for _, label, _ in present]]]
    for team_id, row in means.iterrows():
        rows.append(
            [
                str(team_id),
                *[
                    "-" if not np.isfinite(row[name]) else fmt.format(row[name])
                    for name, _, fmt in present
                ],
            ]
        )
    return rows


def has_tradeoff(data: ReportData) -> bool:
    """True for a sweep whose variants vary wellness rules or meal breaks."""
    keys = [str(k) for k in data.summary.get("varied", [])]
    return (
        data.kind == "sweep"
        and len(data.variants) > 1
        and any(k.startswith(("policy.wellness", "policy.meal_break")) for k in keys)
        and all("gini_busy_hours" in v["metrics"] for v in data.variants)
    )


RULE_LABELS = {
    "recovery_min": "recovery",
    "max_consecutive": "streak",
    "utilization_cap": "cap",
    "fairness_margin_s": "fairness",
}


def wellness_label(variant: dict[str, Any], keys: list[str]) -> str:
    """Which wellness rules a variant turns on, e.g. ``"recovery+fairness"`` or ``"no rules"``."""
    on: list[str] = []
    for key in keys:
        value = variant["values"].get(key)
        name = key.rsplit(".", 1)[-1]
        if key.startswith("policy.wellness") and name in RULE_LABELS:
            if value is not False and value is not None:
                on.append(RULE_LABELS[name])
        elif key == "policy.wellness.enabled":
            on.append("all rules" if value else "no rules")
        else:
            on.append(f"{name}={str(value).lower() if isinstance(value, bool) else value}")
    return "+".join(on) if on else "no rules"


def figure_tradeoff(data: ReportData, path: Path) -> Path:
    """What each variant's wellness rules cost (response, specialist share) and buy (workload)."""
    plt = pyplot()
    keys = [str(k) for k in data.summary.get("varied", [])]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    panels = (
        (
            "gini_busy_hours",
            1.0,
            "Gini of team busy hours (lower: fairer)",
            "mean_response_min",
            1.0,
            "mean response (min)",
        ),
        (
            "max_utilization",
            100.0,
            "highest team utilization (%)",
            "specialist_share",
            100.0,
            "calls reached by a specialist (%)",
        ),
    )
    for ax, (xkey, xk, xlabel, ykey, yk, ylabel) in zip(axes, panels, strict=True):
        for v in data.variants:
            mx, my = v["metrics"][xkey], v["metrics"][ykey]
            if mx["mean"] is None or my["mean"] is None:
                continue
            x, y = mx["mean"] * xk, my["mean"] * yk

            def half(entry: dict[str, Any], k: float, mid: float) -> list[list[float]]:
                lo, hi = entry["ci95"]
                if lo is None or hi is None:
                    return [[0.0], [0.0]]
                return [[max(mid - lo * k, 0.0)], [max(hi * k - mid, 0.0)]]

            ax.errorbar(
                x,
                y,
                xerr=half(mx, xk, x),
                yerr=half(my, yk, y),
                fmt="o",
                capsize=3,
                color="#1f5f8b",
            )
            ax.annotate(
                f"#{v['variant']} {wellness_label(v, keys)}",
                (x, y),
                textcoords="offset points",
                xytext=(6, 4 if v["variant"] % 2 == 0 else -10),
                fontsize=7,
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    fig.suptitle("Wellness rules: cost in response against gain in workload (95% intervals)")
    fig.tight_layout()
    return save_png(fig, path)


# -- the page ------------------------------------------------------------------------------


def _headline_rows(summary: dict[str, Any]) -> list[list[str]]:
    from dispatch.sim.results import HEADLINES

    rows = [["figure", "mean", "95% interval"]]
    for key, label, unit in HEADLINES:
        entry = summary["metrics"].get(key)
        if entry is None or entry["mean"] is None:
            continue
        k = 100.0 if unit == "%" else 1.0
        d = 2 if unit in ("", "x") else 1
        lo, hi = entry["ci95"]
        interval = f"{lo * k:.{d}f} to {hi * k:.{d}f}" if lo is not None and hi is not None else "-"
        rows.append([label, f"{entry['mean'] * k:.{d}f} {unit}".rstrip(), interval])
    return rows


def write_report(
    directory: str | Path,
    *,
    out: str | Path | None = None,
    scenario: str | Path | None = None,
    maps: bool | None = None,
    compare: tuple[int, int] | None = None,
) -> Path:
    """Write ``report.html`` (self-contained) and ``figures/*.png`` for a results directory.

    Parameters
    ----------
    directory
        A ``dispatch simulate`` or ``dispatch sweep`` output directory.
    out
        The HTML file; default ``DIRECTORY/report.html``. Figures go to ``figures/`` beside it.
    scenario
        The scenario file, when a ``simulate`` directory does not record it (for teams on duty
        and maps).
    maps
        True: draw maps (on hexagonal cells when the scenario names no areas); False: none;
        None: when the scenario has a ``[map]`` table. A sweep needs its calls (``--calls``).
    compare
        Sweeps: ``(baseline, other)`` variant indices for the difference map; default the
        first variant and the answer.

    Returns
    -------
    Path
        The HTML file.
    """
    from dispatch.sweep import answer_text, variant_table

    data = load_results(directory, scenario=scenario)
    html_path = Path(out) if out is not None else Path(directory) / "report.html"
    figures_dir = html_path.parent / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)

    sections: list[str] = []
    if data.sweep is not None:
        rows = variant_table(data.sweep)
        answer = data.sweep.target.answer
        classes = [
            "answer" if v.variant == answer else "meets" if v.meets_target else ""
            for v in data.sweep.variants
        ]
        sections.append(
            f'<h2>Answer</h2><div class="answer-box">{html.escape(answer_text(data.sweep))}</div>'
        )
        sections.append(
            "<h2>Variants</h2><p class='note'>Means across replications, 95% confidence "
            "intervals in brackets; common random numbers across variants.</p>"
            + html_table(rows, classes)
        )
    else:
        sections.append("<h2>Headline figures</h2>" + html_table(_headline_rows(data.summary)))

    figures: list[tuple[str, Path, str]] = [
        (
            "Response times",
            figure_response_times(data, figures_dir / "response_times.png"),
            "Share of calls with a team on scene within t minutes of the 911 call, any "
            "responder (co-responder team or fallback).",
        )
    ]
    if data.kind == "sweep" and len(data.variants) > 1:
        figures.append(
            (
                "Staffing curve",
                figure_staffing_curve(data, figures_dir / "staffing_curve.png"),
                "Means with 95% confidence interval bands; the target is judged on the lower "
                "edge of the band.",
            )
        )
    if data.duty is not None:
        figures.append(
            (
                "Demand and teams on duty",
                figure_demand_duty(data, figures_dir / "demand_duty.png"),
                "Bars: mean calls received in each hour of the week. Lines: mean teams on duty.",
            )
        )
    figures.append(
        (
            "Why no specialist",
            figure_reasons(data, figures_dir / "no_specialist_reasons.png"),
            "Calls that got a fallback response or none, by the reason no specialist team "
            "was sent.",
        )
    )
    figures.append(
        (
            "Team utilization",
            figure_utilization(data, figures_dir / "team_utilization.png"),
            "Time on calls (travel, on scene, transport and hand-off) as a share of time on duty.",
        )
    )
    if has_tradeoff(data):
        figures.append(
            (
                "Wellness trade-off",
                figure_tradeoff(data, figures_dir / "wellness_tradeoff.png"),
                "Each point is a variant: left, the mean response against how evenly busy hours "
                "are spread across teams; right, the share of calls reached by a specialist "
                "against the busiest team's utilization.",
            )
        )
    from dispatch.maps import map_section

    drawn = map_section(
        directory,
        figures_dir,
        kind=data.kind,
        summary=data.summary,
        variants=data.variants,
        scenario=scenario,
        maps=maps,
        compare=compare,
    )
    figures.extend(drawn.figures)
    sections.extend(figure_html(title, path, caption) for title, path, caption in figures)
    if drawn.table:
        sections.append(drawn.table)
    sections.append(
        "<h2>Team workload and wellness</h2><p class='note'>Per team, means over replications"
        + (" of the first variant" if data.kind == "sweep" else "")
        + ". A stretch ends at an idle gap of a break's length; overrides are calls a "
        "high-priority call sent a team to despite a wellness hold.</p>"
        + html_table(wellness_rows(data.teams))
    )
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in [*data.notes, *drawn.notes])
    summary = data.summary
    meta = (
        f"{len(data.variants)} variant(s) x {summary.get('replications')} replication(s), "
        f"seed {summary.get('seed')}, response target {data.target_min:g} min"
    )
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(data.title)}</title><style>{PAGE_CSS}</style></head><body>"
        f"<h1>{html.escape(data.title)}</h1><p class='note'>{html.escape(meta)}</p>"
        f"{notes}{''.join(sections)}</body></html>\n"
    )
    html_path.write_text(page, encoding="utf-8")
    return html_path
