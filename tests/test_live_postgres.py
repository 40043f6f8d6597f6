"""The live service on a real PostgreSQL: restart, audit replay, and a database that goes down
(503, nothing acknowledged) and comes back (the service recovers by itself)."""

from __future__ import annotations

from pathlib import Path

from livehelpers import MONDAY_8AM_CHICAGO, Clock, live_config, running, write_scenario
from pg import PgServer

from dispatch.live.audit import replay
from dispatch.live.store import Store

T0 = MONDAY_8AM_CHICAGO + 60.0


def body(call_id: str) -> dict:
    return {"call_id": call_id, "received_at": "2026-11-30T14:01:00Z", "lat": 38.63, "lon": -90.2}


def test_restart_and_audit_replay_on_postgresql(tmp_path: Path, pg_db_url: str) -> None:
    scenario = write_scenario(tmp_path)
    with running(scenario, pg_db_url, Clock(T0)) as live:
        for name in "ABC":
            live.post("/v1/calls", body(name))
        ev = {"event_id": "e1", "unit_id": "P-1", "at": "2026-11-30T14:02:00Z", "status": "Break"}
        assert live.post("/v1/events", ev)["result"] == "applied"
        pending = live.get("/v1/pending")
        units = live.get("/v1/units")
    with running(scenario, pg_db_url, Clock(T0 + 5)) as again:
        assert again.get("/v1/pending") == pending and again.get("/v1/units") == units
    report = replay(Store.open(pg_db_url), live_config(scenario))
    assert report.recommendations == 3 and report.differences == []


def test_database_down_answers_503_and_the_service_recovers(
    tmp_path: Path, pg_server: PgServer
) -> None:
    scenario = write_scenario(tmp_path)
    url = pg_server.create_database()
    with running(scenario, url, Clock(T0)) as live:
        live.post("/v1/calls", body("A"))
        pg_server.stop(immediate=True)
        health = live.client.get("/v1/health")
        assert health.status_code == 503 and health.json()["db"] == "unreachable"
        down = live.client.post("/v1/calls", json=body("B"), headers=live.headers())
        assert down.status_code == 503 and "Traceback" not in down.text
        pg_server.start()
        assert live.client.get("/v1/health").status_code == 200
        # B was never acknowledged: it is not in the state rebuilt from the journal
        again = live.post("/v1/calls", body("B"))
        assert again["decision"] == "recommended"
        assert [
            c
            for c in ("A", "B")
            if live.client.get(f"/v1/calls/{c}", headers=live.headers("reader")).status_code == 200
        ] == ["A", "B"]
    assert replay(Store.open(url), live_config(scenario)).differences == []
