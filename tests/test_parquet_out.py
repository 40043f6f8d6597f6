"""Tables keep their values and types through `write_parquet`; only repeats get a dictionary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from dispatch.parquet_out import write_parquet


def encodings(path: Path) -> dict[str, set[str]]:
    meta = pq.ParquetFile(path).metadata
    group = meta.row_group(0)
    return {
        group.column(k).path_in_schema: set(group.column(k).encodings)
        for k in range(meta.num_columns)
    }


def test_values_and_types_read_back_and_only_repeated_text_is_dictionary_encoded(
    tmp_path: Path,
) -> None:
    n = 5_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "call_id": pd.array([f"c{k}" for k in range(n)], dtype="str"),
            "team_id": pd.array(rng.choice(["T1", "T2", "T3"], n).tolist(), dtype="str"),
            "outcome": pd.Categorical(rng.choice(["specialist", "fallback"], n)),
            "received_at": pd.date_range("2025-01-01", periods=n, freq="min", tz="UTC"),
            "travel_s": rng.exponential(300.0, n),
            "priority": rng.integers(1, 5, n).astype(np.int8),
            "critical": rng.random(n) < 0.1,
        }
    )
    path = tmp_path / "calls.parquet"
    write_parquet(frame, path)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, frame)
    found = encodings(path)
    dictionary = {"RLE_DICTIONARY", "PLAIN_DICTIONARY"}
    assert found["team_id"] & dictionary
    assert found["outcome"] & dictionary
    for column in ("call_id", "travel_s", "received_at", "priority"):
        assert not found[column] & dictionary, column
