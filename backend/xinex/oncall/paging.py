"""Pages: exactly one per (incident, event, target, step, cycle), delivered at least once.

1. The transaction that decides to page inserts the Page with ON CONFLICT DO NOTHING on the unique
   key: a re-run of that decision (a retried job, a second runner) inserts nothing and enqueues
   nothing. The delivery job is enqueued only after that transaction commits.
2. `deliver_page` claims the row pending→sending with a lease (compare-and-set), hands the message
   to notify, and records what notify's ledger says about it: `sent` only once the delivery
   succeeded, `failed`/`skipped` when it ended otherwise, and back to `pending` (due when the
   ledger's lease or retry time ends) while it is still in flight — also when another run holds
   the ledger row: a held lease is never taken for "already done".
3. A worker killed mid-job leaves the page `sending` and the ledger row `sending`; both leases run
   out, the sweeper re-enqueues the page, and the re-run (or notify's retrier) takes the ledger row
   over and sends. notify sends at most one message per (page id, target) at a time and never
   again once one succeeded (docs/delivery.md).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.events import timeline
from xinex.kit.db import Database
from xinex.kit.jobs import enqueue, get_queue
from xinex.kit.types import utcnow
from xinex.models.incidents import Alert, Incident, IncidentLog, IncidentStatus
from xinex.models.oncall import Page, PageStatus
from xinex.oncall import reach
from xinex.settings import get_settings

log = logging.getLogger("xinex.oncall.paging")

SWEEP_GRACE = timedelta(seconds=30)  # a fresh page's own job normally delivers it well within this
MAX_ATTEMPTS = 8
SCOPE = "oncall.paging"
PAGING_EVENTS = ("incident.triggered", "incident.escalated")
# The delivery job's queue name (registered by oncall/jobs.py; kept from when it was decorated here).
DELIVER_PAGE = "xinex.oncall.paging.deliver_page"


def _insert(session: AsyncSession):
    return (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)(Page)


async def create_page(session: AsyncSession, incident: Incident, *, event: str, target_type: str,
                      target_id: uuid.UUID, step_index: int, cycle: int, now: datetime,
                      via_schedule_id: uuid.UUID | None = None) -> uuid.UUID | None:
    """Insert the page unless it exists; returns the new id (and enqueues delivery) or None."""
    page_id = uuid.uuid4()
    stmt = _insert(session).values(
        id=page_id, tenant_id=incident.tenant_id, created_at=now, updated_at=now, incident_id=incident.id,
        event=event, target_type=target_type, target_id=target_id, step_index=step_index, cycle=cycle,
        via_schedule_id=via_schedule_id, status=PageStatus.pending.value, attempts=0,
        next_attempt_at=now + SWEEP_GRACE,
    ).on_conflict_do_nothing(index_elements=["incident_id", "event", "target_type", "target_id", "step_index",
                                             "cycle"]).returning(Page.id)
    inserted = (await session.execute(stmt)).scalar_one_or_none()
    if inserted is None:
        return None
    timeline.add(session, incident, "page", f"{event}: paging {target_type} {target_id}", now,
                 data={"page_id": str(page_id), "target_type": target_type, "target_id": str(target_id),
                       "step_index": step_index, "cycle": cycle, "event": event,
                       "via_schedule_id": str(via_schedule_id) if via_schedule_id else None})
    enqueue(session, DELIVER_PAGE, page_id=str(page_id))
    return page_id


async def claim(session: AsyncSession, page_id: uuid.UUID, now: datetime) -> Page | None:
    """pending → sending (or re-take an expired `sending` lease); None if someone else holds it."""
    stmt = (update(Page).where(Page.id == page_id, or_(
        Page.status == PageStatus.pending.value,
        and_(Page.status == PageStatus.sending.value, Page.lease_until < now)))
        .values(status=PageStatus.sending.value, lease_until=now + timedelta(seconds=get_settings().page_lease_s),
                attempts=Page.attempts + 1,
                updated_at=now)
        .returning(Page.id).execution_options(synchronize_session=False))
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return None
    return (await session.execute(select(Page).where(Page.id == page_id)
                                  .execution_options(populate_existing=True))).scalar_one()


async def _finish(session: AsyncSession, page: Page, now: datetime, **values) -> bool:
    """Compare-and-set on our own claim (status + attempt number): a stale worker changes nothing."""
    stmt = (update(Page).where(Page.id == page.id, Page.status == PageStatus.sending.value,
                               Page.attempts == page.attempts)
            .values(lease_until=None, updated_at=now, **values).returning(Page.id)
            .execution_options(synchronize_session=False))
    return (await session.execute(stmt)).scalar_one_or_none() is not None


def _message(incident: Incident, page: Page, public_url: str, trigger: dict | None = None):
    """The message of one page. `trigger`: the payload of the incident's latest trigger alert (its
    `details` — e.g. a heartbeat's last ping and exit status — go into a paging body; its `name`
    names what recovered)."""
    from xinex.notify.message import NotificationMessage, incident_link

    trigger = trigger or {}
    # notify names the second-highest level "high"; incidents use PagerDuty's "error".
    severity = "high" if incident.severity == "error" else incident.severity
    if page.event == "incident.resolved":
        title, body = _resolved_words(incident, trigger)
    else:
        verb = {"incident.triggered": "Triggered", "incident.escalated": "Escalated",
                "incident.acknowledged": "Acknowledged"}.get(page.event, page.event)
        title = f"[{incident.severity.upper()}] {incident.title}"
        body = (f"{verb}: {incident.title}\nSeverity: {incident.severity}\nStatus: {incident.status}\n"
                f"Alerts: {incident.alert_count}\nSource: {incident.source_type} {incident.source_id or ''}".rstrip())
        details = trigger.get("details")
        if details:
            body = f"{body}\n\n{str(details)[:2000]}"
    return NotificationMessage(
        tenant_id=incident.tenant_id, event=page.event, title=title, body=body, severity=severity,
        incident_id=incident.id, url=incident_link(public_url, incident.id), dedup_key=str(page.id),
        incident_key=incident.dedup_key, opened_at=incident.opened_at, resolved_at=incident.resolved_at,
        service=incident.service)


def _resolved_words(incident: Incident, trigger: dict) -> tuple[str, str]:
    """A resolve says what recovered, when, and how long it was down — never the failure again."""
    from xinex.notify.message import duration_words, when

    name = str(trigger.get("name") or trigger.get("url") or f"{incident.source_type} {incident.source_id or ''}"
               ).strip()[:200]
    resolved_at = incident.resolved_at or utcnow()
    lasted = duration_words((resolved_at - incident.opened_at).total_seconds())
    since = f"{lasted} (since {when(incident.opened_at)})"
    if incident.resolve_reason == "recovery":
        return (f"{name} recovered",
                f"{name} recovered at {when(resolved_at)}, after being down for {since}.")
    return (f"{name}: incident resolved",
            f"The incident on {name} was resolved{' by hand' if incident.resolved_by else ''} at "
            f"{when(resolved_at)}; it was open for {since}.")


async def _trigger_payload(session: AsyncSession, incident: Incident) -> dict:
    """The payload of the incident's latest trigger alert (what the source said about it)."""
    payload = (await session.execute(
        select(Alert.payload).where(Alert.incident_id == incident.id, Alert.action == "trigger")
        .order_by(Alert.occurred_at.desc()).limit(1))).scalar_one_or_none()
    return payload if isinstance(payload, dict) else {}


