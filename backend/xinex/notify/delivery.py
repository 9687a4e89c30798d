"""One delivery attempt to one channel or one user medium, turned into an `Outcome`."""

from __future__ import annotations

import asyncio
import json
import smtplib
import time
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit import transport
from xinex.kit.mail import _send_blocking
from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.notify import NotificationChannel
from xinex.notify import ledger
from xinex.notify.channels import KINDS
from xinex.notify.channels import email as email_kind
from xinex.notify.channels import webhook as webhook_kind
from xinex.notify.channels.push import get_push_sender
from xinex.notify.ledger import Outcome
from xinex.notify.message import NotificationMessage
from xinex.settings import get_settings


async def to_channel(session: AsyncSession, channel: NotificationChannel, message: NotificationMessage,
                     attempt_id: uuid.UUID | None = None) -> Outcome:
    module = KINDS[channel.kind]
    if module.TRANSPORT == "http":
        return await _http(channel, message, attempt_id)
    if module.TRANSPORT == "smtp":
        return await send_mail(channel.config.get("addresses", []), message)
    return await _push_users(session, [uuid.UUID(u) for u in channel.config.get("user_ids", [])], message)


async def _http(channel: NotificationChannel, message: NotificationMessage, attempt_id: uuid.UUID | None) -> Outcome:
    url, payload, headers = KINDS[channel.kind].render(channel.config, message)
    body = json.dumps(payload, separators=(",", ":")).encode()
    if channel.kind == "webhook":
        # The attempt id is stable across retries, so receivers can de-duplicate on webhook-id.
        headers = {**headers, **webhook_kind.sign_headers(channel.config, body, str(attempt_id or uuid.uuid4()))}
    result = await transport.post_bytes(url, body, {"content-type": "application/json", **headers},
                                        timeout=ledger.send_timeout_s(transport.TIMEOUT_S))
    if result.ok:
        return Outcome("succeeded", result.status, None, result.duration_ms)
    error = result.error or f"HTTP {result.status}: {result.excerpt[:300]}"
    return Outcome("failed", result.status, error, result.duration_ms, retryable=result.retryable,
                   retry_after_s=transport.retry_after_s(result.headers) if result.status == 429 else None)


async def send_mail(addresses: list[str], message: NotificationMessage) -> Outcome:
    settings = get_settings()
    if not addresses:
        return Outcome("skipped", error="no e-mail address")
    if not settings.smtp_url:
        return Outcome("failed", error="XINEX_SMTP_URL is not configured")
    subject, text = email_kind.render_mail(message)
    started = time.monotonic()
    try:
        # One message per address: recipients of an alert list do not see each other.
        for address in addresses:
            await asyncio.to_thread(_send_blocking, settings.smtp_url, settings.mail_from, address, subject, text)
    except smtplib.SMTPResponseException as exc:
        # 4xx SMTP replies are transient by definition; 5xx are permanent.
        return Outcome("failed", exc.smtp_code, f"SMTP {exc.smtp_code}", _ms(started),
                       retryable=400 <= exc.smtp_code < 500)
    except smtplib.SMTPRecipientsRefused:
        return Outcome("failed", None, "recipients refused", _ms(started))
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome("failed", None, f"{type(exc).__name__}: {exc}"[:300], _ms(started), retryable=True)
    return Outcome("succeeded", 250, None, _ms(started))


async def to_user_email(session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> Outcome:
    user = await session.get(User, user_id)
    if user is None or not user.email:
        return Outcome("skipped", error="user has no e-mail address")
    return await send_mail([user.email], message)


async def _push_users(session: AsyncSession, user_ids: list[uuid.UUID], message: NotificationMessage) -> Outcome:
    """Each user's devices get the message once (the push domain keeps a ledger row per device). Delivered
    when one device got it; still in flight (retried) while a device waits for its retry and none got it."""
    sender = get_push_sender()
    if session.get_bind().dialect.name == "sqlite":  # one writer: the ledger uses the caller's transaction
        results = [await sender.send(session, user_id, message) for user_id in user_ids]
    else:  # each device's ledger row has its own short transactions: users' fan-outs run side by side
        results = list(await asyncio.gather(*(sender.send(session, user_id, message) for user_id in user_ids)))
    statuses = {r.status for r in results}
    if "sent" in statuses:
        return Outcome("succeeded")
    errors = "; ".join(r.error for r in results if r.error and r.status in ("failed", "in_progress"))
    if "in_progress" in statuses:
        due = min((r.retry_at for r in results if r.status == "in_progress" and r.retry_at), default=None)
        wait = max(0.0, (due - utcnow()).total_seconds()) if due else None
        return Outcome("failed", error=errors or "a device waits for its retry", retryable=True, retry_after_s=wait)
    if "failed" in statuses:
        return Outcome("failed", error=errors or "push failed")
    if statuses == {"no_devices"} or not statuses:
        return Outcome("no_devices")
    return Outcome("recorded")


async def to_user_push(session: AsyncSession, user_id: uuid.UUID, message: NotificationMessage) -> Outcome:
    return await _push_users(session, [user_id], message)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
