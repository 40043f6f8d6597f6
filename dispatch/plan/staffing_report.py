"""The staffing plan's report page: ``staffing.html``, one self-contained file (figures inline).

Demand and planned teams by hour of week, the target figure by hour with its interval, how the
loop got there, and the plan's cost against the best uniform round-the-clock plan. The PNG
figures are also written to ``figures/`` beside the page.
"""

from __future__ import annotations

import html
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dispatch.figures import PAGE_CSS, figure_html, html_table, pyplot, save_png
from dispatch.plan.schedule import DAY_NAMES, HOURS_PER_WEEK
from dispatch.plan.staffing import StaffingPlan

#: Okabe-Ito colours: they part for the common colour-vision deficiencies.
DEMAND = "#999999"
FIRST = "#E69F00"
FINAL = "#0072B2"
UNIFORM = "#D55E00"
TARGET = "#009E73"


def _week_axis(ax: Any) -> None:
    """Day ticks at midnight, Monday first, with a faint line between days."""
    ticks = np.arange(0, HOURS_PER_WEEK + 1, 24)
    ax.set_xticks(ticks)
    ax.set_xticklabels([DAY_NAMES[d % 7].title() for d in range(len(ticks) - 1)] + [""])
    for t in ticks:
        ax.axvline(t, color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_xlim(0, HOURS_PER_WEEK)


def figure_hours(plan: StaffingPlan, path: Path) -> Path:
    """Calls per hour (top) and teams by hour of week (bottom): first estimate, final
    requirement, teams the plan puts on duty, and the uniform plan's level."""
    plt = pyplot()
    table = plan.hours_table()
    hours = np.arange(HOURS_PER_WEEK)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 5.8), sharex=True, gridspec_kw={"height_ratios": [1, 1.6]}
    )
    top.bar(hours + 0.5, table["calls_per_hour"], width=1.0, color=DEMAND, linewidth=0)
    top.set_ylabel("calls per hour")
    top.set_title("Demand and planned teams by hour of week (local time)")
    _week_axis(top)
    edge = np.append(hours, HOURS_PER_WEEK)

    def step(values: Any, **style: Any) -> None:
        bottom.step(edge, np.append(values, values[-1]), where="post", **style)

    step(table["required_first"].to_numpy(), color=FIRST, linestyle="--", label="first estimate")
    step(table["required_final"].to_numpy(), color=FINAL, linestyle=":", label="final requirement")
    step(table["teams_on_duty"].to_numpy(), color=FINAL, linewidth=2.0, label="planned, on duty")
    if plan.uniform is not None and plan.uniform.teams_per_hour is not None:
        bottom.axhline(
            plan.uniform.teams_per_hour,
            color=UNIFORM,
            linestyle="-.",
            label=f"best uniform plan ({plan.uniform.teams_per_hour} every hour)",
        )
    bottom.set_ylabel("teams")
    bottom.set_ylim(bottom=0)
    _week_axis(bottom)
    bottom.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, fontsize=8)
    return save_png(fig, path)


def figure_share(plan: StaffingPlan, path: Path) -> Path:
    """The target figure by hour of week for the final plan, with its 95% interval."""
    plt = pyplot()
    ev = plan.iterations[plan.chosen].evaluation
    hours = np.arange(HOURS_PER_WEEK) + 0.5
    fig, ax = plt.subplots(figsize=(10, 3.4))
    ax.fill_between(hours, ev.hourly_low, ev.hourly_high, color=FINAL, alpha=0.25, linewidth=0)
    ax.plot(hours, ev.hourly, color=FINAL, linewidth=1.2, label="planned, mean and 95% interval")
    if plan.uniform is not None:
        uni = plan.uniform.evaluation
        ax.plot(hours, uni.hourly, color=UNIFORM, linewidth=1.0, linestyle="-.", label="uniform")
    ax.axhline(plan.target_share, color=TARGET, linestyle="--", label="target")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(f"share within {plan.target_min:g} min")
    ax.set_title("Calls reached by a specialist within the target, by hour of the call")
    _week_axis(ax)
    ax.legend(loc="lower right", fontsize=8)
    return save_png(fig, path)


def figure_iterations(plan: StaffingPlan, path: Path) -> Path:
    """Team-hours and the target figure (with its interval) of each plan the loop tried."""
    plt = pyplot()
    its = plan.iterations_table()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.plot(its["iteration"], its["team_hours_week"], marker="o", color=FINAL, label="plan")
    left.plot(
        [plan.chosen],
        [plan.team_hours],
        marker="*",
        markersize=14,
        color=TARGET,
        linestyle="none",
        label="chosen",
    )
    if plan.uniform is not None and plan.uniform.team_hours is not None:
        left.axhline(plan.uniform.team_hours, color=UNIFORM, linestyle="-.", label="uniform")
    left.set_xlabel("iteration")
    left.set_ylabel("team-hours per week")
    left.legend(fontsize=8)
    err = np.vstack([its["share"] - its["ci95_low"], its["ci95_high"] - its["share"]])
    right.errorbar(
        its["iteration"], its["share"], yerr=np.nan_to_num(err), fmt="s", color=FINAL, capsize=3
    )
    right.axhline(plan.target_share, color=TARGET, linestyle="--", label="target")
    right.set_xlabel("iteration")
    right.set_ylabel(f"share within {plan.target_min:g} min")
    right.legend(fontsize=8)
    fig.suptitle("Each plan, replayed with common random numbers (95% intervals)")
    return save_png(fig, path)


def _pct(value: float | None) -> str:
    return "-" if value is None or np.isnan(value) else f"{100 * value:.1f} %"


