"""``dispatch report``: one self-contained HTML file with its figures, for simulate and sweep."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

import dispatch
from dispatch.cli import main
from dispatch.report import ReportError, write_report
from dispatch.sweep import plan_sweep, run_sweep

SCENARIO = """
name = "report city"
seed = 5
replications = 2
timezone = "America/Chicago"

[network]
kind = "straight_line"

[calls.synthetic]
calls_per_day = 20
days = 7
locations = [[38.63, -90.20, 1.0], [38.60, -90.26, 1.0]]
risk_mix = { low = 0.5, standard = 0.5 }

[service]
transport_share = 0

[shifts.day]
start = "09:00"
hours = 8

[[stations]]
id = "hq"
lat = 38.6332
lon = -90.2164

[[teams]]
id = "D"
count = 1
kind = "co_responder"
cit = true
station = "hq"
shift = "day"

[[teams]]
id = "C"
count = 1
kind = "clinician"
station = "hq"
"""

SWEEP_FIGURES = {
    "response_times.png",
    "staffing_curve.png",
    "demand_duty.png",
    "no_specialist_reasons.png",
    "team_utilization.png",
}


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "city.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def embedded_pngs(page: str) -> list[bytes]:
    found = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    return [base64.b64decode(data) for data in found]


def assert_self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page and "url(" not in page
    assert "http://" not in page and "https://" not in page
    # every image is inline
    sources = re.findall(r"src='([^']*)'", page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


def test_sweep_report_is_one_file_with_its_figures_inline(scenario: Path) -> None:
    out = scenario.parent / "sweep"
    plan = plan_sweep(scenario, {"teams.D.count": [1, 2, 3]}, replications=2, target_share=0.3)
    run_sweep(plan, out)
    html_path = write_report(out)
    assert html_path == out / "report.html"
    page = html_path.read_text(encoding="utf-8")
    assert_self_contained(page)
    pngs = embedded_pngs(page)
    assert len(pngs) == len(SWEEP_FIGURES)
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    files = {p.name for p in (out / "figures").iterdir()}
    assert files == SWEEP_FIGURES
    assert sorted(pngs) == sorted((out / "figures" / n).read_bytes() for n in files)
    assert "Smallest staffing" in page or "No variant meets" in page
    assert "teams.D.count" in page


def test_simulate_report_with_and_without_the_scenario(scenario: Path) -> None:
    out = scenario.parent / "sim"
    dispatch.simulate(dispatch.load_scenario(scenario)).write(out)
    # simulate records the scenario file, so the report finds the teams on duty by itself.
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario_path"] == str(scenario.resolve())
    page = write_report(out).read_text(encoding="utf-8")
    assert_self_contained(page)
    assert len(embedded_pngs(page)) == 4  # no staffing curve for a single scenario
    assert "Teams on duty are not shown" not in page
    assert "mean response" in page

    # Results whose scenario is unknown say so, unless one is named.
    summary["scenario_path"] = None
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    page = write_report(out, out=out / "without.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "Teams on duty are not shown" in page
    page = write_report(out, scenario=scenario, out=out / "with.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "Teams on duty are not shown" not in page


def test_cli_report(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = scenario.parent / "sim"
    dispatch.simulate(dispatch.load_scenario(scenario)).write(out)
    assert main(["report", str(out), "--scenario", str(scenario)]) == 0
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out


def test_unfinished_or_foreign_directories_get_a_clear_error(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = scenario.parent / "cut"
    run_sweep(plan_sweep(scenario, {"teams.D.count": [1, 2]}, replications=2), out, max_tasks=1)
    with pytest.raises(ReportError, match="has not finished"):
        write_report(out)
    empty = scenario.parent / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    assert "no summary.json" in capsys.readouterr().err


def test_a_sweep_over_wellness_rules_shows_the_trade_off(scenario: Path) -> None:
    out = scenario.parent / "wellness"
    plan = plan_sweep(scenario, {"policy.wellness.enabled": [False, True]}, replications=2)
    run_sweep(plan, out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for variant in summary["variants"]:
        assert "gini_busy_hours" in variant["metrics"]
    page = write_report(out).read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "Wellness trade-off" in page and "wellness_tradeoff.png" in page
    assert (out / "figures" / "wellness_tradeoff.png").is_file()
    assert "Team workload and wellness" in page


def test_a_staffing_sweep_has_no_wellness_trade_off(scenario: Path) -> None:
    out = scenario.parent / "staffing"
    run_sweep(plan_sweep(scenario, {"teams.D.count": [1, 2]}, replications=2), out)
    page = write_report(out).read_text(encoding="utf-8")
    assert "Wellness trade-off" not in page
    assert "Team workload and wellness" in page


def test_wellness_variants_are_named_by_the_rules_they_turn_on() -> None:
    from dispatch.report import wellness_label

    keys = ["policy.wellness.recovery_min", "policy.wellness.fairness_margin_s"]
    assert wellness_label({"values": dict(zip(keys, [False, False], strict=True))}, keys) == (
        "no rules"
    )
    assert wellness_label({"values": dict(zip(keys, [45, 60], strict=True))}, keys) == (
        "recovery+fairness"
    )
    assert (
        wellness_label({"values": {"policy.wellness.enabled": True}}, ["policy.wellness.enabled"])
        == "all rules"
    )
