"""The HTTP routes of ``dispatch serve`` (FastAPI), versioned under ``/v1``.

Every route but ``/v1/health`` needs ``Authorization: Bearer <key>``: 401 without a key or with
an unknown or revoked one, 403 when the key's role may not do this. Bodies above the size limit
get 413. Bad input gets 422 (409 for a state conflict, such as a call id used twice) with a body
that says what is wrong and names the field; the database being unreachable gets 503. No error
body carries a traceback, and the log carries ids only, never a call's narrative.

The two routes a CAD system calls all the time, ``POST /v1/events`` and ``POST /v1/calls``,
have a lean path (`HotRoutes`) for requests that pass every check; the routes below declare
them, answer everything else and make the OpenAPI document.
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.errors import InputError
from dispatch.live.api import (
    AssignIn,
    AssignResult,
    AuditPage,
    AuditRecord,
    BatchResult,
    CallDecision,
    CallIn,
    CallRecord,
    CancelIn,
    CancelResult,
    EventBatch,
    EventResult,
    Health,
    KeyCreated,
    KeyIn,
    KeyOut,
    Pending,
    Problem,
    Unit,
    UnitEvent,
)
from dispatch.live.eido import EidoError, IncidentTypeTable, parse_eido
from dispatch.live.keys import role_allows
from dispatch.live.service import DatabaseUnavailableError, LiveService
from dispatch.live.state import ConflictError, digest, iso

log = logging.getLogger("dispatch.live")
BOARD = Path(__file__).with_name("board.html")
# The board fetches from this service only; nothing it shows leaves the machine.
BOARD_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
    "Cache-Control": "no-store",
}
DEFAULT_MAX_BODY = 1 << 20
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 413, 422, 503)
}


class ApiError(Exception):
    """An error answer: status, message and the field it is about."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field


