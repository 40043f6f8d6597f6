"""The post-siting tests' small city: three clusters of calls around one headquarters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SCENARIO = """
name = "three clusters"
seed = 5
replications = 2
timezone = "America/Chicago"

[network]
kind = "straight_line"
speed_kph = 40
circuity = 1.3

[calls]
path = "calls.csv"

[service]
transport_share = 0

[policy]
fallback_after_min = 10
target_response_min = 20

[[stations]]
id = "hq"
lat = 38.6332
lon = -90.2164

[[teams]]
id = "T"
count = 3
kind = "co_responder"
cit = true
station = "hq"
"""

#: South, middle (around today's site, hq) and north clusters of calls.
CLUSTERS = {"South": (38.56, -90.26), "Middle": (38.63, -90.22), "North": (38.69, -90.25)}

CANDIDATES = """id,name,lat,lon,existing
hq,Headquarters,38.6332,-90.2164,true
south,South,38.56,-90.26,false
north,North,38.69,-90.25,false
west,West,38.62,-90.30,false
"""


def write_city(folder: Path, *, extra_toml: str = "") -> Path:
    """Write ``calls.csv`` (240 calls in a week, each near one cluster; ``clusters.csv`` says
    which), ``scenario.toml`` (`SCENARIO` + ``extra_toml``) and ``candidates.csv``."""
    rng = np.random.default_rng(3)
    n = 240
    which = rng.integers(0, 3, n)
    centre = np.array(list(CLUSTERS.values()))[which]
    start = pd.Timestamp("2025-04-07")
    calls = pd.DataFrame(
        {
            "call_id": [f"C{i:04d}" for i in range(n)],
            "received_at": [
                (start + pd.Timedelta(seconds=round(float(s)))).isoformat()
                for s in np.sort(rng.uniform(0, 7 * 86400, n))
            ],
            "lat": np.round(centre[:, 0] + rng.normal(0, 0.004, n), 6),
            "lon": np.round(centre[:, 1] + rng.normal(0, 0.004, n), 6),
            "cluster": np.array(list(CLUSTERS))[which],
        }
    )
    calls.drop(columns="cluster").to_csv(folder / "calls.csv", index=False)
    calls[["call_id", "cluster"]].to_csv(folder / "clusters.csv", index=False)
    (folder / "scenario.toml").write_text(SCENARIO + extra_toml, encoding="utf-8")
    (folder / "candidates.csv").write_text(CANDIDATES, encoding="utf-8")
    return folder
