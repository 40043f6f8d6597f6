"""The sweep's typed summary: ``summary.json`` byte for byte as before, read back exactly.

The digests were recorded from ``summary.json`` and ``format_sweep`` as written before the
summary became typed records, with the scenario's path replaced by ``"SCENARIO"``. They also
depend on the replay's results for this small scenario: a named, tested change to those
(see ``test_golden_outputs.py``) is the only other reason for them to change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from test_sweep import write_scenario

from dispatch.sweep import (
    SweepPlan,
    SweepSummary,
    aggregate,
    answer_text,
    format_sweep,
    plan_sweep,
    run_sweep,
    variant_table,
)

#: (target share, replications aggregated) -> (summary.json, format_sweep text) SHA-256.
DIGESTS = {
    (None, 3): (
        "b95a5ce948fd0712d2f2a8788d8704f625a4488f0c93c351a8e61ba68a5acbcb",
        "009122f07dc271e4e7090269e5f26070bea0a5f132874595a5c918eaa29b2cf9",
    ),
    (0.62, 3): (
        "7d852290b63762f37755e8fd48a57c4c68e3d2637634b14cd825f3ebcde1a553",
        "712810f1b4b5a20ed90892d0a6f1f6f3acafd29b7a793011a1d75cb253e008da",
    ),
    (0.999, 3): (
        "2af969193947d53f27801af826e16d11bff883a2ef3b7dca2cef5bd485d232c4",
        "64616d32685f511f9f7a850ed8d3b91980cb79cf787a016d88108a2a434073cb",
    ),
    (0.5, 1): (
        "8bc27552ea8dd2705a65c3cb19472b57fcc6e0cc164da9fbe2a4b59b20f596fa",
        "4f378085196563ccc2e8446cad00711feb715ad3bbae0007daace75ae4a4ef3f",
    ),
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[SweepPlan, Path]:
    """One sweep of three staffing levels x 3 replications, every part on disk."""
    root = tmp_path_factory.mktemp("summary")
    plan = plan_sweep(write_scenario(root), {"teams.T.count": [1, 2, 3]}, replications=3)
    run_sweep(plan, root / "out")
    return plan, root / "out"


def summarize(
    finished: tuple[SweepPlan, Path], share: float | None, replications: int
) -> tuple[SweepSummary, bytes]:
    """Aggregate the finished parts under another target (and maybe fewer replications)."""
    plan, out = finished
    changed = dataclasses.replace(plan, target_share=share, replications=replications)
    return aggregate(changed, out), (out / "summary.json").read_bytes()


@pytest.mark.parametrize(("share", "replications"), list(DIGESTS))
def test_summary_file_and_text_are_what_they_were(
    finished: tuple[SweepPlan, Path], share: float | None, replications: int
) -> None:
    summary, data = summarize(finished, share, replications)
    path = json.dumps(str(finished[0].scenario_path)).encode()
    assert data.count(path) == 1
    file_digest = hashlib.sha256(data.replace(path, b'"SCENARIO"')).hexdigest()
    text_digest = hashlib.sha256(format_sweep(summary).encode()).hexdigest()
    assert (file_digest, text_digest) == DIGESTS[(share, replications)]


@pytest.mark.parametrize(("share", "replications"), list(DIGESTS))
def test_summary_reads_back_to_the_same_records_and_bytes(
    finished: tuple[SweepPlan, Path], share: float | None, replications: int
) -> None:
    summary, data = summarize(finished, share, replications)
    again = SweepSummary.from_dict(json.loads(data))
    assert again == summary
    assert (json.dumps(again.to_dict(), indent=1) + "\n").encode() == data
    assert variant_table(again) == variant_table(summary)
    assert answer_text(again) == answer_text(summary)


def test_each_kind_of_answer_is_recorded_as_before(finished: tuple[SweepPlan, Path]) -> None:
    # no target: no verdicts, neither a closest nor a next smaller variant
    summary, data = summarize(finished, None, 3)
    raw = json.loads(data)
    assert raw["target"] == {
        "metric": "specialist_within_target_share",
        "response_min": 20.0,
        "share": None,
        "judged_on": "ci95_low",
        "answer": None,
    }
    assert {v.meets_target for v in summary.variants} == {None}
    # an answer and the next smaller variant, which does not meet it
    summary, _ = summarize(finished, 0.62, 3)
    assert (summary.target.answer, summary.target.next_smaller) == (2, 1)
    assert [v.meets_target for v in summary.variants] == [False, False, True]
    assert "Smallest staffing that meets it: variant 2" in answer_text(summary)
    # nothing meets it: the closest, judged on the lower bound
    summary, data = summarize(finished, 0.999, 3)
    assert summary.target.answer is None
    lows = [v.metrics["specialist_within_target_share"].low or -1.0 for v in summary.variants]
    assert summary.target.best == lows.index(max(lows))
    assert "next_smaller" not in json.loads(data)["target"]
    # one replication: means without intervals, so nothing can be judged to meet a target
    summary, data = summarize(finished, 0.5, 1)
    entry = summary.variants[0].metrics["mean_response_min"]
    assert entry.mean is not None and (entry.low, entry.high) == (None, None)
    assert json.loads(data)["variants"][0]["metrics"]["mean_response_min"]["ci95"] == [None, None]
    assert summary.target.answer is None and summary.target.best == 0


def test_a_simulate_summary_is_not_read_as_a_sweep() -> None:
    with pytest.raises(ValueError, match="not a sweep summary"):
        SweepSummary.from_dict({"kind": "simulate", "metrics": {}})
