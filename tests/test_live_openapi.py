"""The live service against its own OpenAPI document (schemathesis, in process over ASGI).

Every operation gets generated requests, valid and invalid; each answer must be no server
error, carry a status code the document lists, the content type it lists, and a body that fits
the documented schema. Once with an admin key (so requests get past auth and reach the
routes), once with a reader key (no write may succeed) and once without a key (nothing but
health may succeed). Examples are derandomized, so a CI run is the same run every time.

Schemathesis runs the app's lifespan (starting the service, which rebuilds its state from the
journal) on a test's first request and ends it when the test ends. The journal is one SQLite
file per test process.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from livehelpers import Clock, live_config, write_scenario
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dispatch.live.app import create_app
from dispatch.live.keys import ROLES
from dispatch.live.service import LiveService
from dispatch.live.store import Store

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def examples(n: int) -> settings:
    """Hypothesis settings: ``n`` examples per operation, the same ones every run."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        # generating bodies, not answering them, is the slow part; that is no failure
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def _service() -> tuple[Any, dict[str, str]]:
    """The app of a service on a fresh SQLite journal, and one key per role."""
    # The schema is loaded when pytest imports this module (schemathesis needs it to make one
    # test per operation), so the journal's folder is made here and removed at exit.
    folder = Path(tempfile.mkdtemp(prefix="dispatch-openapi-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    store = Store.open(f"sqlite:///{folder / 'journal.db'}")
    service = LiveService(live_config(write_scenario(folder)), store, clock=Clock())
    keys = {role: service.keys.create(role, f"openapi {role}") for role in ROLES}
    return create_app(service, version="test"), keys


APP, KEYS = _service()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def bearer(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


@schema.parametrize()
@examples(25)
def test_admin_requests_conform(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=bearer(KEYS["admin"]), checks=CHECKS)


@schema.parametrize()
@examples(10)
def test_reader_requests_conform(case: schemathesis.Case) -> None:
    response = case.call_and_validate(headers=bearer(KEYS["reader"]), checks=CHECKS)
    if case.method != "GET":  # a reader may not change anything, whatever it sends
        assert not 200 <= response.status_code < 300, (case.method, case.path, response.text)


@schema.parametrize()
@examples(10)
def test_requests_without_a_key_conform(case: schemathesis.Case) -> None:
    response = case.call_and_validate(checks=CHECKS)
    if case.path != "/v1/health":  # nothing but health answers without a key
        assert not 200 <= response.status_code < 300, (case.method, case.path, response.text)


def test_audit_cursor_beyond_64_bits_is_bad_input() -> None:
    """``after`` past SQLite's 64-bit integers is bad input (422), not a server error."""
    case = schema["/v1/audit"]["GET"].Case(query={"after": str(2**63), "limit": "1"})
    response = case.call_and_validate(headers=bearer(KEYS["admin"]), checks=CHECKS)
    assert response.status_code == 422, response.text


def test_the_document_declares_the_bearer_key_on_every_route_but_health() -> None:
    """Clients generated from the OpenAPI document know to send the key."""
    doc = APP.openapi()
    scheme = doc["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            declared = operation.get("security")
            if path == "/v1/health":
                assert not declared, (method, path)
            else:
                assert declared == [{"apiKey": []}], (method, path)
