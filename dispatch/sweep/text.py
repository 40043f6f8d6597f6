"""A sweep's summary in words: the variant table and the answer to the target."""

from __future__ import annotations

from dispatch.sweep.keys import show
from dispatch.sweep.summary import TARGET_METRIC, Estimate, SweepSummary, VariantSummary


def _estimate(entry: Estimate, scale: float) -> str:
    """``mean [low, high]`` times ``scale``, one decimal; ``-`` without a mean."""
    if entry.mean is None:
        return "-"
    text = f"{entry.mean * scale:5.1f}"
    if entry.low is not None and entry.high is not None:
        text += f" [{entry.low * scale:.1f}, {entry.high * scale:.1f}]"
    return text


def variant_table(summary: SweepSummary) -> list[list[str]]:
    """The evidence as rows of text cells, header first."""
    keys = list(summary.varied)
    target = summary.target
    header = [
        "#",
        *keys,
        "teams",
        "team-h/wk",
        "mean response min",
        "specialist %",
        f"within {target.response_min:g} min %",
    ]
    if target.share is not None:
        header.append("meets")
    rows = [header]
    for v in summary.variants:
        m = v.metrics
        row = [
            str(v.variant),
            *[show(v.values[k]) for k in keys],
            str(v.teams),
            f"{v.team_hours_week:.0f}",
            _estimate(m["mean_response_min"], 1.0),
            _estimate(m["specialist_share"], 100.0),
            _estimate(m[TARGET_METRIC], 100.0),
        ]
        if target.share is not None:
            row.append("yes" if v.meets_target else "no")
        rows.append(row)
    return rows


def _describe(v: VariantSummary) -> str:
    entry = v.metrics[TARGET_METRIC]
    figure = "no figure" if entry.mean is None else f"{entry.mean * 100:.1f}%"
    if entry.low is not None and entry.high is not None:
        figure += f" (95% interval {entry.low * 100:.1f} to {entry.high * 100:.1f}%)"
    return (
        f"variant {v.variant} ({v.label}): {v.teams} teams, "
        f"{v.team_hours_week:.0f} team-hours a week, {figure}"
    )


def answer_text(summary: SweepSummary) -> str:
    """One paragraph: the smallest staffing meeting the target, and the evidence next to it."""
    target = summary.target
    if target.share is None:
        return "No target stated (give --target-share, or target_share in [sweep])."
    goal = (
        f"{target.share * 100:g}% of calls reached by a specialist team within "
        f"{target.response_min:g} min, judged on the lower end of the 95% interval "
        f"({summary.replications} replications)"
    )
    by_index = {v.variant: v for v in summary.variants}
    if target.answer is None:
        text = f"No variant meets the target ({goal})."
        best = by_index.get(target.best) if target.best is not None else None
        if best is not None:
            text += f" Closest: {_describe(best)}."
        return text
    chosen = by_index[target.answer]
    text = f"Target: {goal}.\nSmallest staffing that meets it: {_describe(chosen)}."
    if target.next_smaller is not None:
        text += f"\nNext smaller, which does not: {_describe(by_index[target.next_smaller])}."
    return text


def format_sweep(summary: SweepSummary) -> str:
    """The variant table and the answer, as aligned text."""
    rows = variant_table(summary)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"{summary.scenario}: {len(summary.variants)} variant(s) x "
        f"{summary.replications} replication(s), seed {summary.seed}, "
        "95% intervals in brackets"
    ]
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w) for cell, w in zip(row, widths, strict=True)
            )
        )
    lines.append("")
    lines.append(answer_text(summary))
    return "\n".join(lines)