async def _send(session: AsyncSession, incident: Incident, page: Page, public_url: str):
    from xinex.notify import send as notify  # ImportError until notify exists: retried like any failure

    message = _message(incident, page, public_url, await _trigger_payload(session, incident))
    if page.target_type == "channel":
        return await notify.deliver_to_channel(session, page.target_id, message)
    return await notify.send_to_user(session, page.target_id, message)


def _give_up(session: AsyncSession, page: Page, now: datetime, why: str) -> None:
    session.add(IncidentLog(tenant_id=page.tenant_id, incident_id=page.incident_id, at=now, kind="page_failed",
                            message=f"Giving up on {page.target_type} {page.target_id}: {why}"[:1000],
                            data={"page_id": str(page.id)}))


async def deliver_page(ctx, page_id: str, now: datetime | None = None) -> str:
    """The delivery job (oncall/jobs.py registers it as DELIVER_PAGE): claim, send, record the
    ledger's answer. Returns the outcome (for tests and logs)."""
    db: Database = ctx["db"]
    settings = ctx.get("settings")
    public_url = getattr(settings, "public_url", "") or ""
    now = now or utcnow()
    pid = uuid.UUID(str(page_id))
    async with db.session(system=SCOPE) as session:
        page = await claim(session, pid, now)
        if page is None:
            return "not-claimed"
        tenant_id = page.tenant_id
    async with db.session(tenant_id=tenant_id) as session:
        incident = (await session.execute(select(Incident).where(Incident.id == page.incident_id))).scalar_one()
        if page.event in PAGING_EVENTS and incident.status != IncidentStatus.triggered.value:
            # Acknowledged or resolved while the page waited: ack stops paging.
            await _finish(session, page, now, status="skipped", last_error=f"incident {incident.status}")
            return "skipped"
        try:
            delivery = await _send(session, incident, page, public_url)
        except Exception as exc:  # transport or missing sender: retry with backoff, bounded
            await session.rollback()
            failed = page.attempts >= MAX_ATTEMPTS
            await _finish(session, page, now,
                          status=PageStatus.failed.value if failed else PageStatus.pending.value,
                          next_attempt_at=None if failed else now + timedelta(seconds=min(900, 15 * 2 ** page.attempts)),
                          last_error=f"{type(exc).__name__}: {exc}"[:1000])
            # The exception's class only: its text may carry a webhook URL with a token in it.
            log.warning("page delivery failed (%s)", type(exc).__name__,
                        extra={"page_id": str(pid), "attempt": page.attempts})
            if failed:
                _give_up(session, page, now, f"after {page.attempts} attempts")
                await reach.review(session, incident, now)
            return "failed" if failed else "retry"
        if delivery.state == "in_progress":
            # Still in flight (retrying, or held by a run that may have died): look again when the
            # ledger's lease or retry time ends. Looking is not an attempt of this page.
            if await _finish(session, page, now, status=PageStatus.pending.value, attempts=page.attempts - 1,
                             next_attempt_at=max(delivery.retry_at or now, now), last_error=delivery.error):
                return "in-progress"
            return "lost-lease"
        if delivery.state == "delivered":
            if await _finish(session, page, now, status=PageStatus.sent.value, sent_at=now, last_error=None):
                timeline.add(session, incident, "notified", f"{page.event} sent to {page.target_type} {page.target_id}",
                             now, data={"page_id": str(pid), "attempt": page.attempts})
                await reach.review(session, incident, now)
                return "sent"
            return "lost-lease"
        status = PageStatus.failed.value if delivery.state == "failed" else "skipped"
        if await _finish(session, page, now, status=status, last_error=delivery.error):
            log.warning("page not delivered (%s)", status, extra={"page_id": str(pid)})
            if status == PageStatus.failed.value:
                _give_up(session, page, now, delivery.error or "delivery failed")
            await reach.review(session, incident, now)
            return status
        return "lost-lease"


async def sweep_pages(db: Database, now: datetime | None = None, limit: int = 200) -> int:
    """Re-enqueue pages whose job died (expired `sending` lease) or is overdue/backing off."""
    now = now or utcnow()
    async with db.session(system=SCOPE) as session:
        stmt = select(Page.id).where(or_(
            and_(Page.status == PageStatus.pending.value, Page.next_attempt_at <= now),
            and_(Page.status == PageStatus.sending.value, Page.lease_until < now),
        )).limit(limit)
        if session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list((await session.execute(stmt)).scalars().all())
        if ids:
            # Push the next look out, so one stuck page is re-enqueued once per grace period.
            await session.execute(update(Page).where(Page.id.in_(ids), Page.status == PageStatus.pending.value)
                                  .values(next_attempt_at=now + SWEEP_GRACE)
                                  .execution_options(synchronize_session=False))
    for pid in ids:
        await get_queue().enqueue(DELIVER_PAGE, {"page_id": str(pid)})
    return len(ids)
