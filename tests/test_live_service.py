"""The live service through HTTP: events exactly once, decisions equal the Dispatcher's, keys,
limits, restart and audit replay (in-process, SQLite; see test_live_process.py for real kills)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from livehelpers import MONDAY_8AM_CHICAGO, Clock, Live, live_config, running, write_scenario

from dispatch.dispatcher import Dispatcher, status_problem
from dispatch.live.audit import replay
from dispatch.live.store import Store, journal
from dispatch.live.vocabulary import parse_status
from dispatch.match.fleet import Fleet
from dispatch.model import RiskLevel, TeamStatus

T0 = MONDAY_8AM_CHICAGO + 60.0  # 08:01 Chicago, Monday


def at(offset_s: float) -> str:
    """ISO time ``offset_s`` after 08:01."""
    import datetime as dt

    return dt.datetime.fromtimestamp(T0 + offset_s, dt.UTC).isoformat()


def call(call_id: str, lat: float = 38.63, lon: float = -90.21, **extra: object) -> dict:
    return {"call_id": call_id, "received_at": at(0), "lat": lat, "lon": lon, **extra}


def event(event_id: str, unit: str, offset_s: float, status: str, **extra: object) -> dict:
    return {"event_id": event_id, "unit_id": unit, "at": at(offset_s), "status": status, **extra}


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return write_scenario(tmp_path)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'live.db'}"


@pytest.fixture
def live(scenario: Path, db: str) -> Live:
    with running(scenario, db, Clock(T0)) as started:
        yield started


def units(live: Live) -> dict[str, dict]:
    return {u["unit_id"]: u for u in live.get("/v1/units")}


# -- the day starts by the schedule -----------------------------------------------------------
def test_units_come_from_the_scenario_on_duty_by_their_shifts(live: Live) -> None:
    seen = units(live)
    assert sorted(seen) == ["CR-N", "CR-S", "P-1", "P-2"]
    assert all(u["status"] == "available" and u["on_duty"] for u in seen.values())
    assert seen["CR-N"]["kind"] == "co_responder" and seen["CR-N"]["cit"] is True
    assert (seen["CR-N"]["lat"], seen["CR-N"]["lon"]) == (38.67, -90.24)  # its station


def test_a_shift_end_fires_on_the_clock(live: Live) -> None:
    live.clock.t = MONDAY_8AM_CHICAGO + 10 * 3600 + 1  # 18:00:01, the day shift is over
    live.client.portal.call(live.service.tick)  # type: ignore[union-attr]
    seen = units(live)
    assert seen["CR-N"]["status"] == "off_duty" and not seen["CR-N"]["on_duty"]
    assert seen["P-1"]["status"] == "available"  # around the clock
    kinds = [r["kind"] for r in live.get("/v1/audit", role="admin")["records"]]
    assert kinds.count("shift") == 2


# -- recommendations ---------------------------------------------------------------------------
def test_a_recommendation_is_the_dispatchers_answer_for_the_same_state(
    live: Live, scenario: Path
) -> None:
    answers = [live.post("/v1/calls", call(f"C{k}", 38.60 + 0.02 * k, -90.22)) for k in range(3)]
    # the same calls, at the same times, straight into a Dispatcher built from the scenario
    config = live_config(scenario)
    session = Dispatcher(
        config.matcher,
        Fleet(config.team_ids, config.kinds, config.cit, config.station_place),
        config.station_place,
        settings=config.settings,
    )
    for team_id in config.team_ids:
        session.shift_started(team_id, T0)
    travel = config.matcher.travel
    for k, answer in enumerate(answers):
        place = travel.snap(38.60 + 0.02 * k, -90.22)
        expected = session.call_ready(f"C{k}", T0, place=place, risk=RiskLevel.STANDARD)
        first = expected[0]
        if answer["decision"] == "recommended":
            assert (answer["team_id"], answer["eta_s"]) == (first.team_id, first.eta_s)
        else:
            assert answer["decision"] == "queued" and type(first).__name__ == "Queue"
    assert [a["decision"] for a in answers] == ["recommended", "recommended", "queued"]
    explained = answers[0]
    assert explained["alternatives"][0]["verdict"] == "chosen"
    assert {a["team_id"] for a in explained["alternatives"]} >= {"CR-N", "CR-S"}
    assert len(explained["inputs_digest"]) == 64 and explained["scenario_digest"]


def test_a_queued_call_falls_back_at_its_deadline_and_a_freed_team_takes_the_next(
    live: Live,
) -> None:
    live.post("/v1/calls", call("A"))
    live.post("/v1/calls", call("B"))
    queued = live.post("/v1/calls", call("C"))
    assert queued["decision"] == "queued" and queued["reason"] == "all_busy"
    assert queued["fallback_at"] == at(600).replace("+00:00", "Z")
    late = live.post("/v1/calls", call("D", priority=1))
    assert [p["call_id"] for p in live.get("/v1/pending")] == ["D", "C"]  # priority, then age
    # CR-N clears: the priority-1 call D goes first
    cleared = live.post("/v1/events", event("e1", "CR-N", 300, "Available", lat=38.63, lon=-90.21))
    assert [d["call_id"] for d in cleared["decisions"] if d["type"] == "dispatch"] == ["D"]
    assert late["decision"] == "queued"
    # ten minutes after C arrived it falls back to the pool
    live.clock.advance(601)
    live.client.portal.call(live.service.tick)  # type: ignore[union-attr]
    record = live.get("/v1/calls/C")
    assert record["state"] == "fallback"
    assert [h["type"] for h in record["history"]] == ["queue", "fallback"]
    assert live.get("/v1/pending") == []


def test_confirm_and_override(live: Live) -> None:
    sent = live.post("/v1/calls", call("A"))
    team = sent["team_id"]
    confirmed = live.post("/v1/calls/A/assign", {"team_id": team, "by": "disp-7"})
    assert confirmed["action"] == "confirmed" and confirmed["decisions"] == []
    no_reason = live.client.post(
        "/v1/calls/A/assign", json={"team_id": "P-1", "by": "disp-7"}, headers=live.headers()
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    other = "CR-S" if team == "CR-N" else "CR-N"
    override = live.post(
        "/v1/calls/A/assign", {"team_id": other, "by": "disp-7", "reason": "closer by radio"}
    )
    assert override["action"] == "override"
    assert override["decisions"][0]["team_id"] == other
    seen = units(live)
    assert seen[other]["status"] == "dispatched" and seen[team]["status"] != "dispatched"
    busy = live.client.post(
        "/v1/calls/A/assign",
        json={"team_id": other, "by": "x", "reason": "y"},
        headers=live.headers(),
    )
    assert busy.status_code == 200  # the team already on it: a confirmation
    record = live.get("/v1/calls/A")
    assert record["recommended"] == team and record["team_id"] == other
    assert [h["type"] for h in record["history"]][-3:] == ["override", "dispatch", "confirmed"]


def test_cancel_a_waiting_call(live: Live) -> None:
    for name in "ABC":
        live.post("/v1/calls", call(name))
    assert live.post("/v1/calls/C/cancel", {"by": "disp-7"})["state"] == "cancelled"
    assert live.get("/v1/pending") == []
    again = live.client.post("/v1/calls/C/cancel", json={}, headers=live.headers())
    assert again.status_code == 409
    dispatched = live.client.post("/v1/calls/A/cancel", json={}, headers=live.headers())
    assert dispatched.status_code == 409 and "not waiting" in dispatched.json()["detail"]


# -- events exactly once -----------------------------------------------------------------------
def test_duplicate_stale_and_out_of_order_events(live: Live) -> None:
    first = live.post("/v1/events", event("e1", "P-1", 10, "OutOfService"))
    assert first["result"] == "applied"
    assert live.post("/v1/events", event("e1", "P-1", 10, "OutOfService"))["result"] == "duplicate"
    reused = live.post("/v1/events", event("e1", "P-1", 11, "Available"))
    assert (reused["result"], reused["field"]) == ("rejected", "event_id")
    stale = live.post("/v1/events", event("e2", "P-1", 5, "Available"))
    assert stale["result"] == "stale"
    assert units(live)["P-1"]["status"] == "out_of_service"  # the stale one was not applied
    # order is per unit: an older event of another unit still applies
    assert live.post("/v1/events", event("e3", "P-2", 1, "OutOfService"))["result"] == "applied"
    batch = live.post(
        "/v1/events",
        {
            "events": [
                event("e4", "P-1", 20, "Available"),
                event("e4", "P-1", 20, "Available"),
                event("e5", "nobody", 20, "Available"),
                event("e6", "P-2", 0, "Available"),
                event("e7", "P-2", 30, "teleporting"),
            ]
        },
    )
    assert [r["result"] for r in batch["results"]] == [
        "applied",
        "duplicate",
        "rejected",
        "stale",
        "rejected",
    ]
    assert batch["results"][2]["field"] == "unit_id" and batch["results"][4]["field"] == "status"
    rows = {r["event_id"]: r["output"]["result"] for r in _journal(live) if r["event_id"]}
    # every event is recorded once, stale and rejected ones too; duplicates are not new records
    assert rows == {
        "e1": "applied",
        "e2": "stale",
        "e3": "applied",
        "e4": "applied",
        "e5": "rejected",
        "e6": "stale",
        "e7": "rejected",
    }


def _journal(live: Live) -> list[dict]:
    return live.get("/v1/audit?limit=1000", role="admin")["records"]


@pytest.mark.parametrize("current", list(TeamStatus))
@pytest.mark.parametrize("reported", list(TeamStatus))
def test_every_transition_rule(current: TeamStatus, reported: TeamStatus) -> None:
    problem = status_problem(current, reported)
    if current is TeamStatus.OFF_DUTY:
        allowed = reported in (TeamStatus.OFF_DUTY, TeamStatus.AVAILABLE)
    elif current is TeamStatus.DISPATCHED:
        allowed = reported not in (TeamStatus.OUT_OF_SERVICE, TeamStatus.ON_BREAK)
    else:
        allowed = True
    assert (problem is None) == allowed


def test_transitions_through_http_are_refused_with_the_reason(live: Live) -> None:
    live.post("/v1/calls", call("A"))  # CR-N goes
    on_call = live.post("/v1/events", event("e1", "CR-N", 10, "Break"))
    assert on_call["result"] == "rejected" and "clear it (available) first" in on_call["reason"]
    assert live.post("/v1/events", event("e2", "CR-N", 20, "OnScene"))["result"] == "applied"
    assert units(live)["CR-N"]["status"] == "on_scene"
    assert live.post("/v1/events", event("e3", "CR-N", 30, "Transporting"))["result"] == "applied"
    assert live.post("/v1/events", event("e4", "CR-N", 40, "AtHospital"))["result"] == "applied"
    assert units(live)["CR-N"]["status"] == "at_hospital"
    assert live.post("/v1/events", event("e5", "CR-N", 50, "Available"))["result"] == "applied"
    assert live.get("/v1/calls/A")["state"] == "cleared"
    assert live.post("/v1/events", event("e6", "CR-N", 60, "LoggedOff"))["result"] == "applied"
    off = live.post("/v1/events", event("e7", "CR-N", 70, "EnRoute"))
    assert off["result"] == "rejected" and "log it on" in off["reason"]
    assert live.post("/v1/events", event("e8", "CR-N", 80, "Available"))["result"] == "applied"
    assert units(live)["CR-N"]["on_duty"]


def test_eido_vocabulary() -> None:
    assert parse_status("NotAvailable/EnRoute").label == "en_route"
    assert parse_status("ConditionallyAvailable").state is TeamStatus.RETURNING
    assert parse_status("Available/InQuarters").label == "available"
    assert parse_status("out of service").label == "out_of_service"
    assert parse_status("NotAvailable").label == "out_of_service"
    assert parse_status("Flying") is None


# -- keys and limits ---------------------------------------------------------------------------
def test_keys_roles_and_revocation(live: Live) -> None:
    client = live.client
    assert client.get("/v1/health").json()["status"] == "ok"  # the one open route
    assert client.get("/v1/units").status_code == 401
    assert client.get("/v1/units", headers={"Authorization": "Bearer nope"}).status_code == 401
    forged = live.keys["reader"][:-4] + "AAAA"
    assert client.get("/v1/units", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert client.get("/v1/units", headers=live.headers("reader")).status_code == 200
    denied = client.post("/v1/calls", json=call("A"), headers=live.headers("reader"))
    assert denied.status_code == 403
    assert client.get("/v1/audit", headers=live.headers("dispatcher")).status_code == 403
    made = live.post("/v1/keys", {"role": "reader", "label": "wallboard"}, role="admin")
    header = {"Authorization": f"Bearer {made['key']}"}
    assert client.get("/v1/units", headers=header).status_code == 200
    listed = live.get("/v1/keys", role="admin")
    assert "key" not in listed[0] and {k["label"] for k in listed} >= {"wallboard"}
    revoked = client.delete(f"/v1/keys/{made['key_id']}", headers=live.headers("admin"))
    assert revoked.status_code == 204
    assert client.get("/v1/units", headers=header).status_code == 401
    stored = live.store.engine.connect().execute(sa.text("SELECT hash, salt FROM api_keys"))
    assert all(made["key"].split("_", 2)[2] not in h + s for h, s in stored)


def test_oversized_bodies_get_413(scenario: Path, db: str) -> None:
    with running(scenario, db, Clock(T0), max_body=2048) as live:
        big = {"events": [event(f"e{k}", "P-1", k, "Available") for k in range(40)]}
        response = live.client.post("/v1/events", json=big, headers=live.headers())
        assert response.status_code == 413
        small = live.client.post("/v1/events", json=big["events"][0], headers=live.headers())
        assert small.status_code == 200


def test_bad_input_names_the_field(live: Live) -> None:
    def post(body: object) -> dict:
        response = live.client.post("/v1/calls", json=body, headers=live.headers())
        assert response.status_code == 422, response.text
        return response.json()

    assert post(call("A", lat=91.0))["field"] == "lat"
    assert post({**call("A"), "lattitude": 1})["field"] == "lattitude"
    assert post({**call("A"), "priority": 9})["field"] == "priority"
    assert post({k: v for k, v in call("A").items() if k != "received_at"})["field"] == (
        "received_at"
    )
    raw = live.client.post(
        "/v1/calls",
        content=b"{not json",
        headers={**live.headers(), "Content-Type": "application/json"},
    )
    assert raw.status_code == 422 and "Traceback" not in raw.text
    live.post("/v1/calls", call("A"))
    twice = live.client.post("/v1/calls", json=call("A"), headers=live.headers())
    assert twice.status_code == 409 and twice.json()["field"] == "call_id"
    missing = live.client.get("/v1/calls/nope", headers=live.headers("reader"))
    assert missing.status_code == 404


# -- restart and audit -------------------------------------------------------------------------
def _mixed_session(live: Live) -> None:
    for name in "ABC":
        live.post("/v1/calls", call(name, risk="high" if name == "B" else "standard"))
    live.post("/v1/events", event("e1", "P-1", 5, "OutOfService"))
    live.post("/v1/events", event("e2", "P-1", 2, "Available"))  # stale
    live.post("/v1/calls/A/assign", {"team_id": "CR-N", "by": "d1"})
    live.post("/v1/events", event("e3", "CR-S", 60, "OnScene"))
    live.clock.advance(30)
    live.post("/v1/calls", call("D", priority=1))
    live.post("/v1/calls/D/cancel", {"by": "d1"})
    live.post("/v1/events", event("e4", "CR-S", 120, "Available", lat=38.62, lon=-90.22))


def test_restart_restores_fleet_pending_calls_and_timers(scenario: Path, db: str) -> None:
    clock = Clock(T0)
    with running(scenario, db, clock) as live:
        _mixed_session(live)
        live.post("/v1/calls", call("E"))
        live.post("/v1/calls", call("F"))
        before = (units(live), live.get("/v1/pending"), live.get("/v1/calls/F"))
        timers = dict(live.service.state.timers)
        assert timers  # F waits with a fallback deadline
    with running(scenario, db, clock) as again:
        assert (units(again), again.get("/v1/pending"), again.get("/v1/calls/F")) == before
        assert again.service.state.timers == timers
        assert again.service.state.session.snapshot() == live.service.state.session.snapshot()
        # the restored deadline still fires
        clock.t = max(timers.values()) + 1
        again.client.portal.call(again.service.tick)  # type: ignore[union-attr]
        assert again.get("/v1/pending") == []


def test_audit_replay_reproduces_every_output_and_finds_a_tampered_one(
    scenario: Path, db: str
) -> None:
    with running(scenario, db, Clock(T0)) as live:
        _mixed_session(live)
        live.clock.t = MONDAY_8AM_CHICAGO + 10 * 3600 + 5
        live.client.portal.call(live.service.tick)  # type: ignore[union-attr]
    store = Store.open(db)
    report = replay(store, live_config(scenario))
    assert report.rows == store.count() > 10 and report.recommendations == 4
    assert report.differences == []
    with store.engine.begin() as connection:
        row = connection.execute(
            sa.select(journal.c.seq, journal.c.output).where(journal.c.call_id == "B")
        ).first()
        assert row is not None
        output = json.loads(row.output)
        output["decisions"][0]["team_id"] = "P-2"
        connection.execute(
            journal.update().where(journal.c.seq == row.seq).values(output=json.dumps(output))
        )
    tampered = replay(store, live_config(scenario))
    assert [d.seq for d in tampered.differences] == [row.seq]


def test_a_database_of_another_scenario_is_refused(scenario: Path, db: str, tmp_path: Path) -> None:
    from dispatch.live.service import JournalMismatchError

    with running(scenario, db, Clock(T0)):
        pass
    other = write_scenario(tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path)
    other.write_text(other.read_text().replace("fallback_after_min = 10", "fallback_after_min = 5"))
    with pytest.raises(JournalMismatchError), running(other, db, Clock(T0)):
        pass


# -- NENA EIDO intake --------------------------------------------------------------------------
EIDO = Path(__file__).parent / "data" / "eido"


def test_an_eido_gets_the_same_decision_as_the_call_it_holds(
    scenario: Path, tmp_path: Path
) -> None:
    from dispatch.live.eido import parse_eido

    document = json.loads((EIDO / "well_formed.json").read_text())
    parsed = parse_eido(document)
    with running(scenario, f"sqlite:///{tmp_path / 'a.db'}", Clock(T0)) as live:
        by_eido = live.post("/v1/calls/eido", document)
        record = live.get(f"/v1/calls/{parsed.call_id}")
    plain = {
        "call_id": parsed.call_id,
        "received_at": parsed.received_at.isoformat(),
        "lat": parsed.lat,
        "lon": parsed.lon,
        "call_type": parsed.call_type,
        "priority": parsed.priority,
        "risk": parsed.risk,
        "flags": list(parsed.flags),
    }
    with running(scenario, f"sqlite:///{tmp_path / 'b.db'}", Clock(T0)) as live:
        by_json = live.post("/v1/calls", plain)
    assert by_eido["decision"] == "recommended"
    drop = {"inputs_digest"}  # the journal input differs (its source); the decision does not
    assert {k: v for k, v in by_eido.items() if k not in drop} == {
        k: v for k, v in by_json.items() if k not in drop
    }
    assert record["call"]["source"] == "eido" and record["call"]["risk"] == "high"


def test_a_tolerantly_read_eido_and_one_without_a_position(live: Live) -> None:
    broken = json.loads((EIDO / "broken_pidf.json").read_text())
    assert live.post("/v1/calls/eido", broken)["decision"] == "recommended"
    missing = json.loads((EIDO / "missing_position.json").read_text())
    response = live.client.post("/v1/calls/eido", json=missing, headers=live.headers())
    assert response.status_code == 422
    body = response.json()
    assert body["field"].startswith("locationComponent") and "position" in body["detail"]
    not_eido = live.client.post("/v1/calls/eido", json={"hello": 1}, headers=live.headers())
    assert not_eido.status_code == 422 and not_eido.json()["field"]


# -- the live board ----------------------------------------------------------------------------
def test_the_board_page_holds_no_data_and_reads_the_api_with_a_key(live: Live) -> None:
    page = live.client.get("/board")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    text = page.text
    external = [w for w in text.split('"') if w.startswith(("http://", "https://", "//"))]
    assert all(w.startswith("http://www.w3.org/") for w in external), external
    assert "/v1/units" in text and "Authorization" in text
    assert live.client.get("/v1/recommendations").status_code == 401
    live.post("/v1/calls", call("A"))
    feed = live.get("/v1/recommendations")
    assert [r["call_id"] for r in feed] == ["A"]
    assert feed[0]["explanation"]["alternatives"][0]["verdict"] == "chosen"


# -- the lean path of the hot routes answers as the routes do ---------------------------------
def test_hot_routes_answer_as_the_fastapi_routes(scenario: Path, tmp_path: Path) -> None:
    """The same requests to two services: one on the lean path (``application/json`` with a
    key the service has verified), one through the FastAPI routes (a ``+json`` content type,
    which only they take); the answers are the same, refusals included."""
    requests = [
        ("/v1/events", event("e1", "P-1", 1, "available", lat=38.60, lon=-90.24)),
        ("/v1/events", event("e1", "P-1", 1, "available", lat=38.60, lon=-90.24)),  # duplicate
        ("/v1/events", event("e1", "P-1", 2, "on_scene")),  # id reused: rejected
        ("/v1/events", event("e2", "P-1", 0, "on_scene")),  # stale
        ("/v1/events", event("e3", "nobody", 3, "available")),  # unknown unit
        ("/v1/calls", call("C1", risk="high")),
        ("/v1/calls", call("C1")),  # 409
        ("/v1/calls", call("C2", lat=91.0)),  # out of range: 422
        ("/v1/calls", call("C3", lat=38.61, lon=-90.25, priority=1)),
        (
            "/v1/events",
            {"events": [event("e4", "CR-N", 5, "en_route"), event("e5", "P-2", 5, "x")]},
        ),
        ("/v1/calls", call("C4", zone="z", flags=["weapon"])),
        ("/v1/events", event("e6", "CR-N", 6, "available")),
        ("/v1/events", {"event_id": "e7"}),  # invalid: the routes answer 422
        ("/v1/calls", {**call("C5"), "lattitude": 1}),  # unknown field
    ]
    answers: list[list[tuple[int, object]]] = []
    for name, content_type in (("lean", "application/json"), ("routes", "application/x+json")):
        with running(scenario, f"sqlite:///{tmp_path / f'{name}.db'}", Clock(T0)) as live:
            assert live.client.get("/v1/units", headers=live.headers("dispatcher")).is_success
            headers = {**live.headers(), "Content-Type": content_type}
            seen = []
            for path, body in requests:
                response = live.client.post(path, content=json.dumps(body), headers=headers)
                seen.append((response.status_code, response.json()))
            answers.append(seen)
    assert answers[0] == answers[1]
    assert [status for status, _ in answers[0]] == [200] * 6 + [409, 422] + [200] * 4 + [422] * 2


def test_a_refusal_for_the_key_comes_before_one_for_a_malformed_body(live: Live) -> None:
    # Malformed JSON is read before the route's checks run: the key is still checked first,
    # so a client without one learns nothing of what the route accepts.
    client = live.client
    bad = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
    for path in ("/v1/calls", "/v1/events"):
        refused = client.post(path, **bad)
        assert refused.status_code == 401, refused.text
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        unknown = {**bad["headers"], "Authorization": "Bearer nope"}
        assert client.post(path, content=bad["content"], headers=unknown).status_code == 401
        reader = {**bad["headers"], **live.headers("reader")}
        assert client.post(path, content=bad["content"], headers=reader).status_code == 403
        allowed = {**bad["headers"], **live.headers("dispatcher")}
        answer = client.post(path, content=bad["content"], headers=allowed)
        assert answer.status_code == 422 and answer.json()["field"] == "body", answer.text
        assert "not valid JSON at character 1" in answer.json()["detail"]
