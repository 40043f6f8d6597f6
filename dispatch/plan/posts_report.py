"""The post plan's report page: ``posts.html``, one self-contained file (figures embedded).

A map of the chosen posts and today's sites over the demand, the calls reached within a travel
time before and after, the simulated response times, and the comparison table.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from dispatch.plan.posts import PostsPlan, Verification, posts_table, reached_within

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def scale_bar_m(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^n metres) about a fifth of ``span_m``.

    Examples
    --------
    >>> scale_bar_m(12_000.0)
    2000.0
    >>> scale_bar_m(900.0)
    100.0
    """
    target = max(span_m / 5.0, 1.0)
    base = 10.0 ** math.floor(math.log10(target))
    return float(max(s * base for s in (1.0, 2.0, 5.0) if s * base <= target))


def figure_map(plan: PostsPlan, *, osm: bool) -> str:
    """Demand points (area by calls), today's sites and the chosen posts on lon/lat, drawn with
    the local metre ratio (equal aspect), north up, with a scale bar; base64 PNG."""
    plt = _pyplot()
    d = plan.demand
    cands = plan.candidates
    lat0 = float(np.mean(d.lat))
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    size = 4.0 + 60.0 * d.weight / max(float(d.weight.max()), 1e-9)
    ax.scatter(d.lon, d.lat, s=size, c="#9aa7b4", alpha=0.55, linewidths=0, label="calls")
    ax.scatter(cands.lon, cands.lat, s=10, marker="+", c="#777777", label="candidate sites")
    ax.scatter(
        plan.today_lon,
        plan.today_lat,
        s=120,
        marker="s",
        facecolors="none",
        edgecolors="#c0392b",
        linewidths=1.8,
        label="today's sites",
    )
    sites = list(plan.siting.sites)
    ax.scatter(
        cands.lon[sites],
        cands.lat[sites],
        s=130,
        marker="*",
        c="#1f5fa8",
        edgecolors="white",
        linewidths=0.6,
        label="chosen posts",
        zorder=5,
    )
    for j in sites:
        ax.annotate(
            cands.names[j],
            (cands.lon[j], cands.lat[j]),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    # Equal aspect: one degree of longitude is cos(latitude) degrees of latitude on the ground.
    ax.set_aspect(1.0 / math.cos(math.radians(lat0)))
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    metres_per_deg_lon = 111_320.0 * math.cos(math.radians(lat0))
    bar_m = scale_bar_m((x1 - x0) * metres_per_deg_lon)
    bar_deg = bar_m / metres_per_deg_lon
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + bar_deg], [by, by], color="black", linewidth=3)
    label = f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m"
    ax.text(bx + bar_deg / 2, by + 0.012 * (y1 - y0), label, ha="center", fontsize=8)
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        fontsize=10,
        arrowprops={"arrowstyle": "->"},
    )
    if osm:
        ax.text(
            0.99,
            0.01,
            OSM_ATTRIBUTION,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#444444",
        )
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    ax.set_title("Chosen posts and today's sites over the calls")
    return _png(fig)


def figure_reached(plan: PostsPlan, threshold_min: float) -> str:
    """Share of calls within each travel time of the nearest site, today and planned."""
    plt = _pyplot()
    finite = plan.cost[np.isfinite(plan.cost)]
    top = max(2.0 * threshold_min, float(np.percentile(finite, 50)) / 60.0 if len(finite) else 1.0)
    minutes = np.linspace(0.0, top, 200)
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    planned = plan.cost[:, list(plan.siting.sites)]
    for cost, label, colour in (
        (plan.today_cost, "today's sites", "#c0392b"),
        (planned, "chosen posts", "#1f5fa8"),
    ):
        ax.plot(
            minutes, reached_within(cost, plan.demand.weight, minutes), label=label, color=colour
        )
    ax.axvline(threshold_min, color="#555555", linestyle=":", linewidth=1)
    ax.set_xlabel("travel time from the nearest site (min)")
    ax.set_ylabel("share of calls reached")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("Calls reached within a travel time (the siting model's view)")
    return _png(fig)


