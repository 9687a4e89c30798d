"""A push on the wire holds no database transaction (docs/delivery.md: claim, commit, send, record).

Embedded SQLite has one writer: a hung APNs request used to keep the page's transaction — and with it the
process's write gate — open until it timed out, so every ping and API write waited ~10 s, and a worker
killed meanwhile left no trace of the attempt. Real parts: a migrated SQLite database, the local APNs over
HTTP/2 + TLS holding the request unanswered.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from xinex.models.identity import User
from xinex.models.notify import NotificationAttempt
from xinex.models.push import PushToken
from xinex.models.tenant import Tenant
from xinex.notify.send import NotificationMessage, send_to_user
from xinex.push import mount  # noqa: F401 - installs the APNs/FCM sender, as the app does

from tests.push.helpers import ios_token


async def test_a_hung_apns_request_blocks_no_write_and_its_claim_is_on_record(sqlite_db, providers, apns):
    db = sqlite_db
    tenant = Tenant(name="embedded", slug=f"embedded-{uuid.uuid4().hex[:8]}")
    user = User(email=f"oncall-{uuid.uuid4().hex[:8]}@example.com", name="On call")
    async with db.session(system="test: seed") as s:
        s.add_all([tenant, user])
    token = ios_token()
    async with db.session(tenant_id=tenant.id) as s:
        device = PushToken(user_id=user.id, token=token, platform="ios")
        s.add(device)
    message = NotificationMessage(tenant_id=tenant.id, event="incident.triggered", title="[CRITICAL] db down",
                                  body="", severity="critical", incident_id=uuid.uuid4(), url="",
                                  dedup_key=f"page-{uuid.uuid4()}")
    apns.script(token, "stall")

    async def page() -> None:
        async with db.session(tenant_id=tenant.id) as s:
            await send_to_user(s, user.id, message)

    paging = asyncio.create_task(page())
    try:
        assert await asyncio.to_thread(apns.stalled.wait, 30), "the push never reached APNs"
        # Another unit of work writes while APNs says nothing: it does not wait for the provider.
        async def other_write() -> None:
            async with db.session(system="test: another writer") as s:
                s.add(Tenant(name="other", slug=f"other-{uuid.uuid4().hex[:8]}"))

        await asyncio.wait_for(other_write(), 2)
        # The claim was committed before the send: a worker killed now leaves the row `sending`.
        async with db.session(tenant_id=tenant.id) as s:
            row = (await s.execute(select(NotificationAttempt).where(
                NotificationAttempt.target == f"push:{device.id}"))).scalar_one()
        assert row.status == "sending" and row.dedup_key == message.dedup_key
        assert not paging.done()
    finally:
        apns.release()
    await asyncio.wait_for(paging, 30)
    async with db.session(tenant_id=tenant.id) as s:
        done = (await s.execute(select(NotificationAttempt).where(NotificationAttempt.id == row.id))).scalar_one()
    assert done.status == "succeeded" and done.attempts == 1
    [request] = apns.delivered(token)
    assert request.headers["apns-id"] == str(row.id)  # the identity committed before the send


async def test_a_send_cut_short_is_taken_over_with_the_same_identity(sqlite_db, providers, apns, settings):
    """As after kill -9 mid-send: the committed `sending` row is taken over when its lease runs out, sent with
    the same delivery id (apns-id), and the lost try is counted (docs/mobile.md)."""
    from datetime import timedelta

    from xinex.notify.jobs import retry_due

    db = sqlite_db
    tenant = Tenant(name="embedded", slug=f"embedded-{uuid.uuid4().hex[:8]}")
    user = User(email=f"oncall-{uuid.uuid4().hex[:8]}@example.com", name="On call")
    async with db.session(system="test: seed") as s:
        s.add_all([tenant, user])
    token = ios_token()
    async with db.session(tenant_id=tenant.id) as s:
        device = PushToken(user_id=user.id, token=token, platform="ios")
        s.add(device)
    message = NotificationMessage(tenant_id=tenant.id, event="incident.triggered", title="[CRITICAL] db down",
                                  body="", severity="critical", incident_id=uuid.uuid4(), url="",
                                  dedup_key=f"page-{uuid.uuid4()}")
    apns.script(token, "stall")

    async def page() -> None:
        async with db.session(tenant_id=tenant.id) as s:
            await send_to_user(s, user.id, message)

    paging = asyncio.create_task(page())
    assert await asyncio.to_thread(apns.stalled.wait, 30), "the push never reached APNs"
    paging.cancel()  # the worker dies with the request on the wire
    try:
        await paging
    except asyncio.CancelledError:
        pass
    apns.release()
    async with db.session(tenant_id=tenant.id) as s:
        row = (await s.execute(select(NotificationAttempt).where(
            NotificationAttempt.target == f"push:{device.id}"))).scalar_one()
    assert row.status == "sending" and row.lease_until is not None
    await retry_due(db, now=row.lease_until + timedelta(seconds=1))
    async with db.session(tenant_id=tenant.id) as s:
        done = (await s.execute(select(NotificationAttempt).where(NotificationAttempt.id == row.id))).scalar_one()
    assert done.status == "succeeded" and done.attempts == 2  # the lost try counts
    # One identity on both tries: had APNs taken the first, the phone shows one notification (apns-id).
    assert [r.headers["apns-id"] for r in apns.requests] == [str(row.id)] * 2


async def test_on_postgresql_no_lock_is_held_while_apns_answers(db, providers, apns):
    """PostgreSQL: while a push is on the wire the page's unit of work holds no row lock (its feed item and the
    ledger claims are committed first; the provider call happens outside any writing transaction)."""
    from sqlalchemy import text

    tenant = Tenant(name="pg", slug=f"pg-{uuid.uuid4().hex[:8]}")
    user = User(email=f"oncall-{uuid.uuid4().hex[:8]}@example.com", name="On call")
    async with db.session(system="test: seed") as s:
        s.add_all([tenant, user])
    token = ios_token()
    async with db.session(tenant_id=tenant.id) as s:
        s.add(PushToken(user_id=user.id, token=token, platform="ios"))
    message = NotificationMessage(tenant_id=tenant.id, event="incident.triggered", title="[CRITICAL] db down",
                                  body="", severity="critical", incident_id=uuid.uuid4(), url="",
                                  dedup_key=f"page-{uuid.uuid4()}")
    apns.script(token, "stall")

    async def page() -> None:
        async with db.session(tenant_id=tenant.id) as s:
            await send_to_user(s, user.id, message)

    paging = asyncio.create_task(page())
    try:
        assert await asyncio.to_thread(apns.stalled.wait, 30), "the push never reached APNs"
        async with db.session(system="test: locks") as s:
            held = (await s.execute(text(
                "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid <> pg_backend_pid() AND l.mode = 'RowExclusiveLock' "
                "AND c.relname IN ('notification_feed_items', 'notification_attempts', 'push_tokens')"))).all()
        assert held == []
    finally:
        apns.release()
    await asyncio.wait_for(paging, 30)
