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
_DEVICES_LOCK = "push.devices_lock"


def target(device_id: uuid.UUID) -> str:
    return f"{DEVICE_TARGET_PREFIX}{device_id}"


class ProviderPushSender:
    async def send(self, session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> PushResult:
        # notify fans out to several users at once on PostgreSQL; their device look-ups share the caller's
        # session, which runs one statement at a time.
        lock = session.info.setdefault(_DEVICES_LOCK, asyncio.Lock())
        async with lock:
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
    """Claim every device's ledger row in one transaction, send to the claimed ones (side by side on
    PostgreSQL, bounded per process), record their outcomes in one transaction. A worker that dies in
    between leaves the rows `sending`: their leases run out and the retrier sends them (docs/delivery.md)."""
    tenant_id = message.tenant_id
    by_target = {target(d.id): d for d in devices}
    stored = message.to_json()
    fields = {t: {"event": message.event, "severity": message.severity, "incident_id": message.incident_id,
                  "title": message.title[:500], "message": stored, "user_id": d.user_id, "kind": "push",
                  "channel_id": None}
              for t, d in by_target.items()}
    held = await ledger.claim_many(session, tenant_id, message.dedup_key, fields)
    if session.get_bind().dialect.name == "sqlite":  # one writer: the ledger uses the caller's transaction
        outcomes = [await deliver(session, by_target[t], row.id, message) for t, row in held.items()]
    else:
        gate = _gate()

        async def bounded(t: str, row: NotificationAttempt) -> Outcome:
            async with gate:
                return await deliver(session, by_target[t], row.id, message)

        outcomes = list(await asyncio.gather(*(bounded(t, row) for t, row in held.items())))
    await ledger.finish_many(session, tenant_id, list(zip(held.values(), outcomes, strict=True)))
    others = await ledger.current_many(session, tenant_id, message.dedup_key,
                                       [t for t in by_target if t not in held])
    now = utcnow()
    return [Delivery.of(held.get(t) or others.get(t), now) for t in by_target]


_gates: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]] = {}


def _gate() -> asyncio.Semaphore:
    """One bound per process (event loop) on devices being sent to at once, across concurrent fan-outs."""
    loop = asyncio.get_running_loop()
    found = _gates.get(id(loop))
    if found is None or found[0] is not loop:
        found = (loop, asyncio.Semaphore(get_settings().push_concurrency))
        _gates[id(loop)] = found
    return found[1]


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