def figure_response(verification: Verification) -> str:
    """Distribution of simulated response times (all replications), today and planned."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for variant, label, colour in (
        ("today", "today's sites", "#c0392b"),
        ("plan", "chosen posts", "#1f5fa8"),
    ):
        x = (
            verification.response.loc[verification.response["variant"] == variant, "response_min"]
            .dropna()
            .to_numpy()
        )
        x = np.sort(x)
        if len(x):
            ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=label, color=colour)
    ax.axvline(verification.target_min, color="#555555", linestyle=":", linewidth=1)
    finite = verification.response["response_min"].dropna()
    if len(finite):
        ax.set_xlim(0, float(np.percentile(finite, 99)))
    ax.set_xlabel("simulated response time (min)")
    ax.set_ylabel("share of calls")
    ax.legend(fontsize=8)
    ax.set_title("Simulated response times (common random numbers)")
    return _png(fig)


def _fmt(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{100 * value:.1f} %" if unit == "share" else f"{value:.2f} min"


def _ci(lo: float, hi: float, unit: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f" [{_fmt(lo, unit)}, {_fmt(hi, unit)}]"


def write_posts_report(
    plan: PostsPlan,
    verification: Verification | None,
    out: str | Path,
    *,
    title: str,
    command: str,
    osm: bool,
    threshold_min: float,
) -> Path:
    """Write ``out/posts.html`` and return its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = plan.siting
    e = html.escape
    unit = "call-weighted travel seconds" if plan.objective == "p-median" else "calls covered"
    status = (
        "optimal" if s.optimal else f"stopped by the time limit, proven gap {100 * s.gap:.2f} %"
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}"
        "code{background:#f4f4f4;padding:1px 4px}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Command: <code>{e(command)}</code></p>",
        f"<p>Objective <b>{e(plan.objective)}</b>, k = {plan.k}"
        + (f", cover {plan.cover_s / 60:g} min of travel" if plan.cover_s is not None else "")
        + f"; {len(plan.candidates)} candidates, {len(plan.fixed)} kept as they are; "
        f"{len(plan.demand.weight)} demand points from {plan.demand.calls:.0f} calls "
        f"(pooled in {plan.demand.cell_m:g} m cells). Solver: SCIP, {e(status)}, "
        f"{s.solve_s:.1f} s. Value {s.value:,.1f} {unit} (today's sites: "
        f"{plan.today_value():,.1f}).</p>",
        f"<img alt='map' src='data:image/png;base64,{figure_map(plan, osm=osm)}'>",
        f"<img alt='reached' src='data:image/png;base64,{figure_reached(plan, threshold_min)}'>",
    ]
    if verification is not None:
        parts.append(
            f"<img alt='response' src='data:image/png;base64,{figure_response(verification)}'>"
        )
        parts.append(
            f"<h2>Verified by simulation</h2><p>{len(verification.today)} replications of each, "
            "same seed (common random numbers); 95 % intervals across replications; the "
            "difference is planned minus today, paired by replication.</p>"
            "<table><tr><th>figure</th><th>today</th><th>plan</th><th>difference</th></tr>"
        )
        for row in verification.table().to_dict("records"):
            u = row["unit"]
            parts.append(
                f"<tr><td>{e(row['label'])}</td>"
                f"<td>{_fmt(row['today'], u)}{_ci(row['today_lo'], row['today_hi'], u)}</td>"
                f"<td>{_fmt(row['plan'], u)}{_ci(row['plan_lo'], row['plan_hi'], u)}</td>"
                f"<td>{_fmt(row['difference'], u)}"
                f"{_ci(row['difference_lo'], row['difference_hi'], u)}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        "<h2>Chosen posts</h2><table><tr><th>post</th><th>existing</th>"
        "<th>calls served</th><th>mean travel</th></tr>"
    )
    for row in posts_table(plan).to_dict("records"):
        parts.append(
            f"<tr><td>{e(str(row['name']))} ({e(str(row['id']))})</td>"
            f"<td>{'yes' if row['existing'] else 'no'}</td><td>{row['calls_served']:.0f}</td>"
            f"<td>{_fmt(row['mean_travel_min'], 'min')}</td></tr>"
        )
    parts.append("</table>")
    if osm:
        parts.append(f"<p><small>Road network {e(OSM_ATTRIBUTION)}.</small></p>")
    parts.append("</body></html>")
    path = out / "posts.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
