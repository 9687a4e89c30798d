"""Background work of status pages: subscription confirmations and incident-update notifications.

Both start as jobs enqueued after the commit that asked for them. An update to notify becomes one
durable `status_page_notifications` row per (update, subscriber) — created once, however often the job
runs — and each row is attempted like our outgoing webhooks (webhooks/dispatcher.py): a compare-and-set
lease makes one sender per attempt, a failure the peer may recover from (timeout, 429, 5xx, a mail relay
error) is tried again on the same schedule — about a day in all —, then the row is failed; a webhook
answering 410 Gone disables its subscriber. `run_dispatcher` attempts every row that is due (retries,
and rows whose job was lost). Webhook subscribers get payloads signed like our outgoing webhooks
(Standard Webhooks: webhook-id — the row's id, the same on every retry —, webhook-timestamp,
webhook-signature).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit import mail, transport
from xinex.kit.db import Database
from xinex.kit.jobs import job
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import to_rfc3339, utcnow
from xinex.models.status_pages import (
    StatusPage,
    StatusPageIncident,
    StatusPageIncidentUpdate,
    StatusPageNotification,
    StatusPageSubscriber,
)
from xinex.settings import get_settings
from xinex.status_pages import repository
from xinex.status_pages.tokens import link_token
from xinex.webhooks import signing
from xinex.webhooks.dispatcher import RETRY_SCHEDULE_S as RETRY_SCHEDULE

log = logging.getLogger("xinex.status_pages")

CONFIRM_TRIES = 3
WEBHOOK_TIMEOUT_S = 10.0
# The schedule of our outgoing webhooks: attempt n+1 this long after attempt n failed (~1.3 days in all).
RETRY_SCHEDULE_S = RETRY_SCHEDULE
MAX_ATTEMPTS = len(RETRY_SCHEDULE_S) + 1
LEASE_S = 60
POLL_S = 2.0
SCOPE = "status_pages.notifications"


def page_url(page: StatusPage) -> str:
    return f"{get_settings().public_url.rstrip('/')}/status/{page.slug}"


def _token_link(page: StatusPage, what: str, token: str) -> str:
    return f"{page_url(page)}/{what}?token={token}"


def unsubscribe_headers(page: StatusPage, token: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click: mail clients POST to the link."""
    return {"List-Unsubscribe": f"<{_token_link(page, 'unsubscribe', token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _signed(sub: StatusPageSubscriber, msg_id: str, event: str, data: dict[str, Any],
            at: datetime) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": event, "delivery_id": msg_id, "timestamp": to_rfc3339(at), "data": data},
                      separators=(",", ":")).encode()
    headers = {"content-type": "application/json", "user-agent": "Xinex-Status-Pages",
               **signing.headers([sub.secret or ""], msg_id, int(utcnow().timestamp()), body)}
    return body, headers


