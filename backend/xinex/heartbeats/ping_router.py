"""The healthchecks.io-compatible ping dialect, mounted at the root: `/ping/{uuid}[/start|/fail|/log|/{code}]`.

Public and unauthenticated: the random ping id is the capability. Answers like healthchecks'
`hc/api/views.ping`, so its clients and scripts work unchanged (docs/compatibility.md):
- `OK` (text/plain) once the ping is committed (the group-commit writer answers after its
  transaction), with `Access-Control-Allow-Origin: *`, `Cache-Control: no-cache` and
  `Ping-Body-Limit: <bytes kept per body>`;
- every form also with a trailing slash (`/ping/<uuid>/`, `/ping/<uuid>/start/`): never a redirect;
- the errors healthchecks answers as its short text bodies: `not found` (404), `invalid url format`
  (400: an exit status above 255), `invalid uuid format` (400: a `rid` that is not a UUID), and
  `rate limited` (429 with Retry-After, the per-heartbeat throttle); a database outage is the
  platform's catalog `503 SERVICE_UNAVAILABLE` with Retry-After (docs/operations.md), which
  healthchecks has no answer of its own for — its clients retry on any 5xx;
- CORS preflight (`OPTIONS`) answered 204, so browsers can ping.

`PingFastPath` answers every request under /ping/ itself, skipping FastAPI's route matching,
dependency solving and exception middleware, which cost more CPU than storing the ping (pings are
the platform's highest-rate request). The contract middlewares (request id, rate limit,
idempotency) still wrap it. The routes below only document the dialect (OpenAPI).
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from xinex.heartbeats import intake, service
from xinex.heartbeats.writer import writer_for
from xinex.kit.errors import AppError, error_response, error_responses

log = logging.getLogger(__name__)

router = APIRouter(prefix="/ping", tags=["heartbeat pings"])

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
        router.add_api_route(
            _path, _documented, methods=[_method], response_class=PlainTextResponse, responses=_responses(),
            name=f"ping_{_summary.split()[0]}_{_method.lower()}", summary=f"Ping: {_summary}",
            description=_WHAT[_summary.split()[0]] + _COMMON,
            include_in_schema=_method != "HEAD",
            openapi_extra={"parameters": [
                {"name": "ping_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
                *([{"name": "exit_code", "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 0, "maximum": 255}}] if "exit_code" in _path else []),
                _RID]})
