"""The post plan's report page: ``posts.html``, one self-contained file (figures embedded),
and its figures beside it in ``figures/``.

Maps (drawn with `dispatch.maps`, on the scenario's ``[map]`` areas or hexagonal cells, north
up, with a scale bar and the map data's credits):

- ``map_posts.png``: the chosen posts against today's sites, over the calls, each call place
  coloured by the post that serves it;
- ``map_posts_reach.png``: per area, the share of calls within a travel time of the nearest
  site, today, planned and the change (areas with too few calls: "no data", never zero);
- ``map_posts_replay.png`` (with the check by simulation): per area, the change in the share
  reached by a specialist within the target and in the median response, from the replays.

Then the calls reached within each travel time before and after (``posts_reached.png``), the
simulated response times (``posts_response.png``) and the comparison table.
"""

from __future__ import annotations

import dataclasses
import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from dispatch.figures import PAGE_CSS, figure_html, html_table, pyplot, save_png
from dispatch.plan.posts import (
    AreaReach,
    PostsPlan,
    Verification,
    area_reach,
    posts_table,
    reached_within,
)

if TYPE_CHECKING:
    from dispatch.maps import AreaFigures, MapContext
    from dispatch.scenario import Scenario

#: Okabe-Ito blue: the chosen posts where one colour stands for all of them, and their curves.
POST_COLOUR = "#0072B2"
#: Okabe-Ito vermillion: today's sites' curves (dashed, so they also part in grey).
TODAY_COLOUR = "#D55E00"


# -- maps --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PostsMaps:
    """What the plan's maps share.

    Attributes
    ----------
    ctx
        The map context; today's sites are its stations.
    area
        Per demand source (call), the index of its area (-1: in none).
    reach
        Per area, the calls within ``within_min`` minutes of travel, today and planned.
    within_min
        Travel minutes that count as reached.
    """

    ctx: MapContext
    area: npt.NDArray[np.int64]
    reach: AreaReach
    within_min: float


def posts_maps(plan: PostsPlan, scenario: Scenario, within_min: float) -> PostsMaps:
    """Areas (the scenario's ``[map]`` areas, else hexagonal cells over the calls), the map
    context and the calls reached within ``within_min`` minutes of travel, per area."""
    from dispatch.maps import MIN_CALLS, locate_calls, map_context, scenario_areas

    d = plan.demand
    areas = scenario_areas(scenario, d.source_lat, d.source_lon)
    today = [
        (site, float(lat), float(lon))
        for site, lat, lon in zip(plan.today_ids, plan.today_lat, plan.today_lon, strict=True)
    ]
    cands = plan.candidates
    ctx = map_context(
        scenario,
        areas,
        stations=today,
        lats=d.source_lat,
        lons=d.source_lon,
        points=list(zip(cands.lat.tolist(), cands.lon.tolist(), strict=True)),
    )
    area = locate_calls(areas, d.source_lat, d.source_lon)
    min_calls = scenario.map.min_calls if scenario.map is not None else MIN_CALLS
    reach = area_reach(plan, area, len(areas), within_min * 60.0, min_calls)
    return PostsMaps(ctx, area, reach, within_min)


def _draw_posts(ax: Any, plan: PostsPlan, *, colours: bool, labels: bool) -> list[Any]:
    """The chosen posts as stars (each in its own colour, or all in one); legend handles."""
    import matplotlib.patheffects as pe
    from matplotlib.lines import Line2D

    from dispatch.maps import SITE_COLOURS

    cands = plan.candidates
    halo = [pe.withStroke(linewidth=2.5, foreground="white")]
    for n, j in enumerate(plan.siting.sites):
        colour = SITE_COLOURS[n % len(SITE_COLOURS)] if colours else POST_COLOUR
        ax.plot(
            cands.lon[j], cands.lat[j], "*", ms=15, color=colour, mec="black", mew=0.8, zorder=9
        )
        if labels:
            ax.annotate(
                cands.names[j],
                (cands.lon[j], cands.lat[j]),
                xytext=(7, 5),
                textcoords="offset points",
                fontsize=7,
                zorder=10,
                path_effects=halo,
            )
    star = Line2D(
        [], [], marker="*", ms=12, ls="none", color=POST_COLOUR, mec="black", label="chosen post"
    )
    return [star]


