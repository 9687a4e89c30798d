"""Heartbeat HTTP, three dialects (HTTP only: the use cases are in service.py):

- the native API (`router`, under /api/v1): CRUD, pause/resume, runs and pings, and `POST /hb/{slug}`;
- the drop-in job-events dialect (`compat_router`, under /api/v1): `POST /heartbeat/{start,log,end,ping}`;
- the healthchecks.io ping URLs (`ping_router`, at the root): `/ping/{uuid}[/start|/fail|/log|/{code}]`,
  answered by `PingFastPath` (see its section below).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from xinex.audit.context import AuditContext, AuditCtx
from xinex.heartbeats import intake, service
from xinex.heartbeats.schemas import (
    SLUG_RE,
    CompatPingIn,
    HeartbeatCreate,
    HeartbeatOut,
    HeartbeatUpdate,
    NativePingIn,
    PingAck,
    PingOut,
    RunOut,
)
from xinex.heartbeats.throttle import throttle_for
from xinex.heartbeats.writer import writer_for
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_response, error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr
from xinex.models.heartbeats import Heartbeat

log = logging.getLogger(__name__)

router = APIRouter(tags=["heartbeats"])
compat_router = APIRouter(prefix="/heartbeat", tags=["heartbeats (compatible)"])
ping_router = APIRouter(prefix="/ping", tags=["heartbeat pings"])
HeartbeatsPrincipal = Annotated[Principal, Depends(Authorize("heartbeats"))]
StatusFilter = Literal["new", "up", "late", "down", "paused"]


def _public_url(request: Request) -> str:
    return request.app.state.settings.public_url


def _out(request: Request, hb: Heartbeat) -> HeartbeatOut:
    return service.to_out(hb, _public_url(request))


@router.get("/heartbeats", response_model=Page[HeartbeatOut], responses=error_responses(401, 403, 422))
async def list_heartbeats(request: Request, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                          status: StatusFilter | None = None,
                          tag: Annotated[NulFreeStr | None, Query(max_length=50)] = None):
    """List the tenant's heartbeats (cron-job checks) by name, with filters. Each carries its ping URLs."""
    return await service.list_page(session, params, _public_url(request), status=status, tag=tag)


@router.post("/heartbeats", status_code=201, response_model=HeartbeatOut,
             responses=error_responses(401, 403, 409, 422))
async def create_heartbeat(data: HeartbeatCreate, request: Request, audit_ctx: AuditCtx, response: Response,
                           principal: HeartbeatsPrincipal, session: SessionDep):
    """Create a heartbeat: a job that must ping within `interval` seconds (or on its `cron` schedule in `timezone`)
    plus `grace`. It is late during grace (shown, not paged) and down after it, which opens an incident and
    pages. The answer holds the ping URLs to paste in the job. 409: the slug is taken; 403: the plan's
    heartbeat limit."""
    hb = await service.create_audited(session, principal.tenant_id, data, audit_ctx=audit_ctx, principal=principal)
    set_version(response, hb)
    return _out(request, hb)


@router.get("/heartbeats/{heartbeat_id}", response_model=HeartbeatOut, responses=error_responses(401, 403, 404, 422))
async def read_heartbeat(heartbeat_id: uuid.UUID, request: Request, response: Response,
                         principal: HeartbeatsPrincipal, session: SessionDep):
    """One heartbeat with its state and ping URLs. 404: no such heartbeat in this tenant."""
    hb = await service.get(session, heartbeat_id)
    set_version(response, hb)
    return _out(request, hb)


@router.put("/heartbeats/{heartbeat_id}", response_model=HeartbeatOut,
            responses=error_responses(401, 403, 404, 409, 412, 422))
async def update_heartbeat(heartbeat_id: uuid.UUID, data: HeartbeatUpdate, request: Request, audit_ctx: AuditCtx, response: Response,
                           principal: HeartbeatsPrincipal, session: SessionDep, if_match: IfMatch):
    """Change a heartbeat; fields left out stay. 409: the slug is
    taken; If-Match guards against lost updates (412)."""
    hb = await service.update_checked(session, heartbeat_id, data, if_match, audit_ctx=audit_ctx, principal=principal)
    set_version(response, hb)
    return _out(request, hb)


