"""``dispatch view``: the replay viewer's data, its command line, and the page in a real browser.

Two small replays with the event log: downtown Denver on its road network (synthetic calls,
a busy few days so teams queue, transport and get sent on their way home) and the first calls
of the St. Louis log on straight lines, with its neighbourhood polygons. Turnout is zero in
both, so a team's travel time is the oracle's time from where it was sent: the check that the
rebuilt position at each dispatch is the one the replay dispatched from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser import console_errors, is_blank, leaves_the_machine, requested_urls

from dispatch.cli import main
from dispatch.datasets import example_scenario
from dispatch.viewer import build_viewer_data, position_at, write_viewer
from dispatch.viewer.build import SCALE, STATUSES, Track

ZERO_TURNOUT = '[service]\nturnout = { dist = "fixed", value = 0 }\n'


def _simulate(scenario: Path, out: Path, *extra: str) -> Path:
    assert main(["simulate", str(scenario), "--out", str(out), *extra]) == 0
    return out


@pytest.fixture(scope="module")
def denver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("denver")
    scenario = root / "denver.toml"
    base = example_scenario("denver_downtown")
    scenario.write_text(
        f'extends = "{base}"\nname = "Denver busy days"\n'
        "[calls.synthetic]\ncalls_per_day = 40\ndays = 4\nstart = 2025-01-06\n"
        "locations = [[39.7392, -104.9870, 3.0], [39.7530, -105.0000, 2.0], "
        "[39.7420, -104.9780, 2.0]]\n"
        "risk_mix = { low = 0.45, standard = 0.40, high = 0.15 }\n"
        '[service]\ntransport_share = 0.5\nturnout = { dist = "fixed", value = 0 }\n',
        encoding="utf-8",
    )
    return _simulate(scenario, root / "out", "--replications", "2", "--events")


@pytest.fixture(scope="module")
def stlouis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stlouis")
    base = example_scenario("stlouis_cru")
    log = base.parent.parent / "data" / "stlouis" / "calls_2025.csv"
    lines = log.read_text(encoding="utf-8").splitlines()
    (root / "calls.csv").write_text("\n".join(lines[:401]) + "\n", encoding="utf-8")
    scenario = root / "stl.toml"
    scenario.write_text(
        f'extends = "{base}"\nname = "St. Louis, first calls"\n'
        f'[calls]\npath = "calls.csv"\n{ZERO_TURNOUT}',
        encoding="utf-8",
    )
    return _simulate(scenario, root / "out", "--replications", "1", "--events")


def _track(teams: dict[str, Any], i: int) -> Track:
    def undelta(values: list[int]) -> list[int]:
        return pd.Series(values, dtype="int64").cumsum().tolist()

    return Track(
        undelta(teams["t"][i]), undelta(teams["x"][i]), undelta(teams["y"][i]), teams["s"][i]
    )


def _tracks(rep: dict[str, Any]) -> dict[str, Track]:
    return {team: _track(rep["teams"], i) for i, team in enumerate(rep["teams"]["id"])}


# -- the data ----------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["denver", "stlouis"])
def test_every_call_of_the_replication_is_in_the_data(which: str, request: Any) -> None:
    out = request.getfixturevalue(which)
    calls = pd.read_parquet(out / "calls.parquet")
    reps = [0, 1] if which == "denver" else [0]
    data = build_viewer_data(out, replications=reps)
    assert [r["replication"] for r in data["replications"]] == reps
    for rep in data["replications"]:
        mine = calls[(calls["replication"] == rep["replication"]) & (calls["outcome"] != "thinned")]
        assert sorted(rep["calls"]["id"]) == sorted(mine["call_id"])
        assert sorted(data["outcomes"][o] for o in rep["calls"]["outcome"]) == sorted(
            mine["outcome"]
        )


@pytest.mark.parametrize("which", ["denver", "stlouis"])
def test_times_are_monotone(which: str, request: Any) -> None:
    data = build_viewer_data(request.getfixturevalue(which))
    rep = data["replications"][0]
    calls = rep["calls"]
    assert calls["received"] == sorted(calls["received"])
    for r, d, a, c in zip(
        calls["received"], calls["dispatched"], calls["arrived"], calls["cleared"], strict=True
    ):
        assert d == -1 or r <= d
        assert a == -1 or (d <= a and a <= c)
    for track in _tracks(rep).values():
        assert track.t == sorted(track.t)
        assert len(track.t) == len(track.x) == len(track.y) == len(track.s)
    starts = data["days"]["start"]
    assert starts == sorted(starts) and len(starts) == len(data["days"]["label"]) + 1
    assert starts[-1] > max(calls["received"])


@pytest.mark.parametrize("which", ["denver", "stlouis"])
def test_a_team_is_where_the_events_say(which: str, request: Any) -> None:
    """At each dispatch the team is where the replay sent it from (with no turnout its travel
    time is the oracle's from there), at arrival on the scene, after a transport at the
    facility, and it is lettered with the status the events give."""
    from dispatch.scenario_file import load_scenario
    from dispatch.sim.prepare import prepare

    out = request.getfixturevalue(which)
    data = build_viewer_data(out)
    rep = data["replications"][0]
    tracks = _tracks(rep)
    events = pd.read_parquet(out / "events.parquet")
    events = events[events["replication"] == 0]
    summary = pd.read_json(out / "summary.json", typ="series")
    prep = prepare(load_scenario(summary["scenario_path"]))
    travel = prep.matcher.travel
    calls = rep["calls"]
    index = {call_id: c for c, call_id in enumerate(calls["id"])}
    facilities = dict(zip(prep.facility_ids, prep.setup.facility_place.tolist(), strict=True))
    fac_labels = data["labels"]["facility"]

    def place_of(x: float, y: float) -> int:
        return int(travel.snap(y / SCALE, x / SCALE))

    def xy(place: int) -> tuple[int, int]:
        lat, lon = travel.coordinates([place])
        return round(float(lon[0]) * SCALE), round(float(lat[0]) * SCALE)

    checked = {"dispatched": 0, "on_scene": 0, "at_facility": 0}
    for time_s, kind, call_id, team in zip(
        events["time_s"], events["event"], events["call_id"], events["team_id"], strict=True
    ):
        if not team or kind not in checked:
            continue
        c = index[call_id]
        scene = travel.snap(calls["y"][c] / SCALE, calls["x"][c] / SCALE)
        x, y, status = position_at(tracks[team], round(time_s))
        if kind == "dispatched" and calls["arrived"][c] == round(time_s):
            continue  # sent to where it stands: on scene at once
        assert STATUSES[status] == kind, (team, call_id, kind)
        if kind == "dispatched":
            eta = travel.time(place_of(x, y), scene, time_s)
            assert eta == pytest.approx(calls["travel"][c], abs=2.0), (team, call_id)
        elif kind == "on_scene":
            assert (x, y) == xy(scene)
        else:
            assert (x, y) == xy(facilities[fac_labels[calls["facility"][c]]])
        checked[kind] += 1
    assert min(checked.values()) > 5, checked


def test_a_replication_not_in_the_results_is_an_error(denver: Path) -> None:
    from dispatch.viewer import ViewerError

    with pytest.raises(ViewerError, match="no replication 7"):
        build_viewer_data(denver, replications=[7])


def test_the_areas_and_the_network_are_drawn_from_the_scenario(denver: Path, stlouis: Path) -> None:
    stl = build_viewer_data(stlouis)
    assert len(set(stl["areas"]["ring"])) == len(stl["areas"]["name"]) > 50
    assert stl["network"] == []
    assert "City of St. Louis" in stl["attribution"]
    den = build_viewer_data(denver)
    assert den["areas"]["rings"] == [] and len(den["network"]) > 100
    assert "OpenStreetMap" in den["attribution"]


# -- the command line --------------------------------------------------------------------------
def test_view_writes_one_file(denver: Path, tmp_path: Path, capsys: Any) -> None:
    page = tmp_path / "replay.html"
    assert main(["view", str(denver), "--out", str(page), "--replication", "1"]) == 0
    assert f"viewer: {page}" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    assert "__VIEWER_DATA__" not in text and "<script src" not in text
    assert "default-src 'none'" in text  # the page may fetch nothing


def test_a_missing_folder_is_one_line_and_exit_2(tmp_path: Path, capsys: Any) -> None:
    assert main(["view", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such directory" in err


def test_results_without_events_are_one_line_and_exit_2(
    tmp_path: Path, stlouis: Path, capsys: Any
) -> None:
    out = tmp_path / "plain"
    out.mkdir()
    for name in ("calls.parquet", "teams.parquet", "summary.json"):
        (out / name).write_bytes((stlouis / name).read_bytes())
    capsys.readouterr()
    assert main(["view", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--events" in err and "events.parquet" in err


# -- the page in a real browser ----------------------------------------------------------------
def _moving(data: dict[str, Any]) -> tuple[str, int, int, int]:
    """A team that is somewhere else half a minute later, within one day: (team, day, t0, t1)
    with the times in seconds of that day."""
    starts = data["days"]["start"]
    for team, track in _tracks(data["replications"][0]).items():
        for k, t in enumerate(track.t):
            t0, t1 = t + 1, t + 31
            day = next((d for d in range(len(starts) - 1) if starts[d] <= t0 < starts[d + 1]), -1)
            if day < 0 or t1 >= starts[day + 1] or track.s[k] != 1:  # 1: dispatched, driving
                continue
            if position_at(track, t0)[:2] != position_at(track, t1)[:2]:
                return team, day, t0 - starts[day], t1 - starts[day]
    raise AssertionError("no team moves")


#: True when nothing (a team marker) lies over the element's centre, so a click reaches it.
UNCOVERED = (
    "const r = arguments[0].getBoundingClientRect();"
    "return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === arguments[0];"
)


def _set(browser: Any, element_id: str, value: int, event: str) -> None:
    browser.execute_script(
        "const e = document.getElementById(arguments[0]); e.value = String(arguments[1]);"
        "e.dispatchEvent(new Event(arguments[2]));",
        element_id,
        value,
        event,
    )


def test_the_page_replays_offline(denver: Path, tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    page = write_viewer(denver, out=tmp_path / "viewer.html")
    data = build_viewer_data(denver)
    browser.get(page.as_uri())
    teams = browser.find_elements(By.CSS_SELECTOR, "#teams g.team")
    assert sorted(g.get_attribute("data-team") for g in teams) == sorted(
        data["replications"][0]["teams"]["id"]
    )
    assert browser.find_element(By.ID, "roads").get_attribute("d").count("M") == len(
        data["network"]
    )

    # The time slider moves teams.
    team, day, t0, t1 = _moving(data)
    marker = browser.find_element(By.CSS_SELECTOR, f'#teams g[data-team="{team}"]')
    _set(browser, "day", day, "change")
    _set(browser, "time", t0, "input")
    before = marker.get_attribute("transform")
    _set(browser, "time", t1, "input")
    after = marker.get_attribute("transform")
    assert before != after
    track = _tracks(data["replications"][0])[team]
    start = data["days"]["start"][day]
    assert marker.get_attribute("data-status") == STATUSES[position_at(track, start + t1)[2]]

    # A click on a call shows its record.
    _set(browser, "time", data["days"]["start"][day + 1] - start - 1, "input")
    shown = [
        c
        for c in browser.find_elements(By.CSS_SELECTOR, "#calls .call")
        if c.is_displayed() and browser.execute_script(UNCOVERED, c)
    ]
    assert shown
    call_id = shown[-1].get_attribute("data-call")
    shown[-1].click()
    record = browser.find_element(By.CSS_SELECTOR, "#record table")
    assert record.get_attribute("data-call") == call_id
    assert "received" in record.text and "outcome" in record.text

    # Play moves the clock.
    clock = browser.find_element(By.ID, "clock").text
    _set(browser, "time", 8 * 3600, "input")
    browser.find_element(By.ID, "play").click()
    browser.implicitly_wait(0)
    import time

    time.sleep(0.5)
    browser.find_element(By.ID, "play").click()
    assert browser.find_element(By.ID, "clock").text != clock

    assert not is_blank(browser.get_screenshot_as_png())
    assert console_errors(browser) == []
    urls = requested_urls(browser)
    assert urls and [u for u in urls if leaves_the_machine(u)] == []


def test_the_page_draws_the_areas(stlouis: Path, tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    page = write_viewer(stlouis, out=tmp_path / "viewer.html")
    browser.get(page.as_uri())
    areas = browser.find_elements(By.CSS_SELECTOR, "#areas path.area")
    assert len(areas) == len(build_viewer_data(stlouis)["areas"]["name"])
    assert not is_blank(browser.get_screenshot_as_png())
    assert console_errors(browser) == []
    assert [u for u in requested_urls(browser) if leaves_the_machine(u)] == []
