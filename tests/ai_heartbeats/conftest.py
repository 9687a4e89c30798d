"""AI heartbeat helpers: pro-tier accounts, events through the API, outbox rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from xinex.models.outbox import OutboxEvent

from tests.tiers.helpers import set_tier


@pytest.fixture
def pro(signup, db):
    async def _make():
        account = await signup()
        await set_tier(db, account.tenant_id, "pro")
        return account

    return _make


@pytest.fixture
def make_ai(client):
    async def _make(account, **body) -> dict:
        body.setdefault("name", f"agent {uuid.uuid4().hex[:6]}")
        r = await client.post("/api/v1/ai-heartbeats", json=body, headers=account.bearer)
        assert r.status_code == 201, r.text
        return r.json()

    return _make


@pytest.fixture
def send(client):
    async def _send(account, hb: dict, **event):
        return await client.post(f"/api/v1/ai-heartbeats/{hb['id']}/run", json=event, headers=account.bearer)

    return _send


async def events(db, hb: dict) -> list[str]:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        rows = await session.execute(select(OutboxEvent).where(OutboxEvent.source_id == uuid.UUID(hb["id"]))
                                     .order_by(OutboxEvent.created_at))
        return [e.event_type for e in rows.scalars().all()]
