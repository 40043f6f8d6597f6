"""Shared fixtures: the bundled Denver network and a small city with whole-second edge times."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pytest

from dispatch.networks import denver_network
from dispatch.travel import RoadNetworkTimes, TravelTimes

# Real PostgreSQL servers (tests/pg.py) and a real headless browser (tests/browser.py).
pytest_plugins = ["pg", "browser"]


@dataclass(frozen=True)
class City:
    """A 6 x 6 street grid around downtown Denver, about 300 m blocks.

    Edge times are whole seconds (30..240), so sums are exact in any order and ties are real
    ties; a few streets are one-way, so some trips are long or impossible.
    """

    G: Any  # nx.DiGraph with node attributes y/x and edge attribute travel_time (s)
    travel: RoadNetworkTimes
    coords: list[tuple[float, float]]  # (lat, lon) of node i

    def eta(self, origin: int, destination: int) -> float:
        """Reference travel seconds by networkx (``inf`` when there is no path)."""
        try:
            return float(nx.shortest_path_length(self.G, origin, destination, weight="travel_time"))
        except nx.NetworkXNoPath:
            return float("inf")


def _city() -> City:
    rng = np.random.default_rng(20240611)
    rows = cols = 6
    G = nx.DiGraph()
    coords = []
    for r in range(rows):
        for c in range(cols):
            lat, lon = 39.70 + r * 0.0027, -105.00 + c * 0.0035
            G.add_node(r * cols + c, y=lat, x=lon)
            coords.append((lat, lon))
    for r in range(rows):
        for c in range(cols):
            u = r * cols + c
            for v in ([u + 1] if c + 1 < cols else []) + ([u + cols] if r + 1 < rows else []):
                G.add_edge(u, v, travel_time=int(rng.integers(30, 241)))
                if rng.random() > 0.1:  # about one street segment in ten is one-way
                    G.add_edge(v, u, travel_time=int(rng.integers(30, 241)))
    return City(G, TravelTimes.from_graph(G), coords)


@pytest.fixture(scope="session")
def city() -> City:
    return _city()


@pytest.fixture(scope="session")
def denver() -> RoadNetworkTimes:
    return denver_network()


@pytest.fixture
def dask_scheduler() -> Iterator[str]:
    """The address of a local Dask cluster of two single-threaded worker processes.

    `make test` installs the distributed extra: a missing Dask is a failure, not a skip.
    """
    import distributed

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        yield cluster.scheduler_address
