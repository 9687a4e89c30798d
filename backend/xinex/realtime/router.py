"""`POST /ws/ticket` and `WSS /ws?token=…`: the tenant's live incident and monitor events.

The token may be a ticket, an API token or a JWT; a browser may also rely on its session cookie,
then a foreign Origin is refused (cross-site WebSocket hijacking). The token is only ever read
from the query string here and never logged (kit/logging strips query strings from access logs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, WebSocket
from pydantic import BaseModel, ConfigDict
from starlette.websockets import WebSocketDisconnect

from xinex.identity.credentials import resolve_api_token, resolve_session, session_cookie_name
from xinex.identity.deps import TenantPrincipal
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError, error_responses, unavailable_dependency, unavailable_response
from xinex.models.tenant import Role
from xinex.realtime import logfilter
from xinex.realtime.bus import Subscription, hub_for
from xinex.realtime.tickets import TICKET_PREFIX, store_for

log = logging.getLogger("xinex.realtime")
router = APIRouter(tags=["realtime"])
logfilter.install()

POLICY_VIOLATION = 1008
TRY_AGAIN = 1013


class TicketOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "ticket": "wst_4b9c0e1f7a2d4c8e9f10a1b2c3d4e5f6", "expires_in": 30,
        "url": "wss://xinex.example.com/api/v1/ws?ticket=wst_4b9c0e1f7a2d4c8e9f10a1b2c3d4e5f6"}]})
    ticket: str
    expires_in: int
    url: str


def _wants_events(principal: Principal) -> bool:
    return principal.allows("incidents", False) or principal.allows("monitors", False)


@router.post("/ws/ticket", response_model=TicketOut, responses=error_responses(401, 403))
async def issue_ticket(request: Request, principal: TenantPrincipal) -> TicketOut:
    """A short-lived, single-use ticket to open the event WebSocket (`url` in the answer, `?token=<ticket>`) from a
    browser, which cannot send an Authorization header there. Needs incidents:read or monitors:read (403
    otherwise)."""
    if not _wants_events(principal):
        raise AppError("FORBIDDEN", "This token lacks the incidents:read or monitors:read scope")
    ticket, ttl = await store_for(request.app).issue(principal.user_id, principal.tenant_id, principal.scopes)
    base = request.app.state.settings.public_url.rstrip("/")
    ws_base = "wss" + base[5:] if base.startswith("https") else "ws" + base[4:]
    return TicketOut(ticket=ticket, expires_in=ttl, url=f"{ws_base}/api/v1/ws")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _authenticate(websocket: WebSocket) -> Principal | None:
    token = websocket.query_params.get("token")
    cookie = websocket.cookies.get(session_cookie_name())
    if token and token.startswith(TICKET_PREFIX):
        ticket = await store_for(websocket.app).redeem(token)
        if ticket is None:
            return None
        return Principal(user_id=ticket.user_id, tenant_id=ticket.tenant_id, role=Role.viewer, kind="ticket",
                         credential_id=ticket.user_id,
                         scopes=frozenset(ticket.scopes) if ticket.scopes is not None else None)
    if not token and cookie:
        origin = websocket.headers.get("origin")
        if not origin or origin.lower() != _origin_of(websocket.app.state.settings.public_url):
            return None
    async with websocket.app.state.db.sessionmaker() as session:
        try:
            if token and token.startswith("xinex_"):
                return await resolve_api_token(session, token)
            if token and token.count(".") == 2:
                from xinex.identity.credentials import resolve_access_token

                return await resolve_access_token(session, token)
            if not token and cookie:
                return await resolve_session(session, cookie, None)
        except AppError:
            return None
        finally:
            await session.commit()  # last-used touches
    return None


async def _refuse_unavailable(websocket: WebSocket, dependency: str) -> None:
    """Answer the handshake 503 + Retry-After (the client retries later) rather than a 500 or a
    403 that would say its credential is bad; servers without the denial-response extension get
    close code 1013 (try again later)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(unavailable_response(dependency))
    else:
        await websocket.close(code=TRY_AGAIN)


@router.websocket("/ws")
async def events(websocket: WebSocket) -> None:
    try:
        principal = await _authenticate(websocket)
    except Exception as exc:
        dependency = unavailable_dependency(exc)  # a ticket lives on Redis, a token in the database
        if dependency is None:
            raise
        await _refuse_unavailable(websocket, dependency)
        return
    if principal is None or principal.tenant_id is None or not _wants_events(principal):
        # Before accept: the handshake fails with HTTP 403, the token is not echoed anywhere.
        await websocket.close(code=POLICY_VIOLATION)
        return
    hub = hub_for(websocket.app)
    try:
        sub = await hub.subscribe(principal.tenant_id)
    except Exception as exc:
        log.warning("realtime: subscribe failed (%s)", type(exc).__name__)
        await _refuse_unavailable(websocket, unavailable_dependency(exc) or "redis")
        return
    try:
        await websocket.accept()
        await websocket.send_json({"type": "hello", "tenant_id": str(principal.tenant_id)})
        await _pump(websocket, sub)
    finally:
        await sub.close()


async def _pump(websocket: WebSocket, sub: Subscription) -> None:
    async def forward() -> None:
        while True:
            data = await sub.queue.get()
            if data is None:  # fell too far behind: the client reconnects and resyncs
                await websocket.close(code=TRY_AGAIN)
                return
            await websocket.send_text(data)

    async def drain_client() -> None:
        # Clients may send pings (text "ping"); anything else is ignored. Returns on disconnect.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                msg = await websocket.receive_text()
                if msg == "ping":
                    await websocket.send_json({"type": "pong"})

    tasks = [asyncio.create_task(forward()), asyncio.create_task(drain_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