@router.delete("/heartbeats/{heartbeat_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_heartbeat(heartbeat_id: uuid.UUID, audit_ctx: AuditCtx, principal: HeartbeatsPrincipal,
                           session: SessionDep, if_match: IfMatch):
    """Delete a heartbeat; its ping URLs answer 404 from now on. If-Match guards (412)."""
    await service.delete(session, heartbeat_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


async def _set_paused(heartbeat_id: uuid.UUID, request: Request, audit_ctx: AuditContext, response: Response,
                      principal: Principal, session: SessionDep, paused: bool) -> HeartbeatOut:
    hb = await service.set_paused(session, heartbeat_id, paused, audit_ctx=audit_ctx, principal=principal)
    set_version(response, hb)
    return _out(request, hb)


@router.post("/heartbeats/{heartbeat_id}/pause", response_model=HeartbeatOut,
             responses=error_responses(401, 403, 404, 422))
async def pause_heartbeat(heartbeat_id: uuid.UUID, request: Request, audit_ctx: AuditCtx, response: Response,
                          principal: HeartbeatsPrincipal, session: SessionDep):
    """Stop expecting pings: a paused heartbeat is never late or down. A success or fail ping resumes it (as healthchecks does).
    Idempotent."""
    return await _set_paused(heartbeat_id, request, audit_ctx, response, principal, session, True)


@router.post("/heartbeats/{heartbeat_id}/resume", response_model=HeartbeatOut,
             responses=error_responses(401, 403, 404, 422))
async def resume_heartbeat(heartbeat_id: uuid.UUID, request: Request, audit_ctx: AuditCtx, response: Response,
                           principal: HeartbeatsPrincipal, session: SessionDep):
    """Expect pings again, counting from now. Idempotent."""
    return await _set_paused(heartbeat_id, request, audit_ctx, response, principal, session, False)


@router.get("/heartbeats/{heartbeat_id}/runs", response_model=Page[RunOut],
            responses=error_responses(401, 403, 404, 422))
async def list_runs(heartbeat_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep):
    """Job runs, newest first: a start paired with its end (by run id when given) with duration and outcome; a run
    without an end is running, or failed after grace."""
    return await service.runs_page(session, heartbeat_id, params)


@router.get("/heartbeats/{heartbeat_id}/pings", response_model=Page[PingOut],
            responses=error_responses(401, 403, 404, 422))
async def list_pings(heartbeat_id: uuid.UUID, principal: HeartbeatsPrincipal, session: SessionDep, params: PageDep,
                     kind: Literal["start", "success", "fail", "log"] | None = None):
    """The pings received, newest first (kind, time, source, exit code, body preview), filtered by kind."""
    return await service.pings_page(session, heartbeat_id, params, kind)


def native_kind(data: NativePingIn) -> str:
    if data.status in ("start", "log", "fail"):
        return data.status  # an explicit fail is not undone by exit_code 0 (a failure from either field wins)
    if data.exit_code is not None:
        return service.kind_for_exit_code(data.exit_code)
    return data.status or "success"


@router.post("/hb/{slug}", response_model=PingAck, responses=error_responses(401, 403, 404, 422))
async def native_ping(slug: str, request: Request, principal: HeartbeatsPrincipal, session: SessionDep,
                      data: NativePingIn | None = None):
    """Ping a heartbeat by slug with an API token (the native dialect): `status` start/success/fail/log or an
    `exit_code` (0 success, else fail), an optional `run_id` to pair start and end, and a message kept as
    the ping body. 404: no heartbeat with that slug in the token's tenant."""
    data = data or NativePingIn()
    if not SLUG_RE.match(slug):  # no such slug can exist (and NUL cannot reach the query)
        raise AppError("NOT_FOUND", "heartbeat not found")
    hb = await service.by_slug(session, slug)
    message = (data.message or "").encode()
    ping = intake.ping_input(request, native_kind(data), body=message, body_size=len(message), dialect="native",
                             exit_code=data.exit_code, run_id=data.run_id)
    return intake.ack(await service.record_ping(session, hb.id, ping, throttle=throttle_for(request.app)))


# --- the drop-in job-events dialect ----------------------------------------------------------------
# The drop-in job-events dialect: `POST /heartbeat/{start,log,end,ping}` with `{"name": ...}`.
#
# Authenticated with an API token (`X-API-Key` or Bearer); the attribution headers
# `X-Hexcovery-Host`, `X-Hexcovery-Service`, `X-Hexcovery-Project` are stored on the job. The first
# event for an unknown name creates the job (1 day interval + 1 h grace unless given), within the
# tenant's tier limit.

RESPONSES = error_responses(401, 403, 422)


def _end_kind(data: CompatPingIn) -> str:
    # Either field reporting a failure makes it one: an explicit `status: failure` is not undone by exit_code 0.
    if data.status in ("failure", "fail"):
        return "fail"
    if data.exit_code is not None:
        return service.kind_for_exit_code(data.exit_code)
    return "success"


async def _handle(request: Request, principal: Principal, session, data: CompatPingIn, kind: str) -> PingAck:
    hb = await service.find_or_create_by_name(session, principal.tenant_id, data.name, data.interval, data.grace)
    message = (data.message or "").encode()
    ping = intake.ping_input(request, kind, body=message, body_size=len(message), dialect="compat",
                             exit_code=data.exit_code, run_id=data.run_id)
    result = await service.record_ping(session, hb.id, ping, throttle=throttle_for(request.app))
    service.set_attribution(
        hb, request.headers.get("x-hexcovery-host"), request.headers.get("x-hexcovery-service"),
        request.headers.get("x-hexcovery-project"),
    )
    return intake.ack(result)


@compat_router.post("/start", response_model=PingAck, responses=RESPONSES)
async def compat_start(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: a job run started. The first event for an unknown `name` creates the heartbeat (1 day
    interval and 1 h grace unless given), within the plan's limit (403). X-Hexcovery-Host/-Service/-Project
    headers are stored on the job."""
    return await _handle(request, principal, session, data, "start")


@compat_router.post("/log", response_model=PingAck, responses=RESPONSES)
async def compat_log(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: a log line for the job (does not change its state). Creates the job on first use like
    /start."""
    return await _handle(request, principal, session, data, "log")


@compat_router.post("/end", response_model=PingAck, responses=RESPONSES)
async def compat_end(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: the run ended; `exit_code` (0 success) or `status` (success/failure) decides the outcome,
    `run_id` pairs it with its start."""
    return await _handle(request, principal, session, data, _end_kind(data))


@compat_router.post("/ping", response_model=PingAck, responses=RESPONSES)
async def compat_ping(data: CompatPingIn, request: Request, principal: HeartbeatsPrincipal, session: SessionDep):
    """Job-run dialect: a single success or failure without a start (like /end)."""
    return await _handle(request, principal, session, data, _end_kind(data))


# --- the healthchecks.io ping URLs ---------------------------------------------------------------------
# The healthchecks.io-compatible ping dialect, mounted at the root: `/ping/{uuid}[/start|/fail|/log|/{code}]`.
#
# Public and unauthenticated: the random ping id is the capability. Answers like healthchecks'
# `hc/api/views.ping`, so its clients and scripts work unchanged (docs/compatibility.md):
# - `OK` (text/plain) once the ping is committed (the group-commit writer answers after its
#   transaction), with `Access-Control-Allow-Origin: *`, `Cache-Control: no-cache` and
#   `Ping-Body-Limit: <bytes kept per body>`;
# - every form also with a trailing slash (`/ping/<uuid>/`, `/ping/<uuid>/start/`): never a redirect;
# - the errors healthchecks answers as its short text bodies: `not found` (404), `invalid url format`
#   (400: an exit status above 255), `invalid uuid format` (400: a `rid` that is not a UUID), and
#   `rate limited` (429 with Retry-After, the per-heartbeat throttle); a database outage is the
#   platform's catalog `503 SERVICE_UNAVAILABLE` with Retry-After (docs/operations.md), which
#   healthchecks has no answer of its own for — its clients retry on any 5xx;
# - CORS preflight (`OPTIONS`) answered 204, so browsers can ping.
#
# `PingFastPath` answers every request under /ping/ itself, skipping FastAPI's route matching,
# dependency solving and exception middleware, which cost more CPU than storing the ping (pings are
# the platform's highest-rate request). The contract middlewares (request id, rate limit,
# idempotency) still wrap it. The routes below only document the dialect (OpenAPI).

# Canonical textual UUIDs only (like healthchecks' URL converter and its rid check), any case.
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
EXIT_STATUS_RE = re.compile(r"^[0-9]+$")
KINDS = {"start": "start", "fail": "fail", "log": "log"}
PING_METHODS = ("GET", "HEAD", "POST")
ALLOW = "GET, HEAD, POST, OPTIONS"
CORS = {"Access-Control-Allow-Origin": "*"}
# What a ping answer carries, success or error: browsers may read it, caches must not keep it.
ALWAYS = {**CORS, "Cache-Control": "no-cache"}


class PingRefused(Exception):
    """A ping-URL error: the short text body healthchecks answers."""

    def __init__(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.text, self.headers = status, text, headers or {}


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(text, status_code=status, headers={**ALWAYS, **(headers or {})})


def _refusal(exc: AppError) -> PingRefused:
    """The engine's catalog errors, as the text answers of this dialect."""
    if exc.code == "NOT_FOUND":
        return PingRefused(404, "not found")
    if exc.code == "RATE_LIMITED":
        return PingRefused(429, "rate limited", {"Retry-After": exc.headers.get("Retry-After", "1")})
    raise exc  # the catalog answer (a 503 while the database is unreachable)


def parse(path: str) -> tuple[str, str | None]:
    """`/ping/<uuid>[/<action>][/]` -> (uuid, action or None); anything else is not found."""
    rest = path[len("/ping/"):]
    if rest.endswith("/"):
        rest = rest[:-1]  # healthchecks' URLs take a trailing slash on every form
    parts = rest.split("/")
    if len(parts) > 2 or not all(parts) or not UUID_RE.match(parts[0]):
        raise PingRefused(404, "not found")
    action = parts[1] if len(parts) == 2 else None
    if action is not None and action not in KINDS and not EXIT_STATUS_RE.match(action):
        raise PingRefused(404, "not found")
    return parts[0], action


async def handle_ping(request: Request, uuid_str: str, action: str | None) -> Response:
    kind, exit_code = "success", None
    if action in KINDS:
        kind = KINDS[action]
    elif action is not None:
        exit_code = int(action)
        if exit_code > 255:
            raise PingRefused(400, "invalid url format")
        kind = service.kind_for_exit_code(exit_code)
    run_id = request.query_params.get("rid")
    if run_id is not None:
        if not UUID_RE.match(run_id):
            raise PingRefused(400, "invalid uuid format")
        run_id = str(uuid.UUID(run_id))  # pairs as a UUID: case does not matter
    limit = intake.body_limit(request)
    body, size = await intake.read_bounded_body(request, limit) if request.method == "POST" else (b"", 0)
    ping = intake.ping_input(request, kind, body=body, body_size=size, dialect="ping", exit_code=exit_code,
                             run_id=run_id)
    try:
        # Group commit: answered once the transaction holding this ping has committed.
        await writer_for(request.app).submit(uuid.UUID(uuid_str), ping)
    except AppError as exc:
        raise _refusal(exc) from None
    return _text(200, "OK", {"Ping-Body-Limit": str(limit)})


def preflight(scope: Scope) -> Response:
    """CORS preflight: any origin may ping, with the headers it asks for."""
    requested = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"access-control-request-headers"),
                     None)
    headers = {**ALWAYS, "Access-Control-Allow-Methods": ALLOW, "Access-Control-Max-Age": "600"}
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    return Response(status_code=204, headers=headers)


class PingFastPath:
    """ASGI middleware, innermost: answers every request under `/ping/` (see the module doc)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/ping/"):
            await self.app(scope, receive, send)
            return
        try:
            uuid_str, action = parse(scope["path"])
            method = scope["method"]
            if method == "OPTIONS":
                response = preflight(scope)
            elif method not in PING_METHODS:
                response = _text(405, "method not allowed", {"Allow": ALLOW})
            else:
                response = await handle_ping(Request(scope, receive), uuid_str, action)
        except PingRefused as exc:
            response = _text(exc.status, exc.text, exc.headers)
        except AppError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.details, {**ALWAYS, **exc.headers})
        except ClientDisconnect:
            response = _text(400, "the client disconnected before sending the whole request")
        await response(scope, receive, send)


# --- OpenAPI: the routes document the dialect; PingFastPath answers before they are reached ------

def _responses(ok: str = "OK") -> dict:
    def text(example: str, description: str) -> dict:
        return {"content": {"text/plain": {"schema": {"type": "string"}, "example": example}},
                "description": description}

    return {200: {**text(ok, "Stored (committed) — headers Ping-Body-Limit, Access-Control-Allow-Origin: *"),
                  "headers": {"Ping-Body-Limit": {"schema": {"type": "integer"},
                                                  "description": "bytes of a body stored per ping"}}},
            400: text("invalid uuid format", "`invalid uuid format` (rid) or `invalid url format` (exit status > 255)"),
            404: text("not found", "No heartbeat has this ping id"),
            429: text("rate limited", "Over the heartbeat's ping rate (see Retry-After); nothing stored"),
            **error_responses(503)}


async def _documented(request: Request) -> Response:  # pragma: no cover - PingFastPath answers first
    uuid_str, action = parse(request.url.path)
    return await handle_ping(request, uuid_str, action)


_RID = {"name": "rid", "in": "query", "required": False, "schema": {"type": "string", "format": "uuid"},
        "description": "run id: pairs this ping with the start that carried the same UUID"}
_COMMON = (" The ping id (a UUID shown on the heartbeat) is the credential: no other is needed. GET, POST and "
           "HEAD are the same; a POST body (the job's output) is kept up to Ping-Body-Limit bytes. Every form also "
           "answers with a trailing slash, never a redirect. Answers are healthchecks' short text bodies.")
_WHAT = {
    "success": "The job succeeded: the heartbeat is up (also from late or down) and the running job ends (paired by "
               "`rid` when given); the next ping is due after its interval or cron.",
    "start": "The job started: the heartbeat shows it running; a run that does not end within grace of its start "
             "makes it down.",
    "failure": "The job failed: the heartbeat is down at once, which opens an incident and pages.",
    "log": "A log line for the job: stored with its body, changes nothing.",
    "exit": "The job ended with this exit status: 0 is a success, 1-255 a failure; above 255 is a 400.",
}
for _path, _summary in (("/{ping_id}", "success"), ("/{ping_id}/start", "start"), ("/{ping_id}/fail", "failure"),
                        ("/{ping_id}/log", "log"), ("/{ping_id}/{exit_code}", "exit status (0 = success)")):
    for _method in ("GET", "POST", "HEAD"):
        ping_router.add_api_route(
            _path, _documented, methods=[_method], response_class=PlainTextResponse, responses=_responses(),
            name=f"ping_{_summary.split()[0]}_{_method.lower()}", summary=f"Ping: {_summary}",
            description=_WHAT[_summary.split()[0]] + _COMMON,
            include_in_schema=_method != "HEAD",
            openapi_extra={"parameters": [
                {"name": "ping_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
                *([{"name": "exit_code", "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 0, "maximum": 255}}] if "exit_code" in _path else []),
                _RID]})
