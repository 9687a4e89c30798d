"""Heartbeat test helpers: create through the API, ping through the engine with a chosen clock.

Times are real `utcnow()` plus offsets, never in the past: the app's in-process sweeper runs on
real time alongside these tests and must never see their deadlines as due.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from xinex.heartbeats import service
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatRun
from xinex.models.outbox import OutboxEvent


@pytest.fixture
def t0() -> datetime:
    return utcnow().replace(microsecond=0) + timedelta(seconds=5)


@pytest.fixture
def make_hb(client, alice):
    async def _make(account=None, **body) -> dict:
        account = account or alice
        body.setdefault("name", f"job {uuid.uuid4().hex[:8]}")
        r = await client.post("/api/v1/heartbeats", json=body, headers=account.bearer)
        assert r.status_code == 201, r.text
        return r.json()

    return _make


async def ping(db, hb: dict, kind: str, now: datetime, **kw) -> service.PingResult:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        return await service.record_ping(session, uuid.UUID(hb["id"]), service.PingInput(kind=kind, **kw), now=now)


async def load(db, hb: dict) -> Heartbeat:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        return (await session.execute(select(Heartbeat).where(Heartbeat.id == uuid.UUID(hb["id"])))).scalar_one()


async def runs(db, hb: dict) -> list[HeartbeatRun]:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        rows = await session.execute(select(HeartbeatRun).where(HeartbeatRun.heartbeat_id == uuid.UUID(hb["id"]))
                                     .order_by(HeartbeatRun.started_at))
        return list(rows.scalars().all())


async def events(db, hb: dict) -> list[str]:
    async with db.session(tenant_id=uuid.UUID(hb["tenant_id"])) as session:
        rows = await session.execute(select(OutboxEvent).where(OutboxEvent.source_id == uuid.UUID(hb["id"]))
                                     .order_by(OutboxEvent.occurred_at, OutboxEvent.created_at))
        return [e.event_type for e in rows.scalars().all()]


async def drain_exports(db, hb: dict, timeout: float = 10.0) -> None:
    """Copy this heartbeat's pings to the time-series store; the app's own exporter may hold some
    of them (SKIP LOCKED) mid-batch, so wait until every one is marked exported."""
    import asyncio

    from sqlalchemy import func
    from xinex.heartbeats.jobs import export_pings
    from xinex.models.heartbeats import HeartbeatPing

    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        await export_pings(db)
        async with db.session(system="test") as session:
            left = (await session.execute(select(func.count()).select_from(HeartbeatPing).where(
                HeartbeatPing.heartbeat_id == uuid.UUID(hb["id"]), HeartbeatPing.exported.is_(False)))).scalar_one()
        if not left:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("pings were not exported in time")
