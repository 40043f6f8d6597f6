"""Travel bands in the replay: dispatch, transport and the drive home read the band in force.

One co-responder team on the downtown Denver streets of ``tests/data/scenarios/rush_hour``
(weekday rush hours slow the arterials, nights are quicker), calls hours apart so the team is
always at its station when sent: each call's travel is the turnout plus the oracle's time from
the station at the moment of dispatch, longer in exactly the rush hours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import dispatch
from dispatch.sim.prepare import prepare

RUSH = Path(__file__).resolve().parent / "data" / "scenarios" / "rush_hour" / "scenario.toml"
#: Local times of the calls, Monday 3 March 2025 to Saturday 8 March (Denver).
TIMES = [
    "2025-03-03T03:00:00",  # night band
    "2025-03-03T08:00:00",  # morning rush
    "2025-03-03T12:00:00",
    "2025-03-03T17:00:00",  # evening rush
    "2025-03-03T20:00:00",
    "2025-03-04T09:15:00",  # morning rush, near its end (09:30)
    "2025-03-04T09:45:00",  # just after it
    "2025-03-08T08:00:00",  # a Saturday: no rush
]
RUSH_HOURS = {1, 3, 5}


def test_replayed_travel_follows_the_bands(tmp_path: Path) -> None:
    pd.DataFrame(
        {
            "call_id": [f"R{k}" for k in range(len(TIMES))],
            "received_at": TIMES,
            "lat": 39.7527,
            "lon": -104.9996,
        }
    ).to_csv(tmp_path / "calls.csv", index=False)
    (tmp_path / "one_team.toml").write_text(
        f'extends = "{RUSH}"\nname = "one team"\n'
        '[calls]\npath = "calls.csv"\n'
        "[service]\ntransport_share = 0\n"
        '[service.on_scene]\ndefault = { dist = "fixed", value = 10 }\n'
        '[[teams]]\nid = "CR-1"\nkind = "co_responder"\ncit = true\nstation = "civic"\n'
    )
    scenario = dispatch.load_scenario(tmp_path / "one_team.toml")
    calls = dispatch.simulate(scenario, replications=1).calls.sort_values("call_id")
    assert (calls["outcome"] == "specialist").all()
    prep = prepare(scenario)
    travel = prep.matcher.travel
    station = int(prep.setup.station_place[0])
    place = travel.snap(39.7527, -104.9996)
    dispatched_s = (calls["dispatched_at"] - prep.epoch).dt.total_seconds().to_numpy()
    expected = [60.0 + travel.time(station, place, at) for at in dispatched_s]
    np.testing.assert_allclose(calls["travel_s"].to_numpy(), expected, rtol=0, atol=1e-9)
    base = 60.0 + travel.time(station, place)  # the network's own times
    slower = calls["travel_s"].to_numpy() > base + 1.0
    assert set(np.flatnonzero(slower).tolist()) == RUSH_HOURS
    assert calls["travel_s"].iloc[0] < base  # the night band is quicker
    assert np.allclose(calls["travel_s"].iloc[[2, 4, 6, 7]], base)
