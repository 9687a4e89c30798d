"""The healthchecks.io-compatible ping dialect, mounted at the root: `/ping/{uuid}[/start|/fail|/log|/{code}]`.

Public and unauthenticated: the random ping id is the capability. Answers `OK` (text/plain)
only after the ping is committed (the group-commit writer answers after its transaction).

The routes below document the dialect (OpenAPI) and serve any shape the fast path passes on;
`PingFastPath` answers the common shapes itself, with the same handler.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from xinex.heartbeats import intake, service
from xinex.heartbeats.schemas import RUN_ID_RE
from xinex.heartbeats.writer import writer_for
from xinex.kit.errors import AppError, error_response, error_responses

router = APIRouter(prefix="/ping", tags=["heartbeat pings"])
RESPONSES = {200: {"content": {"text/plain": {"example": "OK"}}, "description": "Stored"},
             **error_responses(404)}


async def _ping(request: Request, uuid_str: str, kind: str, exit_code: int | None = None):
    try:
        ping_id = uuid.UUID(uuid_str)
    except ValueError:
        raise AppError("NOT_FOUND", "heartbeat not found") from None
    body, size = await intake.read_bounded_body(request) if request.method == "POST" else (b"", 0)
    run_id = request.query_params.get("rid")
    if run_id is not None and not RUN_ID_RE.match(run_id):
        raise AppError("VALIDATION_FAILED", details={"fields": {"rid": "1-64 characters of [A-Za-z0-9._:-]"}})
    ping = intake.ping_input(request, kind, body=body, body_size=size, dialect="ping", exit_code=exit_code,
                             run_id=run_id)
    # Group commit: answered once the transaction holding this ping has committed.
    await writer_for(request.app).submit(ping_id, ping)
    return PlainTextResponse("OK")


async def ping_success(ping_id: str, request: Request):
    return await _ping(request, ping_id, "success")


async def ping_start(ping_id: str, request: Request):
    return await _ping(request, ping_id, "start")


async def ping_fail(ping_id: str, request: Request):
    return await _ping(request, ping_id, "fail")


async def ping_log(ping_id: str, request: Request):
    return await _ping(request, ping_id, "log")


async def ping_exit_code(ping_id: str, exit_code: str, request: Request):
    # Like healthchecks: only /0../255 are routes; anything else is an unknown URL (404).
    if not exit_code.isdigit() or not 0 <= int(exit_code) <= 255:
        raise AppError("NOT_FOUND", "unknown ping endpoint: exit codes are 0-255")
    code = int(exit_code)
    return await _ping(request, ping_id, service.kind_for_exit_code(code), exit_code=code)


_KINDS = {"start": "start", "fail": "fail", "log": "log"}


class PingFastPath:
    """ASGI middleware, innermost: answers `/ping/{uuid}[/start|/fail|/log|/{code}]` (GET, POST,
    HEAD) with the handler above, skipping FastAPI's route matching, dependency solving and
    exception middleware, which cost more CPU than storing the ping (pings are the platform's
    highest-rate request). The contract middlewares (request id, rate limit, idempotency) still
    wrap it; errors are answered in the catalog format like the routes' handlers do. Anything
    else, and any other shape under /ping/, goes to the app (its routes answer 404/405).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if not path.startswith("/ping/") or scope["method"] not in ("GET", "POST", "HEAD"):
            await self.app(scope, receive, send)
            return
        parts = path[6:].split("/")
        if len(parts) > 2 or not all(parts):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            if len(parts) == 1:
                response = await _ping(request, parts[0], "success")
            elif parts[1] in _KINDS:
                response = await _ping(request, parts[0], _KINDS[parts[1]])
            else:
                response = await ping_exit_code(parts[0], parts[1], request)
        except AppError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
        except ClientDisconnect:
            response = error_response(400, "BAD_REQUEST", "The client disconnected before sending the whole request")
        await response(scope, receive, send)


# Registered once per method family so each has its own OpenAPI operation id.
for _path, _endpoint in (("/{ping_id}", ping_success), ("/{ping_id}/start", ping_start),
                         ("/{ping_id}/fail", ping_fail), ("/{ping_id}/log", ping_log),
                         ("/{ping_id}/{exit_code}", ping_exit_code)):
    for _method in ("GET", "POST", "HEAD"):
        router.add_api_route(_path, _endpoint, methods=[_method], response_class=PlainTextResponse,
                             responses=RESPONSES, name=f"{_endpoint.__name__}_{_method.lower()}",
                             include_in_schema=_method != "HEAD")
