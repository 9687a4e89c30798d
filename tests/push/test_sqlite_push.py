"""The embedded default (SQLite, one writer, the ledger in the caller's transaction): a user's phones get a
page once each, a 429 is retried alone by the retrier, a dead token is removed."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.notify import NotificationAttempt
from xinex.models.push import PushToken
from xinex.models.tenant import Tenant
from xinex.notify.jobs import retry_due
from xinex.notify.send import NotificationMessage, send_to_user

from tests.push.helpers import android_token, ios_token


async def test_push_on_sqlite_once_per_device_with_retries(sqlite_db, apns, fcm):
    import xinex.push.mount  # noqa: F401 - installs the APNs/FCM sender, as the app does

    db = sqlite_db
    tenant_id, user = uuid.uuid4(), User(email=f"sqlite-{uuid.uuid4().hex[:6]}@example.com")
    ios, android, dead = ios_token(), android_token(), ios_token()
    async with db.session(system="test: seed") as s:
        s.add_all([Tenant(id=tenant_id, name="t", slug=f"t-{tenant_id.hex[:8]}"), user])
    async with db.session(tenant_id=tenant_id) as s:
        s.add_all([PushToken(user_id=user.id, token=ios, platform="ios"),
                   PushToken(user_id=user.id, token=android, platform="android"),
                   PushToken(user_id=user.id, token=dead, platform="ios")])
    apns.script(ios, "429")
    apns.script(dead, "unregistered")
    msg = NotificationMessage(tenant_id=tenant_id, event="incident.triggered", title="down", body="",
                              severity="critical", incident_id=uuid.uuid4(), url="", dedup_key="page-1")
    for _ in range(2):
        async with db.session(tenant_id=tenant_id) as s:
            await send_to_user(s, user.id, msg)
    assert len(fcm.delivered(android)) == 1 and apns.delivered(ios) == []
    async with db.session(tenant_id=tenant_id) as s:
        assert {t.token for t in (await s.execute(select(PushToken))).scalars()} == {ios, android}
    await retry_due(db, now=utcnow() + timedelta(minutes=20))
    await retry_due(db, now=utcnow() + timedelta(minutes=40))
    assert len(apns.delivered(ios)) == 1 and len(fcm.delivered(android)) == 1
    async with db.session(tenant_id=tenant_id) as s:
        rows = (await s.execute(select(NotificationAttempt).where(
            NotificationAttempt.target.like("push:%")))).scalars().all()
    assert sorted(r.status for r in rows) == ["failed", "succeeded", "succeeded"]
