"""Per-call results of every bundled scenario stay what they were when these digests were taken.

The digests were recorded on main before the dispatch session (`dispatch.dispatcher`) took over
the replay's decisions, so any refactor of the decision path must reproduce the old answers
call for call. A digest that changes is either a bug or a named, tested bug fix: update it only
with the fix, never to get green.

Retaken once, with the code unchanged, when the same commit gave other digests on a machine
without AVX-512: numpy picks its vectorised ``exp`` by CPU, and the replay drew through it. It no
longer does (`tests/test_portable_results.py`); these are the C library's answers, which this
CPU's numpy matched bit for bit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

import dispatch
from dispatch.sweep import plan_sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

#: scenario file -> (calls, teams, events) SHA-256 of two replications with the event log.
BASELINE = {
    "denver_downtown.toml": (
        "d62e2ed393ec93250eec0cd72034c49979ed84fe658cb848ac39747cbf1f4b78",
        "46aa25afdc396ea16a744f8d1611c9b3a3b4841dacbb4bdc7959b31bde5a2696",
        "a1af9499e9f26bdb30ccd13eacfa9afc85b3a1ac28e1831bf13eb085aeb85c9a",
    ),
    "stlouis_clinicians.toml": (
        "85f6768c6f0af8f293b8d9fc46afbc930dcf6808ff9e552b6a0268f10d36629e",
        "bddda2afae6094bad566771acd038873452f7ba2266e96a21f3c3e42a709571a",
        "ced41f70006d6d7bb6bdf71e866f4aa8627025c121df35ecf5d0729507d5c9f5",
    ),
    "stlouis_cru.toml": (
        "84e712e433228e1c7f76df06484ca1ef8caad14a84533b5aed5d3b2d3436bb65",
        "73a51efa2003e0dc5a54a666e3bf7978a6acc650e61fe3ece713bd4f3b615dd7",
        "36d3b509fb59bf19277796c48eebb13535f9d7431ab28d3fafe232e1b7bbc8de",
    ),
    "stlouis_overnight.toml": (
        "f02cf5b3d61be6ad5f0e19128b13f4910c14a440eb89e9c284c9c180529bc0c3",
        "215ac81e45fdfff1e84344c9717e836533e3b45548e7fbcc04bca85100fd6599",
        "550cb283a2e905894c0712a148dd09b2f2b3cf792450752b95fe1ca88120e188",
    ),
    "stlouis_staffing_sweep.toml": (
        "c69ebaee114a359f66346ff230f157700457e1a0d175af53a72439310b355db7",
        "398d5e81d7e297655111c5771643d5854b87533c525de62a06df2432565d66f9",
        "aaf2c1e5535db37009fc5c3485aec1d98b8206e8a5703ac881bff25fd23f3e10",
    ),
    "stlouis_wellness.toml": (
        "fa8756c93f826721b6e8f2a11e7d661f720a7db3534628987c8038c6a1749c1c",
        "6c8d4cfc50cfcf9a47b3229c5b0c607b68a327389936606453df28f210720924",
        "06f70b8146a10b72fe2f485bfb6f4920d654c012e2e7b89f0fe1c982571d2ad8",
    ),
}

#: (scenario file, sweep variant) -> calls SHA-256 of replication 1 of that variant.
VARIANTS: dict[tuple[str, int], str] = {
    (
        "stlouis_staffing_sweep.toml",
        0,
    ): "f99a2029aa3abaa13560299c66dcc057a51bfd0a29f30e271fd43e8d7ca2da65",
    (
        "stlouis_staffing_sweep.toml",
        1,
    ): "32596d402087da3320d4328e3188172d6863a28e6be9618513d6ad8d39e79195",
    (
        "stlouis_staffing_sweep.toml",
        2,
    ): "f594bbd931694dea32dab4e816be6204181b78ac087fda1671cf5865723280e2",
    (
        "stlouis_staffing_sweep.toml",
        3,
    ): "f7fc3e3c8d386bf0ec9a403e66637dfc77114967e6cc62a6eece7c58571be989",
    (
        "stlouis_staffing_sweep.toml",
        4,
    ): "b2c709edd0b5574e9208114169e62502b4b78bb9b6b953ff2875eae0cb952905",
    (
        "stlouis_staffing_sweep.toml",
        5,
    ): "37263c2941073bb6f05659fd00a5fbb45193edf02cb31ce00b32d13b4a61dce8",
    (
        "stlouis_staffing_sweep.toml",
        6,
    ): "c9ea43f9536334a5899b4785accb80a85278f258bafe1b7191e0d5931c35496b",
    (
        "stlouis_staffing_sweep.toml",
        7,
    ): "6cdaae7e16d42281e0195b63060fd2a8620435be6e350fe07220640b883f891a",
    (
        "stlouis_staffing_sweep.toml",
        8,
    ): "9d955928524ef06016137c5ee3b6f60bfc6248da32087ee4795c4ae535049237",
    (
        "stlouis_staffing_sweep.toml",
        9,
    ): "09308f2b63f68f3516c8fd4b790602afa9670aef6001453b0f691f6fbaaefa9b",
    (
        "stlouis_wellness.toml",
        0,
    ): "5b0dc09f8607d85dc1fe5c03ac925e8d25c54aa6bb5d369ff5f6f0ec844fc679",
    (
        "stlouis_wellness.toml",
        1,
    ): "8b525735514a85f7c7969a57cc5e43e8dad6b42293425eecad1844f3414ec848",
    (
        "stlouis_wellness.toml",
        2,
    ): "e704e6ab69845fc8f03db049ad353468a1ae18fad4a1c804781727162abaac8d",
    (
        "stlouis_wellness.toml",
        3,
    ): "ca4cef5f2df331126001e10ed40721a55f809e83938525a5a596b0f048ca3e86",
    (
        "stlouis_wellness.toml",
        4,
    ): "f39344dd7cf37bef9ecb9458636aeeab3984e321e6b538e04e2f442b69413ad4",
    (
        "stlouis_wellness.toml",
        5,
    ): "4864b50d79a7427e84b4c85fa6a5755f10992ac091a01023aab0c7dd0f836607",
}


def digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's CSV text, floats written exactly (17 significant digits)."""
    text = frame.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def test_every_bundled_scenario_has_a_baseline() -> None:
    assert sorted(BASELINE) == sorted(p.name for p in SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("name", sorted(BASELINE))
def test_bundled_scenario_outputs_are_unchanged(name: str) -> None:
    scenario = dispatch.load_scenario(SCENARIOS / name)
    result = dispatch.simulate(scenario, replications=2, event_log=True)
    assert result.events is not None
    got = (digest(result.calls), digest(result.teams), digest(result.events))
    assert got == BASELINE[name]


@pytest.mark.parametrize("key", sorted(VARIANTS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_sweep_variant_outputs_are_unchanged(key: tuple[str, int]) -> None:
    name, index = key
    path = SCENARIOS / name
    variant = plan_sweep(path).variants[index]
    scenario = dispatch.load_scenario(path, overrides=variant.overrides)
    result = dispatch.simulate(scenario, replications=2)
    assert digest(result.calls[result.calls["replication"] == 1]) == VARIANTS[key]
