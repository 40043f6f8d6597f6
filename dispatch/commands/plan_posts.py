"""``dispatch plan posts SCENARIO --candidates FILE --k K --objective O --out DIR``.

Chooses posts, writes them as a scenario, replays today's sites and the plan with common random
numbers, and writes the tables and the report page.
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


@plan_app.command("posts")
def posts(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file (today's sites).")],
    candidates: Annotated[
        Path,
        typer.Option(
            "--candidates", help="Candidate sites CSV: id,lat,lon[,capacity][,existing][,name]."
        ),
    ],
    k: Annotated[int, typer.Option("--k", help="Number of posts to open.", min=1)],
    out: Annotated[Path, typer.Option("--out", help="Directory for the plan and report.")],
    objective: Annotated[
        str, typer.Option("--objective", help="p-median (least travel) or mclp (most covered).")
    ] = "p-median",
    cover_min: Annotated[
        float | None,
        typer.Option(
            "--cover-min",
            help="Travel minutes that count as covered (mclp), and as reached on the report's "
            "maps (default there: the target less the median call processing and turnout).",
        ),
    ] = None,
    keep_existing: Annotated[
        bool,
        typer.Option("--keep-existing", help="Keep the candidates marked existing open."),
    ] = False,
    capacity: Annotated[
        float | None,
        typer.Option(
            "--capacity",
            help="Calls per day one post can serve (overrides the file's capacity column).",
        ),
    ] = None,
    cell_m: Annotated[
        float,
        typer.Option("--demand-cell-m", help="Pool the calls in square cells of this side (m)."),
    ] = 500.0,
    time_limit_s: Annotated[
        float, typer.Option("--time-limit-s", help="Solver time limit, seconds.")
    ] = 60.0,
    replications: Annotated[
        int | None,
        typer.Option(
            "--replications", help="Replications of the check (overrides the file).", min=1
        ),
    ] = None,
    simulate: Annotated[
        bool,
        typer.Option("--simulate/--no-simulate", help="Verify the plan against today's sites."),
    ] = True,
    workers: ReplayWorkers = None,
    scheduler: Scheduler = None,
) -> None:
    """Choose K posts among candidate sites and verify them by simulation against today's."""
    import numpy as np

    import dispatch
    from dispatch.maps import Areas, travel_budget_s
    from dispatch.plan.posts import (
        plan_posts,
        posts_table,
        reached_within,
        read_candidates,
        verify_plan,
        write_plan_scenario,
    )
    from dispatch.plan.posts_report import write_posts_report

    if objective not in ("p-median", "mclp"):
        raise InputError(f"--objective must be p-median or mclp, got {objective!r}")
    loaded = dispatch.load_scenario(scenario)
    cands = read_candidates(candidates)
    if loaded.map is not None and loaded.map.areas is not None:
        # The report's maps read the areas last: a bad file fails now, not after the solve.
        Areas.from_geojson(loaded.map.areas, loaded.map.area_property)
    plan = plan_posts(
        loaded,
        cands,
        k,
        objective=objective,
        cover_min=cover_min,
        keep_existing=keep_existing,
        capacity_per_day=capacity,
        cell_m=cell_m,
        time_limit_s=time_limit_s,
    )
    s = plan.siting
    target = loaded.policy.target_response_min
    if cover_min is not None:
        within_min, within_note = cover_min, "--cover-min"
    else:
        within_min = travel_budget_s(loaded, target) / 60.0
        within_note = f"the {target:g} min target less the median call processing and turnout"
    name = f"{loaded.name} (posts: {objective}, k = {k})"
    plan_path = write_plan_scenario(scenario, plan, out, name=name)
    posts_table(plan).to_csv(out / "posts.csv", index=False)
    verification = None
    if simulate:
        with replay_executor(workers, scheduler) as executor:
            verification = verify_plan(
                scenario, plan_path, replications=replications, executor=executor
            )
    summary = {
        "objective": objective,
        "k": k,
        "cover_min": cover_min,
        "posts": plan.post_ids,
        "fixed": [cands.ids[j] for j in plan.fixed],
        "value": s.value,
        "today_value": plan.today_value(),
        "optimal": s.optimal,
        "gap": s.gap,
        "bound": s.bound,
        "status": s.status,
        "solve_s": s.solve_s,
        "demand_points": len(plan.demand.weight),
        "calls": plan.demand.calls,
        "scenario": str(plan_path),
    }
    if verification is not None:
        table = verification.table()
        table.to_csv(out / "comparison.csv", index=False)
        summary["comparison"] = table.to_dict("records")
    reached = [
        float(reached_within(cost, plan.demand.weight, np.array([within_min]))[0])
        for cost in (plan.today_cost, plan.cost[:, s.sites])
    ]
    summary["reached_within_min"] = within_min
    summary["reached_today"], summary["reached_plan"] = reached
    (out / "siting.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    report = write_posts_report(
        plan,
        verification,
        out,
        scenario=loaded,
        title=name,
        command="dispatch " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        within_min=within_min,
        within_note=within_note,
    )
    state = "optimal" if s.optimal else f"time limit, gap {100 * s.gap:.2f} %"
    typer.echo(f"posts ({state}, {s.solve_s:.1f} s): {', '.join(plan.post_ids)}")
    typer.echo(
        f"  calls within {within_min:.1f} min of travel of the nearest site: today "
        f"{100 * reached[0]:.1f} %, plan {100 * reached[1]:.1f} %"
    )
    if verification is not None:
        for row in verification.table().to_dict("records"):
            scale, unit = (100.0, " %") if row["unit"] == "share" else (1.0, " min")
            typer.echo(
                f"  {row['label']:<30} today {scale * row['today']:7.2f}{unit}   "
                f"plan {scale * row['plan']:7.2f}{unit}   difference "
                f"{scale * row['difference']:+.2f}{unit} "
                f"[{scale * row['difference_lo']:+.2f}, {scale * row['difference_hi']:+.2f}]"
            )
    typer.echo(f"scenario: {plan_path}\nreport: {report}")
