"""``dispatch plan staffing SCENARIO --target-share S --target-min M --out DIR``.

Solves the cheapest shift schedule for the demand, replays it, raises the hours that fail (or
lowers the hours with room) and solves again; writes the plan as a scenario, its tables and the
report page.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from dispatch.commands.executor_options import ReplayWorkers, Scheduler, replay_executor
from dispatch.commands.plan import plan_app
from dispatch.errors import InputError


def _ints(option: str, text: str | None) -> tuple[int, ...] | None:
    """``"8,10,12"`` as integers; a clear error naming the option otherwise."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise InputError(f"{option} {text!r}: give whole numbers separated by commas, e.g. 8,10,12")
    return tuple(int(p) for p in parts)


@plan_app.command("staffing")
def staffing(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML (its calls: the demand).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the plan and report.")],
    target_share: Annotated[
        float, typer.Option("--target-share", help="Share of calls reached within the target.")
    ] = 0.8,
    target_min: Annotated[
        float, typer.Option("--target-min", help="Response target, minutes from the 911 call.")
    ] = 20.0,
    lengths: Annotated[
        str, typer.Option("--lengths", help="Allowed shift lengths, hours, e.g. 8,10,12.")
    ] = "8,10,12",
    starts: Annotated[
        str | None,
        typer.Option("--starts", help="Allowed clock start hours, e.g. 7,15,23 (default: any)."),
    ] = None,
    max_starts: Annotated[
        int | None,
        typer.Option("--max-starts", help="At most this many distinct start times.", min=1),
    ] = None,
    min_rest_h: Annotated[
        float, typer.Option("--min-rest-h", help="Minimum rest between a team's shifts, hours.")
    ] = 0.0,
    break_min: Annotated[
        float, typer.Option("--break-min", help="Meal break, minutes (0: none).")
    ] = 30.0,
    break_window: Annotated[
        str,
        typer.Option("--break-window", help="FIRST,LAST hour after the start a break may begin."),
    ] = "3,6",
    iterations: Annotated[
        int, typer.Option("--iterations", help="Most plans replayed.", min=1)
    ] = 8,
    replications: Annotated[
        int | None,
        typer.Option("--replications", help="Replications per replay (overrides the file).", min=1),
    ] = None,
    time_limit_s: Annotated[
        float,
        typer.Option("--time-limit-s", help="Solver limit per schedule, deterministic seconds."),
    ] = 20.0,
    trim: Annotated[
        bool,
        typer.Option("--trim/--no-trim", help="Once the target is met, try cheaper plans."),
    ] = True,
    uniform: Annotated[
        bool,
        typer.Option("--uniform/--no-uniform", help="Also find the best uniform plan to compare."),
    ] = True,
    workers: ReplayWorkers = None,
    scheduler: Scheduler = None,
) -> None:
    """The cheapest shift plan that meets a response target, verified by simulation."""
    from dispatch.plan.schedule import ShiftRules
    from dispatch.plan.staffing import plan_staffing
    from dispatch.plan.staffing_report import write_staffing_report

    window = _ints("--break-window", break_window)
    if window is None or len(window) != 2:
        raise InputError(f"--break-window {break_window!r}: give FIRST,LAST, e.g. 3,6")
    rules = ShiftRules(
        lengths_h=_ints("--lengths", lengths) or (),
        start_hours=_ints("--starts", starts),
        max_starts=max_starts,
        min_rest_h=min_rest_h,
        break_min=break_min,
        break_window_h=(window[0], window[1]),
    )
    if not scenario.is_file():
        raise InputError(f"scenario file not found: {scenario}")
    with replay_executor(workers, scheduler) as executor:
        plan = plan_staffing(
            scenario,
            out,
            target_share=target_share,
            target_min=target_min,
            replications=replications,
            iterations=iterations,
            rules=rules,
            time_limit_s=time_limit_s,
            trim=trim,
            uniform=uniform,
            progress=typer.echo,
            executor=executor,
        )
    plan.iterations_table().to_csv(out / "iterations.csv", index=False)
    plan.hours_table().to_csv(out / "hours.csv", index=False)
    plan.schedule.table().to_csv(out / "shifts.csv", index=False)
    u = plan.uniform
    chosen = plan.iterations[plan.chosen].evaluation
    summary = {
        "scenario": str(scenario),
        "plan": str(plan.scenario_path),
        "target_share": target_share,
        "target_min": target_min,
        "met": plan.met,
        "team_hours_week": plan.team_hours,
        "chosen_iteration": plan.chosen,
        "iterations": len(plan.iterations),
        "share": chosen.share,
        "ci95": [chosen.low, chosen.high],
        "check_seed": plan.check_seed,
        "check_share": None if plan.check is None else plan.check.share,
        "check_ci95": None if plan.check is None else [plan.check.low, plan.check.high],
        "uniform_teams_per_hour": None if u is None else u.teams_per_hour,
        "uniform_team_hours_week": None if u is None else u.team_hours,
        "solver_status": plan.schedule.status,
        "solver_gap": plan.schedule.gap,
    }
    (out / "staffing.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    page = write_staffing_report(
        plan,
        out,
        title=f"Staffing plan: {scenario.name}",
        command="dispatch " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )
    verdict = "meets" if plan.met else "does NOT meet"
    typer.echo(
        f"plan: {plan.team_hours:,} team-hours/week, {verdict} the target"
        + ("" if u is None or u.team_hours is None else f" (uniform: {u.team_hours:,.0f})")
    )
    typer.echo(f"scenario: {plan.scenario_path}\nreport: {page}")
    if not plan.met:
        raise typer.Exit(1)