async def post_signed(sub: StatusPageSubscriber, event: str, data: dict[str, Any]) -> str | None:
    """POST one signed payload, a few quick tries (the confirmation: its reader is waiting for it); None when
    the receiver answered 2xx, else what went wrong."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = utcnow()
    error = "not sent"
    for attempt_no in range(CONFIRM_TRIES):
        body, headers = _signed(sub, msg_id, event, data, now)
        result = await transport.post_bytes(sub.target, body, headers, timeout=WEBHOOK_TIMEOUT_S)
        if result.ok:
            return None
        error = result.error or f"HTTP {result.status}"
        if not result.retryable:
            break
        await asyncio.sleep(0.5 * 2 ** attempt_no)
    return error


@job
async def send_confirmation(ctx: dict[str, Any], subscriber_id: str, tenant_id: str, token: str) -> None:
    """The double opt-in: a mail with the confirmation link, or a signed POST carrying the link and
    the signing secret to the webhook URL (only its owner learns them)."""
    db: Database = ctx["db"]
    async with db.session(tenant_id=uuid.UUID(tenant_id)) as session:
        sub = await session.get(StatusPageSubscriber, uuid.UUID(subscriber_id))
        if sub is None or sub.confirmed_at is not None:
            return
        page = await session.get(StatusPage, sub.page_id)
        assert page is not None
    link = _token_link(page, "confirm", token)
    if sub.kind == "email":
        await mail.deliver(sub.target, f"Confirm your subscription to {page.name}",
                           f"Someone (hopefully you) asked to receive incident updates of {page.name} "
                           f"({page_url(page)}).\n\nTo confirm, open this link and press the button:\n{link}\n\n"
                           "If it was not you, ignore this mail: nothing is sent without confirmation.")
        return
    error = await post_signed(sub, "subscription.confirm", {
        "page": {"name": page.name, "url": page_url(page)}, "confirm_url": link,
        "signing_secret": sub.secret,
        "how": "POST the token of confirm_url to /api/v1/public/status-pages/{slug}/subscribe/confirm, or open it"})
    if error:
        # The class of failure only: a message may quote the subscriber's URL (which may carry a token).
        log.info("status page webhook confirmation not delivered (%s)", error.split(":", 1)[0][:60])


def _insert_ignore(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def _claim(db: Database, tenant_id: uuid.UUID, update_id: uuid.UUID) -> list[uuid.UUID]:
    """Create the rows of this update (once) and return those due now."""
    now = utcnow()
    async with db.session(tenant_id=tenant_id) as session:
        update = await session.get(StatusPageIncidentUpdate, update_id)
        if update is None:
            return []
        inc = await session.get(StatusPageIncident, update.incident_id)
        assert inc is not None
        subs = await repository.confirmed_subscribers(session, inc.page_id)
        if subs:
            insert = _insert_ignore(session)
            await session.execute(insert(StatusPageNotification).values([
                {"id": uuid.uuid4(), "tenant_id": tenant_id, "update_id": update_id, "subscriber_id": s.id,
                 "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now}
                for s in subs
            ]).on_conflict_do_nothing(index_elements=["update_id", "subscriber_id"]))
        rows = (await session.execute(select(col(StatusPageNotification.id)).where(
            col(StatusPageNotification.update_id) == update_id, col(StatusPageNotification.status) == "pending"))).all()
        return [r[0] for r in rows]


@job
async def notify_subscribers(ctx: dict[str, Any], update_id: str, tenant_id: str) -> None:
    """Send one incident update to every confirmed subscriber of its page (each at most once; failures are
    retried by run_dispatcher)."""
    db: Database = ctx["db"]
    tid = uuid.UUID(tenant_id)
    for note_id in await _claim(db, tid, uuid.UUID(update_id)):
        await attempt(db, note_id, tid)


def _due(now: datetime) -> Any:
    return or_(and_(col(StatusPageNotification.status).in_(("pending", "retrying")),
                    col(StatusPageNotification.next_attempt_at) <= now),
               and_(col(StatusPageNotification.status) == "sending", col(StatusPageNotification.lease_until) < now))


async def _take(session: AsyncSession, note_id: uuid.UUID, now: datetime) -> bool:
    """Compare-and-set to "sending": one sender per attempt, however many jobs and loops race."""
    result = await session.execute(
        sa_update(StatusPageNotification).where(col(StatusPageNotification.id) == note_id, _due(now))
        .values(status="sending", lease_until=now + timedelta(seconds=LEASE_S))
        .execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0) == 1)


async def attempt(db: Database, note_id: uuid.UUID, tenant_id: uuid.UUID,
                  now: datetime | None = None) -> StatusPageNotification | None:
    """One attempt of one notification if it is due; returns the row after the attempt (None: not due)."""
    now = now or utcnow()
    async with db.session(tenant_id=tenant_id) as session:
        if not await _take(session, note_id, now):
            return None
    async with db.session(tenant_id=tenant_id) as session:
        note = await session.get(StatusPageNotification, note_id)
        assert note is not None
        sub = await session.get(StatusPageSubscriber, note.subscriber_id)
        update = await session.get(StatusPageIncidentUpdate, note.update_id)
        inc = await session.get(StatusPageIncident, update.incident_id) if update is not None else None
        page = await session.get(StatusPage, sub.page_id) if sub is not None else None
        note.attempts += 1
        note.last_attempt_at, note.lease_until, note.next_attempt_at = now, None, None
        if sub is None or update is None or inc is None or page is None or sub.disabled_at is not None:
            note.status, note.last_error = "failed", "subscriber removed or disabled"
            return note
        result = await _send(note, sub, page, inc, update)
        if result.ok:
            note.status, note.last_error = "sent", None
            return note
        note.last_error = (result.error or f"HTTP {result.status}")[:500]
        if result.status == 410 and sub.kind == "webhook":
            sub.disabled_at, sub.disabled_reason = now, "the receiver answered 410 Gone"
            note.status = "failed"
            log.info("status page webhook subscriber disabled after 410")
        elif result.retryable and note.attempts < MAX_ATTEMPTS:
            delay = RETRY_SCHEDULE_S[note.attempts - 1]
            if result.status == 429:
                delay = int(max(delay, min(transport.retry_after_s(result.headers) or 0, 86400)))
            note.status, note.next_attempt_at = "retrying", now + timedelta(seconds=delay)
        else:
            note.status = "failed"
        return note


async def _send(note: StatusPageNotification, sub: StatusPageSubscriber, page: StatusPage,
                inc: StatusPageIncident, update: StatusPageIncidentUpdate) -> transport.HttpResult:
    token = link_token("unsubscribe", sub)
    unsubscribe = _token_link(page, "unsubscribe", token)
    if sub.kind == "email":
        text = (f"{inc.title}\n\n{update.status.capitalize()} — {to_rfc3339(update.at)}\n{update.body}\n\n"
                f"Status page: {page_url(page)}\nUnsubscribe (one click): {unsubscribe}\n")
        started = time.monotonic()
        try:
            sent = await mail.deliver(sub.target, f"[{page.name}] {inc.title}: {update.status}", text,
                                      unsubscribe_headers(page, token))
        except Exception as exc:  # noqa: BLE001 - the relay failed: tried again later
            return transport.HttpResult(None, _ms(started), error=f"mail: {type(exc).__name__}"[:500],
                                        retryable=True)
        if not sent:
            return transport.HttpResult(None, _ms(started), error="no SMTP relay configured")
        return transport.HttpResult(250, _ms(started))
    body, headers = _signed(sub, f"msg_{note.id.hex}", "incident.update", {
        "page": {"name": page.name, "url": page_url(page)},
        "incident": {"key": inc.key, "title": inc.title, "status": inc.status, "impact": inc.impact},
        "update": {"status": update.status, "message": update.body, "at": to_rfc3339(update.at)},
        "unsubscribe_url": unsubscribe}, note.created_at)
    return await transport.post_bytes(sub.target, body, headers, timeout=WEBHOOK_TIMEOUT_S)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


async def dispatch_due(db: Database, now: datetime | None = None, limit: int = 200) -> int:
    """Attempt every notification that is due (retries, and pending rows whose job was lost)."""
    now = now or utcnow()
    async with db.session(system=SCOPE) as session:
        rows = (await session.execute(
            select(col(StatusPageNotification.id), col(StatusPageNotification.tenant_id)).where(_due(now))
            .order_by(col(StatusPageNotification.next_attempt_at)).limit(limit))).all()
    done = 0
    for note_id, tenant_id in rows:
        try:
            if await attempt(db, note_id, tenant_id, now) is not None:
                done += 1
        except Exception:  # noqa: BLE001 - one bad row must not stop the others
            log.exception("status page notification attempt failed")
    return done


async def run_dispatcher(db: Database, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await dispatch_due(db, utcnow() - timedelta(seconds=2))  # leave fresh rows to their jobs
        except Exception:  # noqa: BLE001 - the next pass tries again
            log.exception("status page notification dispatcher pass failed")
        await wait_or_stop(stop, POLL_S)
