"""The service as a process: ``kill -9`` in the middle of a stream of acknowledged events loses
none of them, and a restart restores the fleet, the pending calls and their timers (SQLite and
a real PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from livehelpers import write_scenario

from dispatch.live.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dispatch_cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dispatch", *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def server(scenario: Path, db: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", str(scenario), "--db", db, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode() if proc.stderr else "died")
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def kill_mid_stream(scenario: Path, db: str) -> None:
    key = dispatch_cli("keys", "create", "--role", "admin", "--db", db).strip()
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    acknowledged: dict[str, list[tuple[str, str]]] = {"P-1": [], "P-2": []}
    with server(scenario, db, port) as proc:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            for name in "ABC":  # two co-responders go, the third call waits for one
                body = {"call_id": name, "received_at": now_iso(), "lat": 38.63, "lon": -90.21}
                assert client.post("/calls", json=body).status_code == 200
            pending = client.get("/pending").json()
            units_before = {u["unit_id"]: u for u in client.get("/units").json()}
        assert [p["call_id"] for p in pending] == ["C"] and pending[0]["fallback_at"]

        def stream(unit: str) -> None:
            # each unit's events from one client, in order; patrol units cannot take the
            # specialist-only waiting call, so the stream leaves it pending
            with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
                for k in range(100_000):
                    status = "OutOfService" if k % 2 else "Available"
                    event = {
                        "event_id": f"{unit}-{k}",
                        "unit_id": unit,
                        "at": now_iso(),
                        "status": status,
                        "lat": 38.6 + (k % 7) * 0.001,
                        "lon": -90.2,
                    }
                    try:
                        response = client.post("/events", json=event)
                    except httpx.TransportError:
                        return
                    if response.status_code != 200:
                        return
                    assert response.json()["result"] == "applied", response.text
                    acknowledged[unit].append((event["event_id"], status))

        threads = [threading.Thread(target=stream, args=(u,)) for u in acknowledged]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while min(len(a) for a in acknowledged.values()) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        for t in threads:
            t.join(timeout=30)
    assert all(len(a) >= 50 for a in acknowledged.values())

    store = Store.open(db)
    journaled = {row.event_id for row in store.rows() if row.event_id}
    lost = [e for events in acknowledged.values() for e, _ in events if e not in journaled]
    assert lost == []

    with server(scenario, db, port), httpx.Client(base_url=base, headers=headers) as client:
        assert client.get("/pending").json() == pending
        units_after = {u["unit_id"]: u for u in client.get("/units").json()}
        for unit, events in acknowledged.items():
            last = journaled_last_status(store, unit)
            assert last == events[-1][1] or last_is_later(store, unit, events[-1][0])
            expected = "out_of_service" if last == "OutOfService" else "available"
            assert units_after[unit]["status"] == expected
        for unit in ("CR-N", "CR-S"):
            assert units_after[unit] == units_before[unit]
        # the restored deadline is the one given before the kill
        assert client.get("/calls/C").json()["history"][0]["fallback_at_s"] > time.time()
    assert dispatch_cli("audit", "replay", "--db", db).strip().endswith("0 differ")


def journaled_last_status(store: Store, unit: str) -> str:
    rows = [r for r in store.rows() if r.unit_id == unit and r.kind == "event"]
    return str(rows[-1].input["event"]["status"])


def last_is_later(store: Store, unit: str, event_id: str) -> bool:
    """An event applied but not yet acknowledged when the process died may follow the last one
    the client saw acknowledged: durable, just unanswered."""
    ids = [r.event_id for r in store.rows() if r.unit_id == unit and r.kind == "event"]
    return event_id in ids and ids.index(event_id) < len(ids) - 1


def test_kill_9_loses_no_acknowledged_event_sqlite(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, around_the_clock=True)
    kill_mid_stream(scenario, f"sqlite:///{tmp_path / 'live.db'}")


def test_kill_9_loses_no_acknowledged_event_postgresql(tmp_path: Path, pg_db_url: str) -> None:
    scenario = write_scenario(tmp_path, around_the_clock=True)
    kill_mid_stream(scenario, pg_db_url)
