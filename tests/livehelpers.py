"""Helpers for the live-service tests: a small scenario, a clock the test moves, a client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from dispatch.live.app import create_app
from dispatch.live.keys import ROLES
from dispatch.live.service import LiveService
from dispatch.live.state import LiveConfig
from dispatch.live.store import Store
from dispatch.scenario_file import load_scenario, read_raw

# Monday 2026-11-30 14:00 UTC = 08:00 in Chicago: the day shift has just begun.
MONDAY_8AM_CHICAGO = 1_796_047_200.0

SCENARIO = """
name = "live test city"
seed = 1
timezone = "America/Chicago"

[network]
kind = "straight_line"
speed_kph = 40
circuity = 1.3

[calls.synthetic]
calls_per_day = 10
days = 1
locations = [[38.63, -90.20, 1.0]]

[service]
transport_share = 0

[policy]
fallback_after_min = 10
fallback = "{fallback}"

[shifts.day]
start = "08:00"
hours = 10

[[stations]]
id = "north"
lat = 38.67
lon = -90.24

[[stations]]
id = "south"
lat = 38.58
lon = -90.25

[[teams]]
id = "CR-N"
count = 1
kind = "co_responder"
cit = true
station = "north"
shift = "day"

[[teams]]
id = "CR-S"
count = 1
kind = "co_responder"
cit = true
station = "south"
shift = "day"

[[teams]]
id = "P"
count = 2
kind = "patrol"
station = "south"
"""


class Clock:
    """A wall clock the test sets and moves (Unix seconds)."""

    def __init__(self, t: float = MONDAY_8AM_CHICAGO + 60.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def write_scenario(folder: Path, *, fallback: str = "pool", around_the_clock: bool = False) -> Path:
    """The test scenario as a file in ``folder`` (``around_the_clock``: no shifts, for tests on
    the real wall clock)."""
    text = SCENARIO.replace("{fallback}", fallback)
    if around_the_clock:
        text = text.replace('shift = "day"\n', "")
    path = folder / "live.toml"
    path.write_text(text, encoding="utf-8")
    return path


def live_config(path: Path) -> LiveConfig:
    """The service configuration of a scenario file."""
    return LiveConfig.from_scenario(load_scenario(path), read_raw(path))


@dataclass
class Live:
    """A running service under test: its client, clock, store and keys by role."""

    client: TestClient
    service: LiveService
    clock: Clock
    store: Store
    keys: dict[str, str]

    def headers(self, role: str = "dispatcher") -> dict[str, str]:
        """Authorization header with the key of ``role``."""
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def post(self, path: str, body: object, role: str = "dispatcher") -> dict:  # type: ignore[type-arg]
        """POST and return the JSON body, asserting a 2xx answer."""
        response = self.client.post(path, json=body, headers=self.headers(role))
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()  # type: ignore[no-any-return]

    def get(self, path: str, role: str = "reader") -> object:
        """GET and return the JSON body, asserting 200."""
        response = self.client.get(path, headers=self.headers(role))
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()


@contextmanager
def running(
    scenario: Path, db_url: str, clock: Clock | None = None, *, max_body: int = 1 << 20
) -> Iterator[Live]:
    """A started service on ``db_url`` with one key per role."""
    clock = clock or Clock()
    store = Store.open(db_url)
    service = LiveService(live_config(scenario), store, clock=clock)
    keys = {role: service.keys.create(role, f"test {role}") for role in ROLES}
    with TestClient(create_app(service, version="test", max_body=max_body)) as client:
        yield Live(client, service, clock, store, keys)
