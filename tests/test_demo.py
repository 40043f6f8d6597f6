"""`dispatch demo`, the README's first command, runs on the bundled data and writes its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispatch.cli import main


def test_the_demo_explains_recommendations_and_writes_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr().out
    assert "call D-1001 (high risk): send CR-11" in printed
    assert "no specialist" in printed and "Joint assignment" in printed
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["calls"]["mean"] == 6947
    page = (tmp_path / "demo" / "report.html").read_text(encoding="utf-8")
    # Its maps are drawn by St. Louis neighbourhood, and the page lists them with figures.
    maps = {p.name for p in (tmp_path / "demo" / "figures").glob("map_*.png")}
    assert maps == {
        "map_response.png",
        "map_specialist_share.png",
        "map_no_specialist.png",
        "map_sites.png",
    }
    assert "<h2>Figures by neighbourhood</h2>" in page
    assert "<tr><td>Dutchtown</td>" in page and "88 areas" in page
