"""send_to_channel / send_to_user: idempotency per dedup key, retries with a controlled clock,
preferences and quiet hours."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from xinex.kit.types import utcnow
from xinex.models.notify import FeedItem, NotificationAttempt
from xinex.notify import ledger, prefs
from xinex.notify.jobs import retry_due
from xinex.notify.send import NotificationMessage, send_to_channel, send_to_user

from tests.notify.test_channels_api import make


def message(account, **kw) -> NotificationMessage:
    fields = dict(tenant_id=uuid.UUID(account.tenant_id), event="incident.triggered", title="API down",
                  body="GET /health failed 3 times", severity="critical", incident_id=uuid.uuid4(),
                  url="http://127.0.0.1:8000/incidents/1", dedup_key=str(uuid.uuid4()))
    fields.update(kw)
    return NotificationMessage(**fields)


async def send(db, account, channel_id, msg):
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as session:
        return await send_to_channel(session, uuid.UUID(channel_id), msg)


async def attempt_row(db, account, attempt_id) -> NotificationAttempt:
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as session:
        return await session.get(NotificationAttempt, attempt_id)


async def test_same_dedup_key_sends_once(client, db, alice, receiver):
    ch = await make(client, alice, "slack", {"webhook_url": receiver.url()})
    msg = message(alice)
    first = await send(db, alice, ch["id"], msg)
    second = await send(db, alice, ch["id"], msg)
    assert first.status == "succeeded" and second is None
    assert len(receiver.requests) == 1
    # Another page (another dedup key) for the same incident does go out.
    await send(db, alice, ch["id"], message(alice, incident_id=msg.incident_id))
    assert len(receiver.requests) == 2


async def test_a_run_holding_the_lease_blocks_a_concurrent_rerun(client, db, alice, receiver):
    ch = await make(client, alice, "discord", {"webhook_url": receiver.url()})
    msg = message(alice)
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:
        held = await ledger.claim(session, msg.tenant_id, msg.dedup_key, f"channel:{ch['id']}",
                                  {"kind": "discord", "event": msg.event, "message": msg.to_json()})
    assert held is not None
    assert await send(db, alice, ch["id"], msg) is None  # the first run is still sending
    assert receiver.requests == []
    # A crashed run's lease expires: the re-run takes over and sends exactly once.
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:
        row = await ledger.claim(session, msg.tenant_id, msg.dedup_key, f"channel:{ch['id']}", {},
                                 now=utcnow() + timedelta(seconds=ledger.lease_s() + 1))
    assert row is not None and row.id == held.id


async def test_a_sending_row_whose_holder_died_is_taken_over_by_the_retrier(client, db, alice, receiver):
    """A run claimed the attempt and died mid-send: the row stays "sending". The retrier leaves it
    alone while the lease holds and sends it once the lease has run out (counting the lost try)."""
    ch = await make(client, alice, "webhook", {"url": receiver.url()})
    msg = message(alice)
    async with db.session(tenant_id=msg.tenant_id) as session:
        held = await ledger.claim(session, msg.tenant_id, msg.dedup_key, f"channel:{ch['id']}",
                                  {"kind": "webhook", "channel_id": uuid.UUID(ch["id"]), "event": msg.event,
                                   "message": msg.to_json()})
    assert held.status == "sending" and held.attempts == 0
    await retry_due(db, now=held.lease_until - timedelta(seconds=1))
    assert (await attempt_row(db, alice, held.id)).status == "sending" and receiver.requests == []
    await retry_due(db, now=held.lease_until + timedelta(seconds=1))
    row = await attempt_row(db, alice, held.id)
    assert row.status == "succeeded" and row.attempts == 2 and row.lease_until is None
    assert len(receiver.requests) == 1 and receiver.requests[0].json()["message_id"] == msg.dedup_key
    await retry_due(db, now=held.lease_until + timedelta(minutes=10))
    assert len(receiver.requests) == 1  # succeeded is final


async def test_a_message_whose_senders_keep_dying_is_given_up(client, db, alice, receiver):
    ch = await make(client, alice, "webhook", {"url": receiver.url()})
    msg = message(alice)
    async with db.session(tenant_id=msg.tenant_id) as session:
        held = await ledger.claim(session, msg.tenant_id, msg.dedup_key, f"channel:{ch['id']}",
                                  {"kind": "webhook", "channel_id": uuid.UUID(ch["id"]), "event": msg.event,
                                   "message": msg.to_json()})
        await session.execute(update(NotificationAttempt).where(NotificationAttempt.id == held.id)
                              .values(attempts=ledger.MAX_ATTEMPTS - 1))
    await retry_due(db, now=held.lease_until + timedelta(seconds=1))
    row = await attempt_row(db, alice, held.id)
    assert row.status == "failed" and row.attempts == ledger.MAX_ATTEMPTS and "worker was lost" in row.error
    assert receiver.requests == []


async def test_5xx_is_retried_with_backoff_until_success(client, db, alice, receiver):
    ch = await make(client, alice, "teams", {"webhook_url": receiver.url()})
    receiver.respond((503, {}, b"busy"), (500, {}, b"oops"))
    row = await send(db, alice, ch["id"], message(alice))
    assert row.status == "retrying" and row.attempts == 1 and row.response_code == 503
    t1 = row.next_attempt_at
    assert timedelta(seconds=9) < t1 - row.last_attempt_at <= timedelta(seconds=ledger.RETRY_DELAYS_S[0])
    assert await retry_due(db, now=t1 - timedelta(seconds=1)) == 0  # not due yet
    assert len(receiver.requests) == 1
    assert await retry_due(db, now=t1) >= 1
    row = await attempt_row(db, alice, row.id)
    assert row.status == "retrying" and row.attempts == 2
    assert row.next_attempt_at - t1 == timedelta(seconds=ledger.RETRY_DELAYS_S[1])
    await retry_due(db, now=row.next_attempt_at)
    row = await attempt_row(db, alice, row.id)
    assert row.status == "succeeded" and row.attempts == 3 and len(receiver.requests) == 3
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the same message every time


async def test_429_honours_retry_after(client, db, alice, receiver):
    ch = await make(client, alice, "slack", {"webhook_url": receiver.url()})
    receiver.respond((429, {"Retry-After": "120"}, b"slow down"))
    row = await send(db, alice, ch["id"], message(alice))
    assert row.status == "retrying" and row.response_code == 429
    assert row.next_attempt_at - row.last_attempt_at == timedelta(seconds=120)


async def test_timeouts_retry_and_4xx_does_not(client, db, alice, receiver):
    ch = await make(client, alice, "slack", {"webhook_url": receiver.url()})
    receiver.respond("drop")
    row = await send(db, alice, ch["id"], message(alice))
    assert row.status == "retrying" and row.response_code is None and row.error
    receiver.respond((404, {}, b"no such hook"))
    row2 = await send(db, alice, ch["id"], message(alice))
    assert row2.status == "failed" and row2.next_attempt_at is None and row2.response_code == 404


async def test_gives_up_after_max_attempts(client, db, alice, receiver):
    ch = await make(client, alice, "discord", {"webhook_url": receiver.url()})
    receiver.default = (500, {}, b"down")
    row = await send(db, alice, ch["id"], message(alice))
    for _ in range(ledger.MAX_ATTEMPTS - 1):
        await retry_due(db, now=row.next_attempt_at)
        row = await attempt_row(db, alice, row.id)
    assert row.status == "failed" and row.attempts == ledger.MAX_ATTEMPTS and row.next_attempt_at is None
    assert len(receiver.requests) == ledger.MAX_ATTEMPTS


async def test_send_to_user_follows_prefs_and_is_idempotent(client, db, alice, smtp_server):
    r = await client.put("/api/v1/users/me/notification-prefs", headers=alice.bearer,
                         json={"rules": {"warning": ["email", "feed"], "critical": ["email", "push", "feed"]}})
    assert r.status_code == 200, r.text
    msg = message(alice)
    for _ in range(2):
        async with db.session(tenant_id=msg.tenant_id) as session:
            await send_to_user(session, uuid.UUID(alice.user_id), msg)
    assert len([m for m in smtp_server.to(alice.email) if "API down" in m["Subject"]]) == 1
    async with db.session(tenant_id=msg.tenant_id) as session:
        rows = (await session.execute(select(NotificationAttempt).where(
            NotificationAttempt.dedup_key == msg.dedup_key))).scalars().all()
        feed = (await session.execute(select(FeedItem).where(FeedItem.dedup_key == msg.dedup_key))).scalars().all()
    assert sorted((r.kind, r.status) for r in rows) == [("email", "succeeded"), ("push", "no_devices")]  # alice has no phone registered
    assert len(feed) == 1


async def test_quiet_hours_hold_back_non_critical_only(client, db, alice, smtp_server):
    now = datetime.now(UTC)
    start = (now - timedelta(hours=1)).astimezone(prefs.ZoneInfo("America/New_York")).strftime("%H:%M")
    end = (now + timedelta(hours=1)).astimezone(prefs.ZoneInfo("America/New_York")).strftime("%H:%M")
    r = await client.put("/api/v1/users/me/notification-prefs", headers=alice.bearer, json={
        "rules": {"warning": ["email"]},
        "quiet_hours": {"start": start, "end": end, "timezone": "America/New_York"}})
    assert r.status_code == 200, r.text
    warning, critical = message(alice, severity="warning", title="disk 85%"), message(alice, title="db down")
    async with db.session(tenant_id=warning.tenant_id) as session:
        await send_to_user(session, uuid.UUID(alice.user_id), warning)
        await send_to_user(session, uuid.UUID(alice.user_id), critical)
    subjects = [m["Subject"] for m in smtp_server.to(alice.email)]
    assert any("db down" in s for s in subjects) and not any("disk 85%" in s for s in subjects)
    async with db.session(tenant_id=warning.tenant_id) as session:
        held = (await session.execute(select(NotificationAttempt).where(
            NotificationAttempt.dedup_key == warning.dedup_key))).scalar_one()
        in_feed = (await session.execute(select(FeedItem).where(FeedItem.dedup_key == warning.dedup_key))).scalar_one()
    assert held.status == "suppressed" and in_feed.title == "disk 85%"


def test_quiet_hours_window_crosses_midnight_in_the_users_zone():
    quiet = {"enabled": True, "start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}
    # 21:30 UTC = 23:30 in Berlin (winter): quiet; 07:30 Berlin: not quiet.
    assert prefs.in_quiet_hours(quiet, datetime(2026, 1, 10, 22, 30, tzinfo=UTC))
    assert not prefs.in_quiet_hours(quiet, datetime(2026, 1, 10, 6, 30, tzinfo=UTC))
    assert prefs.in_quiet_hours(quiet, datetime(2026, 7, 10, 4, 30, tzinfo=UTC))  # 06:30 CEST
    assert not prefs.in_quiet_hours({**quiet, "enabled": False}, datetime(2026, 1, 10, 22, 30, tzinfo=UTC))


async def test_private_targets_are_refused_unless_allowed(settings):
    """Notifications go through kit.outbound: with the guard on, private targets never get a request."""
    from xinex.kit.transport import post_bytes

    guarded = settings.outbound_allow_private
    settings.outbound_allow_private = False
    try:
        for url in ("http://127.0.0.1:9/x", "http://10.0.0.5/x", "http://169.254.169.254/latest", "http://[::1]/x",
                    "http://localhost/x", "http://0177.0.0.1/x", "http://[::ffff:127.0.0.1]/x"):
            result = await post_bytes(url, b"{}", {})
            assert result.status is None and result.retryable is False and "refused" in result.error, url
    finally:
        settings.outbound_allow_private = guarded
    result = await post_bytes("gopher://127.0.0.1/x", b"{}", {})
    assert result.status is None and result.retryable is False and "refused" in result.error
