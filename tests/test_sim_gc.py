"""The replay keeps the garbage collector off what existed before it, and hands it back as found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from simhelpers import log_frame, scenario, team

from dispatch.sim import engine
from dispatch.sim.run import simulate


def small_scenario():  # -> Scenario
    log = log_frame(
        [
            {"call_id": f"c{k}", "at": f"2025-01-06 09:{k:02d}", "k": 1, "on_scene_s": 600.0}
            for k in range(5)
        ]
    )
    return scenario(log, [team("T1"), team("T2")])


@pytest.fixture
def freeze_counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The collector's frozen-object count each time a call becomes ready."""
    seen: list[int] = []
    on_ready = engine.Replay._on_ready

    def spy(self: engine.Replay, event: object) -> None:
        seen.append(gc.get_freeze_count())
        on_ready(self, event)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.Replay, "_on_ready", spy)
    yield seen


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_replay_freezes_what_existed_before_it_and_unfreezes_it_after(
    freeze_counts: list[int], unfrozen: None
) -> None:
    assert gc.get_freeze_count() == 0
    result = simulate(small_scenario())
    assert len(result.calls) == 5
    assert len(freeze_counts) == 5
    assert min(freeze_counts) > 0  # the scenario, the oracle and the modules were frozen
    assert gc.get_freeze_count() == 0  # and handed back to the collector afterwards
    assert gc.isenabled()


def test_a_process_that_freezes_on_its_own_is_left_as_it_is(
    freeze_counts: list[int], unfrozen: None
) -> None:
    gc.freeze()
    before = gc.get_freeze_count()
    assert before > 0
    simulate(small_scenario())
    # Nothing more frozen during the replay, nothing unfrozen after it (the count only loses
    # the few frozen objects freed meanwhile).
    assert len(freeze_counts) == 5
    assert max(freeze_counts) <= before
    assert before * 0.99 <= gc.get_freeze_count() <= before


def test_results_are_the_same_with_the_collector_frozen_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen = simulate(small_scenario()).calls
    with monkeypatch.context() as patch:
        patch.setattr(gc, "get_freeze_count", lambda: 1)  # as if frozen already: not touched
        plain = simulate(small_scenario()).calls
    assert frozen.equals(plain)
