"""Background work of status pages: subscription confirmations and incident-update notifications.

Both are jobs enqueued after the commit that asked for them. `notify_subscribers` is idempotent: one
`status_page_notifications` row per (update, subscriber) records what was sent, so a job run twice
(a retry, a second worker) sends nothing twice. Webhook subscribers get the payload signed like our
outgoing webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit import mail, outbound
from xinex.kit.db import Database
from xinex.kit.jobs import job
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

log = logging.getLogger("xinex.status_pages")

WEBHOOK_TRIES = 3
WEBHOOK_TIMEOUTS = outbound.Timeouts(connect=5.0, read=10.0, total=15.0)


def page_url(page: StatusPage) -> str:
    return f"{get_settings().public_url.rstrip('/')}/status/{page.slug}"


def _token_link(page: StatusPage, what: str, token: str) -> str:
    return f"{page_url(page)}/{what}?token={token}"


def unsubscribe_headers(page: StatusPage, token: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click: mail clients POST to the link."""
    return {"List-Unsubscribe": f"<{_token_link(page, 'unsubscribe', token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


async def post_signed(sub: StatusPageSubscriber, event: str, data: dict[str, Any]) -> str | None:
    """POST one signed payload; None when the receiver answered 2xx, else what went wrong."""
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = utcnow()
    body = json.dumps({"event": event, "delivery_id": msg_id, "timestamp": to_rfc3339(now), "data": data},
                      separators=(",", ":")).encode()
    headers = {"content-type": "application/json", "user-agent": "Xinex-Status-Pages",
               **signing.headers([sub.secret or ""], msg_id, int(now.timestamp()), body)}
    error = "not sent"
    for attempt in range(WEBHOOK_TRIES):
        try:
            resp = await outbound.request("POST", sub.target, headers=headers, content=body, timeouts=WEBHOOK_TIMEOUTS,
                                          follow_redirects=False, max_body=4096)
        except outbound.OutboundError as exc:
            error = f"{exc.reason}: {exc}"[:500]
        else:
            if 200 <= resp.status_code < 300:
                return None
            error = f"HTTP {resp.status_code}"
        await asyncio.sleep(0.5 * 2 ** attempt)
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
        log.info("status page webhook confirmation not delivered: %s", error)


def _insert_ignore(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def _claim(db: Database, tenant_id: uuid.UUID, update_id: uuid.UUID) -> list[uuid.UUID]:
    """Create the pending rows (once) and return the subscribers not yet sent this update."""
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
                 "status": "pending", "attempts": 0, "created_at": utcnow(), "updated_at": utcnow()} for s in subs
            ]).on_conflict_do_nothing(index_elements=["update_id", "subscriber_id"]))
        rows = (await session.execute(select(col(StatusPageNotification.subscriber_id)).where(
            col(StatusPageNotification.update_id) == update_id, col(StatusPageNotification.status) == "pending"))).all()
        return [r[0] for r in rows]


@job
async def notify_subscribers(ctx: dict[str, Any], update_id: str, tenant_id: str) -> None:
    """Send one incident update to every confirmed subscriber of its page (each at most once)."""
    db: Database = ctx["db"]
    tid, uid = uuid.UUID(tenant_id), uuid.UUID(update_id)
    for subscriber_id in await _claim(db, tid, uid):
        async with db.session(tenant_id=tid) as session:
            sub = await session.get(StatusPageSubscriber, subscriber_id)
            update = await session.get(StatusPageIncidentUpdate, uid)
            if sub is None or update is None:
                continue
            inc = await session.get(StatusPageIncident, update.incident_id)
            page = await session.get(StatusPage, sub.page_id)
            assert inc is not None and page is not None
            note = (await session.execute(select(StatusPageNotification).where(
                col(StatusPageNotification.update_id) == uid, col(StatusPageNotification.subscriber_id) == subscriber_id)
                .with_for_update(skip_locked=True))).scalar_one_or_none()
            if note is None or note.status != "pending":
                continue  # another run took it
            note.attempts += 1
            error: str | None = None
            token = link_token("unsubscribe", sub)
            if sub.kind == "email":
                text = (f"{inc.title}\n\n{update.status.capitalize()} — {to_rfc3339(update.at)}\n{update.body}\n\n"
                        f"Status page: {page_url(page)}\n"
                        f"Unsubscribe (one click): {_token_link(page, 'unsubscribe', token)}\n")
                try:
                    sent = await mail.deliver(sub.target, f"[{page.name}] {inc.title}: {update.status}", text,
                                              unsubscribe_headers(page, token))
                    error = None if sent else "no SMTP relay configured"
                except Exception as exc:  # noqa: BLE001 - recorded on the row; the mail is not retried here
                    error = f"{type(exc).__name__}: {exc}"[:500]
            else:
                error = await post_signed(sub, "incident.update", {
                    "page": {"name": page.name, "url": page_url(page)},
                    "incident": {"key": inc.key, "title": inc.title, "status": inc.status, "impact": inc.impact},
                    "update": {"status": update.status, "message": update.body, "at": to_rfc3339(update.at)},
                    "unsubscribe_url": _token_link(page, "unsubscribe", token)})
            note.status = "failed" if error else "sent"
            note.last_error = error
