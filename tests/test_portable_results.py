"""A seed replays alike on every CPU: the replay draws through the C library's ``exp`` and
``log1p`` (`math`), never numpy's vectorised exponential and logarithm functions, which numpy
picks by CPU (on AVX-512 they are other code, and may differ in the last bit).

The same commit's golden digests differed between the machine they were taken on and one
without AVX-512; numpy's float64 ``sin``, ``cos`` and ``arcsin`` (the straight-line oracle's
haversine for large fleets) gave the same bits on both (`tests/test_travel_bands.py`'s
straight-line digest held), so they are not refused here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import dispatch
from dispatch.distributions import Distribution

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
# numpy ufuncs with float64 loops of their own on AVX-512 (Intel's SVML)
DISPATCHED = ("exp", "expm1", "log", "log1p", "log2", "log10", "power", "cbrt", "sinh", "cosh")


@pytest.fixture
def no_dispatched_math(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise AssertionError(f"numpy.{name} called on the replay's path")

        return call

    for name in DISPATCHED:
        monkeypatch.setattr(np, name, refuse(name))


@pytest.mark.parametrize(
    "name", ["stlouis_cru.toml", "denver_downtown.toml", "stlouis_wellness.toml"]
)
def test_a_replay_asks_no_cpu_dispatched_numpy_function(
    no_dispatched_math: None, name: str
) -> None:
    scenario = dispatch.load_scenario(SCENARIOS / name)
    result = dispatch.simulate(scenario, replications=1)
    assert len(result.calls) > 0


@pytest.mark.parametrize(
    "dist",
    [
        Distribution.exponential(600.0),
        Distribution.lognormal_from_quantile(900.0, 2400.0),
    ],
)
def test_draws_are_the_c_library_functions_of_their_uniforms(
    no_dispatched_math: None, dist: Distribution
) -> None:
    from scipy.special import ndtri

    u = np.random.default_rng(7).random(2_000)
    got = dist.quantile(u)
    if dist.kind == "exponential":
        expected = [-dist.a * math.log1p(-v) for v in u.tolist()]
    else:
        expected = [dist.a * math.exp(dist.b * z) for z in ndtri(u).tolist()]
    assert got.tolist() == expected