def _draw_both(ax: Any, maps: PostsMaps, plan: PostsPlan) -> list[Any]:
    """Today's sites and the chosen posts; their legend handles."""
    from dispatch.maps import draw_sites

    handles = draw_sites(ax, maps.ctx, station_label="today's site")
    return handles + _draw_posts(ax, plan, colours=False, labels=False)


def figure_posts_map(maps: PostsMaps, plan: PostsPlan, path: Path) -> Path:
    """The chosen posts against today's sites over the calls: each demand point sized by its
    calls and coloured by the post that serves it (grey: none), candidates as small crosses.

    Posts take the Okabe-Ito colours in turn; past six the colours repeat, and the posts' names
    beside them tell them apart.
    """
    from matplotlib.lines import Line2D

    from dispatch.maps import (
        BELOW,
        SITE_COLOURS,
        draw_network,
        draw_outlines,
        draw_sites,
        furnish,
        map_axes,
    )

    fig, axes = map_axes(1, maps.ctx)
    ax = axes[0]
    ctx = maps.ctx
    draw_outlines(ax, ctx.areas)
    draw_network(ax, ctx)
    d = plan.demand
    cands = plan.candidates
    chosen = set(plan.siting.sites)
    others = [j for j in range(len(cands)) if j not in chosen]
    ax.plot(cands.lon[others], cands.lat[others], "+", ms=5, color="#8c8c8c", ls="none", zorder=4)
    size = 3.0 + 70.0 * d.weight / max(float(d.weight.max()), 1e-9)
    colour = np.full(len(d.weight), "#bdbdbd", dtype=object)
    for n, j in enumerate(plan.siting.sites):
        colour[plan.siting.assignment == j] = SITE_COLOURS[n % len(SITE_COLOURS)]
    ax.scatter(d.lon, d.lat, s=size, c=list(colour), alpha=0.6, linewidths=0, zorder=3)
    handles = draw_sites(ax, ctx, station_label="today's site")
    handles += _draw_posts(ax, plan, colours=True, labels=True)
    handles += [
        Line2D([], [], marker="+", ms=6, ls="none", color="#8c8c8c", label="candidate site"),
        Line2D(
            [],
            [],
            marker="o",
            ms=6,
            ls="none",
            color="#999999",
            alpha=0.6,
            label=f"calls in {d.cell_m:g} m cells (dot size: calls), by the post serving them",
        ),
    ]
    if (plan.siting.assignment < 0).any():
        handles.append(
            Line2D(
                [], [], marker="o", ms=6, ls="none", color="#bdbdbd", label="calls no post reaches"
            )
        )
    furnish(ax, ctx)
    ax.legend(handles=handles, **{**BELOW, "ncols": 2})
    ax.set_title(f"{plan.k} chosen posts ({plan.objective}) and today's sites")
    return save_png(fig, path)


