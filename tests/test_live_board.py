"""The live board in a real headless Chromium, against a running ``dispatch serve``: it asks for
a key, shows the units and the waiting call, follows events as they arrive, logs no console
error and sends no request off the machine."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from browser import console_errors, is_blank, leaves_the_machine, requested_urls
from livehelpers import write_scenario
from test_live_process import dispatch_cli, free_port, server


def wait_for(condition: Any, timeout_s: float = 60.0) -> Any:
    # A generous budget: the page polls every second, and on a machine busy with other work a
    # headless browser can take many seconds to render; a page that gets there returns at once.
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, "the page did not get there in time"
        time.sleep(0.2)


def test_the_board_follows_the_fleet(tmp_path: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    scenario = write_scenario(tmp_path, around_the_clock=True)
    db = f"sqlite:///{tmp_path / 'live.db'}"
    key = dispatch_cli("keys", "create", "--role", "dispatcher", "--db", db).strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        server(scenario, db, port),
        httpx.Client(base_url=f"{base}/v1", headers={"Authorization": f"Bearer {key}"}) as api,
    ):
        now = datetime.now(UTC).isoformat()
        for name in "ABC":
            call = {"call_id": name, "received_at": now, "lat": 38.63, "lon": -90.21}
            assert api.post("/calls", json=call).status_code == 200
        browser.get(f"{base}/board")
        field = wait_for(
            lambda: (
                browser.find_element(By.ID, "key").is_displayed()
                and browser.find_element(By.ID, "key")
            )
        )
        field.send_keys(key + "\n")

        # The page redraws every second: each read is one script, a snapshot of one drawing,
        # so no element found in one frame is read after the next replaced it.
        def markers() -> dict[str, str]:
            pairs = browser.execute_script(
                "return Array.from(document.querySelectorAll('#map g[data-unit]'))"
                ".map(g => [g.dataset.unit, g.dataset.status]);"
            )
            return dict(pairs)

        def pending() -> list[list[str]]:
            rows: list[list[str]] = browser.execute_script(
                "return Array.from(document.querySelectorAll('#pending tr[data-call]'))"
                ".map(r => [r.dataset.call, r.textContent]);"
            )
            return rows

        assert wait_for(lambda: len(markers()) == 4)
        assert markers()["CR-N"] == "dispatched" and markers()["P-1"] == "available"
        waiting = wait_for(pending)
        assert [call for call, _ in waiting] == ["C"]
        assert "in " in waiting[0][1]  # its fallback deadline, counting down
        assert "CR-N" in browser.execute_script(
            "return document.getElementById('recent').textContent;"
        )
        event = {
            "event_id": "e1",
            "unit_id": "P-1",
            "at": datetime.now(UTC).isoformat(),
            "status": "OutOfService",
        }
        assert api.post("/events", json=event).json()["result"] == "applied"
        wait_for(lambda: markers().get("P-1") == "out_of_service")
        assert not is_blank(browser.get_screenshot_as_png())
        assert console_errors(browser) == []
        urls = requested_urls(browser)
        assert any(u.endswith("/v1/units") for u in urls)
        assert [u for u in urls if leaves_the_machine(u)] == []
