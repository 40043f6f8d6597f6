"""Per-call results of every bundled scenario stay what they were when these digests were taken.

The digests were recorded on main before the dispatch session (`dispatch.dispatcher`) took over
the replay's decisions, so any refactor of the decision path must reproduce the old answers
call for call. A digest that changes is either a bug or a named, tested bug fix: update it only
with the fix, never to get green.
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
        "3befc412699ea091789b088b22a6746adae78172f84bb79c63021689968b5034",
        "46aa25afdc396ea16a744f8d1611c9b3a3b4841dacbb4bdc7959b31bde5a2696",
        "a1af9499e9f26bdb30ccd13eacfa9afc85b3a1ac28e1831bf13eb085aeb85c9a",
    ),
    "stlouis_clinicians.toml": (
        "7c17661b2ec0a1547c6d4dc74fda9624214db7b2886d48b7d188c9f11ce2bec8",
        "e84cb428c1cbdf8182bd371848baa25c02dd9e053ed280b57eb2c5219857af75",
        "e7733dd602d131dd34750377a42ff60d82a97f698c55e969c2bd16e6c666d1a6",
    ),
    "stlouis_cru.toml": (
        "b5a059a6ba97a3a5d22c9658df4a4880080b3d42ddfcb49fd625ee0958407c54",
        "561d1545f9450106ad4f769445345cb0acd70109da412b4d569e46a17ff0972f",
        "0310644847353507bd859e7729bce85a6c6841199f61126182e5f4a785ee79c7",
    ),
    "stlouis_overnight.toml": (
        "1a72fc0a2307f389ccf31d75726e6ee924341c952f2309f25161790312965810",
        "b493fbca4f536ab0b5fa0f728150af8d393d155249d9294898fdb07e80f708c6",
        "cab3a41b8f0ed47589dbad6d4b28cebd9225fe970998bc2141341b0a0d40d2c8",
    ),
    "stlouis_staffing_sweep.toml": (
        "dbee366a6175bb4bdadf4ee730e763c89e0f6bd86b0801f3c710b26073feba95",
        "217a6e8f2c36c561f143700a4f40eee21e4d302fec0ba3254040eea1e3d418d0",
        "0c34023c2785953105a12f92a74c2b7df6f693a071346d08021f89e1d2a08a86",
    ),
    "stlouis_wellness.toml": (
        "804c43d010e52b779757a976e75ac489907a15723a0ad2ae8d7d3fa7b184fbc9",
        "cd1aab5ae83dee35fd4778c35053978f8e88f31a014f4dfb0607ca01cafb2288",
        "6f2dc676fc9ef4b610555df3e51ad9cb2d80e6f94c4b1ecc5ccb460200061ff3",
    ),
}

#: (scenario file, sweep variant) -> calls SHA-256 of replication 1 of that variant.
VARIANTS: dict[tuple[str, int], str] = {
    (
        "stlouis_staffing_sweep.toml",
        0,
    ): "90f4690fcba75d962283d129149b4f1c642f13d4a50361b543d8e3635fb9159b",
    (
        "stlouis_staffing_sweep.toml",
        1,
    ): "b4739030c7b4f601d3eb534445b8a5bf2284bdeb2b2a5c05e05643c1eafa6ced",
    (
        "stlouis_staffing_sweep.toml",
        2,
    ): "cd57e94f1a726880728626c539723cc88d2308ce9ad5588286e664f350862f4d",
    (
        "stlouis_staffing_sweep.toml",
        3,
    ): "e59cc3b561bdc703178f422a049cbee25153520089b85e6191bbedfdd93cea89",
    (
        "stlouis_staffing_sweep.toml",
        4,
    ): "c903dd1aa9140815ac899300aad9d85dd5e7b0ccde63ac44a546b252b5a0055a",
    (
        "stlouis_staffing_sweep.toml",
        5,
    ): "7791bd3d6bd45b6f15cfdd1fa1974eec273124f4c38ea5f1f4399a45c91fe2a9",
    (
        "stlouis_staffing_sweep.toml",
        6,
    ): "20fd3524381e2d63583186b5ad8a90889837d9230e8656263683b3386835645b",
    (
        "stlouis_staffing_sweep.toml",
        7,
    ): "f8329952c81839efbebcab0b753b2594bdab51db03686205fe7d69820a786591",
    (
        "stlouis_staffing_sweep.toml",
        8,
    ): "08b9df1e64c36959908f80f3313767dae63d99cc294e193ddb9f27a417922921",
    (
        "stlouis_staffing_sweep.toml",
        9,
    ): "dc9a55e9a68357f3414165e414aad83e33d4840a66c22d441680d193c198c926",
    (
        "stlouis_wellness.toml",
        0,
    ): "aab962129a5e9851ef2268a23abacd059bf8c5816aced2c09b1ea5ef9a9990e5",
    (
        "stlouis_wellness.toml",
        1,
    ): "307743cec6d1997ed46e0500f7c539b3f40ab30db1e1fed1cfa3c3f2816a0b37",
    (
        "stlouis_wellness.toml",
        2,
    ): "8e256849f449b8d7b5a221d932415f8c3c5850888bfc72fd24746e30d342d6d5",
    (
        "stlouis_wellness.toml",
        3,
    ): "47014a1e9fa0750e506dd9234b8a2356d87f0bb14a8014bb92fa9675705dd5f0",
    (
        "stlouis_wellness.toml",
        4,
    ): "edacf5503d1e4993b499474853c6751631a8147cbfa13aa575a7983e96fe5a2c",
    (
        "stlouis_wellness.toml",
        5,
    ): "c10b6b81a42b140b6cd4f43e574e1c6b80a753aa09ca59c4de84175afbbe40dd",
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