def figure_reach_map(maps: PostsMaps, plan: PostsPlan, path: Path) -> Path:
    """Per area: share of calls within the travel time of the nearest site, today and planned
    (one scale), and the change (percentage points, diverging)."""
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D

    from dispatch.maps import (
        draw_areas,
        draw_sites,
        furnish,
        map_axes,
        no_data_handle,
        symmetric_norm,
    )

    plt = pyplot()
    ctx = maps.ctx
    reach = maps.reach
    fig, axes = map_axes(3, maps.ctx)
    area = "neighbourhood" if ctx.areas.kind == "areas" else "hexagonal cell"
    present = reach.calls > 0 if ctx.areas.kind == "hexagons" else None
    share = Normalize(vmin=0.0, vmax=100.0)
    cividis = plt.get_cmap("cividis")
    change = reach.change * 100.0
    diverging = symmetric_norm(change)
    puor = plt.get_cmap("PuOr")
    t = f"{maps.within_min:.1f}"
    panels = (
        (reach.today * 100.0, cividis, share, f"today's sites: within {t} min"),
        (reach.plan * 100.0, cividis, share, f"chosen posts: within {t} min"),
        (change, puor, diverging, "change (percentage points)"),
    )
    for n, (ax, (values, cmap, norm, label)) in enumerate(zip(axes, panels, strict=True)):
        draw_areas(ax, ctx.areas, values, cmap=cmap, norm=norm, present=present)
        if n != 1:
            draw_sites(ax, ctx, station_label="today's site")
        if n != 0:
            _draw_posts(ax, plan, colours=False, labels=False)
        furnish(ax, ctx, attribution=n == 2)
        ax.set_title(label, fontsize=10)
    under = {"orientation": "horizontal", "fraction": 0.04, "pad": 0.02, "aspect": 30}
    fig.colorbar(
        plt.cm.ScalarMappable(norm=share, cmap=cividis),
        ax=axes[:2],
        shrink=0.8,
        label=f"% of the {area}'s calls within {t} min of travel",
        **under,
    )
    fig.colorbar(
        plt.cm.ScalarMappable(norm=diverging, cmap=puor),
        ax=axes[2],
        shrink=0.9,
        label="change, points (purple: more)",
        **under,
    )
    handles = [
        no_data_handle(reach.min_calls, per="calls"),
        Line2D([], [], marker="^", ms=8, ls="none", color="black", label="today's site"),
        Line2D(
            [],
            [],
            marker="*",
            ms=12,
            ls="none",
            color=POST_COLOUR,
            mec="black",
            label="chosen post",
        ),
    ]
    fig.legend(
        handles=handles, loc="upper center", ncols=3, fontsize=8, bbox_to_anchor=(0.5, 0.035)
    )
    fig.suptitle(f"Calls within {t} min of travel of the nearest site, by {area}")
    return save_png(fig, path)


def replay_area_figures(
    maps: PostsMaps, scenario: Scenario, verification: Verification
) -> tuple[AreaFigures, AreaFigures]:
    """Per area, the replay's figures (`dispatch.maps.area_figures`) of today and the plan."""
    from dispatch.maps import MIN_CALLS, area_figures, call_locations, locate_calls

    frame = verification.response
    lat, lon = call_locations(scenario, frame)
    area = locate_calls(maps.ctx.areas, lat, lon)
    min_calls = scenario.map.min_calls if scenario.map is not None else MIN_CALLS
    out = []
    for variant in ("today", "plan"):
        rows = (frame["variant"] == variant).to_numpy()
        out.append(
            area_figures(
                area[rows],
                frame.loc[rows, "response_min"].to_numpy(dtype=float) * 60.0,
                frame.loc[rows, "specialist"].to_numpy(dtype=bool),
                n_areas=len(maps.ctx.areas),
                replications=int(frame.loc[rows, "replication"].nunique()),
                target_min=verification.target_min,
                min_calls=min_calls,
            )
        )
    return out[0], out[1]


def figure_reached(plan: PostsPlan, within_min: float, path: Path) -> Path:
    """Share of calls within each travel time of the nearest site, today and planned."""
    plt = pyplot()
    finite = plan.cost[np.isfinite(plan.cost)]
    top = max(2.0 * within_min, float(np.percentile(finite, 50)) / 60.0 if len(finite) else 1.0)
    minutes = np.linspace(0.0, top, 200)
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    planned = plan.cost[:, list(plan.siting.sites)]
    for cost, label, colour, style in (
        (plan.today_cost, "today's sites", TODAY_COLOUR, "--"),
        (planned, "chosen posts", POST_COLOUR, "-"),
    ):
        ax.plot(
            minutes,
            reached_within(cost, plan.demand.weight, minutes),
            label=label,
            color=colour,
            ls=style,
        )
    ax.axvline(within_min, color="#555555", linestyle=":", linewidth=1)
    ax.set_xlabel("travel time from the nearest site (min)")
    ax.set_ylabel("share of calls reached")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("Calls reached within a travel time (the siting model's view)")
    return save_png(fig, path)


