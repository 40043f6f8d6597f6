"""``dispatch demo``: the main job on the bundled data.

1. The matcher as a library: a small fleet on the real downtown Denver road network, a handful of
   behavioral-health calls, and the explanation of every choice.
2. The St. Louis Crisis Response Unit baseline replayed over a year of calls, written to
   ``out/demo/`` with its report, and the headline figures printed.

Both run on the data bundled inside the package, so the demo works from any folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEMO_SCENARIO = "stlouis_cru"
"""The bundled example scenario the demo replays by default."""


def demo(
    out: Annotated[Path, typer.Option(help="Where to write the demo's results.")] = Path(
        "out/demo"
    ),
    scenario: Annotated[
        Path | None,
        typer.Option(help=f"Scenario to replay (default: the bundled {DEMO_SCENARIO}.toml)."),
    ] = None,
) -> None:
    """Recommend teams on the Denver network, then replay the St. Louis CRU baseline."""
    from dispatch.datasets import example_scenario

    _matcher_demo()
    _replay_demo(scenario if scenario is not None else example_scenario(DEMO_SCENARIO), out)


def _matcher_demo() -> None:
    from dispatch.match import Matcher
    from dispatch.model import Call, RiskLevel, Team, TeamKind, TeamStatus
    from dispatch.networks import denver_network

    travel = denver_network()
    matcher = Matcher(travel)
    teams = [
        Team("CR-11", TeamKind.CO_RESPONDER, 39.7440, -104.9790, cit=True, station_id="D6"),
        Team("CR-12", TeamKind.CO_RESPONDER, 39.7545, -104.9975, cit=False, station_id="D6"),
        Team(
            "CR-13",
            TeamKind.CO_RESPONDER,
            39.7500,
            -104.9900,
            cit=True,
            station_id="D6",
            status=TeamStatus.ON_SCENE,
        ),
        Team("STAR-2", TeamKind.CLINICIAN, 39.7410, -104.9880, station_id="D6"),
        Team("CIT-604", TeamKind.CIT_OFFICER, 39.7590, -104.9850, cit=True, station_id="D6"),
        Team("P-621", TeamKind.PATROL, 39.7480, -104.9950, station_id="D6"),
        Team(
            "CR-14",
            TeamKind.CO_RESPONDER,
            39.7440,
            -104.9790,
            cit=True,
            station_id="D6",
            status=TeamStatus.OFF_DUTY,
        ),
    ]
    calls = [
        Call("D-1001", 39.7470, -104.9920, call_type="suicidal", priority=1, risk=RiskLevel.HIGH),
        Call("D-1002", 39.7552, -104.9960, call_type="mental_health", risk=RiskLevel.STANDARD),
        Call(
            "D-1003", 39.7395, -104.9865, call_type="welfare_check", priority=3, risk=RiskLevel.LOW
        ),
        Call(
            "D-1004",
            39.7420,
            -104.9800,
            call_type="welfare_check",
            priority=2,
            risk=RiskLevel.LOW,
            flags=frozenset({"weapon"}),
        ),
    ]
    typer.echo(
        f"== The matcher on downtown Denver ({travel.n_places} intersections, "
        f"{travel.n_edges} street segments) ==\n"
    )
    fleet = matcher.fleet(teams)
    for call in calls:
        typer.echo(matcher.recommend(call, fleet).explain())
        typer.echo("")
    joint = matcher.assign(calls, fleet)
    pairs = ", ".join(f"{c} -> {t}" for c, t in joint.pairs)
    typer.echo(f"Joint assignment of all four at once ({joint.solver}): {pairs}")
    if joint.unassigned:
        typer.echo(f"  no team left for: {', '.join(joint.unassigned)}")
    typer.echo("")


def _replay_demo(scenario_path: Path, out: Path) -> None:
    import dispatch
    from dispatch.sim.results import format_summary

    typer.echo(f"== Replaying {scenario_path.name} ==\n")
    scenario = dispatch.load_scenario(scenario_path)
    result = dispatch.simulate(scenario)
    result.write(out)
    typer.echo(format_summary(result.summary))
    written = [out / "calls.parquet", out / "teams.parquet", out / "summary.json"]
    report = _write_report(out)
    if report is not None:
        written.append(report)
    typer.echo("\nwritten:\n" + "\n".join(f"  {p}" for p in written))


def _write_report(out: Path) -> Path | None:
    from dispatch.report import write_report

    return write_report(out)
