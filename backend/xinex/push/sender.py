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
from xinex.notify.channels.push import DEVICE_KEY, DEVICE_TARGET_PREFIX, TOKEN_END_CHARS, PushResult
from xinex.notify.ledger import Delivery, Outcome
from xinex.notify.message import NotificationMessage
from xinex.push import apns, fcm, payload, service
from xinex.push.providers import NotConfigured
from xinex.settings import get_settings

SEND_TIMEOUT_S = 10.0
_DEVICES_LOCK = "push.devices_lock"


def target(device_id: uuid.UUID) -> str:
    return f"{DEVICE_TARGET_PREFIX}{device_id}"


def device_ref(device: PushToken) -> dict[str, str | None]:
    """Which phone a ledger row is for, as the notification log shows it (kept when the token is removed):
    never the token, only its last characters."""
    return {"id": str(device.id), "platform": device.platform, "name": device.device_name,
            "token_end": device.token[-TOKEN_END_CHARS:]}


class ProviderPushSender:
    async def send(self, session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> PushResult:
        # notify fans out to several users at once on PostgreSQL; their device look-ups share the caller's
        # session, which runs one statement at a time. The look-up drops signed-out devices: that write is
        # committed at once (ledger_session), so no row lock is held while the providers answer.
        lock = session.info.setdefault(_DEVICES_LOCK, asyncio.Lock())
        async with lock, ledger.ledger_session(session, message.tenant_id) as own:
            devices = await service.live_devices(own, user_id)
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
    """Claim every device's ledger row in one committed transaction, send to the claimed ones (side by side,
    bounded per process, no transaction open), record their outcomes in one transaction. A worker that dies in
    between leaves the rows `sending`: their leases run out and the retrier sends them (docs/delivery.md)."""
    tenant_id = message.tenant_id
    by_target = {target(d.id): d for d in devices}
    stored = message.to_json()
    fields = {t: {"event": message.event, "severity": message.severity, "incident_id": message.incident_id,
                  "title": message.title[:500], "message": {**stored, DEVICE_KEY: device_ref(d)}, "user_id": d.user_id,
                  "kind": "push", "channel_id": None}
              for t, d in by_target.items()}
    # Committed before any send (see ledger_session): a worker killed mid-send leaves these rows `sending`,
    # and whoever takes them over sends with the same delivery id (apns-id) and counts the lost attempt.
    held = await ledger.claim_many(session, tenant_id, message.dedup_key, fields)
    gate = _gate()

    async def bounded(t: str, row: NotificationAttempt) -> tuple[Outcome, bool]:
        async with gate:
            return await _send(by_target[t], row.id, message)

    # No transaction is open here, on either database: the devices go out side by side.
    sent = list(await asyncio.gather(*(bounded(t, row) for t, row in held.items())))
    dead = [by_target[t].id for (t, _), (_, gone) in zip(held.items(), sent, strict=True) if gone]
    if dead:
        async with ledger.ledger_session(session, tenant_id) as own:
            for device_id in dead:
                await service.forget(own, device_id)
    outcomes = [outcome for outcome, _ in sent]
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
    """One send to one device, as a ledger outcome; a dead token is forgotten."""
    outcome, dead = await _send(device, delivery_id, message)
    if dead:
        async with ledger.ledger_session(session, device.tenant_id) as own:
            await service.forget(own, device.id)
    return outcome


async def _send(device: PushToken, delivery_id: uuid.UUID, message: NotificationMessage) -> tuple[Outcome, bool]:
    """The provider call alone (it touches no database): its outcome, and whether the token is dead."""
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
        return Outcome("failed", error=str(exc)), False
    if result.delivered:
        return Outcome("succeeded", result.status, None, result.duration_ms), False
    if result.unregistered:
        return Outcome("failed", result.status, f"{result.describe(provider)}: the device token was removed",
                       result.duration_ms), True
    return Outcome("failed", result.status, result.describe(provider), result.duration_ms,
                   retryable=result.retryable, retry_after_s=result.retry_after_s), False