def figure_response(verification: Verification, path: Path) -> Path:
    """Distribution of simulated response times (all replications), today and planned."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for variant, label, colour, style in (
        ("today", "today's sites", TODAY_COLOUR, "--"),
        ("plan", "chosen posts", POST_COLOUR, "-"),
    ):
        x = (
            verification.response.loc[verification.response["variant"] == variant, "response_min"]
            .dropna()
            .to_numpy()
        )
        x = np.sort(x)
        if len(x):
            ax.step(
                x,
                np.arange(1, len(x) + 1) / len(x),
                where="post",
                label=label,
                color=colour,
                ls=style,
            )
    ax.axvline(verification.target_min, color="#555555", linestyle=":", linewidth=1)
    finite = verification.response["response_min"].dropna()
    if len(finite):
        ax.set_xlim(0, float(np.percentile(finite, 99)))
    ax.set_xlabel("simulated response time (min)")
    ax.set_ylabel("share of calls")
    ax.legend(fontsize=8)
    ax.set_title("Simulated response times (common random numbers)")
    return save_png(fig, path)


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{100 * value:.1f} %" if unit == "share" else f"{value:.2f} min"


def _ci(lo: float, hi: float, unit: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f" [{_fmt(lo, unit)}, {_fmt(hi, unit)}]"


def _percent(value: float) -> str:
    from dispatch.maps import NO_DATA

    return f"{100.0 * value:.0f} %" if math.isfinite(value) else NO_DATA


def _points(value: float) -> str:
    from dispatch.maps import NO_DATA

    return f"{100.0 * value:+.0f}" if math.isfinite(value) else NO_DATA


def area_reach_table(maps: PostsMaps) -> str:
    """An HTML table of every named area: calls, share within the travel time today and
    planned, and the change; the largest gain first, areas without data last."""
    reach = maps.reach
    names = maps.ctx.areas.names
    change = reach.change

    def key(k: int) -> tuple[bool, float, str]:
        known = bool(np.isfinite(change[k]))
        return (not known, -float(change[k]) if known else 0.0, names[k])

    t = f"{maps.within_min:.1f}"
    rows = [["area", "calls", f"today ≤ {t} min", f"plan ≤ {t} min", "change, points"]]
    rows += [
        [
            names[k],
            f"{reach.calls[k]:,.0f}",
            _percent(reach.today[k]),
            _percent(reach.plan[k]),
            _points(change[k]),
        ]
        for k in sorted(range(len(names)), key=key)
    ]
    return html_table(rows)


def write_posts_report(
    plan: PostsPlan,
    verification: Verification | None,
    out: str | Path,
    *,
    scenario: Scenario,
    title: str,
    command: str,
    within_min: float,
    within_note: str = "",
) -> Path:
    """Write ``out/posts.html`` and its figures in ``out/figures/``; return the page's path.

    Parameters
    ----------
    plan, verification
        The plan and its check by simulation (None: not simulated).
    out
        The plan's folder.
    scenario
        The scenario planned for: its ``[map]`` areas, travel (road network drawn) and credits.
    title, command
        The page's title and the command that made it.
    within_min
        Travel minutes that count as reached on the reach map and curve.
    within_note
        Where ``within_min`` comes from, for the page (e.g. "--cover-min").
    """
    out = Path(out)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    s = plan.siting
    e = html.escape
    unit = "call-weighted travel seconds" if plan.objective == "p-median" else "calls covered"
    status = (
        "optimal" if s.optimal else f"stopped by the time limit, proven gap {100 * s.gap:.2f} %"
    )
    maps = posts_maps(plan, scenario, within_min)
    area_word = "neighbourhood" if maps.ctx.areas.kind == "areas" else "hexagonal cell"
    t = f"{within_min:.1f}"
    weight = plan.demand.weight
    today_share, plan_share = (
        float(reached_within(cost, weight, np.array([within_min]))[0])
        for cost in (plan.today_cost, plan.cost[:, list(s.sites)])
    )
    no_data = (
        f"Grey hatched: no data, fewer than {maps.reach.min_calls:g} calls (or none); no share "
        "is shown from a handful of calls."
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>{PAGE_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Command: <code>{e(command)}</code></p>",
        f"<p>Objective <b>{e(plan.objective)}</b>, k = {plan.k}"
        + (f", cover {plan.cover_s / 60:g} min of travel" if plan.cover_s is not None else "")
        + f"; {len(plan.candidates)} candidates, {len(plan.fixed)} kept as they are; "
        f"{len(weight)} demand points from {plan.demand.calls:.0f} calls "
        f"(pooled in {plan.demand.cell_m:g} m cells). Solver: SCIP, {e(status)}, "
        f"{s.solve_s:.1f} s. Value {s.value:,.1f} {unit} (today's sites: "
        f"{plan.today_value():,.1f}).</p>",
        f"<p class='answer-box'>Calls within {t} min of travel of the nearest site"
        + (f" ({e(within_note)})" if within_note else "")
        + f": today's sites <b>{100 * today_share:.1f} %</b>, the chosen posts "
        f"<b>{100 * plan_share:.1f} %</b>.</p>",
        figure_html(
            "Map: the chosen posts and today's sites",
            figure_posts_map(maps, plan, figures / "map_posts.png"),
            "The chosen posts (stars) against today's sites (triangles) and the other "
            "candidates (crosses); each dot is a demand point, its area by its calls, coloured "
            "by the post that serves it in the plan.",
        ),
        figure_html(
            f"Map: calls within {t} min of travel, today and planned",
            figure_reach_map(maps, plan, figures / "map_posts_reach.png"),
            f"Per {area_word}, the share of its calls within {t} min of travel of the nearest "
            f"site: today's sites, the chosen posts, and the change. {no_data}",
        ),
        figure_html(
            "Calls reached within a travel time",
            figure_reached(plan, within_min, figures / "posts_reached.png"),
            "Share of all calls whose nearest site is within each travel time; the dotted line "
            f"is {t} min.",
        ),
    ]
    if verification is not None:
        today_figures, plan_figures = replay_area_figures(maps, scenario, verification)
        from dispatch.maps import figure_difference

        parts.append(
            figure_html(
                "Map: what the replay says the posts change",
                figure_difference(
                    maps.ctx,
                    today_figures,
                    plan_figures,
                    "Replayed: the chosen posts against today's sites",
                    figures / "map_posts_replay.png",
                    sites=lambda ax: _draw_both(ax, maps, plan),
                ),
                f"Per {area_word}, from the replays with common random numbers: the plan "
                "minus today in the share reached by a specialist within the "
                f"{verification.target_min:g} min target (percentage points) and in the "
                "median response (minutes). Purple is better on both. Grey hatched: no data, "
                f"fewer than {today_figures.min_calls:g} calls a replication.",
            )
        )
        parts.append(
            figure_html(
                "Simulated response times",
                figure_response(verification, figures / "posts_response.png"),
                "Response times of every replayed call, all replications; the dotted line is "
                "the target.",
            )
        )
        parts.append(
            f"<h2>Verified by simulation</h2><p>{len(verification.today)} replications of each, "
            "same seed (common random numbers); 95 % intervals across replications; the "
            "difference is planned minus today, paired by replication.</p>"
        )
        rows = [["figure", "today", "plan", "difference"]]
        for row in verification.table().to_dict("records"):
            u = row["unit"]
            rows.append(
                [
                    row["label"],
                    _fmt(row["today"], u) + _ci(row["today_lo"], row["today_hi"], u),
                    _fmt(row["plan"], u) + _ci(row["plan_lo"], row["plan_hi"], u),
                    _fmt(row["difference"], u) + _ci(row["difference_lo"], row["difference_hi"], u),
                ]
            )
        parts.append(html_table(rows))
    rows = [["post", "existing", "calls served", "mean travel"]]
    rows += [
        [
            f"{row['name']} ({row['id']})",
            "yes" if row["existing"] else "no",
            f"{row['calls_served']:.0f}",
            _fmt(row["mean_travel_min"], "min"),
        ]
        for row in posts_table(plan).to_dict("records")
    ]
    parts += ["<h2>Chosen posts</h2>", html_table(rows)]
    if maps.ctx.areas.kind == "areas":
        parts.append(
            f"<h2>Calls within {t} min by {area_word}</h2><details><summary>"
            f"{len(maps.ctx.areas)} areas, the largest gain first</summary>"
            + area_reach_table(maps)
            + "</details>"
        )
    if maps.ctx.attribution:
        parts.append(f"<p><small>Map data: {e(maps.ctx.attribution)}.</small></p>")
    parts.append("</body></html>")
    path = out / "posts.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