def _check_cell(row: Mapping[Hashable, Any]) -> str:
    """The new-seed check of one iteration: its lower bound and verdict, or "-"."""
    if np.isnan(row["check_share"]):
        return "-"
    verdict = "meets" if row["check_meets"] else "fails"
    return f"{_pct(float(row['check_ci95_low']))} low, {verdict}"


def cost_rows(plan: StaffingPlan) -> list[list[str]]:
    """The plan against the best uniform plan: team-hours and the target figure."""
    rows = [["plan", "team-hours per week", "share", "95% interval", "meets the target"]]
    last = plan.iterations[plan.chosen].evaluation
    rows.append(
        [
            "staffing plan",
            f"{plan.team_hours:,}",
            _pct(last.share),
            f"{_pct(last.low)} to {_pct(last.high)}",
            "yes" if plan.met else "no",
        ]
    )
    if plan.check is not None:
        c = plan.check
        rows.append(
            [
                f"staffing plan, new seed {plan.check_seed}",
                f"{plan.team_hours:,}",
                _pct(c.share),
                f"{_pct(c.low)} to {_pct(c.high)}",
                "yes" if c.meets(plan.target_share) else "no",
            ]
        )
    if plan.uniform is not None:
        u = plan.uniform
        ev = u.evaluation
        level = "none found" if u.teams_per_hour is None else f"{u.teams_per_hour} every hour"
        rows.append(
            [
                f"uniform round the clock ({level})",
                "-" if u.team_hours is None else f"{u.team_hours:,.0f}",
                _pct(ev.share),
                f"{_pct(ev.low)} to {_pct(ev.high)}",
                "yes" if u.teams_per_hour is not None else "no",
            ]
        )
    return rows


def write_staffing_report(plan: StaffingPlan, out_dir: Path, *, title: str, command: str) -> Path:
    """Write ``staffing.html`` and ``figures/staffing_*.png`` in ``out_dir``; returns the page."""
    figures = out_dir / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    shown = [
        (
            "Demand and teams by hour of week",
            figure_hours(plan, figures / "staffing_hours.png"),
            "Top: calls per hour, mean over the replayed weeks. Bottom: teams required by the "
            "queueing estimate (dashed), the requirement after the simulation raised the hours "
            "that failed (dotted), and the teams the plan has on duty (solid).",
        ),
        (
            "The target by hour",
            figure_share(plan, figures / "staffing_share.png"),
            "Share of each hour's calls a specialist team reached within the target, final plan, "
            "with the 95% interval over replications.",
        ),
        (
            "How the plan was found",
            figure_iterations(plan, figures / "staffing_iterations.png"),
            "Left: team-hours per week of each plan. Right: the share within the target with its "
            "95% interval; a plan is accepted when the lower end reaches the target.",
        ),
    ]
    saving = ""
    u = plan.uniform
    if u is not None and u.team_hours is not None and plan.met:
        saved = u.team_hours - plan.team_hours
        saving = (
            f"{plan.team_hours:,} team-hours per week against {u.team_hours:,.0f} for the best "
            f"uniform round-the-clock plan ({abs(saved):,.0f} "
            f"{'fewer' if saved >= 0 else 'more'}, {abs(saved) / u.team_hours:.0%} "
            f"{'less' if saved >= 0 else 'more'})."
        )
    verdict = "meets" if plan.met else "does NOT meet"
    answer = (
        f"The plan {verdict} the target ({plan.target_share:.0%} of calls reached by a "
        f"specialist within {plan.target_min:g} min, on the lower end of the 95% interval) "
        f"after {len(plan.iterations)} iteration(s). {saving}"
    )
    its = plan.iterations_table()
    it_rows = [
        [
            *("iteration", "team-hours", "share", "95% interval", "meets"),
            *("check, new seed", "then raised", "lowered"),
        ]
    ]
    it_rows += [
        [
            f"{r['iteration']}{' (chosen)' if r['chosen'] else ''}",
            f"{r['team_hours_week']:,}",
            _pct(float(r["share"])),
            f"{_pct(float(r['ci95_low']))} to {_pct(float(r['ci95_high']))}",
            "yes" if r["meets_target"] else "no",
            _check_cell(r),
            str(r["hours_raised"]),
            str(r["hours_lowered"]),
        ]
        for r in its.to_dict("records")
    ]
    import pandas as pd

    sh = plan.schedule.table()
    shift_rows = [["day", "start", "hours", "teams", "break starts"]]
    shift_rows += [
        [
            str(r.day).title(),
            str(r.clock),
            str(r.hours),
            str(r.count),
            "-" if pd.isna(r.break_start_h) else f"{int(r.break_start_h) % 24:02d}:00",
        ]
        for r in sh.itertuples()
    ]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<div class='answer-box'>{html.escape(answer)}</div>",
        "<h2>Cost</h2>",
        html_table(cost_rows(plan)),
        *(figure_html(t, p, c) for t, p, c in shown),
        "<h2>Iterations</h2>",
        html_table(it_rows),
        "<h2>Shifts</h2><details><summary>"
        f"{len(sh)} shift starts, {int(sh['count'].sum())} team shifts a week</summary>"
        + html_table(shift_rows)
        + "</details>",
        f"<p class='note'>Command: <code>{html.escape(command)}</code>. Busy time per call "
        f"{plan.service_s / 60:.0f} min; demand {plan.demand.sum():.1f} calls a week. Each plan "
        "is replayed with the scenario's seed (common random numbers); the last row of the cost "
        "table replays the final plan with a new seed.</p>",
    ]
    page = out_dir / "staffing.html"
    page.write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{PAGE_CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>\n",
        encoding="utf-8",
    )
    return page
