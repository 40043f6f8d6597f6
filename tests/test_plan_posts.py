"""``dispatch plan posts``: a small scenario planned end to end, and bad candidates files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from postshelpers import write_city

import dispatch
from dispatch.cli import main
from dispatch.errors import InputError
from dispatch.plan.posts import (
    aggregate_demand,
    apportion,
    plan_posts,
    read_candidates,
    rehomed_teams,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_city(tmp_path)


def test_plan_posts_end_to_end(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = folder / "plan"
    code = main(
        [
            "plan", "posts", str(folder / "scenario.toml"),
            "--candidates", str(folder / "candidates.csv"),
            "--k", "3", "--objective", "p-median", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "posts (optimal" in printed and "median response" in printed
    for name in ("posts_scenario.toml", "posts.csv", "siting.json", "comparison.csv"):
        assert (out / name).is_file()
    report = (out / "posts.html").read_text(encoding="utf-8")
    # two maps, the reached curve, the replay's change map and the response times: embedded
    assert report.count("data:image/png;base64,") == 5
    assert "OpenStreetMap" not in report  # straight-line travel: no map data to credit
    summary = json.loads((out / "siting.json").read_text())
    # Three clusters, three posts: one at each (hq stands for the middle one).
    assert sorted(summary["posts"]) == ["hq", "north", "south"]
    assert summary["optimal"] and summary["gap"] == 0.0
    assert summary["value"] < summary["today_value"]
    # The written scenario loads and simulates; its teams sit at the chosen posts.
    planned = dispatch.load_scenario(out / "posts_scenario.toml")
    assert {s.site_id for s in planned.stations} == {"hq", "north", "south"}
    assert sorted(t.station_id for t in planned.teams) == ["hq", "north", "south"]
    result = dispatch.simulate(planned, replications=1)
    assert len(result.calls) == 240
    # Better sites for the same calls: the plan's median response is lower in the check.
    table = {row["figure"]: row for row in summary["comparison"]}
    assert table["median_response_min"]["difference_hi"] < 0


def test_mclp_with_kept_sites_and_capacity(folder: Path) -> None:
    scenario = dispatch.load_scenario(folder / "scenario.toml")
    cands = read_candidates(folder / "candidates.csv")
    plan = plan_posts(scenario, cands, 2, objective="mclp", cover_min=3.0, keep_existing=True)
    assert "hq" in plan.post_ids and plan.siting.optimal
    # With room for 12 calls a day per post (about 2/5 of the week's 240 calls each),
    # no post may serve more than that.
    capped = plan_posts(scenario, cands, 3, capacity_per_day=12.0)
    assert capped.siting.optimal
    assert np.all(capped.post_weight() <= 12.0 * capped.demand.days + 1e-6)


def test_demand_is_pooled_into_cells(folder: Path) -> None:
    scenario = dispatch.load_scenario(folder / "scenario.toml")
    every = aggregate_demand(scenario, cell_m=0)
    pooled = aggregate_demand(scenario, cell_m=2000)
    assert every.calls == pooled.calls == 240
    assert len(pooled.weight) < len(every.weight) == 240
    assert 3 <= len(pooled.weight) <= 20


def test_teams_are_rehomed_in_proportion_to_calls_served() -> None:
    assert apportion(8, [3.0, 1.0]) == [6, 2]
    groups = [{"id": "day", "count": 4, "kind": "co_responder", "station": "hq", "shift": "day"}]
    out = rehomed_teams(groups, ["a", "b", "c"], [10.0, 50.0, 40.0])
    assert [(g["station"], g["count"]) for g in out] == [("b", 2), ("c", 2)]
    assert all(g["shift"] == "day" and g["kind"] == "co_responder" for g in out)


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        ("id,lat,lon\nA,38.6,x\n", 1, "lon"),
        ("id,lat,lon\nA,38.6,-90.2\nA,38.7,-90.3\n", 2, "id"),
        ("id,lat,lon\nA,38.6,-90.2\nB,98.0,-90.3\n", 2, "lat"),
        ("id,lat,lon,existing\nA,38.6,-90.2,maybe\n", 1, "existing"),
        ("id,lat,lon,capacity\nA,38.6,-90.2,-3\n", 1, "capacity"),
        ("id,lat,lon\n,38.6,-90.2\n", 1, "id"),
    ],
)
def test_bad_candidates_file_exits_2_naming_file_row_and_column(
    folder: Path, capsys: pytest.CaptureFixture[str], text: str, row: int, column: str
) -> None:
    bad = folder / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    code = main(
        [
            "plan", "posts", str(folder / "scenario.toml"), "--candidates", str(bad),
            "--k", "1", "--out", str(folder / "plan"),
        ]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "bad.csv" in err and f"row {row}" in err and f"column '{column}'" in err


def test_missing_columns_and_other_user_errors_exit_2(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = folder / "bad.csv"
    bad.write_text("id,latitude,lon\nA,38.6,-90.2\n", encoding="utf-8")
    base = ["plan", "posts", str(folder / "scenario.toml"), "--out", str(folder / "plan")]
    assert main([*base, "--candidates", str(bad), "--k", "1"]) == 2
    assert "missing column(s) lat" in capsys.readouterr().err
    good = str(folder / "candidates.csv")
    assert main([*base, "--candidates", good, "--k", "9"]) == 2
    assert "k must be between 1 and the 4 candidates" in capsys.readouterr().err
    assert main([*base, "--candidates", good, "--k", "2", "--objective", "mclp"]) == 2
    assert "--cover-min" in capsys.readouterr().err
    assert main([*base, "--candidates", str(folder / "none.csv"), "--k", "1"]) == 2
    assert "none.csv" in capsys.readouterr().err


def test_read_candidates_reads_capacity_and_existing(folder: Path) -> None:
    path = folder / "c.csv"
    path.write_text("id,lat,lon,capacity,existing\nA,38.6,-90.2,5,yes\nB,38.7,-90.3,,\n")
    cands = read_candidates(path)
    assert cands.capacity is not None and cands.capacity.tolist() == [5.0, float("inf")]
    assert cands.existing.tolist() == [True, False]
    with pytest.raises(InputError, match="header only"):
        path.write_text("id,lat,lon\n")
        read_candidates(path)


def test_the_check_on_worker_processes_gives_the_same_comparison(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    def plan(out: str, *extra: str) -> None:
        argv = [
            "plan", "posts", str(folder / "scenario.toml"),
            "--candidates", str(folder / "candidates.csv"),
            "--k", "3", "--objective", "p-median", "--out", str(folder / out),
            "--replications", "3",
        ]  # fmt: skip
        assert main([*argv, *extra]) == 0

    plan("here")
    plan("there", "--workers", "2")
    capsys.readouterr()
    pd.testing.assert_frame_equal(
        pd.read_csv(folder / "there" / "comparison.csv"),
        pd.read_csv(folder / "here" / "comparison.csv"),
    )
