"""Incident test helpers: emit real outbox events, let the engine consume them, read the rows.

Times are real `utcnow()` plus ten minutes: the app's own engine and escalation loops run on real
time alongside these tests and must never find these incidents' steps due before the test does.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from xinex.events.outbox import emit
from xinex.incidents.engine import process_pending
from xinex.kit.types import utcnow
from xinex.models.incidents import Alert, Incident, IncidentLog
from xinex.models.oncall import Page
from xinex.models.outbox import OutboxEvent


def start_time() -> datetime:
    return utcnow().replace(microsecond=0) + timedelta(minutes=10)


async def emit_event(db, tenant_id, event_type: str, at: datetime, *, source_id: uuid.UUID | None = None,
                     source_type: str | None = None, dedup_key: str | None = None, severity: str = "critical",
                     payload: dict | None = None) -> uuid.UUID:
    source_type = source_type or event_type.split(".")[0]
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        event = emit(s, event_type, source_type=source_type, source_id=source_id or uuid.uuid4(),
                     dedup_key=dedup_key, severity=severity, payload=payload or {"name": "checkout api"},
                     occurred_at=at)
    return event.id


async def settle(db, *event_ids: uuid.UUID, now: datetime | None = None, timeout: float = 15.0) -> None:
    """Consume the outbox until these events are processed (the app's own loop may take some)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        await process_pending(db, now=now)
        async with db.session(system="test") as s:
            left = (await s.execute(select(OutboxEvent.id).where(OutboxEvent.id.in_(event_ids),
                                                                 OutboxEvent.processed_at.is_(None)))).all()
        if not left:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("outbox events were not processed in time")


async def incidents(db, tenant_id, dedup_key: str | None = None) -> list[Incident]:
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        stmt = select(Incident)
        if dedup_key:
            stmt = stmt.where(Incident.dedup_key == dedup_key)
        return list((await s.execute(stmt.order_by(Incident.opened_at, Incident.created_at))).scalars().all())


async def incident(db, tenant_id, incident_id) -> Incident:
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        return (await s.execute(select(Incident).where(Incident.id == uuid.UUID(str(incident_id))))).scalar_one()


async def pages(db, tenant_id, incident_id, event: str | None = None) -> list[Page]:
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        stmt = select(Page).where(Page.incident_id == uuid.UUID(str(incident_id)))
        if event:
            stmt = stmt.where(Page.event == event)
        return list((await s.execute(stmt.order_by(Page.cycle, Page.step_index, Page.created_at))).scalars().all())


async def alerts(db, tenant_id, incident_id=None) -> list[Alert]:
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        stmt = select(Alert)
        if incident_id:
            stmt = stmt.where(Alert.incident_id == uuid.UUID(str(incident_id)))
        return list((await s.execute(stmt.order_by(Alert.occurred_at))).scalars().all())


async def timeline_kinds(db, tenant_id, incident_id) -> list[str]:
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        rows = await s.execute(select(IncidentLog.kind).where(IncidentLog.incident_id == uuid.UUID(str(incident_id)))
                               .order_by(IncidentLog.at, IncidentLog.created_at))
        return list(rows.scalars().all())


async def make_policy(client, account, steps: list[dict], **extra) -> dict:
    r = await client.post("/api/v1/escalation-policies", json={"name": f"policy {uuid.uuid4().hex[:6]}",
                                                               "steps": steps, **extra}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def make_channels(client, account, n: int) -> list[uuid.UUID]:
    """Real (disabled) channels of `account`: rules and policies refuse ids that name no channel."""
    out = []
    for _ in range(n):
        r = await client.post("/api/v1/notification-channels", headers=account.bearer, json={
            "name": f"channel {uuid.uuid4().hex[:6]}", "kind": "webhook", "enabled": False,
            "config": {"url": "http://127.0.0.1:9/unused"}})
        assert r.status_code == 201, r.text
        out.append(uuid.UUID(r.json()["id"]))
    return out


async def the_default_route(client, account) -> dict:
    rules = (await client.get("/api/v1/alert-routing-rules", headers=account.bearer)).json()["items"]
    [route] = [r for r in rules if r["is_default"]]
    return route


async def make_rule(client, account, **body) -> dict:
    body.setdefault("name", f"rule {uuid.uuid4().hex[:6]}")
    r = await client.post("/api/v1/alert-routing-rules", json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


def user(account) -> dict:
    return {"type": "user", "id": account.user_id}


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every POST body (a webhook peer)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
