"""The embedded engine (SQLite, one writer): the ledger lives in the caller's transaction there,
and a second send with the same dedup key still sends nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from xinex.kit.db import Database
from xinex.migrate import upgrade
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.models.tenant import Tenant
from xinex.notify.jobs import retry_due
from xinex.notify.send import NotificationMessage, send_to_channel


async def test_idempotent_send_and_retry_on_sqlite(tmp_path, receiver):
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    db = Database(url)
    try:
        tenant_id = uuid.uuid4()
        async with db.session(system="test.setup") as session:
            session.add(Tenant(id=tenant_id, name="t", slug=f"t-{tenant_id.hex[:8]}"))
            await session.flush()
            channel = NotificationChannel(tenant_id=tenant_id, name="s", kind="slack",
                                          config={"webhook_url": receiver.url()})
            session.add(channel)
        msg = NotificationMessage(tenant_id=tenant_id, event="incident.triggered", title="down", body="",
                                  severity="critical", incident_id=uuid.uuid4(), url="", dedup_key="page-1")
        receiver.respond((502, {}, b"bad gateway"))
        for _ in range(2):
            async with db.session(tenant_id=tenant_id) as session:
                await send_to_channel(session, channel.id, msg)
        assert len(receiver.requests) == 1
        async with db.session(tenant_id=tenant_id) as session:
            row = (await session.execute(select(NotificationAttempt))).scalar_one()
        assert row.status == "retrying"
        assert await retry_due(db, now=row.next_attempt_at) == 1
        async with db.session(tenant_id=tenant_id) as session:
            row = (await session.execute(select(NotificationAttempt))).scalar_one()
        assert row.status == "succeeded" and row.attempts == 2 and len(receiver.requests) == 2
    finally:
        await db.dispose()
