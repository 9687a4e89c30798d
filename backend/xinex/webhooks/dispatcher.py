"""Webhook deliveries: created in the caller's transaction (outbox), sent after commit (the job and
the retry loop are in webhooks/jobs.py), retried with exponential backoff over about a day, then failed. The delivery id is the `webhook-id` of
every attempt, so receivers can de-duplicate. A 410 Gone disables the subscription.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit import transport
from xinex.kit.db import Database
from xinex.kit.jobs import enqueue
from xinex.kit.types import to_rfc3339, utcnow
from xinex.models.webhooks import WebhookDelivery, WebhookSubscription
from xinex.webhooks import signing

log = logging.getLogger("xinex.webhooks")

# Delay before attempt n+1 after attempt n failed: ~1.3 days in total, then "failed".
RETRY_SCHEDULE_S = (5, 300, 1800, 7200, 18000, 36000, 50400)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_S) + 1
LEASE_S = 60
SCOPE = "webhooks.dispatcher"
# The delivery job's queue name (registered by webhooks/jobs.py; kept from when it was decorated here).
DELIVER_WEBHOOK = "xinex.webhooks.dispatcher.deliver_webhook"


def _matches(sub: WebhookSubscription, event_type: str) -> bool:
    types = sub.event_types or []
    return "*" in types or event_type in types


def build_payload(delivery_id: uuid.UUID, event_type: str, data: dict, now: datetime) -> dict:
    return {"event": event_type, "delivery_id": str(delivery_id), "timestamp": to_rfc3339(now), "data": data}


async def emit_webhook_event(session: AsyncSession, tenant_id: uuid.UUID, event_type: str,
                             data: dict) -> list[WebhookDelivery]:
    """Create one delivery per matching enabled subscription in the caller's transaction; each is
    sent by a job that starts only after that transaction commits."""
    now = utcnow()
    subs = (await session.execute(select(WebhookSubscription).where(
        WebhookSubscription.tenant_id == tenant_id, WebhookSubscription.enabled.is_(True)))).scalars().all()
    deliveries = []
    for sub in subs:
        if not _matches(sub, event_type):
            continue
        delivery_id = uuid.uuid4()
        delivery = WebhookDelivery(id=delivery_id, tenant_id=tenant_id, webhook_id=sub.id, event_type=event_type,
                                   payload=build_payload(delivery_id, event_type, data, now), next_attempt_at=now)
        session.add(delivery)
        deliveries.append(delivery)
    if deliveries:
        await session.flush()
        for delivery in deliveries:
            enqueue(session, DELIVER_WEBHOOK, delivery_id=str(delivery.id), tenant_id=str(tenant_id))
    return deliveries


async def _take(session: AsyncSession, delivery_id: uuid.UUID, now: datetime) -> bool:
    """Compare-and-set to "sending": one sender per attempt, however many jobs and loops race."""
    result = await session.execute(
        update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id,
            or_(and_(WebhookDelivery.status.in_(("pending", "retrying")), WebhookDelivery.next_attempt_at <= now),
                and_(WebhookDelivery.status == "sending", WebhookDelivery.lease_until < now)),
        ).values(status="sending", lease_until=now + timedelta(seconds=LEASE_S))
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def attempt(db: Database, delivery_id: uuid.UUID, tenant_id: uuid.UUID,
                  now: datetime | None = None) -> WebhookDelivery | None:
    """One attempt of one delivery if it is due; returns the row after the attempt."""
    now = now or utcnow()
    async with db.session(tenant_id=tenant_id) as session:
        if not await _take(session, delivery_id, now):
            return None
    async with db.session(tenant_id=tenant_id) as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        sub = await session.get(WebhookSubscription, delivery.webhook_id)
        if sub is None or (not sub.enabled and not delivery.is_test):
            delivery.status, delivery.error, delivery.lease_until = "failed", "webhook disabled", None
            return delivery
        result = await send(sub, delivery, now)
        record_result(delivery, result, now)
        if result.status == 410 and not delivery.is_test:
            sub.enabled = False
            sub.disabled_reason = "the receiver answered 410 Gone"
            log.info("webhook disabled after 410", extra={"webhook_id": str(sub.id)})
        await session.flush()
        return delivery


async def send(sub: WebhookSubscription, delivery: WebhookDelivery, now: datetime) -> transport.HttpResult:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = signing.headers(signing.signing_secrets(sub, now), str(delivery.id), int(now.timestamp()), body)
    headers.update({"content-type": "application/json", "user-agent": "Xinex-Webhooks/1"})
    return await transport.post_bytes(sub.url, body, headers)


def record_result(delivery: WebhookDelivery, result: transport.HttpResult, now: datetime) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.lease_until = None
    delivery.response_code = result.status
    delivery.response_excerpt = result.excerpt[:transport.EXCERPT_BYTES] if result.status is not None else None
    delivery.duration_ms = result.duration_ms
    delivery.error = result.error
    delivery.next_attempt_at = None
    if result.ok:
        delivery.status, delivery.delivered_at = "succeeded", now
        return
    if result.retryable and delivery.attempts < MAX_ATTEMPTS:
        delay = RETRY_SCHEDULE_S[delivery.attempts - 1]
        if result.status == 429:
            delay = max(delay, min(transport.retry_after_s(result.headers) or 0, 86400))
        delivery.status, delivery.next_attempt_at = "retrying", now + timedelta(seconds=delay)
        return
    delivery.status = "failed"


async def dispatch_due(db: Database, now: datetime | None = None, limit: int = 200) -> int:
    """Attempt every delivery that is due (retries, and pending rows whose job was lost)."""
    now = now or utcnow()
    async with db.session(system=SCOPE) as session:
        rows = (await session.execute(select(WebhookDelivery.id, WebhookDelivery.tenant_id).where(
            or_(and_(WebhookDelivery.status.in_(("pending", "retrying")), WebhookDelivery.next_attempt_at <= now),
                and_(WebhookDelivery.status == "sending", WebhookDelivery.lease_until < now)),
        ).order_by(WebhookDelivery.next_attempt_at).limit(limit))).all()
    done = 0
    for delivery_id, tenant_id in rows:
        try:
            if await attempt(db, delivery_id, tenant_id, now) is not None:
                done += 1
        except Exception:
            log.exception("webhook delivery attempt failed", extra={"delivery_id": str(delivery_id)})
    return done

