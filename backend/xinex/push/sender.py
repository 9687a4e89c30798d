"""The push sender notify calls (`notify.channels.push.PushSender`): a user's page fans out to each of
their devices, each delivered once through its own row of notify's delivery ledger (target
`push:<token id>`, keyed by the page's dedup key) — so a device that answered 429 or 5xx is retried
alone, with backoff, by notify's retrier; a device whose worker died mid-send is taken over when the
lease runs out; a device that got the page never gets it twice. A dead token (APNs 410 / 400
BadDeviceToken, FCM UNREGISTERED / INVALID_ARGUMENT) is deleted. Errors in the ledger (the notification
log) name the provider and its reason, never the device token.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.types import utcnow
from xinex.models.notify import NotificationAttempt
from xinex.models.push import PushToken
from xinex.notify import ledger
from xinex.notify.channels.push import DEVICE_TARGET_PREFIX, PushResult
from xinex.notify.ledger import Delivery, Outcome
from xinex.notify.message import NotificationMessage
from xinex.push import apns, fcm, payload, service
from xinex.push.providers import NotConfigured
from xinex.settings import get_settings

SEND_TIMEOUT_S = 10.0


def target(device_id: uuid.UUID) -> str:
    return f"{DEVICE_TARGET_PREFIX}{device_id}"


class ProviderPushSender:
    async def send(self, session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> PushResult:
        devices = await service.live_devices(session, user_id)
        if not devices:
            return PushResult("no_devices")
        states = await _fan_out(session, devices, message)
        if any(s.state == "delivered" for s in states):
            return PushResult("sent", devices=sum(s.state == "delivered" for s in states))
        waiting = [s for s in states if s.state == "in_progress"]
        errors = "; ".join(sorted({s.error for s in states if s.error}))[:1000] or None
        if waiting:
            return PushResult("in_progress", devices=len(devices), error=errors,
                              retry_at=min((s.retry_at for s in waiting if s.retry_at), default=None))
        return PushResult("failed", devices=len(devices), error=errors or "no device was reached")

    async def deliver_device(self, session: AsyncSession, attempt: NotificationAttempt,
                             message: NotificationMessage) -> Outcome:
        try:
            device_id = uuid.UUID(attempt.target.removeprefix(DEVICE_TARGET_PREFIX))
        except ValueError:
            return Outcome("failed", error="not a device target")
        device = await service.get_device(session, device_id)
        if device is None:
            return Outcome("skipped", error="the device was unregistered")
        return await deliver(session, device, attempt.id, message)


async def _fan_out(session: AsyncSession, devices: list[PushToken], message: NotificationMessage) -> list[Delivery]:
    if session.get_bind().dialect.name == "sqlite":  # one writer: the ledger uses the caller's transaction
        return [await _one(session, device, message) for device in devices]
    gate = asyncio.Semaphore(get_settings().push_concurrency)

    async def bounded(device: PushToken) -> Delivery:
        async with gate:
            return await _one(session, device, message)

    return list(await asyncio.gather(*(bounded(d) for d in devices)))


async def _one(session: AsyncSession, device: PushToken, message: NotificationMessage) -> Delivery:
    fields = {"event": message.event, "severity": message.severity, "incident_id": message.incident_id,
              "title": message.title[:500], "message": message.to_json(), "user_id": device.user_id,
              "kind": "push"}
    row = await ledger.claim(session, message.tenant_id, message.dedup_key, target(device.id), fields)
    if row is None:
        row = await ledger.current(session, message.tenant_id, message.dedup_key, target(device.id))
    else:
        outcome = await deliver(session, device, row.id, message)
        row = await ledger.finish(session, row, outcome)
    return Delivery.of(row, utcnow())


async def deliver(session: AsyncSession, device: PushToken, delivery_id: uuid.UUID,
                  message: NotificationMessage) -> Outcome:
    """One send to one device, as a ledger outcome."""
    settings = get_settings()
    timeout = ledger.send_timeout_s(SEND_TIMEOUT_S)
    try:
        if device.platform == "ios":
            provider = "APNs"
            built = payload.apns(message, device, delivery_id, settings)
            result = await apns.send(settings, device.token, device.apns_environment, built["payload"],
                                     priority=built["priority"], collapse_id=built["collapse_id"],
                                     expiration=built["expiration"], apns_id=str(delivery_id), timeout=timeout)
        else:
            provider = "FCM"
            result = await fcm.send(settings, payload.fcm(message, device, delivery_id, settings), timeout=timeout)
    except NotConfigured as exc:
        return Outcome("failed", error=str(exc))
    if result.delivered:
        return Outcome("succeeded", result.status, None, result.duration_ms)
    if result.unregistered:
        async with ledger.ledger_session(session, device.tenant_id) as own:
            await service.forget(own, device.id)
        return Outcome("failed", result.status, f"{result.describe(provider)}: the device token was removed",
                       result.duration_ms)
    return Outcome("failed", result.status, result.describe(provider), result.duration_ms,
                   retryable=result.retryable, retry_after_s=result.retry_after_s)