class BodyLimit:
    """ASGI middleware: refuse bodies above ``limit`` bytes with 413 before reading them all."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _send_problem(send, 413, f"request body above {self.limit} bytes")
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLargeError()
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLargeError:
            await _send_problem(send, 413, f"request body above {self.limit} bytes")


class _BodyTooLargeError(Exception):
    pass


EVENTS_IN: TypeAdapter[UnitEvent | EventBatch] = TypeAdapter(UnitEvent | EventBatch)
EVENTS_OUT: TypeAdapter[EventResult | BatchResult] = TypeAdapter(EventResult | BatchResult)
CALL_IN: TypeAdapter[CallIn] = TypeAdapter(CallIn)
CALL_OUT: TypeAdapter[CallDecision] = TypeAdapter(CallDecision)
JSON_HEADERS = [(b"content-type", b"application/json")]


class HotRoutes:
    """ASGI middleware: ``POST /v1/events`` and ``POST /v1/calls`` on their common path, lean.

    A request with a key this process has verified before (of a role that may write), a JSON
    content type and a body that validates is validated once, straight from its bytes, by the
    route's own pydantic models, applied as the route applies it, and answered with what the
    route's response model makes of the answer, encoded once. Everything else (no key, an
    unknown or revoked one, the wrong role, another content type, a body that does not
    validate, any other route) goes on to the FastAPI routes with its body, so every refusal is
    made where it is declared. The routes and the OpenAPI document stay as they are; a request
    on this path skips FastAPI's per-request dependency and serialisation machinery.
    """

    def __init__(self, app: ASGIApp, service: LiveService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or path not in ("/v1/events", "/v1/calls")
            or not self._authorized(scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away: nobody to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            if path == "/v1/events":
                events = EVENTS_IN.validate_json(body)
            else:
                call = CALL_IN.validate_json(body)
        except ValidationError:
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        try:
            if path == "/v1/events":
                answer = await events_answer(self.service, events)
                payload = EVENTS_OUT.dump_json(EVENTS_OUT.validate_python(answer))
            else:
                answer = await call_answer(self.service, call)
                payload = CALL_OUT.dump_json(CALL_OUT.validate_python(answer))
        except (InputError, DatabaseUnavailableError, SQLAlchemyError) as error:
            response = problem_response(error)
            await response(scope, receive, send)
            return
        headers = [*JSON_HEADERS, (b"content-length", b"%d" % len(payload))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """A single Bearer key known to this process, of a dispatcher or admin, and JSON."""
        authorization: bytes | None = None
        json_body = False
        for name, value in headers:
            if name == b"authorization":
                if authorization is not None:
                    return False
                authorization = value
            elif name == b"content-type":
                json_body = value.split(b";", 1)[0].strip().lower() == b"application/json"
        if authorization is None or not json_body or not authorization.startswith(b"Bearer "):
            return False
        key = authorization.removeprefix(b"Bearer ").strip().decode("latin-1")
        found = self.service.keys.known_role(key)
        return found is not None and role_allows(found, "dispatcher")


def problem_response(error: Exception) -> JSONResponse:
    """The answer to an error of a change: 409/422 for bad input, 503 for the database."""
    if isinstance(error, InputError):
        status = 409 if isinstance(error, ConflictError) else 422
        return JSONResponse(
            Problem(detail=str(error), field=error.field).model_dump(), status_code=status
        )
    if isinstance(error, DatabaseUnavailableError):
        return JSONResponse(Problem(detail=str(error)).model_dump(), status_code=503)
    log.error("database error: %s", type(error).__name__)
    body = Problem(detail="the database is unavailable").model_dump()
    return JSONResponse(body, status_code=503)


async def events_answer(service: LiveService, body: UnitEvent | EventBatch) -> dict[str, Any]:
    """``POST /v1/events``: apply the event or the batch, answer once durable."""
    batch = body.events if isinstance(body, EventBatch) else [body]

    def build(now: float) -> list[dict[str, Any]]:
        return [_apply_event(service, event, now) for event in batch]

    results = await service.execute(build)
    if isinstance(body, EventBatch):
        return {"results": results}
    return results[0]


async def call_answer(service: LiveService, call: CallIn, source: str = "json") -> dict[str, Any]:
    """``POST /v1/calls`` (and the EIDO intake): apply the call, answer once durable."""
    return await service.execute(lambda now: _apply_call(service, call, now, source=source))


async def _send_problem(send: Send, status: int, detail: str) -> None:
    body = Problem(detail=detail).model_dump_json().encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(
    service: LiveService,
    *,
    version: str = "unknown",
    max_body: int = DEFAULT_MAX_BODY,
    incident_types: IncidentTypeTable | None = None,
) -> FastAPI:
    """The FastAPI application of a `LiveService` (started and stopped with the app).

    ``incident_types`` maps EIDO incident codes to call types and risks (default: the bundled
    table, `IncidentTypeTable.bundled`).
    """
    table = incident_types if incident_types is not None else IncidentTypeTable.bundled()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="dispatch live service",
        version=version,
        description="Co-responder dispatch for CAD integrations: the replay's Dispatcher on "
        "the wall clock, with a durable journal.",
        lifespan=lifespan,
    )

    # -- errors ------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        body = Problem(detail=error.detail, field=error.field).model_dump()
        return JSONResponse(body, status_code=error.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and (refused := await key_refusal(request)) is not None:
            return refused
        # A body FastAPI cannot decode (not UTF-8) is bad input like malformed JSON: 422.
        status = 422 if error.status_code == 400 else error.status_code
        field = "body" if error.status_code == 400 else None
        body = Problem(detail=str(error.detail), field=field).model_dump()
        return JSONResponse(body, status_code=status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        if first.get("type") == "json_invalid":  # its location is a character, not a field
            # (every other refusal here comes after the route's key check has passed)
            if (refused := await key_refusal(request)) is not None:
                return refused
            loc, why = first.get("loc", ()), first.get("ctx", {}).get("error", "")
            at = f" at character {loc[-1]}" if len(loc) > 1 else ""
            detail = f"body: not valid JSON{at}" + (f" ({why})" if why else "")
            return JSONResponse(Problem(detail=detail, field="body").model_dump(), status_code=422)
        where = [str(part) for part in first.get("loc", ()) if part != "body"]
        field = ".".join(where) or None
        message = str(first.get("msg", "invalid request"))
        detail = f"{field}: {message}" if field else message
        return JSONResponse(Problem(detail=detail, field=field).model_dump(), status_code=422)

    @app.exception_handler(DatabaseUnavailableError)
    async def unavailable(_request: Request, error: DatabaseUnavailableError) -> JSONResponse:
        return problem_response(error)

    @app.exception_handler(SQLAlchemyError)
    async def db_error(_request: Request, error: SQLAlchemyError) -> JSONResponse:
        return problem_response(error)

    # -- auth --------------------------------------------------------------------------
    # Declared in the OpenAPI document as an HTTP bearer scheme, so clients generated from it
    # send the key; the check below answers every refusal itself (401/403 with a problem body).
    bearer = HTTPBearer(
        auto_error=False,
        scheme_name="apiKey",
        description="A key from `dispatch keys create`, sent as `Authorization: Bearer <key>`.",
    )

    key_header = Depends(bearer)
    checks: set[Callable[..., Any]] = set()  # each route's key check, by `role`

    def role(needed: str) -> Any:
        async def check(
            credentials: HTTPAuthorizationCredentials | None = key_header,
        ) -> str:
            if credentials is None or not credentials.credentials:
                raise ApiError(401, "an API key is required (Authorization: Bearer <key>)")
            found = service.keys.role_of(credentials.credentials.strip())
            if found is None:
                raise ApiError(401, "unknown or revoked API key")
            if not role_allows(found, needed):
                raise ApiError(403, f"a {found} key may not do this (needs {needed})")
            return found

        checks.add(check)
        return Depends(check)

    async def key_refusal(request: Request) -> JSONResponse | None:
        """The 401 or 403 of the route's key check, for a request refused before it ran.

        A body that is not JSON (or not UTF-8) is refused while it is read, before the route's
        dependencies run; the key still comes first, so a client without one learns nothing
        of what the route accepts.
        """
        for depends in getattr(request.scope.get("route"), "dependencies", ()):
            if depends.dependency in checks:
                try:
                    await depends.dependency(await bearer(request))
                except ApiError as error:
                    return await api_error(request, error)
        return None

    reader, dispatcher, admin = role("reader"), role("dispatcher"), role("admin")

    async def run(change: Any) -> Any:
        """Await a change (`LiveService.execute`); bad input becomes a 409 or 422 answer."""
        try:
            return await change
        except InputError as error:
            return problem_response(error)  # the lean path answers with the same function

    # -- routes ------------------------------------------------------------------------
    @app.get("/v1/health", response_model=Health, responses={503: {"model": Health}})
    async def health() -> Any:
        ok = service.db_ok()
        body = Health(
            status="ok" if ok else "unavailable", db="ok" if ok else "unreachable", version=version
        )
        return body if ok else JSONResponse(body.model_dump(), status_code=503)

    @app.get("/v1/units", response_model=list[Unit], responses=ERRORS, dependencies=[reader])
    async def units() -> Any:
        return service.state.unit_rows()

    @app.post(
        "/v1/events",
        response_model=EventResult | BatchResult,
        responses=ERRORS,
        dependencies=[dispatcher],
    )
    async def events(body: UnitEvent | EventBatch) -> Any:
        return await run(events_answer(service, body))

    @app.post("/v1/calls", response_model=CallDecision, responses=ERRORS, dependencies=[dispatcher])
    async def calls(body: CallIn) -> Any:
        return await run(call_answer(service, body))

    @app.post(
        "/v1/calls/eido", response_model=CallDecision, responses=ERRORS, dependencies=[dispatcher]
    )
    async def calls_eido(body: dict[str, Any]) -> Any:
        """A NENA-STA-021 EIDO: the same decision as ``POST /v1/calls`` for the call it holds."""
        try:
            found = parse_eido(body, table)
        except EidoError as error:
            raise ApiError(422, str(error), error.where) from None
        try:
            call = CallIn(
                call_id=found.call_id,
                received_at=found.received_at,
                lat=found.lat,
                lon=found.lon,
                call_type=found.call_type,
                priority=found.priority,
                risk=found.risk,
                flags=list(found.flags),
            )
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ()))
            raise ApiError(422, f"{field}: {first.get('msg')}", field) from None
        return await run(call_answer(service, call, source="eido"))

    @app.get(
        "/v1/calls/{call_id}", response_model=CallRecord, responses=ERRORS, dependencies=[reader]
    )
    async def call(call_id: str) -> Any:
        view = service.state.calls.get(call_id)
        if view is None:
            raise ApiError(404, f"no call {call_id!r}", "call_id")
        return {
            "call_id": call_id,
            "state": view.state,
            "call": view.call,
            "team_id": view.team_id,
            "recommended": view.recommended,
            "history": view.history,
        }

    @app.post(
        "/v1/calls/{call_id}/assign",
        response_model=AssignResult,
        responses=ERRORS,
        dependencies=[dispatcher],
    )
    async def assign(call_id: str, body: AssignIn) -> Any:
        def build(now: float) -> dict[str, Any]:
            out = service.apply(
                {
                    "kind": "assign",
                    "now": now,
                    "call_id": call_id,
                    "team_id": body.team_id,
                    "by": body.by,
                    "reason": body.reason,
                }
            )
            return {"call_id": call_id, "team_id": body.team_id, **out}

        return await run(service.execute(build))

    @app.post(
        "/v1/calls/{call_id}/cancel",
        response_model=CancelResult,
        responses=ERRORS,
        dependencies=[dispatcher],
    )
    async def cancel(call_id: str, body: CancelIn | None = None) -> Any:
        def build(now: float) -> dict[str, Any]:
            service.apply(
                {
                    "kind": "cancel",
                    "now": now,
                    "call_id": call_id,
                    "by": body.by if body else None,
                    "reason": body.reason if body else None,
                }
            )
            return {"call_id": call_id, "state": "cancelled"}

        return await run(service.execute(build))

    @app.get(
        "/v1/recommendations",
        response_model=list[dict[str, Any]],
        responses=ERRORS,
        dependencies=[reader],
    )
    async def recommendations() -> Any:
        """The latest dispatches with their explanations, oldest first (the board's feed)."""
        return list(service.state.recent)

    @app.get("/board", include_in_schema=False)
    async def board() -> HTMLResponse:
        """The live board: a page with no data of its own; it reads the API with a key."""
        return HTMLResponse(BOARD.read_text(encoding="utf-8"), headers=BOARD_HEADERS)

    @app.get("/v1/pending", response_model=list[Pending], responses=ERRORS, dependencies=[reader])
    async def pending() -> Any:
        return service.state.pending_rows()

    @app.get("/v1/audit", response_model=AuditPage, responses=ERRORS, dependencies=[admin])
    async def audit(
        after: Annotated[int, Query(ge=-1, le=2**63 - 1)] = -1,  # the journal's 64-bit seq
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Any:
        rows = list(service.store.rows(after=after, limit=limit))
        records = [
            AuditRecord(
                seq=r.seq,
                kind=r.kind,
                at=iso(r.now_s),
                event_id=r.event_id,
                unit_id=r.unit_id,
                call_id=r.call_id,
                input=r.input,
                output=r.output,
            )
            for r in rows
        ]
        return AuditPage(records=records, next_after=rows[-1].seq if len(rows) == limit else None)

    @app.post(
        "/v1/keys",
        response_model=KeyCreated,
        status_code=201,
        responses=ERRORS,
        dependencies=[admin],
    )
    async def create_key(body: KeyIn) -> Any:
        key = service.keys.create(body.role, body.label)
        return {"key_id": key.split("_")[1], "role": body.role, "key": key}

    @app.get("/v1/keys", response_model=list[KeyOut], responses=ERRORS, dependencies=[admin])
    async def list_keys() -> Any:
        return [
            {
                "key_id": k.key_id,
                "role": k.role,
                "label": k.label,
                "created_at": iso(k.created_at_s),
                "revoked_at": iso(k.revoked_at_s),
            }
            for k in service.keys.list()
        ]

    @app.delete("/v1/keys/{key_id}", status_code=204, responses=ERRORS, dependencies=[admin])
    async def revoke_key(key_id: str) -> None:
        if not service.keys.revoke(key_id):
            raise ApiError(404, f"no active key {key_id!r}", "key_id")

    app.add_middleware(HotRoutes, service=service)  # inside the body limit
    app.add_middleware(BodyLimit, limit=max_body)
    return app


def _apply_event(service: LiveService, event: UnitEvent, now: float) -> dict[str, Any]:
    """One event inside `LiveService.execute`: duplicates are answered without a record."""
    record = {
        "event_id": event.event_id,
        "unit_id": event.unit_id,
        "at_s": event.at.timestamp(),
        "status": event.status,
        "lat": event.lat,
        "lon": event.lon,
    }
    known = service.state.events.get(event.event_id)
    if known is not None:
        if known == digest(record):
            return {"event_id": event.event_id, "result": "duplicate", "decisions": []}
        return {
            "event_id": event.event_id,
            "result": "rejected",
            "reason": "event_id was used before for a different event",
            "field": "event_id",
            "decisions": [],
        }
    out = service.apply({"kind": "event", "now": now, "event": record})
    return {"event_id": event.event_id, **out}


def _apply_call(
    service: LiveService, call: CallIn, now: float, *, source: str = "json"
) -> dict[str, Any]:
    record = call.model_dump(mode="json")
    record["source"] = source
    record["received_at"] = call.received_at.isoformat()
    out = service.apply({"kind": "call", "now": now, "call": record})
    return {**out["recommendation"], "decisions": out["decisions"]}
