"""The WebSocket feed over a real uvicorn server with the `websockets` client."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from xinex.realtime.bus import publish
from xinex.realtime.tickets import TICKET_TTL_S, store_for

from tests.conftest import assert_error
from tests.realtime.conftest import next_event, serve, ticket


async def refused(url: str, **kw) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, **kw):
            pass
    return info.value.response.status_code


async def test_ticket_is_single_use_and_streams_in_order(client, server, alice):
    t = await ticket(client, alice)
    url = f"ws://{server}/api/v1/ws?token={t}"
    async with connect(url) as ws:
        hello = json.loads(await ws.recv())
        assert hello == {"type": "hello", "tenant_id": alice.tenant_id}
        for i in range(20):
            await publish(alice.tenant_id, {"type": "incident.triggered", "seq": i})
        got = [await next_event(ws) for _ in range(20)]
        assert [e["seq"] for e in got] == list(range(20))
        assert all(e["tenant_id"] == alice.tenant_id and e["ts"].endswith("Z") for e in got)
        await ws.send("ping")
        assert json.loads(await ws.recv()) == {"type": "pong"}
    assert await refused(url) == 403  # the same ticket a second time


async def test_expired_and_unknown_tickets_are_refused(client, server, app, alice):
    t = await ticket(client, alice)
    store = store_for(app)
    real_clock = store.clock
    store.clock = lambda: real_clock() + TICKET_TTL_S + 1
    try:
        assert await refused(f"ws://{server}/api/v1/ws?token={t}") == 403
    finally:
        store.clock = real_clock
    assert await refused(f"ws://{server}/api/v1/ws?token=wst_forged") == 403
    assert await refused(f"ws://{server}/api/v1/ws") == 403
    assert await refused(f"ws://{server}/api/v1/ws?token=xinex_{'0' * 64}") == 403


async def test_ticket_endpoint_needs_a_credential(client):
    assert_error(await client.post("/api/v1/ws/ticket"), 401, "UNAUTHENTICATED")


async def test_tenants_never_see_each_others_events(client, server, alice, outsider):
    async with connect(f"ws://{server}/api/v1/ws?token={await ticket(client, alice)}") as a, \
            connect(f"ws://{server}/api/v1/ws?token={await ticket(client, outsider)}") as b:
        await publish(outsider.tenant_id, {"type": "monitor.down", "secret": "outsider-only"})
        await publish(alice.tenant_id, {"type": "monitor.down", "name": "alice"})
        ev = await next_event(a)
        assert ev["name"] == "alice" and ev["tenant_id"] == alice.tenant_id
        assert (await next_event(b))["secret"] == "outsider-only"
        with pytest.raises(TimeoutError):
            await next_event(a, timeout=0.5)  # nothing else: outsider's event never reached alice


async def test_api_token_and_jwt_are_accepted(client, server, app, settings, alice):
    import httpx

    from tests.auth.oauth_server.conftest import Mobile

    async with connect(f"ws://{server}/api/v1/ws?token={alice.token}") as ws:
        await publish(alice.tenant_id, {"type": "incident.resolved"})
        assert (await next_event(ws))["type"] == "incident.resolved"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.88.0.1", 4000)),
                                 base_url="http://testserver") as http:
        tokens = await Mobile(http, settings.mobile_client_id, settings.mobile_redirect_uris[0]).sign_in(alice)
    async with connect(f"ws://{server}/api/v1/ws?token={tokens['access_token']}") as ws:
        await publish(alice.tenant_id, {"type": "incident.acknowledged"})
        assert (await next_event(ws))["type"] == "incident.acknowledged"


async def test_cookie_handshake_checks_origin(server, settings, alice):
    cookie = "; ".join(f"{k}={v}" for k, v in alice.cookies.items())
    url = f"ws://{server}/api/v1/ws"
    assert await refused(url, additional_headers={"Cookie": cookie}, origin="https://evil.example") == 403
    assert await refused(url, additional_headers={"Cookie": cookie}) == 403  # no Origin at all
    async with connect(url, additional_headers={"Cookie": cookie}, origin=settings.public_url.rstrip("/")) as ws:
        await publish(alice.tenant_id, {"type": "monitor.up"})
        assert (await next_event(ws))["type"] == "monitor.up"


async def test_query_string_never_logged(client, app, alice):
    t = await ticket(client, alice)
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    async with serve(app, log_level="info") as server:
        # uvicorn configures its loggers (and drops their handlers) at startup: attach after.
        for name in ("uvicorn.error", "uvicorn.access", "xinex"):
            logging.getLogger(name).addHandler(handler)
        try:
            async with connect(f"ws://{server}/api/v1/ws?token={t}"):
                pass
            await refused(f"ws://{server}/api/v1/ws?token={t}")
            await asyncio.sleep(0.1)
        finally:
            for name in ("uvicorn.error", "uvicorn.access", "xinex"):
                logging.getLogger(name).removeHandler(handler)
    lines = [r.getMessage() for r in records]
    assert any('"WebSocket /api/v1/ws" [accepted]' in line for line in lines), lines
    assert any('"WebSocket /api/v1/ws" 403' in line for line in lines), lines
    text = "\n".join(lines)
    assert t not in text and t[4:] not in text and "token=" not in text


async def test_feed_items_are_published_to_the_tenant(client, server, db, alice):
    from xinex.notify.send import send_to_user

    from tests.notify.test_send import message

    async with connect(f"ws://{server}/api/v1/ws?token={await ticket(client, alice)}") as ws:
        msg = message(alice, title="page for alice")
        async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:
            await send_to_user(session, uuid.UUID(alice.user_id), msg)
        ev = await next_event(ws)
        assert ev["type"] == "notification.created" and ev["title"] == "page for alice"
        assert ev["user_id"] == alice.user_id


@pytest.mark.parametrize("token", ["a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x.y.z.w", "%00", "xinex_%00", "xinex_" + "g" * 64,
                                   "wst_%FF%FE", "..", "a" * 5000, "eyJ%00.eyJ.sig", "%F0%9F%92%A9.b.c"])
async def test_malformed_tokens_are_refused_at_the_handshake(server, token):
    # JWT-shaped garbage, NUL, invalid UTF-8, oversize: a 403 before accept, never a server error.
    assert await refused(f"ws://{server}/api/v1/ws?token={token}") == 403
